"""``build_report(run_dir)``: read the run folder, build every figure and table in memory, then write
``DIR/report.html`` and ``DIR/report/`` (the PNGs and ``headline.csv``) atomically.

The folder ``DIR/report/`` is replaced in one rename (engine/outdir.py) and ``report.html`` by
``os.replace`` of a finished temporary file, so a failure leaves the previous report (or none),
never a half-written one. Bad input raises ``ScenarioError`` before anything is written.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from engine.version import __version__
from engine.errors import ScenarioError
from engine.outdir import atomic_dir
from engine.report import fmt, headline
from engine.report import html as H
from engine.report.headline import Row, any_loss_counts, stat_row
from engine.report.load import RunFolder, load_run, posterior_attrs

REPORT_HTML = "report.html"
REPORT_DIR = "report"
STD = headline.STANDARD_LABEL


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _inline(row: Row | None) -> str:
    """A summary.json figure inside a sentence, with its data attributes."""
    if row is None:
        return "n/a"
    se = f' <span class="se">{H.e(row.se_text)}</span>' if row.se_text else ""
    return f'<span class="inline"{H.num_attrs(row)}><span class="value">{H.e(row.text)}</span>{se}</span>'


def _glance(run: RunFolder, end: str) -> str:
    s = run.summary
    stds = list(s["run"]["standards"])
    years = list(s["run"].get("year_ends", []))
    cards = []
    first = stds[0]
    other = stds[1] if len(stds) > 1 else None
    y0 = years[0] if years else None

    def r(kind, *key):
        return stat_row(s, "glance", "", kind, *key)

    mat = s["fleet"].get(f"p_material_impairment_{first}")
    if mat:  # the headline: a material impairment recognised (a month's loss >= materiality of the fleet's book)
        sub = [f"next 12 months: {_inline(r('pct', 'fleet', f'p_material_impairment_{first}', 'first_12_months'))}"]
        if other:
            sub.append(f"{STD[other]}: {_inline(r('pct', 'fleet', f'p_material_impairment_{other}', 'horizon'))}")
        pr = s.get("policy_range")
        if pr:
            lo, hi = pr["range"][first]["horizon"]
            sub.append(f"across defensible policies: {100 * lo:.0f}-{100 * hi:.0f} % (first {pr['paths']:,} paths)")
        pol = s.get("accounting_policy", {}).get("in_words", [])
        if pol:
            sub.append(H.e(pol[0]))
        cards.append(H.card(f"Chance of a material write-down by {end} ({STD[first]})", r("pct", "fleet", f"p_material_impairment_{first}", "horizon"), "<br>".join(sub)))
    sub = [H.e(any_loss_counts(s))]
    if mat:  # the materiality-filtered probability beside it
        sub.append(f"of which material (a month's loss >= the materiality share of the fleet's book): {_inline(r('pct', 'fleet', f'p_material_impairment_{first}', 'horizon'))}")
    if other:
        sub.append(f"{STD[other]}: {_inline(r('pct', 'fleet', f'p_impairment_{other}', 'horizon'))}")
    if y0:
        sub.append(f"by Dec {H.e(y0)}: {_inline(r('pct', 'fleet', f'p_impairment_{first}', 'by_year_end', y0))} ({STD[first]})")
    cards.append(H.card(f"Chance of any impairment loss, material or not, by {end} ({STD[first]})", r("pct", "fleet", f"p_impairment_{first}", "horizon"), "<br>".join(sub)))
    fm = s["fleet"].get(f"first_impairment_month_{first}") or {}
    sub = []
    if fm:
        sub.append(f"5th-95th percentile: {_inline(r('month', 'fleet', f'first_impairment_month_{first}', 'p05'))} to {_inline(r('month', 'fleet', f'first_impairment_month_{first}', 'p95'))}")
    if other:
        sub.append(f"{STD[other]} median: {_inline(r('month', 'fleet', f'first_impairment_month_{other}', 'p50'))}")
    cards.append(H.card(f"When: median first impairment ({STD[first]})", r("month", "fleet", f"first_impairment_month_{first}", "p50"), "<br>".join(sub),
                        big_text="never impaired"))
    sub = [f"95th percentile: {_inline(r('usd_m', 'fleet', f'impairment_loss_quantiles_usd_{first}', 'p95'))}"]
    if other:
        sub.append(f"{STD[other]} mean: {_inline(r('usd_m', 'fleet', f'expected_impairment_loss_usd_{other}'))}")
    cards.append(H.card(f"How large: expected loss ({STD[first]})", r("usd_m", "fleet", f"expected_impairment_loss_usd_{first}"), "<br>".join(sub)))
    losses = {c: ((s["cohorts"][c].get(f"expected_impairment_loss_usd_{first}") or {}).get("value")) for c in s["run"]["cohorts"]}
    top = max((c for c in losses if losses[c] is not None), key=lambda c: losses[c], default=None)
    if top is not None:
        cards.append(H.card(f"Largest expected loss: cohort ({STD[first]})", None,
                            f"E[loss] {_inline(r('usd_m', 'cohorts', top, f'expected_impairment_loss_usd_{first}'))}<br>"
                            f"P(impaired by {end}): {_inline(r('pct', 'cohorts', top, f'p_impairment_{first}', 'horizon'))}<br>"
                            f"median first impairment: {_inline(r('month', 'cohorts', top, f'first_impairment_month_{first}', 'p50'))}", big_text=top))
    cards.append(H.card("Cost of a delivered GPU-hour (fleet mean)", r("usd_per_hour", "fleet", "tco_usd_per_delivered_gpu_hour", "mean"),
                        f"per available GPU-hour: {_inline(r('usd_per_hour', 'fleet', 'tco_usd_per_gpu_hour', 'mean'))}<br>"
                        f"annuity capital charge: {_inline(r('usd_per_hour', 'fleet', 'tco_annuity_usd_per_delivered_gpu_hour', 'mean'))}"))
    if "credit" in s:
        facs = list(s["credit"].get("facilities", {}))
        pd = {f: ((s["credit"]["facilities"][f].get("p_default") or {}).get("horizon") or {}).get("value") for f in facs}
        worst = max((f for f in facs if pd[f] is not None), key=lambda f: pd[f], default=None)
        wtext = f"<br>riskiest facility: {H.e(worst)}, P(default) {_inline(r('pct', 'credit', 'facilities', worst, 'p_default', 'horizon'))}" if worst else ""
        cards.append(H.card(f"Debt: P(covenant breach by {end})", r("pct", "credit", "portfolio", "p_covenant_breach", "horizon"),
                            f"P(default, any facility): {_inline(r('pct', 'credit', 'portfolio', 'p_default', 'horizon'))}<br>"
                            f"expected credit loss: {_inline(r('usd_m', 'credit', 'portfolio', 'expected_credit_loss_usd'))}" + wtext))
    else:
        cards.append(H.card("Debt", None, "the scenario has no [financing]: no credit metrics", big_text="not financed"))
    if run.stress is not None:
        best = _largest_stress(run)
        if best:
            from engine.report.figures import STRESS_METRICS

            label = {m: lab for m, lab, _ in STRESS_METRICS}.get(best["metric"], best["label"])
            cards.append(H.card(f"Worst stress: {best['scenario']}", None, f"{H.e(label)}: {H.e(best['base_text'])} → {H.e(best['stress_text'])} "
                                f"(Δ {H.e(best['delta_text'])} {H.e(best['se_text'])}, CRN)", big_text=best["delta_text"]))
    else:
        cards.append(H.card("Stresses", None, "none given: run <code>rackrisk stress</code> and pass its folder with <code>--stress</code>", big_text="not run"))
    cards.append(H.card("NPV at the cost of capital (mean)", r("usd_m", "fleet", "npv_usd", "mean"),
                        f"5th percentile: {_inline(r('usd_m', 'fleet', 'npv_usd', 'p05'))}"))
    return '<div class="cards">' + "".join(cards) + "</div>"


def _stress_kind(metric: str) -> str:
    return "pct" if metric.startswith("p_") else "usd_m" if "usd" in metric else "ratio" if "dscr" in metric else "text"


def _f(x: str) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if v == v else None


def _stress_rows(run: RunFolder) -> list[dict]:
    """comparison.csv rows with a CRN SE (the metrics with a per-path form), formatted."""
    out = []
    for r in run.stress.rows:
        se = _f(r.get("se_delta_crn"))
        if se is None:
            continue
        kind = _stress_kind(r["metric"])
        d = _f(r["delta"])
        dtext = fmt.value(d, kind) if kind != "text" else r["delta"]
        if d is not None and d > 0 and kind != "text":
            dtext = "+" + dtext
        out.append({"scenario": r["scenario"], "label": r.get("label") or r["metric"], "metric": r["metric"], "delta": d, "kind": kind,
                    "base_text": fmt.value(_f(r["base"]), kind) if kind != "text" else r["base"],
                    "stress_text": fmt.value(_f(r["stress"]), kind) if kind != "text" else r["stress"],
                    "delta_text": dtext, "se_text": fmt.se(se, kind) if kind != "text" else f"± {se:g}", "key": r.get("summary_key", "")})
    return out


def _largest_stress(run: RunFolder) -> dict | None:
    rows = [r for r in _stress_rows(run) if r["metric"].startswith("expected_impairment_loss_usd") and r["delta"] is not None]
    return max(rows, key=lambda r: abs(r["delta"]), default=None)


def _credit_table(s: dict) -> str:
    c = s["credit"]
    rows = []
    for f in list(c["facilities"]) + ["portfolio"]:
        base = ("credit", "facilities", f) if f != "portfolio" else ("credit", "portfolio")
        cells = [stat_row(s, "", "", "pct", *base, "p_covenant_breach", "horizon"), stat_row(s, "", "", "pct", *base, "p_default", "horizon"),
                 stat_row(s, "", "", "usd_m", *base, "expected_credit_loss_usd"), stat_row(s, "", "", "usd_m", *base, "credit_loss_quantiles_usd", "p99"),
                 stat_row(s, "", "", "ratio", *base, "min_tested_dscr", "p05"), stat_row(s, "", "", "pct", *base, "max_tested_ltv_frac", "p95")]
        rows.append((f if f != "portfolio" else "portfolio (any facility)", cells))
    return H.grid_table(["Facility", "P(covenant breach)", "P(default)", "Expected credit loss", "Credit loss p99", "Lowest tested DSCR, p05", "Highest tested LTV, p95"],
                        rows, "credit-table")


def _covenants(scenario: dict) -> dict[str, dict]:
    return {f["name"]: (f.get("covenants") or {}) for f in scenario.get("financing", {}).get("facility", [])}


def build_pages(run: RunFolder) -> tuple[str, dict[str, bytes], str]:
    """(html text, PNG files name -> bytes, headline.csv text) for a loaded run folder."""
    from engine.report import figures, words
    from engine.report.sources import scenario_sources

    s, ds, sc = run.summary, run.ds, run.scenario
    prov = s["provenance"]
    end = headline._horizon_end(s["run"])
    rows = headline.headline_rows(s)
    launches = words.launch_months(sc, ds)
    pngs: dict[str, bytes | None] = {
        "impairment_by_quarter.png": figures.impairment_by_quarter(ds),
        "loss_distribution.png": figures.loss_distribution(ds, s),
        "book_vs_value_in_use.png": figures.book_vs_value_in_use(ds),
        "rental_prices.png": figures.rental_prices(ds, launches),
        "tco.png": figures.tco(s),
    }
    if "credit" in s:
        pngs["credit_dscr_ltv.png"] = figures.credit_fans(ds, _covenants(sc))
        pngs["credit_breach.png"] = figures.credit_breach(ds)
    if run.stress is not None:
        pngs["stress_deltas.png"] = figures.stress_deltas(run.stress.rows)
        pngs.update({f"stress_{k}": v for k, v in run.stress.pngs.items()})
    if run.sensitivity is not None:
        pngs.update({f"sensitivity_{k}": v for k, v in run.sensitivity.pngs.items()})

    stds = list(s["run"]["standards"])
    sections: list[tuple[str, str, str]] = []
    notes = "".join(f'<p class="warn">{H.e(n)}</p>' for n in run.notes)
    sections.append(("glance", "At a glance", notes + _glance(run, end) +
                     '<p class="note">Every figure is a Monte Carlo estimate with its standard error (±); probabilities of exactly 0 or 1 have SE 0: read them as "below about 1/paths".</p>'))
    pol = s.get("accounting_policy")
    if pol:  # the policy that makes the headline, in words, beside it (methodology "Why the number is what it is")
        basis = "; ".join(f"{c}: {b}" for c, b in pol.get("fair_value_basis", {}).items())
        sections.append(("policy", "The accounting policy behind the number",
                         "<ul>" + "".join(f"<li>{H.e(line)}</li>" for line in pol.get("in_words", [])) + f"<li>fair value basis by cohort: {H.e(basis)}</li></ul>" +
                         '<p class="note">Each choice is the most common practice, cited in docs/methodology.md ("Why the number is what it is"); '
                         'the headline table shows the same paths under the defensible alternatives (summary.json policy_range).</p>'))
    sections.append(("headline", "Headline figures", H.headline_table(rows) +
                     f'<p class="note">The same table: <span class="mono">{REPORT_DIR}/headline.csv</span> (values with every digit, as in summary.json).</p>'))
    coh_header = ["Cohort"] + [h for st in stds for h in (f"P(impaired) {STD[st]}", f"E[loss] {STD[st]}", f"Median first impairment {STD[st]}")] + ["TCO / delivered GPU-h", "NPV (mean)"]
    sections.append(("cohorts", "By cohort", H.grid_table(coh_header, headline.cohort_rows(s), "cohort-table") +
                     f'<p class="note">P(impaired) by {H.e(end)}; E[loss] is the mean total impairment loss over all paths; median first impairment over impaired paths.</p>'))
    sections.append(("impairment", "Impairment probability by quarter", H.figure(pngs["impairment_by_quarter.png"], "impairment probability by quarter",
                     "P(the cohort's first impairment is at or before the quarter end), all paths, bands ±1.96 SE (results.nc: p_impaired_by_month, fleet_p_impaired_by_month).")))
    sections.append(("loss", "Loss distribution", H.figure(pngs["loss_distribution.png"], "impairment loss distribution",
                     "Fleet total impairment loss per path (sum over cohorts; results.nc: impairment_loss_usd); lines: the mean and 95th percentile of summary.json.",
                     missing="This run kept no per-path results (store = \"summary\"): the loss quantiles are in the headline table.")))
    sections.append(("book", "Book value against value in use", H.figure(pngs["book_vs_value_in_use.png"], "book value against value in use",
                     "Fleet carrying amount after depreciation and impairment, and fleet value in use (IAS 36 forecast at the VIU rate), month ends (results.nc: fleet_carrying_amount_usd_fan, fleet_value_in_use_usd_fan).")))
    lt = "; ".join(
        f"{L['generation']}{' (cadence)' if L.get('cadence') else ''}: median {L['p50_months']:.1f} months after the start "
        f"(5-95 %: {L['p05_months']:.1f} to {L['p95_months']:.1f}{'; rough, from the distributions’ bounds' if L.get('approximate') else ''})"
        for L in launches)
    sections.append(("prices", "Rental prices", H.figure(pngs["rental_prices.png"], "rental price fan by generation",
                     f"On-demand market price per GPU-hour (results.nc: price_usd_per_gpu_hour_fan). Launches: {lt or 'none in the scenario'}.")))
    tco_rows = [(c, [stat_row(s, "", "", "usd_per_hour", "cohorts", c, k, "mean") for k in ("tco_usd_per_gpu_hour", "tco_usd_per_delivered_gpu_hour", "tco_annuity_usd_per_delivered_gpu_hour")])
                for c in s["run"]["cohorts"]]
    tco_rows.append(("fleet", [stat_row(s, "", "", "usd_per_hour", "fleet", k, "mean") for k in ("tco_usd_per_gpu_hour", "tco_usd_per_delivered_gpu_hour", "tco_annuity_usd_per_delivered_gpu_hour")]))
    sections.append(("tco", "Cost per GPU-hour", H.figure(pngs["tco.png"], "TCO per GPU-hour", "Means with whiskers from the 5th to the 95th percentile over paths (summary.json).") +
                     H.grid_table(["", "per available GPU-hour", "per delivered GPU-hour", "per delivered GPU-hour (annuity)"], tco_rows, "tco-table") +
                     '<p class="note">Straight line: capital charged as depreciation; annuity: capital recovered at the cost of capital (methodology §11). Delivered = hours sold.</p>'))
    if "credit" in s:
        sections.append(("credit", "Credit", _credit_table(s) +
                         H.figure(pngs["credit_breach.png"], "covenant breach and default by quarter", "All paths; bands ±1.96 SE (results.nc: credit_p_covenant_breach_by_quarter, credit_p_default_by_quarter).") +
                         H.figure(pngs["credit_dscr_ltv.png"], "DSCR and LTV fans", f"Quantiles at quarter ends over the first {s['credit'].get('fan_paths', '')} paths where the loan is outstanding (results.nc: credit_dscr_fan, credit_ltv_frac_fan).")))
    if run.stress is not None:
        srows = _stress_rows(run)
        table = H.plain_table(["Scenario", "Figure", "Baseline", "Stress", "Δ", "SE of Δ (CRN)"],
                              [[r["scenario"], r["label"], r["base_text"], r["stress_text"], r["delta_text"], r["se_text"]] for r in srows], "stress-table", num_cols=(2, 3, 4, 5))
        own = [k for k in pngs if k.startswith("stress_") and k != "stress_deltas.png" and pngs[k] is not None]
        imgs = H.figure(pngs.get("stress_deltas.png"), "stress minus baseline", "Δ per stress scenario from comparison.csv; intervals ±1.96 paired (CRN) SE.")
        if own:
            imgs += (f"<details><summary>The stress command's own plots ({len(own)})</summary><div class=\"grid2\">"
                     + "".join(H.figure(pngs[k], k, f"{k[len('stress_'):]} from {run.stress.path}") for k in own) + "</div></details>")
        sections.append(("stress", "Stress comparison", f'<p class="note">From {H.e(run.stress.path)} (rackrisk stress; common random numbers, paired SE). '
                                                         f'Probabilities\' Δ in percentage points. Every figure: comparison.csv there.</p>' + imgs + table))
    if run.sensitivity is not None:
        doc = run.sensitivity.doc
        inner = f'<p class="note">From {H.e(run.sensitivity.path)} (rackrisk sensitivity, metric {H.e(doc.get("provenance", {}).get("metric", ""))}).</p>'
        tor = doc.get("tornado")
        if tor:
            m = tor.get("rank_by")
            kind = _stress_kind(m or "")
            trs = [[t["input"], fmt.value(t["metrics"][m]["at_p10"], kind), fmt.value(t["metrics"][m]["at_p90"], kind), fmt.value(t["metrics"][m]["swing"], kind)]
                   for t in tor["rows"][:10] if m in t.get("metrics", {})]
            inner += "<h3>Tornado: the ten inputs that move the metric most</h3>" + H.plain_table(["Input", "Metric at input's p10", "at p90", "Swing"], trs, "tornado-table", num_cols=(1, 2, 3))
        inner += "".join(H.figure(v, k, f"{k[len('sensitivity_'):]} from {run.sensitivity.path}", narrow=True) for k, v in pngs.items() if k.startswith("sensitivity_"))
        sections.append(("sensitivity", "Sensitivity", inner))

    # the scenario in words
    fleet = words.fleet_rows(sc)
    ftab = H.plain_table(["Cohort", "Generation", "Bought", "GPUs", "Capex per GPU", "Capex", "Life", "Salvage"],
                         [[r["cohort"], r["generation"], r["purchase_month"], fmt.count(r["units"]), f"${r['capex_usd_per_gpu']:,.0f}", fmt.usd_m(r["capex_usd"]),
                           f"{r['useful_life_months']} months", fmt.pct_given(r["salvage_frac"])] for r in fleet]
                         + [["fleet", "", "", fmt.count(sum(r["units"] for r in fleet)), "", fmt.usd_m(sum(r["capex_usd"] for r in fleet)), "", ""]],
                         "fleet-table", num_cols=(3, 4, 5, 6, 7))
    sources = scenario_sources(list(prov.get("scenario_files_read", [])))
    arows = words.assumption_rows(sc, sources, ds)
    atab = H.plain_table(["Group", "Assumption", "As written in the scenario", "Drawn on this run: median (90% range)", "Source (the scenario file's comment)"],
                         [[r["group"], r["label"], r["value"], r["drawn"], r["source"]] for r in arows], "assumptions-table", classes={4: "src"})
    priors = posterior_attrs(dict(prov.get("posterior_files", {})))
    ptab = (H.plain_table(["Posterior file", "Model", "Data as of", "Fitted (UTC)", "Gate", "Seed", "Data files (SHA-256)", "Status"],
                          [[Path(p["file"]).name, p["model"], p["as_of"], p["created_utc"], p["gate"], p["seed"],
                            ", ".join(f"{k} {v[:12]}" for k, v in p["data_sha256"].items()), p["status"]] for p in priors], "priors-table")
            if priors else '<p class="note">No fitted priors: every input is a number or a parametric distribution.</p>')
    sections.append(("scenario", "The scenario in words", f"<p>{H.e(words.overview(sc, s))}</p><h3>Fleet by cohort</h3>{ftab}"
                     f"<h3>Key assumptions and their sources</h3>{atab}<h3>Priors used (PyMC posteriors) and when they were fitted</h3>{ptab}"))

    # provenance
    files = [(n, _sha256(run.path / n)) for n in ("results.nc", "summary.json", "scenario.resolved.toml")]
    prow = [["engine", f"{prov.get('engine', 'rackrisk')} {prov.get('engine_version', '')} (git {prov.get('engine_git_sha', 'unknown')})"],
            ["report built by", f"rackrisk {__version__}, {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}"],
            ["run folder", str(run.path)],
            ["seed, paths, dtype", f"{prov.get('seed')}, {fmt.count(prov.get('paths'))}, {prov.get('dtype')}"],
            ["fan charts", f"first {ds.attrs.get('fan_paths', '')} paths (store = {ds.attrs.get('store', '')})"],
            ["JAX", f"{prov.get('jax_version')} on {prov.get('jax_backend')}; Python {prov.get('python_version')}"],
            ["scenario file", str(prov.get("scenario_file"))],
            ["files read (extends chain)", ", ".join(map(str, prov.get("scenario_files_read", [])))],
            ["scenario SHA-256 (resolved)", str(prov.get("scenario_sha256"))],
            *[[f"{n} SHA-256", h] for n, h in files],
            *[[f"posterior {Path(p).name} SHA-256", h] for p, h in prov.get("posterior_files", {}).items()],
            *([["stress folder", f"{run.stress.path} (engine git {run.stress.provenance.get('engine_git_sha', '?')}, created {run.stress.provenance.get('created_utc', '?')})"]] if run.stress else []),
            *([["sensitivity folder", f"{run.sensitivity.path} (created {run.sensitivity.doc.get('provenance', {}).get('created_utc', '?')})"]] if run.sensitivity else [])]
    sections.append(("provenance", "Provenance", H.plain_table(["What", "Value"], prow, "provenance-table", classes={1: "mono"}) +
                     f'<p class="note">Reproduce: <span class="mono">rackrisk run {H.e(run.path / "scenario.resolved.toml")}</span> gives the same summary.json.</p>'))

    nav = [(i, h) for i, h, _ in sections]
    title = f"rackrisk report: {sc.get('title', run.path.name)}"
    sub = [H.e(f"Valued from {s['run']['start_month']} to {end} · {fmt.count(s['run']['paths'])} paths · seed {s['run']['seed']} · "
               f"{' and '.join(STD[x] for x in stds)} · run folder {run.path.name}")]
    footer = (f"Formatting: $ in millions with thousands separators; percentages with one decimal; ± is one Monte Carlo standard error. "
              f"Definitions: docs/report.md, docs/outputs.md, docs/methodology.md. rackrisk {H.e(__version__)}.")
    text = H.page(title, sub, nav, sections, footer)
    return text, {k: v for k, v in pngs.items() if v is not None}, headline.csv_text(rows)


def build_report(run_dir: str | Path, *, stress: str | Path | None = None, sensitivity: str | Path | None = None) -> Path:
    """Write ``run_dir/report.html`` and ``run_dir/report/`` (PNGs, headline.csv); return the HTML path.

    Raises ScenarioError (nothing written) when the folder is not a readable run folder."""
    run = load_run(run_dir, stress=stress, sensitivity=sensitivity)
    text, pngs, csv = build_pages(run)
    out = Path(run_dir)
    fd, tmp_html = tempfile.mkstemp(prefix=f".{REPORT_HTML}.", suffix=".tmp", dir=out)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp_html, 0o644)
        with atomic_dir(out / REPORT_DIR, force=True) as tmp:
            os.chmod(tmp, 0o755)
            for name, data in pngs.items():
                (tmp / name).write_bytes(data)
            (tmp / "headline.csv").write_text(csv)
        os.replace(tmp_html, out / REPORT_HTML)
    except OSError as exc:
        Path(tmp_html).unlink(missing_ok=True)
        raise ScenarioError(str(out), "", f"cannot write the report ({type(exc).__name__}: {exc})") from None
    except BaseException:
        Path(tmp_html).unlink(missing_ok=True)
        raise
    return out / REPORT_HTML
