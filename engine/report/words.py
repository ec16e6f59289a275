"""The scenario in words: fleet by cohort, key assumptions with their sources, priors used.

Everything here is read from the run folder (the resolved scenario, results.nc's per-path input
values, the provenance) and the scenario files' own comments (engine/report/sources.py); nothing is
re-derived. Values are plain strings, formatted by engine/report/fmt.py where they are money or
fractions; the HTML layer escapes them.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from engine.report import fmt

_DIST_PARAMS = {  # parameter order shown for each distribution
    "lognormal": ("median", "sigma_log", "mean", "sd"), "normal": ("mean", "sd"), "truncnormal": ("mean", "sd", "low", "high"),
    "uniform": ("low", "high"), "triangular": ("low", "mode", "high"), "pert": ("low", "mode", "high"), "beta": ("mean", "concentration", "alpha", "beta"),
    "exponential": ("mean", "loc"), "gamma": ("mean", "sd"),
}


def _num(x, key: str, given: bool = True) -> str:
    """A scenario number in words, by its field name's unit suffix (``given``: written in the scenario, so shown exactly)."""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if not isinstance(x, (int, float)):
        return str(x)
    if key.endswith("_frac") or key in ("decline_rate_per_month", "volatility_per_month"):
        return fmt.pct_given(x) if given else fmt.pct(x)
    if key.endswith("_usd_per_gpu_hour"):
        return fmt.usd_per_hour(x)
    if key.endswith("_usd") and abs(x) >= 1e5:
        return fmt.usd_m(x)
    if key.endswith("_months") or key.endswith("_months_from_start"):
        return f"{x:.0f} months" if float(x).is_integer() else f"{x:.1f} months"
    return f"{x:,.4g}"


def describe(v, key: str) -> str:
    """A scenario value (number, string, list or distribution table) in words."""
    if isinstance(v, dict) and "dist" in v:
        d = v["dist"]
        if d == "posterior":
            sel = ", ".join(f"{k} = {s}" for k, s in (v.get("select") or {}).items())
            return f"posterior draws of {v.get('variable')}{f' [{sel}]' if sel else ''} from {Path(str(v.get('file', ''))).name}"
        params = [(p, v[p]) for p in _DIST_PARAMS.get(d, ()) if p in v] or [(k, x) for k, x in v.items() if k != "dist"]
        return f"{d} (" + ", ".join(f"{p} {_num(x, key) if p not in ('sigma_log', 'concentration', 'alpha', 'beta', 'shape') else f'{x:g}'}" for p, x in params) + ")"
    if isinstance(v, dict) and set(v) == {"default"}:
        return describe(v["default"], key)
    if isinstance(v, list):
        return ", ".join(str(x) for x in v) if v else "none"
    return _num(v, key)


def fleet_rows(scenario: dict) -> list[dict]:
    """One row per cohort: name, generation, purchase month, units, capex per GPU and in all (USD), life, salvage."""
    rows = []
    for c in scenario.get("fleet", {}).get("cohort", []):
        units = int(c["units"])
        rows.append({
            "cohort": c["name"], "generation": c["generation"], "purchase_month": c["purchase_month"], "units": units,
            "capex_usd_per_gpu": float(c["capex_usd_per_gpu"]), "capex_usd": units * float(c["capex_usd_per_gpu"]),
            "useful_life_months": int(c["useful_life_months"]), "salvage_frac": float(c["salvage_frac"]),
        })
    return rows


def overview(scenario: dict, summary: dict) -> str:
    """One paragraph: what was simulated, how many paths, which standards."""
    rows = fleet_rows(scenario)
    run = summary["run"]
    units = sum(r["units"] for r in rows)
    capex = sum(r["capex_usd"] for r in rows)
    stds = " and ".join({"asc360": "ASC 360 (US GAAP)", "ias36": "IAS 36 (IFRS)"}.get(s, s) for s in run["standards"])
    fin = scenario.get("financing", {}).get("facility", [])
    debt = f" It is financed by {len(fin)} debt facilit{'y' if len(fin) == 1 else 'ies'} ({fmt.usd_m(sum(float(f.get('principal_usd', 0)) for f in fin))} of commitments)." if fin else " It carries no debt."
    return (f"{scenario.get('title', '')}. A fleet of {fmt.count(units)} GPUs in {len(rows)} cohorts ({fmt.usd_m(capex)} of capex at cost), "
            f"valued from {run['start_month']} over {run['horizon_months']} months under {stds}, on {fmt.count(run['paths'])} Monte Carlo paths "
            f"(seed {run['seed']}, {run.get('dtype', '')}).{debt}")


