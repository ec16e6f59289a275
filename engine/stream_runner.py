"""Streamed runs: simulate chunk after chunk and reduce each on the device (engine.reduce).

Memory is O(chunk) whatever the number of paths: no per-path array leaves the device; each chunk
returns per-block sums, extrema and histogram counts (a few MB), added on the host in path order.

    1. fans and pilot, one pass of the monthly function: monthly values of the first ``fan_paths``
       paths (as in a gathered run) and per-path results of paths 0..PILOT-1 -> reduction plan;
    2. chunks of B paths (B a whole number of blocks per device): per-path results plus the fleet
       quantities of ``engine.summary_stream.derived_paths`` -> ``reduce_chunk`` -> host add.

Compiled functions: the monthly one (shared with gathered runs) and the reducing chunk function,
whose plan (shifts, bin ranges) and path count are arguments: a second run of the same scenario
shape, any seed or path count, reuses both from JAX's persistent compilation cache.
"""

from __future__ import annotations

import time

import numpy as np

from engine.compile import Model
from engine.reduce import BLOCK_PATHS, PILOT_PATHS, Accumulator, plan_arrays, plan_from_pilot, reduce_chunk


FAN_CHUNK_PATHS = 1024  # paths per call of the monthly function (fans and pilot)


def _per_path_fn(model: Model, dtype):
    """(seed, idx) -> name -> (B, ...) per-path results and derived fleet values (jitted)."""
    import jax

    from engine.random import root_key
    from engine.simulate import make_indexed_path_fn
    from engine.summary_stream import derived_paths

    one = make_indexed_path_fn(model, dtype, monthly=False)

    def chunk(seed, idx):
        root = root_key(seed)
        res = jax.vmap(lambda i: one(root, i)[0])(idx)
        return {**res, **derived_paths(model, res)}

    return chunk


def _release_memory() -> None:
    """Hand freed heap back to the OS (glibc keeps it otherwise): the fan pass's temporaries are
    not needed while the reducing function compiles and runs, so peak memory is their max, not their sum."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def simulate_streamed(model: Model, *, n_paths: int, seed: int, dtype, chunk_paths: int, fan_paths: int, progress=None):
    import jax
    import jax.numpy as jnp

    from engine.chunk_loop import PathArrays, pipelined
    from engine.runner import InputColumns, RunOutput, sharded_chunk_fn
    from engine.sharding import chunk_multiple, compile_sharded, n_devices
    from engine.xla_options import chunk_compiler_options
    from engine.summary_stream import derived_paths

    t0 = time.perf_counter()
    seed_arr = jnp.uint32(seed)

    # 0. compile the reducing chunk function first, while nothing else is in memory: its plan (shifts,
    #    bin ranges) is an argument whose shapes follow from the per-path result shapes, not from the
    #    pilot's values; compiling it after the fan pass put its XLA compile's transient memory on top
    #    of the fans and the monthly function (the cold-compile peak, docs/performance.md)
    per_path = _per_path_fn(model, dtype)
    n_arr = jnp.uint32(n_paths)

    def reduced(seed_, idx, arrays_, n_):
        return reduce_chunk(per_path(seed_, idx), idx < n_, arrays_, dtype)

    mult = chunk_multiple(BLOCK_PATHS)
    B = int(min(chunk_paths, max(n_paths, 1)))
    B = -(-B // mult) * mult
    idx0 = jnp.arange(0, B, dtype=jnp.uint32)
    shapes = jax.eval_shape(per_path, seed_arr, idx0)
    arrays_like = {k: tuple(jax.ShapeDtypeStruct((int(np.prod(v.shape[1:], dtype=np.int64)),), dtype) for _ in range(3)) for k, v in shapes.items()}
    tc0 = time.perf_counter()
    fn = compile_sharded(reduced, B, seed_arr, np.uint32(0), arrays_like, n_arr, compiler_options=chunk_compiler_options(model))
    compile_s = time.perf_counter() - tc0
    _release_memory()

    # 1. fans and pilot in one pass of the monthly function (one compilation for both): monthly
    #    values of the first fan_paths paths, per-path results of the first PILOT_PATHS paths
    n_fan = min(fan_paths, n_paths)
    n_pilot = min(PILOT_PATHS, n_paths)
    Bf = -(-int(min(FAN_CHUNK_PATHS, max(n_fan, n_pilot))) // chunk_multiple()) * chunk_multiple()
    fan_fn = sharded_chunk_fn(model, dtype, monthly=True, chunk_paths=Bf)
    pilot_rows, fan_rows = PathArrays(n_pilot), PathArrays(n_fan)  # filled in place: peak memory is one copy
    for start in range(0, max(n_fan, n_pilot), Bf):
        res, months, _, _ = fan_fn(seed_arr, np.uint32(start))
        for dest, src in ((pilot_rows, res), (fan_rows, months)):
            if start < dest.n_paths:
                dest.put(start, src, min(Bf, dest.n_paths - start))
        del res, months
    pilot, monthly = pilot_rows.arrays, fan_rows.arrays
    pilot.update({k: np.asarray(v) for k, v in derived_paths(model, {k: jnp.asarray(v) for k, v in pilot.items()}).items()})
    plans = plan_from_pilot(pilot)
    arrays = jax.tree.map(lambda a: jnp.asarray(a, dtype), plan_arrays(plans))
    del pilot, pilot_rows, fan_fn
    if set(plans) != set(shapes):  # the same per-path keys from both functions (a programming error otherwise)
        raise RuntimeError(f"streamed reduction: pilot keys {sorted(plans)} differ from the chunk function's {sorted(shapes)}")
    fan_s = time.perf_counter() - t0 - compile_s
    _release_memory()

    # 2. chunks reduced on the device
    acc = Accumulator(plans)
    calls = ((start, lambda s=start: fn(seed_arr, np.uint32(s), arrays, n_arr)) for start in range(0, n_paths, B))
    tc = time.perf_counter()
    t_first = t_last = tc
    for start, out in pipelined(calls):  # in path order: the host sums are the same as without pipelining
        t_last = time.perf_counter()
        if start == 0:
            compile_s += t_last - tc  # the compile above plus the first chunk
            t_first = t_last
        acc.add(out)
        if progress:
            progress(min(start + B, n_paths), n_paths)
    return RunOutput(
        scalars={},
        input_columns=InputColumns(np.zeros((0, 0), dtype), np.zeros(0, np.int64), np.full(len(model.inputs), np.nan, dtype)),
        posterior_index=np.zeros((0, len(model.posterior_files)), np.int64),
        monthly=monthly,
        n_paths=n_paths,
        n_fan=n_fan,
        seconds=time.perf_counter() - t0,
        compile_seconds=compile_s,
        reduced=acc.cols,
        n_devices=n_devices(),
        fan_seconds=fan_s,
        first_chunk_paths=min(B, n_paths),
        steady_seconds=t_last - t_first,
    )
