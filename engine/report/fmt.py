"""Number formatting rules of the report (docs/report.md, "Formatting rules"). Pure functions, stdlib only.

* money: US dollars in millions, thousands separators, one decimal: ``$1,234.5m``; negative ``-$82.5m``;
* probabilities and fractions: percent with one decimal and no space: ``92.2%``;
* USD per GPU-hour: two decimals: ``$1.68``; ratios (DSCR): two decimals and ``x``: ``1.53x``;
* counts: thousands separators: ``26,000``;
* a standard error is ``± `` and the same format; an SE that is positive but rounds to 0 at the
  format's resolution is shown as ``± <0.1%`` (``± <$0.1m``, ``± <$0.01``, ``± <0.01x``);
* a missing or undefined value (``null`` in summary.json) is ``n/a``.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

NA = "n/a"
KINDS = ("usd_m", "pct", "usd_per_hour", "ratio", "count", "month", "text")


def _bad(x) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x))


def _round(x: float, scale: int, places: int) -> float:
    """``x * 10**scale`` rounded half away from zero at ``places`` decimals, on the shortest decimal
    form of ``x`` (so 0.0255 -> 2.6 %, not the binary float's 2.5499...)."""
    d = Decimal(repr(float(x))).scaleb(scale).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return float(d) + 0.0  # + 0.0 turns -0.0 into 0.0


def usd_m(x: float | None) -> str:
    """USD -> ``$1,234.5m`` (millions, one decimal)."""
    if _bad(x):
        return NA
    m = _round(x, -6, 1)
    return f"-${abs(m):,.1f}m" if m < 0 else f"${m:,.1f}m"


def pct(x: float | None) -> str:
    """Fraction -> ``92.2%`` (one decimal)."""
    if _bad(x):
        return NA
    return f"{_round(x, 2, 1):,.1f}%"


def usd_per_hour(x: float | None) -> str:
    """USD per GPU-hour -> ``$1.68``."""
    if _bad(x):
        return NA
    v = _round(x, 0, 2)
    return f"-${abs(v):,.2f}" if v < 0 else f"${v:,.2f}"


def ratio(x: float | None) -> str:
    """A ratio such as DSCR -> ``1.53x``."""
    if _bad(x):
        return NA
    return f"{_round(x, 0, 2):,.2f}x"


def count(x: float | None) -> str:
    """A count -> ``26,000``."""
    if _bad(x):
        return NA
    return f"{round(float(x)):,}"


_FORMAT = {"usd_m": usd_m, "pct": pct, "usd_per_hour": usd_per_hour, "ratio": ratio, "count": count}
# the smallest positive SE each format can show (half of it rounds to zero)
_RESOLUTION = {"usd_m": (0.05e6, "<$0.1m"), "pct": (0.0005, "<0.1%"), "usd_per_hour": (0.005, "<$0.01"), "ratio": (0.005, "<0.01x"), "count": (0.5, "<1")}


def value(x, kind: str) -> str:
    """Format ``x`` by ``kind`` (one of KINDS); ``month`` and ``text`` are shown as given."""
    if kind in ("month", "text"):
        return NA if x is None or x == "" else str(x)
    return _FORMAT[kind](x)


def se(s: float | None, kind: str) -> str:
    """A standard error: ``± 0.4%``; ``± <0.1%`` when positive but below the format's resolution; '' for kinds without SE."""
    if kind in ("month", "text"):
        return ""
    if _bad(s):
        return NA
    res, small = _RESOLUTION[kind]
    if 0 < float(s) < res:
        return f"± {small}"
    return "± " + _FORMAT[kind](abs(float(s)))


def pct_given(x: float | None) -> str:
    """A percentage the user wrote in the scenario (a given input, not an estimate): one decimal, or
    up to three when one would change it (a 6.25 % spread is shown as ``6.25%``, not ``6.2%``)."""
    if _bad(x):
        return NA
    v = float(x) * 100
    for d in (1, 2, 3):
        if abs(round(v, d) - v) < 1e-9:
            return f"{round(v, d):,.{d}f}%"
    return f"{v:,.3f}%"
