"""Hand-computed checks of engine/accounting: depreciation, forecasts, ASC 360 and IAS 36.

Project standard: every expected number is computed by hand, with the arithmetic in a comment.
Dollar amounts are compared to the cent: tolerance CENT = 0.005 USD (half a cent). Flags are
compared exactly. Pure (unit-free) numbers such as geometric sums are compared with a relative
tolerance of 1e-12, tighter than anything a cent-level check on a fleet would need.

Rules (see /work/shared/DOMAIN.md 1.1-1.3): straight-line depreciation (cost - salvage) / life;
after an impairment (ASC 360-10-35-20, IAS 36.63) or a change of useful life (ASC 250-10-45-17,
prospective), the remaining depreciable amount (carrying amount - salvage) is spread over the
remaining life.
"""

import math

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from engine.accounting.depreciation import monthly_depreciation, straight_line_schedule  # noqa: E402
from engine.accounting.forecast import forecast_value, geometric_sum  # noqa: E402
from engine.accounting.impairment import asc360, ias36  # noqa: E402

CENT = 0.005  # USD: half a cent, the tolerance for every dollar amount in this file
REL = 1e-12  # relative tolerance for unit-free sums


def f64(x):
    return np.asarray(x, dtype=np.float64)


def assert_usd(actual, expected):
    """Element-wise equality to the cent (|actual - expected| <= 0.005 USD)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=0.0, atol=CENT)


# --------------------------------------------------------------------------------------------
# 1. Straight-line depreciation
# --------------------------------------------------------------------------------------------


def test_monthly_depreciation_900k_over_36_months_zero_salvage():
    dep = monthly_depreciation(f64(900_000.0), f64(0.0), f64(36.0))
    # (900,000 - 0) / 36 = 25,000.00 a month; x 12 = 300,000 a year (= 900k / 3 y)
    assert_usd(dep, 25_000.00)
    assert_usd(12 * dep, 300_000.00)


def test_monthly_depreciation_900k_over_72_months_zero_salvage():
    dep = monthly_depreciation(f64(900_000.0), f64(0.0), f64(72.0))
    # (900,000 - 0) / 72 = 12,500.00 a month; x 12 = 150,000 a year (= 900k / 6 y)
    assert_usd(dep, 12_500.00)
    assert_usd(12 * dep, 150_000.00)


def test_monthly_depreciation_with_10pct_salvage():
    dep = monthly_depreciation(f64([900_000.0, 900_000.0]), f64([90_000.0, 90_000.0]), f64([36.0, 72.0]))
    # salvage = 10% x 900,000 = 90,000
    # 36 months: (900,000 - 90,000) / 36 = 810,000 / 36 = 22,500.00
    # 72 months: (900,000 - 90,000) / 72 = 810,000 / 72 = 11,250.00
    assert_usd(dep, [22_500.00, 11_250.00])


def test_monthly_depreciation_zero_when_no_life_left():
    dep = monthly_depreciation(f64([500_000.0, 500_000.0]), f64([0.0, 0.0]), f64([0.0, -3.0]))
    # rem <= 0: nothing left to depreciate over -> 0.00
    assert_usd(dep, [0.0, 0.0])


def test_schedule_900k_36_months_carrying_amount_after_12_months():
    sched = straight_line_schedule(900_000.0, 0.0, 36)
    assert len(sched) == 36
    # after 12 months: 900,000 - 12 x 25,000 = 600,000.00
    assert_usd(sched[11], 600_000.00)
    # after month 1: 900,000 - 25,000 = 875,000.00
    assert_usd(sched[0], 875_000.00)
    # end of life: 900,000 - 36 x 25,000 = 0.00
    assert_usd(sched[-1], 0.00)


def test_schedule_900k_72_months_carrying_amount_after_12_months():
    sched = straight_line_schedule(900_000.0, 0.0, 72)
    assert len(sched) == 72
    # after 12 months: 900,000 - 12 x 12,500 = 750,000.00
    assert_usd(sched[11], 750_000.00)
    assert_usd(sched[-1], 0.00)


def test_schedule_900k_36_months_10pct_salvage():
    sched = straight_line_schedule(900_000.0, 90_000.0, 36)
    assert len(sched) == 36
    # after 12 months: 900,000 - 12 x 22,500 = 900,000 - 270,000 = 630,000.00
    assert_usd(sched[11], 630_000.00)
    # end of life: carried at salvage, 900,000 - 36 x 22,500 = 90,000.00
    assert_usd(sched[-1], 90_000.00)


def test_schedule_is_linear_every_month():
    sched = np.array(straight_line_schedule(900_000.0, 90_000.0, 36))
    # each month's charge: (900,000 - 90,000) / 36 = 22,500.00
    charges = -np.diff(np.concatenate([[900_000.0], sched]))
    assert_usd(charges, np.full(36, 22_500.00))


def test_rebased_formula_matches_original_charge_when_nothing_changes():
    # carrying amount after 12 of 36 months: 600,000 (above); remaining life 36 - 12 = 24
    dep = monthly_depreciation(f64(600_000.0), f64(0.0), f64(24.0))
    # (600,000 - 0) / 24 = 25,000.00 = the original (900,000 - 0) / 36
    assert_usd(dep, 25_000.00)


def test_useful_life_extension_new_monthly_charge():
    # cost 1,200,000, life 48, salvage 0: (1,200,000 - 0) / 48 = 25,000.00 a month
    # NBV after 12 months: 1,200,000 - 12 x 25,000 = 900,000.00
    # month 13: total life becomes 60 -> remaining 60 - 12 = 48 (ASC 250-10-45-17, prospective)
    dep = monthly_depreciation(f64(900_000.0), f64(0.0), f64(60.0 - 12.0))
    # 900,000 / 48 = 18,750.00
    assert_usd(dep, 18_750.00)


def test_useful_life_extension_schedule():
    sched = straight_line_schedule(1_200_000.0, 0.0, 48, change_at_month=13, new_life_months=60)
    assert len(sched) == 60  # months 1..60 under the new total life
    # month 12 (old life): 1,200,000 - 12 x 25,000 = 900,000.00 (no restatement of the past)
    assert_usd(sched[11], 900_000.00)
    # month 13: 900,000 - 900,000 / 48 = 900,000 - 18,750 = 881,250.00
    assert_usd(sched[12], 881_250.00)
    # month 24: 900,000 - 12 x 18,750 = 900,000 - 225,000 = 675,000.00
    assert_usd(sched[23], 675_000.00)
    # month 60: 900,000 - 48 x 18,750 = 0.00
    assert_usd(sched[-1], 0.00)
    # months 1..12 charge 25,000.00; months 13..60 charge 18,750.00
    charges = -np.diff(np.concatenate([[1_200_000.0], sched]))
    assert_usd(charges, np.concatenate([np.full(12, 25_000.00), np.full(48, 18_750.00)]))


def test_useful_life_extension_schedule_with_salvage():
    sched = straight_line_schedule(1_200_000.0, 120_000.0, 48, change_at_month=13, new_life_months=60)
    # first 12 months: (1,200,000 - 120,000) / 48 = 22,500.00; NBV 1,200,000 - 270,000 = 930,000.00
    assert_usd(sched[11], 930_000.00)
    # from month 13: (930,000 - 120,000) / (60 - 12) = 810,000 / 48 = 16,875.00
    assert_usd(sched[12], 930_000.00 - 16_875.00)  # 913,125.00
    # end of life at salvage: 930,000 - 48 x 16,875 = 120,000.00
    assert len(sched) == 60
    assert_usd(sched[-1], 120_000.00)


def test_useful_life_shortening_new_monthly_charge_and_schedule():
    # cost 1,200,000, life 48, salvage 0; NBV after 12 months 900,000.00 (above)
    # month 13: total life becomes 36 -> remaining 36 - 12 = 24
    dep = monthly_depreciation(f64(900_000.0), f64(0.0), f64(36.0 - 12.0))
    # 900,000 / 24 = 37,500.00
    assert_usd(dep, 37_500.00)
    sched = straight_line_schedule(1_200_000.0, 0.0, 48, change_at_month=13, new_life_months=36)
    assert len(sched) == 36
    assert_usd(sched[11], 900_000.00)
    # month 13: 900,000 - 37,500 = 862,500.00
    assert_usd(sched[12], 862_500.00)
    # month 24: 900,000 - 12 x 37,500 = 450,000.00
    assert_usd(sched[23], 450_000.00)
    # month 36: 900,000 - 24 x 37,500 = 0.00
    assert_usd(sched[-1], 0.00)


# --------------------------------------------------------------------------------------------
# 2. Re-basing after an impairment (ASC 360-10-35-20, IAS 36.63)
# --------------------------------------------------------------------------------------------


def test_rebase_after_impairment_zero_salvage():
    # 900,000 over 36 months: NBV after 12 months 600,000; written down to 360,000 (loss 240,000)
    dep = monthly_depreciation(f64(360_000.0), f64(0.0), f64(36.0 - 12.0))
    # (360,000 - 0) / 24 = 15,000.00 (was 25,000.00)
    assert_usd(dep, 15_000.00)


def test_rebase_after_impairment_with_salvage():
    # 900,000, salvage 90,000, 36 months: NBV after 12 months 630,000; written down to 450,000
    dep = monthly_depreciation(f64(450_000.0), f64(90_000.0), f64(24.0))
    # (450,000 - 90,000) / 24 = 360,000 / 24 = 15,000.00 (was 22,500.00)
    assert_usd(dep, 15_000.00)


def test_rebase_after_impairment_per_component_broadcast():
    # two cohorts x two components, remaining life per cohort (broadcast over components)
    cv = f64([[360_000.0, 240_000.0], [100_000.0, 50_000.0]])
    sv = f64([[0.0, 24_000.0], [10_000.0, 0.0]])
    rem = f64([[24.0], [10.0]])
    dep = monthly_depreciation(cv, sv, rem)
    # cohort 0: 360,000 / 24 = 15,000.00;  (240,000 - 24,000) / 24 = 216,000 / 24 = 9,000.00
    # cohort 1: (100,000 - 10,000) / 10 = 9,000.00;  50,000 / 10 = 5,000.00
    assert_usd(dep, [[15_000.00, 9_000.00], [9_000.00, 5_000.00]])


def test_rebase_after_impairment_runs_down_to_salvage():
    # month-by-month: written-down 450,000, salvage 90,000, 24 months left -> salvage at the end
    cv, sv = 450_000.0, 90_000.0
    charges = []
    for rem in range(24, 0, -1):
        d = float(monthly_depreciation(f64(cv), f64(sv), f64(float(rem))))
        charges.append(d)
        cv -= d
    # every month (450,000 - 90,000) / 24 = 15,000.00; ends at 450,000 - 24 x 15,000 = 90,000.00
    assert_usd(charges, np.full(24, 15_000.00))
    assert_usd(cv, 90_000.00)


# --------------------------------------------------------------------------------------------
# 3. geometric_sum and forecast_value against explicit loops
# --------------------------------------------------------------------------------------------


def loop_geometric(log_x, m0, m1):
    """sum_{k=m0+1}^{m1} exp(log_x)^k by direct summation (0 when m1 <= m0)."""
    return math.fsum(math.exp(log_x * k) for k in range(int(m0) + 1, int(m1) + 1))


def gs(log_x, m0, m1):
    return float(geometric_sum(f64(log_x), f64(m0), f64(m1)))


@pytest.mark.parametrize("log_x,m0,m1", [(math.log(0.99), 0, 36), (math.log(0.95), 0, 72), (-0.0123, 5, 40)])
def test_geometric_sum_x_below_one(log_x, m0, m1):
    assert gs(log_x, m0, m1) == pytest.approx(loop_geometric(log_x, m0, m1), rel=REL)


def test_geometric_sum_x_below_one_hand_value():
    # x = 0.5, k = 1..3: 0.5 + 0.25 + 0.125 = 0.875
    assert gs(math.log(0.5), 0, 3) == pytest.approx(0.875, rel=REL)


@pytest.mark.parametrize("m0,m1", [(0, 1), (0, 72), (12, 60)])
def test_geometric_sum_x_equal_one_counts_months(m0, m1):
    # x = 1 (log_x = 0): sum of 1 over k = m0+1..m1 = m1 - m0
    assert gs(0.0, m0, m1) == pytest.approx(float(m1 - m0), rel=REL)


@pytest.mark.parametrize("log_x,m0,m1", [(0.01, 3, 20), (math.log(1.1) / 12, 0, 72), (0.05, 10, 11)])
def test_geometric_sum_x_above_one(log_x, m0, m1):
    assert gs(log_x, m0, m1) == pytest.approx(loop_geometric(log_x, m0, m1), rel=REL)


def test_geometric_sum_x_above_one_hand_value():
    # x = 2, k = 2..4 (m0 = 1): 4 + 8 + 16 = 28
    assert gs(math.log(2.0), 1, 4) == pytest.approx(28.0, rel=REL)


@pytest.mark.parametrize("log_x", [math.log(0.97), 0.0, 0.02])
def test_geometric_sum_m0_positive(log_x):
    # starts at k = m0 + 1 = 13
    assert gs(log_x, 12, 48) == pytest.approx(loop_geometric(log_x, 12, 48), rel=REL)


@pytest.mark.parametrize("log_x", [math.log(0.97), 0.0, 1e-9, 0.02])
@pytest.mark.parametrize("m0,m1", [(5, 5), (10, 4), (0, 0)])
def test_geometric_sum_empty_when_m1_not_above_m0(log_x, m0, m1):
    # m1 <= m0: empty sum = 0 exactly
    assert gs(log_x, m0, m1) == 0.0


@pytest.mark.parametrize("log_x", [1e-9, -1e-9, 5e-7, -5e-7])
@pytest.mark.parametrize("m0,m1", [(0, 72), (10, 60)])
def test_geometric_sum_near_one(log_x, m0, m1):
    # Hand value for log_x = 1e-9, m0 = 0, m1 = 72:
    #   sum_{k=1..72} e^(k L) = 72 + L x (1 + ... + 72) + O(L^2) = 72 + 1e-9 x 2,628 = 72.000002628
    # The series branch must agree with the direct loop as tightly as the expm1 branch does.
    assert gs(log_x, m0, m1) == pytest.approx(loop_geometric(log_x, m0, m1), rel=REL)


def test_geometric_sum_near_one_hand_value():
    # L = 1e-9, k = 1..72: 72 + L x 72 x 73 / 2 = 72 + 2,628e-9 = 72.000002628 (L^2 term ~ 1e-13)
    assert gs(1e-9, 0, 72) == pytest.approx(72.000002628, rel=REL)


def test_geometric_sum_continuous_across_series_threshold():
    # the engine switches from a series to expm1 at |log_x| = 1e-6; both sides must match the loop
    below, above = gs(0.999e-6, 0, 72), gs(1.001e-6, 0, 72)
    assert below == pytest.approx(loop_geometric(0.999e-6, 0, 72), rel=REL)
    assert above == pytest.approx(loop_geometric(1.001e-6, 0, 72), rel=REL)


def loop_forecast(*, log_d, alive, util, price_eff, contract_share, contract_price, renewal_price, share_after, m_contract, n, log_rho, log_a, var_cost, fixed_cost, hours, disposal):
    """The forecast in forecast.py's docstring, month by month (k = 1..n)."""
    a, rho, d = math.exp(log_a), math.exp(log_rho), math.exp(log_d)
    flows = []
    for k in range(1, int(n) + 1):
        in_term = k <= m_contract
        c_k = contract_share if in_term else share_after
        P_k = contract_price if in_term else renewal_price
        A_k = alive * a**k
        p_k = price_eff * rho**k
        rev = A_k * hours * ((1.0 - c_k) * util * p_k + c_k * P_k)
        cost = A_k * var_cost + fixed_cost
        flows.append((rev - cost) * d**k)
    flows.append(disposal * a**n * d**n)
    return math.fsum(flows)


