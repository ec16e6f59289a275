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


def scenario_sources(files: list[str]) -> dict[str, str]:
    """Merged over the ``extends`` chain (base first, as listed in ``scenario_files_read``); unreadable files are skipped."""
    out: dict[str, str] = {}
    for f in files:
        try:
            out.update(file_sources(f))
        except (OSError, UnicodeDecodeError):
            continue
    return out
