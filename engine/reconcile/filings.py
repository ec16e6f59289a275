"""Rows of the filings table (priors/observations/neocloud_financials.csv, a verbatim copy of
shared/data/financials/neocloud_financials.csv) and the figure each metric measures.

A row's value is converted to base units: ``USD m`` -> USD, ``MW`` and ``GPUs`` unchanged.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ScenarioError

REPO = Path(__file__).resolve().parents[2]
FILINGS_CSV = REPO / "priors" / "observations" / "neocloud_financials.csv"

# metric -> figure (docs/reconcile.md defines each modelled figure)
METRIC_FIGURE = {
    "revenue": "revenue", "revenue_group": "revenue", "revenue_core_AI_cloud": "revenue", "annual_revenue_reported": "revenue",
    "property_equipment_net": "ppe_net",
    "total_debt": "debt_total", "debt_total_principal": "debt_total", "debt_total_net_of_discount": "debt_total", "non_current_debt": "debt_total",
    "contractual_interest_expense": "interest", "total_interest_expense": "interest", "interest_expense_total": "interest",
    "capex": "capex",
    "RPO": "backlog", "revenue_backlog": "backlog",
    "active_power": "power_mw",
    "GPUs_deployed": "gpus",
}
_FACILITY = re.compile(r"^debt_(.+)_principal$")
_UNIT_SCALE = {"USD m": 1e6, "MW": 1.0, "GPUs": 1.0}
_BASE_UNIT = {"USD m": "USD", "MW": "MW", "GPUs": "GPUs"}


@dataclass(frozen=True)
class Reported:
    """One filings row. ``value`` is in the file's unit; ``value_base`` in USD / MW / GPUs (None if
    the unit is not one of those, e.g. percent or years)."""

    line: int            # line number in the CSV (header = 1)
    date: str
    entity: str
    metric: str
    value: float
    unit: str
    period: str
    source: str
    trust: str
    notes: str

    @property
    def value_base(self) -> float | None:
        scale = _UNIT_SCALE.get(self.unit)
        return None if scale is None else self.value * scale

    @property
    def base_unit(self) -> str:
        return _BASE_UNIT.get(self.unit, self.unit)

    def figure(self) -> tuple[str | None, str]:
        """(figure, facility name) the row measures; figure ``None`` = not a reconcilable figure."""
        if self.metric in METRIC_FIGURE:
            return METRIC_FIGURE[self.metric], ""
        m = _FACILITY.match(self.metric)
        if m:
            return "debt_facility", m.group(1)
        if self.metric.startswith("debt_") and not self.metric.startswith("debt_maturity") and self.period == "point":
            return "debt_facility", self.metric[len("debt_"):]  # an instrument's balance, e.g. debt_2030_senior_notes
        return None, ""


def read_filings(path: Path = FILINGS_CSV) -> list[Reported]:
    """Every row of the filings table. ``ScenarioError`` naming the file when it cannot be read."""
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise ScenarioError(str(path), "", "filings table not found (docs/reconcile.md)") from None
    out = []
    for i, r in enumerate(rows, start=2):
        out.append(Reported(i, r["date"], r["entity"], r["metric"], float(r["value"]), r["unit"], r["period"], r["source"], r["trust"], r["notes"]))
    return out


def entities(rows: list[Reported]) -> list[str]:
    """The entities in the table, sorted."""
    return sorted({r.entity for r in rows})