BASE = dict(
    alive=100.0, util=0.5, price_eff=2.0, contract_share=0.6, contract_price=2.5, renewal_price=2.2,
    share_after=0.0, m_contract=3.0, n=6.0, log_rho=0.0, log_a=0.0, var_cost=40.0, fixed_cost=1_000.0,
    hours=730.0, disposal=50_000.0,
)


def fv(**kw):
    return float(forecast_value(**{k: f64(v) for k, v in kw.items()}))


def test_forecast_flat_undiscounted_market_after_term_hand_value():
    kw = dict(BASE, log_d=0.0)
    # months 1-3 (in term): 100 x 730 x [(1 - 0.6) x 0.5 x 2.00 + 0.6 x 2.50] = 73,000 x 1.90 = 138,700
    # months 4-6 (market):  100 x 730 x [1 x 0.5 x 2.00] = 73,000
    # cost each month: 100 x 40 + 1,000 = 5,000
    # total: 3 x (138,700 - 5,000) + 3 x (73,000 - 5,000) + 50,000 = 401,100 + 204,000 + 50,000 = 655,100.00
    assert_usd(loop_forecast(**kw), 655_100.00)
    assert_usd(fv(**kw), 655_100.00)


def test_forecast_flat_undiscounted_renewed_hand_value():
    kw = dict(BASE, log_d=0.0, share_after=0.6)
    # months 4-6 (renewed at 2.20): 73,000 x [0.4 x 0.5 x 2.00 + 0.6 x 2.20] = 73,000 x 1.72 = 125,560
    # total: 401,100 + 3 x (125,560 - 5,000) + 50,000 = 401,100 + 361,680 + 50,000 = 812,780.00
    assert_usd(loop_forecast(**kw), 812_780.00)
    assert_usd(fv(**kw), 812_780.00)


