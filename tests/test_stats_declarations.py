"""summary.json's statistics are declared once (engine/stats/declarations.py) and evaluated by two backends.

The exact route (per-path results gathered on the host) and the streamed route (reductions on the
device, engine/reduce.py) evaluate the same plan: the same keys in the same order by construction, and a
statistic added to the declaration appears in both. Streaming is switched on for a small run by
lowering ``engine.reduce.EXACT_MAX_PATHS`` (as tests/test_streaming.py does).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import engine.reduce as R
from engine.app import run_scenario
from engine.stats import summarize_exact, summarize_streamed
from engine.stats.declarations import STATISTICS, Leaf, Statistic, summary_plan
from engine.summary import summarize
from engine.summary_stream import summarize_streamed as summarize_streamed_wrapper

BASELINE = "scenarios/baseline.toml"  # both standards, tokens and cloud prices: every conditional statistic is reported
N_PATHS = 512


@pytest.fixture(scope="module")
def pair():
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(R, "EXACT_MAX_PATHS", 10**9)
        gathered = run_scenario(BASELINE, paths=N_PATHS, seed=11, store="summary", write=False)
        mp.setattr(R, "EXACT_MAX_PATHS", 0)
        streamed = run_scenario(BASELINE, paths=N_PATHS, seed=11, store="summary", write=False)
    finally:
        mp.undo()
    assert gathered.run.reduced is None and streamed.run.reduced is not None
    return gathered, streamed


def _key_tree(plan_or_summary, plan):
    """The summary's keys down to the plan's leaves (a leaf's value may itself be a dict, e.g. month labels)."""
    if isinstance(plan, Leaf):
        return "leaf"
    assert isinstance(plan_or_summary, dict)
    return [(k, _key_tree(plan_or_summary[k], plan[k])) for k in plan_or_summary]


def test_both_routes_report_the_declared_keys_in_order(pair):
    gathered, streamed = pair
    model = gathered.model
    plan = summary_plan(model, model.standards)
    expect = _key_tree(plan, plan)
    for r in (gathered, streamed):
        got = {k: r.summary[k] for k in ("fleet", "cohorts")}
        assert _key_tree(got, plan) == expect
    # every declared statistic is reported somewhere (the baseline meets every condition)
    reported = set(plan["fleet"]) | {k for c in plan["cohorts"].values() for k in c}
    declared = {s.key.format(std=std) for s in STATISTICS for std in model.standards} | {s.key for s in STATISTICS if not s.per_standard}
    assert declared == reported
    # the wrappers the callers use are the backends
    same = lambda a, b: json.dumps(a) == json.dumps(b)  # noqa: E731  (text: NaN != NaN under ==)
    assert same(summarize(model, gathered.run, standards=model.standards), summarize_exact(model, gathered.run.scalars, standards=model.standards))
    assert same(summarize_streamed_wrapper(model, streamed.run.reduced, N_PATHS, standards=model.standards),
                summarize_streamed(model, streamed.run.reduced, N_PATHS, standards=model.standards))


ADDED = (
    # a cohort statistic of an existing per-path result; a per-standard statistic (after a row that is not,
    # so a group of its own: asc360's, then ias36's); a fleet and cohort statistic of an existing fleet value
    Statistic("expected_gpu_hours_sold", "mean", "gpu_hours_sold", None, "GPU-hour"),
    Statistic("p_impaired_{std}_again", "probability", "first_impairment_month", "fleet_first_impairment_month", "fraction of paths"),
    Statistic("npv_deciles_usd", "quantiles", "npv_usd", "fleet_npv_usd", "USD", qs=(0.1, 0.9)),
)


def test_a_statistic_added_to_the_declaration_appears_in_both_routes(pair):
    gathered, streamed = pair
    model = gathered.model
    stats = STATISTICS + ADDED
    g = summarize_exact(model, gathered.run.scalars, standards=model.standards, stats=stats)
    s = summarize_streamed(model, streamed.run.reduced, N_PATHS, standards=model.standards, stats=stats)
    scal = gathered.run.scalars
    widths = {k: [c.quantile_error_bound(j) for j in range(c.plan.c.size)] for k, c in streamed.run.reduced.items()}
    for c, name in enumerate(model.cohorts):
        for route in (g, s):
            assert {"expected_gpu_hours_sold", "npv_deciles_usd", "p_impaired_asc360_again", "p_impaired_ias36_again"} <= set(route["cohorts"][name])
        # exact: the float64 mean of the gathered column (np.mean sums pairwise, the estimator too: rel 1e-12
        # leaves room for a different summation order only)
        x = scal["gpu_hours_sold"][:, c].astype(np.float64)
        assert g["cohorts"][name]["expected_gpu_hours_sold"]["value"] == pytest.approx(x.mean(), rel=1e-12)
        # streamed: the same mean up to float32 block sums (engine/reduce.py: <= 5e-7 sd; rel 1e-5 as tests/test_streaming.py)
        assert s["cohorts"][name]["expected_gpu_hours_sold"]["value"] == pytest.approx(x.mean(), rel=1e-5)
        # a probability is an exact count in both routes: the same number
        for s_i, std in enumerate(("asc360", "ias36")):
            k = f"p_impaired_{std}_again"
            count = int((scal["first_impairment_month"][:, s_i, c] > 0).sum())
            assert g["cohorts"][name][k]["value"] == s["cohorts"][name][k]["value"] == count / N_PATHS
            assert g["cohorts"][name][k] == g["cohorts"][name][f"p_impairment_{std}"]["horizon"]
        # a value quantile: numpy's over the gathered paths; streamed within one histogram bin of it
        w = widths["npv_usd"][c]
        for q, key in ((0.1, "p10"), (0.9, "p90")):
            exact = float(np.quantile(scal["npv_usd"][:, c].astype(np.float64), q))
            assert g["cohorts"][name]["npv_deciles_usd"][key]["value"] == exact
            assert abs(s["cohorts"][name]["npv_deciles_usd"][key]["value"] - exact) <= w
    assert "expected_gpu_hours_sold" not in g["fleet"] and "expected_gpu_hours_sold" not in s["fleet"]  # declared for cohorts only
    fleet_npv = scal["npv_usd"].astype(np.float64).sum(axis=1)
    for q, key in ((0.1, "p10"), (0.9, "p90")):
        assert g["fleet"]["npv_deciles_usd"][key]["value"] == float(np.quantile(fleet_npv, q))
        assert abs(s["fleet"]["npv_deciles_usd"][key]["value"] - g["fleet"]["npv_deciles_usd"][key]["value"]) <= widths["fleet_npv_usd"][0]
    # the added statistics take their declared places, the same in both routes
    assert list(g["fleet"]) == list(s["fleet"])
    assert list(g["fleet"])[-5:] == ["expected_immaterial_impairment_loss_usd_ias36", "p_opening_book_unrecoverable_ias36",
                                     "p_impaired_asc360_again", "p_impaired_ias36_again", "npv_deciles_usd"]
    assert list(g["cohorts"][model.cohorts[0]])[-4:] == ["expected_gpu_hours_sold", "p_impaired_asc360_again", "p_impaired_ias36_again", "npv_deciles_usd"]


def test_one_standard_drops_the_other_standards_keys_in_both_routes(pair):
    gathered, streamed = pair
    model = gathered.model
    g = summarize_exact(model, gathered.run.scalars, standards=("ias36",))
    s = summarize_streamed(model, streamed.run.reduced, N_PATHS, standards=("ias36",))
    for route in (g, s):
        keys = list(route["fleet"]) + [k for c in route["cohorts"].values() for k in c]
        assert not [k for k in keys if "asc360" in k]
        assert "expected_reversal_usd_ias36" in route["fleet"] and "p_material_impairment_ias36" in route["fleet"]
    assert list(g["fleet"]) == list(s["fleet"])
    assert [list(c) for c in g["cohorts"].values()] == [list(c) for c in s["cohorts"].values()]


def test_unknown_kind_is_refused_naming_the_statistic(pair):
    model = pair[0].model
    bad = STATISTICS + (Statistic("npv_mode_usd", "mode", "npv_usd", "fleet_npv_usd", "USD"),)
    with pytest.raises(ValueError, match="npv_mode_usd.*mode"):
        summary_plan(model, model.standards, bad)


def test_streamed_given_statistics_follow_their_contract():
    """``mean_given`` and ``quantile_given`` from reductions (engine/stats/streamed.py) against the exact
    backend on one chunk: a source that is NaN off the paths with an event (a facility's LGD) or 0 there
    (a loss) gives the exact mean given the event up to float32 block sums (rel 1e-5, as
    tests/test_streaming.py: <= 5e-7 sd per block), and the NaN-off source the quantiles given the event
    within one histogram bin; a source finite off those paths is refused for quantiles (its histogram
    mixes in the other paths)."""
    import jax.numpy as jnp

    from engine.stats.declarations import Source
    from engine.stats.exact import ExactReduction
    from engine.stats.streamed import StreamedReduction

    rng = np.random.default_rng(7)
    B = 512  # two reduction blocks of 256 paths
    month = np.where(rng.random(B) < 0.3, rng.integers(1, 60, B), 0).astype(np.float32)
    res = {
        "month": month,
        "lgd": np.where(month > 0, rng.uniform(0.1, 0.9, B), np.nan).astype(np.float32),
        "loss": np.where(month > 0, rng.gamma(2.0, 1e6, B), 0.0).astype(np.float32),
    }
    plans = R.plan_from_pilot(res)
    arrays = R.plan_arrays(plans)
    hist0 = jnp.zeros((1, R.packed_width(arrays), R.BINS + 3), jnp.int32)
    blocks, counts, extrema, hist = R.reduce_chunk_packed({k: jnp.asarray(v) for k, v in res.items()}, jnp.ones(B, bool), arrays, jnp.float32, hist0)
    acc = R.Accumulator(plans)
    acc.add_packed(np.asarray(blocks), np.asarray(counts), np.asarray(extrema))
    acc.add_hist(np.asarray(hist))
    streamed, exact = StreamedReduction(acc.cols, B), ExactReduction(res)
    given = Source("month")
    n_hit = int((month > 0).sum())
    assert 100 < n_hit < 220  # about 0.3 x 512 = 154 paths with an event: both sides of the condition exercised
    for key in ("lgd", "loss"):
        s, e = streamed.mean_given(Source(key), given), exact.mean_given(Source(key), given)
        assert s["value"] == pytest.approx(e["value"], rel=1e-5) and s["se"] == pytest.approx(e["se"], rel=1e-5)
    width = acc.cols["lgd"].quantile_error_bound(0)
    for q in (0.5, 0.95, 0.99):
        s, e = streamed.quantile_given(Source("lgd"), (given, q)), exact.quantile_given(Source("lgd"), (given, q))
        assert abs(s["value"] - e["value"]) <= width
    with pytest.raises(ValueError, match=f"quantile of loss given month > 0: {B} finite values on {n_hit} such paths"):
        streamed.quantile_given(Source("loss"), (given, 0.5))
