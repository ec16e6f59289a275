"""Fewer glibc malloc arenas for `rackrisk run`: lower peak resident memory, same numbers.

XLA compiles and runs on several threads; glibc gives each thread that allocates its own malloc
arena (up to 8 per core) and keeps freed memory in them, so the transient memory of one XLA
compile (the LLVM back end: 300-450 MB for the baseline's functions) stays resident in arenas that
the next compile's threads do not reuse. Limiting glibc to one arena — what the environment
variable ``MALLOC_ARENA_MAX=1`` does, set here with ``mallopt`` before JAX starts any thread —
made the cold streamed baseline's peak 875 MB instead of 971 MB on one host device
(docs/decisions/0010, measured 2026-11-26). Speed: allocations in the chunk loop are few and
large (XLA buffers), so arena contention does not show in the benchmark.

The user's own ``MALLOC_ARENA_MAX`` wins (glibc reads it at start; we then leave it alone), and
``RACKRISK_MALLOC_ARENAS=0`` keeps glibc's default. No-op where glibc is absent.
"""

from __future__ import annotations

import os

M_ARENA_MAX = -8  # glibc <malloc.h>


def limit_malloc_arenas(environ=None) -> int | None:
    """Call before JAX is imported. Returns the arena limit set, or None when nothing was changed."""
    env = os.environ if environ is None else environ
    if "MALLOC_ARENA_MAX" in env:
        return None
    raw = env.get("RACKRISK_MALLOC_ARENAS", "1").strip()
    try:
        n = int(raw)
    except ValueError:
        return None  # malformed: glibc's default (an optimisation only, never an error)
    if n <= 0:
        return None
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(M_ARENA_MAX, n)
    except (OSError, AttributeError):
        return None
    return n if ok == 1 else None