def test_forecast_discounted_one_month_hand_value():
    # n = 1, all market, no failures/decline, monthly factor d = 1 / 1.01
    kw = dict(BASE, log_d=-math.log(1.01), n=1.0, m_contract=0.0, contract_share=0.0, disposal=10_100.0)
    # CF_1 = 73,000 x 0.5 x 2.00 - 5,000 = 68,000; (68,000 + 10,100) / 1.01 = 78,100 / 1.01 = 77,326.73
    assert_usd(fv(**kw), 77_326.73)


LOG_D10 = -math.log(1.10) / 12.0  # 10 %/yr effective -> monthly log discount


@pytest.mark.parametrize("log_d", [0.0, LOG_D10], ids=["undiscounted", "discounted"])
@pytest.mark.parametrize("share_after,renewal_price", [(0.0, 2.2), (0.6, 2.2)], ids=["market", "renew"])
@pytest.mark.parametrize("log_rho,log_a", [(0.0, 0.0), (-0.02, math.log(1 - 0.06) / 12)], ids=["flat", "drift"])
@pytest.mark.parametrize("m_contract", [0.0, 17.0, 48.0], ids=["no_term", "mid_term", "term_to_end"])
def test_forecast_value_matches_monthly_loop(log_d, share_after, renewal_price, log_rho, log_a, m_contract):
    # a realistic cohort: 1,000 GPUs, 48 months left, contract expiring in month 17
    kw = dict(
        log_d=log_d, alive=1_000.0, util=0.7, price_eff=2.3, contract_share=0.5, contract_price=2.4,
        renewal_price=renewal_price, share_after=share_after, m_contract=m_contract, n=48.0,
        log_rho=log_rho, log_a=log_a, var_cost=40.39, fixed_cost=20_000.0, hours=730.0, disposal=1_500_000.0,
    )
    assert_usd(fv(**kw), loop_forecast(**kw))