def _input_key(path: str, scenario: dict) -> str:
    """The results.nc input name of a scenario key path (``next_gen.launch[Rubin].x`` -> ``next_gen.Rubin.x``)."""
    if path.startswith("next_gen.launch["):
        gen, rest = path[len("next_gen.launch["):].split("].", 1)
        return f"next_gen.{gen}.{rest}"
    if path.startswith("next_gen.cadence."):
        gens = scenario.get("next_gen", {}).get("cadence", {}).get("generations", [])
        return f"next_gen.{gens[0]}.{path[len('next_gen.cadence.'):]}" if gens else path
    return path


def _drawn(ds, name: str, key: str) -> str:
    """Median and 5-95 % range of an input's draws on this run (needs store = paths/full), or ''."""
    if ds is None or "input_value" not in ds.data_vars or name not in set(map(str, ds["input"].values)):
        return ""
    x = np.asarray(ds["input_value"].sel(input=name).values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0 or np.ptp(x) == 0:
        return ""
    q05, q50, q95 = np.quantile(x, [0.05, 0.5, 0.95])
    return f"median {_num(float(q50), key, False)} (90%: {_num(float(q05), key, False)} to {_num(float(q95), key, False)})"


def _assumption_paths(scenario: dict) -> list[tuple[str, str, str]]:
    """(group, label, dotted path) of the key assumptions present in the scenario, in reading order."""
    out: list[tuple[str, str, str]] = []
    for gen, m in scenario.get("market", {}).items():
        for k, label in (("price_usd_per_gpu_hour", "on-demand price at the start, $ per GPU-hour"), ("decline_rate_per_month", "price decline per month"),
                         ("volatility_per_month", "price volatility per month"), ("contracted_frac", "share under contract"),
                         ("contract_price_usd_per_gpu_hour", "contract price, $ per GPU-hour")):
            if k in m and not (k == "contract_price_usd_per_gpu_hour" and not m.get("contracted_frac")):
                out.append((f"Market: {gen}", label, f"market.{gen}.{k}"))
    ng = scenario.get("next_gen", {})
    for L in ng.get("launch", []):
        g = L["generation"]
        for k, label in (("ship_months_from_start", "ships, months after the start"), ("undercut_frac", "price cut of older generations at launch"),
                         ("utilization_cut_frac", "utilization cut at launch")):
            if k in L:
                out.append((f"Next generation: {g}", label, f"next_gen.launch[{g}].{k}" + (".default" if isinstance(L[k], dict) and "default" in L[k] else "")))
    cad = ng.get("cadence")
    if cad and cad.get("generations"):
        out.append(("Next generations: cadence", f"interval between launches ({', '.join(cad['generations'])})", "next_gen.cadence.interval_months"))
    for k, label in (("utilization_frac", "utilization of uncontracted capacity"), ("price_elasticity", "price elasticity of demand")):
        if k in scenario.get("demand", {}):
            out.append(("Demand", label, f"demand.{k}"))
    fl = scenario.get("failures", {})
    afr = fl.get("annual_failure_rate_frac", {})
    for g in afr if isinstance(afr, dict) and "dist" not in afr else []:
        out.append(("Failures", f"annual failure rate, {g}", f"failures.annual_failure_rate_frac.{g}"))
    if "policy" in fl:
        out.append(("Failures", "accounting for failed GPUs", "failures.policy"))
    for k, label in (("pue", "PUE"), ("electricity_usd_per_kwh", "electricity, USD per kWh"), ("colocation_usd_per_kw_month", "colocation, USD per kW-month"),
                     ("staff_maintenance_usd_per_gpu_month", "staff and maintenance, USD per GPU-month"), ("network_usd_per_gpu_month", "network, USD per GPU-month")):
        if k in scenario.get("costs", {}):
            out.append(("Costs", label, f"costs.{k}"))
    for k, label in (("standards", "standards"), ("test_every_months", "impairment test every (months)"), ("trigger_on_launch", "a launch triggers a test"),
                     ("forecast", "cash-flow forecast"), ("discount_rate_annual_frac", "value-in-use discount rate"), ("fair_value_method", "fair value method"),
                     ("disposal_cost_frac", "disposal cost")):
        if k in scenario.get("accounting", {}):
            out.append(("Accounting", label, f"accounting.{k}"))
    if "cost_of_capital_annual_frac" in scenario.get("tco", {}):
        out.append(("TCO", "cost of capital", "tco.cost_of_capital_annual_frac"))
    fin = scenario.get("financing", {})
    if fin:
        if "level_annual_frac" in fin.get("sofr", {}):
            out.append(("Financing", "SOFR level", "financing.sofr.level_annual_frac"))
        for f in fin.get("facility", []):
            n = f["name"]
            out.append((f"Facility: {n}", "principal", f"financing.facility[{n}].principal_usd"))
            if f.get("rate_type") == "fixed":
                out.append((f"Facility: {n}", "fixed rate", f"financing.facility[{n}].fixed_rate_annual_frac"))
            else:
                out.append((f"Facility: {n}", "spread over SOFR", f"financing.facility[{n}].spread_annual_frac"))
            for k, label in (("maturity_month", "maturity"), ("tenor_months", "tenor"), ("amortization", "amortization")):
                if k in f:
                    out.append((f"Facility: {n}", label, f"financing.facility[{n}].{k}"))
            for k, label in (("min_dscr", "covenant: minimum DSCR"), ("max_ltv_frac", "covenant: maximum LTV")):
                if (f.get("covenants") or {}).get(k) is not None:
                    out.append((f"Facility: {n}", label, f"financing.facility[{n}].covenants.{k}"))
    return out


def _get(scenario: dict, path: str):
    """The value at a dotted path with ``[name]`` items (cohorts, launches, facilities)."""
    node = scenario
    for part in re.findall(r"\[[^\]]*\]|[^.\[]+", path):
        if part.startswith("["):
            name = part[1:-1]
            node = next(x for x in node if x.get("name", x.get("generation")) == name)
        else:
            node = node[part]
    return node


def _field(path: str) -> str:
    """The field name of a dotted path: its last part with an underscore (``failures.annual_failure_rate_frac.H100`` -> ``annual_failure_rate_frac``)."""
    parts = re.findall(r"\[[^\]]*\]|[^.\[]+", path)
    return next((p for p in reversed(parts) if "_" in p and not p.startswith("[")), parts[-1])


def assumption_rows(scenario: dict, sources: dict[str, str], ds=None) -> list[dict]:
    """Key assumptions: group, label, value in words, drawn on this run (median and 90 % range), source."""
    rows = []
    for group, label, path in _assumption_paths(scenario):
        try:
            v = _get(scenario, path)
        except (KeyError, StopIteration, TypeError):
            continue
        key = _field(path)
        if key == "min_dscr" and isinstance(v, (int, float)):
            words = fmt.ratio(v)
        else:
            words = describe(v, key)
        src = sources.get(path) or sources.get(path.removesuffix(".default")) or ""
        rows.append({"group": group, "label": label, "value": words, "drawn": _drawn(ds, _input_key(path, scenario), key), "source": src, "key": path})
    return rows


def launch_months(scenario: dict, ds) -> list[dict]:
    """Launches of next generations, explicit ones then ``[next_gen.cadence]`` ones: name, and month offsets
    from the start (median, 5 %, 95 %), each with ``cadence`` True/False.

    With per-path inputs stored (``store`` "paths"/"full"), the ship month of each path is what the engine
    simulates: an explicit launch never before the previous one (max), a cadence launch the previous one
    plus its interval; quantiles are over paths. Otherwise (``store = "summary"``) from the scenario: a
    fixed value, or a distribution's low / mode (or midpoint) / high read as 5 % / median / 95 %, a cadence
    launch adding its interval's to the previous launch's (a rough band: sums of bounds, marked by
    ``approximate``)."""
    ng = scenario.get("next_gen", {})
    items = [(L["generation"], L.get("ship_months_from_start"), False) for L in ng.get("launch", [])]
    cad = ng.get("cadence")
    if cad:
        items += [(g, cad.get("interval_months"), True) for g in cad.get("generations", [])]
    stored = set(map(str, ds["input"].values)) if ds is not None and "input_value" in ds.data_vars else set()
    out = []
    prev_x = None  # per-path ship month of the previous launch (stored inputs)
    prev_q, prev_rough = (0.0, 0.0, 0.0), False  # its (5 %, median, 95 %) from the scenario (summary store), and whether rough
    for g, v, is_cad in items:
        name = f"next_gen.{g}.{'interval_months' if is_cad else 'ship_months_from_start'}"
        approximate = False
        if name in stored:
            x = np.asarray(ds["input_value"].sel(input=name).values, dtype=np.float64)
            if prev_x is not None:
                x = prev_x + x if is_cad else np.maximum(prev_x, x)
            prev_x = x
            q05, q50, q95 = (float(q) for q in np.quantile(x[np.isfinite(x)], [0.05, 0.5, 0.95]))
        else:
            if isinstance(v, (int, float)):
                q = (float(v),) * 3
            elif isinstance(v, dict) and "low" in v and "high" in v:
                q = (float(v["low"]), float(v.get("mode", (float(v["low"]) + float(v["high"])) / 2)), float(v["high"]))
                approximate = True
            else:
                break  # later launches depend on this one
            q05, q50, q95 = (a + b for a, b in zip(prev_q, q)) if is_cad else (max(a, b) for a, b in zip(prev_q, q))
            approximate = approximate or prev_rough  # a band built on a rough band is rough
        prev_q, prev_rough = (q05, q50, q95), approximate
        if all(math.isfinite(q) for q in (q05, q50, q95)):
            out.append({"generation": g, "p05_months": q05, "p50_months": q50, "p95_months": q95, "cadence": is_cad, "approximate": approximate})
    return out
