"""The one accessor of the backtested statistic: P(material impairment recognised in the first 12 months).

The lead's materiality change (issue 16) adds to summary.json, per standard,
``summary["fleet"]["p_material_impairment_<std>"]["first_12_months"] = {"value": p, "se": se}``.
``p_material_impairment_12m`` reads that key. Until it exists (this branch), it falls back to any
impairment loss: the share of paths whose fleet-level first impairment month (the earliest over
cohorts, ``engine.summary.first_month_fleet``; 0 = never) is in months 1..12, with its binomial SE,
and says so (definition ``any_loss``). The fallback is to be removed once the key is merged.
"""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_MONTHS = 12
MATERIAL = "material"
ANY_LOSS = "any_loss"


@dataclass(frozen=True)
class Probability:
    """A probability with its Monte Carlo standard error and the definition it measures
    (``material``: the lead's material impairment; ``any_loss``: any impairment loss)."""

    value: float
    se: float
    definition: str


def p_material_impairment_12m(summary: dict, scalars: dict | None, standard: str) -> Probability:
    """P(material impairment recognised in months 1..12 of the run) under ``standard`` (asc360/ias36).

    Args:
        summary: the run's summary (``RunResult.summary``, as summary.json).
        scalars: the run's per-path arrays (``RunResult.run.scalars``), read only by the fallback:
            ``first_impairment_month`` (P, standard, cohort), month index 1 = start_month, 0 = never.
        standard: "asc360" or "ias36".
    """
    key = f"p_material_impairment_{standard}"
    fleet = summary["fleet"]
    if key in fleet:
        v = fleet[key]["first_12_months"]
        return Probability(value=float(v["value"]), se=float(v["se"]), definition=MATERIAL)
    # fallback until the materiality key is merged: any impairment loss in the first 12 months
    from engine.summary import STANDARD_NAMES, first_month_fleet, prob

    if not scalars or "first_impairment_month" not in scalars:
        raise ValueError(f"summary has no fleet {key} and the run kept no per-path first_impairment_month (run with store = \"paths\")")
    first = first_month_fleet(scalars["first_impairment_month"])[:, STANDARD_NAMES.index(standard)]
    p = prob((first > 0) & (first <= WINDOW_MONTHS))
    return Probability(value=p["value"], se=p["se"], definition=ANY_LOSS)
