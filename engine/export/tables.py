"""The tables of a run folder, as pandas DataFrames with the unit in every column name.

``run_tables(run)`` takes a read run folder (engine/report/load.py ``RunFolder``: summary.json,
results.nc, and the stress / sensitivity folders when present) and returns, in order:

    headline          one row per standard: P(material impairment) in the next 12 months and by the
                      horizon, P(any impairment loss) by the horizon, each with its SE, and in words
                      what each counts
    by_fiscal_year    P(material impairment recognised in the fiscal year) and cumulative, with SEs
    by_year_end       P(any impairment loss by the calendar year end), with SEs
    by_cohort         per cohort (and the fleet) and standard: P(impaired), write-downs, NPV, TCO
    credit            per facility and the portfolio (runs with [financing]): P(breach), P(default)
                      by cause, expected loss, EAD and LGD given default
    credit_by_quarter P(covenant breach) and P(default) by quarter end, with SEs
    stress            the stress folder's comparison.csv (when the run folder has one)
    tornado           the sensitivity folder's tornado (when present)
    paths             per-path inputs and outputs of results.nc (store = paths or full)
    provenance        how the run was made (summary.json provenance, results.nc attributes)
    scenario          the resolved scenario TOML, one line a row

Every number is copied from summary.json, results.nc or the folder's files, never recomputed.
Units in names: ``_frac`` a fraction (probabilities too), ``_usd`` US dollars, ``_usd_per_gpu_hour``,
``_month`` a calendar month YYYY-MM; per-path columns carry the variable's ``units`` attribute in
brackets.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from engine.report.headline import STANDARD_LABEL, any_loss_counts


def material_counts(summary: dict) -> str:
    """What P(material impairment) counts: the policy's own sentence (summary.json ``accounting_policy.in_words``)."""
    words = summary.get("accounting_policy", {}).get("in_words", [])
    return next((w for w in words if w.startswith("material impairment:")),
                "material impairment: a month's recognised loss of at least the materiality share of the fleet's carrying amount")


def _v(x) -> float:
    return float("nan") if not isinstance(x, dict) or x.get("value") is None else float(x["value"])


def _se(x) -> float:
    return float("nan") if not isinstance(x, dict) or x.get("se") is None else float(x["se"])


def headline(summary: dict) -> pd.DataFrame:
    f = summary["fleet"]
    rows = []
    for s in summary["run"]["standards"]:
        m = f.get(f"p_material_impairment_{s}", {})
        a = f.get(f"p_impairment_{s}", {})
        rows.append({
            "standard": STANDARD_LABEL.get(s, s),
            "p_material_impairment_next_12_months_frac": _v(m.get("first_12_months")),
            "p_material_impairment_next_12_months_se_frac": _se(m.get("first_12_months")),
            "p_material_impairment_by_horizon_frac": _v(m.get("horizon")),
            "p_material_impairment_by_horizon_se_frac": _se(m.get("horizon")),
            "p_any_impairment_loss_by_horizon_frac": _v(a.get("horizon")),
            "p_any_impairment_loss_by_horizon_se_frac": _se(a.get("horizon")),
            "expected_impairment_loss_usd": _v(f.get(f"expected_impairment_loss_usd_{s}")),
            "expected_impairment_loss_se_usd": _se(f.get(f"expected_impairment_loss_usd_{s}")),
            "p_opening_book_unrecoverable_frac": _v(f.get(f"p_opening_book_unrecoverable_{s}")),
            "material_counts": material_counts(summary),
            "any_loss_counts": "P(any impairment loss) " + any_loss_counts(summary),
            "horizon_months": summary["run"]["horizon_months"],
            "start_month": summary["run"]["start_month"],
            "paths": summary["run"]["paths"],
        })
    return pd.DataFrame(rows)


def by_fiscal_year(summary: dict) -> pd.DataFrame:
    f = summary["fleet"]
    rows = []
    for s in summary["run"]["standards"]:
        m = f.get(f"p_material_impairment_{s}")
        if not m:
            continue
        cum = m.get("cumulative_by_fiscal_year_end", {})
        for y, x in m.get("by_fiscal_year", {}).items():
            rows.append({"standard": STANDARD_LABEL.get(s, s), "fiscal_year": y,
                         "p_material_impairment_in_year_frac": _v(x), "p_material_impairment_in_year_se_frac": _se(x),
                         "p_material_impairment_by_year_end_frac": _v(cum.get(y)), "p_material_impairment_by_year_end_se_frac": _se(cum.get(y))})
    return pd.DataFrame(rows, columns=["standard", "fiscal_year", "p_material_impairment_in_year_frac", "p_material_impairment_in_year_se_frac",
                                       "p_material_impairment_by_year_end_frac", "p_material_impairment_by_year_end_se_frac"])


def by_year_end(summary: dict) -> pd.DataFrame:
    rows = []
    for s in summary["run"]["standards"]:
        by = summary["fleet"][f"p_impairment_{s}"]["by_year_end"]
        for y, x in by.items():
            rows.append({"standard": STANDARD_LABEL.get(s, s), "calendar_year": y,
                         "p_any_impairment_loss_by_year_end_frac": _v(x), "p_any_impairment_loss_by_year_end_se_frac": _se(x)})
    return pd.DataFrame(rows)


