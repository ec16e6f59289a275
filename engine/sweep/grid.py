"""GRID.toml -> the list of sweep points (each an overlay on the base scenario and a seed).

    base = "../scenarios/baseline.toml"   # the scenario every point starts from (relative to GRID.toml)
    seeds = [0, 1]                         # root seeds: each combination runs once per seed
    paths = 20000                          # optional: paths per point (default: the base's run.paths)
    store = "summary"                      # optional: what each point keeps (summary | paths)

    [[axis]]
    name = "life_months"                   # the dimension's name (a coordinate on ``scenario``)
    set = ["fleet.cohort[H100_2024].useful_life_months", "fleet.cohort[H200_2025].useful_life_months"]
    values = [48, 60, 72]                  # each value is written to every field in ``set``

Field paths are dotted; a list of tables is addressed by the key it merges on (``cohort[NAME]``,
``launch[GENERATION]``, ``component[NAME]``), exactly as ``extends`` merges files. A value may be a
number, a string or a distribution table (``{ dist = "uniform", low = 0.1, high = 0.3 }``).
Points are the Cartesian product of the axes (first axis slowest), times the seeds (fastest).
"""

from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import ScenarioError

_LIST_KEYS = {"cohort": "name", "launch": "generation", "component": "name"}
_PART = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[([^\]]+)\])?$")
_TOP_KEYS = {"base", "seeds", "paths", "store", "axis", "title"}


@dataclass(frozen=True)
class Axis:
    name: str
    fields: tuple[str, ...]
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Point:
    """One task: labels (axis name -> value), the overlay table and the seed."""

    index: int
    labels: dict
    overlay: dict
    seed: int

    @property
    def label(self) -> str:
        parts = [f"{k}={_short(v)}" for k, v in self.labels.items()]
        return ",".join(parts + [f"seed={self.seed}"])


@dataclass(frozen=True)
class Grid:
    path: Path
    base: Path
    seeds: tuple[int, ...]
    paths: int | None
    store: str
    axes: tuple[Axis, ...]
    points: tuple[Point, ...]


def _short(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ",".join(f"{k}:{v[k]}" for k in v) + "}"
    return str(v)


def _overlay(field: str, value: Any, file: str, where: str) -> dict:
    """'a.b[KEY].c' = v -> {"a": {"b": [{"<merge key>": "KEY", "c": v}]}}."""
    parts = field.split(".")
    if not parts or any(not p for p in parts):
        raise ScenarioError(file, where, f"field path {field!r} must be dotted names, e.g. fleet.cohort[H100_2024].useful_life_months")
    node: Any = value
    for part in reversed(parts):
        m = _PART.match(part)
        if not m:
            raise ScenarioError(file, where, f"field path {field!r}: bad part {part!r} (a name, or name[KEY] for a list of tables)")
        name, key = m.groups()
        if key is not None:
            if name not in _LIST_KEYS:
                raise ScenarioError(file, where, f"field path {field!r}: only {sorted(_LIST_KEYS)} are lists of tables addressed by [KEY]")
            if not isinstance(node, dict):
                raise ScenarioError(file, where, f"field path {field!r}: {part} must be followed by a field name")
            node = {name: [{_LIST_KEYS[name]: key, **node}]}
        else:
            node = {name: node}
    return node


def _merge(a: dict, b: dict) -> dict:
    from engine.scenario.load import _merge as merge

    return merge(a, b)


def load_grid(path: str | Path) -> Grid:
    """Parse and check GRID.toml (bad input: ScenarioError naming the grid file and field)."""
    path = Path(path)
    file = str(path)
    if not path.exists():
        raise ScenarioError(file, "", "grid file not found")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(file, "", f"not valid TOML: {exc}") from None
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ScenarioError(file, sorted(unknown)[0], f"unknown key; allowed: {sorted(_TOP_KEYS)}")
    base = data.get("base")
    if not isinstance(base, str):
        raise ScenarioError(file, "base", "required: the base scenario file (string, relative to the grid file)")
    base_path = (path.resolve().parent / base).resolve()
    if not base_path.exists():
        raise ScenarioError(file, "base", f"file {base!r} not found (looked in {path.resolve().parent})")
    seeds = data.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**32 for s in seeds):
        raise ScenarioError(file, "seeds", "a non-empty list of integer seeds in [0, 2^32)")
    if len(set(seeds)) != len(seeds):
        raise ScenarioError(file, "seeds", "seeds must be distinct")
    paths = data.get("paths")
    if paths is not None and (not isinstance(paths, int) or isinstance(paths, bool) or paths <= 0):
        raise ScenarioError(file, "paths", "a positive integer")
    store = data.get("store", "summary")
    if store not in ("summary", "paths"):
        raise ScenarioError(file, "store", "one of 'summary', 'paths'")
    axes = []
    raw_axes = data.get("axis", [])
    if not isinstance(raw_axes, list) or not all(isinstance(a, dict) for a in raw_axes):
        raise ScenarioError(file, "axis", "an array of tables [[axis]] with name, set and values")
    names = set()
    for i, a in enumerate(raw_axes):
        where = f"axis[{i}]"
        extra = set(a) - {"name", "set", "values"}
        if extra:
            raise ScenarioError(file, f"{where}.{sorted(extra)[0]}", "unknown key; allowed: ['name', 'set', 'values']")
        name = a.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name in ("scenario", "seed"):
            raise ScenarioError(file, f"{where}.name", "an identifier (letters, digits, _), not 'scenario' or 'seed'")
        if name in names:
            raise ScenarioError(file, f"{where}.name", f"duplicate axis name {name!r}")
        names.add(name)
        fields = a.get("set")
        fields = [fields] if isinstance(fields, str) else fields
        if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
            raise ScenarioError(file, f"{where}.set", "a field path or a list of field paths")
        values = a.get("values")
        if not isinstance(values, list) or not values:
            raise ScenarioError(file, f"{where}.values", "a non-empty list of values")
        for f in fields:
            _overlay(f, values[0], file, f"{where}.set")
        axes.append(Axis(name=name, fields=tuple(fields), values=tuple(values)))

    points = []
    combos = itertools.product(*[a.values for a in axes]) if axes else [()]
    for combo in combos:
        overlay: dict = {}
        labels = {}
        for a, v in zip(axes, combo):
            labels[a.name] = v
            for f in a.fields:
                overlay = _merge(overlay, _overlay(f, v, file, a.name))
        for s in seeds:
            points.append(Point(index=len(points), labels=labels, overlay=overlay, seed=s))
    return Grid(path=path, base=base_path, seeds=tuple(seeds), paths=paths, store=store, axes=tuple(axes), points=tuple(points))