def test_forecast_value_vectorised_over_cohorts():
    rows = [
        dict(BASE, log_d=0.0),
        dict(BASE, log_d=LOG_D10, share_after=0.6, log_rho=-0.03, log_a=-0.004, n=30.0, m_contract=7.0),
    ]
    kw = {k: f64([r[k] for r in rows]) for k in rows[0]}
    got = np.asarray(forecast_value(**kw))
    assert_usd(got, [loop_forecast(**r) for r in rows])
    assert_usd(got[0], 655_100.00)  # the hand value above


def test_forecast_value_tiny_failure_rate_matches_loop():
    # log_a = -5e-7 (almost no failures), flat price, undiscounted: the alive-weighted sums take the
    # series branch of geometric_sum. 1,000 GPUs fully contracted at 2.00, 60 months:
    # revenue ~ 1,000 x 730 x 2.00 x 60 = 87,600,000, so a relative error of 5e-7 would be ~ $44.
    kw = dict(
        log_d=0.0, alive=1_000.0, util=0.7, price_eff=2.0, contract_share=1.0, contract_price=2.0,
        renewal_price=2.0, share_after=1.0, m_contract=24.0, n=60.0, log_rho=0.0, log_a=-5e-7,
        var_cost=40.0, fixed_cost=20_000.0, hours=730.0, disposal=0.0,
    )
    assert_usd(fv(**kw), loop_forecast(**kw))


