"""The report's figures: matplotlib (Agg) figures returned as PNG bytes, one function per figure.

Inputs are the run's results.nc Dataset (``ds``, xarray) and summary.json (``summary``); every
number plotted is read from them (fans over the first ``fan_paths`` paths, probabilities over all
paths, TCO statistics from summary.json). A function returns None when the run holds nothing to
plot (e.g. per-path losses with ``store = "summary"``). Money is shown in $ millions.
"""

from __future__ import annotations

import io

import numpy as np

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]
STD_LABEL = {"asc360": "ASC 360", "ias36": "IAS 36"}
DPI = 110


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.titlesize": 10, "axes.spines.top": False, "axes.spines.right": False,
                         "axes.grid": True, "grid.alpha": 0.25, "legend.fontsize": 8, "legend.frameon": False})
    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    _plt().close(fig)
    return buf.getvalue()


def _months(ds):
    return np.asarray(ds["month"].values).astype("datetime64[D]").astype(object)


def _pct_axis(ax, top=None):
    from matplotlib.ticker import PercentFormatter

    top = top if top is not None else 1.02
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0 if top > 0.3 else 1))
    ax.set_ylim(0, top)


def _usd_m_axis(ax):
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v / 1e6:,.0f}m"))


def impairment_by_quarter(ds) -> bytes:
    """P(impaired by each quarter end) per cohort and for the fleet, one panel per standard, ±1.96 SE bands."""
    plt = _plt()
    stds = [str(s) for s in ds["standard"].values]
    months = np.asarray(ds["month"].values).astype("datetime64[M]")
    q_idx = np.flatnonzero((months.astype(int) % 12) % 3 == 2)  # Mar, Jun, Sep, Dec
    x = months[q_idx].astype("datetime64[D]").astype(object)
    fig, axes = plt.subplots(1, len(stds), figsize=(5.4 * len(stds), 3.6), sharey=True, squeeze=False)
    for ax, s in zip(axes[0], stds):
        for i, c in enumerate(ds["cohort"].values):
            p = ds["p_impaired_by_month"].sel(standard=s, cohort=c).values[q_idx]
            se = ds["p_impaired_by_month_se"].sel(standard=s, cohort=c).values[q_idx]
            ax.plot(x, p, marker="o", ms=2.5, lw=1.4, color=COLORS[i % len(COLORS)], label=str(c))
            ax.fill_between(x, np.clip(p - 1.96 * se, 0, 1), np.clip(p + 1.96 * se, 0, 1), color=COLORS[i % len(COLORS)], alpha=0.15, lw=0)
        pf = ds["fleet_p_impaired_by_month"].sel(standard=s).values[q_idx]
        ax.plot(x, pf, color="black", lw=2.2, ls="--", label="fleet (any cohort)")
        ax.set_title(f"{STD_LABEL.get(s, s)}: P(first impairment by the quarter end)")
        _pct_axis(ax)
    h, lab = axes[0][0].get_legend_handles_labels()
    fig.legend(h, lab, loc="lower center", ncol=min(len(lab), 6), bbox_to_anchor=(0.5, -0.01))
    fig.autofmt_xdate()
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return _png(fig)


