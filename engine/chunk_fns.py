"""The runners' chunk functions, compiled once per scenario shape, and what a run returns.

``sharded_chunk_fn`` and ``packed_chunk_fn`` split the model (``engine.compiled.split``) and take the
compiled function from ``engine.compiled.cached`` under the model's static key, the chunk size,
the device count, the XLA options and the backend's layout settings: scenarios that differ only in
their numbers (engine/compiled.py) share one trace and one XLA compilation; each call gets the
scenario's numbers (``ModelArgs``, copied to the device once per run) as an argument.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from engine.compile import Model


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
    fan_seconds: float = 0.0  # of ``seconds``: a streamed run's separate fan pass (compile included); 0 where the fan paths' chunks are the run's own
    first_chunk_paths: int = 0  # paths of the first chunk, whose time is in ``compile_seconds``
    steady_seconds: float = 0.0  # from the first chunk's results to the last's: the other chunks' time (0 with one chunk)
    head_scalars: dict = field(default_factory=dict)  # the first ``head_paths`` paths' per-path results (engine.runner.simulate_paths)

    @cached_property
    def inputs(self) -> np.ndarray:
        """(P, N) every scalar input's value per path."""
        return self.input_columns.full()


def _chunk_fn(model: Model, dtype, monthly: bool):
    """``chunk(seed, idx) -> (results, months, theta, posterior_index)`` over a chunk's path indices (B,)
    (not jitted; ``model``'s numbers closed over)."""
    from engine.compiled import device_args, split

    st, args = split(model, dtype)
    fn, dargs = chunk_fn(st, monthly), device_args(args)
    return lambda seed, idx: fn(seed, idx, dargs)


def chunk_fn(st, monthly: bool):
    """``chunk(seed, idx, args) -> (results, months, theta, posterior_index)`` over a chunk's path indices (B,)
    for every scenario with static part ``st`` (``engine.compiled.Static``; ``args`` its ``ModelArgs``)."""
    import jax

    from engine.random import root_key
    from engine.kernel.path import indexed_path_fn

    one = indexed_path_fn(st, monthly=monthly)

    def chunk(seed, idx, args):
        root = root_key(seed)
        return jax.vmap(lambda i: one(args, root, i))(idx)

    return chunk


def compile_key(st, model: Model, chunk_paths: int) -> tuple:
    """What, beside the model's static part, a compiled chunk function depends on: the chunk size, the
    devices, the XLA options (engine/xla_options.py), the backend's layout settings (engine/backend_tuning.py)
    and JAX's 64-bit mode (process-wide: a float64 run switches it on, and a float32 function traced under
    it is another program; an exported one would not re-trace, engine/export_cache.py)."""
    import jax

    from engine.backend_tuning import settings
    from engine.sharding import n_devices
    from engine.xla_options import chunk_compiler_options

    opts = chunk_compiler_options(model)
    tune = settings()
    return (st.key, int(chunk_paths), n_devices(), tuple(sorted(opts.items())), tune["select"], tune["unroll"], bool(jax.config.jax_enable_x64))


def sharded_chunk_fn(model: Model, dtype, monthly: bool, chunk_paths: int):
    """``chunk_fn`` jitted and split over every local device (engine.sharding), with the model's XLA
    options (engine.xla_options): ``call(seed, start)`` for paths [start, start + chunk_paths).
    One compilation per static key (``engine.compiled.cached``); one trace per key across processes
    (engine/export_cache.py)."""
    from engine.compiled import cached, device_args, split
    from engine.export_cache import served
    from engine.sharding import shard_paths
    from engine.xla_options import chunk_compiler_options

    st, args = split(model, dtype)
    dargs = device_args(args)
    key = compile_key(st, model, chunk_paths) + (bool(monthly),)

    def build():
        run, _ = served(shard_paths(chunk_fn(st, monthly), chunk_paths), ("chunk",) + key, _example(dargs),
                        compiler_options=chunk_compiler_options(model))
        return run

    fn = cached("chunk", key, build)
    return lambda seed, start: fn(seed, start, dargs)


def _example(dargs) -> tuple:
    """Arguments shaped like a chunk call's: ``(seed, start, args)``."""
    return (np.uint32(0), np.uint32(0), dargs)


def _packed_chunk_fn(model: Model, dtype, chunk_paths: int, on_layout: Callable | None = None):
    """``call(seed, start) -> (values (K, B), posterior_index (B, F))`` and a list that holds the ``Layout``
    of ``values`` once the first call has traced the function (no separate trace to learn the shapes):
    the per-path results and the varying inputs (key ``_inputs``: columns ``varying_inputs(model)``)
    of a gathered run without monthly values, packed on the device into one array (engine/packing.py).
    ``on_layout(layout)`` is called when tracing has made the layout, before XLA compiles the chunk,
    or at once when a scenario of the same static key has already compiled it."""
    from engine.compiled import cached, device_args, split

    st, args = split(model, dtype)
    dargs = device_args(args)
    fn, layouts, hook = cached("packed", compile_key(st, model, chunk_paths), lambda: _build_packed(st, model, chunk_paths, dargs))
    if layouts:  # compiled before: the layout is known now
        hook[0] = None
        if on_layout is not None:
            on_layout(layouts[-1])
    else:  # called by the trace of the first call
        hook[0] = on_layout
    return (lambda seed, start: fn(seed, start, dargs)), layouts


def _build_packed(st, model: Model, chunk_paths: int, dargs):
    """``(call, layouts, hook)`` of ``_packed_chunk_fn``: ``layouts`` is filled by the trace, or at once from the
    export cache (engine/export_cache.py stores the layout with the program)."""
    from jax.sharding import PartitionSpec as P

    from engine.export_cache import served
    from engine.packing import Layout
    from engine.sharding import shard_paths
    from engine.xla_options import chunk_compiler_options

    chunk = chunk_fn(st, monthly=False)
    vary = np.array([j for j, kind in enumerate(st.inputs) if kind[0] in ("dist", "posterior")], np.int64)  # varying_inputs
    layouts: list[Layout] = []  # filled when the chunk function is traced (the shapes are static then)
    hook: list = [None]  # the current run's on_layout

    def packed(seed, idx, args):
        res, _, theta, pidx = chunk(seed, idx, args)
        if any(v.dtype != theta.dtype for v in res.values()):  # a programming error: every result is in the run's dtype
            raise RuntimeError(f"per-path results of more than one dtype: {sorted({str(v.dtype) for v in res.values()})}")
        tree = {**res, _INPUTS: theta[:, vary]}
        layouts.append(Layout.of(tree))
        run_hook, hook[0] = hook[0], None  # once: the hook holds the run's host arrays
        if run_hook is not None:
            run_hook(layouts[-1])
        return layouts[-1].pack(tree), pidx

    outs = (P(None, "paths"), P("paths"))  # values (K, B): the paths are its second axis
    call = shard_paths(packed, chunk_paths, out_specs=outs)
    run, layout = served(call, ("packed",) + compile_key(st, model, chunk_paths), _example(dargs),
                         compiler_options=chunk_compiler_options(model), side=lambda: layouts[-1] if layouts else None)
    if layout is not None and not layouts:  # served from the cache: no trace made it
        layouts.append(layout)
    return run, layouts, hook


_INPUTS = "_inputs"  # the inputs' key in the packed layout (no result is named so)
