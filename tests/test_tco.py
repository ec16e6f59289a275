"""Hand-computed checks of engine/tco.py (DOMAIN.md section 1.5) and the bench SPEC cost arithmetic.

Project standard: every expected number is computed by hand, with the arithmetic in a comment.
Dollar amounts are compared to the cent: tolerance CENT = 0.005 USD (half a cent). Rates and
ratios (monthly rate, utilization) are unit-free and compared with a relative tolerance of 1e-12.
"""

import math

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from engine.tco import (  # noqa: E402
    breakeven_utilization,
    capital_charge_annuity,
    capital_charge_straight_line,
    monthly_rate,
    usd_per_million_tokens,
)

CENT = 0.005  # USD: half a cent, the tolerance for every dollar amount in this file
REL = 1e-12  # relative tolerance for unit-free numbers

R10 = 1.10 ** (1.0 / 12.0) - 1.0  # 10 %/yr effective as a monthly rate, 0.0079741404289037...


def assert_usd(actual, expected):
    assert abs(float(actual) - float(expected)) <= CENT, (float(actual), float(expected))


def test_monthly_rate_10pct_annual():
    r = monthly_rate(0.10)
    # 1.10^(1/12) - 1 = 0.00797414042890374 (not 0.10 / 12 = 0.0083333)
    assert r == pytest.approx(0.00797414042890374, rel=REL)
    # compounding back: (1 + r)^12 = 1.10
    assert (1.0 + r) ** 12 == pytest.approx(1.10, rel=REL)


def test_monthly_rate_zero():
    assert monthly_rate(0.0) == 0.0


def test_straight_line_capital_charge_bench_cohort():
    # (30,000,000 - 0) / 72 = 416,666.67
    assert_usd(capital_charge_straight_line(30_000_000.0, 0.0, 72), 416_666.67)


def test_straight_line_capital_charge_with_salvage():
    # (30,000,000 - 3,000,000) / 72 = 27,000,000 / 72 = 375,000.00
    assert_usd(capital_charge_straight_line(30_000_000.0, 3_000_000.0, 72), 375_000.00)
    # (900,000 - 0) / 36 = 25,000.00 (the 900k / 3 y = 300k / y example, monthly)
    assert_usd(capital_charge_straight_line(900_000.0, 0.0, 36), 25_000.00)


def test_annuity_capital_charge_hand_value_no_salvage():
    pay = capital_charge_annuity(30_000_000.0, 0.0, 72, R10)
    # (1 + r)^72 = 1.10^6 = 1.771561;  1 - 1 / 1.771561 = 1 - 0.5644739301 = 0.4355260699
    # CRF = 0.0079741404289 / 0.4355260699 = 0.0183092149452
    # 30,000,000 x 0.0183092149452 = 549,276.45
    assert_usd(pay, 549_276.45)


def test_annuity_capital_charge_hand_value_with_salvage():
    pay = capital_charge_annuity(30_000_000.0, 3_000_000.0, 72, R10)
    # salvage term: 3,000,000 x r / ((1 + r)^72 - 1) = 3,000,000 x 0.0079741404289 / 0.771561
    #             = 23,922.4213 / 0.771561 = 31,005.22
    # 549,276.4484 - 31,005.2235 = 518,271.22
    assert_usd(pay, 518_271.22)


@pytest.mark.parametrize("cost,salvage,life,r", [
    (30_000_000.0, 0.0, 72, R10),
    (30_000_000.0, 3_000_000.0, 72, R10),
    (900_000.0, 90_000.0, 36, 1.08 ** (1 / 12) - 1),
    (1_200_000.0, 0.0, 48, 0.01),
])
def test_annuity_pv_of_payments_plus_pv_of_salvage_equals_cost(cost, salvage, life, r):
    pay = capital_charge_annuity(cost, salvage, life, r)
    # sum_{k=1..life} pay / (1 + r)^k + salvage / (1 + r)^life = cost
    pv = math.fsum(pay / (1.0 + r) ** k for k in range(1, life + 1)) + salvage / (1.0 + r) ** life
    assert_usd(pv, cost)


def test_annuity_zero_rate_is_straight_line():
    # r = 0: no time value, the level payment is (30,000,000 - 3,000,000) / 72 = 375,000.00
    assert_usd(capital_charge_annuity(30_000_000.0, 3_000_000.0, 72, 0.0), 375_000.00)