# --------------------------------------------------------------------------------------------
# 4. ASC 360 and IAS 36 (engine/accounting/impairment.py)
# --------------------------------------------------------------------------------------------

COHORT = np.eye(2)  # group = identity: each cohort is its own asset group
FLEET = np.ones((1, 2))  # one group holding both cohorts
BOTH = f64([1.0, 1.0])

# C = 2 cohorts, K = 2 components (e.g. GPU baseboard, host); cohort totals 1,000,000 and 500,000
CV2 = f64([[600_000.0, 400_000.0], [300_000.0, 200_000.0]])
# K = 1 version: cohort totals 1,000,000 and 500,000
CV1 = f64([[1_000_000.0], [500_000.0]])


def run_asc(cv, undisc, fair, tested=BOTH, group=COHORT):
    loss, impaired = asc360(cv, recoverable_undisc=f64(undisc), fair_value=f64(fair), tested=f64(tested), group=f64(group))
    return np.asarray(loss), np.asarray(impaired)


def run_ias(cv, cv0, viu, fvlcd, tested=BOTH, group=COHORT):
    loss, rev, impaired = ias36(cv, f64(cv0), value_in_use=f64(viu), fvlcd=f64(fvlcd), tested=f64(tested), group=f64(group))
    return np.asarray(loss), np.asarray(rev), np.asarray(impaired)


def test_asc360_recoverable_no_loss_even_though_fair_value_below_carrying():
    # cohort 0: CV 1,000,000 <= undiscounted 1,100,000 -> step 1 passes, although FV 800,000 < CV
    # cohort 1: CV   500,000 <= undiscounted   600,000 -> passes, although FV 450,000 < CV
    loss, impaired = run_asc(CV2, [1_100_000.0, 600_000.0], [800_000.0, 450_000.0])
    assert_usd(loss, np.zeros((2, 2)))
    assert impaired.tolist() == [False, False]


def test_asc360_carrying_equal_to_undiscounted_is_recoverable():
    # step 1 fails only if CV *exceeds* the undiscounted flows: 1,000,000 = 1,000,000 -> no loss
    loss, impaired = run_asc(CV1, [1_000_000.0, 500_000.0], [1.0, 1.0])
    assert_usd(loss, np.zeros((2, 1)))
    assert impaired.tolist() == [False, False]


def test_asc360_not_recoverable_loss_is_carrying_minus_fair_value_k1():
    # cohort 0: CV 1,000,000 > undiscounted 900,000 -> loss = 1,000,000 - 800,000 = 200,000.00
    # cohort 1: CV 500,000 <= 600,000 -> recoverable, 0.00
    loss, impaired = run_asc(CV1, [900_000.0, 600_000.0], [800_000.0, 450_000.0])
    assert_usd(loss, [[200_000.00], [0.00]])
    assert impaired.tolist() == [True, False]


def test_asc360_not_recoverable_loss_allocated_pro_rata_to_components():
    loss, impaired = run_asc(CV2, [900_000.0, 600_000.0], [800_000.0, 450_000.0])
    # cohort 0 loss 1,000,000 - 800,000 = 200,000, pro rata to CV 600,000 : 400,000
    #   200,000 x 600/1,000 = 120,000.00;  200,000 x 400/1,000 = 80,000.00
    assert_usd(loss, [[120_000.00, 80_000.00], [0.00, 0.00]])
    assert impaired.tolist() == [True, False]


def test_asc360_both_cohorts_impaired_at_cohort_level():
    loss, impaired = run_asc(CV2, [900_000.0, 450_000.0], [700_000.0, 350_000.0])
    # cohort 0: 1,000,000 - 700,000 = 300,000 -> 300,000 x 0.6 = 180,000.00, x 0.4 = 120,000.00
    # cohort 1:   500,000 - 350,000 = 150,000 -> 150,000 x 0.6 =  90,000.00, x 0.4 =  60,000.00
    assert_usd(loss, [[180_000.00, 120_000.00], [90_000.00, 60_000.00]])
    assert impaired.tolist() == [True, True]


def test_asc360_untested_cohort_untouched():
    # cohort 0 would fail step 1 (900,000 < 1,000,000) but is not tested now
    loss, impaired = run_asc(CV2, [900_000.0, 450_000.0], [800_000.0, 350_000.0], tested=[0.0, 1.0])
    # cohort 0: 0.00 (not tested); cohort 1: 500,000 - 350,000 = 150,000 -> 90,000.00 / 60,000.00
    assert_usd(loss, [[0.00, 0.00], [90_000.00, 60_000.00]])
    assert impaired.tolist() == [False, True]


