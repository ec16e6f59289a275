"""summary.json from streamed statistics (engine.reduce), for runs too large to gather every path.

Same keys and the same definitions as ``engine.summary.summarize``; the differences are stated in
engine/reduce.py: means and SEs equal the gathered ones up to float rounding (pairwise float32
block sums, <= 5e-7 sd), probabilities and month quantiles are exact (integer counts), value quantiles are
within one histogram bin (``quantile_error_bound``). tests/test_streaming.py checks both paths
give the same key tree and agree within these bounds; a key added to ``summarize`` must be added
here too (that test fails until it is).

The fleet quantities and the joint flags that ``summarize`` derives from several per-path arrays
are derived per path on the device first (``derived_paths``), then reduced like any other key.
"""

from __future__ import annotations

import math

import numpy as np

from engine.reduce import Column, flat_index
from engine.summary import LOSS_QUANTILES, QUANTILES, STANDARD_NAMES, material_summary

NAN = {"value": float("nan"), "se": float("nan")}


def _sum_cohorts(x):
    """Sum over the last axis (cohorts) as explicit adds, left to right: (B, ..., C) -> (B, ...).

    ``x.sum(axis=-1)`` leaves the order of the C additions to XLA, which vectorised it differently for
    512 paths a device than for 1,024 (the baseline's fleet NPV of 159 of 1,024 paths differed in the
    last bit between one and two host devices); elementwise adds are never reordered.
    """
    total = x[..., 0]
    for c in range(1, x.shape[-1]):
        total = total + x[..., c]
    return total


def derived_paths(model, res: dict) -> dict:
    """Per-path fleet values and joint flags (JAX, inside the chunk function): name -> (B, ...)."""
    import jax.numpy as jnp

    first = res["first_impairment_month"]  # (B, S, C)
    loss = res["impairment_loss_usd"]
    cap = float(np.sum(model.a["capital_charge_sl"]))
    cap_ann = float(np.sum(model.a["capital_charge_annuity"]))
    opex = _sum_cohorts(res["operating_cost_usd"])
    h_sold = _sum_cohorts(res["gpu_hours_sold"])
    h_avail = _sum_cohorts(res["gpu_hours_available"])
    big = jnp.where(first > 0, first, jnp.inf).min(axis=-1)
    imp = first > 0  # (B, S, C)
    fleet_imp = imp.any(axis=-1)  # (B, S)
    return {
        "fleet_first_impairment_month": jnp.where(jnp.isfinite(big), big, 0.0),
        "fleet_impairment_loss_usd": _sum_cohorts(loss),
        "fleet_impairment_reversal_usd": _sum_cohorts(res["impairment_reversal_usd"]),
        "fleet_npv_usd": _sum_cohorts(res["npv_usd"]),
        "fleet_tco_usd_per_gpu_hour": (cap + opex) / h_avail,
        "fleet_tco_usd_per_delivered_gpu_hour": (cap + opex) / h_sold,
        "fleet_tco_annuity_usd_per_delivered_gpu_hour": (cap_ann + opex) / h_sold,
        # (B, 2): [asc360 and not ias36, ias36 and not asc360], per cohort (B, 2, C)
        "fleet_impaired_one_standard_only": jnp.stack([fleet_imp[:, 0] & ~fleet_imp[:, 1], fleet_imp[:, 1] & ~fleet_imp[:, 0]], axis=1).astype(first.dtype),
        "impaired_one_standard_only": jnp.stack([imp[:, 0] & ~imp[:, 1], imp[:, 1] & ~imp[:, 0]], axis=1).astype(first.dtype),
    }


def _prob(count: int, n: int) -> dict:
    if n == 0:
        return dict(NAN)
    p = count / n
    return {"value": p, "se": math.sqrt(max(p * (1 - p), 0.0) / n)}


def _month_quantiles(counts: np.ndarray, labels) -> dict:
    """numpy 'inverted_cdf' quantiles of the months of impaired paths, from counts by month 0..T."""
    hits = counts[1 : len(labels) + 1]
    k = int(hits.sum())
    if k == 0:
        return {}
    cum = np.cumsum(hits)
    out = {}
    for q in QUANTILES:
        j = math.floor(k * q)
        idx = j if k * q - j > 0 else j - 1
        t = int(np.searchsorted(cum, max(idx, 0), side="right")) + 1
        out[f"p{round(q * 100):02d}"] = labels[t - 1]
    return out