def loss_distribution(ds, summary: dict) -> bytes | None:
    """Histogram of the fleet's total impairment loss over paths with a loss, per standard; mean and 95th percentile from summary.json marked."""
    if "impairment_loss_usd" not in ds.data_vars:
        return None
    plt = _plt()
    stds = [str(s) for s in ds["standard"].values]
    fig, axes = plt.subplots(1, len(stds), figsize=(5.4 * len(stds), 3.4), sharey=False, squeeze=False)
    for ax, s in zip(axes[0], stds):
        loss = np.asarray(ds["impairment_loss_usd"].sel(standard=s).sum("cohort").values, dtype=np.float64)
        pos = loss[loss > 0] / 1e6
        if pos.size:
            ax.hist(pos, bins=50, color="#4c72b0", alpha=0.8)
        f = summary["fleet"]
        mean = (f.get(f"expected_impairment_loss_usd_{s}") or {}).get("value")
        p95 = ((f.get(f"impairment_loss_quantiles_usd_{s}") or {}).get("p95") or {}).get("value")
        for v, name, ls in ((mean, "mean (all paths)", "-"), (p95, "95th percentile", "--")):
            if v is not None:
                ax.axvline(v / 1e6, color="#c44e52", ls=ls, lw=1.5, label=f"{name}: ${v / 1e6:,.1f}m")
        share0 = float(np.mean(loss <= 0))
        ax.set_title(f"{STD_LABEL.get(s, s)}: fleet impairment loss on paths with a loss")
        ax.set_xlabel("total impairment loss over the horizon, $ millions")
        ax.text(0.98, 0.70, f"{share0:.1%} of paths: no loss (not shown)", transform=ax.transAxes, ha="right", fontsize=8, color="#444444")
        ax.set_ylabel("paths")
        ax.legend(loc="upper right")
    return _png(fig)