def test_annuity_exceeds_straight_line_at_positive_rate():
    # 549,276.45 (annuity, includes the return on capital) > 416,666.67 (straight line)
    assert capital_charge_annuity(30_000_000.0, 0.0, 72, R10) > capital_charge_straight_line(30_000_000.0, 0.0, 72)


def test_usd_per_million_tokens():
    # $2.00 per delivered GPU-hour at 1,000 tokens/s: 1,000 x 3,600 / 1e6 = 3.6 M tokens per hour
    # 2.00 / 3.6 = 0.5556 per million tokens
    v = usd_per_million_tokens(2.0, 1_000.0)
    assert_usd(v, 0.5556)
    assert v == pytest.approx(2.0 / 3.6, rel=REL)


def test_usd_per_million_tokens_vectorised():
    v = np.asarray(usd_per_million_tokens(np.array([2.0, 3.6, 1.0]), np.array([1_000.0, 1_000.0, 2_500.0])))
    # 2.00 / 3.6 = 0.5556;  3.60 / 3.6 = 1.0000;  1.00 / (2,500 x 3,600 / 1e6) = 1.00 / 9 = 0.1111
    np.testing.assert_allclose(v, [2.0 / 3.6, 1.0, 1.0 / 9.0], rtol=REL)


def test_breakeven_utilization():
    # $1.20 per available GPU-hour own cost vs $2.00 cloud: 1.20 / 2.00 = 0.60
    assert breakeven_utilization(1.20, 2.00) == pytest.approx(0.60, rel=REL)


def test_bench_energy_cost_per_gpu_hour():
    # 0.7 kW x 0.76 (load) = 0.532 kW;  x 1.3 PUE = 0.6916 kW;  x $0.08/kWh = $0.055328 per GPU-hour
    energy = 0.7 * 0.76 * 1.3 * 0.08
    assert energy == pytest.approx(0.055328, rel=REL)
    # per GPU-month of 730 hours: 730 x 0.055328 = $40.39 (40.38944)
    assert_usd(730 * energy, 40.39)


def test_bench_cohort_cost_per_gpu_hour_worked_example():
    # the bench cohort (SPEC v2): 1,000 GPUs, $30 M, 72 months, 730 h/month, energy 0.055328 $/GPU-h
    # on every alive GPU-hour, fixed opex $20,000/month; utilization 0.7, 1,000 tokens/s, cloud $2.00
    capital = capital_charge_straight_line(30_000_000.0, 0.0, 72)  # 416,666.67 a month
    energy = 1_000 * 730 * (0.7 * 0.76 * 1.3 * 0.08)  # 730,000 GPU-h x 0.055328 = 40,389.44
    fixed = 20_000.0
    monthly = capital + energy + fixed
    # 416,666.6667 + 40,389.44 + 20,000 = 477,056.11 a month
    assert_usd(energy, 40_389.44)
    assert_usd(monthly, 477_056.11)
    per_available = monthly / (1_000 * 730)
    # 477,056.1067 / 730,000 = $0.6535 per available GPU-hour
    assert_usd(per_available, 0.6535)
    per_delivered = monthly / (1_000 * 730 * 0.7)
    # 477,056.1067 / 511,000 = $0.9336 per delivered GPU-hour
    assert_usd(per_delivered, 0.9336)
    # 0.9336 / 3.6 = $0.2593 per million tokens
    assert_usd(usd_per_million_tokens(per_delivered, 1_000.0), 0.2593)
    # 0.6535 / 2.00 = 0.3268: own hardware is cheaper than $2.00 cloud above 32.7 % utilization
    assert breakeven_utilization(per_available, 2.0) == pytest.approx(0.6535015159817351 / 2.0, rel=1e-9)


# ---- issue 18 item 4: each component's annuity over its own life; the payment period ----------------------

COMPONENTS = (
    '[[fleet.cohort.component]]\nname = "gpu_modules"\ncapex_frac = 0.75\nuseful_life_months = {gpu}\n'
    '[[fleet.cohort.component]]\nname = "chassis"\ncapex_frac = 0.25\nuseful_life_months = {chassis}\n'
)


