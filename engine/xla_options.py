"""XLA compiler options for the chunk functions (per compilation, not process-wide).

``chunk_compiler_options(model)`` -> the ``compiler_options`` dict for ``jax.jit`` of ``model``'s
chunk functions. One option today: ``xla_cpu_prefer_vector_width = 512`` (512-bit vectors) for
single-asset scenarios (``engine.compiled.single_asset``: one cohort, component and generation, no
financing) on an x86 CPU with AVX-512.

Contract: results do not depend on it. A single asset's step is elementwise over paths (no sum over
any other axis), so each path's arithmetic is the same scalar sequence whatever the vector width
(tests/test_xla_options.py compares every per-path result of a 256-bit and a 512-bit compile, bit for
bit). Other scenarios sum over cohorts, components and generations, where the vector width can change
the last bits of a sum, so they keep XLA's default width and their results do not depend on the CPU
they ran on. Speed: docs/decisions/0012.

Not applied (``{}``) when: the scenario is not a single asset; JAX's default backend is not the
CPU (GPUs have no such option); the CPU lacks ``avx512f`` (read from /proc/cpuinfo; other systems:
not applied); the user set ``xla_cpu_prefer_vector_width`` in ``XLA_FLAGS`` (theirs wins);
``RACKRISK_WIDE_VECTORS=0``. The options enter JAX's persistent compilation cache key.
``chunk_compiler_options`` asks for JAX's default backend, so JAX's backends start if they have not
(engine/host_devices.py's settings must be applied before).
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
