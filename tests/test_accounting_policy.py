"""The impairment policy of issue 16, by hand: sized and sustained triggers, IAS 36 indicators at
reporting dates, contract loss, materiality by fiscal year, the opening-book check, used-market
disposal proceeds, the fair-value hierarchy, site asset groups and the policy range.

Every case is deterministic (zero volatility and failures, fixed inputs, float64), so each path is the
same and the expected numbers are hand arithmetic, written beside them; tolerances are half a cent
for amounts (float64 is exact far below it). The base scenario is tests/_util.py's one cohort:
100 H100 GPUs bought 2026-01 (the run start) at 28,032 USD, 24-month life, no salvage, 730 hours a
month, no operating costs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from _util import run, write_scenario

CENT = 0.005


def _scenario(tmp_path, replace: dict | None = None, extra: str = "", **kw):
    p = write_scenario(tmp_path, extra=extra, **{"standards": '["asc360", "ias36"]', **kw})
    text = p.read_text()
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    p.write_text(text)
    return p


def _tested_months(tmp_path, **kw) -> list[int]:
    r = run(_scenario(tmp_path, **kw), paths=2, seed=1, store="full")
    tested = np.asarray(r.run.monthly["tested"])[0, :, 0]
    return [t + 1 for t in np.flatnonzero(tested)]


def test_sustained_price_fall_triggers_asc_now_and_ias_at_the_next_reporting_date(tmp_path):
    # decline 5 %/month, no volatility: P_t = P_0 e^{-0.05 t}; below 0.8 P_0 once t > ln(1/0.8)/0.05 = 4.46, i.e. t = 5;
    # three consecutive months below -> the trigger fires at t = 7 (July): ASC 360 tests at t = 7, IAS 36 at the next
    # quarter-end reporting date, t = 9 (September). The reference resets to the price at the last test (either
    # standard), P_9: below 0.8 P_9 from t = 9 + 5 = 14, fired at t = 16 (ASC, Apr 2027) and tested by IAS at t = 18
    # (June). The next fall would fire at t = 25, past the 24-month horizon.
    months = _tested_months(tmp_path, decline=0.05, vol=0.0, test_every=0, replace={"trigger_price_drop_frac = 0\n": "trigger_price_drop_frac = 0.2\ntrigger_price_drop_months = 3\n"})
    assert months == [7, 9, 16, 18]


def test_a_launch_triggers_only_when_its_undercut_is_significant(tmp_path):
    # a B200 launch ships at 5.5 months (months t >= 5.5 are affected: first t = 6, June, a quarter end)
    def extra(cut):
        return f"""
