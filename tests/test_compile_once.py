"""Scenarios of one shape share one compiled chunk function and each keeps its own numbers (engine/compiled.py).

Two scenarios that differ only in numbers (a market price, a useful life) have the same static key,
so the runner takes the chunk function compiled for the first one from ``engine.compiled.cached``
(one trace, one XLA compilation: the jitted function's own cache holds one executable) and feeds it
the second one's numbers. Its results must equal, bit for bit, those of the second scenario compiled
alone in a fresh cache: the same program on the same arguments. A value that changes control flow
(``failures.draw``) must change the key instead.
"""

from __future__ import annotations

from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

from engine import compiled
from engine.compile import compile_model
from engine.runner import simulate_paths
from engine.scenario.load import load_scenario
from _util import reference_variant

N_PATHS = 64  # one chunk of 64 paths (engine.sharding.PATH_LANES): the smallest compiled shape

# numbers only: the price level and the useful life (schedules change, shapes do not)
NUMBERS = [("price_usd_per_gpu_hour = 2.50 ", "price_usd_per_gpu_hour = 3.10 "), ("useful_life_months = 72 ", "useful_life_months = 60 ")]
# contracts: the step without the no-contract specialisation
GENERAL = [("contracted_frac = 0.0 ", "contracted_frac = 0.2\ncontract_price_usd_per_gpu_hour = 2.0\ncontract_term_months = 24 ")]


def _model(tmp_path: Path, name: str, subs):
    return compile_model(load_scenario(reference_variant(tmp_path, name, subs)))


def _run(model):
    out = simulate_paths(model, n_paths=N_PATHS, seed=11, chunk_paths=N_PATHS, fan_paths=N_PATHS, store_full=True)
    return {**out.scalars, **{f"month_{k}": v for k, v in out.monthly.items()}}


@pytest.mark.parametrize("step", ["no_contracts", "contracts"])
def test_same_shape_reuses_one_compilation_and_keeps_its_numbers(tmp_path, step):
    base = [] if step == "no_contracts" else GENERAL
    a = _model(tmp_path, "a.toml", base)
    b = _model(tmp_path, "b.toml", base + NUMBERS)
    st_a, _ = compiled.split(a, jnp.float32)
    st_b, _ = compiled.split(b, jnp.float32)
    assert st_a.key == st_b.key
    assert st_a.flags["contracts"] == (step == "contracts")

    compiled.clear()
    run_a = _run(a)
    run_b = _run(b)
    assert compiled.stats == {"built": 1, "reused": 1}  # one chunk function (store_full: the monthly one), reused once
    (fn,) = compiled._CACHE.values()
    assert fn._cache_size() == 1  # one traced and compiled executable served both scenarios

    compiled.clear()
    alone_b = _run(b)  # b compiled on its own
    assert compiled.stats == {"built": 1, "reused": 0}
    assert set(alone_b) == set(run_b)
    for k in alone_b:
        np.testing.assert_array_equal(run_b[k], alone_b[k], err_msg=k)
    # and the numbers did reach the shared function: a higher price gives more revenue on every path
    assert np.all(run_b["revenue_usd"] > run_a["revenue_usd"])


def test_control_flow_flags_change_the_key(tmp_path):
    """``failures.draw`` picks the failure-count code at trace time: it is static, so it splits the cache."""
    a = _model(tmp_path, "a.toml", [])
    exact = _model(tmp_path, "exact.toml", [('draw = "normal"', 'draw = "exact"')])
    st_a, args_a = compiled.split(a, jnp.float32)
    st_e, _ = compiled.split(exact, jnp.float32)
    assert st_a.flags["failures_exact"] is False and st_e.flags["failures_exact"] is True
    assert st_a.key != st_e.key
    # the dtype is static too
    assert compiled.split(a, jnp.float64)[0].key != st_a.key
    # every number of the model is in the argument, in the run's dtype
    leaves = [np.asarray(x) for x in __import__("jax").tree.leaves(args_a)]
    assert leaves and all(x.dtype == np.float32 for x in leaves)


def test_streamed_reduction_is_shared_by_same_shape_scenarios(tmp_path):
    """The streamed route's reducing function (engine/stream_runner.py) reads the fleet's capital charges from the
    model's numbers (``ModelArgs``), so two scenarios of one shape share one compilation; the second scenario's
    streamed summary equals, byte for byte, that of its run compiled alone (the same program on the same numbers)."""
    import json

    from engine.summary_stream import summarize_streamed

    a = _model(tmp_path, "a.toml", [])
    b = _model(tmp_path, "b.toml", NUMBERS)

    def summary(model):
        out = simulate_paths(model, n_paths=2 * N_PATHS, seed=11, chunk_paths=N_PATHS, fan_paths=N_PATHS, stream=True)
        return json.dumps(summarize_streamed(model, out.reduced, 2 * N_PATHS, standards=model.standards), sort_keys=True, default=float)

    compiled.clear()
    summary(a)
    shared_b = summary(b)
    assert [k[0] for k in compiled._CACHE].count("stream") == 1  # one reducing function served both
    compiled.clear()
    assert summary(b) == shared_b
    assert shared_b != summary(a)  # the numbers reached it: another price, another summary


def test_policy_range_alternatives_share_the_run_key():
    """The policy range (engine/accounting/policy_range.py) values the run's first paths under other asset
    groups and disposal rules: each alternative of the baseline (4 cohorts on one site; used-market
    disposal) must have the run's static key, so that it runs the run's compiled function (no second
    program to compile or load). The group matrix is padded to C rows (engine.compiled.padded_groups) and
    the disposal rule is a number."""
    from dataclasses import replace

    from engine.accounting.policy_range import ALTERNATIVES, apply_alternative

    loaded = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml")
    st, args = compiled.split(compile_model(loaded), jnp.float32)
    assert args.accounting["group"].shape == (4, 4)  # one site group and three empty ones
    applied = []
    for alt in ALTERNATIVES:
        variant = apply_alternative(loaded.scenario, alt)
        if variant is not None:
            applied.append(alt.name)
            assert compiled.split(compile_model(replace(loaded, scenario=variant)), jnp.float32)[0].key == st.key, alt.name
    assert {"cohort_asset_groups", "book_salvage_disposal"} <= set(applied)
