"""TCO per GPU-hour: capital charge conventions and the unit-cost ratios (host and JAX alike).

Capital charge per month for a component costing ``cost`` with salvage ``salvage`` and life
``life`` months, at monthly cost of capital ``r``:

    straight line:  (cost - salvage) / life
    annuity:        cost * CRF - salvage * r / ((1 + r)^life - 1),  CRF = r / (1 - (1 + r)^-life)

(DOMAIN.md section 1.5; the annuity is the level payment whose present value at r equals the cost
less the present value of the salvage.) Cost per GPU-hour = (capital charge + operating cost) /
hours: per *available* GPU-hour over alive GPUs x hours, per *delivered* GPU-hour over hours sold.
$ per million tokens = $ per delivered GPU-hour / (tokens per second x 3600 / 1e6). Breakeven
utilization against a cloud price = cost per available GPU-hour / cloud price.
"""

from __future__ import annotations


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


def usd_per_million_tokens(usd_per_delivered_gpu_hour, tokens_per_second_per_gpu):
    return usd_per_delivered_gpu_hour / (tokens_per_second_per_gpu * 3600.0 / 1e6)


def breakeven_utilization(usd_per_available_gpu_hour, cloud_usd_per_gpu_hour):
    return usd_per_available_gpu_hour / cloud_usd_per_gpu_hour
