"""XLA compiler options for the chunk functions (per compilation, not process-wide).

One option today: **512-bit vectors for the fast step on x86 CPUs with AVX-512.** XLA:CPU prefers
256-bit vectors by default; the fast step (engine/simulate_fast.py) is elementwise over paths (one
cohort, one component, one generation: no sum over any other axis), so each path's arithmetic is
the same scalar sequence whatever the vector width and its results do not change with it
(tests/test_xla_options.py compares every per-path result of a 256-bit and a 512-bit compile, bit for
bit). On the 2-core AMD EPYC development machine it is about 10 % faster (docs/performance.md).

The general step is left at XLA's default: it sums over cohorts, components and generations, and a
different vector width changed the last bits of some of those sums (measured: baseline revenue by
cohort, relative 2e-7), which would make results depend on the CPU they ran on.

Not applied when: the scenario takes the general step; JAX's default backend is not the CPU (GPUs
have no such option); the CPU lacks ``avx512f`` (read from /proc/cpuinfo; other systems: not
applied); the user set ``xla_cpu_prefer_vector_width`` in ``XLA_FLAGS`` (theirs wins);
``RACKRISK_WIDE_VECTORS=0``. The options enter JAX's persistent compilation cache key.
"""

from __future__ import annotations

import os
from functools import lru_cache

from engine.compile import Model

ENV = "RACKRISK_WIDE_VECTORS"
OPTION = "xla_cpu_prefer_vector_width"


@lru_cache(maxsize=1)
def cpu_has_avx512() -> bool:
    """Whether /proc/cpuinfo lists ``avx512f`` (False where it cannot be read)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return "avx512f" in line.split()
    except OSError:
        pass
    return False


def chunk_compiler_options(model: Model, environ=None) -> dict:
    """``compiler_options`` for ``jax.jit`` of ``model``'s chunk functions ({} when none apply)."""
    env = os.environ if environ is None else environ
    if env.get(ENV, "1").strip() == "0" or OPTION in env.get("XLA_FLAGS", ""):
        return {}
    from engine.compiled import single_asset

    if not single_asset(model):
        return {}
    import jax

    if jax.default_backend() != "cpu" or not cpu_has_avx512():
        return {}
    return {OPTION: 512}
