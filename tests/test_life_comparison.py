"""`rackrisk compare-lives`: earnings differences between depreciation policies, by hand.

One cohort of 100 GPUs bought at the run start for $28,032 each (C = $2,803,200), no salvage, a
price of $3.00 with 2 % monthly volatility, far above cost per hour (no impairment on any path: checked), no failures. Under a 24-month
life the year's depreciation is 12 C / 24 = C / 2; under 36 months C / 3. Revenue and costs are the
same on the same path in years 1 and 2 (both lives in service; common random numbers), so

    EBIT(24) - EBIT(36) = -(C/2 - C/3) = -C/6 = -467,200.00 in 2026 and in 2027, on every path.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.cli import main
from tests._util import write_scenario


def test_ebit_difference_between_lives_by_hand(tmp_path):
    from engine.life_comparison import compare_lives

    p = write_scenario(tmp_path, horizon=36, life=36, price=3.0, decline=0.0, vol=0.02, util=1.0, afr=0.0)
    rep = compare_lives(p, [24, 36], paths=50, reference=36)
    assert rep["by_life"]["24"]["p_impairment_asc360"]["horizon"]["value"] == 0.0
    assert rep["by_life"]["36"]["p_impairment_asc360"]["horizon"]["value"] == 0.0
    d = rep["by_life"]["24"]["ebit_difference_vs_36_months_usd_by_year"]["asc360"]
    for year in ("2026", "2027"):
        assert d[year]["value"] == pytest.approx(-2803200 / 6, abs=0.005)
        assert d[year]["se"] == pytest.approx(0.0, abs=1e-6)  # the same on every path
    assert rep["by_life"]["24"]["p_impairment_asc360"]["horizon"]["value"] == 0.0
    # reference minus itself is zero; the difference in 2028 is not a depreciation effect (the 24-month
    # cohort is out of service), so it is not -C/6
    assert rep["by_life"]["36"]["ebit_difference_vs_36_months_usd_by_year"]["asc360"]["2026"]["value"] == 0.0
    assert abs(d["2028"]["value"] + 2803200 / 6) > 1000


def test_ebit_is_cash_flow_less_book_change(tmp_path):
    # EBIT summed over the horizon = total cash flow - (opening book - closing book): with the cohort
    # bought at the start (book 0 before), sum of EBIT = revenue - opex + disposal - (C - closing book).
    from engine.app import run_scenario
    from engine.life_comparison import ebit_by_year

    p = write_scenario(tmp_path, horizon=24, life=36, decline=0.01, vol=0.05, util=0.8, afr=0.0)
    r = run_scenario(p, paths=20, store="full", write=False)
    e, years = ebit_by_year(r.model, r.run)
    assert years == ["2026", "2027"]
    cash = r.run.monthly["cash_flow_usd"].astype(float).sum(axis=(1, 2))
    book_end = r.run.scalars["carrying_amount_end_usd"][:, 0, :].astype(float).sum(-1)
    assert np.allclose(e[:, :, 0].sum(axis=1), cash - (2803200 - book_end), rtol=1e-12, atol=1e-6)


def test_cli_writes_json_and_refuses_bad_lives(tmp_path, capsys):
    p = write_scenario(tmp_path, horizon=24, life=36, decline=0.0, vol=0.05)
    assert main(["compare-lives", str(p), "--lives", "0", "36", "--quiet"]) == 2
    assert "--lives" in capsys.readouterr().err
    out = tmp_path / "lc"
    assert main(["compare-lives", str(p), "--lives", "24", "36", "--paths", "16", "--out", str(out), "--quiet"]) == 0
    js = json.loads((out / "life_comparison.json").read_text())
    assert js["lives_months"] == [24, 36] and js["reference_life_months"] == 36
