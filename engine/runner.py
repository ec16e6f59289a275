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

import time
from collections.abc import Callable

import numpy as np

from engine.chunk_fns import (  # noqa: F401  (re-exported: the runner's public names)
    _INPUTS,
    InputColumns,
    RunOutput,
    _chunk_fn,
    _packed_chunk_fn,
    fixed_input_values,
    sharded_chunk_fn,
    varying_inputs,
)
from engine.compile import Model


# store = "full": paths a chunk at most by default (a chunk returns every path's months, about 17 kB a path
# for the baseline: 35 MB a chunk, against 560 MB at the CPU default of 32,768; docs/decisions/0011).
# An explicit --chunk-paths or [run] chunk_paths is used as given.
FULL_CHUNK_PATHS = 2048


def _configure_jax(dtype: str) -> None:
    import jax

    # draws come from engine.random's counter-based hash; threefry stays partitionable for any other use
    try:
        jax.config.update("jax_threefry_partitionable", True)
    except (AttributeError, KeyError, ValueError):  # newer JAX: the flag is gone (always on)
        pass
    if dtype == "float64":
        jax.config.update("jax_enable_x64", True)  # process-wide (JAX has no per-call switch)
    from engine.export_cache import jax_cache_dir

    cache = jax_cache_dir()
    if cache is not None:
        try:
            jax.config.update("jax_compilation_cache_dir", cache)
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
        except Exception:  # pragma: no cover - the cache is an optimisation only
            pass


