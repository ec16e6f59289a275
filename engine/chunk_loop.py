"""Chunks kept in flight: the next chunk is dispatched before the current one is copied to the host.

JAX dispatches asynchronously, so ``fn(...)`` returns at once and the device (XLA:CPU's threads, or
a GPU) computes while Python goes on. A loop that copies each chunk's results to the host
(``np.asarray``) before dispatching the next leaves the device idle during the copy and the host's
bookkeeping, and the host idle during the computation. ``pipelined`` keeps ``depth`` chunks
dispatched ahead. Results are yielded in chunk order and are the same arrays as without it: only
the order in which the host waits changes, never what is computed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np


def pipelined(calls: Iterable[tuple[Any, Callable[[], Any]]], depth: int = 2) -> Iterator[tuple[Any, Any]]:
    """Yield ``(tag, host_result)`` for each ``(tag, call)`` in order, with ``depth`` calls in flight.

    ``call()`` dispatches one chunk and returns its (device) pytree; ``host_result`` is that pytree
    with every leaf copied to a NumPy array. Memory: ``depth`` chunks' device outputs at a time.
    """
    import jax

    if depth < 1:
        raise ValueError("depth must be at least 1")
    queue: deque = deque()
    for tag, call in calls:
        queue.append((tag, call()))
        if len(queue) >= depth:
            t, out = queue.popleft()
            yield t, jax.tree.map(np.asarray, out)
    while queue:
        t, out = queue.popleft()
        yield t, jax.tree.map(np.asarray, out)


class PathArrays:
    """Per-path host arrays filled chunk by chunk in place: name -> (n_paths, ...) NumPy arrays.

    Allocated at the first ``put``, at their final size, as contiguous views of one buffer (no list of
    parts and no concatenation at the end: one copy of each value). One large allocation lets NumPy
    ask the kernel for transparent huge pages (it does for 4 MiB and more), so filling 1e6 paths'
    results costs a few hundred page faults instead of tens of thousands of 4 KiB ones; on the
    development VM the faults of per-key arrays (each just under 4 MiB at 1e6 float32 values) were
    about 1 ms a chunk of 16,384 paths. Keys first seen in a later ``put`` get arrays of their own.
    """

    ALIGN = 64  # bytes: each key's view starts on a cache line

    def __init__(self, n_paths: int):
        self.n_paths = int(n_paths)
        self.arrays: dict[str, np.ndarray] = {}

    def _allocate(self, values: dict[str, np.ndarray]) -> None:
        specs, total = [], 0
        for k, v in values.items():
            shape = (self.n_paths,) + v.shape[1:]
            nbytes = int(np.prod(shape, dtype=np.int64)) * v.dtype.itemsize
            specs.append((k, shape, v.dtype, total, nbytes))
            total += -(-nbytes // self.ALIGN) * self.ALIGN
        buf = np.empty(total + self.ALIGN, np.uint8)
        base = (-buf.ctypes.data) % self.ALIGN
        for k, shape, dtype, off, nbytes in specs:
            self.arrays[k] = buf[base + off : base + off + nbytes].view(dtype).reshape(shape)

    def put(self, start: int, values: dict, keep: int) -> None:
        """Copy rows [0, keep) of each (B, ...) array in ``values`` to rows [start, start + keep)."""
        values = {k: np.asarray(v) for k, v in values.items()}
        new = {k: v for k, v in values.items() if k not in self.arrays}
        if new:
            self._allocate(new)
        for k, v in values.items():
            self.arrays[k][start : start + keep] = v[:keep]
