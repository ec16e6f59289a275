"""A preset's fleet as it stood at a valuation date, built from the preset (no hand-written TOML).

``build(preset, as_of)`` loads the preset with the engine's loader (``extends`` applied, defaults
filled in, posterior paths absolute), takes its resolved TOML as plain data and changes only what
the date changes:

* ``run.start_month``: the month after ``as_of``; ``run.horizon_months`` = HORIZON_MONTHS;
  ``run.store = "paths"`` (the per-path first impairment months are read).
* ``fleet.cohort``: only cohorts with ``purchase_month <= as_of``; ``market`` only for their generations.
* ``market.<G>.price_usd_per_gpu_hour``: the observed raw on-demand median (GIX ``market_median``,
  basis ``on_demand``, ``priors/observations/rental_prices.csv``) of the as-of month, a fixed number.
* ``next_gen``: the launches known at the date (``launches.known_launches``), each with the preset's
  first launch's undercut and utilization-cut tables; the preset's own launches and cadence (dated
  from its valuation date) are dropped.
* posterior inputs: the as-of files where shipped (``posteriors.choose``).
* ``[financing]`` and ``[stress]`` are dropped: recognition of an impairment does not depend on the
  debt, and the preset's facilities and shocks are dated from its own valuation date.
  ``correlations`` pairs naming a dropped input are dropped with it.

Everything else (lives, capex, contracts, costs, accounting policy) is the preset's, so a change to
the preset (units, vintages) flows through. The result is checked by ``load_scenario`` exactly as a
file would be.
"""

from __future__ import annotations

import copy
import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from engine.generations import RANK
from engine.scenario.schema import month_index, month_label
from engine.scenario.toml_write import dumps

HORIZON_MONTHS = 12  # the scored window; a test's forecast runs over the cohort's remaining life in closed form
# (engine/accounting/forecast.py, n = remaining life in engine/kernel/path.py), not over the horizon
PRICE_TABLE = "rental_prices"


class AsOfInputError(ValueError):
    """Bad command-line input found while building an as-of scenario.

    Attributes:
        argument: the argument at fault ("--as-of", "SCENARIO"); str(self): what is wrong and what is allowed.
    """

    def __init__(self, argument: str, message: str):
        super().__init__(message)
        self.argument = argument


@dataclass(frozen=True)
class StartPrice:
    """An observed start price: ``usd_per_gpu_hour`` from the row dated ``date`` (``note``: the row's note)."""

    usd_per_gpu_hour: float
    date: str
    note: str


@dataclass
class AsOfScenario:
    """The preset at a valuation date.

    Attributes:
        preset: the preset file. as_of: the valuation date (YYYY-MM). start_month: the month after.
        toml: the as-of scenario as TOML text (posterior paths absolute; runs from any folder).
        cohorts_kept, cohorts_dropped: cohort names (dropped: bought after ``as_of``).
        start_prices: generation -> StartPrice. launches: launches.KnownLaunch list.
        posteriors: model -> posteriors.PosteriorChoice. notes: what was dropped, in words.
    """

    preset: Path
    as_of: str
    start_month: str
    toml: str
    cohorts_kept: list[str]
    cohorts_dropped: list[str]
    start_prices: dict
    launches: list
    posteriors: dict
    notes: list[str] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.toml.encode()).hexdigest()

    def write(self, folder: Path) -> Path:
        """Write the TOML as ``folder/<preset stem>_<as_of>.toml``; returns the path."""
        path = Path(folder) / f"{self.preset.stem}_{self.as_of}.toml"
        path.write_text(self.toml + "\n")
        return path


def start_prices(generations: list[str], as_of: str) -> dict[str, StartPrice]:
    """Raw on-demand median of each generation in the as-of month (rows dated after it unread).

    Raises:
        AsOfInputError("--as-of"): a generation has no median that month (message lists its months).
    """
    from priors.observations_io import read_table

    t = read_table(PRICE_TABLE)
    med = t[(t["series"] == "market_median") & (t["basis"] == "on_demand") & (t["entity"] == "gix")]
    out = {}
    for g in generations:
        rows = med[(med["generation"] == g) & (med["date"].str[:7] == as_of)]
        if len(rows) != 1:
            months = sorted(med.loc[med["generation"] == g, "date"].str[:7])
            have = f"{months[0]} .. {months[-1]} ({len(months)} months)" if months else "none"
            raise AsOfInputError("--as-of", f"{as_of}: no observed raw on-demand median price of {g} that month "
                                 f"(priors/observations/rental_prices.csv, GIX); months with one: {have}")
        r = rows.iloc[0]
        out[g] = StartPrice(usd_per_gpu_hour=float(r["value_low"]), date=str(r["date"]), note=str(r["note"]))
    return out