def _distribution(col: Column, j: int) -> dict:
    out = {"mean": col.mean(j)}
    for q in QUANTILES:
        out[f"p{round(q * 100):02d}"] = col.quantile(j, q)
    return out


def _entity(*, n_paths, first, loss, reversal, flags, extra, standards, year_end_t, year_end_labels, month_labels) -> dict:
    """One cohort or the fleet. first, loss: s_i -> (Column, j); flags: (Column, j_asc_only, j_ias_only)."""
    out: dict = {}
    for s_i, std in enumerate(STANDARD_NAMES):
        if std not in standards:
            continue
        col_f, jf = first(s_i)
        counts = col_f.int_counts(jf)
        cum = np.cumsum(counts)
        by_ye = {lab: _prob(int(cum[min(t, cum.size - 1)] - cum[0]), n_paths) for t, lab in zip(year_end_t, year_end_labels)}
        n_imp = int(cum[-1] - cum[0])
        out[f"p_impairment_{std}"] = {"by_year_end": by_ye, "horizon": _prob(n_imp, n_paths)}
        col_l, jl = loss(s_i)
        out[f"expected_impairment_loss_usd_{std}"] = col_l.mean(jl)
        out[f"impairment_loss_quantiles_usd_{std}"] = {f"p{round(q * 100):02d}": col_l.quantile(jl, q) for q in LOSS_QUANTILES}
        if n_imp > 0:  # the loss is positive exactly on impaired paths: sums over all paths = sums over them
            _, s, s2 = col_l.raw_sums(jl)
            var = max(s2 - s * s / n_imp, 0.0) / (n_imp - 1) if n_imp > 1 else 0.0
            out[f"expected_loss_given_impairment_usd_{std}"] = {"value": s / n_imp, "se": math.sqrt(var / n_imp)}
        else:
            out[f"expected_loss_given_impairment_usd_{std}"] = dict(NAN)
        out[f"first_impairment_month_{std}"] = _month_quantiles(counts, month_labels)
    if "asc360" in standards and "ias36" in standards:
        col, ja, ji = flags
        out["p_impaired_asc360_not_ias36"] = _prob(int(col.int_counts(ja)[1:].sum()), n_paths)
        out["p_impaired_ias36_not_asc360"] = _prob(int(col.int_counts(ji)[1:].sum()), n_paths)
    if reversal is not None and "ias36" in standards:
        out["expected_reversal_usd_ias36"] = reversal[0].mean(reversal[1])
    for name, (col, j) in extra.items():
        out[name] = _distribution(col, j)
    return out


