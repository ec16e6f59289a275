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
from functools import cached_property

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


def _varies(spec) -> bool:
    """Whether an input differs between paths (drawn, or from a posterior file): draw_inputs' two random cases."""
    return spec.is_random or spec.posterior_draws is not None


def varying_inputs(model: Model) -> np.ndarray:
    """(V,) indices of the inputs that differ between paths."""
    return np.array([i for i, sp in enumerate(model.inputs) if _varies(sp)], np.int64)


def fixed_input_values(model: Model, dtype) -> np.ndarray:
    """(N,) every input's fixed value in the run's dtype (NaN for the varying ones): what draw_inputs gives every path."""
    return np.array([np.nan if _varies(sp) else sp.dist.value for sp in model.inputs], dtype)


@dataclass(frozen=True)
class InputColumns:
    """Every scalar input's value per path, kept as the varying columns only.

    varying: (P, V) values of the inputs ``index`` (V,); fixed: (N,) the value every path has for
    the others. ``full()`` is the (P, N) table. A gathered run copies only the V varying columns
    of each chunk to the host (the reference has 5 of 19): fresh host memory is slow to touch on
    the development VM (about 0.4 s per 1e6 paths x 42 values), so a summary run no longer writes
    (P, N) constants it never reads.
    """

    varying: np.ndarray
    index: np.ndarray
    fixed: np.ndarray

    def full(self) -> np.ndarray:
        out = np.empty((self.varying.shape[0], self.fixed.shape[0]), self.fixed.dtype)
        out[:] = self.fixed
        out[:, self.index] = self.varying
        return out


@dataclass
class RunOutput:
    """What a run produced on the host.

    Attributes:
        scalars: name -> array with leading dim P (per-path results; see simulate.py).
        input_columns: the inputs per path; ``inputs`` is their (P, N) table (built on first use).
        posterior_index: (P, F).
        monthly: name -> (P_fan, T, ...) monthly arrays of the first P_fan paths.
        n_paths, seconds, compile_seconds: bookkeeping.
    """

    scalars: dict[str, np.ndarray]
    input_columns: InputColumns
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

    @cached_property
    def inputs(self) -> np.ndarray:
        """(P, N) every scalar input's value per path."""
        return self.input_columns.full()


def _chunk_fn(model: Model, dtype, monthly: bool):
    """``chunk(seed, idx) -> (results, months, theta, posterior_index)`` over a chunk's path indices (B,) (not jitted)."""
    import jax

    from engine.random import root_key
    from engine.kernel.path import make_indexed_path_fn

    one = make_indexed_path_fn(model, dtype, monthly=monthly)

    def chunk(seed, idx):
        root = root_key(seed)
        return jax.vmap(lambda i: one(root, i))(idx)

    return chunk


def sharded_chunk_fn(model: Model, dtype, monthly: bool, chunk_paths: int):
    """``_chunk_fn`` jitted and split over every local device (engine.sharding), with the model's XLA
    options (engine.xla_options): ``call(seed, start)`` for paths [start, start + chunk_paths)."""
    from engine.sharding import shard_paths
    from engine.xla_options import chunk_compiler_options

    return shard_paths(_chunk_fn(model, dtype, monthly), chunk_paths, compiler_options=chunk_compiler_options(model))