def book_vs_value_in_use(ds) -> bytes:
    """Book value (carrying amount, median per standard, and its 5th percentile) against value in use (fan), by month: the fleet and each cohort."""
    plt = _plt()
    x = _months(ds)
    cohorts = [str(c) for c in ds["cohort"].values]
    panels = [("fleet", ds["fleet_value_in_use_usd_fan"], ds["fleet_carrying_amount_usd_fan"])]
    panels += [(c, ds["value_in_use_usd_fan"].sel(cohort=c), ds["carrying_amount_usd_fan"].sel(cohort=c)) for c in cohorts]
    cols = len(panels) if len(panels) <= 4 else min(4, -(-len(panels) // 2))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols + 0.8, 2.7 * rows), sharex=True, squeeze=False)
    styles = {"asc360": ("#1f3b73", "-"), "ias36": ("#d17a00", "--")}
    for k, (name, viu, ca) in enumerate(panels):
        ax = axes[k // cols][k % cols]
        ax.fill_between(x, viu.sel(quantile=0.05).values, viu.sel(quantile=0.95).values, color="#2ca02c", alpha=0.15, lw=0, label="value in use, 5-95 %")
        ax.fill_between(x, viu.sel(quantile=0.25).values, viu.sel(quantile=0.75).values, color="#2ca02c", alpha=0.3, lw=0, label="value in use, 25-75 %")
        ax.plot(x, viu.sel(quantile=0.5).values, color="#2ca02c", lw=1.5, label="value in use, median")
        for s in (str(v) for v in ds["standard"].values):
            col, ls = styles.get(s, ("#555555", "-"))
            ax.plot(x, ca.sel(standard=s, quantile=0.5).values, color=col, lw=1.5, ls=ls, label=f"book value {STD_LABEL.get(s, s)}, median")
            ax.plot(x, ca.sel(standard=s, quantile=0.05).values, color=col, lw=0.8, ls=":", label=f"book value {STD_LABEL.get(s, s)}, 5th percentile")
        _usd_m_axis(ax)
        ax.set_ylim(bottom=0)
        ax.set_title(name, fontsize=9, fontweight="bold" if name == "fleet" else "normal")
    for k in range(len(panels), rows * cols):
        axes[k // cols][k % cols].axis("off")
    h, lab = axes[0][0].get_legend_handles_labels()
    fig.legend(h, lab, loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.02))
    fig.suptitle(f"Book value against value in use, month ends (quantiles over the first {ds.attrs.get('fan_paths', '')} paths)", fontsize=10)
    fig.autofmt_xdate()
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return _png(fig)


def rental_prices(ds, launches: list[dict]) -> bytes:
    """On-demand price fan per generation (5-95 %, 25-75 %, median), next-generation launches marked (median
    line, 5-95 % band; cadence launches dotted); launches whose 5 % month is past the horizon are left out."""
    plt = _plt()
    gens = [str(g) for g in ds["generation"].values]
    months = np.asarray(ds["month"].values).astype("datetime64[M]")
    launches = [L for L in launches if L["p05_months"] < len(months)]
    x = months.astype("datetime64[D]").astype(object)
    n = len(gens)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.9 * cols + 0.6, 2.8 * rows), sharex=True, squeeze=False)
    for k, g in enumerate(gens):
        ax = axes[k // cols][k % cols]
        f = ds["price_usd_per_gpu_hour_fan"].sel(generation=g)
        col = COLORS[k % len(COLORS)]
        ax.fill_between(x, f.sel(quantile=0.05).values, f.sel(quantile=0.95).values, color=col, alpha=0.15, lw=0)
        ax.fill_between(x, f.sel(quantile=0.25).values, f.sel(quantile=0.75).values, color=col, alpha=0.3, lw=0)
        ax.plot(x, f.sel(quantile=0.5).values, color=col, lw=1.6)
        top = float(np.nanmax(f.sel(quantile=0.95).values)) * 1.08
        for j, L in enumerate(launches):
            def at(m):
                return (months[0] + int(round(m))).astype("datetime64[D]").astype(object)
            ax.axvspan(at(L["p05_months"]), at(min(L["p95_months"], len(months) - 1)), color="#999999", alpha=0.12, lw=0)
            if L["p50_months"] < len(months):  # the median line only inside the horizon (the band is clipped to it)
                ax.axvline(at(L["p50_months"]), color="#555555", lw=1, ls=":" if L.get("cadence") else "--")
            if k == 0:
                ax.text(at(min(L["p50_months"], len(months) - 1)), top * (0.97 - 0.1 * j), f" {L['generation']}", fontsize=7.5, color="#333333", va="top")
        ax.set_ylim(0, top)
        ax.set_title(f"{g}: $ per GPU-hour")
    for k in range(n, rows * cols):
        axes[k // cols][k % cols].axis("off")
    fig.suptitle("On-demand rental price by generation: median, 25-75 % and 5-95 % (dashed: next-generation launch, median; dotted: a cadence launch; grey: its 5-95 % window)", fontsize=9.5)
    fig.autofmt_xdate()
    fig.tight_layout()
    return _png(fig)


def tco(summary: dict) -> bytes:
    """Mean TCO per available and per delivered GPU-hour (straight line) and per delivered GPU-hour (annuity), by cohort and for the fleet; whiskers = 5th-95th percentile over paths (summary.json)."""
    plt = _plt()
    names = list(summary["run"]["cohorts"]) + ["fleet"]
    blocks = [summary["cohorts"][c] for c in summary["run"]["cohorts"]] + [summary["fleet"]]
    series = [("tco_usd_per_gpu_hour", "per available GPU-hour", "#8fb3d9"), ("tco_usd_per_delivered_gpu_hour", "per delivered GPU-hour", "#1f5a99"),
              ("tco_annuity_usd_per_delivered_gpu_hour", "per delivered GPU-hour, annuity capital charge", "#e08a2c")]
    fig, ax = plt.subplots(figsize=(10.5, 3.6))
    w = 0.26
    xs = np.arange(len(names))
    for j, (key, label, col) in enumerate(series):
        def get(b, q):
            v = ((b.get(key) or {}).get(q) or {}).get("value")
            return np.nan if v is None else float(v)
        mean = np.array([get(b, "mean") for b in blocks])
        lo = np.array([get(b, "p05") for b in blocks])
        hi = np.array([get(b, "p95") for b in blocks])
        pos = xs + (j - 1) * w
        ax.bar(pos, mean, w, color=col, label=f"{label} (mean)")
        ax.errorbar(pos, mean, yerr=[np.clip(mean - lo, 0, None), np.clip(hi - mean, 0, None)], fmt="none", ecolor="#333333", lw=0.9, capsize=2)
        for p_, m_ in zip(pos, mean):
            if np.isfinite(m_):
                ax.text(p_, m_ * 0.5, f"${m_:.2f}", ha="center", va="center", fontsize=7, color="white", rotation=90)
    ax.set_xticks(xs, names)
    ax.set_ylabel("$ per GPU-hour")
    ax.set_title("Total cost of ownership per GPU-hour (whiskers: 5th-95th percentile over paths)")
    ax.legend(loc="upper left", ncol=3)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.12)
    return _png(fig)


def _facility_quarter_axis(ds) -> tuple[list[str], list[str], np.ndarray]:
    """The credit charts' facilities, quarter labels and x positions 0..Q-1, from results.nc's coordinates."""
    quarters = [str(q) for q in ds["quarter"].values]
    return [str(f) for f in ds["facility"].values], quarters, np.arange(len(quarters))


def credit_fans(ds, covenants: dict[str, dict]) -> bytes | None:
    """DSCR and LTV fans by quarter per facility (quantiles over the fan paths where defined), covenant levels marked."""
    if "credit_dscr_fan" not in ds.data_vars:
        return None
    plt = _plt()
    facs, quarters, xi = _facility_quarter_axis(ds)
    fig, axes = plt.subplots(2, len(facs), figsize=(max(2.6 * len(facs), 6), 5.2), sharex=True, squeeze=False)
    for k, f in enumerate(facs):
        for r, (var, label, cov_key) in enumerate((("credit_dscr_fan", "DSCR", "min_dscr"), ("credit_ltv_frac_fan", "LTV", "max_ltv_frac"))):
            ax = axes[r][k]
            fan = ds[var].sel(facility=f)
            lo, q25, med, q75, hi = (fan.sel(quantile=q).values for q in (0.05, 0.25, 0.5, 0.75, 0.95))
            ax.fill_between(xi, lo, hi, color="#1f77b4", alpha=0.15, lw=0)
            ax.fill_between(xi, q25, q75, color="#1f77b4", alpha=0.3, lw=0)
            ax.plot(xi, med, color="#1f77b4", lw=1.5)
            lim = (covenants.get(f) or {}).get(cov_key)
            if lim is not None:
                ax.axhline(lim, color="#c44e52", ls="--", lw=1.2)
                ax.text(xi[-1], lim, f"covenant {lim:g}" if r == 0 else f"covenant {lim:.0%}", color="#c44e52", fontsize=7, ha="right", va="bottom")
            if r == 1:
                _pct_axis(ax, top=max(1.2, float(np.nanmax(hi)) * 1.05) if np.isfinite(hi).any() else 1.2)
            else:
                finite = hi[np.isfinite(hi)]
                ax.set_ylim(0, min(max(3.0, float(finite.max()) * 1.05) if finite.size else 3.0, 6.0))
            ax.set_title(f"{f}: {label}", fontsize=8.5)
            step = max(1, len(quarters) // 6)
            ax.set_xticks(xi[::step], [quarters[i] for i in xi[::step]], rotation=45, fontsize=7)
    fig.suptitle("DSCR (top) and LTV (bottom) at quarter ends: median, 25-75 %, 5-95 % over the fan paths still outstanding (dashed red: covenant; DSCR above 6 cut off)", fontsize=9.5)
    fig.tight_layout()
    return _png(fig)


def credit_breach(ds) -> bytes | None:
    """P(covenant breach by quarter end) and P(default by quarter end) per facility, ±1.96 SE bands."""
    if "credit_p_covenant_breach_by_quarter" not in ds.data_vars:
        return None
    plt = _plt()
    facs, quarters, xi = _facility_quarter_axis(ds)
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.4), sharey=True)
    top = max(float(np.nanmax(ds[v].values + 1.96 * ds[f"{v}_se"].values)) for v in ("credit_p_covenant_breach_by_quarter", "credit_p_default_by_quarter"))
    for ax, (var, title) in zip(axes, (("credit_p_covenant_breach_by_quarter", "P(first covenant breach by the quarter end)"),
                                       ("credit_p_default_by_quarter", "P(default by the quarter end)"))):
        for i, f in enumerate(facs):
            p = ds[var].sel(facility=f).values
            se = ds[f"{var}_se"].sel(facility=f).values
            ax.plot(xi, p, color=COLORS[i % len(COLORS)], lw=1.5, label=f)
            ax.fill_between(xi, np.clip(p - 1.96 * se, 0, 1), np.clip(p + 1.96 * se, 0, 1), color=COLORS[i % len(COLORS)], alpha=0.15, lw=0)
        _pct_axis(ax, top=min(1.02, max(0.05, top * 1.15)))
        ax.set_title(title)
        step = max(1, len(quarters) // 8)
        ax.set_xticks(xi[::step], [quarters[i] for i in xi[::step]], rotation=45, fontsize=7.5)
    axes[0].legend(loc="upper left")
    return _png(fig)


STRESS_METRICS = (("p_impairment_asc360", "P(impaired by the horizon), ASC 360", "pp"), ("p_impairment_ias36", "P(impaired by the horizon), IAS 36", "pp"),
                  ("expected_impairment_loss_usd_asc360", "E[impairment loss], ASC 360", "usd_m"), ("expected_impairment_loss_usd_ias36", "E[impairment loss], IAS 36", "usd_m"),
                  ("expected_npv_usd", "E[NPV]", "usd_m"), ("p_covenant_breach", "P(covenant breach), any facility", "pp"), ("p_default", "P(default), any facility", "pp"),
                  ("expected_credit_loss_usd", "E[credit loss]", "usd_m"))


def stress_deltas(rows: list[dict]) -> bytes | None:
    """Stress minus baseline per scenario for the headline metrics of comparison.csv, with 95 % CRN intervals (1.96 paired SE)."""
    plt = _plt()
    panels = []
    for metric, label, unit in STRESS_METRICS:
        sel = [r for r in rows if r.get("metric") == metric and r.get("delta") not in (None, "") and r.get("se_delta_crn") not in (None, "")]
        if sel:
            panels.append((label, unit, sel))
    if not panels:
        return None
    cols = min(len(panels), 3)
    nrows = -(-len(panels) // cols)
    n_sc = max(len(p[2]) for p in panels)
    fig, axes = plt.subplots(nrows, cols, figsize=(11, (0.45 * n_sc + 1.2) * nrows), squeeze=False)
    for k, (label, unit, sel) in enumerate(panels):
        ax = axes[k // cols][k % cols]
        scale = 100.0 if unit == "pp" else 1e-6
        d = np.array([float(r["delta"]) for r in sel]) * scale
        se = np.array([float(r["se_delta_crn"]) for r in sel]) * scale
        y = np.arange(len(sel))
        ax.barh(y, d, color=["#c44e52" if (v > 0) != ("npv" in label.lower()) else "#4c72b0" for v in d], height=0.6)
        ax.errorbar(d, y, xerr=1.96 * se, fmt="none", ecolor="#222222", capsize=3, lw=1)
        ax.set_yticks(y, [r["scenario"] for r in sel] if k % cols == 0 else [""] * len(sel))
        ax.axvline(0, color="#333333", lw=0.8)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("percentage points" if unit == "pp" else "$ millions")
        ax.invert_yaxis()
    for k in range(len(panels), nrows * cols):
        axes[k // cols][k % cols].axis("off")
    fig.suptitle("Stress minus baseline (common random numbers; bars: 95 % interval of the paired difference; red = worse)", fontsize=9.5)
    fig.tight_layout()
    return _png(fig)
