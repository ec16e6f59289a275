"""Run a scenario: compile once, stream fixed-size chunks of paths, collect on the host.

Paths are numbered 0..P-1; each chunk simulates path indices [start, start + B) (the last chunk is
padded with indices >= P, whose results are discarded), so the compiled shape never changes and
every path's numbers are independent of the chunk size and of P. Reductions to statistics are
done on the host in ``engine.summary`` from the per-path scalars (a few floats per path and
cohort), in a fixed order, so they are bit-identical whatever the chunk size.

Monthly paths (for fan charts) are kept for the first ``fan_paths`` paths only, unless the
scenario asks to store every path's months (``store = "full"``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.compile import Model


def _configure_jax(dtype: str) -> None:
    import jax

    # draws come from engine.random's counter-based hash; threefry stays partitionable for any other use
    try:
        jax.config.update("jax_threefry_partitionable", True)
    except (AttributeError, KeyError, ValueError):  # newer JAX: the flag is gone (always on)
        pass
    if dtype == "float64":
        jax.config.update("jax_enable_x64", True)  # process-wide (JAX has no per-call switch)
    cache = os.environ.get("RACKRISK_JAX_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "rackrisk", "jax"))
    if cache and cache != "off":
        try:
            jax.config.update("jax_compilation_cache_dir", cache)
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
        except Exception:  # pragma: no cover - the cache is an optimisation only
            pass


@dataclass
class RunOutput:
    """What a run produced on the host.

    Attributes:
        scalars: name -> array with leading dim P (per-path results; see simulate.py).
        inputs: (P, N) every scalar input's value per path; posterior_index: (P, F).
        monthly: name -> (P_fan, T, ...) monthly arrays of the first P_fan paths.
        n_paths, seconds, compile_seconds: bookkeeping.
    """

    scalars: dict[str, np.ndarray]
    inputs: np.ndarray
    posterior_index: np.ndarray
    monthly: dict[str, np.ndarray]
    n_paths: int
    n_fan: int
    seconds: float
    compile_seconds: float
    reduced: dict | None = None  # streamed runs: name -> engine.reduce.Column (scalars is then empty)
    n_devices: int = 1
    fan_seconds: float = 0.0  # of ``seconds``: simulating the fan paths' monthly values (compile included)
    first_chunk_paths: int = 0  # paths of the first chunk, whose time is in ``compile_seconds``
    steady_seconds: float = 0.0  # from the first chunk's results to the last's: the other chunks' time (0 with one chunk)


def _chunk_fn(model: Model, dtype, monthly: bool):
    """``chunk(seed, idx) -> (results, months, theta, posterior_index)`` over a chunk's path indices (B,) (not jitted)."""
    import jax

    from engine.random import root_key
    from engine.simulate import make_indexed_path_fn

    one = make_indexed_path_fn(model, dtype, monthly=monthly)

    def chunk(seed, idx):
        root = root_key(seed)
        return jax.vmap(lambda i: one(root, i))(idx)

    return chunk


def sharded_chunk_fn(model: Model, dtype, monthly: bool):
    """``_chunk_fn`` jitted and split over every local device (engine.sharding), with the model's XLA
    options (engine.xla_options): what the runners call."""
    from engine.sharding import shard_paths
    from engine.xla_options import chunk_compiler_options

    return shard_paths(_chunk_fn(model, dtype, monthly), compiler_options=chunk_compiler_options(model))


def simulate_paths(
    model: Model,
    *,
    n_paths: int,
    seed: int,
    dtype: str = "float32",
    chunk_paths: int = 32_768,
    fan_paths: int = 10_000,
    store_full: bool = False,
    progress: Callable[[int, int], None] | None = None,
    stream: bool = False,
) -> RunOutput:
    """Simulate ``n_paths`` paths of ``model`` with root seed ``seed``.

    ``stream``: reduce each chunk on the device (engine.reduce) instead of gathering every path;
    the returned ``scalars`` is then empty and ``reduced`` holds the accumulated statistics.
    Paths are sharded over all local devices (engine.sharding); no number depends on it.
    """
    _configure_jax(dtype)
    import jax
    import jax.numpy as jnp

    from engine.chunk_loop import pipelined
    from engine.sharding import chunk_multiple

    jdtype = jnp.float64 if dtype == "float64" else jnp.float32
    if stream:
        from engine.stream_runner import simulate_streamed

        return simulate_streamed(model, n_paths=n_paths, seed=seed, dtype=jdtype, chunk_paths=chunk_paths, fan_paths=fan_paths, progress=progress)
    t0 = time.perf_counter()
    mult = chunk_multiple()
    B = int(min(chunk_paths, max(n_paths, 1)))
    B = -(-B // mult) * mult  # whole shards per device (padding paths are discarded)
    fn = sharded_chunk_fn(model, jdtype, monthly=store_full)
    seed_arr = jnp.uint32(seed)
    scal_parts: list[dict] = []
    theta_parts, pidx_parts, month_parts = [], [], []
    compile_s = 0.0
    done = 0
    calls = ((start, lambda s=start: fn(seed_arr, jnp.arange(s, s + B, dtype=jnp.uint32))) for start in range(0, n_paths, B))
    tc = time.perf_counter()
    t_first = t_last = tc
    for start, (res, months, theta, pidx) in pipelined(calls):
        t_last = time.perf_counter()
        if start == 0:
            compile_s, t_first = t_last - tc, t_last
        keep = min(B, n_paths - start)
        scal_parts.append({k: v[:keep] for k, v in res.items()})
        theta_parts.append(theta[:keep])
        pidx_parts.append(pidx[:keep])
        if store_full:
            month_parts.append({k: v[:keep] for k, v in months.items()})
        done += keep
        if progress:
            progress(done, n_paths)
    scalars = {k: np.concatenate([p[k] for p in scal_parts]) for k in scal_parts[0]}
    inputs = np.concatenate(theta_parts)
    posterior_index = np.concatenate(pidx_parts)

    n_fan = min(fan_paths, n_paths)
    t_fan = time.perf_counter()
    if store_full:
        monthly = {k: np.concatenate([p[k] for p in month_parts]) for k in month_parts[0]}
    else:
        fan_fn = sharded_chunk_fn(model, jdtype, monthly=True)
        Bf = -(-int(min(2048, n_fan)) // mult) * mult
        parts = []
        for start in range(0, n_fan, Bf):
            idx = jnp.arange(start, start + Bf, dtype=jnp.uint32)
            _, months, _, _ = fan_fn(seed_arr, idx)
            keep = min(Bf, n_fan - start)
            parts.append({k: np.asarray(v)[:keep] for k, v in months.items()})
        monthly = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return RunOutput(
        scalars=scalars,
        inputs=inputs,
        posterior_index=posterior_index,
        monthly=monthly,
        n_paths=n_paths,
        n_fan=n_fan,
        seconds=time.perf_counter() - t0,
        compile_seconds=compile_s,
        n_devices=len(jax.local_devices()),
        fan_seconds=0.0 if store_full else time.perf_counter() - t_fan,
        first_chunk_paths=min(B, n_paths),
        steady_seconds=t_last - t_first,
    )
