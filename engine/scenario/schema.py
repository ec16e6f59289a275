"""The scenario schema: one pydantic model per TOML section, unknown keys rejected.

Field names carry their units (``_usd``, ``_usd_per_gpu_hour``, ``_months``, ``_frac``, ``_kw``,
``_usd_per_kwh``). Each field's ``description`` is the reference text in docs/scenarios.md, which is
generated from this module (``rackrisk schema-docs``) and checked against it in the tests.

Months are written ``"YYYY-MM"``. Month indices used by the simulation count from the run's
``start_month``: month ``t = 1`` is the calendar month ``start_month``, cash flows fall at month end.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from engine.generations import GENERATIONS, USED_MARKET_GENERATIONS
from engine.host_devices import MAX_THREADS
from engine.scenario.dists import Posterior, Uncertain

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_index(text: str) -> int:
    """'YYYY-MM' -> months since year 0 (an absolute month number)."""
    m = _MONTH.match(text)
    if not m:
        raise ValueError(f"expected a month as \"YYYY-MM\", got {text!r}")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _check_month(text: str) -> str:
    month_index(text)
    return text


Month = Annotated[str, AfterValidator(_check_month)]


def _within(lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False):
    """An uncertain input whose every possible value must lie in [lo, hi] (or open ends)."""

    def check(d):
        if isinstance(d, Posterior):
            return d  # checked against the draws when the file is loaded
        s_lo, s_hi = d.support()
        bad_lo = s_lo < lo or (lo_open and s_lo <= lo)
        bad_hi = s_hi > hi or (hi_open and s_hi >= hi)
        if bad_lo or bad_hi:
            lb = "(" if lo_open else "["
            rb = ")" if hi_open else "]"
            what = f"value {s_lo:g}" if s_lo == s_hi else f"the distribution's support [{s_lo:g}, {s_hi:g}]"
            raise ValueError(
                f"{what} is outside the allowed range {lb}{lo:g}, {hi:g}{rb}"
                + ("" if s_lo == s_hi else "; use a bounded distribution (truncnormal, beta, uniform, triangular, pert, lognormal)")
            )
        return d

    lb = "(" if lo_open or math.isinf(lo) else "["
    rb = ")" if hi_open or math.isinf(hi) else "]"
    check.bounds_text = f"{lb}{lo:g}, {hi:g}{rb}"
    return AfterValidator(check)


Frac = Annotated[Uncertain, _within(0.0, 1.0)]
Positive = Annotated[Uncertain, _within(0.0, math.inf, lo_open=True)]
NonNeg = Annotated[Uncertain, _within(0.0, math.inf)]
AnyReal = Uncertain
MonthsFromStart = Annotated[Uncertain, _within(0.0, math.inf)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, validate_default=True, strict=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------- [run]
class RunSection(_Section):
    start_month: Month = Field(description="First simulated calendar month (YYYY-MM); cash flows of month t fall at its end.")
    horizon_months: int = Field(gt=0, le=240, description="Number of simulated months (1-240).")
    paths: int = Field(
        default=100_000, gt=0, le=4_000_000_000,
        description="Monte Carlo paths (overridden by --paths), at most 4,000,000,000 (32-bit path indices); above 100,000,000 only with store = \"summary\" and no [financing] (every path is kept otherwise).",
    )
    seed: int = Field(default=0, ge=0, lt=2**32, description="Root seed of every random stream (overridden by --seed).")
    dtype: Literal["float32", "float64"] = Field(default="float32", description="Floating point precision of the simulation.")
    store: Literal["summary", "paths", "full"] = Field(
        default="paths",
        description="What results.nc holds: summary statistics and monthly fans only; plus per-path scalars; plus full monthly paths.",
    )
    chunk_paths: int = Field(default=32_768, gt=0, le=4_194_304, description="Paths simulated per compiled call (memory bound; results do not depend on it). Not set: 32,768 on a CPU; on a GPU 4,194,304 for a single asset (one cohort, component and generation, no financing), else 1,048,576.")
    threads: int | None = Field(
        default=None, gt=0, le=MAX_THREADS,
        description=f"CPU threads and XLA host devices of the process that runs this file (1-{MAX_THREADS}; results do not depend on it); --threads wins. Omitted = the cores free when the run starts (cores - 1-minute load average; docs/performance.md).",
    )
    fan_paths: int = Field(default=10_000, gt=0, le=1_000_000, description="The first this-many paths give the monthly fan charts (exact quantiles over them).")
    acknowledge_warnings: list[str] | None = Field(
        default=None,
        description="Plausibility warnings the scenario means (engine/scenario/plausibility.py): field names as the warning prints them, or fnmatch patterns such as \"market.*.decline_rate_per_month\"; `validate` and `run` stay silent about them. Omitted = none.",
    )


# --------------------------------------------------------------------------------------- [fleet]
class Component(_Section):
    name: str = Field(description="Component label, e.g. gpu_modules, chassis_network_power.")
    capex_frac: float = Field(gt=0, le=1, description="Share of the cohort's capex in this component; shares sum to 1.")
    useful_life_months: int = Field(gt=0, le=240, description="Depreciable life of the component.")
    salvage_frac: float = Field(default=0.0, ge=0, lt=1, description="Salvage value as a share of the component's cost.")


class LifeChange(_Section):
    effective_month: Month = Field(description="Month from which the new life applies (ASC 250-10-45-17: prospective).")
    useful_life_months: int = Field(gt=0, le=240, description="New total useful life counted from purchase, applied to every component in proportion (primary component gets exactly this).")


class Cohort(_Section):
    name: str = Field(min_length=1, description="Unique cohort label.")
    generation: str = Field(description="GPU generation; one of " + ", ".join(GENERATIONS) + ".")
    purchase_month: Month = Field(description="Month the cohort was bought and placed in service (its first earning month).")
    units: int = Field(gt=0, description="GPUs bought.")
    capex_usd_per_gpu: float = Field(gt=0, description="All-in capital cost per GPU (server share, network, installation).")
    useful_life_months: int = Field(gt=0, le=240, description="Depreciable life of the primary component (the GPU modules).")
    salvage_frac: float = Field(default=0.0, ge=0, lt=1, description="Salvage value as a share of capex (ignored when components are given).")
    kw_per_gpu: float = Field(gt=0, le=5, description="Rated power per GPU including its server share (TDP basis), kW.")
    fixed_opex_usd_per_month: float = Field(default=0.0, ge=0, description="Cohort-level fixed operating cost per month.")
    component: list[Component] = Field(default_factory=list, description="Optional component split; the first is the primary asset.")
    life_change: LifeChange | None = Field(default=None, description="Optional change of useful life (change in estimate).")
    site: str = Field(default="site_1", min_length=1, description="Data centre of the cohort (asset_group = site tests each site's cohorts together).")

    @model_validator(mode="after")
    def _check(self) -> Cohort:
        if self.generation not in GENERATIONS:
            raise ValueError(f"generation {self.generation!r} is unknown; allowed: {', '.join(GENERATIONS)}")
        if self.component:
            total = sum(c.capex_frac for c in self.component)
            if abs(total - 1.0) > 1e-9:
                raise ValueError(f"component capex_frac must sum to 1, got {total:g}")
            names = [c.name for c in self.component]
            if len(set(names)) != len(names):
                raise ValueError("component names must be unique")
        if self.life_change and month_index(self.life_change.effective_month) <= month_index(self.purchase_month):
            raise ValueError("life_change.effective_month must come after purchase_month")
        return self


class FleetSection(_Section):
    cohort: list[Cohort] = Field(min_length=1, max_length=64, description="The GPU cohorts ([[fleet.cohort]] tables).")

    @model_validator(mode="after")
    def _unique(self) -> FleetSection:
        names = [c.name for c in self.cohort]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"cohort names must be unique; repeated: {', '.join(dup)}")
        return self


# --------------------------------------------------------------------------------------- [market.<generation>]
class MarketSection(_Section):
    price_usd_per_gpu_hour: Positive = Field(description="On-demand market rental price at the run start.")
    decline_rate_per_month: AnyReal = Field(
        description="Continuously compounded monthly decline of the log price (drift = -rate); 0.02 is about 2 % a month. Drawn once per path."
    )
    volatility_per_month: NonNeg = Field(description="Monthly volatility of log-price shocks.")
    contracted_frac: Frac = Field(default=0.0, description="Share of each cohort's GPUs under fixed-price take-or-pay contracts from purchase.")
    contract_price_usd_per_gpu_hour: float = Field(default=0.0, ge=0, description="Contract price (fixed, known).")
    contract_term_months: int = Field(default=0, ge=0, le=240, description="Contract term from the cohort's purchase month.")
    contract_expiry: Literal["market", "renew"] = Field(default="renew", description="At expiry: renewal_share_frac of the contracted capacity renewed at renewal_price_frac of the contract price (the rest re-priced at market), or all of it re-priced at market.")
    renewal_share_frac: float = Field(default=0.8, ge=0, le=1, description="Share of the expiring contracted capacity that renews (contract_expiry = renew). Default: CoreWeave's H100s 'rebooked immediately' and A100s 'fully booked' at five years (seed/elasticity_and_trends.csv, CNBC 2025-11-14; SiliconANGLE 2025-11-22), discounted for a single company's anecdote.")
    renewal_price_frac: float = Field(default=0.95, gt=0, le=2, description="Renewal price as a share of the original contract price. Default: H100s re-contracted at 95 % of the original price (CNBC 2025-11-14, seed/elasticity_and_trends.csv recontract_price_ratio).")
    spot_frac: Frac = Field(default=0.0, description="Share of non-contracted hours sold on spot.")
    spot_discount_frac: Frac = Field(default=0.0, description="Spot price discount to the on-demand market price.")

    @model_validator(mode="after")
    def _contract(self) -> MarketSection:
        c = self.contracted_frac
        has = not (c.is_random is False and c.mean() == 0.0)
        if has and (self.contract_price_usd_per_gpu_hour <= 0 or self.contract_term_months <= 0):
            raise ValueError("contracted_frac > 0 needs contract_price_usd_per_gpu_hour > 0 and contract_term_months > 0")
        return self


# --------------------------------------------------------------------------------------- [next_gen]
PerGeneration = dict[str, Frac]


def _check_gen_keys(table: dict, field: str) -> None:
    bad = [k for k in table if k != "default" and k not in GENERATIONS]
    if bad:
        raise ValueError(f"{field} has unknown generation key(s) {', '.join(bad)}; allowed: default, {', '.join(GENERATIONS)}")


class Launch(_Section):
    generation: str = Field(description="The launching generation; it undercuts every older generation.")
    ship_months_from_start: MonthsFromStart = Field(description="Volume-shipment time in months after the run start (continuous; months t >= it are affected).")
    undercut_frac: PerGeneration = Field(default_factory=dict, description="Price cut of each older generation, keyed by generation or 'default'.")
    utilization_cut_frac: PerGeneration = Field(default_factory=dict, description="Utilization cut of each older generation (multiplicative), keyed by generation or 'default'.")

    @model_validator(mode="after")
    def _check(self) -> Launch:
        if self.generation not in GENERATIONS:
            raise ValueError(f"generation {self.generation!r} is unknown; allowed: {', '.join(GENERATIONS)}")
        _check_gen_keys(self.undercut_frac, "undercut_frac")
        _check_gen_keys(self.utilization_cut_frac, "utilization_cut_frac")
        return self


class Cadence(_Section):
    generations: list[str] = Field(min_length=1, description="Generations launched after the last explicit launch, in order.")
    interval_months: Positive = Field(description="Months between successive launches.")
    undercut_frac: PerGeneration = Field(default_factory=dict, description="Price cut of each older generation at each cadence launch.")
    utilization_cut_frac: PerGeneration = Field(default_factory=dict, description="Utilization cut of each older generation at each cadence launch.")

    @model_validator(mode="after")
    def _check(self) -> Cadence:
        bad = [g for g in self.generations if g not in GENERATIONS]
        if bad:
            raise ValueError(f"unknown generation(s) {', '.join(bad)}; allowed: {', '.join(GENERATIONS)}")
        _check_gen_keys(self.undercut_frac, "undercut_frac")
        _check_gen_keys(self.utilization_cut_frac, "utilization_cut_frac")
        return self


class NextGenSection(_Section):
    launch: list[Launch] = Field(default_factory=list, description="Explicit launches ([[next_gen.launch]]), in order; a launch never ships before the previous one.")
    cadence: Cadence | None = Field(default=None, description="Optional regular launches after the explicit ones.")


# --------------------------------------------------------------------------------------- [demand]
class DemandSection(_Section):
    utilization_frac: Frac = Field(description="Share of a powered GPU's hours that is sold, before launches; drawn once per path.")
    price_elasticity: NonNeg = Field(default=0.0, description="Elasticity of utilization to the price's deviation from its trend (undercuts and shocks); 0 = none.")
    utilization_ceiling_frac: float = Field(default=1.0, gt=0, le=1, description="Cap on utilization after the elastic response.")


# --------------------------------------------------------------------------------------- [failures]
class FailuresSection(_Section):
    annual_failure_rate_frac: PerGeneration = Field(default_factory=dict, description="Annualized permanent failure rate by generation (or 'default'); drawn once per path.")
    policy: Literal["retain_book", "write_off", "replace"] = Field(
        default="write_off",
        description="Failed GPUs stop earning; write_off: their share of the carrying amount is written off; replace: replaced at replacement_cost_frac of capex (cash), book unchanged; retain_book: nothing is written off (the bench SPEC's simplification).",
    )
    replacement_cost_frac: float = Field(default=1.0, ge=0, le=2, description="Replacement cost as a share of the cohort's capex per GPU (policy = replace).")
    draw: Literal["exact", "normal"] = Field(
        default="exact",
        description="Monthly failure count: exact = the Binomial(alive, q) quantile of the month's uniform (a bounded search where the mean count is below 16, the normal approximation above it, docs/methodology.md §5); normal = the rounded, clipped normal approximation at every size (the bench SPEC's).",
    )

    @model_validator(mode="after")
    def _keys(self) -> FailuresSection:
        _check_gen_keys(self.annual_failure_rate_frac, "annual_failure_rate_frac")
        return self


# --------------------------------------------------------------------------------------- [costs]
class CostsSection(_Section):
    power_draw_frac: Frac = Field(default=0.76, description="Average draw as a share of rated power (TDP); not utilization.")
    pue: Annotated[Uncertain, _within(1.0, 5.0)] = Field(default=1.3, description="Power usage effectiveness (facility / IT energy), 1-5.")
    electricity_usd_per_kwh: NonNeg = Field(default=0.08, description="Electricity price.")
    colocation_usd_per_kw_month: NonNeg = Field(default=0.0, description="Colocation charge per kW of rated IT power per month (charged on installed GPUs).")
    staff_maintenance_usd_per_gpu_month: NonNeg = Field(default=0.0, description="Staff and maintenance per alive GPU per month.")
    network_usd_per_gpu_month: NonNeg = Field(default=0.0, description="Network and bandwidth per alive GPU per month.")
    hours_per_month: float = Field(default=730.0, gt=0, le=744, description="Hours in a month (8760 / 12 = 730).")


# --------------------------------------------------------------------------------------- [accounting]
class AccountingSection(_Section):
    """Accounting policy. Each default is the most common practice (docs/methodology.md §0 and §5 cite
    the rule and the practice behind it); the alternatives are one line away."""

    standards: list[Literal["asc360", "ias36"]] = Field(default_factory=lambda: ["asc360", "ias36"], min_length=1, description="Standards to apply (both can run on the same paths).")
    test_every_months: Literal[0, 1, 2, 3, 4, 6, 12] = Field(default=0, description="Unconditional periodic test at calendar months divisible by this (3 = quarter ends, 12 = December); 0 = test only on triggering events (ASC 360-10-35-21; IAS 36.9 indicators), the practice.")
    reporting_every_months: Literal[1, 3, 6, 12] = Field(default=3, description="IAS 36.9: indicators are assessed at each reporting date (calendar months divisible by this; 3 = quarterly reporting); a trigger since the last reporting date makes IAS 36 test then. ASC 360 tests in the month the trigger occurs.")
    trigger_on_launch: bool = Field(default=True, description="A next-generation launch that cuts the cohort's price by at least trigger_launch_undercut_min_frac is a triggering event (ASC 360-10-35-21(a)).")
    trigger_launch_undercut_min_frac: float = Field(default=0.10, ge=0, lt=1, description="Smallest launch undercut of the cohort's price that counts as a significant decrease in market price; 0 = every launch triggers.")
    trigger_price_drop_frac: float = Field(default=0.20, ge=0, lt=1, description="Triggering event: the market price below (1 - this) times its level at the cohort's last test (or the run start) for trigger_price_drop_months consecutive month ends; 0 = off.")
    trigger_price_drop_months: int = Field(default=3, ge=1, le=24, description="Months the price fall must last to be a trigger (a sustained decline, not one month's noise).")
    trigger_utilization_below_frac: float = Field(default=0.50, ge=0, le=1, description="Triggering event: utilization below this for trigger_utilization_months consecutive month ends (adverse change in the extent of use, 35-21(b)); 0 = off.")
    trigger_utilization_months: int = Field(default=3, ge=1, le=24, description="Months utilization must stay below the floor to be a trigger.")
    trigger_on_contract_expiry: bool = Field(default=True, description="Triggering event: a take-or-pay contract term ends and not all of its capacity is renewed (loss of a contract, 35-21(c)).")
    asset_group: Literal["cohort", "site", "fleet"] = Field(default="site", description="Level at which recoverability is tested (ASC 360-10-35-23 asset group / IAS 36 CGU): each cohort, each data centre (cohort field site), or the whole fleet.")
    forecast: Literal["drift", "flat"] = Field(
        default="drift",
        description="Cash-flow forecast at a test date: flat = this month's run rate held; drift = the scenario's expected price decline and failure attrition from today's state.",
    )
    discount_rate_annual_frac: float = Field(default=0.10, gt=-0.5, lt=1, description="Pre-tax discount rate for value in use (IAS 36.55), effective annual.")
    fair_value_method: Literal["hierarchy", "dcf", "used_market"] = Field(default="hierarchy", description="Fair value (ASC 820 / IFRS 13): hierarchy = the used-GPU market value (Level 2) for generations in used_market_generations, a market-participant DCF (Level 3) for the others; dcf or used_market for every generation.")
    used_market_generations: list[str] = Field(default_factory=lambda: list(USED_MARKET_GENERATIONS), description="Generations with observed used-GPU prices (Level 2 inputs) under fair_value_method = hierarchy; default: those with used-market rows in priors/observations/residual_value.csv.")
    fair_value_discount_rate_annual_frac: float = Field(default=0.10, gt=-0.5, lt=1, description="Market-participant discount rate for the DCF fair value, effective annual.")
    fair_value_economic_life_months: int | None = Field(default=None, gt=0, le=240, description="Economic life from purchase that a market participant would use in the DCF fair value (cash flows to it, disposal at its end); omitted = the remaining book life.")
    used_value_decay_per_month: Annotated[Uncertain, _within(0.0, 1.0)] = Field(default=0.018, description="Used-GPU value decay with age (continuous monthly rate) for used-market fair values and disposal proceeds; drawn once per path (e.g. from priors/fitted/residual_value.nc).")
    disposal_cost_frac: float = Field(default=0.0, ge=0, lt=1, description="Costs of disposal as a share of fair value in FVLCD (IAS 36.28).")
    disposal_proceeds: Literal["used_market", "book_salvage"] = Field(default="used_market", description="End-of-life proceeds (cash, and in every forecast): the used-GPU market value at the end of the life (today's used value forecast at the expected decay), or the book salvage value; kept apart from book salvage either way (IAS 16.6).")
    end_of_life_disposal_cost_frac: float = Field(default=0.0, ge=0, lt=1, description="Costs of disposal deducted from end-of-life proceeds (IAS 36.52 net disposal proceeds in value in use; cash at disposal).")
    loss_allocation: Literal["floored", "pro_rata"] = Field(
        default="floored",
        description="Allocation of an asset group's loss to its cohorts: floored = pro rata to carrying amounts but no cohort below its own fair value (ASC 360-10-35-28) or max(FVLCD, 0) (IAS 36.105), the excess to the others (the rule); pro_rata = carrying amounts only (docs/methodology.md §9.1).",
    )
    materiality_frac: float = Field(default=0.05, ge=0, lt=1, description="A month's recognised loss counts as a material impairment when it is at least this share of the fleet's carrying amount before it (SAB 99's 5 % rule of thumb); smaller losses are reported apart as immaterial.")
    fiscal_year_end_month: int = Field(default=12, ge=1, le=12, description="Last calendar month of the fiscal year (12 = December), for the by-fiscal-year probabilities.")

    @model_validator(mode="after")
    def _check(self) -> AccountingSection:
        bad = [g for g in self.used_market_generations if g not in GENERATIONS]
        if bad:
            raise ValueError(f"used_market_generations: unknown generation(s) {', '.join(bad)}; allowed: {', '.join(GENERATIONS)}")
        return self


# --------------------------------------------------------------------------------------- [tco]
class TcoSection(_Section):
    cost_of_capital_annual_frac: float = Field(default=0.10, gt=-0.5, lt=1, description="Cost of capital for NPV and the annuity capital charge, effective annual.")
    tokens_per_second_per_gpu: dict[str, float] = Field(default_factory=dict, description="Throughput by generation (or 'default') for $ per million tokens; omitted = not reported.")
    cloud_price_usd_per_gpu_hour: dict[str, float] = Field(default_factory=dict, description="Cloud price to compare against, by generation (or 'default'), for breakeven utilization and the breakeven time of owning against renting.")
    annuity_period: Literal["monthly", "annual"] = Field(default="monthly", description="Payment period of the annuity capital charge: monthly payments at the effective monthly rate over the life in months, or annual payments at the effective annual rate over the life in years, each year's payment spread evenly over its months (TCO tables are quoted both ways; docs/methodology.md section 11).")

    @model_validator(mode="after")
    def _keys(self) -> TcoSection:
        for name in ("tokens_per_second_per_gpu", "cloud_price_usd_per_gpu_hour"):
            table = getattr(self, name)
            _check_gen_keys(table, name)
            bad = [k for k, v in table.items() if not (v > 0 and math.isfinite(v))]
            if bad:
                raise ValueError(f"{name} must be positive; bad entries: {', '.join(bad)}")
        return self


# --------------------------------------------------------------------------------------- [correlations]
class RankCorrelation(_Section):
    a: str = Field(description="Dotted path of an uncertain input, e.g. market.H100.decline_rate_per_month.")
    b: str = Field(description="Dotted path of another uncertain input.")
    rank: float = Field(gt=-1, lt=1, description="Spearman rank correlation, mapped to the Gaussian copula by 2 sin(pi rank / 6).")


class CorrelationsSection(_Section):
    pair: list[RankCorrelation] = Field(default_factory=list, description="Rank correlations between uncertain inputs ([[correlations.pair]]).")


# --------------------------------------------------------------------------------------- [stress]
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$")


def parse_quarter(text: str) -> tuple[int, int]:
    """The one quarter parser: ``"2026-Q2"`` or ``"2026Q2"`` -> ``(2026, 2)``; ValueError otherwise."""
    m = _QUARTER.match(text) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"expected a quarter as \"YYYY-Qn\" or \"YYYYQn\" (n = 1..4), e.g. \"2026-Q2\", got {text!r}")
    return int(m.group(1)), int(m.group(2))


def quarter_label(text: str) -> str:
    """A quarter in either spelling -> its canonical label ``"YYYY-Qn"``."""
    y, q = parse_quarter(text)
    return f"{y:04d}-Q{q}"


def quarter_first_month(text: str) -> int:
    """'YYYY-Qn' (or 'YYYYQn') -> the absolute month index of the quarter's first month."""
    y, q = parse_quarter(text)
    return y * 12 + (q - 1) * 3


