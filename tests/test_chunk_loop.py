"""engine/chunk_loop.py: chunks kept in flight come back in order, unchanged, with at most ``depth`` dispatched ahead."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from engine.chunk_loop import pipelined


def test_results_in_order_and_equal_to_the_unpipelined_loop():
    f = lambda s: {"x": jnp.arange(s, s + 4) * 2.0, "y": (jnp.ones(3) * s,)}  # noqa: E731
    calls = ((s, lambda s=s: f(s)) for s in range(0, 40, 4))
    got = list(pipelined(calls, depth=3))
    assert [t for t, _ in got] == list(range(0, 40, 4))
    for s, out in got:
        assert isinstance(out["x"], np.ndarray) and isinstance(out["y"][0], np.ndarray)
        np.testing.assert_array_equal(out["x"], np.arange(s, s + 4) * 2.0)
        np.testing.assert_array_equal(out["y"][0], np.full(3, float(s)))


def test_at_most_depth_dispatched_ahead_of_the_consumer():
    dispatched = []

    def calls():
        for s in range(6):
            yield s, (lambda s=s: dispatched.append(s) or jnp.asarray(s))

    seen = []
    for tag, _ in pipelined(calls(), depth=2):
        seen.append(tag)
        # when chunk `tag` is handed over, chunks up to tag + 1 have been dispatched, none further
        assert max(dispatched) == min(tag + 1, 5)
    assert seen == list(range(6))


def test_depth_must_be_positive():
    with pytest.raises(ValueError, match="depth"):
        list(pipelined([], depth=0))


def test_runner_times_the_steady_chunks_apart_from_the_first():
    """simulate_paths on 3 chunks: steady_seconds covers chunks 2-3 only (inside the run's time, after the first chunk's).
    No fan paths, so every chunk is a packed one (tests/test_fan_paths.py runs the fan paths' chunks)."""
    from pathlib import Path

    from engine.compile import compile_model
    from engine.runner import simulate_paths
    from engine.scenario.load import load_scenario

    model = compile_model(load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "bench" / "reference.toml"))
    run = simulate_paths(model, n_paths=3 * 256, seed=0, chunk_paths=256, fan_paths=0)
    assert run.first_chunk_paths == 256
    assert 0.0 < run.steady_seconds < run.seconds - run.compile_seconds
    one = simulate_paths(model, n_paths=256, seed=0, chunk_paths=256, fan_paths=0)
    assert one.steady_seconds == 0.0  # one chunk: nothing after the first


def test_path_arrays_fill_in_place_views_of_one_buffer():
    """Three chunks of 4 rows (the last keeps 2) into 10 paths; mixed dtypes and trailing shapes; every key a
    contiguous, 64-byte aligned view of one buffer; keys first seen later get arrays of their own."""
    from engine.chunk_loop import PathArrays

    pa = PathArrays(10)
    for start, keep in ((0, 4), (4, 4), (8, 2)):
        rows = np.arange(start, start + 4)
        pa.put(start, {"a": rows.astype(np.float32), "b": np.stack([rows, -rows], 1).reshape(4, 2, 1).astype(np.float64),
                       "i": rows.astype(np.int32)[:, None]}, keep)
    np.testing.assert_array_equal(pa.arrays["a"], np.arange(10, dtype=np.float32))
    np.testing.assert_array_equal(pa.arrays["b"][:, :, 0], np.stack([np.arange(10), -np.arange(10)], 1))
    np.testing.assert_array_equal(pa.arrays["i"][:, 0], np.arange(10))
    assert pa.arrays["b"].shape == (10, 2, 1) and pa.arrays["i"].dtype == np.int32
    def root(v):
        while v.base is not None:
            v = v.base
        return v

    assert len({id(root(v)) for v in pa.arrays.values()}) == 1  # one allocation
    for v in pa.arrays.values():
        assert v.flags["C_CONTIGUOUS"] and v.ctypes.data % PathArrays.ALIGN == 0
    pa.put(0, {"late": np.ones(4)}, 4)
    assert pa.arrays["late"].shape == (10,) and (pa.arrays["late"][:4] == 1).all()


