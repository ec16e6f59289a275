"""The policy range: the same paths valued under a documented set of defensible accounting policies.

The impairment headline depends on policy as much as on the market (docs/methodology.md §0). Each
alternative below changes one line of the scenario's policy to another choice seen in practice
(``../shared/DOMAIN.md`` §2 lists where practice varies). Every alternative runs on the first
``paths`` paths of the run with the run's seed, so its paths are the run's own (common random
numbers: the draws are keyed by path index and input name, engine/random.py), and the spread
across policies is not Monte Carlo noise.

``policy_range(loaded, paths=, seed=, run_subset=)`` -> the dict stored as summary.json ``policy_range``:
per policy its description, the change, and the fleet's headline probabilities with SEs; and per
standard the [min, max] across the scenario's own policy and the alternatives.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.summary import STANDARD_NAMES


@dataclass(frozen=True)
class Alternative:
    name: str
    description: str
    accounting: dict  # [accounting] fields replaced
    contract_expiry: str | None = None  # every [market.<G>].contract_expiry replaced


ALTERNATIVES: tuple[Alternative, ...] = (
    Alternative("cohort_asset_groups", "each cohort its own asset group (ASC 360-10-35-23 read at the narrowest level)", {"asset_group": "cohort"}),
    Alternative("fleet_asset_group", "the whole fleet one asset group (entity-level cash flows)", {"asset_group": "fleet"}),
    Alternative("quarterly_tests", "an unconditional test at every quarter end besides the triggering events", {"test_every_months": 3}),
    Alternative("income_approach_fair_value", "fair value from the income approach for every generation (no Level 2 used-GPU prices)", {"fair_value_method": "dcf"}),
    Alternative("book_salvage_disposal", "end-of-life proceeds at book salvage instead of the used-GPU market value", {"disposal_proceeds": "book_salvage"}),
    Alternative("contracts_to_spot", "expiring contracts re-priced at market instead of renewed", {}, contract_expiry="market"),
)

HEADLINE_KEYS = ("first_12_months", "horizon")


def apply_alternative(scenario, alt: Alternative):
    """The scenario with one alternative applied, or None when it changes nothing."""
    acc = scenario.accounting
    changes = {k: v for k, v in alt.accounting.items() if getattr(acc, k) != v}
    market = scenario.market
    if alt.contract_expiry is not None:
        changed = {g: m.model_copy(update={"contract_expiry": alt.contract_expiry}) for g, m in market.items()
                   if m.contract_expiry != alt.contract_expiry and float(getattr(m.contracted_frac, "value", 1.0)) != 0.0}
        if not changed:
            return None
        market = {**market, **changed}
    elif not changes:
        return None
    if "asset_group" in changes:
        import numpy as np

        from engine.compile import asset_group_matrix

        cohorts = scenario.fleet.cohort
        if np.array_equal(asset_group_matrix(acc.asset_group, cohorts), asset_group_matrix(changes["asset_group"], cohorts)):
            return None  # the same groups (one cohort, or one site that is the fleet)
    return scenario.model_copy(update={"accounting": acc.model_copy(update=changes), "market": market})


def headline(summary: dict, standards) -> dict:
    """Per standard, the fleet's P(material impairment) in the first 12 months and by the horizon."""
    fleet = summary["fleet"]
    return {std: {k: fleet[f"p_material_impairment_{std}"][k] for k in HEADLINE_KEYS} for std in STANDARD_NAMES if std in standards}