def _check_quarter(text: str) -> str:
    return quarter_label(text)  # one spelling in the resolved scenario (and its sha256)


Quarter = Annotated[str, AfterValidator(_check_quarter)]

SHOCK_KINDS = ("price_drop", "launch", "utilization_hold", "failure_spike", "power_spike", "sofr")
# the size field each shock kind needs (and may use), and the optional ones
_SHOCK_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "price_drop": (("drop_frac",), ("generations", "duration_months")),
    "launch": (("generation", "undercut_frac"), ("generations", "utilization_cut_frac")),
    "utilization_hold": (("utilization_frac",), ("generations", "duration_months")),
    "failure_spike": (("afr_mult",), ("generations", "duration_months")),
    "power_spike": (("electricity_mult",), ("duration_months",)),
    "sofr": (("sofr_shock_annual_frac",), ("duration_months",)),
}
_SHOCK_SIZE_FIELDS = ("drop_frac", "generation", "undercut_frac", "utilization_cut_frac", "utilization_frac", "afr_mult", "electricity_mult", "sofr_shock_annual_frac")


class Shock(_Section):
    kind: Literal["price_drop", "launch", "utilization_hold", "failure_spike", "power_spike", "sofr"] = Field(
        description="price_drop: market price of the generations x (1 - drop_frac) from the month on; launch: the next generation `generation` ships in that month (fixed) and cuts the price of `generations` (default every older one) by undercut_frac; utilization_hold: utilization held at utilization_frac; failure_spike: monthly failure hazard x afr_mult; power_spike: electricity price x electricity_mult; sofr: SOFR + sofr_shock_annual_frac (needs a [financing] section)."
    )
    month: Month | None = Field(default=None, description="First shocked month (YYYY-MM); give month or quarter.")
    quarter: Quarter | None = Field(default=None, description="First shocked quarter (YYYY-Qn, or YYYYQn): the shock starts in its first month.")
    duration_months: int = Field(default=0, ge=0, le=240, description="Months the shock lasts; 0 = to the end of the horizon (launch: always permanent).")
    generations: list[str] = Field(default_factory=list, description="Generations shocked (price_drop, utilization_hold, failure_spike) or undercut (launch); empty = all (launch: all older).")
    drop_frac: float | None = Field(default=None, gt=0, lt=1, description="price_drop: fall of the market price level.")
    generation: str | None = Field(default=None, description="launch: the launching generation.")
    undercut_frac: float | None = Field(default=None, ge=0, lt=1, description="launch: price cut of the undercut generations.")
    utilization_cut_frac: float | None = Field(default=None, ge=0, lt=1, description="launch: utilization cut of the undercut generations (default: the scenario's).")
    utilization_frac: float | None = Field(default=None, ge=0, le=1, description="utilization_hold: utilization of non-contracted hours during the shock.")
    afr_mult: float | None = Field(default=None, gt=0, le=100, description="failure_spike: multiplier of the monthly failure hazard.")
    electricity_mult: float | None = Field(default=None, gt=0, le=100, description="power_spike: multiplier of the electricity price.")
    sofr_shock_annual_frac: float | None = Field(default=None, ge=-0.2, le=0.5, description="sofr: change of SOFR (annual, e.g. 0.02 = +200 bp).")

    @model_validator(mode="after")
    def _check(self) -> Shock:
        if (self.month is None) == (self.quarter is None):
            raise ValueError("month give exactly one of month = \"YYYY-MM\" or quarter = \"YYYY-Qn\"")
        need, opt = _SHOCK_FIELDS[self.kind]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError(f"{missing[0]} is required for a {self.kind} shock")
        extra = [f for f in _SHOCK_SIZE_FIELDS if f not in need + opt and getattr(self, f) is not None]
        if self.generations and "generations" not in opt:
            extra.append("generations")
        if self.duration_months and "duration_months" not in opt:
            extra.append("duration_months")
        if extra:
            raise ValueError(f"{extra[0]} does not apply to a {self.kind} shock; its fields: {', '.join(need + opt)}")
        bad = [g for g in self.generations if g not in GENERATIONS]
        if bad:
            raise ValueError(f"generations has unknown generation(s) {', '.join(bad)}; allowed: {', '.join(GENERATIONS)}")
        if self.generation is not None and self.generation not in GENERATIONS:
            raise ValueError(f"generation {self.generation!r} is unknown; allowed: {', '.join(GENERATIONS)}")
        return self

    def first_month_abs(self) -> int:
        """Absolute month index of the first shocked month."""
        return month_index(self.month) if self.month is not None else quarter_first_month(self.quarter)


