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
