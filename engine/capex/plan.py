"""The plan file: schema, validation, and the scenario it implies (host).

A plan names a base scenario (market, launches, demand, failures, costs, accounting, TCO) and adds
tranches of GPUs bought by quarter, the funding mix (debt share of each tranche on a facility, the
rest equity) and the contract terms per generation. Every failure is a ``ScenarioError`` naming the
plan file, the field and what is allowed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.errors import ScenarioError
from engine.generations import GENERATIONS
from engine.scenario import schema as S

def quarter_first_month(text: str) -> str:
    """'2026Q2' or '2026-Q2' -> '2026-04' (the tranche's GPUs are bought and placed in service in the
    quarter's first month); the quarter rule is the scenario schema's (``S.parse_quarter``)."""
    return S.month_label(S.quarter_first_month(text))


def _compact_quarter(text: str) -> str:
    """'2026-Q2' or '2026Q2' -> '2026Q2': the spelling in the tranche's cohort name (names unchanged by the spelling)."""
    y, q = S.parse_quarter(text)
    return f"{y:04d}Q{q}"


class _Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Tranche(_Plan):
    """One purchase. Numbers of GPUs and their cost take the scenario cohort's names (``units``,
    ``capex_usd_per_gpu``) or the plan's own (``gpus``; ``capex_usd`` = the tranche's total): one of each pair."""

    quarter: str = Field(description="Quarter the GPUs are bought and placed in service, YYYYQn or YYYY-Qn (first month of the quarter).")
    generation: str = Field(description="GPU generation; one of " + ", ".join(GENERATIONS) + "; the base scenario must have its [market.<generation>].")
    units: int | None = Field(default=None, gt=0, description="GPUs bought (as a scenario cohort's units); or gpus.")
    gpus: int | None = Field(default=None, gt=0, description="GPUs bought (the plan's older name for units).")
    capex_usd_per_gpu: float | None = Field(default=None, gt=0, description="All-in capital cost per GPU (as a scenario cohort's); or capex_usd.")
    capex_usd: float | None = Field(default=None, gt=0, description="Dollars spent on the tranche in total (all-in: GPUs, servers, network, installation); or capex_usd_per_gpu.")
    kw_per_gpu: float = Field(gt=0, le=5, description="Rated power per GPU including its server share, kW.")
    useful_life_months: int = Field(gt=0, le=240, description="Depreciable life.")
    salvage_frac: float = Field(default=0.0, ge=0, lt=1, description="Salvage value as a share of capex.")

    @model_validator(mode="after")
    def _pairs(self) -> Tranche:
        for new, old in (("units", "gpus"), ("capex_usd_per_gpu", "capex_usd")):
            given = [k for k in (new, old) if getattr(self, k) is not None]
            if len(given) != 1:
                what = "both given" if given else "missing"
                raise ValueError(f"{new} or {old}: give exactly one ({what})")
        return self

    @property
    def n_units(self) -> int:
        """GPUs bought (units or gpus)."""
        return int(self.units if self.units is not None else self.gpus)  # type: ignore[arg-type]

    @property
    def per_gpu_usd(self) -> float:
        """Capex per GPU: capex_usd_per_gpu, or capex_usd / GPUs."""
        return self.capex_usd_per_gpu if self.capex_usd_per_gpu is not None else self.capex_usd / self.n_units  # type: ignore[operator]

    @property
    def total_usd(self) -> float:
        """The tranche's capex: capex_usd, or GPUs x capex_usd_per_gpu."""
        return self.capex_usd if self.capex_usd is not None else self.n_units * self.capex_usd_per_gpu  # type: ignore[operator]

    @field_validator("quarter")
    @classmethod
    def _quarter(cls, v: str) -> str:
        S.parse_quarter(v)
        return v

    @field_validator("generation")
    @classmethod
    def _generation(cls, v: str) -> str:
        if v not in GENERATIONS:
            raise ValueError(f"generation {v!r} is unknown; allowed: {', '.join(GENERATIONS)}")
        return v


class Funding(_Plan):
    debt_frac: float = Field(ge=0, le=1, description="Share of each tranche's capex borrowed (one facility per tranche, drawn at purchase); the rest is equity.")
    rate_type: Literal["fixed", "floating"] = Field(default="floating")
    fixed_rate_annual_frac: float = Field(default=0.0, ge=0, lt=1)
    spread_annual_frac: float = Field(default=0.0, ge=0, lt=1)
    sofr_floor_annual_frac: float = Field(default=0.0, ge=0, lt=1)
    tenor_months: int = Field(default=48, gt=0, le=240)
    amortization: Literal["straight_line", "level_payment", "contracted"] = Field(default="level_payment")
    interest_only_months: int = Field(default=0, ge=0, le=240)
    min_dscr: float = Field(default=1.25, gt=0, le=10, description="The DSCR covenant of criterion (b).")
    dscr_basis: Literal["point_in_time", "trailing_4q"] = Field(default="point_in_time")
    test_every_months: Literal[1, 3, 6, 12] = Field(default=3)
    equity_cures: int = Field(default=0, ge=0, le=20)
    reserve_months: float = Field(default=0.0, ge=0, le=24)
    liquidation_haircut_frac: float = Field(default=0.2, ge=0, lt=1)
    sofr: S.Sofr = Field(default_factory=S.Sofr)


class Contracts(_Plan):
    contracted_frac: float = Field(ge=0, le=1, description="Share of each tranche's GPUs under take-or-pay contracts from purchase (the plan's contracted share).")
    contract_price_usd_per_gpu_hour: float = Field(ge=0)
    contract_term_months: int = Field(ge=0, le=240)


class Search(_Plan):
    price_multiplier_min: float = Field(default=0.05, gt=0, description="Lowest rental-price multiplier searched (breakevens below are reported at it, as censored).")
    price_multiplier_max: float = Field(default=5.0, gt=0, description="Highest multiplier searched.")
    utilization_min_frac: float = Field(default=0.01, gt=0, lt=1)
    iterations: int = Field(default=14, ge=4, le=40, description="Bisection steps (on the log multiplier; on utilization).")

    @model_validator(mode="after")
    def _order(self) -> Search:
        if not self.price_multiplier_min < 1.0 < self.price_multiplier_max:
            raise ValueError("need price_multiplier_min < 1 < price_multiplier_max")
        return self


class Plan(_Plan):
    title: str = ""
    base_scenario: str = Field(description="Scenario file (relative to the plan) giving market, launches, demand, failures, costs, accounting and TCO; its fleet and financing are replaced by the plan's.")
    paths: int = Field(default=500, gt=0, le=1_000_000)
    seed: int = Field(default=0, ge=0, lt=2**32)
    horizon_months: int | None = Field(default=None, gt=0, le=240, description="Default: the base scenario's.")
    cost_of_capital_annual_frac: float | None = Field(default=None, gt=-0.5, lt=1, description="Hurdle rate of criterion (c); default: the base scenario's tco.cost_of_capital_annual_frac.")
    tranche: list[Tranche] = Field(min_length=1, max_length=64)
    funding: Funding
    contracts: dict[str, Contracts] = Field(default_factory=dict, description="Contract terms per generation; omitted = the base scenario's.")
    search: Search = Field(default_factory=Search)


@dataclass(frozen=True)
class LoadedPlan:
    plan: Plan
    path: Path
    scenario: object  # LoadedScenario of the implied scenario
    tranche_names: tuple[str, ...]
    sha256: str


def _err(path: Path, exc: ValidationError) -> ScenarioError:
    from engine.scenario.load import _loc_to_path

    e = exc.errors()[0]
    field = _loc_to_path(tuple(e["loc"]))
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "extra_forbidden":
        msg = "unknown key (see docs/credit.md section 8 for the plan fields)"
    elif e["type"] == "missing":
        msg = "required field is missing (see docs/credit.md section 8)"
    elif "input" in e and not isinstance(e["input"], (dict, list)):
        msg += f" (got {e['input']!r})"
    return ScenarioError(str(path), field, msg)


def load_plan(path: str | Path, *, paths: int | None = None, seed: int | None = None, overrides: dict | None = None) -> LoadedPlan:
    """Read and validate a plan file and build (and validate) the scenario it implies; ``overrides`` (dotted
    key -> value, ``--set``) are set on that scenario's data before it is validated (engine/scenario/overrides.py)."""
    from engine.scenario.load import _load_chain, _plain, validated_scenario

    path = Path(path)
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ScenarioError(str(path), "", "file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(str(path), "", f"cannot read the plan ({exc})") from None
    try:
        plan = Plan.model_validate(raw)
    except ValidationError as exc:
        raise _err(path, exc) from None
    base_path = (path.resolve().parent / plan.base_scenario)
    if not base_path.exists():
        raise ScenarioError(str(path), "base_scenario", f"file {plan.base_scenario!r} not found (looked in {path.resolve().parent})")
    data, chain = _load_chain(base_path, ())
    base_run = data.get("run", {})
    start = S.month_index(str(base_run.get("start_month", "")) if _valid_month(base_run.get("start_month")) else "0000-01")
    horizon = plan.horizon_months or int(base_run.get("horizon_months", 0) or 0)
    markets = data.get("market", {})
    cohorts, facilities, names = [], [], []
    for i, tr in enumerate(plan.tranche):
        where = f"tranche[{i}]"
        if tr.generation not in markets:
            raise ScenarioError(str(path), f"{where}.generation", f"the base scenario {plan.base_scenario} has no [market.{tr.generation}]; generations it prices: {', '.join(markets)}")
        month = quarter_first_month(tr.quarter)
        if not start <= S.month_index(month) < start + horizon:
            raise ScenarioError(str(path), f"{where}.quarter", f"{tr.quarter} is outside the run ({S.month_label(start)} to {S.month_label(start + horizon - 1)})")
        name = f"{tr.generation}_{_compact_quarter(tr.quarter)}"
        if name in names:
            name = f"{name}_{i}"
        names.append(name)
        cohorts.append(dict(
            name=name, generation=tr.generation, purchase_month=month, units=tr.n_units, capex_usd_per_gpu=tr.per_gpu_usd,
            useful_life_months=tr.useful_life_months, salvage_frac=tr.salvage_frac, kw_per_gpu=tr.kw_per_gpu, fixed_opex_usd_per_month=0.0,
        ))
        f = plan.funding
        if f.debt_frac > 0:
            fac = dict(
                name=f"debt_{name}", principal_usd=f.debt_frac * tr.total_usd, first_draw_month=month, tenor_months=f.tenor_months,
                amortization=f.amortization, interest_only_months=f.interest_only_months, rate_type=f.rate_type,
                fixed_rate_annual_frac=f.fixed_rate_annual_frac, spread_annual_frac=f.spread_annual_frac,
                sofr_floor_annual_frac=f.sofr_floor_annual_frac, collateral_cohorts=[name], reserve_months=f.reserve_months,
                liquidation_haircut_frac=f.liquidation_haircut_frac,
                covenants=dict(min_dscr=f.min_dscr, dscr_basis=f.dscr_basis, test_every_months=f.test_every_months, equity_cures=f.equity_cures),
            )
            facilities.append(fac)
    for g, c in plan.contracts.items():
        if g not in markets:
            raise ScenarioError(str(path), f"contracts.{g}", f"the base scenario has no [market.{g}]; generations it prices: {', '.join(markets)}")
        markets[g] = {**markets[g], "contracted_frac": c.contracted_frac, "contract_price_usd_per_gpu_hour": c.contract_price_usd_per_gpu_hour,
                      "contract_term_months": c.contract_term_months}
    data["fleet"] = {"cohort": cohorts}
    data["market"] = markets
    data["run"] = {**base_run, "paths": paths or plan.paths, "seed": plan.seed if seed is None else seed, "store": "summary"}
    if plan.horizon_months:
        data["run"]["horizon_months"] = plan.horizon_months
    if plan.cost_of_capital_annual_frac is not None:
        data["tco"] = {**data.get("tco", {}), "cost_of_capital_annual_frac": plan.cost_of_capital_annual_frac}
    data.pop("financing", None)
    if facilities:
        data["financing"] = {"sofr": _plain(plan.funding.sofr), "facility": facilities}
    import dataclasses

    loaded = validated_scenario(data, path, chain, check_posteriors=True, allow_unconverged=False, overrides=overrides)
    loaded = dataclasses.replace(loaded, files=(path.resolve(), *loaded.files))  # the plan first, then the base scenario's files
    return LoadedPlan(plan=plan, path=path, scenario=loaded, tranche_names=tuple(names), sha256=loaded.sha256)


def _valid_month(x) -> bool:
    try:
        S.month_index(str(x))
        return True
    except ValueError:
        return False

