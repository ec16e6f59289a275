"""Plausibility warnings: a scenario value far outside what the data has seen is probably a unit slip.

The schema rejects impossible values (a negative price, a fraction above 1); this module flags
possible but implausible ones, such as ``electricity_usd_per_kwh = 90`` (a $/MWh figure),
``capex_usd_per_gpu = 40`` (thousands of dollars) or a price decline of 1.2 a month. A warning is
not an error: the run goes ahead, and the scenario can acknowledge a value it means with
``[run] acknowledge_warnings = ["costs.electricity_usd_per_kwh"]`` (fnmatch patterns, e.g.
``"market.*.decline_rate_per_month"``).

``RANGES`` is the table: each field's plausible range, its unit and where the range comes from
(files under /work/shared/data, copied in part to priors/observations/; ``HW:n`` = line n of
seed/hardware_and_ops.csv, as in scenarios/baseline.toml). The ranges are deliberately wide (a few
times beyond the data's extremes): they catch slips of units and scale, not unusual views. For an
uncertain input the typical value is checked: the mode (triangular, PERT), the median (lognormal)
or the mean (every other distribution); posterior inputs come from fitted data and are not checked.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass

from engine.scenario import schema as S
from engine.scenario.dists import Fixed, Posterior


@dataclass(frozen=True)
class Range:
    """``field``: a dotted pattern (``*`` = any generation or cohort name); [lo, hi] in ``unit``.
    ``zero_ok``: exactly 0 switches the item off (no failures, no power cost) and is not warned about."""

    field: str
    lo: float
    hi: float
    unit: str
    source: str
    zero_ok: bool = False


RANGES: tuple[Range, ...] = (
    Range("fleet.cohort.*.capex_usd_per_gpu", 5_000, 150_000, "USD per GPU",
          "market/secondary_and_purchase_prices.csv and priors/observations/residual_value.csv: new H100 $25-40k, V100 $10k, "
          "GB200 NVL72 rack $3.1M / 72 = $43k per GPU (2026-03); all-in = GPU x 1.305 server uplift (scenarios/baseline.toml)"),
    Range("fleet.cohort.*.kw_per_gpu", 0.3, 3.0, "kW per GPU",
          "HW:424 DGX H100 10.2 kW / 8 = 1.275; DGX A100 6.5 kW / 8 = 0.81, DGX B200 14.3 kW / 8 = 1.79 (NVIDIA datasheets, scenarios/baseline.toml)"),
    Range("fleet.cohort.*.useful_life_months", 24, 120, "months",
          "seed/depreciation_policies.csv: book lives of 4-6 years (Nebius, Lambda, CoreWeave), economic lives of 2 (training stage) "
          "to 9 years (Azure K80)"),
    Range("fleet.cohort.*.salvage_frac", 0.0, 0.5, "fraction of capex",
          "priors/observations/residual_value.csv: H100 residual 60-65 % after one year, 17.5 % after four (GLRI, 2026-01-08)"),
    Range("market.*.price_usd_per_gpu_hour", 0.25, 25.0, "USD per GPU-hour",
          "priors/observations/rental_prices.csv: every quote 2022-2025 between $0.88 (GH200) and $12.29 (H100 2023) per GPU-hour"),
    Range("market.*.contract_price_usd_per_gpu_hour", 0.25, 25.0, "USD per GPU-hour",
          "priors/observations/rental_prices.csv (reserved quotes within the on-demand range, $0.88-12.29)"),
    Range("market.*.decline_rate_per_month", -0.03, 0.10, "per month (continuously compounded)",
          "market/rental_index_monthly.csv fits 0.003-0.026 a month (scenarios/baseline.toml header); seed/elasticity_and_trends.csv: "
          "H100 rents down 44-81 % from their peak over about two years (0.07 a month at most), API prices 30-50 % a year; H200 rose for 8 months"),
    Range("market.*.volatility_per_month", 0.0, 0.30, "per month (log-price sd)",
          "market/rental_index_monthly.csv: monthly log-change sd 0.048 (A100) to 0.085 (H100 with the launch step), scenarios/baseline.toml header"),
    Range("market.*.spot_discount_frac", 0.0, 0.8, "fraction of the on-demand price",
          "market/rental_index_monthly.csv: median spot discounts 0.44 (H100) and 0.47 (A100), 2025-01..06"),
    Range("demand.utilization_frac", 0.2, 1.0, "fraction of hours sold",
          "priors/observations/utilization.csv: booking rates 0.61-1.0, enterprise cluster utilization 0.2-0.8"),
    Range("failures.annual_failure_rate_frac.*", 0.005, 0.25, "per GPU-year",
          "priors/observations/failures.csv: permanent H100 failures 2.5-6 % a year (Llama 3 and Crusoe counts); interruptions are more frequent but not permanent", zero_ok=True),
    Range("costs.electricity_usd_per_kwh", 0.02, 0.40, "USD per kWh",
          "HW:180 Introl: $2M a year saved on 2.32 MW = $0.098/kWh (seed/worked_examples.csv: consistent); "
          "industrial tariffs span about 1/5 to 4x that (a $/MWh figure is 1,000x)", zero_ok=True),
    Range("costs.pue", 1.0, 2.0, "ratio",
          "HW:189 Google Finland PUE 1.09; HW:184 Uptime industry average 1.59; HW:185-188 colocation 1.5-1.6, hyperscalers < 1.4, AI data centres < 1.3"),
    Range("costs.power_draw_frac", 0.4, 1.0, "fraction of rated power",
          "HW:423 and priors/observations/utilization.csv: H100 DGX average draw <= 76 % of TDP under MLPerf (Brookhaven)", zero_ok=True),
    Range("costs.colocation_usd_per_kw_month", 0.0, 600.0, "USD per kW-month",
          "DOMAIN 1.5: colocation $150-250 per kW-month (scenarios/baseline.toml)"),
    Range("next_gen.launch.*.undercut_frac.*", 0.0, 0.6, "fraction of the older generation's price",
          "market/launch_timing.csv and market/rental_index_monthly.csv: past launches cut the older generation's rent 8-32 % (scenarios/baseline.toml [next_gen])"),
)


@dataclass(frozen=True)
class Warning_:
    """One implausible value: ``field`` (dotted, cohorts and launches by name), the value checked and what it is."""

    field: str
    value: float
    what: str  # "value", "mode", "median" or "mean"
    range: Range

    def render(self) -> str:
        r = self.range
        of = "" if self.what == "value" else f" (the distribution's {self.what})"
        return (f"field '{self.field}': {self.value:g}{of} is outside the plausible range {r.lo:g} to {r.hi:g} {r.unit} "
                f"(source: {r.source}); if it is meant, acknowledge it with [run] acknowledge_warnings = [\"{self.field}\"]")


def typical(d) -> tuple[float, str] | None:
    """The value a distribution is checked by: (value, "value" | "mode" | "median" | "mean"); None for a posterior."""
    if isinstance(d, Posterior):
        return None
    if isinstance(d, Fixed):
        return d.value, "value"
    if isinstance(d, (int, float)) and not isinstance(d, bool):
        return float(d), "value"
    for attr in ("mode", "median"):
        if hasattr(d, attr):
            return float(getattr(d, attr)), attr
    return float(d.mean()), "mean"


def _values(s: S.Scenario) -> Iterator[tuple[str, object]]:
    """(dotted field, value or distribution) of every field that RANGES can name."""
    for c in s.fleet.cohort:
        for k in ("capex_usd_per_gpu", "kw_per_gpu", "useful_life_months", "salvage_frac"):
            yield f"fleet.cohort.{c.name}.{k}", getattr(c, k)
    for g, m in s.market.items():
        for k in ("price_usd_per_gpu_hour", "decline_rate_per_month", "volatility_per_month", "spot_discount_frac"):
            yield f"market.{g}.{k}", getattr(m, k)
        if m.contract_price_usd_per_gpu_hour > 0:
            yield f"market.{g}.contract_price_usd_per_gpu_hour", m.contract_price_usd_per_gpu_hour
    yield "demand.utilization_frac", s.demand.utilization_frac
    for g, d in s.failures.annual_failure_rate_frac.items():
        yield f"failures.annual_failure_rate_frac.{g}", d
    for k in ("electricity_usd_per_kwh", "pue", "power_draw_frac", "colocation_usd_per_kw_month"):
        yield f"costs.{k}", getattr(s.costs, k)
    for launch in s.next_gen.launch:
        for g, d in launch.undercut_frac.items():
            yield f"next_gen.launch.{launch.generation}.undercut_frac.{g}", d


def _range_of(field: str) -> Range | None:
    for r in RANGES:
        if fnmatch.fnmatchcase(field, r.field):
            return r
    return None


def plausibility_warnings(s: S.Scenario, *, include_acknowledged: bool = False) -> list[Warning_]:
    """The scenario's values outside their plausible range (``RANGES``), in field order; those matched
    by ``[run] acknowledge_warnings`` are left out unless ``include_acknowledged``."""
    acks = tuple(s.run.acknowledge_warnings or ())
    out = []
    for field, d in _values(s):
        r = _range_of(field)
        t = typical(d) if r is not None else None
        if t is None:
            continue
        value, what = t
        if r.lo <= value <= r.hi or (r.zero_ok and value == 0.0):
            continue
        if not include_acknowledged and any(fnmatch.fnmatchcase(field, a) for a in acks):
            continue
        out.append(Warning_(field=field, value=value, what=what, range=r))
    return out


def print_warnings(loaded, stream=None) -> int:
    """Print each warning of a ``LoadedScenario`` to ``stream`` (stderr): one line each, naming the file. Returns the count."""
    import sys

    stream = stream or sys.stderr
    ws = plausibility_warnings(loaded.scenario)
    for w in ws:
        print(f"rackrisk: warning: {loaded.path}: {w.render()}", file=stream)
    return len(ws)
