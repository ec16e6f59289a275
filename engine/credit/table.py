"""The credit table of the terminal summary (rich): one row per facility and the portfolio."""

from __future__ import annotations

from engine.table import _ok, musd, pct


def print_credit(console, summary: dict) -> None:
    from rich.table import Table

    credit = summary.get("credit")
    if not credit:
        return
    t = Table(title="Credit over the horizon (covenant breach = a failed test before any cure)")
    t.add_column("", no_wrap=True)
    for col in ("P(breach)", "P(default)", "expected loss $M", "loss p99 $M", "EAD | default $M", "LGD | default", "LGD p95", "min DSCR p05", "max LTV p95"):
        t.add_column(col, justify="right")
    rows = list(credit["facilities"].items()) + [("portfolio", credit["portfolio"])]
    for name, e in rows:
        lgd95 = e["lgd_quantiles_frac"]["p95"]
        dscr = e.get("min_tested_dscr", {}).get("p05")
        ltv = e.get("max_tested_ltv_frac", {}).get("p95")
        t.add_row(
            name, pct(e["p_covenant_breach"]["horizon"]), pct(e["p_default"]["horizon"]), musd(e["expected_credit_loss_usd"]),
            musd(e["credit_loss_quantiles_usd"]["p99"]), musd(e["ead_given_default_usd"]), pct(e["lgd_given_default_frac"]),
            pct(lgd95), f"{dscr['value']:.2f} ±{dscr['se']:.2f}" if _ok(dscr) else "-", pct(ltv) if _ok(ltv) else "-",
        )
    console.print(t)
    q = credit["quarters"]
    if q:
        by = Table(title="Portfolio: probability of covenant breach and of default by quarter end (every 4th quarter)")
        by.add_column("", no_wrap=True)
        shown = q[3::4] if len(q) >= 4 else q
        for lab in shown:
            by.add_column(lab, justify="right")
        p = credit["portfolio"]
        by.add_row("P(breach)", *[pct(p["p_covenant_breach"]["by_quarter"][lab]) for lab in shown])
        by.add_row("P(default)", *[pct(p["p_default"]["by_quarter"][lab]) for lab in shown])
        console.print(by)
