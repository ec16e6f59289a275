"""Dotted-key overrides of a scenario's data: ``market.H100.decline_rate_per_month = 0.03``.

One rule, used by the command line (``rackrisk run FILE --set KEY=VALUE``) and the Python API
(``Scenario.with_overrides({...})``). Overrides apply to the scenario's data after ``extends`` is
merged and before it is validated, so an override is checked by exactly the rules a file is.

Keys:

* tables by name: ``accounting.materiality_frac``, ``market.H100.price_usd_per_gpu_hour``;
* a distribution's parameter: ``market.H100.decline_rate_per_month.mode`` (a plain number as the
  value of the input itself replaces the distribution with a fixed value);
* list items by their name (``fleet.cohort.h100_2024.units``; launches by ``generation``) or by
  position (``fleet.cohort[0].units``).

Values on the command line are TOML values (``0.03``, ``72``, ``true``, ``"2026-01"``,
``{dist = "normal", mean = 0.03, sd = 0.01}``); a bare word that is not TOML is taken as a string.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Mapping
from typing import Any

from engine.errors import ScenarioError

# list items are addressed by this key (the same keys ``extends`` merges lists on)
LIST_ITEM_KEYS = {"cohort": "name", "launch": "generation", "component": "name", "facility": "name"}

_INDEX = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\[(\d+)\]$")


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"KEY=VALUE"`` -> ``(KEY, value)``, the value read as TOML (a bare word as a string).

    Raises ``ScenarioError`` (field ``--set``) when there is no ``=`` or no key."""
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key:
        raise ScenarioError("command line", "--set", f"expected KEY=VALUE, e.g. market.H100.decline_rate_per_month=0.03 (got {text!r})")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def _split(key: str) -> list[str | int]:
    parts: list[str | int] = []
    for p in key.split("."):
        m = _INDEX.match(p)
        if m:
            parts += [m.group(1), int(m.group(2))]
        elif p:
            parts.append(p)
        else:
            raise ScenarioError("", key, "empty part in a dotted key")
    return parts


def _item(items: list, name: str | int, list_key: str, key: str, done: str) -> dict:
    """The list item named (or at position) ``name``; ScenarioError listing the items otherwise."""
    if isinstance(name, int):
        if 0 <= name < len(items):
            return items[name]
        raise ScenarioError("", key, f"{done} has {len(items)} item(s); no position {name}")
    field = LIST_ITEM_KEYS.get(list_key, "name")
    for it in items:
        if isinstance(it, dict) and it.get(field) == name:
            return it
    names = ", ".join(str(it.get(field)) for it in items if isinstance(it, dict))
    raise ScenarioError("", key, f"no item of {done} has {field} = {name!r}; items: {names or '(none)'}")


def set_dotted(data: dict, key: str, value: Any) -> None:
    """Set ``key`` (dotted, see the module doc) to ``value`` in ``data``, in place.

    Missing tables on the way are created (the schema then rejects keys it does not know, naming the
    allowed ones). Raises ``ScenarioError`` (field = ``key``) when the path runs through a value."""
    parts = _split(key)
    node: Any = data
    done = ""
    for i, p in enumerate(parts[:-1]):
        if isinstance(node, list):
            node = _item(node, p, str(parts[i - 1]) if i else "", key, done)
        elif isinstance(node, dict):
            if isinstance(p, int):
                raise ScenarioError("", key, f"{done or 'the scenario'} is a table, not a list: no position [{p}]")
            if p not in node:
                node[p] = {}
            elif not isinstance(node[p], (dict, list)):
                raise ScenarioError("", key, f"{(done + '.' if done else '') + p} is a value ({node[p]!r}), not a table")
            node = node[p]
        done = f"{done}.{p}" if done and not isinstance(p, int) else (f"{done}[{p}]" if isinstance(p, int) else p)
    last = parts[-1]
    if isinstance(node, list):
        raise ScenarioError("", key, f"{done} is a list: name one item, e.g. {done}.<name>.<field>")
    if isinstance(last, int):
        raise ScenarioError("", key, "a key must end with a field name")
    node[last] = value


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any] | None, *, file: str = "") -> dict:
    """A deep copy of ``data`` with each ``key: value`` of ``overrides`` set (in order).

    ``file`` names the scenario in error messages; the field is the override's key."""
    out = copy.deepcopy(dict(data))
    for key, value in (overrides or {}).items():
        try:
            set_dotted(out, key, value)
        except ScenarioError as exc:
            raise ScenarioError(file, f"{exc.field} (override)", exc.message) from None
    return out