def policy_range(loaded, *, paths: int, seed: int, run_subset, own_summary: dict | None = None) -> dict:
    """Value the run's first ``paths`` paths under the scenario's policy and each alternative.

    ``run_subset(loaded_variant) -> summary dict`` runs one variant (the caller's runner, so that
    compilation and summaries are the run's own). ``own_summary``: the summary of those paths under the
    scenario's own policy when the caller has it (the run's first paths), else ``run_subset(loaded)``.
    Returns summary.json's ``policy_range``.
    """
    from dataclasses import replace

    standards = tuple(loaded.scenario.accounting.standards)
    rows = {"scenario_policy": {"description": "the scenario's own [accounting] policy", "changes": {}, **headline(own_summary if own_summary is not None else run_subset(loaded), standards)}}
    for alt in ALTERNATIVES:
        variant = apply_alternative(loaded.scenario, alt)
        if variant is None:
            continue
        changes = {f"accounting.{k}": v for k, v in alt.accounting.items()}
        if alt.contract_expiry is not None:
            changes["market.*.contract_expiry"] = alt.contract_expiry
        rows[alt.name] = {"description": alt.description, "changes": changes, **headline(run_subset(replace(loaded, scenario=variant)), standards)}
    rng = {}
    for std in standards:
        rng[std] = {k: [min(r[std][k]["value"] for r in rows.values()), max(r[std][k]["value"] for r in rows.values())] for k in HEADLINE_KEYS}
    return {
        "paths": int(paths), "seed": int(seed),
        "method": "the run's first paths (same draws: common random numbers) valued under each policy; the range is [min, max] over them",
        "policies": rows, "range": rng,
    }


def policy_in_words(scenario) -> dict:
    """The scenario's impairment policy as a reader needs it beside the headline (summary.json
    ``accounting_policy``): one line per choice, and the fair-value basis of each cohort."""
    acc = scenario.accounting
    group = {"cohort": "each cohort", "site": "each data centre (cohort field site)", "fleet": "the whole fleet"}[acc.asset_group]
    trig = []
    if acc.trigger_on_launch:
        trig.append(f"a launch cutting the price by >= {acc.trigger_launch_undercut_min_frac:.0%}")
    if acc.trigger_price_drop_frac > 0:
        trig.append(f"price {acc.trigger_price_drop_frac:.0%} below its last-test level for {acc.trigger_price_drop_months} months")
    if acc.trigger_utilization_below_frac > 0:
        trig.append(f"utilization below {acc.trigger_utilization_below_frac:.0%} for {acc.trigger_utilization_months} months")
    if acc.trigger_on_contract_expiry:
        trig.append("a contract ending without full renewal")
    when = (f"unconditional test every {acc.test_every_months} months and on triggers" if acc.test_every_months else "on triggering events only")
    renew = sorted({(m.contract_expiry, m.renewal_share_frac, m.renewal_price_frac) for m in scenario.market.values()})
    level2 = {"dcf": set(), "used_market": None, "hierarchy": set(acc.used_market_generations)}[acc.fair_value_method]
    basis = {c.name: ("Level 2: used-GPU market prices" if level2 is None or c.generation in level2 else "Level 3: market-participant DCF") for c in scenario.fleet.cohort}
    return {
        "in_words": [
            f"material impairment: a month's recognised loss >= {acc.materiality_frac:.0%} of the fleet's carrying amount before it (fiscal year ends in month {acc.fiscal_year_end_month})",
            f"asset group: {group}",
            f"when tested: {when} (ASC 360 in the month of the event; IAS 36 at the next {acc.reporting_every_months}-month reporting date)",
            "triggers: " + ("; ".join(trig) if trig else "none"),
            f"forecast: {acc.forecast}; value in use at {acc.discount_rate_annual_frac:.1%}; fair value ({acc.fair_value_method}) at {acc.fair_value_discount_rate_annual_frac:.1%}"
            + (f" over a {acc.fair_value_economic_life_months}-month economic life" if acc.fair_value_economic_life_months else ""),
            f"end-of-life proceeds: {acc.disposal_proceeds.replace('_', ' ')}, less {acc.end_of_life_disposal_cost_frac:.0%} disposal costs",
            "contracts at expiry: " + "; ".join(f"{e}" + (f" ({s:.0%} of capacity at {p:.0%} of the price)" if e == "renew" else "") for e, s, p in renew),
        ],
        "fair_value_basis": basis,
    }