def test_asc360_fleet_level_surplus_covers_shortfall():
    undisc, fair = [900_000.0, 650_000.0], [800_000.0, 450_000.0]
    # cohort level: cohort 0 fails (1,000,000 > 900,000): loss 1,000,000 - 800,000 = 200,000
    loss_c, imp_c = run_asc(CV2, undisc, fair, group=COHORT)
    assert_usd(loss_c, [[120_000.00, 80_000.00], [0.00, 0.00]])
    assert imp_c.tolist() == [True, False]
    # fleet level: CV 1,000,000 + 500,000 = 1,500,000 <= 900,000 + 650,000 = 1,550,000 -> no loss
    loss_f, imp_f = run_asc(CV2, undisc, fair, group=FLEET)
    assert_usd(loss_f, np.zeros((2, 2)))
    assert imp_f.tolist() == [False]


def test_asc360_fleet_level_loss_allocated_over_all_cohorts():
    loss, impaired = run_asc(CV2, [900_000.0, 550_000.0], [800_000.0, 450_000.0], group=FLEET)
    # fleet CV 1,500,000 > undiscounted 900,000 + 550,000 = 1,450,000 -> not recoverable
    # loss = 1,500,000 - (800,000 + 450,000) = 250,000; per dollar of CV 250,000 / 1,500,000 = 1/6
    # pro rata (loss_allocation = "pro_rata"):
    #   600,000 / 6 = 100,000.00; 400,000 / 6 = 66,666.67; 300,000 / 6 = 50,000.00; 200,000 / 6 = 33,333.33
    pro, _ = asc360(CV2, recoverable_undisc=f64([900_000.0, 550_000.0]), fair_value=f64([800_000.0, 450_000.0]), tested=BOTH, group=f64(FLEET), floor=False)
    assert_usd(pro, [[100_000.00, 66_666.67], [50_000.00, 33_333.33]])
    # floored (35-28, the default): pro rata would leave cohort 1 at 416,666.67, below its own FV 450,000;
    #   it takes its room 500,000 - 450,000 = 50,000 (30,000 / 20,000) and cohort 0 the other 200,000
    #   (120,000 / 80,000; 800,000 = its FV). tests/test_allocation_floor.py has more cases.
    assert_usd(loss, [[120_000.00, 80_000.00], [30_000.00, 20_000.00]])
    assert impaired.tolist() == [True]


def test_ias36_loss_is_carrying_minus_higher_of_viu_and_fvlcd():
    # cohort 0: recoverable = max(VIU 700,000, FVLCD 750,000) = 750,000 -> loss 1,000,000 - 750,000 = 250,000
    #   pro rata: 250,000 x 0.6 = 150,000.00, x 0.4 = 100,000.00
    # cohort 1: recoverable = max(VIU 520,000, FVLCD 400,000) = 520,000 >= 500,000 -> no loss
    loss, rev, impaired = run_ias(CV2, CV2, [700_000.0, 520_000.0], [750_000.0, 400_000.0])
    assert_usd(loss, [[150_000.00, 100_000.00], [0.00, 0.00]])
    assert_usd(rev, np.zeros((2, 2)))  # no headroom (cv_no_impairment = cv): nothing to reverse
    assert impaired.tolist() == [True, False]


def test_ias36_loss_uses_viu_when_higher_k1():
    # cohort 0: max(VIU 900,000, FVLCD 600,000) = 900,000 -> loss 100,000.00
    # cohort 1: max(VIU 300,000, FVLCD 420,000) = 420,000 -> loss 500,000 - 420,000 = 80,000.00
    loss, rev, impaired = run_ias(CV1, CV1, [900_000.0, 300_000.0], [600_000.0, 420_000.0])
    assert_usd(loss, [[100_000.00], [80_000.00]])
    assert_usd(rev, np.zeros((2, 1)))
    assert impaired.tolist() == [True, True]


def test_asc360_and_ias36_disagree_undiscounted_recovers_discounted_does_not():
    # cohort 0, CV 1,000,000: undiscounted flows 1,050,000 >= CV -> ASC step 1 passes, no loss,
    # although FV 800,000 < CV. Discounted: VIU 900,000, FVLCD 780,000 -> recoverable 900,000 < CV
    # -> IAS loss 1,000,000 - 900,000 = 100,000: 100,000 x 0.6 = 60,000.00, x 0.4 = 40,000.00
    # cohort 1, CV 500,000: undiscounted 600,000, VIU 510,000 -> neither standard impairs.
    loss_a, imp_a = run_asc(CV2, [1_050_000.0, 600_000.0], [800_000.0, 480_000.0])
    loss_i, rev_i, imp_i = run_ias(CV2, CV2, [900_000.0, 510_000.0], [780_000.0, 480_000.0])
    assert_usd(loss_a, np.zeros((2, 2)))
    assert imp_a.tolist() == [False, False]
    assert_usd(loss_i, [[60_000.00, 40_000.00], [0.00, 0.00]])
    assert imp_i.tolist() == [True, False]


