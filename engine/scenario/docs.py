"""Generate docs/scenarios.md from the schema, so the reference cannot drift from the code.

``rackrisk schema-docs`` writes it; ``tests/test_docs.py`` checks the file equals ``render()``.
"""

from __future__ import annotations

import typing

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from engine.generations import GENERATIONS
from engine.scenario import schema as S
from engine.scenario.dists import Dist, dist_param_doc

SECTIONS: list[tuple[str, type[BaseModel], str]] = [
    ("[run]", S.RunSection, "How the simulation runs."),
    ("[[fleet.cohort]]", S.Cohort, "One table per GPU cohort (bought together, depreciated together)."),
    ("[[fleet.cohort.component]]", S.Component, "Optional component split of a cohort (IAS 16.43 componentization); the first is the primary asset."),
    ("fleet.cohort.life_change", S.LifeChange, "Optional change of useful life, a change in estimate applied prospectively (ASC 250-10-45-17)."),
    ("[market.<GENERATION>]", S.MarketSection, "Rental market of one generation; one section per generation that has a cohort."),
    ("[[next_gen.launch]]", S.Launch, "Next-generation launches, in generation order."),
    ("[next_gen.cadence]", S.Cadence, "Regular launches after the explicit ones."),
    ("[demand]", S.DemandSection, "Utilization and its response to price."),
    ("[failures]", S.FailuresSection, "Permanent GPU failures."),
    ("[costs]", S.CostsSection, "Operating costs."),
    ("[accounting]", S.AccountingSection, "Depreciation and impairment settings (where practice varies, DOMAIN.md section 2)."),
    ("[tco]", S.TcoSection, "Total cost of ownership and NPV settings."),
    ("[[correlations.pair]]", S.RankCorrelation, "Rank correlations between uncertain inputs (Gaussian copula)."),
    ("[stress]", S.StressSection, "Stress settings (docs/stress.md): shocks, percentile bands, a path table."),
    ("[[stress.shock]]", S.Shock, "A deterministic shock at a date, the same on every path."),
    ("[[stress.band]]", S.Band, "Hold an uncertain input inside a percentile band (common random numbers kept)."),
    ("[financing.sofr]", S.Sofr, "The SOFR path of floating-rate facilities (docs/credit.md section 1)."),
    ("[[financing.facility]]", S.Facility, "Debt facilities secured on cohorts (docs/credit.md)."),
    ("[[financing.facility.draw]]", S.Draw, "Draw schedule of a facility."),
    ("financing.facility.covenants", S.Covenants, "Financial covenants of a facility: DSCR, LTV, tests, cures, cash trap (docs/credit.md section 3)."),
    ("[reconcile]", S.ReconcileSection, "The company whose filings `rackrisk reconcile` checks the scenario against (docs/reconcile.md)."),
]


def _type_name(annotation) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        base = args[0]
        for meta in args[1:]:
            lo_hi = getattr(getattr(meta, "func", None), "bounds_text", None)
            if lo_hi:
                return f"uncertain in {lo_hi}"
        return _type_name(base)
    if annotation is Dist or (origin is typing.Union and Dist in args):
        return "uncertain"
    if origin is typing.Literal:
        return " \\| ".join(f'`"{a}"`' for a in args)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"table: generation or `default` -> {_type_name(args[1])}"
    if origin in (typing.Union,) or str(origin) == "<class 'types.UnionType'>":
        names = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" (optional)" if type(None) in args else "")
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return f"table ({annotation.__name__})"
        return {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}.get(annotation.__name__, annotation.__name__)
    return str(annotation)


def _default(field) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return "see section"
        return f"`{value}`" if value not in ([], {}) else "empty"
    d = field.default
    if d is PydanticUndefined or d is None:
        return "none"
    return f"`{d}`"


