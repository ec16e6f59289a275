"""``rackrisk import-fleet``: a company's fleet from a table (CSV or xlsx) -> a scenario TOML.

One row a cohort. Columns are the ``[[fleet.cohort]]`` field names of the schema
(engine/scenario/schema.py ``Cohort``: name, generation, purchase_month, units, capex_usd_per_gpu,
useful_life_months, salvage_frac, kw_per_gpu, fixed_opex_usd_per_month, site), plus optionally a
generation's contract terms (``MARKET_COLUMNS``: contracted_frac, contract_price_usd_per_gpu_hour,
contract_term_months, which a scenario keeps per generation in ``[market.<generation>]``, so every
row of a generation must agree) and free-text columns (``NOTE_COLUMNS``: source, note, comment),
written as a comment above the cohort. An empty cell leaves the field to the schema's default.

Facilities (optional): a second table (``--facilities`` CSV, or an xlsx sheet named ``facilities``)
with the ``[[financing.facility]]`` field names (engine/scenario/schema.py ``Facility``),
covenant fields (min_dscr, max_ltv_frac, ...) as columns of their own, and collateral_cohorts as
cohort names separated by ``;``.

The scenario written ``extends`` a base scenario (default: the shipped scenarios/baseline.toml)
for market, launches, demand, costs and accounting, and says ``replace = ["fleet"]`` (plus
``"financing"`` with facilities), so the table's cohorts are the whole fleet. It is validated by
``load_scenario_text`` before anything is written. Every bad cell is reported, one line each:
``FILE: row N, column X: message (allowed: ...)``; rows count as in a spreadsheet (header = row 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import math
import os
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from engine.errors import ScenarioError
from engine.generations import GENERATIONS
from engine.scenario import schema as S
from engine.scenario.load import closest_name

SHIPPED_BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.toml"
NOTE_COLUMNS = ("source", "note", "notes", "comment")
MARKET_COLUMNS = ("contracted_frac", "contract_price_usd_per_gpu_hour", "contract_term_months")
COHORT_COLUMNS = tuple(k for k in S.Cohort.model_fields if k not in ("component", "life_change"))
# the contract fields' types and ranges (engine/scenario/schema.py MarketSection)
MARKET_KINDS = {"contracted_frac": (float, "a number from 0 to 1"), "contract_price_usd_per_gpu_hour": (float, "a number >= 0"),
                "contract_term_months": (int, "a whole number from 0 to 240")}
COVENANT_COLUMNS = tuple(S.Covenants.model_fields)
FACILITY_COLUMNS = tuple(k for k in S.Facility.model_fields if k not in ("draw", "covenants")) + COVENANT_COLUMNS


class TableError(ScenarioError):
    """Every bad cell of a table: ``problems`` are whole lines ``FILE: row N, column X: message``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("", "", "\n".join(self.problems))

    def render(self) -> str:
        return "\n".join(self.problems)


@dataclass(frozen=True)
class Table:
    """A table read from a file: ``header`` (stripped names), ``rows`` as (row number, cells)."""

    file: str
    header: list[str]
    rows: list[tuple[int, list[Any]]]


