"""Estimators over gathered per-path arrays, each with its Monte Carlo standard error (host, NumPy, float64).

Standard errors (as in ../shared/bench/SPEC.md):
    probability p over n paths:  sqrt(p (1 - p) / n)
    mean:                        sd / sqrt(n)   (sample sd, ddof = 1)
    quantile q:                  half the distance between the sample quantiles at
                                 q - sqrt(q (1 - q) / n) and q + sqrt(q (1 - q) / n)
                                 (the order-statistic interval of about +-1 sd of the rank)

Every function takes (P,) per-path values and returns ``{"value", "se"}`` (or a dict of them); the
streamed route computes the same quantities from reductions (engine/stats/streamed.py).
"""

from __future__ import annotations

import math

import numpy as np

STANDARD_NAMES = ("asc360", "ias36")
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
LOSS_QUANTILES = (0.5, 0.95, 0.99)


def nan_stat() -> dict:
    """A statistic with no paths to estimate it from."""
    return {"value": float("nan"), "se": float("nan")}


def quantile_key(q: float) -> str:
    """summary.json name of quantile q: 0.05 -> "p05", 0.5 -> "p50"."""
    return f"p{round(q * 100):02d}"


def prob_from_count(count: int, n: int) -> dict:
    """P = count / n with its SE; NaN for n = 0."""
    if n == 0:
        return nan_stat()
    p = count / n
    return {"value": p, "se": math.sqrt(max(p * (1 - p), 0.0) / n)}


def prob(flags: np.ndarray) -> dict:
    """P(flag) over the paths of a (P,) boolean (or 0/1) array."""
    x = np.asarray(flags, dtype=np.float64)
    n = x.size
    p = float(x.mean()) if n else float("nan")
    return {"value": p, "se": math.sqrt(max(p * (1 - p), 0.0) / n) if n else float("nan")}


def mean(values: np.ndarray) -> dict:
    """Mean over the finite values of a (P,) array."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return nan_stat()
    sd = float(x.std(ddof=1)) if n > 1 else 0.0
    return {"value": float(x.mean()), "se": sd / math.sqrt(n)}


def quantile(values: np.ndarray, q: float) -> dict:
    """numpy 'linear' quantile q over the finite values of a (P,) array."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return nan_stat()
    h = math.sqrt(q * (1 - q) / n)
    lo, mid, hi = np.quantile(x, [max(q - h, 0.0), q, min(q + h, 1.0)])
    return {"value": float(mid), "se": float(0.5 * (hi - lo))}


def distribution(values: np.ndarray, qs=QUANTILES) -> dict:
    """Mean and quantiles ``qs`` of a (P,) array: {"mean": ..., "p05": ..., ...}."""
    out = {"mean": mean(values)}
    for q in qs:
        out[quantile_key(q)] = quantile(values, q)
    return out


def month_quantiles(first: np.ndarray, labels: tuple[str, ...]) -> dict:
    """numpy 'inverted_cdf' quantiles (QUANTILES) of the months (1-based, 0 = never) of the paths with an
    event, as month labels; {} when no path has one."""
    hit = first[first > 0]
    if hit.size == 0:
        return {}
    out = {}
    for q in QUANTILES:
        t = int(np.quantile(hit, q, method="inverted_cdf"))
        out[quantile_key(q)] = labels[t - 1]
    return out
