"""Credit arithmetic checked by hand, to the cent, in float64 (docs/credit.md).

The fleet in every end-to-end case is deterministic: one cohort of 100 GPUs, price $2.00 per
GPU-hour with no drift, no volatility, utilization 1, no failures and no operating cost, so the
cohort's CFADS is 100 x 730 h x $2.00 = $146,000 every month, and its used-GPU market value at the
end of month t is 100 x $30,000 x exp(-0.02 t) (the path's price equals the expected price).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests._util import run, write_scenario

CF = 100 * 730 * 2.0  # 146,000 USD per month
CENT = 0.005  # to the cent: half a cent of absolute tolerance on USD amounts


COHORT = """
[[fleet.cohort]]
name = "{name}"
generation = "H100"
purchase_month = "2026-01"
units = 100
capex_usd_per_gpu = 30000
useful_life_months = 60
kw_per_gpu = 0.7
"""


def _facility(text: str, name: str, cohort: str) -> str:
    return "\n[[financing.facility]]\n" + text.replace('name = "L"', f'name = "{name}"').replace('["c1"]', f'["{cohort}"]')


SL_12 = """name = "L"
principal_usd = 1200000
first_draw_month = "2026-01"
tenor_months = 12
amortization = "straight_line"
rate_type = "fixed"
fixed_rate_annual_frac = 0.12
collateral_cohorts = ["c1"]
"""


FLOATING = """name = "L"
principal_usd = 2400000
first_draw_month = "2026-01"
tenor_months = 24
rate_type = "floating"
spread_annual_frac = 0.06
sofr_floor_annual_frac = 0.0
collateral_cohorts = ["c1"]
"""
LTV_DEFAULT = SL_12.replace("1200000", "2400000").replace("tenor_months = 12", "tenor_months = 60") + (
    "liquidation_haircut_frac = 0.3\n[financing.facility.covenants]\nmax_ltv_frac = 0.9\ntest_every_months = 1\n"
)
FACILITIES = {
    "PIT": SL_12 + "liquidation_haircut_frac = 0.2\n[financing.facility.covenants]\nmin_dscr = 1.0\ntest_every_months = 3\n",
    "LTM": SL_12 + '[financing.facility.covenants]\nmin_dscr = 1.0\ndscr_basis = "trailing_4q"\n',
    "LEVEL": SL_12.replace("straight_line", "level_payment"),
    "FLOAT": FLOATING,
    "PAYDEFAULT": SL_12.replace("1200000", "3600000") + "liquidation_haircut_frac = 0.2\n",
    "LTVDEFAULT": LTV_DEFAULT,
}


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    """One deterministic run: six identical cohorts, each pledged to one of the six facilities above."""
    d = tmp_path_factory.mktemp("credit_hand")
    extra = "".join(COHORT.format(name=f"c{i}") for i in range(2, 7))
    extra += "\n[financing.sofr]\nlevel_annual_frac = 0.0\ncurve_annual_frac = [0.03, -0.01]\n"
    for i, (name, text) in enumerate(FACILITIES.items(), start=1):
        extra += _facility(text, name, f"c{i}")
    p = write_scenario(d, horizon=24, life=60, capex=30000.0, units=100, price=2.0, decline=0.0, vol=0.0, util=1.0, afr=0.0, extra=extra)
    p.write_text(p.read_text().replace("[accounting]", "[accounting]\nused_value_decay_per_month = 0.02", 1))
    r = run(p, paths=2)
    names = list(r.model.facilities)
    assert names == list(FACILITIES)
    return r, names


def _m(hand, key, fac):
    r, names = hand
    return r.run.monthly[key][0, :, names.index(fac)]


def _s(hand, key, fac):
    r, names = hand
    return r.run.scalars[key][0, names.index(fac)]


def test_straight_line_schedule_and_point_in_time_dscr(hand):
    # $1.2m over 12 months at 12 %/yr (1 %/month): principal $100,000 a month; interest 1 % of the
    # opening balance: $12,000, $11,000, ..., $1,000; debt service $112,000, $111,000, ..., $101,000.
    ds = _m(hand, "credit_debt_service_usd", "PIT")
    expect_ds = np.array([100000 + 1000 * (12 - i) for i in range(12)] + [0] * 12, float)
    assert np.max(np.abs(ds - expect_ds)) < CENT
    bal = _m(hand, "credit_balance_usd", "PIT")
    assert np.max(np.abs(bal[:12] - np.array([1200000 - 100000 * (i + 1) for i in range(12)], float))) < CENT
    # interest paid: 1,000 x (12 + 11 + ... + 1) = 78,000; principal 1,200,000
    assert abs(_s(hand, "credit_interest_paid_usd", "PIT") - 78000.0) < CENT
    assert abs(_s(hand, "credit_principal_paid_usd", "PIT") - 1200000.0) < CENT
    # point-in-time DSCR over the quarter: Q1 = 3 x 146,000 / (112,000 + 111,000 + 110,000) = 438,000 / 333,000;
    # Q2 (months 4-6) = 438,000 / (109,000 + 108,000 + 107,000) = 438,000 / 324,000
    dscr = _m(hand, "credit_dscr", "PIT")
    assert dscr[2] == pytest.approx(438000 / 333000, rel=1e-12)
    assert dscr[5] == pytest.approx(438000 / 324000, rel=1e-12)
    assert dscr[11] == pytest.approx(438000 / (103000 + 102000 + 101000), rel=1e-12)
    assert _s(hand, "credit_covenant_tests", "PIT") == 3  # March, June, September; not December: repaid by then
    assert _s(hand, "credit_min_tested_dscr", "PIT") == pytest.approx(438000 / 333000, rel=1e-12)
    assert _s(hand, "credit_first_breach_month", "PIT") == 0 and _s(hand, "credit_default_month", "PIT") == 0


def test_trailing_four_quarter_dscr(hand):
    # LTM DSCR at month 6: 6 x 146,000 / (600,000 + 12,000 + 11,000 + ... + 7,000) = 876,000 / 657,000;
    # at month 12: 12 x 146,000 / (1,200,000 + 78,000) = 1,752,000 / 1,278,000. Before 12 months of
    # history the window holds the months since the first payment (month 3: 438,000 / 333,000).
    dscr = _m(hand, "credit_dscr", "LTM")
    assert dscr[2] == pytest.approx(438000 / 333000, rel=1e-12)
    assert dscr[5] == pytest.approx(876000 / 657000, rel=1e-12)
    assert dscr[11] == pytest.approx(1752000 / 1278000, rel=1e-12)


def test_level_payment_schedule(hand):
    # $1.2m over 12 months at 1 %/month: payment = 1.2m x 0.01 / (1 - 1.01^-12) = 106,618.55 (to the cent,
    # the annuity formula, DOMAIN 1.5 CRF). Interest month 1 = 12,000.00, principal 94,618.55, balance
    # 1,105,381.45; total interest = 12 x 106,618.5464 - 1,200,000 = 79,422.56.
    pay = 1200000 * 0.01 / (1 - 1.01 ** -12)
    assert round(pay, 2) == 106618.55
    ds = _m(hand, "credit_debt_service_usd", "LEVEL")
    assert np.max(np.abs(ds[:12] - pay)) < CENT
    bal = _m(hand, "credit_balance_usd", "LEVEL")
    assert abs(bal[0] - 1105381.45) < 0.01
    assert abs(bal[11]) < CENT
    assert abs(_s(hand, "credit_interest_paid_usd", "LEVEL") - (12 * pay - 1200000)) < CENT
    assert abs(12 * pay - 1200000 - 79422.56) < 0.01


def test_floating_rate_with_floor_and_sofr_curve(hand):
    # SOFR curve 3 % in year 1 (months 1-12), -1 % after; floor 0; spread 6 %: 9 % then 6 %. Straight-line
    # $2.4m over 24 months: principal $100,000; month 1 interest = 2.4m x 0.09 / 12 = 18,000.00;
    # month 13 (balance 1.2m) interest = 1.2m x (max(-0.01, 0) + 0.06) / 12 = 6,000.00.
    rate = _m(hand, "credit_rate_annual_frac", "FLOAT")
    assert rate[0] == pytest.approx(0.09, abs=1e-15) and rate[12] == pytest.approx(0.06, abs=1e-15)
    ds = _m(hand, "credit_debt_service_usd", "FLOAT")
    assert abs(ds[0] - 118000.0) < CENT
    assert abs(ds[12] - 106000.0) < CENT


def test_ltv_on_collateral_net_of_haircut(hand):
    # Month 1: balance after payment 1,100,000; collateral 100 x 30,000 x exp(-0.02) = 2,940,596.02;
    # net of a 20 % haircut 2,352,476.82; LTV = 1,100,000 / 2,352,476.82 = 0.467592...
    mv = _m(hand, "credit_collateral_value_usd", "PIT")
    assert abs(mv[0] - 3_000_000 * math.exp(-0.02)) < CENT
    assert abs(mv[0] - 2940596.02) < 0.01
    ltv = _m(hand, "credit_ltv_frac", "PIT")
    assert ltv[0] == pytest.approx(1100000 / (0.8 * 3_000_000 * math.exp(-0.02)), rel=1e-12)
    # month 6: balance 600,000 over 0.8 x 3,000,000 x exp(-0.12)
    assert ltv[5] == pytest.approx(600000 / (0.8 * 3_000_000 * math.exp(-0.12)), rel=1e-12)


def test_payment_default_ead_recovery_lgd(hand):
    # $3.6m straight line over 12 months at 1 %/month: month-1 debt service 300,000 + 36,000 = 336,000 >
    # CFADS 146,000 with no cash and no reserve: payment default in month 1. EAD = balance + the
    # month's unpaid interest = 3,636,000.00. Recovery = collateral net of a 20 % haircut
    # (0.8 x 2,940,596.02 = 2,352,476.82) + the month's cash 146,000 = 2,498,476.82; loss 1,137,523.18;
    # LGD = 1,137,523.18 / 3,636,000 = 0.312849...
    f = "PAYDEFAULT"
    rec = 0.8 * 3_000_000 * math.exp(-0.02) + 146000
    assert _s(hand, "credit_default_month", f) == 1
    assert _s(hand, "credit_first_breach_month", f) == 0  # a payment default, not a covenant breach
    assert _s(hand, "credit_default_cause", f) == 1  # engine/credit/path.py DEFAULT_CAUSES: payment shortfall
    c = hand[0].summary["credit"]["facilities"][f]
    assert c["p_default_payment"]["horizon"]["value"] == 1.0 and c["p_default_covenant"]["horizon"]["value"] == 0.0
    assert abs(_s(hand, "credit_ead_usd", f) - 3636000.0) < CENT
    assert abs(_s(hand, "credit_recovery_usd", f) - rec) < CENT and abs(rec - 2498476.82) < 0.01
    assert abs(_s(hand, "credit_loss_usd", f) - (3636000 - rec)) < CENT and abs(3636000 - rec - 1137523.18) < 0.01
    assert _s(hand, "credit_lgd_frac", f) == pytest.approx((3636000 - rec) / 3636000, rel=1e-12)
    # after default nothing more is paid and the balance is gone from the books
    assert _s(hand, "credit_interest_paid_usd", f) == 0.0 and _s(hand, "credit_balance_end_usd", f) == 0.0


def test_covenant_default_on_ltv(hand):
    # $2.4m over 60 months at 1 %/month: month-1 debt service 40,000 + 24,000 = 64,000 (paid; cash left
    # 146,000 - 64,000 = 82,000). Balance 2,360,000; collateral net of a 30 % haircut
    # 0.7 x 2,940,596.02 = 2,058,417.21; LTV 1.1465 > 0.9 at the month-1 test, no cure: default.
    # EAD = 2,360,000.00; recovery = 2,058,417.21 + 82,000 = 2,140,417.21; loss 219,582.79.
    f = "LTVDEFAULT"
    net = 0.7 * 3_000_000 * math.exp(-0.02)
    assert _s(hand, "credit_first_breach_month", f) == 1 and _s(hand, "credit_default_month", f) == 1
    assert _s(hand, "credit_default_cause", f) == 2  # covenant breach without a cure left
    assert _s(hand, "credit_default_cause", "LEVEL") == 0  # no default
    assert abs(_s(hand, "credit_ead_usd", f) - 2360000.0) < CENT
    assert abs(_s(hand, "credit_recovery_usd", f) - (net + 82000)) < CENT
    assert abs(_s(hand, "credit_loss_usd", f) - (2360000 - net - 82000)) < CENT
    assert abs(2360000 - net - 82000 - 219582.79) < 0.01
    # summary: PD 1, EL = the loss; PD x LGD x EAD equals it (one outcome)
    c = hand[0].summary["credit"]["facilities"][f]
    assert c["p_default"]["horizon"]["value"] == 1.0 and c["p_default_covenant"]["horizon"]["value"] == 1.0
    assert abs(c["expected_credit_loss_usd"]["value"] - (2360000 - net - 82000)) < CENT
    assert abs(c["pd_x_lgd_x_ead_usd"] - (2360000 - net - 82000)) < CENT


def test_expected_loss_statistics_by_hand():
    # Four paths, one default with EAD 1,000,000 and recovery 700,000 (loss 300,000, LGD 0.3):
    # EL = 300,000 / 4 = 75,000.00 with SE = sd / 2, sd = sqrt(((225k)^2 + 3 (75k)^2) / 3) = 150,000, SE 75,000;
    # PD = 0.25 (SE sqrt(0.25 x 0.75 / 4) = 0.216506); PD x LGD x EAD = 0.25 x 0.3 x 1,000,000 = 75,000.
    # One facility (arrays (P, F) = (4, 1)) over six months 2026-01..06: quarter ends at t = 3 and 6.
    from types import SimpleNamespace

    from engine.credit.summary import CREDIT_RISK_STATISTICS, FACILITY, credit_entity, credit_paths

    col = lambda *v: np.array(v, dtype=np.float64)[:, None]  # noqa: E731
    arrays = {
        "credit_first_breach_month": col(0, 3, 6, 0), "credit_default_month": col(0, 3, 0, 0),
        "credit_loss_usd": col(0, 300000, 0, 0), "credit_ead_usd": col(0, 1e6, 0, 0), "credit_lgd_frac": col(np.nan, 0.3, np.nan, np.nan),
        "credit_default_cause": col(0, 2, 0, 0),  # the default is a covenant failure (code 2)
    }
    model = SimpleNamespace(month_labels=tuple(f"2026-{m:02d}" for m in range(1, 7)))
    e = credit_entity(model, credit_paths(arrays), FACILITY, 0, stats=CREDIT_RISK_STATISTICS)
    # the one default is a covenant failure with a loss: P(covenant) = 1/4, P(payment) = 0, P(fully recovered) = 0
    assert (e["p_default_covenant"]["horizon"]["value"], e["p_default_payment"]["horizon"]["value"]) == (0.25, 0.0)
    assert e["p_default_fully_recovered"]["horizon"]["value"] == 0.0
    assert e["expected_credit_loss_usd"]["value"] == pytest.approx(75000.0, abs=CENT)
    assert e["expected_credit_loss_usd"]["se"] == pytest.approx(75000.0, abs=CENT)
    assert e["p_default"]["horizon"]["value"] == 0.25
    assert e["p_default"]["horizon"]["se"] == pytest.approx(math.sqrt(0.25 * 0.75 / 4), rel=1e-12)
    assert e["pd_x_lgd_x_ead_usd"] == pytest.approx(75000.0, abs=CENT)
    assert e["p_covenant_breach"]["by_quarter"]["2026Q1"]["value"] == 0.25 and e["p_covenant_breach"]["by_quarter"]["2026Q2"]["value"] == 0.5
    assert e["lgd_given_default_frac"]["value"] == pytest.approx(0.3)


def test_portfolio_statistics_by_hand():
    # Two facilities A, B on four paths over six months 2026-01..06 (quarter ends t = 3, 6).
    # A defaults on path 1 in month 3 (EAD 1,000,000, loss 300,000); B on path 1 in month 6 and on path 2
    # in month 5 (EAD 500,000, loss 100,000 each). First breaches: A [0, 2, 0, 0], B [0, 5, 4, 0].
    # Portfolio (any facility): first breach [0, 2, 4, 0], first default [0, 3, 5, 0] -> P(breach) and
    # P(default) by 2026Q1 = 1/4, by 2026Q2 = 2/4; loss [0, 400k, 100k, 0] -> EL = 500k / 4 = 125,000;
    # EAD on defaulted paths 1.5 M and 0.5 M -> EAD given default 1,000,000; LGD 400k / 1.5 M = 0.26667
    # and 100k / 500k = 0.2 -> LGD given default 0.23333; PD x LGD x EAD = 0.5 x 0.23333 x 1 M = 116,666.67.
    from types import SimpleNamespace

    from engine.credit.summary import CREDIT_RISK_STATISTICS, PORTFOLIO, credit_entity, credit_paths, portfolio_paths

    two = lambda a, b: np.array([a, b], dtype=np.float64).T  # noqa: E731  (P, F) = (4, 2)
    scalars = {
        "credit_first_breach_month": two([0, 2, 0, 0], [0, 5, 4, 0]), "credit_default_month": two([0, 3, 0, 0], [0, 6, 5, 0]),
        "credit_loss_usd": two([0, 3e5, 0, 0], [0, 1e5, 1e5, 0]), "credit_ead_usd": two([0, 1e6, 0, 0], [0, 5e5, 5e5, 0]),
        "credit_lgd_frac": two([np.nan, 0.3, np.nan, np.nan], [np.nan, 0.2, 0.2, np.nan]),
        # A's default a payment shortfall (1), B's two covenant failures (2)
        "credit_default_cause": two([0, 1, 0, 0], [0, 2, 2, 0]),
    }
    model = SimpleNamespace(month_labels=tuple(f"2026-{m:02d}" for m in range(1, 7)))
    port = portfolio_paths(scalars)
    assert port["portfolio_first_breach_month"].tolist() == [0, 2, 4, 0] and port["portfolio_default_month"].tolist() == [0, 3, 5, 0]
    e = credit_entity(model, credit_paths(scalars), PORTFOLIO, stats=CREDIT_RISK_STATISTICS)
    # the portfolio's cause is that of its first default: path 1 A's payment shortfall (month 3, before B's
    # month 6), path 2 B's covenant failure -> 1/4 each, adding up to P(default) = 1/2; every default lost money
    assert e["p_default_payment"]["horizon"]["value"] == 0.25 and e["p_default_covenant"]["horizon"]["value"] == 0.25
    assert e["p_default_fully_recovered"]["horizon"]["value"] == 0.0
    for key in ("p_covenant_breach", "p_default"):
        assert e[key]["by_quarter"]["2026Q1"]["value"] == 0.25 and e[key]["by_quarter"]["2026Q2"]["value"] == 0.5
        assert e[key]["horizon"]["value"] == 0.5
    assert e["expected_credit_loss_usd"]["value"] == pytest.approx(125000.0, abs=CENT)
    assert e["ead_given_default_usd"]["value"] == pytest.approx(1e6, abs=CENT)
    assert e["lgd_given_default_frac"]["value"] == pytest.approx((4 / 15 + 0.2) / 2, rel=1e-12)
    assert e["pd_x_lgd_x_ead_usd"] == pytest.approx(0.5 * (4 / 15 + 0.2) / 2 * 1e6, abs=CENT)
    # the median LGD of the two defaulted paths: numpy's linear interpolation, (0.2 + 0.26667) / 2
    assert e["lgd_quantiles_frac"]["p50"]["value"] == pytest.approx((4 / 15 + 0.2) / 2, rel=1e-12)


def test_sofr_path_floor_spread_and_stress_hook():
    # SOFR_t = curve_t + level + shock_t (the stress issue fills sofr_shock_annual_frac):
    # curve 0, level 4 %, shocks 0 / +1 % / +2 %: SOFR 4 %, 5 %, 6 %. Facility 0: spread 2 %, floor 0
    # -> 6 %, 7 %, 8 %. Facility 1: floor 5 % -> max(SOFR, 5 %) + 2 % = 7 %, 7 %, 8 %. Facility 2 fixed 9 %.
    # (float32 or float64 depending on the process: 1e-7 is float32 rounding of numbers near 0.1)
    import jax.numpy as jnp

    from engine.credit.rates import facility_rates, sofr_monthly

    A = {
        "fin_sofr_curve": jnp.zeros(3), "i_sofr_level": 0, "sofr_shock_annual_frac": jnp.array([0.0, 0.01, 0.02]),
        "fin_floor": jnp.array([0.0, 0.05, 0.0]), "fin_spread": jnp.array([0.02, 0.02, 0.0]),
        "fin_is_floating": jnp.array([1.0, 1.0, 0.0]), "fin_fixed_rate": jnp.array([0.0, 0.0, 0.09]),
    }
    rates = np.asarray(facility_rates(sofr_monthly(jnp.array([0.04]), A), A))
    assert np.allclose(rates, [[0.06, 0.07, 0.09], [0.07, 0.07, 0.09], [0.08, 0.08, 0.09]], atol=1e-7)


def test_contracted_amortization_follows_the_contracted_revenue():
    # Weights K_t / sum_{s>=t} K_s for K = 1, 2, 3, 4: 1/10, 2/9, 3/7, 1. On a balance of 1,000 the
    # re-based instalments are 1,000/10 = 100, 900 x 2/9 = 200, 700 x 3/7 = 300, 400 x 1 = 400:
    # principal in proportion to the contracted revenue, repaid exactly at maturity.
    from engine.credit.schedule import contracted_weights

    w = contracted_weights(np.array([1.0, 2.0, 3.0, 4.0]))
    assert np.allclose(w, [0.1, 2 / 9, 3 / 7, 1.0], rtol=1e-15)
    b, paid = 1000.0, []
    for x in w:
        paid.append(b * x)
        b -= b * x
    assert np.allclose(paid, [100.0, 200.0, 300.0, 400.0], atol=1e-9) and abs(b) < 1e-9
    # no contracted revenue left: straight line over the months left (1/n)
    assert np.allclose(contracted_weights(np.array([5.0, 0.0, 0.0])), [1.0, 0.5, 1.0])


def test_opening_balance_of_a_facility_drawn_before_the_start(tmp_path):
    # $1.2m drawn 2025-01, straight line over 24 months (maturity 2026-12): twelve instalments of
    # $50,000 before the run starts in 2026-01 leave a scheduled opening balance of $600,000.00 (no
    # opening_balance_usd given); 12 payments left at the start.
    from engine.compile import compile_model
    from engine.scenario.load import load_scenario

    fac = SL_12.replace('first_draw_month = "2026-01"', 'first_draw_month = "2025-01"').replace("tenor_months = 12", "tenor_months = 24")
    p = write_scenario(tmp_path, horizon=24, life=60, extra="\n[[financing.facility]]\n" + fac)
    m = compile_model(load_scenario(p))
    assert abs(m.a["fin_opening"][0] - 600000.0) < CENT
    assert m.a["fin_n_left"][0, 0] == 12 and m.a["fin_n_left"][12, 0] == 0
    assert m.a["fin_phi"][0, 0] == pytest.approx(1 / 12) and m.a["fin_phi"][11, 0] == 1.0


def test_contracted_cfads_end_to_end(tmp_path):
    # Half the 100 GPUs on take-or-pay at $3.00 for 12 months, the rest at the $2.00 market price,
    # utilization 1, no costs: whole cash flow 100 x 730 x (0.5 x 3 + 0.5 x 2) = 182,500.00 a month;
    # contracted only 100 x 730 x 0.5 x 3 = 109,500.00. Two identical cohorts, one per facility
    # (ALL pledges c1's whole cash flow, CON only c2's contracts).
    extra = COHORT.format(name="c2") + _facility(SL_12, "ALL", "c1") + _facility(SL_12 + 'pledged_cash_flow = "contracted"\n', "CON", "c2")
    p = write_scenario(tmp_path, horizon=12, life=60, capex=30000.0, price=2.0, decline=0.0, vol=0.0, util=1.0, afr=0.0, extra=extra)
    text = p.read_text().replace("volatility_per_month = 0.0", "volatility_per_month = 0.0\ncontracted_frac = 0.5\ncontract_price_usd_per_gpu_hour = 3.0\ncontract_term_months = 12", 1)
    p.write_text(text)
    r = run(p, paths=2)
    cf = r.run.monthly["credit_cfads_usd"][0, 0]
    assert abs(cf[0] - 182500.0) < CENT and abs(cf[1] - 109500.0) < CENT
