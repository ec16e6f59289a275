"""Reading the tidy observation tables, with the as-of cutoff applied (no PyMC here).

Every table in ``priors/observations/`` has the columns ``date`` (``YYYY-MM-DD``, ``YYYY-MM`` or
empty when the source gives no date), ``source`` and ``trust`` (A primary, B reproducible
dataset, C blog/unverified, D suspect). ``read_table(name, as_of=...)`` drops trust D always and,
when ``as_of`` (``YYYY-MM``) is given, every row dated after the end of that month and every
undated row, so a fit as of a date sees only what was known then.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

OBS_DIR = Path(__file__).resolve().parent / "observations"


def month_end(as_of: str) -> pd.Timestamp:
    """'YYYY-MM' -> the last day of that month; ValueError for anything else (pandas alone would read
    'june' as June of year 1 and '24-06' as 2001-06-24, silently moving the cutoff)."""
    import re

    if not isinstance(as_of, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", as_of):
        raise ValueError(f"--as-of must be YYYY-MM, got {as_of!r}")
    return pd.Timestamp(f"{as_of}-01") + pd.offsets.MonthEnd(0)


def parse_dates(col: pd.Series) -> pd.Series:
    """Dates as Timestamps (month-only dates at the first of the month); NaT when undated."""
    s = col.fillna("").astype(str).str.strip()
    s = s.where(s.str.len() != 7, s + "-01")
    return pd.to_datetime(s.replace("", None), errors="coerce", format="mixed")


def read_table(name: str, *, as_of: str | None = None, keep_suspect: bool = False) -> pd.DataFrame:
    """Load ``priors/observations/<name>.csv`` with ``dated`` and ``when`` columns added."""
    df = pd.read_csv(OBS_DIR / f"{name}.csv", dtype={"date": str})
    df["when"] = parse_dates(df["date"])
    df["dated"] = df["when"].notna()
    if not keep_suspect and "trust" in df:
        df = df[df["trust"].astype(str).str.upper() != "D"]
    if as_of is not None:
        cutoff = month_end(as_of)
        df = df[df["dated"] & (df["when"] <= cutoff)]
    return df.reset_index(drop=True)


def file_hashes(names: list[str]) -> dict[str, str]:
    """sha256 of each observation file a fit read."""
    out = {}
    for n in names:
        p = OBS_DIR / f"{n}.csv"
        out[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out
