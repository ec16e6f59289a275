"""The one accessor of the backtested statistic: P(material impairment recognised in the first 12 months).

summary.json holds, per standard, ``fleet.p_material_impairment_<std>.first_12_months`` =
``{"value": p, "se": se}``: the share of paths whose first material impairment (a month's loss of at
least ``accounting.materiality_frac`` of the fleet's carrying amount; docs/methodology.md §9.5) falls in
months 1..12 of the run, with its binomial SE.
"""

from __future__ import annotations

from dataclasses import dataclass

MATERIAL = "material"


@dataclass(frozen=True)
class Probability:
    """A probability with its Monte Carlo standard error and the definition it measures."""

    value: float
    se: float
    definition: str


def p_material_impairment_12m(summary: dict, standard: str) -> Probability:
    """P(material impairment recognised in months 1..12 of the run) under ``standard`` (asc360/ias36),
    read from the run's summary (``RunResult.summary``, as summary.json)."""
    v = summary["fleet"][f"p_material_impairment_{standard}"]["first_12_months"]
    return Probability(value=float(v["value"]), se=float(v["se"]), definition=MATERIAL)
