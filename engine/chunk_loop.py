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
