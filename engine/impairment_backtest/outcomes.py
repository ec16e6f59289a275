"""Observed outcome of a company-year: did the company report an impairment in the 12 months after the date?

Source: ``priors/observations/neocloud_financials.csv``, a verbatim copy of
``../shared/data/financials/neocloud_financials.csv`` (one filed or reported figure a row, with its
source and trust). The outcome for (entity, as_of) is 1 when a row of that entity whose ``metric``
names an impairment (``IMPAIRMENT_METRIC``, case-insensitive) is dated in the window
(end of ``as_of``, end of ``as_of`` + 12 months], else 0.

The evidence for a 0 is the *absence* of such a row in this table, not a filing that says "no
impairment": the table was gathered for other purposes (debt, revenue, capex), so a 0 is only as
good as the rows behind it. Each outcome therefore carries the rows consulted: every row of the
entity dated in the window (``rows``), and the count, so a window with no row at all is visible.
Trust D rows are not read (``priors.observations_io.read_table``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

TABLE = "neocloud_financials"
WINDOW_MONTHS = 12
IMPAIRMENT_METRIC = re.compile(r"impairment", re.I)


@dataclass(frozen=True)
class Outcome:
    """The observed outcome of one company-year.

    Attributes:
        entity: company name as in the table. as_of: valuation date (YYYY-MM).
        window: (first day, last day) of the 12 months after ``as_of``, YYYY-MM-DD.
        impaired: 1 when an impairment row is in the window, else 0.
        rows: the entity's rows dated in the window (date, metric, value, unit, source, trust).
        source: one line for the table: the impairment rows, or what the 0 rests on.
    """

    entity: str
    as_of: str
    window: tuple[str, str]
    impaired: int
    rows: list[dict]
    source: str


def entities() -> list[str]:
    """Entities of the table, in order of first appearance."""
    from priors.observations_io import read_table

    return list(dict.fromkeys(read_table(TABLE)["entity"]))


def entity_for(stem: str) -> str | None:
    """The table's entity a preset file stem names: ``coreweave_like`` -> ``CoreWeave`` (the stem less
    ``_like``, compared without case and non-letters), or None."""
    key = re.sub(r"[^a-z0-9]", "", stem.lower().removesuffix("_like"))
    for e in entities():
        if re.sub(r"[^a-z0-9]", "", e.lower()) == key:
            return e
    return None


def observe(entity: str, as_of: str) -> Outcome:
    """The outcome of ``entity`` for the 12 months after ``as_of`` (YYYY-MM), with the rows consulted."""
    from priors.observations_io import month_end, read_table

    t = read_table(TABLE)
    lo = month_end(as_of)
    hi = lo + pd.offsets.MonthEnd(WINDOW_MONTHS)
    rows = t[(t["entity"] == entity) & t["dated"] & (t["when"] > lo) & (t["when"] <= hi)].sort_values("when")
    hits = rows[rows["metric"].astype(str).str.contains(IMPAIRMENT_METRIC)]
    window = ((lo + pd.Timedelta(days=1)).strftime("%Y-%m-%d"), hi.strftime("%Y-%m-%d"))
    keep = ["date", "metric", "value", "unit", "source", "trust"]
    recs = [{k: ("" if pd.isna(r[k]) else r[k]) for k in keep} for _, r in rows.iterrows()]
    if len(hits):
        source = "; ".join(f"{r['date']} {r['metric']} {r['value']} {r['unit']} ({r['source']})" for _, r in hits.iterrows())
    elif len(rows):
        srcs = sorted({str(s) for s in rows["source"]})
        source = (f"no impairment row among {len(rows)} {entity} rows dated {window[0]}..{window[1]} in {TABLE}.csv "
                  f"(absence in this table is the evidence); sources: {' | '.join(srcs)}")
    else:
        source = f"no {entity} row at all dated {window[0]}..{window[1]} in {TABLE}.csv: 0 rests on absence from the table only"
    return Outcome(entity=entity, as_of=as_of, window=window, impaired=int(len(hits) > 0), rows=recs, source=source)
