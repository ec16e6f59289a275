"""Reverse stress test and common-random-number differences, against closed forms.

Scenario (tests/_util.py, float64): one H100 cohort of 100 GPUs bought at the start, capex
$28,032, 24-month life, no salvage, no costs, no failures, utilization 1, no drift or volatility,
flat forecast, tests only on launch. A B200 launch ships at month 6 and cuts the H100 price by x.
At the end of month 6 the carrying amount is 100 x 28,032 x 18/24 = $2,102,400 and the
undiscounted forecast is 18 months x 100 GPUs x 730 h x P0 (1 - x); ASC 360 step 1 fails iff
P0 (1 - x) < 2,102,400 / (18 x 73,000) = 1.6 $/GPU-hour = capex / (life x hours). With the start
price P0 ~ uniform(1, 3):

    P(impairment | x) = (1.6 / (1 - x) - 1) / 2      for 1.6 / (1 - x) in [1, 3]

which equals 0.5 at x* = 1 - 1.6 / 2 = 0.2, with slope dP/dx = 1.6 / (2 (1 - x)^2) = 1.25 there.
"""

from __future__ import annotations

import math

import numpy as np

from tests._util import run, write_scenario

LAUNCH = """
[[next_gen.launch]]
generation = "B200"
ship_months_from_start = 6
undercut_frac = { default = 0.1 }
"""
PATHS = 4000
KW = dict(price='{ dist = "uniform", low = 1.0, high = 3.0 }', decline=0.0, vol=0.0, util=1.0, afr=0.0, test_every=0, trigger_on_launch="true",
          horizon=24, extra=LAUNCH)


def _closed_form(x: float) -> float:
    return min(max((1.6 / (1.0 - x) - 1.0) / 2.0, 0.0), 1.0)


def test_reverse_stress_recovers_closed_form_threshold(tmp_path) -> None:
    from engine.compile import compile_model
    from engine.scenario.load import load_scenario
    from engine.sensitivity.override import Evaluator
    from engine.stress.metrics import resolve
    from engine.stress.reverse import reverse_stress

    path = write_scenario(tmp_path, **KW)
    model = compile_model(load_scenario(path))
    ev = Evaluator(model, dtype="float64")
    _, fn = resolve(model, "p_impairment_asc360")
    j = ev.index("next_gen.B200.undercut_frac.default")
    paths = np.arange(PATHS)
    # the engine's P(impairment | x) on a grid, against the closed form: SE sqrt(p (1 - p) / P) <= 0.0079; 5 SE
    for x in (0.0, 0.2, 0.35):
        p = ev.metric_at(fn, seed=7, paths=paths, j=j, value=x).mean()
        assert abs(p - _closed_form(x)) < 5 * math.sqrt(0.25 / PATHS), (x, p)
    res = reverse_stress(lambda x: ev.metric_at(fn, seed=7, paths=paths, j=j, value=x), input_name="u", metric="p", threshold=0.5, lo=0.0, hi=0.9)
    assert res.status == "crossed" and res.increasing
    # SE of x*: SE of p at 0.5 / slope = sqrt(0.25 / 4000) / 1.25 = 0.0063; 5 SE plus the bisection step 0.9/512
    se_x = math.sqrt(0.25 / PATHS) / 1.25
    assert abs(res.x_star - 0.2) < 5 * se_x + 0.9 / 512, res.x_star
    lo, hi = res.ci
    assert lo < res.x_star < hi
    # the test-inversion interval is about +-1.96 SE_x wide (to within the bisection step and the SE's own noise)
    assert 0.6 * 2 * 1.96 * se_x < hi - lo < 1.6 * 2 * 1.96 * se_x, (lo, hi, se_x)
    assert lo - 0.9 / 512 <= 0.2 <= hi + 0.9 / 512  # covers the truth (pinned seed 7)


def test_crn_difference_has_smaller_se_than_independent_runs(tmp_path) -> None:
    """A 10 % price drop from month 3 vs the base, same seed: the paired SE is far below the independent
    one, and the CRN Delta agrees with the Delta of two independent runs (other seed) within 5 SE."""
    from engine.stress.compare import compare_runs, paired
    from engine.stress.metrics import metric_table

    kw = dict(price='{ dist = "uniform", low = 1.0, high = 3.0 }', vol=0.05, util='{ dist = "uniform", low = 0.6, high = 1.0 }', test_every=3, horizon=24)
    base = write_scenario(tmp_path, "base.toml", **kw)
    stress = write_scenario(tmp_path, "stress.toml", extra='[[stress.shock]]\nkind = "price_drop"\nmonth = "2026-03"\ndrop_frac = 0.1\n', **kw)
    n = 2000
    rb, rs = run(base, paths=n, seed=11), run(stress, paths=n, seed=11)
    cmp = compare_runs(rb, [rs], ["drop"])
    row = next(r for r in cmp.rows if r["metric"] == "expected_impairment_loss_usd_asc360")
    assert row["delta"] > 0
    assert row["se_delta_crn"] < 0.5 * row["se_delta_independent"], row  # at least a 4x variance reduction
    assert cmp.crn["drop"]["changed"] == [] and cmp.crn["drop"]["new"] == []
    # independent runs: the stress with another seed
    ri = run(stress, paths=n, seed=12)
    fn = metric_table(rb.model)["expected_impairment_loss_usd_asc360"][1]
    ind = paired(fn(rb.run), fn(ri.run))  # not paired in truth: only its means and se_independent are used
    assert abs(ind["delta"] - row["delta"]) < 5 * math.hypot(ind["se_delta_independent"], row["se_delta_crn"])
