"""What ``rackrisk sensitivity`` prints and how its charts label a metric: the report's number formats
(engine/report/fmt.py: ``$177.8m``, ``12.3%``, ``$1.68``), and the warnings of a Sobol sample too
small for its indices.

``metric_kind(name)`` picks the format from the metric's name (``p_*`` a probability, ``*_usd`` money,
``*_usd_per_*gpu_hour`` a price); ``fmt_metric(value, name)`` formats one value; ``money_axis(ax, name)``
sets a matplotlib axis to that format (no ``1e8`` offset). ``sobol_warnings(res, n_groups)`` lists,
in words, what makes a Sobol result unreliable, and the sample size N that would bring the largest
bootstrap SE to ``SOBOL_TARGET_SE``.
"""

from __future__ import annotations

import math

from engine.report.fmt import NA, value

SOBOL_TARGET_SE = 0.05  # bootstrap SE of an index at which the ranking of indices a few tenths apart is reliable
SOBOL_MIN_N = 512  # below this base sample the estimators' sampling error dominates (Saltelli et al. 2010: N of several hundred at least)


def metric_kind(name: str) -> str:
    """engine/report/fmt.py kind for a metric name: ``pct``, ``usd_m``, ``usd_per_hour`` or ``number``."""
    base = name.split(".")[0]
    if base.startswith("p_"):
        return "pct"
    if "_usd_per_" in base and "gpu_hour" in base:
        return "usd_per_hour"
    if base.endswith("_usd") or "_usd_" in base:
        return "usd_m"
    return "number"


def fmt_metric(x: float | None, name: str) -> str:
    kind = metric_kind(name)
    if kind == "number":
        return NA if x is None or not math.isfinite(x) else f"{x:,.4g}"
    return value(x, kind)


def money_axis(ax, name: str, axis: str = "x") -> None:
    """Format ``ax``'s ``axis`` ticks as the metric is printed (``$178m``, ``12%``), with no offset text."""
    from matplotlib.ticker import FuncFormatter

    kind = metric_kind(name)
    target = ax.xaxis if axis == "x" else ax.yaxis
    if kind == "usd_m":
        target.set_major_formatter(FuncFormatter(lambda v, _: f"-${abs(v) / 1e6:,.1f}m" if v < 0 else f"${v / 1e6:,.1f}m"))
    elif kind == "pct":
        target.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.1f}%"))
    elif kind == "usd_per_hour":
        target.set_major_formatter(FuncFormatter(lambda v, _: f"${v:,.2f}"))
    else:
        target.get_major_formatter().set_useOffset(False)


def sobol_warnings(res: dict) -> list[str]:
    """Warnings, in words, about one metric's Sobol result (engine/sensitivity/sobol.py ``sobol``); [] when none."""
    N = int(res["N"])
    out = []
    if not (res.get("variance") or 0) > 0:
        return [f"the metric does not vary over the {2 * N:,} sampled paths: its Sobol indices are undefined (0/0); use more paths or another metric"]
    s1, st = res["S1"], res["ST"]
    se = max([x for x in (*res["S1_se"], *res["ST_se"]) if x is not None and math.isfinite(x)] or [0.0])
    if N < SOBOL_MIN_N:
        out.append(f"N = {N:,} rows is a small Sobol sample (at least {SOBOL_MIN_N:,} recommended)")
    s1 = [math.nan if v is None else v for v in s1]
    st = [math.nan if v is None else v for v in st]
    neg = [i for i, v in enumerate(s1) if v < 0]
    if neg:
        out.append(f"{len(neg)} first-order index(es) are negative: an index is a share of variance (>= 0), so these are sampling error")
    over = [i for i in range(len(s1)) if s1[i] > st[i]]
    if over:
        out.append(f"{len(over)} first-order index(es) exceed their total index (S1 <= ST by definition): sampling error")
    need = None
    if se > SOBOL_TARGET_SE:
        need = max(SOBOL_MIN_N, int(math.ceil(N * (se / SOBOL_TARGET_SE) ** 2)))
    elif N < SOBOL_MIN_N:
        need = SOBOL_MIN_N
    if need is not None:
        out.append(f"the largest bootstrap SE is {se:.2f}; about N = {need:,} rows would bring it to {SOBOL_TARGET_SE} or below (SE falls as "
                   f"1/sqrt(N)): --sobol-paths {need:,}, i.e. {need * (len(s1) + 2):,} paths evaluated (N x (groups + 2))")
    return out


def print_rankings(doc: dict, metric: str) -> None:
    """The terminal summary of a sensitivity.json document: tornado, elasticities, Sobol indices (with warnings)."""
    if "tornado" in doc:
        print(f"tornado ({metric}, swing p10 -> p90; base {fmt_metric(doc['tornado']['base'].get(metric), metric)}):")
        for r in doc["tornado"]["rows"][:10]:
            m = r["metrics"][metric]
            print(f"  {r['input']:55s} {fmt_metric(m['at_p10'], metric):>16} -> {fmt_metric(m['at_p90'], metric):<16} swing {fmt_metric(m['swing'], metric)}")
    if "gradients" in doc:
        for name, g in doc["gradients"]["metrics"].items():
            print(f"elasticities of {name} (value {fmt_metric(g['value'], name)}):")
            for r in g["rows"][:6]:
                print(f"  {r['input']:55s} {r['elasticity']:+.4f} +- {r['elasticity_se']:.4f}")
            print("  per one-sd shift of the input (ranks like the tornado / Sobol indices):")
            for r in sorted(g["rows"], key=lambda r: -abs(r["dM_per_sd"]))[:6]:
                print(f"  {r['input']:55s} {fmt_metric(r['dM_per_sd'], name):>16} +- {fmt_metric(r['dM_per_sd_se'], name)}")
    if "sobol" in doc and metric in doc["sobol"]["metrics"]:
        res = doc["sobol"]["metrics"][metric]
        print(f"Sobol indices of {metric} (first order, total; 95 % bootstrap CI; N = {res['N']:,} rows):")
        for i in sorted(range(len(res["ST"])), key=lambda i: -res["ST"][i]):
            print(f"  {doc['sobol']['groups'][i]['name']:55s} S1 {res['S1'][i]:+.3f} [{res['S1_ci'][i][0]:+.3f}, {res['S1_ci'][i][1]:+.3f}]"
                  f"  ST {res['ST'][i]:.3f} [{res['ST_ci'][i][0]:.3f}, {res['ST_ci'][i][1]:.3f}]")
        for w in res.get("warnings", []):
            print(f"  warning: {w}")