def test_ias36_reversal_capped_at_no_impairment_carrying_amount():
    # cohort 0 was written down: CV [300,000, 200,000] = 500,000; had no loss been recognised,
    # CV would be [450,000, 250,000] -> headroom [150,000, 50,000] = 200,000
    # recoverable max(VIU 900,000, FVLCD 700,000) = 900,000: excess 900,000 - 500,000 = 400,000,
    # capped at headroom 200,000 -> reversal [150,000.00, 50,000.00] (back to cv_no_impairment)
    cv = f64([[300_000.0, 200_000.0], [300_000.0, 200_000.0]])
    cv0 = f64([[450_000.0, 250_000.0], [300_000.0, 200_000.0]])
    loss, rev, impaired = run_ias(cv, cv0, [900_000.0, 600_000.0], [700_000.0, 0.0])
    assert_usd(loss, np.zeros((2, 2)))
    assert_usd(rev, [[150_000.00, 50_000.00], [0.00, 0.00]])
    assert_usd(cv + rev, [[450_000.00, 250_000.00], [300_000.00, 200_000.00]])
    assert impaired.tolist() == [False, False]


def test_ias36_reversal_smaller_than_headroom_k1():
    # CV [400,000; 500,000], no-impairment [650,000; 500,000] -> headroom 250,000 and 0
    # cohort 0: recoverable max(VIU 480,000, FVLCD 300,000) = 480,000 -> reversal 480,000 - 400,000 = 80,000.00
    #   (< headroom 250,000, so the new CV is the recoverable amount 480,000, not 650,000)
    # cohort 1: recoverable 700,000 > 500,000 but headroom 0 -> reversal 0.00
    cv = f64([[400_000.0], [500_000.0]])
    cv0 = f64([[650_000.0], [500_000.0]])
    loss, rev, impaired = run_ias(cv, cv0, [480_000.0, 700_000.0], [300_000.0, 0.0])
    assert_usd(loss, np.zeros((2, 1)))
    assert_usd(rev, [[80_000.00], [0.00]])
    assert impaired.tolist() == [False, False]


def test_ias36_reversal_smaller_than_headroom_split_over_components():
    # CV [300,000, 200,000] = 500,000; no-impairment [450,000, 300,000] -> headroom [150,000, 100,000]
    # (headroom in the same 3:2 ratio as CV, as after a pro-rata loss on equal lives)
    # recoverable 600,000 -> reversal 600,000 - 500,000 = 100,000 < 250,000 headroom
    #   100,000 x 3/5 = 60,000.00;  100,000 x 2/5 = 40,000.00
    cv = f64([[300_000.0, 200_000.0], [300_000.0, 200_000.0]])
    cv0 = f64([[450_000.0, 300_000.0], [300_000.0, 200_000.0]])
    loss, rev, impaired = run_ias(cv, cv0, [600_000.0, 500_000.0], [0.0, 0.0])
    assert_usd(loss, np.zeros((2, 2)))
    assert_usd(rev, [[60_000.00, 40_000.00], [0.00, 0.00]])
    assert impaired.tolist() == [False, False]


def test_ias36_reversal_allocated_pro_rata_to_carrying_amounts_ias36_122():
    # IAS 36.122: a reversal for a unit is allocated to its assets pro rata with their carrying
    # amounts; 36.123: no asset above its no-impairment carrying amount, the excess going pro rata
    # to the other assets.
    # CV [300,000, 200,000] = 500,000; no-impairment [450,000, 250,000] -> headroom [150,000, 50,000]
    cv = f64([[300_000.0, 200_000.0]])
    cv0 = f64([[450_000.0, 250_000.0]])
    one = np.eye(1)
    # (a) recoverable 600,000 -> reversal 100,000 (< headroom 200,000)
    #   pro rata to CV 3:2: 100,000 x 300/500 = 60,000.00; 100,000 x 200/500 = 40,000.00
    #   (both within their headroom 150,000 / 50,000)
    _, rev, _ = run_ias(cv, cv0, [600_000.0], [0.0], tested=[1.0], group=one)
    assert_usd(rev, [[60_000.00, 40_000.00]])
    # (b) recoverable 650,000 -> reversal 150,000: pro rata 90,000 / 60,000, but component 1 is
    #   capped at its headroom 50,000; the excess 10,000 goes to component 0: 100,000.00 / 50,000.00
    _, rev, _ = run_ias(cv, cv0, [650_000.0], [0.0], tested=[1.0], group=one)
    assert_usd(rev, [[100_000.00, 50_000.00]])


def test_ias36_untested_cohort_untouched():
    # cohort 0 untested: no loss although max(VIU, FVLCD) 600,000 < CV 1,000,000
    # cohort 1 tested: loss 500,000 - max(400,000, 350,000) = 100,000 -> 60,000.00 / 40,000.00
    loss, rev, impaired = run_ias(CV2, CV2, [600_000.0, 400_000.0], [0.0, 350_000.0], tested=[0.0, 1.0])
    assert_usd(loss, [[0.00, 0.00], [60_000.00, 40_000.00]])
    assert_usd(rev, np.zeros((2, 2)))
    assert impaired.tolist() == [False, True]


def test_ias36_untested_cohort_gets_no_reversal():
    # cohort 0 has headroom 100,000 and a high recoverable amount but is not tested: no reversal
    # cohort 1 tested: recoverable 550,000 -> reversal 550,000 - 500,000 = 50,000 (< headroom 100,000),
    #   split 3:2 over headroom [60,000, 40,000] = CV ratio: 30,000.00 / 20,000.00
    cv = f64([[600_000.0, 400_000.0], [300_000.0, 200_000.0]])
    cv0 = f64([[660_000.0, 440_000.0], [360_000.0, 240_000.0]])
    loss, rev, impaired = run_ias(cv, cv0, [2_000_000.0, 550_000.0], [0.0, 0.0], tested=[0.0, 1.0])
    assert_usd(loss, np.zeros((2, 2)))
    assert_usd(rev, [[0.00, 0.00], [30_000.00, 20_000.00]])
    assert impaired.tolist() == [False, False]