def _component_scenario(tmp_path, *, life, chassis, extra="", **kw):
    from tests._util import write_scenario

    path = write_scenario(tmp_path, life=life, extra=extra, **kw)
    text = path.read_text().replace("fixed_opex_usd_per_month = 0\n", "fixed_opex_usd_per_month = 0\n" + COMPONENTS.format(gpu=life, chassis=chassis), 1)
    path.write_text(text)
    return path


def _model(path):
    from engine.compile import compile_model
    from engine.scenario.load import load_scenario

    return compile_model(load_scenario(path))


def test_annuity_charges_each_component_over_its_own_life(tmp_path):
    # 100 GPUs x $10,000 = $1,000,000, bought at the start, 72-month horizon, cost of capital 10 %/yr:
    # GPU modules 75 % = $750,000 over 72 months, chassis 25 % = $250,000 over 48 months, no salvage.
    # r = 1.1^(1/12) - 1 = 0.0079741404289
    # GPU modules: (1 + r)^72 = 1.1^6 = 1.771561; CRF = r / (1 - 1/1.771561) = 0.0079741404289 / 0.4355260699
    #              = 0.0183092149452; 750,000 x 0.0183092149452 = 13,731.9112 a month, x 72 months = 988,697.61
    # chassis:     (1 + r)^48 = 1.1^4 = 1.4641;   CRF = 0.0079741404289 / (1 - 1/1.4641) = 0.0079741404289 / 0.3169865446
    #              = 0.0251560849; 250,000 x 0.0251560849 = 6,289.0212 a month, x 48 months (its own life) = 301,873.02
    # total 988,697.61 + 301,873.02 = 1,290,570.63 (the old rule charged the chassis 72 times: 1,441,507.14,
    # over-recovering it by 24 x 6,289.0212 = 150,936.51, half its own annuity's 48 payments)
    m = _model(_component_scenario(tmp_path, life=72, chassis=48, units=100, capex=10_000.0, horizon=72))
    assert_usd(m.a["capital_charge_annuity"][0], 1_290_570.63)
    # straight line: (750,000 - 0) + (250,000 - 0) = 1,000,000.00 over the horizon, as before
    assert_usd(m.a["capital_charge_sl"][0], 1_000_000.00)


def test_annuity_component_cut_by_the_horizon(tmp_path):
    # as above with a 36-month horizon: both components are in service all 36 months:
    # 36 x 13,731.9112 + 36 x 6,289.0212 = 494,348.80 + 226,404.76 = 720,753.57
    m = _model(_component_scenario(tmp_path, life=72, chassis=48, units=100, capex=10_000.0, horizon=36))
    assert_usd(m.a["capital_charge_annuity"][0], 720_753.57)


def test_annuity_annual_payment_period(tmp_path):
    # [tco] annuity_period = "annual": annual payments at 10 %/yr over the life in years, a twelfth a month.
    # GPU modules: CRF(10 %, 6 y) = 0.1 / (1 - 1.1^-6) = 0.1 / 0.4355260699 = 0.2296073804;
    #              750,000 x 0.2296073804 = 172,205.5353 a year = 14,350.4613 a month, x 72 months = 1,033,233.21
    # chassis:     CRF(10 %, 4 y) = 0.1 / (1 - 1.1^-4) = 0.1 / 0.3169865446 = 0.3154708037;
    #              250,000 x 0.3154708037 = 78,867.7009 a year = 6,572.3084 a month, x 48 months = 315,470.80
    # total 1,033,233.21 + 315,470.80 = 1,348,704.02 (above the monthly convention's 1,290,570.63: a year's
    # payment falls at its end, so each is larger)
    extra = '[tco]\nannuity_period = "annual"\n'
    m = _model(_component_scenario(tmp_path, life=72, chassis=48, units=100, capex=10_000.0, horizon=72, extra=extra))
    assert_usd(m.a["capital_charge_annuity"][0], 1_348_704.02)


def test_annuity_charge_per_month_periods():
    from engine.tco import annuity_charge_per_month

    # monthly: the level payment at the monthly rate (549,276.45 on $30 M over 72 months, above)
    assert_usd(annuity_charge_per_month(30_000_000.0, 0.0, 72, 0.10, "monthly"), 549_276.45)
    # annual: 30,000,000 x 0.2296073804 = 6,888,221.41 a year / 12 = 574,018.45 a month
    assert_usd(annuity_charge_per_month(30_000_000.0, 0.0, 72, 0.10, "annual"), 574_018.45)
    with pytest.raises(ValueError):
        annuity_charge_per_month(1.0, 0.0, 12, 0.1, "weekly")