def _packed_chunk_fn(model: Model, dtype, chunk_paths: int, on_layout: Callable | None = None):
    """``call(seed, start) -> (values (K, B), posterior_index (B, F))`` and a list that holds the ``Layout``
    of ``values`` once the first call has traced the function (no separate trace to learn the shapes):
    the per-path results and the varying inputs (key ``_inputs``: columns ``varying_inputs(model)``)
    of a gathered run without monthly values, packed on the device into one array (engine/packing.py).
    ``on_layout(layout)`` is called when tracing has made the layout, before XLA compiles the chunk."""
    import jax

    from engine.packing import Layout
    from engine.sharding import shard_paths
    from engine.xla_options import chunk_compiler_options

    chunk = _chunk_fn(model, dtype, monthly=False)
    vary = varying_inputs(model)
    layouts: list[Layout] = []  # filled when the chunk function is traced (the shapes are static then)

    def packed(seed, idx):
        res, _, theta, pidx = chunk(seed, idx)
        if any(v.dtype != theta.dtype for v in res.values()):  # a programming error: every result is in the run's dtype
            raise RuntimeError(f"per-path results of more than one dtype: {sorted({str(v.dtype) for v in res.values()})}")
        tree = {**res, _INPUTS: theta[:, vary]}
        layouts.append(Layout.of(tree))
        if on_layout is not None:
            on_layout(layouts[-1])
        return layouts[-1].pack(tree), pidx

    from jax.sharding import PartitionSpec as P

    outs = (P(None, "paths"), P("paths"))  # values (K, B): the paths are its second axis
    return shard_paths(packed, chunk_paths, compiler_options=chunk_compiler_options(model), out_specs=outs), layouts


_INPUTS = "_inputs"  # the inputs' key in the packed layout (no result is named so)


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
) -> RunOutput:
    """Simulate ``n_paths`` paths of ``model`` with root seed ``seed``.

    ``stream``: reduce each chunk on the device (engine.reduce) instead of gathering every path;
    the returned ``scalars`` is then empty and ``reduced`` holds the accumulated statistics.
    Paths are sharded over all local devices (engine.sharding); no number depends on it.
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
    if store_full:
        fn, layouts = sharded_chunk_fn(model, jdtype, monthly=True, chunk_paths=B), None
    else:  # the host arrays are allocated and faulted in while the first chunk compiles
        fn, layouts = _packed_chunk_fn(model, jdtype, B, on_layout=lambda lay: scal.reserve(lay.host_shapes(jdtype)))
    seed_arr = jnp.uint32(seed)
    vary = varying_inputs(model)
    compile_s = 0.0
    done = 0
    calls = ((start, lambda s=start: fn(seed_arr, np.uint32(s))) for start in range(0, n_paths, B))
    # packed chunks come back as their devices' blocks (views on XLA:CPU), each copied once into place
    to_host = None if layouts is None else (lambda out: (host_shards(out[0], axis=1), host_shards(out[1], axis=0)))
    tc = time.perf_counter()
    t_first = t_last = tc
    for start, out in pipelined(calls, to_host=to_host):
        t_last = time.perf_counter()
        if start == 0:
            compile_s, t_first = t_last - tc, t_last
        keep = min(B, n_paths - start)
        if layouts is None:
            res, months, theta, pidx = out
            scal.put(start, {**res, _INPUTS: np.asarray(theta)[:, vary]}, keep)
            months_all.put(start, months, keep)
            pidx_all.put(start, {"pidx": pidx}, keep)
        else:
            values, pidx = out
            for off, block in values:
                scal.put(start + off, layouts[-1].unpack(block), _rows_kept(start + off, block.shape[1], n_paths))
            for off, block in pidx:
                pidx_all.put(start + off, {"pidx": block}, _rows_kept(start + off, block.shape[0], n_paths))
        done += keep
        if progress:
            progress(done, n_paths)
    scalars = scal.arrays
    inputs = InputColumns(scalars.pop(_INPUTS), vary, fixed_input_values(model, jdtype))
    posterior_index = pidx_all.arrays["pidx"]

    n_fan = min(fan_paths, n_paths)
    t_fan = time.perf_counter()
    if store_full:
        monthly = months_all.arrays
    else:
        Bf = -(-int(min(2048, n_fan)) // mult) * mult
        fan_fn = sharded_chunk_fn(model, jdtype, monthly=True, chunk_paths=Bf)
        fans = PathArrays(n_fan)
        for start in range(0, n_fan, Bf):
            _, months, _, _ = fan_fn(seed_arr, np.uint32(start))
            fans.put(start, months, min(Bf, n_fan - start))
        monthly = fans.arrays
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
        fan_seconds=0.0 if store_full else time.perf_counter() - t_fan,
        first_chunk_paths=min(B, n_paths),
        steady_seconds=t_last - t_first,
    )