def test_ias36_fleet_level_surplus_covers_shortfall():
    viu, fvlcd = [900_000.0, 650_000.0], [800_000.0, 450_000.0]
    # cohort level: cohort 0 recoverable 900,000 < 1,000,000 -> loss 100,000 -> 60,000.00 / 40,000.00
    loss_c, _, imp_c = run_ias(CV2, CV2, viu, fvlcd, group=COHORT)
    assert_usd(loss_c, [[60_000.00, 40_000.00], [0.00, 0.00]])
    assert imp_c.tolist() == [True, False]
    # fleet level: CV 1,500,000 <= max(900,000 + 650,000, 800,000 + 450,000) = 1,550,000 -> no loss
    loss_f, rev_f, imp_f = run_ias(CV2, CV2, viu, fvlcd, group=FLEET)
    assert_usd(loss_f, np.zeros((2, 2)))
    assert_usd(rev_f, np.zeros((2, 2)))
    assert imp_f.tolist() == [False]


def test_ias36_fleet_level_loss_allocated_over_all_cohorts():
    # fleet CV 1,500,000 vs recoverable max(VIU 700,000 + 500,000, FVLCD 650,000 + 550,000)
    #   = max(1,200,000, 1,200,000) = 1,200,000 -> loss 300,000; per dollar of CV 300,000 / 1,500,000 = 0.2
    #   600,000 x 0.2 = 120,000.00; 400,000 x 0.2 = 80,000.00; 300,000 x 0.2 = 60,000.00; 200,000 x 0.2 = 40,000.00
    # (the pro-rata allocation, loss_allocation = "pro_rata")
    pro, _, _ = ias36(CV2, CV2, value_in_use=f64([700_000.0, 500_000.0]), fvlcd=f64([650_000.0, 550_000.0]), tested=BOTH, group=f64(FLEET), floor=False)
    assert_usd(pro, [[120_000.00, 80_000.00], [60_000.00, 40_000.00]])
    # floored (36.105, the default): cohort 1's FVLCD 550,000 is above its carrying amount 500,000, so
    #   it takes nothing; cohort 0 takes all 300,000 (180,000 / 120,000), ending at 700,000 >= its FVLCD 650,000
    loss, _, impaired = run_ias(CV2, CV2, [700_000.0, 500_000.0], [650_000.0, 550_000.0], group=FLEET)
    assert_usd(loss, [[180_000.00, 120_000.00], [0.0, 0.0]])
    assert impaired.tolist() == [True]


def test_one_asset_tests_to_the_cent():
    """One cohort with one component (C = K = 1, the shape engine.accounting.impairment takes without an
    allocation): hand cases, cent for cent.

    ASC 360: carrying $1,000,000.00 > undiscounted $900,000.00, so impaired; loss = 1,000,000 - fair 700,000 =
    $300,000.00 (35-17). Recoverable ($1,000,000.00 undiscounted): no loss. Untested: no loss.
    IAS 36: recoverable = max(VIU 750,000.00, FVLCD 720,000.00) = 750,000.00; loss = $250,000.00 (36.59).
    Reversal (36.117): carrying 600,000.00, no-impairment amount 900,000.00 (headroom 300,000.00), recoverable
    800,000.00 -> reversal $200,000.00; recoverable 1,000,000.00 -> capped at the headroom, $300,000.00."""
    one = f64([[1.0]])
    tested, untested = f64([1.0]), f64([0.0])
    cv = f64([[1_000_000.0]])
    loss, imp = asc360(cv, recoverable_undisc=f64([900_000.0]), fair_value=f64([700_000.0]), tested=tested, group=one)
    assert float(loss[0, 0]) == 300_000.0 and bool(imp[0])
    loss, imp = asc360(cv, recoverable_undisc=f64([1_000_000.0]), fair_value=f64([700_000.0]), tested=tested, group=one)
    assert float(loss[0, 0]) == 0.0 and not bool(imp[0])
    loss, _ = asc360(cv, recoverable_undisc=f64([900_000.0]), fair_value=f64([700_000.0]), tested=untested, group=one)
    assert float(loss[0, 0]) == 0.0
    loss, rev, imp = ias36(cv, cv, value_in_use=f64([750_000.0]), fvlcd=f64([720_000.0]), tested=tested, group=one)
    assert (float(loss[0, 0]), float(rev[0, 0]), bool(imp[0])) == (250_000.0, 0.0, True)
    low, base = f64([[600_000.0]]), f64([[900_000.0]])
    for recoverable, want in ((800_000.0, 200_000.0), (1_000_000.0, 300_000.0)):
        loss, rev, imp = ias36(low, base, value_in_use=f64([recoverable]), fvlcd=f64([0.0]), tested=tested, group=one)
        assert (float(loss[0, 0]), round(float(rev[0, 0]), 2), bool(imp[0])) == (0.0, want, False)