def _section(title: str, model: type[BaseModel], blurb: str) -> str:
    lines = [f"### `{title}`", "", blurb, "", "| field | type | default | description |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        key = field.alias or name
        desc = (field.description or "").replace("|", "\\|")
        lines.append(f"| `{key}` | {_type_name(field.annotation if not field.metadata else typing.Annotated[(field.annotation, *field.metadata)])} | {_default(field)} | {desc} |")
    return "\n".join(lines)


def render() -> str:
    parts = [
        "# Scenario files",
        "",
        "<!-- Generated by `rackrisk schema-docs` from engine/scenario/schema.py. Do not edit by hand. -->",
        "",
        "A scenario is a TOML file. It may start with `extends = \"other.toml\"` (relative to the file) and then",
        "states only what it changes: tables merge key by key, `[[fleet.cohort]]` items merge by `name`,",
        "`[[next_gen.launch]]` items by `generation` and components by `name`; a distribution table replaces",
        "the value it overrides. Unknown keys are rejected. Months are `\"YYYY-MM\"`; field names carry units.",
        "",
        "`replace = [\"fleet\", \"financing\"]` beside `extends` takes the named tables whole from this file",
        "instead of merging them with the extended file's (its cohorts are then the whole fleet).",
        "",
        "Validate files with `rackrisk validate FILE...`; bad input exits with status 2 and one message",
        "naming the file, the field and what is allowed (an unknown key first, with the closest allowed name).",
        "",
        "## Getting a company in",
        "",
        "* **Change a value without editing the file**: `rackrisk run FILE --set KEY=VALUE` (repeatable; also",
        "  `validate`, `stress` (the baseline and every stress file), `reverse-stress`, `sensitivity`,",
        "  `compare-lives`, `reconcile`, and `capex-check`, where it applies to the scenario the plan implies).",
        "  Keys are dotted: `costs.electricity_usd_per_kwh=0.12`, `market.H100.decline_rate_per_month.mode=0.03`,",
        "  cohorts by name `fleet.cohort.H100_2023.units=2048` or position `fleet.cohort[0].units=2048`; values",
        "  are TOML (`0.03`, `\"2026-01\"`, `{ dist = \"normal\", mean = 0.03, sd = 0.01 }`). An override is checked",
        "  by the same rules as the file, enters the resolved scenario and its sha256 (a run with `--set` equals",
        "  a run of the file edited the same way) and is listed in summary.json's `provenance.overrides`.",
        "* **A fleet from a table**: `rackrisk import-fleet FLEET.csv|FLEET.xlsx [--out FILE] [--extends BASE]",
        "  [--facilities FAC.csv]` writes a scenario with one `[[fleet.cohort]]` per row. Columns are the",
        "  `[[fleet.cohort]]` field names below (required: name, generation, purchase_month, units,",
        "  capex_usd_per_gpu, useful_life_months, kw_per_gpu), optionally a generation's contract terms",
        "  (contracted_frac, contract_price_usd_per_gpu_hour, contract_term_months: the same on every row of the",
        "  generation) and a `source`/`note` column kept as a comment. Facilities come from a second CSV or an",
        "  xlsx sheet named `facilities` (the `[[financing.facility]]` and covenant field names as columns,",
        "  collateral_cohorts separated by `;`). The scenario extends BASE (default scenarios/baseline.toml) with",
        "  `replace = [\"fleet\"]`, is validated before it is written, and every bad cell is reported on its own",
        "  line as `FILE: row N, column X: message (allowed: ...)`, nothing written. Example:",
        "  scenarios/examples/fleet_example.csv and facilities_example.csv (sources in their `source` column,",
        "  abbreviated as in scenarios/baseline.toml).",
        "* **A starting scenario**: `rackrisk new --template neocloud|lender|buyer [--out FILE]` writes a",
        "  commented scenario that validates: an operator's fleet; a fleet with a GPU-backed loan and covenants;",
        "  one purchase compared with renting. Each extends the shipped baseline; comments give each key's",
        "  meaning, unit and source.",
        "* **Plausibility warnings**: `validate` and `run` print one line on stderr for each value outside the",
        "  range the data has seen (engine/scenario/plausibility.py lists each range and its source), e.g.",
        "  `electricity_usd_per_kwh = 90` (a $/MWh figure), `capex_usd_per_gpu = 40`, a decline rate whose mode",
        "  is 1.2 a month. For a distribution the mode (triangular, PERT), median (lognormal) or mean is checked;",
        "  posterior inputs are not. A warning is not an error; a value that is meant is acknowledged in the",
        "  file with `[run] acknowledge_warnings = [\"costs.electricity_usd_per_kwh\"]` (fnmatch patterns allowed).",
        "* **One spelling each**: quarters are `\"2026-Q2\"` or `\"2026Q2\"` everywhere (stress shocks, path tables,",
        "  capex plans); capex-plan tranches take the scenario's `units` and `capex_usd_per_gpu` (or the older",
        "  `gpus` and total `capex_usd`); path counts take `100000`, `100_000`, `1e5` or `100k` (a count that is",
        "  not whole, such as `1.5e0`, is refused).",
        "",
        "## Uncertain inputs",
        "",
        "A field typed *uncertain* takes a number or a distribution table, e.g.",
        "`utilization_frac = { dist = \"beta\", mean = 0.7, concentration = 20 }`. It is drawn once per path.",
        "Where a field has an allowed range, every value the distribution can take must lie in it",
        "(so a fraction cannot be `normal`). The distributions:",
        "",
        "| dist | parameters | meaning |",
        "|---|---|---|",
    ]
    for name, params, doc in dist_param_doc():
        parts.append(f"| `{name}` | {params} | {doc} |")
    parts += [
        "",
        "Each input is named by a dotted path (e.g. `market.H100.decline_rate_per_month`,",
        "`next_gen.Rubin.undercut_frac.default`, `failures.annual_failure_rate_frac.H100`); these names are",
        "used in `[[correlations.pair]]` and in results.nc's `input` coordinate, and key each input's random",
        "stream (common random numbers across scenarios).",
        "",
        f"Generations, oldest first: {', '.join(f'`{g}`' for g in GENERATIONS)}. A launch undercuts every older generation.",
        "",
        "## Sections",
        "",
    ]
    for title, model, blurb in SECTIONS:
        parts.append(_section(title, model, blurb))
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"
