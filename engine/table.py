"""The terminal summary: two compact tables (impairment; value and cost) and the year-end fan."""

from __future__ import annotations

import sys

from engine.termfmt import musd, pct, usd
from engine.termfmt import ok as _ok

__all__ = ["print_summary", "pct", "musd", "usd"]


def _print_headline(console, summary: dict) -> None:
    """The answer first: P(a material impairment is recognised), by fiscal year and cumulatively, the
    opening-book check, the policy range, and the policy that makes the number."""
    from rich.table import Table

    f = summary["fleet"]
    stds = [s for s in summary["run"]["standards"] if f"p_material_impairment_{s}" in f]
    if not stds:
        return
    fys = list(f[f"p_material_impairment_{stds[0]}"]["by_fiscal_year"])
    pr = summary.get("policy_range")
    t = Table(title="Fleet: probability that a material impairment is recognised")
    t.add_column("standard", no_wrap=True)
    t.add_column("next 12 months", justify="right")
    for y in fys:
        t.add_column(f"in {y}", justify="right")
    t.add_column("by the horizon", justify="right")
    if pr:
        t.add_column(f"policy range\n(horizon, {pr['paths']:,} paths)", justify="right")
    for s in stds:
        m = f[f"p_material_impairment_{s}"]
        cells = ["ASC 360" if s == "asc360" else "IAS 36", pct(m["first_12_months"])] + [pct(m["by_fiscal_year"][y]) for y in fys] + [pct(m["horizon"])]
        if pr:
            lo, hi = pr["range"][s]["horizon"]
            cells.append(f"{100 * lo:.0f}%-{100 * hi:.0f}%")
        t.add_row(*cells)
    console.print(t)
    for line in summary.get("accounting_policy", {}).get("in_words", []):
        console.print(f"  {line}")
    if pr:
        names = ", ".join(f"{k} {100 * v[stds[0]]['horizon']['value']:.0f}%" for k, v in pr["policies"].items())
        console.print(f"  policy range ({'ASC 360' if stds[0] == 'asc360' else 'IAS 36'}, by the horizon): {names}")
    for s in stds:
        o = f[f"p_opening_book_unrecoverable_{s}"]
        if _ok(o) and o["value"] > 0.5:
            label = "ASC 360 step 1" if s == "asc360" else "IAS 36"
            console.print(f"  [bold red]warning[/bold red]: a test at the valuation date would already fail ({label}) on {pct(o)} of paths: "
                          "the opening book is inconsistent with an unimpaired balance sheet; check the fleet's carrying amounts and start prices")


def print_summary(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    run = summary["run"]
    stds = run["standards"]
    console = Console(width=None if sys.stdout.isatty() else 160)
    rows = [("fleet", summary["fleet"])] + list(summary["cohorts"].items())
    console.print(
        f"[bold]rackrisk[/bold] {summary['provenance']['scenario_file']}: {run['paths']:,} paths, seed {run['seed']}, "
        f"{run['horizon_months']} months from {run['start_month']} (± = one Monte Carlo standard error)"
    )

    _print_headline(console, summary)

    from engine.report.headline import any_loss_counts

    mat = [s for s in stds if f"p_material_impairment_{s}" in summary["fleet"]]
    imp = Table(title="Any impairment loss: P(impaired) " + any_loss_counts(summary) + "; P(material) beside it: the fleet's material impairments only, as in the first table")
    imp.add_column("", no_wrap=True)
    for s in stds:
        label = "ASC 360" if s == "asc360" else "IAS 36"
        imp.add_column(f"P(impaired)\n{label}", justify="right")
        if s in mat:
            imp.add_column(f"P(material)\n{label}", justify="right")
        imp.add_column(f"mean write-down $M\n{label}", justify="right")
        imp.add_column(f"p95 / p99 $M\n{label}", justify="right")
        imp.add_column(f"first, median\n{label}", justify="right")
    for name, e in rows:
        cells = [name]
        for s in stds:
            q = e[f"impairment_loss_quantiles_usd_{s}"]
            tail = f"{q['p95']['value'] / 1e6:,.1f} / {q['p99']['value'] / 1e6:,.1f}" if _ok(q["p95"]) else "-"
            first = e[f"first_impairment_month_{s}"].get("p50", "-")
            cells.append(pct(e[f"p_impairment_{s}"]["horizon"]))
            if s in mat:  # materiality is judged on the fleet's book: no cohort figure
                cells.append(pct(e[f"p_material_impairment_{s}"]["horizon"]) if name == "fleet" else "fleet only")
            cells += [musd(e[f"expected_impairment_loss_usd_{s}"]), tail, first]
        imp.add_row(*cells)
    console.print(imp)

    val = Table(title="Value and cost per GPU-hour (means)")
    val.add_column("", no_wrap=True)
    for col in ("NPV $M", "NPV p05 / p95 $M", "TCO $/GPU-h", "TCO $/delivered GPU-h", "annuity $/delivered GPU-h", "$/M tokens", "breakeven util."):
        val.add_column(col, justify="right")
    for name, e in rows:
        npv = e["npv_usd"]
        band = f"{npv['p05']['value'] / 1e6:,.1f} / {npv['p95']['value'] / 1e6:,.1f}" if _ok(npv["p05"]) else "-"
        tok = e.get("tco_usd_per_million_tokens", {}).get("mean")
        be = e.get("breakeven_utilization_frac", {}).get("mean")
        val.add_row(
            name, musd(npv["mean"]), band, usd(e["tco_usd_per_gpu_hour"]["mean"]), usd(e["tco_usd_per_delivered_gpu_hour"]["mean"]),
            usd(e["tco_annuity_usd_per_delivered_gpu_hour"]["mean"]), usd(tok, 4) if tok else "-", pct(be) if be else "-",
        )
    console.print(val)

    ye = Table(title="Fleet: probability of impairment by year end")
    ye.add_column("standard", no_wrap=True)
    for y in run["year_ends"]:
        ye.add_column(y, justify="right")
    for s in stds:
        by = summary["fleet"][f"p_impairment_{s}"]["by_year_end"]
        ye.add_row("ASC 360" if s == "asc360" else "IAS 36", *[pct(by[y]) for y in run["year_ends"]])
    console.print(ye)
    f = summary["fleet"]
    if "p_impaired_asc360_not_ias36" in f:
        console.print(
            f"Standards disagree on a path: impaired under ASC 360 only {pct(f['p_impaired_asc360_not_ias36'])}, "
            f"under IAS 36 only {pct(f['p_impaired_ias36_not_asc360'])}."
        )
    if "credit" in summary:  # [financing] (engine/credit/table.py)
        from engine.credit.table import print_credit

        print_credit(console, summary)