class Band(_Section):
    input: str = Field(description="Dotted name of an uncertain input, e.g. demand.utilization_frac (see docs/stress.md).")
    p: float = Field(ge=0, lt=1, description="Lower percentile of the band, as a fraction (0.05 = 5th percentile).")
    q: float = Field(gt=0, le=1, description="Upper percentile of the band, as a fraction; q > p.")

    @model_validator(mode="after")
    def _check(self) -> Band:
        if not self.q > self.p:
            raise ValueError(f"q must exceed p (got p = {self.p:g}, q = {self.q:g})")
        return self


class StressSection(_Section):
    shock: list[Shock] = Field(default_factory=list, description="Deterministic shocks at a date ([[stress.shock]] tables), applied on every path.")
    band: list[Band] = Field(default_factory=list, description="Percentile-band stresses: the input is drawn inside its p-q percentile band ([[stress.band]]).")
    path_table: str | None = Field(
        default=None,
        description="CSV path table (relative to the file naming it): a column quarter (YYYY-Qn) and any of price_index.<GEN> (price / start price), utilization_frac[.<GEN>], electricity_mult, sofr_shock_annual_frac; empty cells impose nothing.",
    )


# --------------------------------------------------------------------------------------- [financing]
# Debt secured on the fleet (issue 4; docs/credit.md defines every metric). Rates are nominal annual
# (accrued monthly at rate / 12), money in USD, months as "YYYY-MM".
class Draw(_Section):
    month: Month = Field(description="Month of the draw (funds arrive at the start of the month; interest accrues from it).")
    amount_usd: float = Field(gt=0, description="Amount drawn.")