def _rows_kept(first_path: int, rows: int, n_paths: int) -> int:
    """Rows of a block of ``rows`` paths from ``first_path`` that are real paths (< n_paths): padding is dropped."""
    return max(0, min(rows, n_paths - first_path))


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
    sink=None,
    head_paths: int = 0,
) -> RunOutput:
    """Simulate ``n_paths`` paths of ``model`` with root seed ``seed``.

    ``stream``: reduce each chunk on the device (engine.reduce) instead of gathering every path;
    the returned ``scalars`` is then empty and ``reduced`` holds the accumulated statistics.
    Paths are sharded over all local devices (engine.sharding); no number depends on it.

    ``sink``: where the per-path arrays go instead of host memory (engine/results_file.py's ``PathsFile``:
    ``sink.put(start, rows, scalars=, inputs=, posterior_index=[, monthly=])`` in path order, then
    ``sink.finish()``); the returned ``scalars``, ``input_columns`` and ``posterior_index`` then have
    no rows, and ``monthly`` holds the first ``fan_paths`` paths only (with ``store_full`` too).

    ``head_paths``: the returned ``head_scalars`` holds the per-path results of the first ``head_paths``
    paths (name -> (head_paths, ...)), with a ``sink`` too (the policy range's own-policy row reads them).
    """
    _configure_jax(dtype)
    import jax
    import jax.numpy as jnp

    from engine.chunk_loop import PathArrays, host_shards, pipelined
    from engine.sharding import chunk_multiple

    jdtype = jnp.float64 if dtype == "float64" else jnp.float32
    if stream:
        from engine.stream_runner import simulate_streamed

        return simulate_streamed(model, n_paths=n_paths, seed=seed, dtype=jdtype, chunk_paths=chunk_paths, fan_paths=fan_paths, progress=progress)
    t0 = time.perf_counter()
    mult = chunk_multiple()
    B = int(min(chunk_paths, max(n_paths, 1)))
    B = -(-B // mult) * mult  # whole shards per device (padding paths are discarded)
    scal, pidx_all, months_all = PathArrays(n_paths), PathArrays(n_paths), PathArrays(n_paths)
    n_fan = min(fan_paths, n_paths)
    # Chunks of two kinds, in path order. "m": the monthly function (every path's months as well as its
    # results): every chunk with store = "full", else the chunks (of at most 2,048 paths) of the first n_fan paths, whose months
    # make the fan charts; their per-path results are the packed function's, bit for bit
    # (tests/test_fan_paths.py), so no path is simulated twice. "p": the packed function (results only).
    if store_full:
        Bm, n_front = B, n_paths
    elif n_fan:
        Bm = -(-int(min(2048, n_fan, B)) // mult) * mult  # at most the run's chunk (its memory bound)
        n_front = min(-(-n_fan // Bm) * Bm, n_paths)
    else:
        Bm, n_front = 0, 0
    monthly_fn = sharded_chunk_fn(model, jdtype, monthly=True, chunk_paths=Bm) if n_front else None
    fn = layouts = None
    if n_front < n_paths:  # the host arrays are allocated and faulted in while the first packed chunk compiles
        reserve = None if sink is not None else (lambda lay: scal.reserve(lay.host_shapes(jdtype)))
        fn, layouts = _packed_chunk_fn(model, jdtype, B, on_layout=reserve)
    seed_arr = jnp.uint32(seed)
    vary = varying_inputs(model)
    fixed = fixed_input_values(model, jdtype)
    fan_rows = PathArrays(n_fan)  # the fan paths' monthly values, kept on the host
    n_head = min(int(head_paths), n_paths)
    head_rows = PathArrays(n_head) if sink is not None else None  # without a sink the head is a view of ``scal``
    compile_s = 0.0
    done = 0
    calls = [((start, "m"), lambda s=start: monthly_fn(seed_arr, np.uint32(s))) for start in range(0, n_front, Bm or 1)]
    calls += [((start, "p"), lambda s=start: fn(seed_arr, np.uint32(s))) for start in range(n_front, n_paths, B)]

    def to_host(out):
        if isinstance(out, tuple) and len(out) == 2:  # packed: (values, posterior_index), copied once into place as their devices' blocks
            return host_shards(out[0], axis=1), host_shards(out[1], axis=0)
        return jax.tree.map(np.asarray, out)

    tc = time.perf_counter()
    t_first = t_last = tc
    for (start, kind), out in pipelined(calls, to_host=to_host):
        t_last = time.perf_counter()
        if start == 0:
            compile_s, t_first = t_last - tc, t_last
        size = Bm if kind == "m" else B
        keep = min(size, n_paths - start)
        if kind == "m":
            res, months, theta, pidx = out
            if start < n_fan:
                fan_rows.put(start, months, min(keep, n_fan - start))
            if sink is not None:
                inputs = InputColumns(np.asarray(theta)[:keep, vary], vary, fixed).full()
                sink.put(start, keep, scalars=res, inputs=inputs, posterior_index=pidx, **({"monthly": months} if store_full else {}))
                if start < n_head:
                    head_rows.put(start, res, min(keep, n_head - start))
            else:
                scal.put(start, {**res, _INPUTS: np.asarray(theta)[:, vary]}, keep)
                if store_full:
                    months_all.put(start, months, keep)
                pidx_all.put(start, {"pidx": pidx}, keep)
        else:
            values, pidx = out
            for off, block in values:
                rows = _rows_kept(start + off, block.shape[1], n_paths)
                if sink is not None:
                    res = layouts[-1].unpack(block)
                    theta = np.asarray(res.pop(_INPUTS))[:rows]
                    sink.put(start + off, rows, scalars=res, inputs=InputColumns(theta, vary, fixed).full())
                    if start + off < n_head:
                        head_rows.put(start + off, res, min(rows, n_head - start - off))
                else:
                    scal.put(start + off, layouts[-1].unpack(block), rows)
            for off, block in pidx:
                rows = _rows_kept(start + off, block.shape[0], n_paths)
                if sink is not None:
                    sink.put(start + off, rows, posterior_index=block)
                else:
                    pidx_all.put(start + off, {"pidx": block}, rows)
        done += keep
        if progress:
            progress(done, n_paths)
    if sink is not None:
        sink.finish()
        scalars = {}
        inputs = InputColumns(np.zeros((0, len(vary)), fixed.dtype), vary, fixed)
        posterior_index = np.zeros((0, len(model.posterior_files)), np.int64)
        head = head_rows.arrays
    else:
        scalars = scal.arrays
        inputs = InputColumns(scalars.pop(_INPUTS), vary, fixed)
        posterior_index = pidx_all.arrays["pidx"]
        head = {k: v[:n_head] for k, v in scalars.items()} if n_head else {}
    monthly = months_all.arrays if store_full and sink is None else (fan_rows.arrays if n_fan else {})
    return RunOutput(
        scalars=scalars,
        input_columns=inputs,
        posterior_index=posterior_index,
        monthly=monthly,
        n_paths=n_paths,
        n_fan=n_fan,
        seconds=time.perf_counter() - t0,
        compile_seconds=compile_s,
        n_devices=len(jax.local_devices()),
        first_chunk_paths=min(Bm if n_front else B, n_paths),
        steady_seconds=t_last - t_first,
        head_scalars=head,
    )
