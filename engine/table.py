"""The terminal summary table (rich)."""

from __future__ import annotations

import math


def _pct(x: dict) -> str:
    if x is None or x.get("value") is None or not math.isfinite(x["value"]):
        return "-"
    return f"{100 * x['value']:.1f}% ± {100 * x['se']:.1f}"


def _musd(x: dict) -> str:
    if x is None or x.get("value") is None or not math.isfinite(x["value"]):
        return "-"
    return f"{x['value'] / 1e6:,.1f} ± {x['se'] / 1e6:,.1f}"


def _num(x: dict, fmt: str = ".3f") -> str:
    if x is None or x.get("value") is None or not math.isfinite(x["value"]):
        return "-"
    return f"{x['value']:{fmt}} ± {x['se']:{fmt}}"


def print_summary(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    run = summary["run"]
    stds = run["standards"]
    console = Console()
    t = Table(title=f"rackrisk: {summary['provenance']['scenario_file']} — {run['paths']:,} paths, seed {run['seed']}, horizon {run['horizon_months']} months from {run['start_month']}")
    t.add_column("entity")
    for s in stds:
        t.add_column(f"P(impaired) {s.upper()}", justify="right")
        t.add_column(f"E[loss] {s.upper()} $M", justify="right")
        t.add_column(f"loss p95 / p99 {s.upper()} $M", justify="right")
    t.add_column("NPV mean $M", justify="right")
    t.add_column("TCO $/GPU-h avail.", justify="right")
    t.add_column("TCO $/GPU-h delivered", justify="right")
    rows = [("fleet", summary["fleet"])] + list(summary["cohorts"].items())
    for name, e in rows:
        cells = [name]
        for s in stds:
            q = e[f"impairment_loss_quantiles_usd_{s}"]
            cells += [_pct(e[f"p_impairment_{s}"]["horizon"]), _musd(e[f"expected_impairment_loss_usd_{s}"]), f"{q['p95']['value'] / 1e6:,.1f} / {q['p99']['value'] / 1e6:,.1f}"]
        cells += [_musd(e["npv_usd"]["mean"]), _num(e["tco_usd_per_gpu_hour"]["mean"]), _num(e["tco_usd_per_delivered_gpu_hour"]["mean"])]
        t.add_row(*cells)
    console.print(t)
    ye = Table(title="Fleet: probability of impairment by year end")
    ye.add_column("standard")
    for y in run["year_ends"]:
        ye.add_column(y, justify="right")
    for s in stds:
        by = summary["fleet"][f"p_impairment_{s}"]["by_year_end"]
        ye.add_row(s.upper(), *[_pct(by[y]) for y in run["year_ends"]])
    console.print(ye)
    if "p_impaired_asc360_not_ias36" in summary["fleet"]:
        f = summary["fleet"]
        console.print(f"Standards disagree: impaired under ASC 360 only {_pct(f['p_impaired_asc360_not_ias36'])}; under IAS 36 only {_pct(f['p_impaired_ias36_not_asc360'])}")
