"""Sensitivity tools against independent computations.

Scenario (tests/_util.py, float64): one H100 cohort, start price ~ U(1.5, 2.5), utilization ~
U(0.5, 0.9), decline 1 %/month, volatility 5 %/month, no failures, quarterly tests, no triggers;
break-even price at full utilization capex / (life x hours) = 28,032 / (24 x 730) = 1.6 $/GPU-h,
so about half the paths are impaired.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests._util import write_scenario

KW = dict(price='{ dist = "uniform", low = 1.5, high = 2.5 }', util='{ dist = "uniform", low = 0.5, high = 0.9 }', decline=0.01, vol=0.05, afr=0.0,
          test_every=3, standards='["asc360", "ias36"]', horizon=24)
SEED = 5


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from engine.compile import compile_model
    from engine.scenario.load import load_scenario

    return compile_model(load_scenario(write_scenario(tmp_path_factory.mktemp("sens"), **KW)))


def test_evaluator_without_overrides_is_the_plain_run(model) -> None:
    """The override evaluator draws exactly what `rackrisk run` draws (same keys): per-path scalars equal."""
    from engine.runner import simulate_paths
    from engine.sensitivity.override import Evaluator

    ref = simulate_paths(model, n_paths=300, seed=SEED, dtype="float64", chunk_paths=128, fan_paths=8)
    got = Evaluator(model, dtype="float64", chunk_paths=100).evaluate(seed=SEED, paths=np.arange(300))
    np.testing.assert_allclose(got.inputs, ref.inputs, rtol=1e-13)
    for k in ("impairment_loss_usd", "npv_usd", "first_impairment_month"):
        np.testing.assert_allclose(got.scalars[k], ref.scalars[k], rtol=1e-10, atol=1e-6, err_msg=k)


def test_pathwise_gradients_match_crn_finite_differences(model) -> None:
    """Each autodiff elasticity against a central CRN finite difference (+-1 % of the input, same paths).

    Tolerance: 5 x sqrt(SE_pathwise^2 + SE_fd^2) (both SEs from the per-path / per-batch spread; the
    two are computed on the same paths, so this is conservative), plus 1 % of the value for the
    finite difference's truncation error (O(delta^2) = 1e-4 relative, far below)."""
    from engine.sensitivity.gradients import fd_elasticity, pathwise_elasticities, smooth_metric_values, tau_usd
    from engine.sensitivity.override import Evaluator

    paths = np.arange(1200)
    pw = pathwise_elasticities(model, seed=SEED, paths=paths, dtype="float64", batches=12)
    ev = Evaluator(model, dtype="float64")
    tau = tau_usd(model)
    checked = 0
    for metric in ("expected_impairment_loss_usd_ias36", "expected_npv_usd", "p_impairment_ias36_smoothed"):
        rows = {r["input"]: r for r in pw["metrics"][metric]["rows"]}
        fn = lambda run, m=metric: smooth_metric_values(run.scalars, tau)[m]  # noqa: E731
        for name in ("market.H100.price_usd_per_gpu_hour", "demand.utilization_frac", "market.H100.decline_rate_per_month"):
            fd = fd_elasticity(ev, fn, ev.index(name), seed=SEED, paths=paths)
            g = rows[name]["dM_dlog_input"]
            tol = 5 * math.hypot(rows[name]["se"], fd["se"]) + 0.01 * abs(fd["dM_dlog_input"])
            assert abs(g - fd["dM_dlog_input"]) < tol, (metric, name, g, fd)
            print(f"{metric:38s} {name:38s} autodiff {g:+.6g} (se {rows[name]['se']:.3g})  CRN FD {fd['dM_dlog_input']:+.6g} (se {fd['se']:.3g})")
            checked += 1
    assert checked == 9
    # the additive per-sd derivative of the loss in the start price (sd of U(1.5, 2.5) = 1/sqrt(12) = 0.289)
    from engine.sensitivity.gradients import fd_per_sd

    r = {x["input"]: x for x in pw["metrics"]["expected_impairment_loss_usd_ias36"]["rows"]}["market.H100.price_usd_per_gpu_hour"]
    assert abs(r["input_sd"] - 1 / math.sqrt(12)) < 5 * (1 / math.sqrt(12)) / math.sqrt(2 * 1200)  # SE of a sample sd ~ sd / sqrt(2 n)
    fd = fd_per_sd(ev, lambda run: smooth_metric_values(run.scalars, tau)["expected_impairment_loss_usd_ias36"], ev.index("market.H100.price_usd_per_gpu_hour"),
                   r["input_sd"], seed=SEED, paths=paths)
    assert abs(r["dM_per_sd"] - fd["dM_per_sd"]) < 5 * math.hypot(r["dM_per_sd_se"], fd["se"]) + 0.01 * abs(fd["dM_per_sd"]), (r, fd)
    # signs a reader can check: a higher start price lowers the loss and raises the NPV (whose mean is
    # negative here, so its elasticity is negative: the derivative is the quantity with a sign to check)
    loss_rows = {r["input"]: r for r in pw["metrics"]["expected_impairment_loss_usd_ias36"]["rows"]}
    npv_rows = {r["input"]: r for r in pw["metrics"]["expected_npv_usd"]["rows"]}
    assert loss_rows["market.H100.price_usd_per_gpu_hour"]["dM_dlog_input"] < 0 < npv_rows["market.H100.price_usd_per_gpu_hour"]["dM_dlog_input"]


def test_tornado_moves_one_input_at_a_time(model) -> None:
    """At p10/p90 of U(1.5, 2.5) the start price is 1.6 / 2.4 on every path; the loss falls with the price."""
    from engine.sensitivity.override import Evaluator
    from engine.sensitivity.tornado import tornado
    from engine.stress.metrics import metric_table

    ev = Evaluator(model, dtype="float64")
    mt = metric_table(model)
    res = tornado(ev, {k: mt[k][1] for k in ("expected_impairment_loss_usd_ias36", "p_impairment_asc360")}, seed=SEED, paths=np.arange(600),
                  rank_by="expected_impairment_loss_usd_ias36")
    rows = {r["input"]: r for r in res["rows"]}
    assert set(rows) == {"market.H100.price_usd_per_gpu_hour", "demand.utilization_frac"}  # the random inputs
    p = rows["market.H100.price_usd_per_gpu_hour"]
    assert p["x_p10"] == pytest.approx(1.6, abs=1e-9) and p["x_p90"] == pytest.approx(2.4, abs=1e-9)
    m = p["metrics"]["expected_impairment_loss_usd_ias36"]
    assert m["at_p10"] > res["base"]["expected_impairment_loss_usd_ias36"] > m["at_p90"]