class Covenants(_Section):
    min_dscr: float | None = Field(default=None, gt=0, le=10, description="Minimum debt service coverage ratio (CFADS / debt service over the test period); omitted = no DSCR covenant.")
    dscr_basis: Literal["point_in_time", "trailing_4q"] = Field(default="point_in_time", description="DSCR over the test period just ended (point_in_time) or over the trailing twelve months (trailing_4q, LTM).")
    max_ltv_frac: float | None = Field(default=None, gt=0, le=5, description="Maximum loan to value: balance / (collateral market value x (1 - liquidation_haircut_frac)); omitted = no LTV covenant.")
    test_every_months: Literal[1, 3, 6, 12] | None = Field(
        default=None,
        description="Covenant tests at calendar months divisible by this (3 = quarter ends); a multiple of the facility's payment_every_months, so every test falls on a payment date. Omitted = max(3, payment_every_months): fiscal quarter ends (DOMAIN 1.4 lender norm), or every payment date of a semi-annual facility.",
    )
    equity_cures: int = Field(default=0, ge=0, le=20, description="Number of equity cures allowed over the life of the facility (each cures one failed test).")
    cash_trap_dscr: float | None = Field(default=None, gt=0, le=10, description="When a tested DSCR is below this, all excess cash is swept to prepay until the next test (cash trap); omitted = none.")


