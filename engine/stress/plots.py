"""PNG plots of comparisons and sensitivities (matplotlib, Agg backend; imported only by the
stress and sensitivity commands, never by ``rackrisk run``)."""

from __future__ import annotations

from pathlib import Path


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def comparison_png(rows: list[dict], metric: str, path: Path, *, title: str) -> None:
    """Bar chart of Delta(metric) per stress scenario with +-1.96 SE error bars (CRN and independent)."""
    plt = _plt()
    sel = [r for r in rows if r["metric"] == metric]
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(sel) + 1.8))
    y = list(range(len(sel)))
    ax.barh(y, [r["delta"] for r in sel], color="#4477aa", xerr=[1.96 * r["se_delta_crn"] for r in sel], capsize=4, label="Delta, 95 % CI (CRN)")
    ax.errorbar([r["delta"] for r in sel], [v + 0.25 for v in y], xerr=[1.96 * r["se_delta_independent"] for r in sel], fmt="none",
                ecolor="#aa3377", capsize=3, label="95 % CI if runs were independent")
    ax.set_yticks(y, [r["scenario"] for r in sel])
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel(f"Delta {sel[0]['label'] if sel else metric} (stress - baseline)")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def tornado_png(rows: list[dict], path: Path, *, title: str, xlabel: str, base: float, metric: str | None = None) -> None:
    """Tornado: for each input (ranked), the metric at its p10 and p90 as a bar around the baseline; ticks in
    the metric's format (engine/sensitivity/text.py) when ``metric`` is given."""
    plt = _plt()
    rows = rows[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(rows) + 1.6))
    for i, r in enumerate(rows):
        ax.barh(i, r["at_p10"] - base, left=base, color="#4477aa", label="input at p10" if i == 0 else None)
        ax.barh(i, r["at_p90"] - base, left=base, color="#ee6677", alpha=0.8, label="input at p90" if i == 0 else None)
    ax.set_yticks(range(len(rows)), [r["input"] for r in rows], fontsize=7)
    ax.axvline(base, color="k", lw=0.8)
    ax.set_xlabel(xlabel)
    if metric is not None:
        from engine.sensitivity.text import money_axis

        money_axis(ax, metric)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def ranked_bars_png(names: list[str], values: list[float], errors: list[float] | None, path: Path, *, title: str, xlabel: str,
                    metric: str | None = None) -> None:
    """Horizontal ranked bars with optional +-1.96 SE error bars (elasticities, Sobol indices); bars in the units of
    ``metric`` (a change of it) are ticked in its format (engine/sensitivity/text.py)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(names) + 1.6))
    y = list(range(len(names)))[::-1]
    ax.barh(y, values, xerr=None if errors is None else [1.96 * e for e in errors], color="#228833", capsize=3)
    ax.set_yticks(y, names, fontsize=7)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel(xlabel)
    if metric is not None:
        from engine.sensitivity.text import money_axis

        money_axis(ax, metric)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def sobol_png(names: list[str], s1: list[float], s1_ci: list[tuple[float, float]], st: list[float], st_ci: list[tuple[float, float]], path: Path, *, title: str) -> None:
    """First-order and total Sobol indices with bootstrap 95 % intervals."""
    plt = _plt()
    import numpy as np

    fig, ax = plt.subplots(figsize=(9, 0.4 * len(names) + 1.6))
    y = np.arange(len(names))[::-1]
    err = lambda v, ci: np.array([[max(x - lo, 0) for x, (lo, _) in zip(v, ci)], [max(hi - x, 0) for x, (_, hi) in zip(v, ci)]])  # noqa: E731
    ax.barh(y + 0.2, s1, height=0.4, xerr=err(s1, s1_ci), color="#4477aa", capsize=2, label="first order S_i")
    ax.barh(y - 0.2, st, height=0.4, xerr=err(st, st_ci), color="#ccbb44", capsize=2, label="total S_Ti")
    ax.set_yticks(y, names, fontsize=7)
    ax.set_xlabel("share of variance")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
