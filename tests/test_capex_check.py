"""`rackrisk capex-check`: breakevens against a closed form, consistency with the plan's own outcome, bad plans.

Closed form: one tranche of 100 GPUs bought at the run start for $2,803,200, no debt, price $2.00
held flat (no drift, no volatility), utilization 1, no failures, no operating cost, no salvage, a
24-month life inside a 24-month horizon. Its NPV at 10 %/yr is linear in the price multiplier m:

    NPV(m) = m x 100 x 730 h x $2.00 x S - 2,803,200,   S = sum_{t=1..24} d^t,  d = 1.1^(-1/12)

so m* = 2,803,200 / (146,000 S) (0.8896), and, since revenue is also linear in utilization from 1,
the NPV breakeven utilization is the same number. The bisection on log m over [0.05, 5] with 14
halvings brackets m* within a factor exp(ln(100) / 2^14) = 1.00028; on utilization within 2^-14.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from tests._util import write_scenario

PLAN = """
title = "closed form"
base_scenario = "base.toml"
paths = {paths}
seed = 3
[[tranche]]
quarter = "2026Q1"
generation = "H100"
gpus = 100
capex_usd = 2803200
kw_per_gpu = 0.7
useful_life_months = 24
[funding]
debt_frac = {debt}
rate_type = "fixed"
fixed_rate_annual_frac = 0.08
tenor_months = 24
min_dscr = 1.25
"""


def _base(tmp_path: Path, **kw) -> None:
    values = dict(horizon=24, life=24, decline=0.0, vol=0.0, util=1.0, afr=0.0) | kw
    p = write_scenario(tmp_path, name="base.toml", **values)
    assert p.name == "base.toml"


def test_npv_breakeven_price_and_utilization_closed_form(tmp_path):
    from engine.capex.app import run_capex_check

    _base(tmp_path)
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN.format(paths=4, debt=0.0))
    report, lp, model, be = run_capex_check(plan, write=False)
    d = 1.1 ** (-1 / 12)
    S = d * (1 - d**24) / (1 - d)
    m_star = 2803200 / (146000 * S)
    assert 0.88 < m_star < 0.90
    k = 2  # npv
    assert np.allclose(be["price_mult"][:, k, 0], m_star, rtol=3e-4)
    assert np.allclose(be["utilization"][:, k], m_star, atol=2 ** -14 + 1e-12)
    # at the plan (m = 1 > m*) NPV is positive on every path: P(clears) = 1; no debt -> no DSCR criterion
    r = report["generations"]["H100"]
    assert r["npv"]["p_plan_clears"]["value"] == 1.0 and r["dscr"] is None
    assert r["npv"]["breakeven_price_usd_per_gpu_hour"]["p50"]["value"] == pytest.approx(2.0 * m_star, rel=3e-4)


def test_plan_outcome_agrees_with_breakevens_and_files(tmp_path):
    # With uncertain price and debt, on each path "the plan clears" must agree with "breakeven <= the
    # plan's price" (monotone criteria) except within the bisection's resolution; CSV and JSON written.
    _base(tmp_path, price='{ dist = "lognormal", median = 2.0, sigma_log = 0.3 }', vol=0.03)
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN.format(paths=48, debt=0.6))
    out = tmp_path / "cc"
    assert main(["capex-check", str(plan), "--out", str(out), "--quiet"]) == 0
    js = json.loads((out / "capex_check.json").read_text())
    assert set(js["generations"]["H100"]) >= {"no_impairment", "dscr", "npv", "p_plan_clears_all", "plan_price_usd_per_gpu_hour"}
    csv = (out / "capex_check.csv").read_text().splitlines()
    assert csv[0].startswith("row,criterion") and len(csv) == 1 + 3 + 3
    from engine.capex.app import run_capex_check

    _, _, _, be = run_capex_check(plan, write=False)
    for k in range(3):
        clear = be["pass_plan"][:, k, 0]
        below = be["price_mult"][:, k, 0] <= 1.0 + 1e-3
        assert np.mean(clear == below) >= 0.95, k


@pytest.mark.parametrize(
    ("edit", "field", "words"),
    [
        (('generation = "H100"', 'generation = "B200"'), "tranche[0].generation", ("no [market.B200]", "H100")),
        (('quarter = "2026Q1"', 'quarter = "2026Q5"'), "tranche[0].quarter", ("YYYYQn",)),
        (('quarter = "2026Q1"', 'quarter = "2029Q1"'), "tranche[0].quarter", ("outside the run",)),
        (('base_scenario = "base.toml"', 'base_scenario = "nowhere.toml"'), "base_scenario", ("not found",)),
        (("gpus = 100", "gpus = 0"), "tranche[0].gpus", ("greater than 0",)),
        (("debt_frac = 0.6", "debt_frac = 1.5"), "funding.debt_frac", ("less than or equal to 1",)),
        (("tenor_months = 24", "tenor_months = 24\ntenor = 3"), "funding.tenor", ("unknown key",)),
    ],
)
def test_bad_plan(tmp_path, capsys, edit, field, words):
    _base(tmp_path)
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN.format(paths=4, debt=0.6).replace(*edit))
    out = tmp_path / "cc"
    assert main(["capex-check", str(plan), "--out", str(out), "--quiet"]) == 2
    o, err = capsys.readouterr()
    assert "Traceback" not in o + err and len(err.splitlines()) == 1
    assert "plan.toml" in err and f"field '{field}'" in err, err
    for w in words:
        assert w in err, (w, err)
    assert not out.exists()


def test_sample_plan_loads():
    from engine.capex.plan import load_plan

    lp = load_plan(Path(__file__).resolve().parents[1] / "scenarios" / "plans" / "neocloud_2026.toml")
    assert lp.tranche_names == ("B200_2026Q1", "B200_2026Q2", "B200_2026Q3", "H200_2026Q1")
    assert len(lp.scenario.scenario.financing.facility) == 4
    assert math.isclose(lp.scenario.scenario.financing.facility[0].principal_usd, 0.7 * 483e6)
