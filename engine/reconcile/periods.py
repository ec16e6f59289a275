"""A filing's period text as calendar months (absolute month indices, engine/scenario/schema.month_index).

``Period.kind`` is ``"flow"`` (a sum over months ``first..last``, e.g. revenue of FY2024) or ``"point"``
(a balance at the end of month ``last``, e.g. PP&E at 2025-12-31; ``first == last``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.scenario.schema import month_index, month_label

_FY = re.compile(r"^FY(\d{4})$")
_Q = re.compile(r"^Q([1-4]) (\d{4})$")
_H = re.compile(r"^H([12]) (\d{4})$")


@dataclass(frozen=True)
class Period:
    kind: str        # "flow" or "point"
    first: int       # absolute month index of the first month (== last for a point)
    last: int        # absolute month index of the last month (a point: the balance at its end)
    label: str       # "FY2024", "Q1 2025", "2025-12-31", ...
    assumed: str = ""  # how an unclear period was read ("" = as filed)

    @property
    def months(self) -> int:
        return self.last - self.first + 1


def parse_period(period: str, date: str) -> Period | None:
    """The months of a filings row (``period`` column, ``date`` column "YYYY-MM-DD"); ``None`` when the
    row is not a reconcilable period (terms, commitments, policies, schedules, guidance, events).

    Fiscal years are calendar years (CoreWeave and Nebius report on calendar years).
    """
    p = period.strip()
    if p == "point":
        m = month_index(date[:7])
        return Period("point", m, m, date)
    if mt := _FY.match(p):
        y = int(mt.group(1))
        return Period("flow", y * 12, y * 12 + 11, p)
    if mt := _Q.match(p):
        q, y = int(mt.group(1)), int(mt.group(2))
        return Period("flow", y * 12 + 3 * (q - 1), y * 12 + 3 * q - 1, p)
    if mt := _H.match(p):
        h, y = int(mt.group(1)), int(mt.group(2))
        return Period("flow", y * 12 + 6 * (h - 1), y * 12 + 6 * h - 1, p)
    if p.startswith("annual"):  # "annual (period unclear)": the 12 months before the row's date
        last = month_index(date[:7]) - 1
        return Period("flow", last - 11, last, f"{month_label(last - 11)}..{month_label(last)}",
                      assumed="period unclear in the source: read as the 12 months before the row's date")
    return None