# ------------------------------------------------------------------------------------------ reading
def read_csv(path: Path) -> Table:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScenarioError(str(path), "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), "", f"cannot read the file ({exc})") from None
    lines = list(csv.reader(text.splitlines()))
    return _table(str(path), lines)


def read_xlsx(path: Path, sheet: str | None) -> Table | None:
    """The sheet ``sheet`` (None: the first sheet) of an xlsx file; None when it has no sheet of that name."""
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise ScenarioError(str(path), "", "reading .xlsx needs the openpyxl package (pip install openpyxl)") from None
    if not path.exists():
        raise ScenarioError(str(path), "", "file not found")
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is not a workbook
        raise ScenarioError(str(path), "", f"cannot read the workbook ({type(exc).__name__}: {exc})") from None
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            return None
        lines = [list(r) for r in ws.iter_rows(values_only=True)]
        return _table(f"{path}[{ws.title}]", lines)
    finally:
        wb.close()


def _is_xlsx(path: Path) -> bool:
    return path.suffix.lower() in (".xlsx", ".xlsm")


def read_table(path: Path, sheet: str | None) -> Table | None:
    """A CSV file, or the sheet ``sheet`` (None: the first) of an xlsx workbook (None when it has no such sheet)."""
    if path.suffix.lower() == ".csv":
        return read_csv(path)
    if _is_xlsx(path):
        return read_xlsx(path, sheet)
    raise ScenarioError(str(path), "", f"unknown table format {path.suffix or '(none)'!r}; allowed: .csv, .xlsx")


def _table(file: str, lines: list[list[Any]]) -> Table:
    while lines and all(_blank(c) for c in lines[0]):
        lines = lines[1:]  # leading empty rows (row numbers then count from the header)
    if not lines:
        raise ScenarioError(file, "", "the table is empty: a header row with the column names is needed")
    header = ["" if c is None else str(c).strip() for c in lines[0]]
    while header and header[-1] == "":
        header.pop()
    rows = [(i + 1, list(r) + [None] * (len(header) - len(r))) for i, r in enumerate(lines) if i > 0 and not all(_blank(c) for c in r)]
    return Table(file=file, header=header, rows=rows)


def _blank(c: Any) -> bool:
    return c is None or (isinstance(c, str) and c.strip() == "")


# ------------------------------------------------------------------------------------------ cells
def _unwrap(ann: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); else (ann, False)."""
    args = typing.get_args(ann)
    if typing.get_origin(ann) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0], True
    return ann, False


def allowed_text(model: type[BaseModel], name: str) -> str:
    """What a cell of field ``name`` may hold, in words: type, bounds, choices."""
    if name == "generation":
        return ", ".join(GENERATIONS)
    if name in ("purchase_month", "first_draw_month", "maturity_month"):
        return "a month YYYY-MM (or a date)"
    if name == "collateral_cohorts":
        return "cohort names separated by ;"
    if name in MARKET_KINDS:
        return MARKET_KINDS[name][1]
    info = model.model_fields[name]
    ann, _ = _unwrap(info.annotation)
    if typing.get_origin(ann) is typing.Literal:
        return ", ".join(str(a) for a in typing.get_args(ann))
    if typing.get_origin(ann) is typing.Annotated:
        ann = typing.get_args(ann)[0]
    kind = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}.get(ann, "a value")
    bounds = []
    for m in info.metadata:
        for attr, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            v = getattr(m, attr, None)
            if v is not None:
                bounds.append(f"{sym} {v:,}" if isinstance(v, (int, float)) else f"{sym} {v}")
    return kind + (" " + " and ".join(bounds) if bounds else "")


def _cell(value: Any, model: type[BaseModel], name: str) -> Any:
    """A cell as the field's type (ValueError with the reason otherwise). Spreadsheet numbers may come
    as floats (8000.0 for an int), months as dates."""
    if name == "collateral_cohorts":
        return [x.strip() for x in str(value).split(";") if x.strip()]
    if name in MARKET_KINDS:
        return _number(value, MARKET_KINDS[name][0])
    ann, _ = _unwrap(model.model_fields[name].annotation)
    if typing.get_origin(ann) is typing.Annotated:
        ann = typing.get_args(ann)[0]
    if name in ("purchase_month", "first_draw_month", "maturity_month", "effective_month"):
        if isinstance(value, (dt.date, dt.datetime)):
            return f"{value.year:04d}-{value.month:02d}"
        text = str(value).strip()
        m = re.fullmatch(r"(\d{4})-(\d{2})(-\d{2})?", text)
        return f"{m.group(1)}-{m.group(2)}" if m else text  # the schema reports a bad month
    if typing.get_origin(ann) is typing.Literal:
        opts = typing.get_args(ann)
        if all(isinstance(o, int) for o in opts):
            return _number(value, int)
        return str(value).strip()
    if ann is int:
        return _number(value, int)
    if ann is float:
        return _number(value, float)
    if ann is bool:
        text = str(value).strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
        raise ValueError(f"not true or false: {value!r}")
    return str(value).strip()


def _number(value: Any, kind: type) -> int | float:
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, (int, float)):
        x = float(value)
    else:
        text = str(value).strip().replace(",", "").replace("_", "").replace("$", "")
        try:
            x = float(text)
        except ValueError:
            raise ValueError(f"not a number: {value!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"not a finite number: {value!r}")
    if kind is int:
        if x != int(x):
            raise ValueError(f"not a whole number: {value!r}")
        return int(x)
    return x


# ------------------------------------------------------------------------------------------ rows
def _check_header(t: Table, allowed: tuple[str, ...], required: list[str]) -> list[str]:
    problems = []
    for j, h in enumerate(t.header):
        if h.lower() in NOTE_COLUMNS or h in allowed:
            continue
        near = closest_name(h, allowed)
        problems.append(f"{t.file}: row 1, column {h or f'#{j + 1}'}: unknown column" + (f"; did you mean '{near}'?" if near else "")
                        + f" (allowed: {', '.join(allowed)}, and notes in {', '.join(NOTE_COLUMNS)})")
    dup = sorted({h for h in t.header if h and t.header.count(h) > 1})
    for h in dup:
        problems.append(f"{t.file}: row 1, column {h}: the column repeats (allowed once)")
    missing = [r for r in required if r not in t.header]
    if missing:
        problems.append(f"{t.file}: row 1: missing required column(s) {', '.join(missing)} (allowed: {', '.join(allowed)})")
    return problems


def _row_values(t: Table, r_no: int, cells: list[Any], model: type[BaseModel], names: tuple[str, ...], problems: list[str]) -> tuple[dict, list[str], set[str]]:
    """The row's fields as typed values (blank cells left out), its notes, and the columns of its bad
    cells (each added to ``problems``)."""
    out: dict[str, Any] = {}
    notes = []
    bad: set[str] = set()
    for h, c in zip(t.header, cells):
        if _blank(c):
            continue
        if h.lower() in NOTE_COLUMNS:
            notes.append(" ".join(str(c).split()))
            continue
        if h not in names:
            continue
        owner = model if h in model.model_fields else S.Covenants if h in COVENANT_COLUMNS else S.MarketSection
        try:
            out[h] = _cell(c, owner, h)
        except ValueError as exc:
            problems.append(f"{t.file}: row {r_no}, column {h}: {exc} (allowed: {allowed_text(owner, h)})")
            bad.add(h)
    if model is S.Cohort and "generation" in out and out["generation"] not in GENERATIONS:  # the schema checks it only once every cell is good
        problems.append(f"{t.file}: row {r_no}, column generation: unknown generation {out['generation']!r} (allowed: {', '.join(GENERATIONS)})")
        bad.add("generation")
    return out, notes, bad


def _validation_problems(t: Table, r_no: int, model: type[BaseModel], exc: ValidationError, given: dict, reported: set[str]) -> list[str]:
    """pydantic's problems of one row as lines; none about a column already reported (a bad cell, a
    missing column, an unknown generation)."""
    out = []
    for e in exc.errors():
        loc = [str(x) for x in e["loc"]]
        col = loc[0] if loc and loc[0] in model.model_fields else ""
        msg = e["msg"].removeprefix("Value error, ")
        if col in reported or (not col and msg.split(" ", 1)[0] in reported):
            continue
        if e["type"] == "missing":
            out.append(f"{t.file}: row {r_no}, column {col}: required, the cell is empty (allowed: {allowed_text(model, col)})")
        elif col:
            shown = given.get(col, e.get("input"))
            got = "" if repr(shown) in msg else f", got {shown!r}"
            out.append(f"{t.file}: row {r_no}, column {col}: {msg}{got} (allowed: {allowed_text(model, col)})")
        else:
            # a rule over several cells (e.g. "generation 'X' is unknown"): name the column it starts with
            first = msg.split(" ", 1)[0]
            if first in model.model_fields:
                out.append(f"{t.file}: row {r_no}, column {first}: {msg}")
            else:
                out.append(f"{t.file}: row {r_no}: {msg}")
    return out


@dataclass
class Fleet:
    cohorts: list[tuple[int, dict, list[str]]]  # (row number, fields, notes)
    markets: dict[str, dict]                    # generation -> contract fields
    facilities: list[tuple[int, dict, list[str]]]


def parse_cohorts(t: Table, problems: list[str]) -> tuple[list[tuple[int, dict, list[str]]], dict[str, dict]]:
    allowed = COHORT_COLUMNS + MARKET_COLUMNS
    required = [k for k, f in S.Cohort.model_fields.items() if f.is_required()]
    problems += _check_header(t, allowed, required)
    cohorts, markets, seen_name, market_row = [], {}, {}, {}
    if not t.rows:
        problems.append(f"{t.file}: no cohort rows under the header (one row a cohort)")
    for r_no, cells in t.rows:
        vals, notes, bad = _row_values(t, r_no, cells, S.Cohort, allowed, problems)
        market = {k: vals.pop(k) for k in MARKET_COLUMNS if k in vals}
        try:
            S.Cohort.model_validate(vals)
        except ValidationError as exc:
            problems += _validation_problems(t, r_no, S.Cohort, exc, vals, bad | {k for k in required if k not in t.header})
        name = vals.get("name")
        if isinstance(name, str) and name in seen_name:
            problems.append(f"{t.file}: row {r_no}, column name: {name!r} is the name of row {seen_name[name]} too (cohort names must be unique)")
        elif isinstance(name, str):
            seen_name[name] = r_no
        gen = vals.get("generation")
        if market and gen in GENERATIONS:
            have = markets.setdefault(gen, {})
            for k, v in market.items():
                if k in have and have[k] != v:
                    problems.append(f"{t.file}: row {r_no}, column {k}: {v!r} differs from {have[k]!r} on row {market_row[(gen, k)]}: "
                                    f"a scenario keeps contract terms per generation ([market.{gen}]); give every {gen} row the same value or leave it empty")
                else:
                    have[k] = v
                    market_row.setdefault((gen, k), r_no)
        cohorts.append((r_no, vals, notes))
    return cohorts, markets


def parse_facilities(t: Table, problems: list[str]) -> list[tuple[int, dict, list[str]]]:
    required = [k for k, f in S.Facility.model_fields.items() if f.is_required()]
    problems += _check_header(t, FACILITY_COLUMNS, required)
    out = []
    for r_no, cells in t.rows:
        vals, notes, bad = _row_values(t, r_no, cells, S.Facility, FACILITY_COLUMNS, problems)
        cov = {k: vals.pop(k) for k in COVENANT_COLUMNS if k in vals}
        if cov:
            vals["covenants"] = cov
        try:
            S.Facility.model_validate(vals)
        except ValidationError as exc:
            for p in _validation_problems(t, r_no, S.Facility, exc, vals, bad | {k for k in required if k not in t.header}):
                problems.append(p.replace(", column covenants:", ", covenant columns:"))
        out.append((r_no, vals, notes))
    return out


# ------------------------------------------------------------------------------------------ writing
def _toml_value(v: Any) -> str:
    from engine.scenario.toml_write import _scalar

    return _scalar(v)


def _comment(notes: list[str]) -> str:
    return "".join(f"# {n}\n" for n in notes if n)


def scenario_text(fleet: Fleet, *, source: str, source_sha256: str, extends: str, title: str) -> str:
    """The scenario TOML (commented) for ``fleet``; ``extends`` as written in the file."""
    whole = ["fleet"] + (["financing"] if fleet.facilities else [])
    lines = [
        f"# Imported by `rackrisk import-fleet` from {source} (sha256 {source_sha256[:16]}): one [[fleet.cohort]] per row.",
        f"# Everything else (market, launches, demand, failures, costs, accounting) is {extends}'s, cited there;",
        "# contract terms given in the table replace its [market.<generation>] terms. Check the values, then `rackrisk validate` this file.",
        "",
        f"title = {_toml_value(title)}",
        f"extends = {_toml_value(extends)}",
        f"replace = {_toml_value(whole)}  # the table's cohorts{' and facilities' if fleet.facilities else ''} are the whole fleet{' and financing' if fleet.facilities else ''} (not merged with {Path(extends).name}'s)",
        "",
    ]
    for r_no, vals, notes in fleet.cohorts:
        lines.append(f"# row {r_no}" + (f": {notes[0]}" if notes else ""))
        lines.extend(_comment(notes[1:]).splitlines())
        lines.append("[[fleet.cohort]]")
        for k in COHORT_COLUMNS:
            if k in vals:
                lines.append(f"{k} = {_toml_value(vals[k])}")
        lines.append("")
    for g, m in fleet.markets.items():
        lines.append(f"[market.{g}]  # contract terms from the table")
        for k in MARKET_COLUMNS:
            if k in m:
                lines.append(f"{k} = {_toml_value(m[k])}")
        lines.append("")
    for r_no, vals, notes in fleet.facilities:
        lines.append("# facilities table, row " + str(r_no) + (f": {notes[0]}" if notes else ""))
        lines.append("[[financing.facility]]")
        cov = vals.get("covenants", {})
        for k, v in vals.items():
            if k != "covenants":
                lines.append(f"{k} = {_toml_value(v)}")
        if cov:
            lines.append("[financing.facility.covenants]")
            lines.extend(f"{k} = {_toml_value(v)}" for k, v in cov.items())
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _cross_problems(exc: ScenarioError, fleet: Fleet, source: str, fac_source: str) -> str:
    """A load error about cohort i or facility i, restated as its table row and column."""
    m = re.match(r"^(fleet\.cohort|financing\.facility)\[(\d+)\](?:\.([A-Za-z_]+))?", exc.field or "")
    if m:
        rows = fleet.cohorts if m.group(1) == "fleet.cohort" else fleet.facilities
        i = int(m.group(2))
        if i < len(rows):
            col = f", column {m.group(3)}" if m.group(3) else ""
            return f"{source if m.group(1) == 'fleet.cohort' else fac_source}: row {rows[i][0]}{col}: {exc.message}"
    return f"{source}: {exc.render()}"


def import_fleet(table: str | Path, *, out: str | Path | None = None, extends: str | Path | None = None,
                 facilities: str | Path | None = None, title: str | None = None) -> tuple[str, Any]:
    """Read ``table`` (.csv or .xlsx), build the scenario, validate it; returns (TOML text, LoadedScenario).

    ``out``: where the file will be written (``extends`` is written relative to its folder; default
    the current folder); ``extends``: the base scenario (default: the shipped scenarios/baseline.toml).
    Raises ``TableError`` (every bad cell) or ``ScenarioError``; writes nothing."""
    from engine.scenario.load import load_scenario_text

    table = Path(table)
    problems: list[str] = []
    t = read_table(table, None)
    if facilities:
        ft = read_table(Path(facilities), "facilities")
        if ft is None:
            raise ScenarioError(str(facilities), "", "no sheet named 'facilities' in the workbook")
    else:  # a workbook may carry its facilities on a second sheet
        ft = read_xlsx(table, "facilities") if _is_xlsx(table) else None
    cohorts, markets = parse_cohorts(t, problems)
    facs = parse_facilities(ft, problems) if ft is not None else []
    if problems:
        raise TableError(problems)
    fleet = Fleet(cohorts=cohorts, markets=markets, facilities=facs)
    out_dir = Path(out).resolve().parent if out else Path.cwd()
    base = Path(extends).resolve() if extends else SHIPPED_BASELINE
    if not base.exists():
        raise ScenarioError(str(extends), "--extends", "file not found")
    rel = os.path.relpath(base, out_dir)
    digest = hashlib.sha256(table.read_bytes()).hexdigest()
    text = scenario_text(fleet, source=table.name, source_sha256=digest, extends=rel,
                         title=title or f"Fleet imported from {table.name} on {base.stem}'s market")
    try:
        loaded = load_scenario_text(text, name=str(out or "imported scenario"), base_dir=out_dir)
    except ScenarioError as exc:
        raise TableError([_cross_problems(exc, fleet, str(table), str(ft.file if ft else table))]) from None
    return text, loaded
