"""TCO per GPU-hour: capital charge conventions and the unit-cost ratios (host and JAX alike).

Capital charge per month for a component costing ``cost`` with salvage ``salvage`` and life
``life`` months, at monthly cost of capital ``r``:

    straight line:  (cost - salvage) / life
    annuity:        cost * CRF - salvage * r / ((1 + r)^life - 1),  CRF = r / (1 - (1 + r)^-life)

(DOMAIN.md section 1.5; the annuity is the level payment whose present value at r equals the cost
less the present value of the salvage.) ``annuity_period = "annual"`` (``[tco]``) takes the annual
payment at the effective annual rate over the life in years and spreads it evenly over the year's
months (so over its hours), the way TCO tables quoted per year do; "monthly" (default) pays monthly
at the monthly rate. Each component is charged for the months it is itself in service (its own life
within the primary asset's; components are not replaced at the end of their lives).

Cost per GPU-hour = (capital charge + operating cost) / hours: per *available* GPU-hour over alive GPUs x hours, per *delivered* GPU-hour over hours sold.
$ per million tokens = $ per delivered GPU-hour / (tokens per second x 3600 / 1e6). Breakeven
utilization against a cloud price = cost per available GPU-hour / cloud price.

Breakeven time against renting (Lenovo LP2225's T* = capex / (cloud $/h - on-prem opex $/h),
DOMAIN.md section 1.5), per cohort and path: owning saves ``cloud price - opex / hours sold`` per
delivered GPU-hour, so the purchase price of a GPU is recovered after

    hours  = capex per GPU / (cloud price - operating cost / GPU-hours sold)      (GPU-hours per GPU)
    months = hours / (hours sold per alive GPU per month),
             hours sold per alive GPU per month = hours_per_month x GPU-hours sold / GPU-hours available

+inf when owning never saves (no hours sold, or operating cost per delivered hour >= the cloud price);
NaN when the generation has no cloud price.
"""

from __future__ import annotations

import math

ANNUITY_PERIODS = ("monthly", "annual")


def monthly_rate(annual_rate: float) -> float:
    """Effective monthly rate equivalent to an effective annual rate."""
    return (1.0 + annual_rate) ** (1.0 / 12.0) - 1.0


def capital_charge_straight_line(cost_usd: float, salvage_usd: float, life_months: float) -> float:
    """USD per month."""
    return (cost_usd - salvage_usd) / life_months


def capital_charge_annuity(cost_usd: float, salvage_usd: float, life_months: float, monthly_rate_frac: float) -> float:
    """USD per month: the level payment recovering cost less the PV of salvage at the given rate."""
    r = monthly_rate_frac
    if abs(r) < 1e-12:
        return (cost_usd - salvage_usd) / life_months
    crf = r / (1.0 - (1.0 + r) ** (-life_months))
    return cost_usd * crf - salvage_usd * r / ((1.0 + r) ** life_months - 1.0)


def annuity_charge_per_month(cost_usd: float, salvage_usd: float, life_months: float, annual_rate: float, period: str = "monthly") -> float:
    """USD per month of the annuity capital charge under a payment period (``ANNUITY_PERIODS``).

    monthly: the level monthly payment at the effective monthly rate over ``life_months`` payments;
    annual:  the level annual payment at the effective annual rate over ``life_months / 12`` years,
             divided by 12 (a year's payment spread evenly over its months).
    """
    if period == "monthly":
        return capital_charge_annuity(cost_usd, salvage_usd, life_months, monthly_rate(annual_rate))
    if period == "annual":
        return capital_charge_annuity(cost_usd, salvage_usd, life_months / 12.0, annual_rate) / 12.0
    raise ValueError(f"annuity period {period!r}: expected one of {', '.join(ANNUITY_PERIODS)}")


def breakeven_vs_cloud(capex_per_gpu, cloud_price, opex_usd, gpu_hours_sold, gpu_hours_available, hours_per_month, xp=None):
    """(GPU-hours per GPU, months) after which owning a GPU beats renting at ``cloud_price``.

    Elementwise on NumPy or JAX arrays (``xp`` = numpy or jax.numpy; NumPy by default). +inf where
    owning never saves (no hours sold, or operating cost per delivered hour >= cloud price); NaN where
    the cloud price is NaN (none given for the generation).
    """
    if xp is None:
        import numpy as xp
    sold = gpu_hours_sold > 0
    opex_per_hour = opex_usd / xp.where(sold, gpu_hours_sold, 1.0)
    saving = cloud_price - opex_per_hour
    ok = sold & (saving > 0)
    hours = xp.where(ok, capex_per_gpu / xp.where(ok, saving, 1.0), math.inf)
    sold_per_gpu_month = hours_per_month * gpu_hours_sold / xp.where(gpu_hours_available > 0, gpu_hours_available, 1.0)
    months = xp.where(ok, hours / xp.where(ok, sold_per_gpu_month, 1.0), math.inf)
    no_price = xp.isnan(cloud_price)
    return xp.where(no_price, math.nan, hours), xp.where(no_price, math.nan, months)


def usd_per_million_tokens(usd_per_delivered_gpu_hour, tokens_per_second_per_gpu):
    return usd_per_delivered_gpu_hour / (tokens_per_second_per_gpu * 3600.0 / 1e6)


def breakeven_utilization(usd_per_available_gpu_hour, cloud_usd_per_gpu_hour):
    return usd_per_available_gpu_hour / cloud_usd_per_gpu_hour
