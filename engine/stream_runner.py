"""Streamed runs: simulate chunk after chunk and reduce each on the device (engine.reduce).

Memory is O(chunk) whatever the number of paths: no per-path array leaves the device; each chunk
returns per-block sums, extrema and histogram counts (a few MB), added on the host in path order.

    1. pilot: paths 0..PILOT-1 gathered on the host -> reduction plan (shifts, bin ranges);
    2. chunks of B paths (B a whole number of blocks per device): per-path results plus the fleet
       quantities of ``engine.summary_stream.derived_paths`` -> ``reduce_chunk`` -> host add;
    3. fans: monthly values of the first ``fan_paths`` paths, as in a gathered run.
"""

from __future__ import annotations

import time

import numpy as np

from engine.compile import Model
from engine.reduce import BLOCK_PATHS, PILOT_PATHS, Accumulator, plan_from_pilot, reduce_chunk


def _per_path_fn(model: Model, dtype):
    """(seed, idx) -> name -> (B, ...) per-path results and derived fleet values (jitted)."""
    import jax

    from engine.random import draw_inputs, draw_noise, root_key
    from engine.simulate import make_path_fn
    from engine.summary_stream import derived_paths

    path = make_path_fn(model, dtype, monthly=False)

    def one(root, i):
        theta, _ = draw_inputs(model, root, i, dtype)
        zp, zf = draw_noise(model, root, i, dtype)
        res, _ = path(theta, zp, zf)
        return res

    def chunk(seed, idx):
        root = root_key(seed)
        res = jax.vmap(lambda i: one(root, i))(idx)
        return {**res, **derived_paths(model, res)}

    return chunk


def simulate_streamed(model: Model, *, n_paths: int, seed: int, dtype, chunk_paths: int, fan_paths: int, progress=None):
    import jax
    import jax.numpy as jnp

    from engine.runner import RunOutput, _chunk_fn
    from engine.sharding import chunk_multiple, n_devices, shard_paths

    t0 = time.perf_counter()
    seed_arr = jnp.uint32(seed)
    per_path = _per_path_fn(model, dtype)
    mult = chunk_multiple(BLOCK_PATHS)

    # 1. pilot (its chunking changes no number: per-path values depend on the path index only)
    n_pilot = min(PILOT_PATHS, n_paths)
    Bp = -(-n_pilot // mult) * mult
    pilot_fn = shard_paths(jax.jit(per_path))
    pilot = jax.tree.map(np.asarray, pilot_fn(seed_arr, jnp.arange(0, Bp, dtype=jnp.uint32)))
    plans = plan_from_pilot({k: v[:n_pilot] for k, v in pilot.items()})
    del pilot
    pilot_s = time.perf_counter() - t0  # compile + run of the pilot: counted with the compile time

    # 2. chunks reduced on the device
    def reduced(seed_, idx):
        res = per_path(seed_, idx)
        return reduce_chunk(res, idx < np.uint32(n_paths), plans, dtype)

    fn = shard_paths(jax.jit(reduced))
    B = int(min(chunk_paths, max(n_paths, 1)))
    B = -(-B // mult) * mult
    acc = Accumulator(plans)
    compile_s = 0.0
    for start in range(0, n_paths, B):
        tc = time.perf_counter()
        out = jax.tree.map(np.asarray, fn(seed_arr, jnp.arange(start, start + B, dtype=jnp.uint32)))
        if start == 0:
            compile_s = pilot_s + time.perf_counter() - tc
        acc.add(out)
        if progress:
            progress(min(start + B, n_paths), n_paths)

    # 3. fans over the first fan_paths paths (monthly values), as a gathered run
    n_fan = min(fan_paths, n_paths)
    t_fan = time.perf_counter()
    fan_fn = shard_paths(_chunk_fn(model, dtype, monthly=True))
    Bf = -(-int(min(2048, n_fan)) // chunk_multiple(1)) * chunk_multiple(1)
    parts = []
    for start in range(0, n_fan, Bf):
        _, months, _, _ = fan_fn(seed_arr, jnp.arange(start, start + Bf, dtype=jnp.uint32))
        keep = min(Bf, n_fan - start)
        parts.append({k: np.asarray(v)[:keep] for k, v in months.items()})
    monthly = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return RunOutput(
        scalars={},
        inputs=np.zeros((0, len(model.inputs))),
        posterior_index=np.zeros((0, len(model.posterior_files)), np.int64),
        monthly=monthly,
        n_paths=n_paths,
        n_fan=n_fan,
        seconds=time.perf_counter() - t0,
        compile_seconds=compile_s,
        reduced=acc.cols,
        n_devices=n_devices(),
        fan_seconds=time.perf_counter() - t_fan,
    )
