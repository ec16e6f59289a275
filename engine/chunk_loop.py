"""Chunks kept in flight: the next chunk is dispatched before the current one is copied to the host.

JAX dispatches asynchronously, so ``fn(...)`` returns at once and the device (XLA:CPU's threads, or
a GPU) computes while Python goes on. A loop that copies each chunk's results to the host
(``np.asarray``) before dispatching the next leaves the device idle during the copy and the host's
bookkeeping, and the host idle during the computation. ``pipelined`` keeps ``depth`` chunks
dispatched ahead. Results are yielded in chunk order and are the same arrays as without it: only
the order in which the host waits changes, never what is computed.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np


def pipelined(
    calls: Iterable[tuple[Any, Callable[[], Any]]], depth: int = 2, to_host: Callable[[Any], Any] | None = None
) -> Iterator[tuple[Any, Any]]:
    """Yield ``(tag, host_result)`` for each ``(tag, call)`` in order, with ``depth`` calls in flight.

    ``call()`` dispatches one chunk and returns its (device) pytree; ``host_result`` is
    ``to_host(pytree)``, by default the pytree with every leaf copied to a NumPy array (it waits for
    the chunk). Memory: ``depth`` chunks' device outputs at a time.
    """
    import jax

    if depth < 1:
        raise ValueError("depth must be at least 1")
    if to_host is None:
        to_host = lambda out: jax.tree.map(np.asarray, out)  # noqa: E731
    queue: deque = deque()
    for tag, call in calls:
        queue.append((tag, call()))
        if len(queue) >= depth:
            t, out = queue.popleft()
            yield t, to_host(out)
    while queue:
        t, out = queue.popleft()
        yield t, to_host(out)


def host_shards(x, axis: int) -> list[tuple[int, np.ndarray]]:
    """``(offset, block)`` for each part of ``x`` split along ``axis``, in order of offset: the blocks of
    a jax.Array sharded along ``axis`` only (the addressable shards; replicas once), else ``[(0, x)]``.

    Each block is ``np.asarray`` of one shard: on XLA:CPU a view of the device buffer, no copy (converting
    the whole sharded array would assemble a new host array, and the caller would copy the values
    twice; docs/decisions/0012). Blocks cover ``x`` along ``axis`` in order; together they are ``x``.
    """
    shards = getattr(x, "addressable_shards", None)
    if not shards or len(shards) == 1:
        return [(0, np.asarray(x))]
    blocks: dict[int, np.ndarray] = {}
    for sh in shards:
        idx = sh.index
        other_axes_whole = all(
            (s.start in (None, 0)) and (s.stop is None or s.stop == n) for d, (s, n) in enumerate(zip(idx, x.shape)) if d != axis
        )
        if not other_axes_whole:  # split along another axis too: assemble on the host
            return [(0, np.asarray(x))]
        blocks.setdefault(idx[axis].start or 0, sh.data)
    return [(off, np.asarray(blocks[off])) for off in sorted(blocks)]


class PathArrays:
    """Per-path host arrays filled chunk by chunk in place: name -> (n_paths, ...) NumPy arrays.

    Allocated at the first ``put``, at their final size, as contiguous views of one buffer (no list of
    parts and no concatenation at the end: one copy of each value); one large allocation lets NumPy
    ask the kernel for transparent huge pages (it does for 4 MiB and more). Keys first seen in a
    later ``put`` get arrays of their own.

    ``reserve(shapes)`` allocates before the first chunk arrives and faults the buffer's pages in on a
    background thread (one write a page), so that the kernel's page-fault work overlaps the first
    chunk's compilation. The first ``put`` waits for that thread, so no value written by ``put`` can
    be overwritten; the arrays' contents are the same either way. Measurements: docs/decisions/0012.
    """

    ALIGN = 64  # bytes: each key's view starts on a cache line
    PAGE = 4096  # bytes: one write per page faults it in (a whole huge page where the kernel gives one)

    def __init__(self, n_paths: int):
        self.n_paths = int(n_paths)
        self.arrays: dict[str, np.ndarray] = {}
        self._toucher: threading.Thread | None = None

    def _allocate(self, shapes: dict[str, tuple[tuple[int, ...], np.dtype]]) -> np.ndarray:
        """Views for ``shapes`` (key -> (trailing shape, dtype)) in one new buffer; returns the buffer."""
        specs, total = [], 0
        for k, (tail, dtype) in shapes.items():
            dtype = np.dtype(dtype)
            shape = (self.n_paths,) + tuple(tail)
            nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            specs.append((k, shape, dtype, total, nbytes))
            total += -(-nbytes // self.ALIGN) * self.ALIGN
        buf = np.empty(total + self.ALIGN, np.uint8)
        base = (-buf.ctypes.data) % self.ALIGN
        for k, shape, dtype, off, nbytes in specs:
            self.arrays[k] = buf[base + off : base + off + nbytes].view(dtype).reshape(shape)
        return buf

    def reserve(self, shapes: dict[str, tuple[tuple[int, ...], np.dtype]]) -> None:
        """Allocate the arrays of ``shapes`` (key -> (trailing shape, dtype)) now and fault their pages
        in on a background thread; keys already allocated are skipped."""
        new = {k: v for k, v in shapes.items() if k not in self.arrays}
        if not new:
            return
        self._wait()
        buf = self._allocate(new)
        self._toucher = threading.Thread(target=_touch_pages, args=(buf, self.PAGE), daemon=True)
        self._toucher.start()

    def _wait(self) -> None:
        if self._toucher is not None:
            self._toucher.join()
            self._toucher = None

    def put(self, start: int, values: dict, keep: int) -> None:
        """Copy rows [0, keep) of each (B, ...) array in ``values`` to rows [start, start + keep)."""
        self._wait()
        values = {k: np.asarray(v) for k, v in values.items()}
        new = {k: (v.shape[1:], v.dtype) for k, v in values.items() if k not in self.arrays}
        if new:
            self._allocate(new)
        for k, v in values.items():
            self.arrays[k][start : start + keep] = v[:keep]


def _touch_pages(buf: np.ndarray, page: int) -> None:
    """Write one zero a page of ``buf`` (uint8): the kernel maps every page now. NumPy releases the GIL."""
    buf[::page] = 0
