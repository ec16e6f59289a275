"""Cells of the terminal tables (rich): a ``{"value", "se"}`` object of summary.json as text. Stdlib only.

``pct``: a fraction as ``80.0% ±2.3`` (percent and percentage points); ``musd``: USD as millions with
one decimal and the SE, ``294.6 ±2.4``; ``usd``: a plain number with ``digits`` decimals; ``ok``: the
object holds a finite value. A missing or non-finite value is ``-``.
"""

from __future__ import annotations

import math


def ok(x) -> bool:
    return isinstance(x, dict) and x.get("value") is not None and math.isfinite(x["value"])


def pct(x: dict) -> str:
    return f"{100 * x['value']:.1f}% ±{100 * x['se']:.1f}" if ok(x) else "-"


def musd(x: dict) -> str:
    return f"{x['value'] / 1e6:,.1f} ±{x['se'] / 1e6:,.1f}" if ok(x) else "-"


def usd(x: dict, digits: int = 3) -> str:
    return f"{x['value']:.{digits}f} ±{x['se']:.{digits}f}" if ok(x) else "-"
