"""``Scenario``: a validated scenario in memory, from a file, a TOML text or a dict, with overrides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.scenario.load import LoadedScenario, load_scenario, load_scenario_data, load_scenario_text


@dataclass(frozen=True)
class Scenario:
    """A validated scenario (immutable). Build it with ``from_toml`` or ``from_dict``; derive variants
    with ``with_overrides``. Every constructor raises ``engine.errors.ScenarioError`` (naming the
    file, the field and the allowed values) on bad input, never a half-built object.

    Attributes:
        loaded: the validated scenario with its resolved TOML and sha256 (what the CLI runs).
    """

    loaded: LoadedScenario

    @classmethod
    def from_toml(cls, source: str | Path, *, base_dir: str | Path | None = None, name: str | None = None,
                  allow_unconverged: bool = False) -> Scenario:
        """A scenario file (a ``Path``, or a string naming an existing ``.toml`` file) or a TOML text.

        For a text, ``extends`` and posterior/path-table file names are relative to ``base_dir``
        (default: the working directory) and errors name it ``name`` (default ``"scenario"``)."""
        text = str(source)
        is_file = isinstance(source, Path) or ("\n" not in text and text.endswith(".toml"))
        if is_file:
            return cls(load_scenario(Path(source), allow_unconverged=allow_unconverged))
        return cls(load_scenario_text(text, name=name or "scenario", base_dir=base_dir or ".", allow_unconverged=allow_unconverged))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base_dir: str | Path = ".", name: str = "scenario",
                  allow_unconverged: bool = False) -> Scenario:
        """A scenario from nested dicts with the TOML file's structure (``{"run": {...}, "fleet": {"cohort": [...]}}``)."""
        return cls(load_scenario_data(dict(data), name=name, base_dir=base_dir, allow_unconverged=allow_unconverged))

    def with_overrides(self, overrides: Mapping[str, Any], *, allow_unconverged: bool = False) -> Scenario:
        """A new scenario with dotted keys set (``{"market.H100.decline_rate_per_month": 0.03,
        "fleet.cohort.H100_2023.units": 2000, "run.paths": 20000}``; engine/scenario/overrides.py has
        the key syntax), validated by the same rules as a file. This scenario is unchanged."""
        return Scenario(self.loaded.with_overrides(dict(overrides), allow_unconverged=allow_unconverged))

    @property
    def name(self) -> str:
        """The file's stem (or the ``name`` given to ``from_toml``/``from_dict``)."""
        return self.loaded.name

    @property
    def toml(self) -> str:
        """The resolved scenario (``extends`` applied, defaults filled in) as TOML text."""
        return self.loaded.resolved_toml

    @property
    def sha256(self) -> str:
        """sha256 of ``toml``: two scenarios with the same hash give the same numbers for the same seed."""
        return self.loaded.sha256

    @property
    def config(self):
        """The validated pydantic model (``engine.scenario.schema.Scenario``): read-only access to every field."""
        return self.loaded.scenario

    def __repr__(self) -> str:
        s = self.loaded.scenario
        return (f"Scenario({self.name!r}: {len(s.fleet.cohort)} cohort(s), start {s.run.start_month}, "
                f"{s.run.horizon_months} months, {s.run.paths} paths, seed {s.run.seed}, sha256 {self.sha256[:12]})")
