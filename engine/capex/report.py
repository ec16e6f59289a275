"""The capex cross-check table: per generation, the breakeven rental price for each criterion as a
distribution over paths, the plan's price, and P(the plan clears each criterion) with SEs; the
fleet breakeven utilization; written to the terminal, capex_check.json and capex_check.csv.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from engine.capex.breakeven import CRITERIA
from engine.summary import mean, prob, quantile

LABELS = {"no_impairment": "(a) no ASC 360 impairment", "dscr": "(b) DSCR covenant, no default", "npv": "(c) NPV >= 0"}


def _dist(x: np.ndarray) -> dict:
    return {"p05": quantile(x, 0.05), "p50": quantile(x, 0.5), "p95": quantile(x, 0.95), "mean": mean(x)}


def _vs_cloud(be: dict, g_i: int) -> dict | None:
    """Breakeven time of owning against renting at the cloud price (plan as drawn): distributions over the
    paths where owning saves, and the share of paths where it never does (None without a cloud price)."""
    cloud = float(be["cloud_price_usd_per_gpu_hour"][g_i])
    if not np.isfinite(cloud):
        return None
    months = be["breakeven_vs_cloud_months"][:, g_i]
    return {
        "cloud_price_usd_per_gpu_hour": cloud,
        "breakeven_gpu_hours": _dist(be["breakeven_vs_cloud_gpu_hours"][:, g_i]),
        "breakeven_months": _dist(months),
        "p_never": prob(~np.isfinite(months)),
    }


def build_report(model, be: dict, *, plan_path: str, sha256: str, seed: int, n_paths: int, has_debt: bool, u_max: float,
                 u_min: float | None = None, m_min: float | None = None, m_max: float | None = None) -> dict:
    """The report dict (JSON-able): generations x criteria, and the fleet utilization block.

    Breakevens at a search bound are censored (engine/capex/breakeven.py): each criterion block counts
    its paths at the floor and at the ceiling (``paths_censored_low`` / ``_high``), and the bounds searched
    are recorded (``price_multiplier_searched``, ``utilization_searched_frac``) so a quantile that sits
    on a bound is printed as a bound (``>= 95%``), not as a value."""
    gens = list(model.generations)
    p0 = be["p0_usd_per_gpu_hour"]
    out = {"plan_file": plan_path, "scenario_sha256": sha256, "seed": int(seed), "paths": int(n_paths), "criteria": list(CRITERIA), "generations": {}}
    for g_i, g in enumerate(gens):
        row = {"plan_price_usd_per_gpu_hour": _dist(p0[:, g_i])}
        for k, crit in enumerate(CRITERIA):
            if crit == "dscr" and not has_debt:
                row[crit] = None
                continue
            price = be["price_mult"][:, k, g_i] * p0[:, g_i]
            row[crit] = {
                "breakeven_price_usd_per_gpu_hour": _dist(price),
                "breakeven_price_multiplier": _dist(be["price_mult"][:, k, g_i]),
                "p_plan_clears": prob(be["pass_plan"][:, k, g_i]),
                "share_censored_low": float(be["censored_low"][:, k, g_i].mean()),
                "share_censored_high": float(be["censored_high"][:, k, g_i].mean()),
                "paths_censored_low": int(be["censored_low"][:, k, g_i].sum()),
                "paths_censored_high": int(be["censored_high"][:, k, g_i].sum()),
            }
        ks = [k for k, c in enumerate(CRITERIA) if c != "dscr" or has_debt]
        row["p_plan_clears_all"] = prob(be["pass_plan"][:, ks, g_i].all(axis=1))
        row["breakeven_vs_cloud"] = _vs_cloud(be, g_i)
        out["generations"][g] = row
    util = {}
    for k, crit in enumerate(CRITERIA):
        if crit == "dscr" and not has_debt:
            util[crit] = None
            continue
        util[crit] = {
            "breakeven_utilization_frac": _dist(be["utilization"][:, k]),
            "p_plan_clears": prob(be["pass_plan_fleet"][:, k]),
            "share_censored_low": float(be["util_censored_low"][:, k].mean()),
            "share_censored_high": float(be["util_censored_high"][:, k].mean()),
            "paths_censored_low": int(be["util_censored_low"][:, k].sum()),
            "paths_censored_high": int(be["util_censored_high"][:, k].sum()),
        }
    out["fleet_utilization"] = util
    out["utilization_searched_up_to_frac"] = float(u_max)
    out["utilization_searched_frac"] = [None if u_min is None else float(u_min), float(u_max)]
    out["price_multiplier_searched"] = [None if m_min is None else float(m_min), None if m_max is None else float(m_max)]
    out["p_plan_clears_max_se"] = max_prob_se(n_paths)
    return out


def max_prob_se(n_paths: int) -> float:
    """The largest standard error of a probability estimated from ``n_paths`` paths: sqrt(0.5 x 0.5 / n), at P = 50 %."""
    return 0.5 / float(np.sqrt(n_paths))


def paths_for_se(se: float) -> int:
    """Paths that bring the largest SE of a probability down to ``se``: ceil(0.25 / se^2)."""
    return int(np.ceil(0.25 / se**2 - 1e-9))


def bound_mark(value: float, lo: float | None, hi: float | None) -> str:
    """``"≥ "`` when ``value`` sits on the search ceiling ``hi``, ``"≤ "`` on the floor ``lo``, else ``""`` (within a
    relative 1e-9: a censored breakeven is set to the bound exactly, engine/capex/breakeven.py)."""
    if hi is not None and value >= hi * (1 - 1e-9):
        return "≥ "
    if lo is not None and value <= lo * (1 + 1e-9):
        return "≤ "
    return ""


def csv_text(report: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["row", "criterion", "breakeven_p05", "breakeven_p50", "breakeven_p95", "breakeven_units", "plan_value_p50", "p_plan_clears", "p_plan_clears_se", "share_censored_low", "share_censored_high"])
    for g, row in report["generations"].items():
        for crit in report["criteria"]:
            r = row[crit]
            if r is None:
                continue
            b = r["breakeven_price_usd_per_gpu_hour"]
            w.writerow([g, crit, b["p05"]["value"], b["p50"]["value"], b["p95"]["value"], "USD per GPU-hour", row["plan_price_usd_per_gpu_hour"]["p50"]["value"],
                        r["p_plan_clears"]["value"], r["p_plan_clears"]["se"], r["share_censored_low"], r["share_censored_high"]])
    for g, row in report["generations"].items():
        r = row.get("breakeven_vs_cloud")
        if r is None:
            continue
        b = r["breakeven_months"]  # over the paths where owning saves; share_censored_high = share where it never does
        w.writerow([g, "owning_vs_cloud_months", b["p05"]["value"], b["p50"]["value"], b["p95"]["value"], "month", "", "", "", 0.0, r["p_never"]["value"]])
    for crit, r in report["fleet_utilization"].items():
        if r is None:
            continue
        b = r["breakeven_utilization_frac"]
        w.writerow(["fleet_utilization", crit, b["p05"]["value"], b["p50"]["value"], b["p95"]["value"], "1", "", r["p_plan_clears"]["value"], r["p_plan_clears"]["se"],
                    r["share_censored_low"], r["share_censored_high"]])
    return buf.getvalue()


def write_report(out: Path, report: dict, resolved_toml: str, *, force: bool) -> None:
    """capex_check.json, capex_check.csv and plan.resolved.toml, written atomically (temp dir renamed)."""
    from engine.outdir import atomic_dir
    from engine.jsontext import json_text

    with atomic_dir(out, force=force) as tmp:
        (tmp / "capex_check.json").write_text(json_text(report))
        (tmp / "capex_check.csv").write_text(csv_text(report))
        (tmp / "scenario.resolved.toml").write_text(resolved_toml + "\n")


def print_report(report: dict) -> None:
    import sys

    from rich.console import Console
    from rich.table import Table

    from engine.termfmt import ok as _ok
    from engine.termfmt import pct

    console = Console(width=None if sys.stdout.isatty() else 160)
    t = Table(title=f"Capex cross-check: what has to be true ({report['paths']:,} paths, seed {report['seed']}; price = on-demand $/GPU-h at the run start; ± = one SE)")
    t.add_column("generation", no_wrap=True)
    t.add_column("plan price p50", justify="right")
    for crit in report["criteria"]:
        t.add_column(f"{LABELS[crit]}\nbreakeven p05 / p50 / p95", justify="right")
        t.add_column("P(clears)", justify="right")
    t.add_column("P(clears all)", justify="right")

    def trio(b, fmt, lo=None, hi=None, mult=None):
        """p05 / p50 / p95; a quantile on a search bound (of ``b`` itself, or of the multiplier ``mult`` for a price) as a bound."""
        cells = []
        for q in ("p05", "p50", "p95"):
            if not _ok(b[q]):
                cells.append("-")
                continue
            at = mult[q]["value"] if mult is not None and _ok(mult[q]) else b[q]["value"]
            cells.append(bound_mark(at, lo, hi) + fmt(b[q]["value"]))
        return " / ".join(cells)

    def censored(r) -> str:
        n_hi, n_lo = r.get("paths_censored_high", 0), r.get("paths_censored_low", 0)
        parts = [f"{n_hi:,} at the ceiling" if n_hi else "", f"{n_lo:,} at the floor" if n_lo else ""]
        return "; ".join(p for p in parts if p)

    m_lo, m_hi = report.get("price_multiplier_searched", [None, None])
    u_lo, u_hi = report.get("utilization_searched_frac", [None, report.get("utilization_searched_up_to_frac")])
    notes = []

    for g, row in report["generations"].items():
        cells = [g, f"{row['plan_price_usd_per_gpu_hour']['p50']['value']:.2f}"]
        for crit in report["criteria"]:
            r = row[crit]
            if r is None:
                cells += ["no debt", "-"]
                continue
            cells += [trio(r["breakeven_price_usd_per_gpu_hour"], lambda v: f"{v:.2f}", m_lo, m_hi, r["breakeven_price_multiplier"]), pct(r["p_plan_clears"])]
            if censored(r):
                notes.append(f"{g} {LABELS[crit]}: {censored(r)} of {report['paths']:,} paths")
        cells.append(pct(row["p_plan_clears_all"]))
        t.add_row(*cells)
    cells = ["fleet utilization", ""]
    for crit in report["criteria"]:
        r = report["fleet_utilization"][crit]
        if r is None:
            cells += ["no debt", "-"]
            continue
        cells += [trio(r["breakeven_utilization_frac"], lambda v: f"{100 * v:.0f}%", u_lo, u_hi), pct(r["p_plan_clears"])]
        if censored(r):
            notes.append(f"fleet utilization {LABELS[crit]}: {censored(r)} of {report['paths']:,} paths")
    cells.append("")
    t.add_row(*cells)
    console.print(t)
    for g, row in report["generations"].items():
        r = row.get("breakeven_vs_cloud")
        if r is not None:
            console.print(f"{g}: owning beats renting at the cloud price ${r['cloud_price_usd_per_gpu_hour']:.2f}/GPU-h after "
                          f"{trio(r['breakeven_months'], lambda v: f'{v:.0f}')} months (p05 / p50 / p95; "
                          f"{trio(r['breakeven_gpu_hours'], lambda v: f'{v:,.0f}')} delivered GPU-hours per GPU); never on {pct(r['p_never'])} of paths")
    console.print("Breakevens at a search bound are censored: \u2265 / \u2264 mark a quantile on the bound (the true breakeven is beyond it). "
                  "Utilization is one fleet-wide input (demand.utilization_frac).")
    for line in notes:
        console.print(f"  censored: {line}")
    se = max_prob_se(report["paths"])
    console.print(f"P(clears) \u00b1 is one Monte Carlo SE; with {report['paths']:,} paths it is at most \u00b1{100 * se:.1f} points (at P = 50%); "
                  f"\u00b11 point needs {paths_for_se(0.01):,} paths (--paths).")
