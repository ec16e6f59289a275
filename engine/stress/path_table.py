"""Path tables in the style of the Federal Reserve's supervisory scenarios: one row per quarter.

A CSV with a ``quarter`` column (``YYYY-Qn``) and any of these columns (empty cell = not imposed):

    price_index.<GEN>        market price of generation GEN / its price at the run start (> 0)
    utilization_frac         utilization of non-contracted hours, every fleet generation ([0, 1])
    utilization_frac.<GEN>   the same for one generation (wins over utilization_frac)
    electricity_mult         electricity price / the scenario's electricity price (> 0)
    sofr_shock_annual_frac   change of SOFR, annual fraction ([-0.2, 0.5]; needs [financing])

A quarter's value holds in each of its three calendar months that fall inside the run.
``read_path_table`` returns monthly arrays (NaN = not imposed): every error names the file, the
column or row, and the allowed values.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import ScenarioError
from engine.generations import GENERATIONS
from engine.scenario.schema import month_label, quarter_first_month

COLUMNS = ("quarter", "price_index.<GEN>", "utilization_frac", "utilization_frac.<GEN>", "electricity_mult", "sofr_shock_annual_frac")
_RANGES = {"price_index": (0.0, math.inf, True), "utilization_frac": (0.0, 1.0, False), "electricity_mult": (0.0, math.inf, True),
           "sofr_shock_annual_frac": (-0.2, 0.5, False)}


@dataclass(frozen=True)
class PathTable:
    """Monthly values imposed by a path table (NaN = not imposed).

    price_index (T, G), utilization_frac (T, G), electricity_mult (T,), sofr_shock_annual_frac (T,);
    ``has_sofr`` says whether any SOFR value is given.
    """

    price_index: np.ndarray
    utilization_frac: np.ndarray
    electricity_mult: np.ndarray
    sofr_shock_annual_frac: np.ndarray
    has_sofr: bool


def _allowed_text(kind: str) -> str:
    lo, hi, lo_open = _RANGES[kind]
    return f"{'(' if lo_open else '['}{lo:g}, {hi:g}]" if math.isfinite(hi) else f"{'(' if lo_open else '['}{lo:g}, inf)"


def read_path_table(file: str | Path, *, scenario_file: str, field: str, start_abs: int, T: int, generations: tuple[str, ...]) -> PathTable:
    """Read and check a path table for a run of ``T`` months from absolute month ``start_abs``.

    ``generations``: the fleet's generations (the G axis, oldest first). Raises ``ScenarioError``.
    """
    path = Path(file)
    where = f"{scenario_file}: {field} = {path}"

    def fail(what: str, msg: str) -> ScenarioError:
        return ScenarioError(str(path), what, f"{msg} (path table named by {where})")

    try:
        with path.open(newline="") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise ScenarioError(scenario_file, field, f"path table {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(scenario_file, field, f"cannot read path table {path} ({exc})") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise fail("", "the path table is empty; expected a header row with columns " + ", ".join(COLUMNS))
    header = [h.strip() for h in rows[0]]
    if "quarter" not in header:
        raise fail("quarter", "missing column 'quarter' (YYYY-Qn); allowed columns: " + ", ".join(COLUMNS))
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise fail(dup[0], "repeated column")
    G = len(generations)
    gidx = {g: i for i, g in enumerate(generations)}
    targets = []  # (column index, kind, generation index or None)
    for j, h in enumerate(header):
        if h == "quarter":
            continue
        kind, _, gen = h.partition(".")
        if kind not in _RANGES or (kind in ("electricity_mult", "sofr_shock_annual_frac") and gen) or (kind == "price_index" and not gen):
            raise fail(h, "unknown column; allowed columns: " + ", ".join(COLUMNS) + f" (GEN one of the fleet's generations: {', '.join(generations)})")
        if gen and gen not in gidx:
            known = "a known generation but not in the fleet" if gen in GENERATIONS else "an unknown generation"
            raise fail(h, f"{gen} is {known}; allowed: {', '.join(generations)}")
        targets.append((j, kind, gidx[gen] if gen else None))
    out = {
        "price_index": np.full((T, G), np.nan), "utilization_frac": np.full((T, G), np.nan),
        "utilization_frac_gen": np.full((T, G), np.nan), "electricity_mult": np.full(T, np.nan),
        "sofr_shock_annual_frac": np.full(T, np.nan),
    }
    qi = header.index("quarter")
    seen: list[int] = []
    end_abs = start_abs + T - 1
    for r_no, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise fail(f"row {r_no}", f"has {len(row)} cells, the header has {len(header)}")
        q_text = row[qi].strip()
        try:
            m0 = quarter_first_month(q_text)
        except ValueError as exc:
            raise fail(f"row {r_no}, column quarter", str(exc)) from None
        if seen and m0 <= seen[-1]:
            raise fail(f"row {r_no}, column quarter", f"quarters must be distinct and increasing ({q_text} follows {month_label(seen[-1])})")
        if m0 + 2 < start_abs or m0 > end_abs:
            raise fail(f"row {r_no}, column quarter", f"{q_text} is outside the run ({month_label(start_abs)} .. {month_label(end_abs)})")
        seen.append(m0)
        months = [m - start_abs for m in range(m0, m0 + 3) if start_abs <= m <= end_abs]
        for j, kind, g in targets:
            cell = row[j].strip()
            if cell == "":
                continue
            try:
                v = float(cell)
            except ValueError:
                raise fail(f"row {r_no}, column {header[j]}", f"not a number: {cell!r}; allowed: {_allowed_text(kind)} or empty") from None
            lo, hi, lo_open = _RANGES[kind]
            if not math.isfinite(v) or v < lo or v > hi or (lo_open and v <= lo):
                raise fail(f"row {r_no}, column {header[j]}", f"value {v:g} is outside the allowed range {_allowed_text(kind)}")
            if kind == "utilization_frac" and g is not None:
                out["utilization_frac_gen"][months, g] = v
            elif g is not None:
                out[kind][months, g] = v
            elif kind == "utilization_frac":
                out["utilization_frac"][months, :] = v
            else:
                out[kind][months] = v
    util = np.where(np.isnan(out["utilization_frac_gen"]), out["utilization_frac"], out["utilization_frac_gen"])
    return PathTable(
        price_index=out["price_index"], utilization_frac=util, electricity_mult=out["electricity_mult"],
        sofr_shock_annual_frac=out["sofr_shock_annual_frac"], has_sofr=bool(np.isfinite(out["sofr_shock_annual_frac"]).any()),
    )
