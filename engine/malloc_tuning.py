"""Fewer glibc malloc arenas for the simulating commands: lower peak resident memory, same numbers.

XLA compiles and runs on several threads; glibc gives each thread that allocates its own malloc
arena (up to 8 per core) and keeps freed memory in them, so the transient memory of one XLA compile
can stay resident in arenas that the next compile's threads do not reuse. ``limit_malloc_arenas()``
sets glibc's arena limit with ``mallopt(M_ARENA_MAX, n)`` (what the environment variable
``MALLOC_ARENA_MAX=n`` does; n = ``RACKRISK_MALLOC_ARENAS``, default 1). It must run before JAX
starts any thread. No value computed depends on it. Measurements: docs/decisions/0012.

The user's own ``MALLOC_ARENA_MAX`` wins (glibc reads it at start; we then leave it alone), and
``RACKRISK_MALLOC_ARENAS=0`` (or a malformed value) keeps glibc's default. No-op where glibc is absent.
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