def _swap_posteriors(data, as_of: str, chosen: dict) -> object:
    """Every ``dist = "posterior"`` table pointed at its as-of file; ``chosen`` collects the choices."""
    from engine.impairment_backtest.posteriors import choose

    if isinstance(data, dict):
        if data.get("dist") == "posterior":
            c = chosen.get(data["file"]) or choose(data["file"], as_of)
            chosen[data["file"]] = c
            return {**data, "file": str(c.path)}
        return {k: _swap_posteriors(v, as_of, chosen) for k, v in data.items()}
    if isinstance(data, list):
        return [_swap_posteriors(v, as_of, chosen) for v in data]
    return data


def build(preset: str | Path, as_of: str) -> AsOfScenario:
    """The preset's fleet at ``as_of`` (YYYY-MM) as a validated scenario (see the module docstring).

    Raises:
        AsOfInputError: no cohort bought by ``as_of``, no observed price that month, no as-of
            posterior of a required model (argument "--as-of"); ScenarioError: a bad preset.
    """
    from engine.impairment_backtest.launches import known_launches
    from engine.scenario.load import load_scenario

    preset = Path(preset)
    month_index(as_of)  # ValueError for a malformed month (the command checks first)
    loaded = load_scenario(preset)
    data = tomllib.loads(loaded.resolved_toml)
    start = month_label(month_index(as_of) + 1)
    notes = []

    cohorts = data["fleet"]["cohort"]
    kept = [c for c in cohorts if month_index(c["purchase_month"]) <= month_index(as_of)]
    dropped = [c["name"] for c in cohorts if c not in kept]
    if not kept:
        first = min(c["purchase_month"] for c in cohorts)
        raise AsOfInputError("--as-of", f"{as_of}: {preset} has no cohort bought by then (its first purchase month is {first}); "
                             f"use --as-of {first} or later")
    gens = sorted({c["generation"] for c in kept}, key=RANK.__getitem__)
    prices = start_prices(gens, as_of)

    data["title"] = f"{data.get('title', preset.stem)} | as of {as_of}"
    data["run"].update(start_month=start, horizon_months=HORIZON_MONTHS, store="paths")
    data["fleet"]["cohort"] = kept
    data["market"] = {g: {**data["market"][g], "price_usd_per_gpu_hour": prices[g].usd_per_gpu_hour} for g in gens}

    template = (data.get("next_gen", {}).get("launch") or [None])[0]
    launches = known_launches(as_of, start)
    if launches and template is None:
        notes.append(f"{preset.name} has no [[next_gen.launch]] to take undercuts from: the launches known at {as_of} are left out")
        launches = []
    data["next_gen"] = {"launch": [
        {"generation": k.generation, "ship_months_from_start": k.ship_months_from_start,
         "undercut_frac": copy.deepcopy(template.get("undercut_frac", {})),
         "utilization_cut_frac": copy.deepcopy(template.get("utilization_cut_frac", {}))}
        for k in launches
    ]}
    for section in ("financing", "stress"):
        if data.pop(section, None) is not None:
            notes.append(f"[{section}] dropped (impairment recognition does not use it; it is dated from the preset's valuation date)")

    chosen: dict = {}
    data = _swap_posteriors(data, as_of, chosen)
    data = _keep_known_pairs(data, notes)
    toml = dumps(data)
    return AsOfScenario(
        preset=preset, as_of=as_of, start_month=start, toml=toml, cohorts_kept=[c["name"] for c in kept], cohorts_dropped=dropped,
        start_prices=prices, launches=launches, posteriors={c.model: c for c in chosen.values()}, notes=notes,
    )


def _keep_known_pairs(data: dict, notes: list[str]) -> dict:
    """Drop ``correlations`` pairs that name an input the as-of scenario no longer has."""
    pairs = data.get("correlations", {}).get("pair", [])
    if not pairs:
        return data
    from engine.inputs.registry import input_paths
    from engine.scenario import schema as S

    bare = {**data, "correlations": {"pair": []}}
    known = set(input_paths(S.Scenario.model_validate(bare)))
    keep = [p for p in pairs if p["a"] in known and p["b"] in known]
    for p in pairs:
        if p not in keep:
            notes.append(f"correlation {p['a']} ~ {p['b']} dropped (an input is not in the as-of scenario)")
    return {**data, "correlations": {"pair": keep}}