def summarize_streamed(model, cols: dict[str, Column], n_paths: int, *, standards: tuple[str, ...]) -> dict:
    """The statistics of summary.json (fleet and each cohort) from accumulated columns."""
    common = dict(standards=standards, year_end_t=model.year_end_t, year_end_labels=model.year_end_labels, month_labels=model.month_labels, n_paths=n_paths)

    def at(key, *idx):
        col = cols[key]
        return col, flat_index(col.plan.shape, *idx)

    fcol = cols["fleet_impaired_one_standard_only"]
    fleet = _entity(
        first=lambda s: at("fleet_first_impairment_month", s),
        loss=lambda s: at("fleet_impairment_loss_usd", s),
        reversal=at("fleet_impairment_reversal_usd"),
        flags=(fcol, flat_index(fcol.plan.shape, 0), flat_index(fcol.plan.shape, 1)),
        extra={name: at(f"fleet_{name}") for name in ("npv_usd", "tco_usd_per_gpu_hour", "tco_usd_per_delivered_gpu_hour", "tco_annuity_usd_per_delivered_gpu_hour")},
        **common,
    )

    def p_first_within(s_i, t):
        col, j = at("material_impairment_month", s_i)
        cum = np.cumsum(col.int_counts(j))
        return _prob(int(cum[min(t, cum.size - 1)] - cum[0]), n_paths)

    def p_flag(key, s_i, j):
        col, jj = at(key, s_i) if j is None else at(key, s_i, j)
        return _prob(int(col.int_counts(jj)[1:].sum()), n_paths)

    fleet.update(material_summary(model, standards, p_first_within=p_first_within, p_flag=p_flag,
                                  mean_of=lambda key, s_i: at(key, s_i)[0].mean(at(key, s_i)[1])))
    cohorts = {}
    ccol = cols["impaired_one_standard_only"]
    for c, name in enumerate(model.cohorts):
        extra_keys = ["npv_usd", "tco_usd_per_gpu_hour", "tco_usd_per_delivered_gpu_hour", "tco_annuity_usd_per_delivered_gpu_hour"]
        if np.isfinite(model.a["tokens_per_s"][c]):
            extra_keys.append("tco_usd_per_million_tokens")
        if np.isfinite(model.a["cloud_price"][c]):
            extra_keys += ["breakeven_utilization_frac", "breakeven_vs_cloud_gpu_hours", "breakeven_vs_cloud_months"]
        cohorts[name] = _entity(
            first=lambda s, c=c: at("first_impairment_month", s, c),
            loss=lambda s, c=c: at("impairment_loss_usd", s, c),
            reversal=at("impairment_reversal_usd", c),
            flags=(ccol, flat_index(ccol.plan.shape, 0, c), flat_index(ccol.plan.shape, 1, c)),
            extra={k: at(k, c) for k in extra_keys},
            **common,
        )
        if np.isfinite(model.a["cloud_price"][c]):  # never = not finite (+inf); the column counts finite values exactly
            col, j = at("breakeven_vs_cloud_months", c)
            cohorts[name]["p_breakeven_vs_cloud_never"] = _prob(n_paths - int(col.n[j]), n_paths)
    return {"fleet": fleet, "cohorts": cohorts}


def impaired_by_month_streamed(col: Column, idx_list, shape_out, T: int, n_paths: int):
    """P(first impairment <= t), t = 1..T, and its SE from month counts: (T, *shape_out) arrays."""
    p = np.zeros((T, len(idx_list)))
    for k, j in enumerate(idx_list):
        counts = col.int_counts(j)[1 : T + 1]
        p[:, k] = np.cumsum(counts) / n_paths
    p = p.reshape((T,) + tuple(shape_out))
    return p, np.sqrt(p * (1 - p) / n_paths)


def quantile_error_bounds(cols: dict[str, Column]) -> dict[str, list[float]]:
    """Per key, per flat column: the largest error of a value quantile (one bin width; 0 if exact)."""
    return {k: [c.quantile_error_bound(j) for j in range(c.plan.c.size)] for k, c in cols.items()}


def should_stream(store: str, n_paths: int) -> bool:
    """Stream (reduce on the device) when only the summary is stored and the run is large."""
    from engine.reduce import EXACT_MAX_PATHS

    return store == "summary" and n_paths > EXACT_MAX_PATHS


def reduction_note(run) -> dict:
    """What summary.json's statistics of a streamed run are (recorded under run.reduction)."""
    from engine.reduce import BINS, BLOCK_PATHS, PILOT_PATHS

    bounds = quantile_error_bounds(run.reduced)
    return {
        "method": "streamed: per-chunk reduction on the device (engine/reduce.py)",
        "means": f"float64 sums of float32-or-better block sums of {BLOCK_PATHS} paths (relative error <= 1.5e-5 sd)",
        "probabilities_and_months": "exact integer counts",
        "value_quantiles": f"histogram of {BINS} bins over 3x the range of the first {PILOT_PATHS} paths; error <= one bin",
        "quantile_error_bound": {k: v if len(v) > 1 else v[0] for k, v in bounds.items()},
    }


def impaired_by_month_from_run(run, s_idx, model):
    """((T, S', C) p and SE by cohort, (T, S') p and SE for the fleet) of a streamed run."""
    cols = run.reduced
    col = cols["first_impairment_month"]
    by_cohort = impaired_by_month_streamed(col, [flat_index(col.plan.shape, s, c) for s in s_idx for c in range(model.C)], (len(s_idx), model.C), model.T, run.n_paths)
    fcol = cols["fleet_first_impairment_month"]
    fleet = impaired_by_month_streamed(fcol, [flat_index(fcol.plan.shape, s) for s in s_idx], (len(s_idx),), model.T, run.n_paths)
    return by_cohort, fleet
