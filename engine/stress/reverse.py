"""Reverse stress test: the smallest value of one input that pushes a metric across a threshold.

The input ``x`` (a dotted input name) is set to the same value on every path while every other
input and all monthly noise keep their draws (common random numbers: the same paths at every
``x``), so the estimate m(x) = mean_i m_i(x) moves only through ``x``. With SE(x) = sd_i(m_i(x)) /
sqrt(P):

    x*     solves m(x) = threshold                     (bisection on the CRN estimate)
    CI     = [x_L, x_U], where m(x) -+ 1.96 SE(x) = threshold

i.e. the values of x at which the threshold is inside the metric's 95 % confidence interval
(inverting the pointwise test; monotone m assumed, which CRN keeps path by path when the model is
monotone in x). A probability metric is a step function of x at finite P; bisection then stops at
the jump nearest the crossing (tolerance ``tol``). If m does not cross the threshold inside the
search range the result says so and x* is None; if it is already across at the range's low end
x* = the low end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

Z95 = 1.959963984540054


@dataclass
class ReverseResult:
    input: str
    metric: str
    threshold: float
    lo: float
    hi: float
    x_star: float | None
    ci: tuple[float | None, float | None]
    ci_censored: tuple[bool, bool]
    metric_at_x_star: dict | None
    status: str  # "crossed", "already_across", "not_crossed"
    increasing: bool
    grid: list[dict] = field(default_factory=list)  # every evaluated x: value, se
    n_paths: int = 0
    seed: int = 0


def _bisect(g, a: float, b: float, ga: float, tol: float) -> float:
    """Smallest-side root of g on [a, b] with sign(g(a)) = sign(ga) != sign(g(b)): returns the end
    b of the final bracket (the first x found past the crossing)."""
    while b - a > tol:
        mid = 0.5 * (a + b)
        gm = g(mid)
        if (gm >= 0) == (ga >= 0):
            a = mid
        else:
            b = mid
    return b


def reverse_stress(evaluate_metric, *, input_name: str, metric: str, threshold: float, lo: float, hi: float, n_grid: int = 9,
                   tol: float | None = None, n_paths: int = 0, seed: int = 0) -> ReverseResult:
    """``evaluate_metric(x) -> (P,) per-path metric`` with the input set to x on every path."""
    tol = (hi - lo) / 512 if tol is None else tol
    cache: dict[float, tuple[float, float]] = {}

    def stats(x: float) -> tuple[float, float]:
        x = float(x)
        if x not in cache:
            v = np.asarray(evaluate_metric(x), np.float64)
            v = v[np.isfinite(v)]
            cache[x] = (float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size)))
        return cache[x]

    grid = np.linspace(lo, hi, n_grid)
    vals = [stats(x)[0] for x in grid]
    increasing = vals[-1] >= vals[0]
    sgn = 1.0 if increasing else -1.0
    g = lambda x: sgn * (stats(x)[0] - threshold)  # noqa: E731  (>= 0: across the threshold)
    g_lo_ci = lambda x: sgn * (stats(x)[0] - threshold) + Z95 * stats(x)[1]  # noqa: E731  threshold inside or below the CI
    g_hi_ci = lambda x: sgn * (stats(x)[0] - threshold) - Z95 * stats(x)[1]  # noqa: E731

    def first_cross(fn) -> tuple[float | None, bool]:
        """Smallest x in [lo, hi] with fn(x) >= 0 (grid, then bisection); (None, True) if none."""
        prev = lo
        if fn(lo) >= 0:
            return lo, True
        for x in grid[1:]:
            if fn(x) >= 0:
                return _bisect(fn, prev, float(x), fn(prev), tol), False
            prev = float(x)
        return None, True

    x_star, _ = first_cross(g)
    status = "not_crossed" if x_star is None else "already_across" if x_star == lo else "crossed"
    x_l, cens_l = first_cross(g_lo_ci)
    x_u, cens_u = first_cross(g_hi_ci)
    at = None
    if x_star is not None:
        m, se = stats(x_star)
        at = {"value": m, "se": se}
    return ReverseResult(
        input=input_name, metric=metric, threshold=threshold, lo=lo, hi=hi, x_star=x_star,
        ci=(x_l if x_l is not None else None, x_u if x_u is not None else None), ci_censored=(bool(cens_l), bool(x_u is None or cens_u)),
        metric_at_x_star=at, status=status, increasing=bool(increasing),
        grid=[{"x": x, "value": v[0], "se": v[1]} for x, v in sorted(cache.items())], n_paths=n_paths, seed=seed,
    )
