"""Statistics over paths, each with its Monte Carlo standard error (host side, NumPy, float64).

Standard errors (as in ../shared/bench/SPEC.md):
    probability p over n paths:  sqrt(p (1 - p) / n)
    mean:                        sd / sqrt(n)   (sample sd, ddof = 1)
    quantile q:                  half the distance between the sample quantiles at
                                 q - sqrt(q (1 - q) / n) and q + sqrt(q (1 - q) / n)
                                 (the order-statistic interval of about +-1 sd of the rank)

All statistics come from per-path arrays gathered in path order, so they do not depend on the
chunk size. Monthly fans (quantiles by month) come from the first ``fan_paths`` paths.
"""

from __future__ import annotations

import math

import numpy as np

STANDARD_NAMES = ("asc360", "ias36")
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
LOSS_QUANTILES = (0.5, 0.95, 0.99)


def prob(flags: np.ndarray) -> dict:
    x = np.asarray(flags, dtype=np.float64)
    n = x.size
    p = float(x.mean()) if n else float("nan")
    return {"value": p, "se": math.sqrt(max(p * (1 - p), 0.0) / n) if n else float("nan")}


def mean(values: np.ndarray) -> dict:
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return {"value": float("nan"), "se": float("nan")}
    sd = float(x.std(ddof=1)) if n > 1 else 0.0
    return {"value": float(x.mean()), "se": sd / math.sqrt(n)}


def quantile(values: np.ndarray, q: float) -> dict:
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return {"value": float("nan"), "se": float("nan")}
    h = math.sqrt(q * (1 - q) / n)
    lo, mid, hi = np.quantile(x, [max(q - h, 0.0), q, min(q + h, 1.0)])
    return {"value": float(mid), "se": float(0.5 * (hi - lo))}


def distribution(values: np.ndarray, qs=QUANTILES) -> dict:
    out = {"mean": mean(values)}
    for q in qs:
        out[f"p{round(q * 100):02d}"] = quantile(values, q)
    return out


def first_month_fleet(first: np.ndarray) -> np.ndarray:
    """(P, S, C) first impairment month per cohort (0 = never) -> (P, S) for the fleet."""
    big = np.where(first > 0, first, np.inf)
    f = big.min(axis=-1)
    return np.where(np.isfinite(f), f, 0.0)


def _month_quantiles(first: np.ndarray, labels: tuple[str, ...]) -> dict:
    hit = first[first > 0]
    if hit.size == 0:
        return {}
    out = {}
    for q in QUANTILES:
        t = int(np.quantile(hit, q, method="inverted_cdf"))
        out[f"p{round(q * 100):02d}"] = labels[t - 1]
    return out


def entity_summary(*, first: np.ndarray, loss: np.ndarray, reversal: np.ndarray | None, standards: tuple[str, ...], year_end_t, year_end_labels, month_labels, extra: dict[str, np.ndarray]) -> dict:
    """Statistics for one cohort or for the fleet.

    Args:
        first: (P, S) first impairment month (0 = never). loss: (P, S) total impairment loss, USD.
        reversal: (P,) IAS 36 reversals, USD, or None. extra: name -> (P,) distributions to report.
    """
    out: dict = {}
    for s_i, std in enumerate(STANDARD_NAMES):
        if std not in standards:
            continue
        f = first[:, s_i]
        by_ye = {lab: prob((f > 0) & (f <= t)) for t, lab in zip(year_end_t, year_end_labels)}
        out[f"p_impairment_{std}"] = {"by_year_end": by_ye, "horizon": prob(f > 0)}
        lv = loss[:, s_i]
        out[f"expected_impairment_loss_usd_{std}"] = mean(lv)
        out[f"impairment_loss_quantiles_usd_{std}"] = {f"p{round(q * 100):02d}": quantile(lv, q) for q in LOSS_QUANTILES}
        out[f"expected_loss_given_impairment_usd_{std}"] = mean(lv[f > 0]) if np.any(f > 0) else {"value": float("nan"), "se": float("nan")}
        out[f"first_impairment_month_{std}"] = _month_quantiles(f, month_labels)
    if "asc360" in standards and "ias36" in standards:
        a, i = first[:, 0] > 0, first[:, 1] > 0
        out["p_impaired_asc360_not_ias36"] = prob(a & ~i)
        out["p_impaired_ias36_not_asc360"] = prob(i & ~a)
    if reversal is not None and "ias36" in standards:
        out["expected_reversal_usd_ias36"] = mean(reversal)
    for name, values in extra.items():
        out[name] = distribution(values)
    return out


