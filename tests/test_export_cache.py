"""engine/export_cache.py: a chunk function served from its exported program gives the traced function's
numbers bit for bit, is not traced again, and a stale, corrupt or disabled cache never serves a wrong program.

Exact equality is the contract (the exported program is the traced function's own StableHLO), so the
tolerance is zero.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RACKRISK_JAX_CACHE", str(tmp_path / "jax"))
    return tmp_path / "jax" / "export"


def _counted(traces: list):
    """A small function of (seed, start, ModelArgs-like dict) that counts its traces."""
    import jax.numpy as jnp

    def call(seed, start, args):
        traces.append(1)
        return {"y": jnp.sin(args["x"] * start.astype(jnp.float32)) + seed.astype(jnp.float32)}

    return call


def test_second_serving_reads_the_program_and_does_not_trace(cache):
    import jax.numpy as jnp

    from engine.export_cache import served

    traces: list = []
    args = (np.uint32(3), np.uint32(7), {"x": jnp.arange(5, dtype=jnp.float32)})
    run1, side1 = served(_counted(traces), ("toy", 1), args, side=lambda: {"layout": len(traces)})
    out1 = np.asarray(run1(*args)["y"])
    assert len(traces) == 1 and side1 == {"layout": 1} and len(list(cache.glob("*.bin"))) == 1
    run2, side2 = served(_counted(traces), ("toy", 1), args, side=lambda: "not read on a hit")
    out2 = np.asarray(run2(*args)["y"])
    assert len(traces) == 1  # served from the file: no trace
    assert side2 == {"layout": 1}  # the side value stored with the program
    np.testing.assert_array_equal(out2, out1)
    np.testing.assert_array_equal(out1, np.sin(np.arange(5, dtype=np.float32) * np.float32(7)) + np.float32(3))


def test_another_key_engine_or_shape_is_another_file(cache, monkeypatch):
    import jax.numpy as jnp

    import engine.export_cache as ec

    args = (np.uint32(0), np.uint32(0), {"x": jnp.zeros(5, jnp.float32)})
    base = ec.file_for(("toy", 1), args)
    assert ec.file_for(("toy", 1), args) == base  # deterministic
    assert ec.file_for(("toy", 2), args) != base
    assert ec.file_for(("toy", 1), (np.uint32(0), np.uint32(0), {"x": jnp.zeros(6, jnp.float32)})) != base
    monkeypatch.setattr(ec, "engine_digest", lambda: "an edited engine")
    assert ec.file_for(("toy", 1), args) != base


def test_corrupt_file_is_ignored_and_rewritten(cache):
    import jax.numpy as jnp

    from engine.export_cache import file_for, served

    args = (np.uint32(1), np.uint32(2), {"x": jnp.ones(4, jnp.float32)})
    path = file_for(("toy", "corrupt"), args)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a pickle")
    traces: list = []
    run, _ = served(_counted(traces), ("toy", "corrupt"), args)
    np.testing.assert_array_equal(np.asarray(run(*args)["y"]), np.sin(np.full(4, 2, np.float32)) + np.float32(1))
    assert len(traces) == 1 and path.read_bytes() != b"not a pickle"


def test_cache_off_writes_nothing(tmp_path, monkeypatch):
    import jax.numpy as jnp

    from engine.export_cache import cache_root, served

    monkeypatch.setenv("RACKRISK_JAX_CACHE", "off")
    assert cache_root() is None
    traces: list = []
    args = (np.uint32(1), np.uint32(2), {"x": jnp.ones(3, jnp.float32)})
    run, side = served(_counted(traces), ("toy", "off"), args, side=lambda: "traced")
    np.testing.assert_array_equal(np.asarray(run(*args)["y"]), np.sin(np.full(3, 2, np.float32)) + np.float32(1))
    assert side == "traced" and not any(tmp_path.rglob("*.bin"))


def test_chunk_functions_served_from_the_cache_equal_the_traced_ones(cache):
    """The bench reference's packed and monthly chunk functions, traced and exported (first serving) and read
    back in a fresh in-process cache (second serving): the same per-path results, months and layout."""
    import jax.numpy as jnp

    from engine import compiled
    from engine.chunk_fns import _packed_chunk_fn, sharded_chunk_fn
    from engine.compile import compile_model
    from engine.scenario.load import load_scenario

    model = compile_model(load_scenario(ROOT / "scenarios" / "bench" / "reference.toml"))
    outs = []
    for _ in range(2):
        compiled.clear()  # a new process's in-memory cache: the second serving reads the files
        packed, layouts = _packed_chunk_fn(model, jnp.float32, 256)
        monthly = sharded_chunk_fn(model, jnp.float32, monthly=True, chunk_paths=256)
        values, pidx = packed(jnp.uint32(9), np.uint32(512))
        res, months, theta, _ = monthly(jnp.uint32(9), np.uint32(512))
        outs.append((layouts[-1], np.asarray(values), np.asarray(pidx), {k: np.asarray(v) for k, v in res.items()},
                     {k: np.asarray(v) for k, v in months.items()}, np.asarray(theta)))
    assert len(list(cache.glob("*.bin"))) == 2
    (lay1, v1, p1, r1, m1, t1), (lay2, v2, p2, r2, m2, t2) = outs
    assert lay1 == lay2
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(t1, t2)
    for k in r1:
        np.testing.assert_array_equal(r1[k], r2[k], err_msg=k)
    for k in m1:
        np.testing.assert_array_equal(m1[k], m2[k], err_msg=k)
    np.testing.assert_array_equal(lay1.unpack(v1)["npv_usd"], r1["npv_usd"])  # packed and monthly agree too
