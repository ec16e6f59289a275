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
    """simulate_paths on 3 chunks: steady_seconds covers chunks 2-3 only (inside the run's time, after the first chunk's)."""
    from pathlib import Path

    from engine.compile import compile_model
    from engine.runner import simulate_paths
    from engine.scenario.load import load_scenario

    model = compile_model(load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "bench" / "reference.toml"))
    run = simulate_paths(model, n_paths=3 * 256, seed=0, chunk_paths=256, fan_paths=64)
    assert run.first_chunk_paths == 256
    assert 0.0 < run.steady_seconds < run.seconds - run.compile_seconds
    one = simulate_paths(model, n_paths=256, seed=0, chunk_paths=256, fan_paths=64)
    assert one.steady_seconds == 0.0  # one chunk: nothing after the first