def material_summary(model, standards: tuple[str, ...], *, p_first_within, p_flag, mean_of) -> dict:
    """The headline statistics of the fleet (summary.json ``fleet``), one definition for the exact and
    the streamed summaries, which pass how to read their per-path results:

        p_first_within(s_i, t) -> P(0 < material_impairment_month <= t)
        p_flag(key, s_i, j)    -> P(key[s_i] (, j) == 1) for a 0/1 per-path flag
        mean_of(key, s_i)      -> mean and SE of key[s_i]

    "Material" = a month whose recognised loss is at least ``accounting.materiality_frac`` of the
    fleet's carrying amount before it (docs/methodology.md §0).
    """
    out: dict = {}
    fy = list(zip(model.fiscal_year_labels, model.fiscal_year_end_t))
    for s_i, std in enumerate(STANDARD_NAMES):
        if std not in standards:
            continue
        out[f"p_material_impairment_{std}"] = {
            "first_12_months": p_first_within(s_i, min(12, model.T)),
            "by_fiscal_year": {lab: p_flag("material_impairment_in_fiscal_year", s_i, y) for y, (lab, _) in enumerate(fy)},
            "cumulative_by_fiscal_year_end": {lab: p_first_within(s_i, t) for lab, t in fy},
            "horizon": p_first_within(s_i, model.T),
        }
        out[f"expected_material_impairment_loss_usd_{std}"] = mean_of("material_impairment_loss_usd", s_i)
        out[f"expected_immaterial_impairment_loss_usd_{std}"] = mean_of("immaterial_impairment_loss_usd", s_i)
        out[f"p_opening_book_unrecoverable_{std}"] = p_flag("opening_book_unrecoverable", s_i, None)
    return out


def summarize(model, run, *, standards: tuple[str, ...]) -> dict:
    """The statistics of summary.json: fleet and each cohort."""
    s = run.scalars
    first = s["first_impairment_month"]  # (P, S, C)
    loss = s["impairment_loss_usd"]
    rev = s["impairment_reversal_usd"]  # (P, C)
    common = dict(standards=standards, year_end_t=model.year_end_t, year_end_labels=model.year_end_labels, month_labels=model.month_labels)
    cap = model.a["capital_charge_sl"]
    cap_ann = model.a["capital_charge_annuity"]
    opex = s["operating_cost_usd"].astype(np.float64)
    h_sold = s["gpu_hours_sold"].astype(np.float64)
    h_avail = s["gpu_hours_available"].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        fleet_extra = {
            "npv_usd": s["npv_usd"].astype(np.float64).sum(axis=1),
            "tco_usd_per_gpu_hour": (cap.sum() + opex.sum(axis=1)) / h_avail.sum(axis=1),
            "tco_usd_per_delivered_gpu_hour": (cap.sum() + opex.sum(axis=1)) / h_sold.sum(axis=1),
            "tco_annuity_usd_per_delivered_gpu_hour": (cap_ann.sum() + opex.sum(axis=1)) / h_sold.sum(axis=1),
        }
    fleet = entity_summary(
        first=first_month_fleet(first), loss=loss.astype(np.float64).sum(axis=2), reversal=rev.astype(np.float64).sum(axis=1), extra=fleet_extra, **common
    )
    mat_month = s["material_impairment_month"]  # (P, S)
    fleet.update(material_summary(
        model, standards,
        p_first_within=lambda s_i, t: prob((mat_month[:, s_i] > 0) & (mat_month[:, s_i] <= t)),
        p_flag=lambda key, s_i, j: prob((s[key][:, s_i] if j is None else s[key][:, s_i, j]) > 0),
        mean_of=lambda key, s_i: mean(s[key][:, s_i]),
    ))
    cohorts = {}
    for c, name in enumerate(model.cohorts):
        extra = {
            "npv_usd": s["npv_usd"][:, c],
            "tco_usd_per_gpu_hour": s["tco_usd_per_gpu_hour"][:, c],
            "tco_usd_per_delivered_gpu_hour": s["tco_usd_per_delivered_gpu_hour"][:, c],
            "tco_annuity_usd_per_delivered_gpu_hour": s["tco_annuity_usd_per_delivered_gpu_hour"][:, c],
        }
        if np.isfinite(model.a["tokens_per_s"][c]):
            extra["tco_usd_per_million_tokens"] = s["tco_usd_per_million_tokens"][:, c]
        if np.isfinite(model.a["cloud_price"][c]):
            extra["breakeven_utilization_frac"] = s["breakeven_utilization_frac"][:, c]
            # over the paths where owning saves (finite values); the share where it never does beside them
            extra["breakeven_vs_cloud_gpu_hours"] = s["breakeven_vs_cloud_gpu_hours"][:, c]
            extra["breakeven_vs_cloud_months"] = s["breakeven_vs_cloud_months"][:, c]
        cohorts[name] = entity_summary(first=first[:, :, c], loss=loss[:, :, c], reversal=rev[:, c], extra=extra, **common)
        if np.isfinite(model.a["cloud_price"][c]):
            cohorts[name]["p_breakeven_vs_cloud_never"] = prob(~np.isfinite(s["breakeven_vs_cloud_months"][:, c].astype(np.float64)))
    return {"fleet": fleet, "cohorts": cohorts}


def impaired_by_month(first: np.ndarray, T: int) -> tuple[np.ndarray, np.ndarray]:
    """P(first impairment <= t) for t = 1..T, and its SE.

    first: (P, ...) first impairment month (0 = never) -> two (T, ...) arrays.
    """
    n = first.shape[0]
    flat = first.reshape(n, -1).astype(np.int64)
    counts = np.stack([np.bincount(flat[:, j], minlength=T + 1)[1 : T + 1] for j in range(flat.shape[1])], axis=1)
    p = (np.cumsum(counts, axis=0) / n).reshape((T,) + first.shape[1:])
    return p, np.sqrt(p * (1 - p) / n)


def fan(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P_fan, T, ...) -> quantiles (Q, T, ...) and mean (T, ...)."""
    x = np.asarray(values, dtype=np.float64)
    return np.quantile(x, QUANTILES, axis=0), x.mean(axis=0)
