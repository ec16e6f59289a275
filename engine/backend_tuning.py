"""Per-backend layout choices of the chunk functions that change speed, never results.

Three settings, read when a chunk function is traced (so they enter JAX's compilation cache key):

* ``select`` (bool) and ``unroll`` (months per loop iteration) of the monthly step
  (``engine.kernel.path.path_fn``'s ``layout``): on a GPU the month's body is made elementwise (a
  calendar-only impairment test computed every month and kept where the calendar tests, launch sums
  without a small dot) so that XLA:GPU fuses it, and ``unroll`` months share one iteration; on a CPU a
  real branch is cheaper.
* ``chunk_paths`` when the scenario does not set ``[run] chunk_paths`` (``chunk_paths_for``): 32,768 on
  a CPU (memory bound, docs/performance.md); on a GPU 4,194,304 for single-asset scenarios (one cohort,
  component and generation, no financing: the size the H100 figures were measured at) and 1,048,576
  otherwise (the per-path state is several times larger). Results never depend on it.
* ``hist_replicas``: copies of the streamed histogram a device adds into (path ``i`` of a chunk adds
  to copy ``i mod R``; the copies are summed on the host). On a GPU the scatter-add is a stream of
  atomic adds, and columns whose paths share a bin (test counts, months, zeros) serialise on one
  address; R copies cut that contention R-fold. Integer counts: the same totals for any R.

Defaults by JAX's default backend (``DEFAULTS``); each can be overridden for measurement with an
environment variable (``RACKRISK_FAST_SELECT`` = 0/1, ``RACKRISK_FAST_UNROLL`` = 1..72,
``RACKRISK_HIST_REPLICAS`` = 1..256). The GPU values are the fastest of those measured on an
H100 (docs/decisions/0010-performance-measurements-2026-11.md §5, benchmarks/gpu_bench.py's layout step).
"""

from __future__ import annotations

import os

from engine.errors import ScenarioError

# backend -> settings; other backends (TPU, ...) take the CPU's
DEFAULTS = {
    "cpu": {"select": False, "unroll": 1, "hist_replicas": 1},
    # H100, reference, chunks of 4,194,304 paths, device only: 32.1 ms a chunk with the CPU's layout, 29.2 with
    # select, 27.1 with 32 copies, 17.9 / 14.2 / 14.9 with 2 / 4 / 8 months an iteration; 8 and 128 copies
    # 14.5 and 14.2 (docs/decisions/0010-performance-measurements-2026-11.md §5)
    "gpu": {"select": True, "unroll": 4, "hist_replicas": 32},
}
ENV = {"select": "RACKRISK_FAST_SELECT", "unroll": "RACKRISK_FAST_UNROLL", "hist_replicas": "RACKRISK_HIST_REPLICAS"}
_RANGES = {"select": (0, 1), "unroll": (1, 72), "hist_replicas": (1, 256)}


def _backend() -> str:
    import jax

    return jax.default_backend()


def settings(environ=None, backend: str | None = None) -> dict:
    """``{"select": bool, "unroll": int, "hist_replicas": int}`` for ``backend`` (default: JAX's).

    Raises ``ScenarioError`` (file: the environment) for an override that is not an integer in its range.
    """
    env = os.environ if environ is None else environ
    b = backend if backend is not None else _backend()
    out = dict(DEFAULTS.get(b, DEFAULTS["cpu"]))
    for key, var in ENV.items():
        raw = env.get(var)
        if raw is None or raw.strip() == "":
            continue
        lo, hi = _RANGES[key]
        try:
            val = int(raw.strip())
        except ValueError:
            val = None
        if val is None or not lo <= val <= hi:
            raise ScenarioError("environment", var, f"must be an integer from {lo} to {hi}, got {raw!r}")
        out[key] = bool(val) if key == "select" else val
    return out


CHUNK_PATHS = {"cpu": 32_768, "gpu_one_asset": 4_194_304, "gpu_general": 1_048_576}


def chunk_paths_for(run_cfg, model=None, override: int | None = None, backend: str | None = None) -> int:
    """Paths per compiled call: ``override`` (``--chunk-paths``), else ``[run] chunk_paths`` when the
    scenario sets it, else the backend's default above (``model`` says whether it is a single asset)."""
    if override is not None:
        return int(override)
    if "chunk_paths" in run_cfg.model_fields_set:
        return int(run_cfg.chunk_paths)
    b = backend if backend is not None else _backend()
    if b != "gpu":
        return CHUNK_PATHS["cpu"]
    from engine.compiled import single_asset

    small = model is not None and single_asset(model)
    return CHUNK_PATHS["gpu_one_asset" if small else "gpu_general"]
