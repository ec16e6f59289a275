"""The credit table of the terminal summary (rich): one row per facility and the portfolio, with the
definitions of its columns printed under it (docs/credit.md §5).

P(default) is split by cause (payment shortfall, covenant breach with no cure left); an LGD of zero
is explained when the recovery covered the exposure on every defaulted path.
"""

from __future__ import annotations

from engine.termfmt import musd, ok, pct

DEFINITIONS = (
    "P(breach): a DSCR or LTV covenant test failed at least once by the horizon, counted before any equity cure.",
    "P(default): the facility defaulted by the horizon, for one of two causes: payment = the debt service due exceeded "
    "the period's CFADS plus the cash account; covenant = a test failed with no equity cure left. A cured breach is no "
    "default, so P(default) can be below P(breach); a payment default needs no breach, so it can be above.",
    "Expected loss: the mean over all paths of EAD - recovery at default (0 on paths without default). Recovery = "
    "collateral market value x (1 - haircut) + the borrower's cash, capped at EAD. LGD | default = (EAD - recovery) / EAD, "
    "averaged over the defaulted paths.",
)


def _f(x: dict | None) -> float | None:
    return x["value"] if ok(x) else None


def zero_lgd_notes(credit: dict) -> list[str]:
    """One sentence per facility (and the portfolio) that defaults on some path but whose mean LGD is zero:
    the recovery covered the exposure on every defaulted path (``p_default_fully_recovered``)."""
    out = []
    for name, e in [*credit["facilities"].items(), ("portfolio", credit["portfolio"])]:
        pd_, lgd = _f(e["p_default"]["horizon"]), _f(e["lgd_given_default_frac"])
        if pd_ and lgd is not None and lgd == 0.0:
            full = e.get("p_default_fully_recovered", {}).get("horizon")
            share = f" ({pct(full)} of paths default and lose nothing)" if ok(full) else ""
            out.append(f"{name}: LGD 0% and expected loss $0.0 M although it defaults on {pct(e['p_default']['horizon'])} of paths: at every default "
                       f"the collateral net of the haircut plus the borrower's cash covered the exposure (EAD){share}, so the lender is repaid in full.")
    return out


def print_credit(console, summary: dict) -> None:
    from rich.table import Table

    credit = summary.get("credit")
    if not credit:
        return
    t = Table(title="Credit over the horizon (definitions below the table; ± = one Monte Carlo SE)")
    t.add_column("", no_wrap=True)
    split = "p_default_payment" in credit["portfolio"]
    cols = ["P(breach)", "P(default)"] + (["by payment", "by covenant"] if split else []) + [
        "exp. loss $M", "loss p99 $M", "EAD|dflt $M", "LGD|dflt", "LGD p95", "DSCR p05", "LTV p95"]
    for col in cols:
        t.add_column(col, justify="right", no_wrap=True)
    rows = list(credit["facilities"].items()) + [("portfolio", credit["portfolio"])]
    for name, e in rows:
        lgd95 = e["lgd_quantiles_frac"]["p95"]
        dscr = e.get("min_tested_dscr", {}).get("p05")
        ltv = e.get("max_tested_ltv_frac", {}).get("p95")
        cells = [name, pct(e["p_covenant_breach"]["horizon"]), pct(e["p_default"]["horizon"])]
        if split:
            cells += [pct(e["p_default_payment"]["horizon"]), pct(e["p_default_covenant"]["horizon"])]
        cells += [musd(e["expected_credit_loss_usd"]), musd(e["credit_loss_quantiles_usd"]["p99"]), musd(e["ead_given_default_usd"]),
                  pct(e["lgd_given_default_frac"]), pct(lgd95), f"{dscr['value']:.2f} ±{dscr['se']:.2f}" if ok(dscr) else "-",
                  pct(ltv) if ok(ltv) else "-"]
        t.add_row(*cells)
    console.print(t)
    for line in DEFINITIONS + (("DSCR p05: the 5th percentile of the lowest tested DSCR; LTV p95: the 95th percentile of the highest tested LTV.",)):
        console.print(f"  {line}", soft_wrap=True)
    for line in zero_lgd_notes(credit):
        console.print(f"  {line}", soft_wrap=True)
    q = credit["quarters"]
    if q:
        by = Table(title="Portfolio: probability of covenant breach and of default by quarter end (every 4th quarter)")
        by.add_column("", no_wrap=True)
        shown = q[3::4] if len(q) >= 4 else q
        for lab in shown:
            by.add_column(lab, justify="right", no_wrap=True)
        p = credit["portfolio"]
        by.add_row("P(breach)", *[pct(p["p_covenant_breach"]["by_quarter"][lab]) for lab in shown])
        by.add_row("P(default)", *[pct(p["p_default"]["by_quarter"][lab]) for lab in shown])
        console.print(by)
