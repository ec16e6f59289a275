"""Streamed runs: simulate chunk after chunk and reduce each on the device (engine.reduce).

Memory is O(chunk) whatever the number of paths: no per-path array leaves the device; each chunk
returns per-block sums, extrema and histogram counts (a few MB), added on the host in path order.

    1. fans and pilot, one pass of the monthly function: monthly values of the first ``fan_paths``
       paths (as in a gathered run) and per-path results of paths 0..PILOT-1 -> reduction plan;
    2. chunks of B paths (B a whole number of blocks per device): per-path results plus the fleet
       quantities of ``engine.stats.fleet.device_fleet_paths`` -> ``reduce_chunk_packed`` -> host add of
       the block sums and extrema; the histogram counts accumulate on the device (in place) and are
       added on the host once, at the end.

Compiled functions: the monthly one (shared with gathered runs) and the reducing chunk function,
whose plan (shifts, bin ranges) and path count are arguments: a second run of the same scenario
shape, any seed or path count, reuses both from JAX's persistent compilation cache.
"""

from __future__ import annotations

import time

import numpy as np

from engine.compile import Model
from engine.reduce import BINS, BLOCK_PATHS, PILOT_PATHS, Accumulator, packed_width, plan_arrays, plan_from_pilot, reduce_chunk_packed


FAN_CHUNK_PATHS = 1024  # paths per call of the monthly function (fans and pilot)
HIST_FLUSH_PATHS = 2**31 - 1  # paths a device adds to its int32 histogram before the runner empties it to the host


def _per_path_fn(st):
    """(seed, idx, args) -> name -> (B, ...) per-path results and derived fleet values (not jitted; the
    fleet's capital charges from ``args``, so every scenario of the shape shares it)."""
    import jax

    from engine.random import root_key
    from engine.kernel.path import indexed_path_fn
    from engine.stats.fleet import device_fleet_paths as derived_paths

    one = indexed_path_fn(st, monthly=False)

    def chunk(seed, idx, args):
        root = root_key(seed)
        res = jax.vmap(lambda i: one(args, root, i)[0])(idx)
        capital = (args.other["fleet_capital_charge_sl_usd"], args.other["fleet_capital_charge_annuity_usd"])
        return {**res, **derived_paths(capital, res)}

    return chunk


def _stream_key(st, model: Model, chunk_paths: int, hist_replicas: int) -> tuple:
    """Cache key of the reducing chunk function: ``engine.chunk_fns.compile_key`` and the histogram's replica count."""
    from engine.chunk_fns import compile_key

    return compile_key(st, model, chunk_paths) + (int(hist_replicas),)


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

    from engine.backend_tuning import settings
    from engine.chunk_loop import PathArrays, host_shards, pipelined
    from engine.chunk_fns import InputColumns, RunOutput, sharded_chunk_fn
    from engine.compiled import cached, device_args, split
    from engine.sharding import chunk_multiple, compile_sharded, n_devices, per_device_zeros
    from engine.xla_options import chunk_compiler_options
    from engine.stats.fleet import device_fleet_paths as derived_paths
    from engine.stats.fleet import fleet_capital_usd

    t0 = time.perf_counter()
    seed_arr = jnp.uint32(seed)

    # 0. compile the reducing chunk function first, while nothing else is in memory: its plan (shifts,
    #    bin ranges) is an argument whose shapes follow from the per-path result shapes, not from the
    #    pilot's values; compiling it after the fan pass put its XLA compile's transient memory on top
    #    of the fans and the monthly function (the cold-compile peak, docs/performance.md)
    st, host_args = split(model, dtype)
    margs = device_args(host_args)
    per_path = _per_path_fn(st)
    n_arr = jnp.uint32(n_paths)

    def reduced(seed_, idx, arrays_, n_, hist_, args_):
        return reduce_chunk_packed(per_path(seed_, idx, args_), idx < n_, arrays_, dtype, hist_)

    mult = chunk_multiple(BLOCK_PATHS)
    B = int(min(chunk_paths, max(n_paths, 1)))
    B = -(-B // mult) * mult
    idx0 = jnp.arange(0, B, dtype=jnp.uint32)
    shapes = jax.eval_shape(per_path, seed_arr, idx0, margs)
    arrays_like = {k: tuple(jax.ShapeDtypeStruct((int(np.prod(v.shape[1:], dtype=np.int64)),), dtype) for _ in range(3)) for k, v in shapes.items()}
    # per device; the last slot collects padding and non-finite values; R copies on a GPU (engine.backend_tuning)
    R = settings()["hist_replicas"]
    hist_shape = ((R,) if R > 1 else ()) + (packed_width(arrays_like), BINS + 3)
    hist_like = jax.ShapeDtypeStruct((n_devices(),) + hist_shape, jnp.int32)
    tc0 = time.perf_counter()
    fn = cached("stream", _stream_key(st, model, B, R),
                lambda: compile_sharded(reduced, B, seed_arr, np.uint32(0), arrays_like, n_arr, hist_like, margs,
                                        compiler_options=chunk_compiler_options(model), per_device=(2,), donate=(2,)))
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
    pilot.update({k: np.asarray(v) for k, v in derived_paths(fleet_capital_usd(model), {k: jnp.asarray(v) for k, v in pilot.items()}).items()})
    plans = plan_from_pilot(pilot)
    arrays = jax.tree.map(lambda a: jnp.asarray(a, dtype), plan_arrays(plans))
    del pilot, pilot_rows, fan_fn
    if set(plans) != set(shapes):  # the same per-path keys from both functions (a programming error otherwise)
        raise RuntimeError(f"streamed reduction: pilot keys {sorted(plans)} differ from the chunk function's {sorted(shapes)}")
    fan_s = time.perf_counter() - t0 - compile_s
    _release_memory()

    # 2. chunks reduced on the device: per-block sums and extrema come back per chunk (three arrays,
    #    each device's block a view on XLA:CPU); the histogram stays on the device, updated in place,
    #    and is emptied to the host at the end (and every HIST_FLUSH_PATHS paths a device, for int32)
    acc = Accumulator(plans)
    hist = {"dev": per_device_zeros(hist_shape, jnp.int32), "paths": 0}
    per_dev = B // n_devices()

    def call(start):
        if hist["paths"] + per_dev > HIST_FLUSH_PATHS:
            acc.add_hist(np.asarray(hist["dev"]))
            hist["dev"], hist["paths"] = per_device_zeros(hist_shape, jnp.int32), 0
        blocks, counts, extrema, hist["dev"] = fn(seed_arr, np.uint32(start), arrays, n_arr, hist["dev"], margs)
        hist["paths"] += per_dev
        return blocks, counts, extrema

    def to_host(out):
        return tuple(host_shards(a, axis=0) for a in out)

    calls = ((start, lambda s=start: call(s)) for start in range(0, n_paths, B))
    tc = time.perf_counter()
    t_first = t_last = tc
    for start, (blocks, counts, extrema) in pipelined(calls, to_host=to_host):  # in path order
        t_last = time.perf_counter()
        if start == 0:
            compile_s += t_last - tc  # the compile above plus the first chunk
            t_first = t_last
        for (_, b), (_, c), (_, e) in zip(blocks, counts, extrema):  # device by device: path order
            acc.add_packed(b, c, e)
        if progress:
            progress(min(start + B, n_paths), n_paths)
    acc.add_hist(np.asarray(hist["dev"]))  # once, after the steady loop (its time is in ``seconds``)
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
