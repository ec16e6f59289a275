"""A small TOML writer for resolved scenarios (tomllib only reads)."""

from __future__ import annotations

import json
import math
from typing import Any


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if math.isnan(v):
            return "nan"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    if isinstance(v, dict):
        if not v:
            return "{}"
        return "{ " + ", ".join(f"{_key(k)} = {_scalar(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def dumps(data: dict, prefix: str = "") -> str:
    """Serialize nested dicts to TOML: scalars and distribution tables inline, sections as headers."""
    lines: list[str] = []
    simple = {k: v for k, v in data.items() if not (isinstance(v, dict) and not _inline(v)) and not _is_table_array(v)}
    for k, v in simple.items():
        lines.append(f"{_key(k)} = {_scalar(v)}")
    for k, v in data.items():
        name = f"{prefix}{_key(k)}"
        if isinstance(v, dict) and not _inline(v):
            body = dumps(v, name + ".")
            lines.append("")
            lines.append(f"[{name}]")
            lines.append(body)
        elif _is_table_array(v):
            for item in v:
                lines.append("")
                lines.append(f"[[{name}]]")
                lines.append(dumps(item, name + "."))
    return "\n".join(x for x in lines if x is not None).strip("\n")


def _inline(v: dict) -> bool:
    """Distribution tables, empty tables and per-generation tables of values are written inline."""
    if not v or "dist" in v:
        return True
    leaf = all(not isinstance(x, (dict, list)) or (isinstance(x, dict) and "dist" in x) for x in v.values())
    return leaf and _looks_keyed_by_generation(v)


def _looks_keyed_by_generation(v: dict) -> bool:
    from engine.generations import GENERATIONS

    return bool(v) and all(k == "default" or k in GENERATIONS for k in v)
