"""``rackrisk reconcile SCENARIO [--entity NAME]``: load, check the entity, model the history, compare.

Bad input (unknown file, no entity, an entity without rows) raises ``ScenarioError`` naming the file,
the field and the allowed values; the CLI prints it on one line and exits 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import ScenarioError
from engine.reconcile.compare import Comparison, compare
from engine.reconcile.filings import FILINGS_CSV, Reported, entities, read_filings
from engine.reconcile.fleet import FleetHistory, fleet_history
from engine.reconcile.means import input_means
from engine.scenario import schema as S
from engine.scenario.load import load_scenario


@dataclass(frozen=True)
class Reconciliation:
    scenario: str
    entity: str
    filings: str
    comparisons: list[Comparison]
    history: FleetHistory

    @property
    def outside(self) -> list[Comparison]:
        return [c for c in self.comparisons if c.status == "OUTSIDE"]


def _entity_rows(rows: list[Reported], entity: str | None, scenario_file: str, filings: Path) -> tuple[str, list[Reported]]:
    allowed = ", ".join(entities(rows))
    if not entity:
        raise ScenarioError(scenario_file, "reconcile.entity", f"no entity to reconcile against: add [reconcile] entity = \"...\" or pass --entity; entities in {filings.name}: {allowed}")
    mine = [r for r in rows if r.entity == entity]
    if not mine:
        raise ScenarioError(scenario_file, "reconcile.entity", f"no rows for entity {entity!r} in {filings}; entities: {allowed}")
    return entity, mine


def reconcile(path: str | Path, entity: str | None = None, filings: Path = FILINGS_CSV, overrides: dict | None = None) -> Reconciliation:
    """Reconcile the scenario file ``path`` (``overrides``: ``--set``) against the filings of ``entity`` (default: its [reconcile] entity)."""
    loaded = load_scenario(path, overrides=overrides)
    s = loaded.scenario
    rows = read_filings(filings)
    name, mine = _entity_rows(rows, entity or (s.reconcile.entity if s.reconcile else None), str(loaded.path), filings)
    means = input_means(loaded)
    lead = s.reconcile.construction_lead_months if s.reconcile else 0
    first = min(S.month_index(c.purchase_month) for c in s.fleet.cohort) - lead
    last = max(S.month_index(c.purchase_month) + max(c.useful_life_months, c.life_change.useful_life_months if c.life_change else 0) for c in s.fleet.cohort)
    fh = fleet_history(loaded, means, np.arange(first, max(last, S.month_index(s.run.start_month)) + 1))
    try:
        shown = str(filings.relative_to(Path.cwd()))
    except ValueError:
        shown = str(filings)
    return Reconciliation(str(path), name, shown, compare(mine, fh, s, means), fh)