def test_packed_layout_round_trip():
    """engine/packing.Layout: pack on the device, unpack on the host; every value back unchanged, in place."""
    from engine.packing import Layout

    rng = np.random.default_rng(0)
    tree = {"z": rng.normal(size=(6, 2, 3)).astype(np.float32), "a": rng.normal(size=(6,)).astype(np.float32),
            "m": rng.normal(size=(6, 1)).astype(np.float32)}
    layout = Layout.of(tree)
    assert layout.width == 6 + 1 + 1  # z: 2 x 3 columns, a: 1, m: 1
    packed = np.asarray(layout.pack({k: jnp.asarray(v) for k, v in tree.items()}))
    assert packed.shape == (8, 6)  # (K, B): each key's values contiguous
    back = layout.unpack(packed)
    assert set(back) == set(tree)
    for k in tree:
        assert back[k].shape == tree[k].shape
        np.testing.assert_array_equal(back[k], tree[k])


def test_inputs_table_from_varying_columns_equals_every_drawn_input():
    """A gathered run keeps only the varying inputs per path (engine.runner.InputColumns); its (P, N) table equals,
    bit for bit, the full (B, N) inputs of the unpacked chunk function (fixed values included), on the bench
    reference (5 drawn and 14 fixed inputs), and its fixed columns equal the scenario's values."""
    from pathlib import Path

    from engine.compile import compile_model
    from engine.runner import sharded_chunk_fn, simulate_paths, varying_inputs
    from engine.scenario.load import load_scenario

    model = compile_model(load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "bench" / "reference.toml"))
    run = simulate_paths(model, n_paths=256, seed=4, chunk_paths=128, fan_paths=64)
    fn = sharded_chunk_fn(model, jnp.float32, monthly=False, chunk_paths=128)
    parts = [fn(jnp.uint32(4), np.uint32(s)) for s in (0, 128)]
    theta = np.concatenate([np.asarray(p[2]) for p in parts])
    pidx = np.concatenate([np.asarray(p[3]) for p in parts])
    vary = varying_inputs(model)
    assert 0 < len(vary) < len(model.inputs)  # not vacuous: both kinds present
    assert run.inputs.dtype == np.float32 and run.inputs.shape == (256, len(model.inputs))
    np.testing.assert_array_equal(run.inputs, theta)
    np.testing.assert_array_equal(run.posterior_index, pidx)
    fixed = [i for i in range(len(model.inputs)) if i not in set(vary.tolist())]
    want = np.array([model.inputs[i].dist.value for i in fixed], np.float32)
    np.testing.assert_array_equal(run.inputs[:, fixed], np.broadcast_to(want, (256, len(fixed))))


def test_reserved_path_arrays_are_filled_by_put_and_never_overwritten_by_the_page_toucher():
    """PathArrays.reserve allocates before any chunk and writes zeros to its pages on a thread; put waits for
    that thread first, so every value put is kept (100,000 rows: the buffer spans many pages); the
    arrays reserved are the arrays filled (no second allocation); host_shapes gives reserve's argument."""
    from engine.chunk_loop import PathArrays
    from engine.packing import Layout

    n, B = 100_000, 4096
    layout = Layout.of({"x": np.zeros((B, 2), np.float32), "y": np.zeros((B,), np.float32)})
    pa = PathArrays(n)
    pa.reserve(layout.host_shapes(np.float32))
    reserved = {k: v.ctypes.data for k, v in pa.arrays.items()}
    assert {k: (v.shape, v.dtype) for k, v in pa.arrays.items()} == {"x": ((n, 2), np.float32), "y": ((n,), np.float32)}
    for start in range(0, n, B):
        rows = np.arange(start, start + B, dtype=np.float32) + 1.0  # never 0: a zero left by the toucher would show
        pa.put(start, layout.unpack(np.stack([rows, -rows, 2 * rows])), min(B, n - start))
    assert {k: v.ctypes.data for k, v in pa.arrays.items()} == reserved
    expect = np.arange(n, dtype=np.float32) + 1.0
    np.testing.assert_array_equal(pa.arrays["x"], np.stack([expect, -expect], 1))
    np.testing.assert_array_equal(pa.arrays["y"], 2 * expect)
    pa.reserve(layout.host_shapes(np.float32))  # already there: nothing new, values kept
    np.testing.assert_array_equal(pa.arrays["y"], 2 * expect)


def test_host_shards_of_an_unsharded_array_is_the_whole_array():
    """One device (the test processes pin one): a single block at offset 0 with the array's values. The
    two-device blocks are checked end to end, path by path, in tests/test_multi_device.py."""
    from engine.chunk_loop import host_shards

    x = jnp.arange(12.0).reshape(3, 4)
    blocks = host_shards(x, axis=1)
    assert len(blocks) == 1 and blocks[0][0] == 0
    np.testing.assert_array_equal(blocks[0][1], np.arange(12.0).reshape(3, 4))
    assert host_shards(np.ones(3), axis=0)[0][0] == 0  # a NumPy value passes through
