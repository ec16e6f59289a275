"""Every scalar input of a scenario, named by a stable dotted path.

The name is the input's identity: its random stream is keyed by a hash of the name, so adding or
changing one input never changes another input's draws (common random numbers across scenarios).

Names:
    market.<GEN>.<field>                      price, decline, volatility, contract and spot shares
    next_gen.<GEN>.ship_months_from_start     explicit launches (absolute months after the start)
    next_gen.<GEN>.interval_months            cadence launches (months after the previous launch)
    next_gen.<GEN>.undercut_frac.<KEY>        KEY = an older generation or ``default``
    next_gen.<GEN>.utilization_cut_frac.<KEY>
    demand.utilization_frac, demand.price_elasticity
    failures.annual_failure_rate_frac.<KEY>
    costs.<field>
    accounting.used_value_decay_per_month
    financing.sofr.level_annual_frac          only when the scenario has [financing]
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.scenario import schema as S
from engine.scenario.dists import Dist, Fixed

MARKET_FIELDS = (
    "price_usd_per_gpu_hour",
    "decline_rate_per_month",
    "volatility_per_month",
    "contracted_frac",
    "spot_frac",
    "spot_discount_frac",
)
COST_FIELDS = (
    "power_draw_frac",
    "pue",
    "electricity_usd_per_kwh",
    "colocation_usd_per_kw_month",
    "staff_maintenance_usd_per_gpu_month",
    "network_usd_per_gpu_month",
)

# Allowed range of each kind of input, used to check posterior draws (the schema checks the rest).
BOUNDS: dict[str, tuple[float, float]] = {
    "price_usd_per_gpu_hour": (1e-12, float("inf")),
    "volatility_per_month": (0.0, float("inf")),
    "contracted_frac": (0.0, 1.0),
    "spot_frac": (0.0, 1.0),
    "spot_discount_frac": (0.0, 1.0),
    "ship_months_from_start": (0.0, float("inf")),
    "interval_months": (1e-12, float("inf")),
    "undercut_frac": (0.0, 1.0),
    "utilization_cut_frac": (0.0, 1.0),
    "utilization_frac": (0.0, 1.0),
    "price_elasticity": (0.0, float("inf")),
    "annual_failure_rate_frac": (0.0, 1.0),
    "power_draw_frac": (0.0, 1.0),
    "pue": (1.0, 5.0),
    "electricity_usd_per_kwh": (0.0, float("inf")),
    "colocation_usd_per_kw_month": (0.0, float("inf")),
    "staff_maintenance_usd_per_gpu_month": (0.0, float("inf")),
    "network_usd_per_gpu_month": (0.0, float("inf")),
    "used_value_decay_per_month": (0.0, 1.0),
    "level_annual_frac": (-0.05, 0.5),
}


def bounds_for(name: str) -> tuple[float, float]:
    """Allowed range for the input called ``name`` (by its field)."""
    for part in reversed(name.split(".")):
        if part in BOUNDS:
            return BOUNDS[part]
    return (float("-inf"), float("inf"))


def cadence_launches(s: S.Scenario) -> list[str]:
    return list(s.next_gen.cadence.generations) if s.next_gen.cadence else []


def iter_inputs(s: S.Scenario) -> Iterator[tuple[str, Dist]]:
    """(name, distribution) for every scalar input, fixed ones included, in a stable order."""
    for gen, m in s.market.items():
        for f in MARKET_FIELDS:
            yield f"market.{gen}.{f}", getattr(m, f)
    for launch in s.next_gen.launch:
        yield f"next_gen.{launch.generation}.ship_months_from_start", launch.ship_months_from_start
        for key, d in launch.undercut_frac.items():
            yield f"next_gen.{launch.generation}.undercut_frac.{key}", d
        for key, d in launch.utilization_cut_frac.items():
            yield f"next_gen.{launch.generation}.utilization_cut_frac.{key}", d
    if s.next_gen.cadence is not None:
        cad = s.next_gen.cadence
        for gen in cad.generations:
            yield f"next_gen.{gen}.interval_months", cad.interval_months
            for key, d in cad.undercut_frac.items():
                yield f"next_gen.{gen}.undercut_frac.{key}", d
            for key, d in cad.utilization_cut_frac.items():
                yield f"next_gen.{gen}.utilization_cut_frac.{key}", d
    yield "demand.utilization_frac", s.demand.utilization_frac
    yield "demand.price_elasticity", s.demand.price_elasticity
    for key, d in s.failures.annual_failure_rate_frac.items():
        yield f"failures.annual_failure_rate_frac.{key}", d
    for f in COST_FIELDS:
        yield f"costs.{f}", getattr(s.costs, f)
    yield "accounting.used_value_decay_per_month", s.accounting.used_value_decay_per_month
    if getattr(s, "financing", None) is not None:
        yield "financing.sofr.level_annual_frac", s.financing.sofr.level_annual_frac


def input_paths(s: S.Scenario) -> list[str]:
    """Names of the inputs that are random (not fixed): the ones that can be correlated."""
    return [name for name, d in iter_inputs(s) if not isinstance(d, Fixed)]
