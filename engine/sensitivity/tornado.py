"""Tornado: each uncertain input at its 10th and 90th percentile, the rest as drawn (CRN).

For input j with percentiles x_j^10, x_j^90 (the quantile function at u = 0.1, 0.9; for a
posterior input the empirical quantiles of its draws), the metric is re-estimated on the same
paths with theta_j set to each value on every path while every other input and all monthly noise
keep their draws:

    m_j^10 = mean_i m(theta_i | theta_ij = x_j^10),   m_j^90 likewise,   swing_j = |m_j^90 - m_j^10|

so the bars are conditional expectations E[M | X_j = x] (the rest stays uncertain, as a Monte
Carlo tornado should), and each difference to the baseline has a paired standard error. Inputs
drawn jointly (a posterior file's variables, copula-correlated inputs) are moved one at a time with
the others at their own draws: the tornado ignores their dependence (the Sobol indices group them).
"""

from __future__ import annotations

import math

import numpy as np


def percentile_value(spec, u: float) -> float:
    """Input ``spec``'s quantile at ``u`` (host)."""
    if spec.posterior_draws is not None:
        return float(np.quantile(np.asarray(spec.posterior_draws, np.float64), u))
    import jax.numpy as jnp
    from scipy.special import ndtri

    from engine.inputs.distributions import quantile

    return float(quantile(spec.dist, jnp.asarray(float(ndtri(u)))))


def tornado(ev, metrics: dict, *, seed: int, paths: np.ndarray, rank_by: str, lo_u: float = 0.1, hi_u: float = 0.9) -> dict:
    """Tornado rows for every random input of ``ev.model``.

    ``metrics``: name -> per-path function. Returns {"base": {metric: value}, "rows": [...]} with rows
    ranked by the swing of ``rank_by``; each row: input, x_p10, x_p90, and per metric the values at
    p10/p90, their paired SEs against the base, and the swing.
    """
    base_run = ev.evaluate(seed=seed, paths=paths)
    base_vals = {k: f(base_run) for k, f in metrics.items()}
    rows = []
    for j, spec in enumerate(ev.model.inputs):
        if not spec.is_random:
            continue
        x10, x90 = percentile_value(spec, lo_u), percentile_value(spec, hi_u)
        row = {"input": spec.name, "x_p10": x10, "x_p90": x90, "metrics": {}}
        runs = {}
        for tag, x in (("p10", x10), ("p90", x90)):
            over = np.zeros(ev.N)
            over[j] = x
            mask = np.zeros(ev.N)
            mask[j] = 1.0
            runs[tag] = ev.evaluate(seed=seed, paths=paths, theta_over=over, mask=mask)
        for k, f in metrics.items():
            b = base_vals[k]
            out = {}
            for tag in ("p10", "p90"):
                v = f(runs[tag])
                d = v - b
                ok = np.isfinite(d)
                out[f"at_{tag}"] = float(np.mean(v[ok]))
                out[f"se_delta_{tag}"] = float(np.std(d[ok], ddof=1) / math.sqrt(ok.sum()))
            out["swing"] = abs(out["at_p90"] - out["at_p10"])
            row["metrics"][k] = out
        rows.append(row)
    rows.sort(key=lambda r: -r["metrics"][rank_by]["swing"])
    base = {k: float(np.nanmean(v)) for k, v in base_vals.items()}
    return {"base": base, "rank_by": rank_by, "rows": rows, "percentiles": [lo_u, hi_u]}
