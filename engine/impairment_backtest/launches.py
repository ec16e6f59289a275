"""Next-generation launches as known at a valuation date, from ``priors/observations/launch_timing.csv``.

The table (a verbatim copy of ``../shared/data/market/launch_timing.csv``) has one event a row:
announcements ("announced (GTC 2024)"), shipments ("first customer shipments", "volume shipments",
"first deployed") and price changes after launches (unit "percent change", not events).

At a valuation date ``as_of`` (YYYY-MM; rows dated up to the end of that month are known):

* a generation is *announced* when an announcement row is known, *shipped* when a shipment row is;
* a launch is expected for every generation announced and not yet shipped;
* its shipment date was not known then (the table holds no announced ship dates), so it is the
  announcement date plus a lag drawn from the announcement-to-first-shipment lags of the
  generations that had both events by ``as_of``: triangular(min, median, max) of those lags, in
  months, expressed from the run start (``ship_months_from_start``, clipped at 0 for a launch
  already overdue). One known lag gives a fixed value.

Generations already shipped by ``as_of`` are in the observed start price; generations not yet
announced are not launched (no cadence is assumed). Months are 30.4375 days (365.25 / 12).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

import pandas as pd

from engine.generations import GENERATIONS, RANK

TABLE = "launch_timing"
DAYS_PER_MONTH = 365.25 / 12
_ANNOUNCED = re.compile(r"announced", re.I)
_SHIPPED = re.compile(r"ship|launched|deployed|generally available", re.I)


@dataclass(frozen=True)
class KnownLaunch:
    """A launch expected at the valuation date.

    Attributes:
        generation: the launching generation (engine/generations.py).
        announced: announcement date (YYYY-MM-DD).
        ship_months_from_start: the scenario's ``ship_months_from_start``: a number, or a triangular
            distribution table (months after the run start).
        lags_months: announcement-to-first-shipment lags known at the date, by generation (months).
    """

    generation: str
    announced: str
    ship_months_from_start: float | dict
    lags_months: dict[str, float]


def _generation(entity: str) -> str | None:
    """The engine generation an entity string names ("B200/GB200" -> "B200"), or None."""
    head = re.split(r"[ /(]", str(entity).strip(), maxsplit=1)[0]
    return head if head in GENERATIONS else None


def event_dates(table: pd.DataFrame) -> dict[str, dict[str, pd.Timestamp]]:
    """generation -> {"announced": first announcement, "shipped": first shipment} from the rows given
    (price-change rows, whose unit is a percent change, are not events)."""
    out: dict[str, dict[str, pd.Timestamp]] = {}
    for _, r in table.iterrows():
        gen = _generation(r["entity"])
        if gen is None or str(r.get("unit", "")).startswith("percent") or pd.isna(r["when"]):
            continue
        text = str(r["event_or_metric"])
        for kind, pattern in (("announced", _ANNOUNCED), ("shipped", _SHIPPED)):
            if pattern.search(text):
                prev = out.setdefault(gen, {}).get(kind)
                out[gen][kind] = r["when"] if prev is None else min(prev, r["when"])
    return out


def known_launches(as_of: str, start_month: str) -> list[KnownLaunch]:
    """Launches expected at ``as_of`` (YYYY-MM), timed from the run start ``start_month`` (YYYY-MM),
    in generation order. Reads only rows dated up to the end of ``as_of``."""
    from priors.observations_io import read_table

    events = event_dates(read_table(TABLE, as_of=as_of))
    lags = {g: (e["shipped"] - e["announced"]).days / DAYS_PER_MONTH for g, e in events.items() if "announced" in e and "shipped" in e}
    start = pd.Timestamp(f"{start_month}-01")
    out = []
    for gen in sorted((g for g, e in events.items() if "announced" in e and "shipped" not in e), key=RANK.__getitem__):
        if not lags:
            raise ValueError(f"launch {gen} announced by {as_of} but no announcement-to-shipment lag is known then")
        ann = events[gen]["announced"]
        from_start = (ann - start).days / DAYS_PER_MONTH
        vals = sorted(lags.values())
        low, mode, high = (max(0.0, round(from_start + x, 2)) for x in (vals[0], statistics.median(vals), vals[-1]))
        ship: float | dict = high if high - low < 0.01 else {"dist": "triangular", "low": low, "mode": mode, "high": high}
        out.append(KnownLaunch(generation=gen, announced=ann.strftime("%Y-%m-%d"), ship_months_from_start=ship, lags_months={g: round(v, 2) for g, v in lags.items()}))
    return out