class Facility(_Section):
    name: str = Field(min_length=1, description="Unique facility label, e.g. DDTL_2.")
    principal_usd: float = Field(gt=0, description="Commitment (the sum of the draws).")
    draw: list[Draw] = Field(default_factory=list, description="Draw schedule ([[financing.facility.draw]]); omitted = the whole principal drawn at first_draw_month.")
    first_draw_month: Month | None = Field(default=None, description="Month of the single draw when no draw schedule is given.")
    opening_balance_usd: float | None = Field(default=None, ge=0, description="Outstanding balance at the run start of a facility drawn before it (e.g. from a filing); omitted = the scheduled balance.")
    maturity_month: Month | None = Field(default=None, description="Final maturity (last payment month); give this or tenor_months.")
    tenor_months: int | None = Field(default=None, gt=0, le=360, description="Months from the first draw to the last payment; give this or maturity_month.")
    amortization: Literal["straight_line", "level_payment", "contracted"] = Field(
        default="straight_line",
        description="Scheduled principal on each payment date: equal instalments of the balance over the payment dates left (straight_line); annuity payments at the period rate, payment_every_months x annual rate / 12 (level_payment); in proportion to the collateral's expected contracted revenue of each payment period over those left (contracted).",
    )
    interest_only_months: int = Field(default=0, ge=0, le=360, description="Months from the first draw with interest only (no scheduled principal).")
    payment_every_months: Literal[1, 3, 6] = Field(
        default=1,
        description="Payment calendar: debt service falls due at calendar months divisible by this (1 = every month, 3 = quarter ends, 6 = June and December) and at maturity; interest and the commitment fee accrue monthly (simple, rate / 12 on the balance outstanding) and are paid on the payment date; the amortization counts payment dates. Real DDTLs pay quarterly (DOMAIN 1.4: DDTL 1.0 amortizes $115m a quarter; DDTL 2.0 bears 3-month term SOFR) and project finance often semi-annually; 1 keeps scenarios written before the setting existed unchanged (docs/credit.md section 2.1).",
    )
    cash_sweep_frac: float = Field(default=0.0, ge=0, le=1, description="Share of excess cash of the payment period (its CFADS less its debt service) applied to prepay principal on each payment date.")
    rate_type: Literal["fixed", "floating"] = Field(default="fixed", description="Fixed rate, or SOFR ([financing.sofr]) plus spread.")
    fixed_rate_annual_frac: float = Field(default=0.0, ge=0, lt=1, description="Nominal annual rate of a fixed-rate facility.")
    spread_annual_frac: float = Field(default=0.0, ge=0, lt=1, description="Margin over SOFR of a floating-rate facility.")
    sofr_floor_annual_frac: float = Field(default=0.0, ge=0, lt=1, description="Floor on SOFR (0 % floor is usual).")
    upfront_fee_frac: float = Field(default=0.0, ge=0, lt=0.2, description="Fee on each draw, paid from the draw (reported; not debt service).")
    commitment_fee_annual_frac: float = Field(default=0.0, ge=0, lt=0.2, description="Fee on the undrawn commitment, part of debt service.")
    collateral_cohorts: list[str] = Field(min_length=1, description="Cohorts pledged to the facility (their GPUs and their contracts); their cash flow is the CFADS. A cohort is pledged to at most one facility.")
    pledged_cash_flow: Literal["all", "contracted"] = Field(
        default="all",
        description="CFADS from the pledged cohorts' whole cash flow (all), or only from their take-or-pay contracts (contracted: contracted revenue less the contracted GPUs' share of operating cost); the GPUs are collateral either way.",
    )
    reserve_months: float = Field(default=0.0, ge=0, le=24, description="Debt service reserve: months of debt service funded at the first payment (reserve_months / payment_every_months payments: 3 months = one quarterly payment), drawn for shortfalls, topped up from excess cash.")
    liquidation_haircut_frac: float = Field(default=0.2, ge=0, lt=1, description="Haircut to the collateral's used-GPU market value in LTV and recovery (DOMAIN 1.4: 10-30 %).")
    covenants: Covenants = Field(default_factory=Covenants, description="Financial covenants ([financing.facility.covenants]).")

    @model_validator(mode="after")
    def _check(self) -> Facility:
        if (self.maturity_month is None) == (self.tenor_months is None):
            raise ValueError("maturity_month or tenor_months: give exactly one")
        if self.draw and self.first_draw_month is not None:
            raise ValueError("first_draw_month or draw: give one (the draw schedule sets the first draw)")
        if not self.draw and self.first_draw_month is None:
            raise ValueError("first_draw_month is required when no draw schedule is given")
        if self.draw:
            total = sum(d.amount_usd for d in self.draw)
            if abs(total - self.principal_usd) > 1e-6 * self.principal_usd:
                raise ValueError(f"draw amounts must sum to principal_usd ({self.principal_usd:g}), got {total:g}")
            months = [month_index(d.month) for d in self.draw]
            if months != sorted(months):
                raise ValueError("draw months must be in order")
        if self.rate_type == "fixed" and self.fixed_rate_annual_frac == 0.0 and self.spread_annual_frac > 0:
            raise ValueError("rate_type is 'fixed' but only spread_annual_frac is given: set rate_type = 'floating' or fixed_rate_annual_frac")
        if len(set(self.collateral_cohorts)) != len(self.collateral_cohorts):
            raise ValueError("collateral_cohorts must not repeat a cohort")
        return self

    def test_every(self) -> int:
        """Months between covenant tests: the given test_every_months, else max(3, payment_every_months)."""
        t = self.covenants.test_every_months
        return int(t) if t is not None else max(3, self.payment_every_months)

    def first_draw(self) -> str:
        return self.draw[0].month if self.draw else self.first_draw_month  # type: ignore[return-value]

    def maturity(self) -> int:
        """Absolute month index of the last payment."""
        if self.maturity_month is not None:
            return month_index(self.maturity_month)
        return month_index(self.first_draw()) + int(self.tenor_months) - 1  # type: ignore[arg-type]