[[next_gen.launch]]
generation = "B200"
ship_months_from_start = 5.5
undercut_frac = {{ default = {cut} }}
"""
    rep = {"trigger_launch_undercut_min_frac = 0\n": "trigger_launch_undercut_min_frac = 0.10\n"}
    assert _tested_months(tmp_path, decline=0.0, vol=0.0, test_every=0, trigger_on_launch="true", replace=rep, extra=extra(0.05)) == []  # 5 % < 10 %
    assert _tested_months(tmp_path, decline=0.0, vol=0.0, test_every=0, trigger_on_launch="true", replace=rep, extra=extra(0.15)) == [6]  # 15 % >= 10 %


def test_sustained_low_utilization_triggers_once_per_episode(tmp_path):
    # utilization 0.40 < floor 0.50 from t = 1: the third consecutive month is t = 3 (March, a reporting date): one test
    rep = {"trigger_utilization_below_frac = 0\n": "trigger_utilization_below_frac = 0.5\ntrigger_utilization_months = 3\n"}
    assert _tested_months(tmp_path, util=0.4, decline=0.0, vol=0.0, test_every=0, replace=rep) == [3]


def test_a_contract_ending_without_full_renewal_triggers(tmp_path):
    # half the capacity on a 6-month contract from 2026-01: the term's last month is t = 6 (June, a quarter end)
    def market(expiry, share):
        return {"volatility_per_month = 0.0\n": f"volatility_per_month = 0.0\ncontracted_frac = 0.5\ncontract_price_usd_per_gpu_hour = 2.0\n"
                f"contract_term_months = 6\ncontract_expiry = \"{expiry}\"\nrenewal_share_frac = {share}\n"}
    assert _tested_months(tmp_path, vol=0.0, decline=0.0, test_every=0, replace=market("renew", 0.8)) == [6]  # 20 % lost
    assert _tested_months(tmp_path, vol=0.0, decline=0.0, test_every=0, replace=market("renew", 1.0)) == []  # all renewed
    assert _tested_months(tmp_path, vol=0.0, decline=0.0, test_every=0, replace=market("market", 1.0)) == [6]  # all to spot


def _dec_test_case(tmp_path, materiality: float):
    # price 1.0 USD/GPU-h, utilization 1: run rate 100 x 730 x 1.0 = 73,000 USD a month. One test, December (t = 12):
    # CV = 2,803,200 x 12/24 = 1,401,600; undiscounted 12 x 73,000 = 876,000 < CV -> step 1 fails;
    # fair value (DCF at 10 %/yr) = 73,000 x A_12, A_12 = sum_{k=1..12} 1.1^(-k/12); loss = 1,401,600 - 73,000 x A_12.
    p = _scenario(tmp_path, price=1.0, vol=0.0, decline=0.0, test_every=12, replace={"[accounting]\n": f"[accounting]\nmateriality_frac = {materiality}\n"})
    r = run(p, paths=2, seed=1)
    a12 = sum(1.1 ** (-k / 12) for k in range(1, 13))
    return r, 1_401_600.0 - 73_000.0 * a12


def test_materiality_against_the_fleet_book_and_fiscal_years(tmp_path):
    r, loss = _dec_test_case(tmp_path, 0.05)
    assert abs(loss - 569_364.39) < 0.01  # A_12 = 11.400488: 73,000 x A_12 = 832,235.61 -> loss 569,364.39, 40.6 % of the book: material at 5 %
    s = r.run.scalars
    assert abs(s["impairment_loss_usd"][0, 0, 0] - loss) < CENT
    assert s["material_impairment_month"][0, 0] == 12
    np.testing.assert_array_equal(s["material_impairment_in_fiscal_year"][0, 0], [1.0, 0.0])  # FY2026, FY2027
    assert abs(s["material_impairment_loss_usd"][0, 0] - loss) < CENT and s["immaterial_impairment_loss_usd"][0, 0] == 0.0
    fleet = r.summary["fleet"]["p_material_impairment_asc360"]
    assert fleet["first_12_months"]["value"] == 1.0 and fleet["by_fiscal_year"]["FY2027"]["value"] == 0.0
    assert fleet["cumulative_by_fiscal_year_end"]["FY2027"]["value"] == 1.0


def test_a_loss_below_the_threshold_is_reported_apart(tmp_path):
    r, loss = _dec_test_case(tmp_path, 0.5)  # 40.6 % < 50 %: recognised, not material
    s = r.run.scalars
    assert s["material_impairment_month"][0, 0] == 0 and s["material_impairment_loss_usd"][0, 0] == 0.0
    assert abs(s["immaterial_impairment_loss_usd"][0, 0] - loss) < CENT
    assert r.summary["fleet"]["p_material_impairment_asc360"]["horizon"]["value"] == 0.0
    assert r.summary["fleet"]["p_impairment_asc360"]["horizon"]["value"] == 1.0  # any loss: still counted there


def test_fiscal_years_follow_the_fiscal_year_end(tmp_path):
    from engine.compile import compile_model
    from engine.scenario.load import load_scenario

    # June year ends, run 2026-01..2027-12: Jan-Jun 2026 in FY2026, Jul 2026-Jun 2027 in FY2027, Jul-Dec 2027 in FY2028
    p = _scenario(tmp_path, horizon=24, replace={"[accounting]\n": "[accounting]\nfiscal_year_end_month = 6\n"})
    m = compile_model(load_scenario(p))
    assert m.fiscal_year_labels == ("FY2026", "FY2027", "FY2028")
    assert m.fiscal_year_end_t == (6, 18, 24)
    np.testing.assert_array_equal(m.a["fiscal_year_onehot"].argmax(axis=1), [0] * 6 + [1] * 12 + [2] * 6)


def test_opening_book_check(tmp_path):
    # bought 2025-01, 24-month life: at the 2026-01 start CV_0 = 2,803,200 x 12/24 = 1,401,600 with n = 12 months left.
    # Flat forecast at the start price: price 2.0 -> 12 x 100 x 730 x 2.0 = 1,752,000 >= CV_0 (recoverable);
    # price 1.5 -> 12 x 109,500 = 1,314,000 < CV_0 (ASC 360 step 1 fails at the valuation date, on every path).
    # IAS 36 at 10 %: VIU = 146,000 x A_12 = 1,664,471 >= CV_0 at 2.0; 109,500 x A_12 = 1,248,353 < CV_0 at 1.5 (A_12 = 11.400488).
    rep = {'purchase_month = "2026-01"': 'purchase_month = "2025-01"'}
    ok = run(_scenario(tmp_path, price=2.0, vol=0.0, decline=0.0, replace=rep), paths=2, seed=1).run.scalars["opening_book_unrecoverable"]
    bad = run(_scenario(tmp_path, price=1.5, vol=0.0, decline=0.0, replace=rep), paths=2, seed=1).run.scalars["opening_book_unrecoverable"]
    np.testing.assert_array_equal(ok, [[0.0, 0.0]] * 2)
    np.testing.assert_array_equal(bad, [[1.0, 1.0]] * 2)


def test_used_market_disposal_proceeds_are_apart_from_book_salvage(tmp_path):
    # life 12, horizon 12: disposal in month 12 at age 12. Used value per GPU = 28,032 x e^{-0.02 x 12} (price on its
    # expected path: ratio 1), less 10 % disposal costs, for 100 GPUs: 100 x 28,032 x e^{-0.24} x 0.9 = 1,984,567.70;
    # discounted to the start at 10 %/yr: x 1.1^{-1}. Book salvage is 0, so the NPVs differ by exactly that amount.
    def npv(proceeds):
        rep = {'disposal_proceeds = "book_salvage"': f'disposal_proceeds = "{proceeds}"',
               "[accounting]\n": "[accounting]\nused_value_decay_per_month = 0.02\nend_of_life_disposal_cost_frac = 0.1\n"}
        return run(_scenario(tmp_path, life=12, horizon=12, vol=0.0, decline=0.0, test_every=0, replace=rep), paths=2, seed=1).run.scalars["npv_usd"][0, 0]

    expected = 100 * 28_032.0 * math.exp(-0.24) * 0.9 / 1.1
    assert abs(expected - 1_804_152.45) < 0.01
    assert abs((npv("used_market") - npv("book_salvage")) - expected) < CENT


def test_fair_value_hierarchy_level2_for_observed_generations(tmp_path):
    # H100 has used-GPU quotes: under "hierarchy" its fair value is the used-market value
    # FV_t = 100 x 28,032 x e^{-0.02 t} (age after month t = t; price on its expected path), e.g. t = 6: 2,486,215.37
    rep = {'fair_value_method = "dcf"': 'fair_value_method = "hierarchy"', "[accounting]\n": "[accounting]\nused_value_decay_per_month = 0.02\n"}
    r = run(_scenario(tmp_path, vol=0.0, decline=0.0, replace=rep), paths=2, seed=1, store="full")
    fv = np.asarray(r.run.monthly["fair_value_usd"])[0, :, 0]
    assert abs(fv[5] - 100 * 28_032.0 * math.exp(-0.12)) < CENT
    # the same cohort as a B200 (no used quotes): the market-participant DCF, not the used value
    rep_b = {**rep, 'generation = "H100"': 'generation = "B200"', "[market.H100]": "[market.B200]"}
    r_b = run(_scenario(tmp_path, vol=0.0, decline=0.0, replace=rep_b), paths=2, seed=1, store="full")
    fv_b = np.asarray(r_b.run.monthly["fair_value_usd"])[0, :, 0]
    assert abs(fv_b[5] - 100 * 28_032.0 * math.exp(-0.12)) > 1_000.0


def test_site_asset_groups():
    from types import SimpleNamespace

    from engine.compile import asset_group_matrix

    cohorts = [SimpleNamespace(site="a"), SimpleNamespace(site="b"), SimpleNamespace(site="a")]
    np.testing.assert_array_equal(asset_group_matrix("site", cohorts), [[1, 0, 1], [0, 1, 0]])
    np.testing.assert_array_equal(asset_group_matrix("fleet", cohorts), [[1, 1, 1]])
    np.testing.assert_array_equal(asset_group_matrix("cohort", cohorts), np.eye(3))


def test_policy_range_values_the_run_paths_under_each_alternative(tmp_path):
    from engine.app import run_scenario

    # a decline of 3 %/month with volatility: some paths impaired; the range covers the scenario's own value
    p = _scenario(tmp_path, decline=0.03, vol=0.08, test_every=0, replace={"trigger_price_drop_frac = 0\n": "trigger_price_drop_frac = 0.2\n"})
    r = run_scenario(p, paths=300, seed=5, write=False, policy_range_paths=300)
    pr = r.summary["policy_range"]
    own = pr["policies"]["scenario_policy"]["asc360"]["horizon"]["value"]
    # the scenario's policy on the same 300 paths is the run's own headline (same paths, same draws)
    assert own == r.summary["fleet"]["p_material_impairment_asc360"]["horizon"]["value"]
    lo, hi = pr["range"]["asc360"]["horizon"]
    assert lo <= own <= hi
    # the scenario already uses cohort groups, DCF fair value and book salvage: those alternatives are not repeated
    assert {"cohort_asset_groups", "income_approach_fair_value", "book_salvage_disposal"}.isdisjoint(pr["policies"])
    assert "quarterly_tests" in pr["policies"]


@pytest.mark.parametrize("written", [False, True])
def test_policy_range_own_row_is_the_run_first_paths(tmp_path, written):
    """The row of the scenario's own policy is the summary of the run's first paths, taken from the run
    itself (no second simulation): the same, key for key, as simulating those paths apart. 400 of 600 paths
    with 200 fan paths and chunks of 256 (the suite's 4 devices x 64): the first chunk runs the monthly
    function, the rest the packed one, so the rows kept come from both; written: results.nc takes the
    per-path results as they come (engine/results_file.py), not kept: in memory."""
    import json

    from engine.app import run_scenario, summarize_variant
    from engine.scenario.load import load_scenario

    p = _scenario(tmp_path, decline=0.03, vol=0.08, test_every=0, replace={"trigger_price_drop_frac = 0\n": "trigger_price_drop_frac = 0.2\n"})
    r = run_scenario(p, paths=600, seed=5, write=written, out=tmp_path / "o" if written else None, chunk_paths=256, policy_range_paths=400)
    assert r.run.head_scalars and all(v.shape[0] == 400 for v in r.run.head_scalars.values())
    apart = summarize_variant(load_scenario(p).with_run_overrides(paths=600, seed=5, store=None), n_paths=400, seed=5, chunk_paths=256)
    from engine.stats import summarize_exact

    own = summarize_exact(r.model, r.run.head_scalars, standards=r.model.standards)
    assert json.dumps(own, sort_keys=True, default=float) == json.dumps(apart, sort_keys=True, default=float)
    row = r.summary["policy_range"]["policies"]["scenario_policy"]["asc360"]["horizon"]
    assert row == apart["fleet"]["p_material_impairment_asc360"]["horizon"]


def test_run_prints_the_headline_with_its_policy_and_range(tmp_path, capsys):
    from engine.cli import main

    p = _scenario(tmp_path, decline=0.03, vol=0.08, test_every=0, replace={"trigger_price_drop_frac = 0\n": "trigger_price_drop_frac = 0.2\n"})
    assert main(["run", str(p), "--paths", "200", "--policy-range-paths", "200", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "probability that a material impairment is recognised" in out and "policy range" in out
    assert "asset group: each cohort" in out and "when tested: on triggering events only" in out
    import json

    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert s["policy_range"]["paths"] == 200 and "quarterly_tests" in s["policy_range"]["policies"]
    assert s["accounting_policy"]["fair_value_basis"] == {"c1": "Level 3: market-participant DCF"}  # fair_value_method = "dcf" in the template


def test_a_negative_policy_range_is_refused(tmp_path, capsys):
    from engine.cli import main

    out_dir = tmp_path / "o"
    assert main(["run", str(_scenario(tmp_path)), "--policy-range-paths", "-1", "--out", str(out_dir)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "--policy-range-paths" in err and not out_dir.exists()