def _pair(name: str, x) -> dict:
    """``{name: value, <name with _se before the unit>: se}`` of a ``{value, se}`` object (a distribution's mean when given one)."""
    if isinstance(x, dict) and "mean" in x:
        x = x["mean"]
    for unit in ("_usd_per_delivered_gpu_hour", "_usd_per_gpu_hour", "_usd", "_frac"):
        if name.endswith(unit):
            return {name: _v(x), name[: -len(unit)] + "_se" + unit: _se(x)}
    return {name: _v(x), name + "_se": _se(x)}


def by_cohort(summary: dict) -> pd.DataFrame:
    rows = []
    for name, e in [("fleet", summary["fleet"]), *summary["cohorts"].items()]:
        for s in summary["run"]["standards"]:
            q = e.get(f"impairment_loss_quantiles_usd_{s}", {})
            npv = e.get("npv_usd", {})
            r = {"cohort": name, "standard": STANDARD_LABEL.get(s, s)}
            r.update(_pair("p_any_impairment_loss_by_horizon_frac", e.get(f"p_impairment_{s}", {}).get("horizon")))
            r.update(_pair("expected_impairment_loss_usd", e.get(f"expected_impairment_loss_usd_{s}")))
            r.update(_pair("expected_loss_given_impairment_usd", e.get(f"expected_loss_given_impairment_usd_{s}")))
            r["impairment_loss_p95_usd"] = _v(q.get("p95"))
            r["impairment_loss_p99_usd"] = _v(q.get("p99"))
            r["first_impairment_median_month"] = e.get(f"first_impairment_month_{s}", {}).get("p50", "")
            r.update(_pair("npv_mean_usd", npv))
            r["npv_p05_usd"] = _v(npv.get("p05"))
            r["npv_p95_usd"] = _v(npv.get("p95"))
            r.update(_pair("tco_mean_usd_per_gpu_hour", e.get("tco_usd_per_gpu_hour")))
            r.update(_pair("tco_mean_usd_per_delivered_gpu_hour", e.get("tco_usd_per_delivered_gpu_hour")))
            rows.append(r)
    return pd.DataFrame(rows)


def credit(summary: dict) -> pd.DataFrame | None:
    c = summary.get("credit")
    if not c:
        return None
    rows = []
    for name, e in [*c["facilities"].items(), ("portfolio", c["portfolio"])]:
        r = {"facility": name}
        r.update(_pair("p_covenant_breach_frac", e["p_covenant_breach"]["horizon"]))
        r.update(_pair("p_default_frac", e["p_default"]["horizon"]))
        for cause in ("payment", "covenant"):
            if f"p_default_{cause}" in e:
                r.update(_pair(f"p_default_{cause}_frac", e[f"p_default_{cause}"]["horizon"]))
        r.update(_pair("expected_credit_loss_usd", e["expected_credit_loss_usd"]))
        r["credit_loss_p99_usd"] = _v(e["credit_loss_quantiles_usd"].get("p99"))
        r.update(_pair("ead_given_default_usd", e["ead_given_default_usd"]))
        r.update(_pair("lgd_given_default_frac", e["lgd_given_default_frac"]))
        r["lgd_p95_frac"] = _v(e["lgd_quantiles_frac"].get("p95"))
        rows.append(r)
    return pd.DataFrame(rows)


def credit_by_quarter(summary: dict) -> pd.DataFrame | None:
    c = summary.get("credit")
    if not c:
        return None
    rows = []
    for name, e in [*c["facilities"].items(), ("portfolio", c["portfolio"])]:
        for q in c["quarters"]:
            r = {"facility": name, "quarter": q}
            r.update(_pair("p_covenant_breach_by_quarter_end_frac", e["p_covenant_breach"]["by_quarter"][q]))
            r.update(_pair("p_default_by_quarter_end_frac", e["p_default"]["by_quarter"][q]))
            rows.append(r)
    return pd.DataFrame(rows)


def metric_unit(metric: str) -> str:
    """The unit of a stress / sensitivity metric, read from its name (engine/stress/metrics.py names)."""
    if metric.startswith("p_"):
        return "fraction (probability)"
    for suffix, unit in (("_usd_per_delivered_gpu_hour", "USD per delivered GPU-hour"), ("_usd_per_gpu_hour", "USD per GPU-hour"),
                         ("_usd_per_million_tokens", "USD per million tokens"), ("_frac", "fraction"), ("_usd", "USD"), ("_months", "months")):
        if metric.endswith(suffix) or f"{suffix}_" in metric:
            return unit
    return "as the metric's name"