# ---- issue 18 item 5: breakeven time of owning against renting ------------------------------------------

def test_breakeven_vs_cloud_function():
    from engine.tco import breakeven_vs_cloud

    # capex $28,032 per GPU; opex $350,400 over 876,000 hours sold = $0.40 per delivered hour; cloud $4.40:
    # saving 4.40 - 0.40 = $4.00 an hour; 28,032 / 4.00 = 7,008 GPU-hours; 876,000 sold of 1,752,000 available
    # at 730 h/month = 365 hours sold per alive GPU per month; 7,008 / 365 = 19.2 months.
    # cloud $0.35 < $0.40: never (inf); no hours sold: never; no cloud price (NaN): NaN.
    h, mo = breakeven_vs_cloud(28_032.0, np.array([4.40, 0.35, 4.40, np.nan]), 350_400.0, np.array([876_000.0, 876_000.0, 0.0, 876_000.0]),
                               1_752_000.0, 730.0)
    assert_usd(h[0], 7_008.00)
    assert mo[0] == pytest.approx(19.2, rel=REL)
    assert np.isposinf(h[1]) and np.isposinf(mo[1]) and np.isposinf(h[2]) and np.isposinf(mo[2])
    assert np.isnan(h[3]) and np.isnan(mo[3])


BREAKEVEN_RUN = dict(units=100, capex=28_032.0, life=24, horizon=24, price=2.0, decline=0.0, vol=0.0, util=0.5, afr=0.0)


def _breakeven_scenario(tmp_path, cloud):
    from tests._util import write_scenario

    path = write_scenario(tmp_path, name=f"be_{cloud}.toml", extra=f"[tco.cloud_price_usd_per_gpu_hour]\nH100 = {cloud}\n", **BREAKEVEN_RUN)
    path.write_text(path.read_text().replace("hours_per_month = 730.0", "hours_per_month = 730.0\nstaff_maintenance_usd_per_gpu_month = 146.0"))
    return path


def test_breakeven_vs_cloud_per_path_and_summary(tmp_path):
    from tests._util import run

    # 100 GPUs at $28,032, 24 months, price $2.00 flat, utilization 0.5, no failures, staff $146 per GPU-month:
    # opex = 100 x 146 x 24 = 350,400.00; hours sold = 100 x 730 x 0.5 x 24 = 876,000; available 1,752,000
    # opex per delivered hour = 350,400 / 876,000 = 0.40; saving at the $4.40 cloud price = 4.00 an hour
    # breakeven = 28,032 / 4.00 = 7,008.00 GPU-hours per GPU; hours sold per alive GPU-month = 730 x 0.5 = 365;
    # 7,008 / 365 = 19.20 months (inside the 24-month life)
    r = run(_breakeven_scenario(tmp_path, 4.40), paths=3, seed=1)
    s = r.run.scalars
    np.testing.assert_allclose(s["operating_cost_usd"][:, 0], 350_400.0, atol=CENT)
    np.testing.assert_allclose(s["breakeven_vs_cloud_gpu_hours"][:, 0], 7_008.00, atol=CENT)
    np.testing.assert_allclose(s["breakeven_vs_cloud_months"][:, 0], 19.20, atol=CENT)
    c = r.summary["cohorts"]["c1"]
    assert_usd(c["breakeven_vs_cloud_gpu_hours"]["mean"]["value"], 7_008.00)
    assert_usd(c["breakeven_vs_cloud_months"]["p50"]["value"], 19.20)
    assert c["p_breakeven_vs_cloud_never"]["value"] == 0.0


def test_breakeven_vs_cloud_never(tmp_path):
    from engine.jsontext import json_text
    from tests._util import run

    # cloud $0.35 below the $0.40 operating cost per delivered hour: owning never beats renting:
    # +inf on every path (results.nc), no finite paths for the statistics (null in summary.json), share 1
    r = run(_breakeven_scenario(tmp_path, 0.35), paths=3, seed=1)
    assert np.all(np.isposinf(r.run.scalars["breakeven_vs_cloud_months"]))
    c = r.summary["cohorts"]["c1"]
    assert c["p_breakeven_vs_cloud_never"] == {"value": 1.0, "se": 0.0}
    assert '"value": null' in json_text(c["breakeven_vs_cloud_months"]["p50"])
