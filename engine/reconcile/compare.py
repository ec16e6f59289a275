"""Modelled against reported, figure by figure.

relative difference = modelled / reported - 1; a gated figure is ``ok`` when |difference| <= its
tolerance, ``OUTSIDE`` otherwise. Figures without a gate are printed with the reason (``NO_GATE``).
Rows that are not a reconcilable figure, or fall on or after the valuation date, are listed as
``not reconciled`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.reconcile import debt
from engine.reconcile.filings import Reported
from engine.reconcile.fleet import FleetHistory
from engine.reconcile.periods import Period, parse_period
from engine.scenario import schema as S

# figure -> (tolerance as a fraction, or None; why). docs/reconcile.md has the same table.
TOLERANCE_FRAC: dict[str, tuple[float | None, str]] = {
    "revenue": (0.15, "issue 16 requirement"),
    "ppe_net": (0.15, "issue 16 requirement"),
    "gpus": (0.15, "as revenue: the fleet size drives both"),
    "debt_facility": (0.15, "10-Q balances (trust A) of a facility the scenario models by name; draw timing is approximate"),
    "capex": (0.25, "cash purchases of PP&E (filed) vs. cost of cohorts placed in service (modelled): timing and vendor financing differ"),
    "power_mw": (0.25, "trust B; 'active power' is not defined in the source (IT load or facility), modelled as rated IT kW x E[pue]"),
    "debt_total": (None, "the filed total includes instruments the scenario does not model (notes, OEM financing, revolvers, converts); the modelled share is shown"),
    "interest": (None, "interest on all debt incl. instruments not modelled, amortized discounts and capitalized interest"),
    "backlog": (None, "contracts for capacity not yet delivered (CoreWeave: contracted power >3.1 GW vs 850 MW active) are outside the fleet"),
}
FIGURE_UNIT = {"revenue": "USD", "ppe_net": "USD", "gpus": "GPUs", "debt_facility": "USD", "capex": "USD", "power_mw": "MW",
               "debt_total": "USD", "interest": "USD", "backlog": "USD"}


@dataclass(frozen=True)
class Comparison:
    """One filings row and its modelled counterpart (``modelled`` None when not reconciled)."""

    reported: Reported
    figure: str            # "revenue", "ppe_net", ... or "" when not reconcilable
    period: str            # period label
    modelled: float | None  # base units (USD, MW, GPUs)
    rel_diff_frac: float | None
    tolerance_frac: float | None
    status: str            # "ok", "OUTSIDE", "NO_GATE", "not reconciled"
    note: str


def _modelled(figure: str, facility: str, p: Period, fh: FleetHistory, s: S.Scenario, means: dict[str, float]) -> tuple[float | None, str]:
    """Modelled value of ``figure`` over/at ``p``; (None, reason) when the scenario cannot give it."""
    rows = slice(fh.row(p.first), fh.row(p.last) + 1)
    end = fh.row(p.last)
    if figure in ("revenue", "capex") and p.kind != "flow":
        return None, "a flow figure filed as a point"
    if figure in ("ppe_net", "gpus", "power_mw", "debt_total", "debt_facility", "backlog") and p.kind != "point":
        return None, "a balance filed over a period"
    if figure == "revenue":
        return float(fh.revenue_usd[rows].sum()), ""
    if figure == "capex":
        return float(fh.capex_usd[rows].sum()), ""
    if figure == "ppe_net":
        cip = float(fh.cip_usd[end].sum())
        return float(fh.carrying_usd[end].sum()) + cip, (f"in service {fh.carrying_usd[end].sum() / 1e6:,.0f}m + construction in progress {cip / 1e6:,.0f}m" if cip else "")
    if figure == "gpus":
        return float(fh.gpus[end].sum()), ""
    if figure == "power_mw":
        return float(fh.it_kw[end].sum() * fh.pue_mean / 1000.0), f"IT {fh.it_kw[end].sum() / 1000.0:,.0f} MW x E[pue] {fh.pue_mean:.3f}"
    if figure == "backlog":
        return float(fh.contracted_usd[end + 1 :].sum()), "contracted revenue after the date, every cohort of the scenario (future vintages too)"
    facs = s.financing.facility if s.financing else []
    if figure == "debt_facility":
        match = [f for f in facs if f.name == facility]
        if not match:
            return None, f"no [[financing.facility]] named {facility!r} in the scenario"
        return debt.balance_usd(match[0], s, means, p.last), ""
    if figure in ("debt_total", "interest"):
        if not facs:
            return None, "the scenario has no [financing]"
        names = ", ".join(f.name for f in facs)
        if figure == "debt_total":
            return sum(debt.balance_usd(f, s, means, p.last) for f in facs), f"modelled facilities: {names}"
        if p.kind != "flow":
            return None, "a flow figure filed as a point"
        return sum(debt.interest_usd(f, s, means, p.first, p.last) for f in facs), f"modelled facilities: {names}"
    return None, f"figure {figure!r} has no modelled counterpart"


def compare(rows: list[Reported], fh: FleetHistory, s: S.Scenario, means: dict[str, float]) -> list[Comparison]:
    """One ``Comparison`` per filings row of the entity, in the file's order."""
    start = S.month_index(s.run.start_month)
    out = []
    for r in rows:
        figure, facility = r.figure()
        p = parse_period(r.period, r.date)
        label = p.label if p else r.period
        if figure is None:
            out.append(Comparison(r, "", label, None, None, None, "not reconciled", "not a fleet figure (terms, policy, schedule, guidance or event)"))
            continue
        if p is None:
            out.append(Comparison(r, figure, label, None, None, None, "not reconciled", f"period {r.period!r} is not a past period or balance date"))
            continue
        if p.last >= start:
            out.append(Comparison(r, figure, label, None, None, None, "not reconciled", f"on or after the valuation date {s.run.start_month}"))
            continue
        if p.first < int(fh.months_abs[0]):
            out.append(Comparison(r, figure, label, None, None, None, "not reconciled", "before the fleet history"))
            continue
        value, note = _modelled(figure, facility, p, fh, s, means)
        if p.assumed:
            note = "; ".join(x for x in (p.assumed, note) if x)
        if value is None or r.value_base is None:
            out.append(Comparison(r, figure, label, None, None, None, "not reconciled", note))
            continue
        diff = value / r.value_base - 1.0 if r.value_base else float("nan")
        tol, why = TOLERANCE_FRAC[figure]
        if tol is None:
            status = "NO_GATE"
            note = "; ".join(x for x in (note, why) if x)
        else:
            status = "ok" if np.isfinite(diff) and abs(diff) <= tol else "OUTSIDE"
        out.append(Comparison(r, figure, label, value, diff, tol, status, note))
    return out
