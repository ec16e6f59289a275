"""Stress scenarios against a baseline, with common random numbers (CRN).

Every scenario is run with the same seed and path count as the baseline. Random draws are keyed
by (seed, stream, input / generation / cohort name, path index) (engine/random.py), so path i of
a stress scenario sees the same scores as path i of the baseline for every input it shares by
name; the difference of a metric is then the mean of per-path differences d_i = m_i(stress) -
m_i(base), with

    Delta       = mean(d)
    SE_CRN      = sd(d) / sqrt(P)                         (paired: what CRN gives)
    SE_indep    = sqrt(SE_base^2 + SE_stress^2)           (what two independent runs would give)

and variance_reduction = (SE_indep / SE_CRN)^2 (how many times more paths independent runs
would need). Summary metrics without a per-path form (engine/stress/metrics.py) are compared
with SE_indep only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.stress.metrics import metric_table

_SKIP_TOP = ("provenance", "run", "fleet", "cohorts")


def paired(base: np.ndarray, stress: np.ndarray) -> dict:
    """Statistics of the paired difference of two (P,) per-path arrays (NaN paths dropped in both)."""
    b = np.asarray(base, np.float64)
    s = np.asarray(stress, np.float64)
    ok = np.isfinite(b) & np.isfinite(s)
    b, s = b[ok], s[ok]
    n = b.size
    d = s - b
    sd = lambda x: float(x.std(ddof=1)) if n > 1 else float("nan")  # noqa: E731
    se_b, se_s, se_d = sd(b) / math.sqrt(n), sd(s) / math.sqrt(n), sd(d) / math.sqrt(n)
    se_ind = math.sqrt(se_b**2 + se_s**2)
    return {
        "base": float(b.mean()), "stress": float(s.mean()), "delta": float(d.mean()),
        "se_base": se_b, "se_stress": se_s, "se_delta_crn": se_d, "se_delta_independent": se_ind,
        "variance_reduction": (se_ind / se_d) ** 2 if se_d > 0 else float("inf") if se_ind > 0 else float("nan"),
        "n_paths": int(n),
    }


def _leaves(d: dict, prefix: str = "") -> dict[str, dict]:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and set(v) >= {"value", "se"}:
            out[prefix + k] = v
        elif isinstance(v, dict):
            out.update(_leaves(v, prefix + k + "."))
    return out


def summary_only_rows(base_summary: dict, stress_summary: dict) -> list[dict]:
    """Rows for summary metrics outside fleet/cohorts (e.g. credit.*): Delta with SE_indep only."""
    rows = []
    for top, section in base_summary.items():
        if top in _SKIP_TOP or not isinstance(section, dict) or not isinstance(stress_summary.get(top), dict):
            continue
        sb, ss = _leaves(section, top + "."), _leaves(stress_summary[top], top + ".")
        for name in sorted(set(sb) & set(ss)):
            b, s = sb[name], ss[name]
            if b["value"] is None or s["value"] is None:
                continue
            rows.append({
                "metric": name, "label": name, "base": b["value"], "stress": s["value"], "delta": s["value"] - b["value"],
                "se_base": b["se"], "se_stress": s["se"], "se_delta_crn": float("nan"),
                "se_delta_independent": math.sqrt(b["se"] ** 2 + s["se"] ** 2), "variance_reduction": float("nan"),
                "n_paths": None,
            })
    return rows


def crn_report(base_model, model) -> dict:
    """Which inputs a scenario shares with the baseline: same name and distribution (same draws),
    same name with another distribution (same scores, CRN through the quantile map), or new."""
    b = {sp.name: sp for sp in base_model.inputs}
    same, changed, new = [], [], []
    for sp in model.inputs:
        o = b.get(sp.name)
        if o is None:
            new.append(sp.name)
        elif o.dist == sp.dist and (o.posterior_draws is None) == (sp.posterior_draws is None) and (
            o.posterior_draws is None or np.array_equal(o.posterior_draws, sp.posterior_draws)
        ):
            same.append(sp.name)
        else:
            changed.append(sp.name)
    return {"same": len(same), "changed": changed, "new": new,
            "removed": sorted(set(b) - {sp.name for sp in model.inputs})}


@dataclass
class Comparison:
    base: object  # engine.app.RunResult
    stresses: list  # list of RunResult
    rows: list[dict] = field(default_factory=list)  # one per (scenario, metric)
    crn: dict = field(default_factory=dict)  # scenario -> crn_report


def compare_runs(base, stresses: list, names: list[str]) -> Comparison:
    """Rows of the comparison table from already-run results (same seed and path count)."""
    table = metric_table(base.model)
    cmp = Comparison(base=base, stresses=stresses)
    for name, r in zip(names, stresses):
        if r.run.n_paths != base.run.n_paths or r.summary["run"]["seed"] != base.summary["run"]["seed"]:
            raise ValueError("stress and base runs must share seed and path count")
        mt = metric_table(r.model)
        for key, (label, fn, where) in table.items():
            if key not in mt:
                continue
            cmp.rows.append({"scenario": name, "metric": key, "label": label, "summary_key": where, **paired(fn(base.run), mt[key][1](r.run))})
        for row in summary_only_rows(base.summary, r.summary):
            cmp.rows.append({"scenario": name, "summary_key": row["metric"], **row})
        cmp.crn[name] = crn_report(base.model, r.model)
    return cmp


def run_comparison(base_file, stress_files: list, *, paths: int | None, seed: int | None,
                   allow_unconverged: bool = False, progress: Callable[[str], None] | None = None, overrides: dict | None = None) -> Comparison:
    """Run the baseline and each stress scenario (files, or ``LoadedScenario``) with the same seed and paths
    (and the same ``overrides``, ``--set``); compare."""
    from engine.app import run_scenario

    # per-path results only (no fan charts): monthly=False
    base = run_scenario(base_file, paths=paths, seed=seed, write=False, allow_unconverged=allow_unconverged, overrides=overrides, monthly=False)
    seed_, n = base.summary["run"]["seed"], base.run.n_paths
    if progress:
        progress(f"baseline {base_file}: {n} paths in {base.run.seconds:.1f} s")
    runs, names = [], []
    for f in stress_files:
        r = run_scenario(f, paths=n, seed=seed_, write=False, allow_unconverged=allow_unconverged, overrides=overrides, monthly=False)
        if progress:
            progress(f"{f}: {n} paths in {r.run.seconds:.1f} s")
        runs.append(r)
        names.append(getattr(f, "name", None) or Path(f).stem)  # a LoadedScenario, or a file
    return compare_runs(base, runs, names)


CSV_COLUMNS = ("scenario", "metric", "label", "base", "stress", "delta", "se_delta_crn", "se_delta_independent", "variance_reduction",
               "se_base", "se_stress", "n_paths", "summary_key")


def to_csv(rows: list[dict]) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None or (isinstance(r.get(k), float) and math.isnan(r[k])) else r.get(k)) for k in CSV_COLUMNS})
    return buf.getvalue()