def stress(rows: list[dict]) -> pd.DataFrame:
    """comparison.csv as read (engine/report/load.py), with the metric's unit beside it."""
    df = pd.DataFrame(rows)
    money = [c for c in ("base", "stress", "delta", "se_delta_crn", "se_delta_independent", "se_base", "se_stress") if c in df.columns]
    for col in [*money, "variance_reduction", "n_paths"]:
        if col in df.columns:
            df[col] = pd.to_numeric(df[col], errors="coerce")
    df.insert(df.columns.get_loc("metric") + 1, "metric_unit", [metric_unit(m) for m in df["metric"]])
    return df.rename(columns={c: f"{c} (metric_unit)" for c in money})


def tornado(doc: dict) -> pd.DataFrame | None:
    t = doc.get("tornado")
    if not t:
        return None
    rows = []
    for r in t["rows"]:
        for metric, m in r["metrics"].items():
            rows.append({
                "input": r["input"], "input_at_p10 (units of the input)": r["x_p10"], "input_at_p90 (units of the input)": r["x_p90"],
                "metric": metric, "metric_unit": metric_unit(metric), "metric_base (metric_unit)": t["base"].get(metric, math.nan),
                "metric_at_input_p10 (metric_unit)": m["at_p10"], "metric_at_input_p10_se_delta (metric_unit)": m["se_delta_p10"],
                "metric_at_input_p90 (metric_unit)": m["at_p90"], "metric_at_input_p90_se_delta (metric_unit)": m["se_delta_p90"],
                "swing (metric_unit)": m["swing"], "paths": t.get("paths"),
            })
    return pd.DataFrame(rows)


def _label(v) -> str:
    return str(v.item() if hasattr(v, "item") else v)


def paths(ds) -> pd.DataFrame | None:
    """One row per path: every variable of results.nc whose dims are ``path`` and coordinates (not month):
    column ``name[coord, ...] (units)``; the inputs as ``input: <name>``. None when the run kept no paths."""
    if "path" not in ds.dims:
        return None
    import itertools

    import numpy as np

    cols: dict[str, np.ndarray] = {"path": ds["path"].values}
    if "input_value" in ds:
        for j, name in enumerate(ds["input"].values):
            cols[f"input: {_label(name)}"] = ds["input_value"].values[:, j]
    for name, da in ds.data_vars.items():
        if name == "input_value" or not da.dims or da.dims[0] != "path" or "month" in da.dims:
            continue
        units = da.attrs.get("units", "")
        tail = f" ({units})" if units else ""
        x = da.values.reshape(da.shape[0], -1)
        if da.ndim == 1:
            cols[f"{name}{tail}"] = x[:, 0]
            continue
        for k, labels in enumerate(itertools.product(*[[_label(v) for v in ds[d].values] for d in da.dims[1:]])):
            cols[f"{name}[{', '.join(labels)}]{tail}"] = x[:, k]
    return pd.DataFrame(cols)


def _flat(prefix: str, x, out: list) -> None:
    if isinstance(x, dict):
        for k, v in x.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out.append((prefix, x if isinstance(x, (int, float, str)) or x is None else json.dumps(x)))


def provenance(run) -> pd.DataFrame:
    """key / value rows: summary.json provenance and run blocks, results.nc attributes (not the resolved TOML:
    the ``scenario`` table), the stress and sensitivity folders used, and what the export leaves out."""
    out: list = []
    _flat("summary.provenance", run.summary.get("provenance", {}), out)
    _flat("summary.run", run.summary.get("run", {}), out)
    for k, v in run.ds.attrs.items():
        if k != "resolved_scenario_toml":
            out.append((f"results.nc:{k}", v if isinstance(v, (int, float, str)) else str(v)))
    out.append(("run_folder", str(run.path)))
    if run.stress is not None:
        out.append(("stress_folder", str(run.stress.path)))
        _flat("stress.provenance", run.stress.provenance, out)
    if run.sensitivity is not None:
        out.append(("sensitivity_folder", str(run.sensitivity.path)))
        _flat("sensitivity.provenance", run.sensitivity.doc.get("provenance", {}), out)
    for note in run.notes:
        out.append(("note", note))
    monthly = [n for n, da in run.ds.data_vars.items() if da.dims[:2] == ("path", "month")]
    if monthly:
        out.append(("not exported", f"per-path monthly arrays stay in results.nc: {', '.join(monthly)}"))
    return pd.DataFrame([{"key": k, "value": "" if v is None else v} for k, v in out])


def scenario(run) -> pd.DataFrame:
    return pd.DataFrame({"scenario.resolved.toml": run.resolved_toml_text.splitlines()})


def run_tables(run) -> dict[str, pd.DataFrame]:
    """Table name -> DataFrame, in the workbook's sheet order; tables a run does not have are left out."""
    s = run.summary
    tables = {"headline": headline(s), "by_fiscal_year": by_fiscal_year(s), "by_year_end": by_year_end(s), "by_cohort": by_cohort(s),
              "credit": credit(s), "credit_by_quarter": credit_by_quarter(s),
              "stress": stress(run.stress.rows) if run.stress is not None else None,
              "tornado": tornado(run.sensitivity.doc) if run.sensitivity is not None else None,
              "paths": paths(run.ds), "provenance": provenance(run), "scenario": scenario(run)}
    return {k: v for k, v in tables.items() if v is not None}
