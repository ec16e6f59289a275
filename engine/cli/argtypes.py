"""Value types of command-line flags shared by the commands (argparse ``type=``; no heavy imports).

``path_count``: the one parser of path counts (``--paths``, ``--max-paths``, ``--sobol-paths``,
``--chunk-paths``, ``--policy-range-paths``). ``set_assignment``: ``--set KEY=VALUE``.
"""

from __future__ import annotations

import argparse
import re
from decimal import Decimal, InvalidOperation

_DIGITS = re.compile(r"^[+-]?\d+(_\d+)*$")
_SUFFIX = {"k": 10**3, "m": 10**6}


def parse_path_count(text: str) -> int:
    """A whole number of paths written as ``100000``, ``100_000``, ``1e5``, ``2.5e5``, ``100k`` or ``1M``
    (k = 1,000, M = 1,000,000) -> ``int``. ValueError when the text is not a number or not a whole one
    (``1.5e0``). The sign is kept: the commands check the range (positive, or 0 = off)."""
    s = str(text).strip()
    mult = _SUFFIX.get(s[-1:].lower(), 1) if s else 1
    body = s[:-1] if mult != 1 else s
    if _DIGITS.match(body):
        return int(body.replace("_", "")) * mult
    try:
        x = Decimal(body) * mult
    except InvalidOperation:
        raise ValueError(f"expected a whole number of paths such as 100000, 100_000, 1e5 or 100k, got {text!r}") from None
    if not x.is_finite() or x != x.to_integral_value():
        raise ValueError(f"a number of paths must be a whole number, got {text!r}" + (f" (= {x.normalize():f})" if x.is_finite() else ""))
    return int(x)


def path_count(text: str) -> int:
    """argparse type of a path-count flag: ``parse_path_count``, its message as argparse's error."""
    try:
        return parse_path_count(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def set_assignment(text: str) -> tuple[str, object]:
    """argparse type of ``--set KEY=VALUE``: ``(KEY, value)`` (engine/scenario/overrides.py's rule)."""
    from engine.errors import ScenarioError
    from engine.scenario.overrides import parse_assignment

    try:
        return parse_assignment(text)
    except ScenarioError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def add_set_flag(parser, what: str = "the scenario") -> None:
    """The repeatable ``--set KEY=VALUE`` flag (collected in ``args.set`` as (key, value) pairs)."""
    parser.add_argument(
        "--set", action="append", type=set_assignment, default=[], metavar="KEY=VALUE",
        help=f"override a value of {what} by its dotted key, e.g. --set costs.electricity_usd_per_kwh=0.12 or "
             "--set fleet.cohort.h100_2024.units=2048 (repeatable; a TOML value; recorded in the resolved scenario and its sha256; docs/scenarios.md)",
    )


def overrides_of(args) -> dict | None:
    """``--set`` pairs as the ``overrides`` mapping of ``load_scenario`` (later ones win), or None."""
    pairs = getattr(args, "set", None) or []
    return dict(pairs) or None


def add_threads_flag(parser) -> None:
    """``--threads N``: CPU threads (and XLA host devices) of the process (engine/host_devices.py). Kept as text
    and checked by the command (one error line, exit 2), not by argparse."""
    parser.add_argument(
        "--threads", metavar="N",
        help="CPU threads and XLA host devices to use (default: the scenario's [run] threads, else the cores free now: "
             "cores - 1-minute load average; docs/performance.md). Results do not depend on it",
    )
