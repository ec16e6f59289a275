"""The reconciliation as Markdown text (the same text goes to the terminal and into docs/reconcile.md)."""

from __future__ import annotations

from engine.reconcile.compare import Comparison


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "USD":
        return f"${value / 1e6:,.0f}m"
    if unit == "MW":
        return f"{value:,.0f} MW"
    if unit == "GPUs":
        return f"{value:,.0f}"
    return f"{value:g} {unit}"


def render(scenario: str, entity: str, filings: str, comps: list[Comparison]) -> str:
    """Markdown: a table of the reconciled figures, then the rows not reconciled, then a summary line."""
    done = [c for c in comps if c.status != "not reconciled"]
    rest = [c for c in comps if c.status == "not reconciled"]
    lines = [
        f"### {scenario}: modelled vs {entity} filings",
        "",
        f"Reported figures: `{filings}` (line, date, metric, trust, source).",
        "",
        "| figure | period | modelled | reported | diff | tolerance | status | reported row | note |",
        "|---|---|---:|---:|---:|---:|---|---|---|",
    ]
    for c in done:
        r = c.reported
        tol = "—" if c.tolerance_frac is None else f"±{c.tolerance_frac:.0%}"
        src = f"l.{r.line} {r.date} `{r.metric}` ({r.trust}) {r.source}"
        lines.append(f"| {c.figure} | {c.period} | {_fmt(c.modelled, r.base_unit)} | {_fmt(r.value_base, r.base_unit)} | {c.rel_diff_frac:+.1%} | {tol} | {c.status} | {src} | {c.note} |")
    if rest:
        lines += ["", "Not reconciled:", ""]
        for c in rest:
            r = c.reported
            lines.append(f"- l.{r.line} {r.date} `{r.metric}` {r.period} = {r.value:g} {r.unit} ({r.trust}): {c.note}")
    gated = [c for c in done if c.tolerance_frac is not None]
    bad = [c for c in gated if c.status == "OUTSIDE"]
    lines += ["", f"{len(gated)} gated figures, {len(bad)} outside tolerance; {len(done) - len(gated)} reported without a gate; {len(rest)} rows not reconciled."]
    return "\n".join(lines) + "\n"