class Sofr(_Section):
    level_annual_frac: Annotated[Uncertain, _within(-0.05, 0.5)] = Field(default=0.0, description="SOFR level (nominal annual), or with curve_annual_frac a parallel shift of the curve; drawn once per path (input financing.sofr.level_annual_frac).")
    curve_annual_frac: list[float] = Field(default_factory=list, max_length=20, description="Optional SOFR path by run year (year 1 = the first 12 months), the last value held; SOFR = curve + level.")


class FinancingSection(_Section):
    sofr: Sofr = Field(default_factory=Sofr, description="The SOFR path of floating-rate facilities ([financing.sofr]).")
    facility: list[Facility] = Field(min_length=1, max_length=32, description="Debt facilities ([[financing.facility]]).")

    @model_validator(mode="after")
    def _unique(self) -> FinancingSection:
        names = [f.name for f in self.facility]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"facility names must be unique; repeated: {', '.join(dup)}")
        for r in self.sofr.curve_annual_frac:
            if not -0.05 <= r <= 0.5:
                raise ValueError(f"sofr.curve_annual_frac values must be in [-0.05, 0.5], got {r:g}")
        return self


# --------------------------------------------------------------------------------------- [reconcile]
class ReconcileSection(_Section):
    entity: str = Field(min_length=1, description="Company whose filings `rackrisk reconcile` compares the scenario's past periods with: the `entity` column of priors/observations/neocloud_financials.csv (docs/reconcile.md); --entity overrides it. Not used by `rackrisk run`.")
    construction_lead_months: int = Field(default=0, ge=0, le=36, description="Months between paying for a cohort and placing it in service (its purchase_month), for `rackrisk reconcile` only: capex is counted in month purchase_month - lead and the cohort's cost is construction in progress (in PP&E, not depreciated, not earning) until purchase_month. 0 = paid when placed in service.")


# --------------------------------------------------------------------------------------- top level
class Scenario(_Section):
    title: str = Field(default="", description="One line saying what the scenario is.")
    run: RunSection
    fleet: FleetSection
    market: dict[str, MarketSection] = Field(description="[market.<generation>] for every generation that has a cohort.")
    next_gen: NextGenSection = Field(default_factory=NextGenSection)
    demand: DemandSection
    failures: FailuresSection = Field(default_factory=FailuresSection)
    costs: CostsSection = Field(default_factory=CostsSection)
    accounting: AccountingSection = Field(default_factory=AccountingSection)
    tco: TcoSection = Field(default_factory=TcoSection)
    correlations: CorrelationsSection = Field(default_factory=CorrelationsSection)
    stress: StressSection | None = Field(default=None, description="Stress shocks, percentile bands and a path table (docs/stress.md); absent = no stress.")
    financing: FinancingSection | None = Field(default=None, description="Optional debt secured on the fleet (docs/credit.md).")
    reconcile: ReconcileSection | None = Field(default=None, description="Optional: the company the scenario describes, for `rackrisk reconcile` (docs/reconcile.md); absent = give --entity.")
