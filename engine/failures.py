"""Monthly failure counts: Binomial(alive, q) from one normal score per cohort and month (JAX, pure).

``failure_counts(alive, q, z, exact=...)`` turns the failure stream's score ``z`` into a count
(called by the monthly step, engine/kernel/fleet.py).

* ``exact=False`` (``failures.draw = "normal"``, the bench SPEC): the rounded, clipped normal
  approximation ``clip(floor(m + sd z + 1/2), 0, alive)``, m = alive q, sd = sqrt(m (1 - q)).
* ``exact=True`` (the default): the Binomial(alive, q) quantile at the same uniform u = Phi(z)
  (inverse CDF, so the count is monotone in z and a path's draws keep their meaning), computed by a
  bounded sequential search where the normal is inaccurate, the normal approximation above.

The switch (docs/methodology.md §5): with s^2 = alive q (1 - q) and m' = alive min(q, 1 - q), the
search runs when m' < ``EXACT_BELOW_MEAN`` = 16. Above it the rounded normal's mean is within 2e-6
(relative) of the binomial mean, its variance within 1/(12 s^2) <= 0.6 % (Sheppard's rounding term),
and its CDF within 0.0665 |1 - 2q| / s <= 1.7 % of the binomial CDF at every count (Kolmogorov
distance; the Edgeworth skewness term phi(0) / 6 / s, confirmed numerically over q <= 0.1 in
tests/test_failure_draws.py); it misses only the one-month count's skewness (1/s <= 0.25).
Below it the normal is visibly wrong: 7 % too many failures a month at m = 1, and for an 8-GPU
server (m ~ 0.03) a failure needs z > 1.8, about half the binomial rate.

The search evaluates the pmf at k = 0..``SEARCH_TERMS`` (51) by the ratio recursion
p_{k+1} = p_0 prod_{j <= k} (n - j) / (j + 1) q / (1 - q) from p_0 = (1 - q)^n, and counts the k with
F(k) < u. Each comparison is made on the side that float32 resolves: F(k) < u (forward sums) while
F(k) <= 1/2, S(k) > 1 - u (backward sums, S(k) = P(X > k)) above, so tail draws are as exact as
central ones. The bound: for m' < 16, P(X > 51) <= e^-m (e m / 52)^52 < 1e-10 (the Poisson
Chernoff bound, which holds for the binomial since (1 - q + q e^l)^n <= exp(m (e^l - 1))), below
the smallest tail the stream produces (|z| <= 6.35, Phi(-6.35) = 1.1e-10, engine/random.py), so the
truncation never binds. For q > 1/2 (only under a stress failure spike) the count is
n - Binomial(n, 1 - q) drawn at 1 - u. The pmf stays in float32 range: p_0 >= e^(-1.39 m') > 2e-10.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.scipy.special import ndtr

EXACT_BELOW_MEAN = 16.0  # m' = alive min(q, 1 - q) below which the count is searched exactly
SEARCH_TERMS = 51  # k = 0..51; P(X > 51 | m' < 16) < 1e-10 < Phi(-6.35)


def normal_counts(alive, q, z):
    """The rounded, clipped normal approximation (shapes broadcast; GPU counts as floats)."""
    m = alive * q
    sd = jnp.sqrt(m * (1.0 - q))
    return jnp.clip(jnp.floor(m + sd * z + 0.5), 0.0, alive)


def _binomial_search(n, q, u, s):
    """Binomial(n, q) quantile at u (s = 1 - u, given apart for its precision), q <= 1/2, n q < 16.

    Elementwise (no (..., K) arrays, no cumulative sums): the pmf terms, the forward sums F(k) and the
    backward sums S(k) are unrolled over k, each a fixed sequence of adds and multiplies in one order,
    which XLA fuses into one pass over the paths."""
    K = SEARCH_TERMS  # k = 0..K-1 compared; the pmf runs to k = K
    odds = q / (1.0 - q)
    p0 = jnp.exp(n * jnp.log1p(-q))
    pmf = [p0]
    run = None  # prod_{j <= k} (n - j) / (j + 1) q / (1 - q)
    for k in range(K):
        ratio = jnp.maximum(n - k, 0.0) * odds * (1.0 / (k + 1.0))
        run = ratio if run is None else run * ratio
        pmf.append(p0 * run)
    cdf, acc = [], None
    for k in range(K):  # F(k) = sum_{j <= k} p_j
        acc = pmf[k] if acc is None else acc + pmf[k]
        cdf.append(acc)
    sf, acc = [None] * K, None
    for k in range(K, 0, -1):  # S(k - 1) = sum_{j >= k} p_j
        acc = pmf[k] if acc is None else acc + pmf[k]
        sf[k - 1] = acc
    count = jnp.zeros_like(q)
    for k in range(K):
        count = count + jnp.where(cdf[k] <= 0.5, cdf[k] < u, sf[k] > s).astype(q.dtype)
    return count


def failure_counts(alive, q, z, *, exact: bool, gather: bool = False):
    """Failures of one month: (C,) counts (float) from alive (C,) GPUs, monthly hazard q (C,) in [0, 1]
    and the failure stream's normal scores z (C,); ``exact`` is static (see the module docstring).
    ``gather`` (static): under ``vmap`` over paths, the search runs only on the paths with a cohort below
    the switch (engine/compaction.py); every other path takes the normal branch, which is what the
    search's ``where`` gives it. Not differentiable; the counts are the same."""
    if not exact:
        return normal_counts(alive, q, z)
    p = {"alive": alive, "q": q, "z": z}
    if not gather:
        return _exact_counts(p)
    from engine.compaction import due_rows_only

    searched = lambda p: (p["alive"] * jnp.minimum(p["q"], 1.0 - p["q"]) < EXACT_BELOW_MEAN).any()  # noqa: E731
    return due_rows_only(_exact_counts, searched, lambda p: normal_counts(p["alive"], p["q"], p["z"]))(p)


def _exact_counts(p):
    """The exact rule for one path: the searched count where m' < EXACT_BELOW_MEAN, else the normal branch's."""
    alive, q, z = p["alive"], p["q"], p["z"]
    normal = normal_counts(alive, q, z)
    flip = q > 0.5
    qs = jnp.where(flip, 1.0 - q, q)
    u, s = ndtr(z), ndtr(-z)
    small = alive * qs < EXACT_BELOW_MEAN
    n_s = jnp.where(small, alive, 0.0)  # large cohorts take the normal branch: keep the search finite
    x = _binomial_search(n_s, jnp.where(small, qs, 0.0), jnp.where(flip, s, u), jnp.where(flip, u, s))
    return jnp.where(small, jnp.where(flip, alive - x, x), normal)
