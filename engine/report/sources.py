"""The sources of a scenario's assumptions: the comments written beside each value in its TOML files.

Shipped scenarios cite a source on every line (``units = 8000  # assumption: ...``). This module
reads those comments so the report can show each key assumption with its source. Keys are dotted
paths as in the resolved scenario, with array-of-tables items named by their ``name`` (cohorts,
facilities) or ``generation`` (launches): ``market.H100.contracted_frac``,
``next_gen.launch[Rubin].ship_months_from_start``, ``financing.facility[DDTL_1.0].principal_usd``.
A value's source is its inline comment, or else the comment block directly above it. Files later in
the ``extends`` chain override earlier ones, as their values do. Stdlib only.
"""

from __future__ import annotations

import re
from pathlib import Path

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\.\"']+)\s*=")
_ITEM_NAME_KEYS = ("name", "generation")


def _split_comment(line: str) -> tuple[str, str]:
    """(code, comment) of a TOML line: the first ``#`` outside a string starts the comment."""
    quote = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i], line[i + 1 :].strip()
        i += 1
    return line, ""


def _item_name(lines: list[str], start: int) -> str | None:
    """The ``name`` / ``generation`` value of the array item whose header is at ``start``."""
    for line in lines[start + 1 :]:
        code, _ = _split_comment(line)
        if _HEADER.match(code):
            return None
        m = re.match(r"^\s*(name|generation)\s*=\s*\"([^\"]*)\"", code)
        if m:
            return m.group(2)
    return None


def file_sources(path: str | Path) -> dict[str, str]:
    """Dotted key -> source comment, for every commented value of one TOML file."""
    lines = Path(path).read_text().splitlines()
    out: dict[str, str] = {}
    table = ""
    arrays: dict[str, str] = {}  # array-of-tables path -> current item label
    block: list[str] = []  # comment lines directly above (kept for the uncommented keys that follow them)
    after_key = False
    for i, raw in enumerate(lines):
        code, comment = _split_comment(raw)
        if not code.strip():
            block = ([] if after_key else block) + [comment] if comment else []
            after_key = False
            continue
        h = _HEADER.match(code)
        if h:
            name = h.group(2).strip()
            for arr, label in sorted(arrays.items(), key=lambda kv: -len(kv[0])):  # [a.b.c] inside the current [[a.b]] item
                if name.startswith(arr + "."):
                    name = f"{arr}[{label}]" + name[len(arr):]
                    break
            if h.group(1) == "[[":
                label = _item_name(lines, i) or str(sum(1 for k in out if k.startswith(name + "[")))
                arrays[name] = label
                name = f"{name}[{label}]"
            table = name
            block, after_key = [], False
            continue
        k = _KEY.match(code)
        if k:
            key = k.group(1).strip().strip("\"'")
            text = comment or " ".join(block)
            if text:
                out[f"{table}.{key}" if table else key] = text
            if comment:
                block = []
            after_key = True
            continue
        block, after_key = [], False
    return out


_LEGEND = re.compile(r"\b([A-Z]{2,6})\s*=\s*([\w./-]+\.(?:csv|md))")
_BRIEF = re.compile(r"\bbrief:\s*")
_URL_COLUMNS = ("source_url", "source", "url")


def _resolve(given: str, base_dir: Path) -> Path | None:
    """The data file a legend names, relative to the scenario file's folder or the shared data set beside the checkout."""
    for root in (base_dir, base_dir / "../../shared", base_dir / "../../shared/data", base_dir / "../.."):
        p = (root / given).resolve()
        if p.is_file():
            return p
    return None


def _shown(p: Path | None, given: str) -> str:
    """A path a reader can open: from ``shared/`` when the file is in the shared data set, else as the file gives it."""
    if p is None:
        return given.removeprefix("../../")
    parts = p.parts
    return "/".join(parts[parts.index("shared"):]) if "shared" in parts else str(p)


def file_legend(path: str | Path) -> dict[str, tuple[str, Path | None]]:
    """Abbreviation -> (path shown, file) of the legend in a scenario file's comments (``HW = seed/hardware_and_ops.csv``)."""
    path = Path(path)
    out = {}
    for line in path.read_text().splitlines():
        code, comment = _split_comment(line)
        if code.strip() or not comment:
            continue
        for abbr, given in _LEGEND.findall(comment):
            p = _resolve(given, path.parent)
            out[abbr] = (_shown(p, given), p)
    return out


class _Lines:
    """Rows of the cited CSV files by line number (line 1 = the header), read once."""

    def __init__(self) -> None:
        self._rows: dict[Path, dict[int, dict]] = {}

    def row(self, p: Path | None, line: int) -> dict | None:
        if p is None or p.suffix != ".csv":
            return None
        if p not in self._rows:
            import csv

            rows: dict[int, dict] = {}
            try:
                with p.open(newline="") as f:
                    r = csv.DictReader(f)
                    start = 2
                    for rec in r:
                        rows[start] = rec
                        start = r.line_num + 1
            except (OSError, UnicodeDecodeError, csv.Error):
                rows = {}
            self._rows[p] = rows
        return self._rows[p].get(line)


def cite(text: str, legend: dict[str, tuple[str, Path | None]], lines: _Lines | None = None) -> str:
    """A source comment with its shorthand spelled out: ``HW:188`` -> ``shared/data/seed/hardware_and_ops.csv line 188
    (<the row's source URL, without https://>)``, a bare ``HW`` -> the file, and ``brief:`` (the project brief, not public) ->
    ``scenario design choice (no external source):``."""
    lines = lines or _Lines()
    if legend:
        names = "|".join(sorted(map(re.escape, legend), key=len, reverse=True))

        def numbered(m: re.Match) -> str:
            shown, p = legend[m.group(1)]
            a, b = int(m.group(2)), m.group(3)
            where = f"{shown} line{'s' if b else ''} {a}{'-' + b if b else ''}"
            row = lines.row(p, a)
            url = next((row[c] for c in _URL_COLUMNS if row and row.get(c)), "") if row else ""
            # without the scheme: the report is a self-contained page with no links out (docs/report.md)
            url = re.sub(r"^https?://", "", url.strip())
            return f"{where} ({url})" if url else where

        text = re.sub(rf"\b({names}):(\d+)(?:-(\d+))?", numbered, text)
        text = re.sub(rf"\b({names})\b(?!\s*=)(?!/)", lambda m: legend[m.group(1)][0], text)
    return _BRIEF.sub("scenario design choice (no external source): ", text)


def scenario_sources(files: list[str]) -> dict[str, str]:
    """Merged over the ``extends`` chain (base first, as listed in ``scenario_files_read``); unreadable files are
    skipped. Each source is spelled out (``cite``) with the legends of every file of the chain, a file's own first."""
    out: dict[str, str] = {}
    legends: list[dict] = []
    per_file: list[tuple[dict, dict]] = []
    for f in files:
        try:
            src, leg = file_sources(f), file_legend(f)
        except (OSError, UnicodeDecodeError):
            continue
        legends.append(leg)
        per_file.append((src, leg))
    merged: dict = {}
    for leg in legends:
        merged.update(leg)
    lines = _Lines()
    for src, leg in per_file:
        legend = {**merged, **leg}
        out.update({k: cite(v, legend, lines) for k, v in src.items()})
    return out
