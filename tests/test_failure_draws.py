"""Monthly failure counts (engine/failures.py; docs/methodology.md §5): exact Binomial draws by default,
the bench SPEC's rounded normal approximation on request.

One 8-GPU server, AFR 5 %, 12 months, failed GPUs leave (retain_book: no replacement). Each GPU fails
within the year with probability 1 - (1 - q)^12 = AFR, q = 1 - 0.95^(1/12) = 0.0042653 a month, so
the year's failures are Binomial(8, 0.05):

    E[failures per year]  = 8 x 0.05                       = 0.4
    P(>= 1 failure)       = 1 - 0.95^8                      = 0.3365796
    SE of the mean over N = sqrt(8 x 0.05 x 0.95 / N)        = 0.004359 at N = 20,000
    SE of the probability = sqrt(0.3366 x 0.6634 / N)        = 0.003341 at N = 20,000

The rounded normal needs m + sd z + 1/2 >= 1 for a failure, m = 8q = 0.0341, sd = sqrt(m (1 - q)) =
0.1843: z >= 2.53, P = 0.0057 a month against 1 - (1 - q)^8 = 0.0336 for the binomial, so about
0.066 failures a year instead of 0.4.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from scipy.stats import binom, norm, poisson

from _util import run, write_scenario
from engine.failures import EXACT_BELOW_MEAN, SEARCH_TERMS, failure_counts

jax.config.update("jax_enable_x64", True)  # float64 checks below (the engine's float64 runs set it too)
N = 20_000
SEED = 18
AFR = 0.05


def _server(tmp_path, draw: str):
    p = write_scenario(tmp_path, name=f"{draw}.toml", units=8, afr=AFR, horizon=12, life=24, test_every=12)
    p.write_text(p.read_text().replace('policy = "retain_book"', f'policy = "retain_book"\ndraw = "{draw}"'))
    return p


def _year_failures(tmp_path, draw: str) -> np.ndarray:
    res = run(_server(tmp_path, draw), paths=N, seed=SEED)
    return 8.0 - res.run.scalars["alive_gpus_end"][:, 0]


def test_exact_draws_match_the_binomial_closed_forms(tmp_path):
    f = _year_failures(tmp_path, "exact")
    mean, p_any = 8 * AFR, 1 - (1 - AFR) ** 8  # 0.4 and 0.3365796
    se_mean, se_p = math.sqrt(8 * AFR * (1 - AFR) / N), math.sqrt(p_any * (1 - p_any) / N)
    assert abs(f.mean() - mean) < 4.5 * se_mean, (f.mean(), mean, se_mean)
    assert abs((f > 0).mean() - p_any) < 4.5 * se_p, ((f > 0).mean(), p_any, se_p)


def test_normal_option_reproduces_the_rounded_normal(tmp_path):
    """``draw = "normal"`` is the pre-change engine: 1,314 failures on these 20,000 paths (run at
    b31a5f7, before the option existed), far below the binomial's 8,000 +- 87."""
    f = _year_failures(tmp_path, "normal")
    assert f.sum() == 1314.0
    assert (f > 0).mean() < 0.1  # against 0.337


def test_normal_formula_unchanged():
    rng = np.random.default_rng(0)
    alive, q, z = rng.integers(0, 5000, 1000).astype(float), rng.uniform(0, 0.05, 1000), rng.standard_normal(1000)
    m = alive * q
    old = np.clip(np.floor(m + np.sqrt(m * (1 - q)) * z + 0.5), 0, alive)
    got = np.asarray(failure_counts(jnp.asarray(alive), jnp.asarray(q), jnp.asarray(z), exact=False))
    np.testing.assert_array_equal(got, old)


def test_exact_branch_is_the_binomial_quantile_of_the_same_uniform():
    """Below the switch the count is F^-1(Phi(z)) exactly (float64 and float32), q > 1/2 included."""
    z = np.concatenate([np.linspace(-6.35, 6.35, 2001), np.random.default_rng(1).standard_normal(3000)])
    cases = [(1, 0.004), (8, 0.0043), (8, 0.3), (40, 0.2), (100, 0.1), (1000, 0.0155), (30, 0.5), (30, 0.7), (12, 0.99), (10, 1.0), (0, 0.1), (5, 0.0)]
    for n, q in cases:
        assert min(q, 1 - q) * n < EXACT_BELOW_MEAN
        want = binom.ppf(norm.cdf(z), n, q)
        for dt in (jnp.float64, jnp.float32):
            one = lambda zz: failure_counts(jnp.asarray(float(n), dt), jnp.asarray(q, dt), zz, exact=True)  # noqa: E731
            got = np.asarray(jax.vmap(one)(jnp.asarray(z, dt)))
            # float32: Phi(z) and the pmf sums are rounded; allow a miss only where u is within 1e-5 of a CDF step
            miss = got != want
            if dt == jnp.float64:
                assert not miss.any(), (n, q, z[miss][:5])
            else:
                u = norm.cdf(z[miss])
                steps = binom.cdf(np.arange(n + 1), n, q)
                assert all(np.min(np.abs(steps - ui)) < 1e-5 * max(ui, 1e-300) + 1e-7 for ui in u), (n, q)


def test_switch_error_bound_and_search_bound():
    """Above m' = 16 the rounded normal's CDF is within 0.0665/sd of the binomial's (Kolmogorov
    distance, <= 1.7 %) and its mean within 2e-6; below it the search's 52 terms hold all the mass
    the stream can reach: P(X > 51) <= e^-m (e m / 52)^52 < 1e-10 < Phi(-6.35)."""
    for m in (16.0, 25.0, 40.0, 100.0):
        for q in (0.0005, 0.005, 0.02, 0.1):
            n = round(m / q)
            qq, sd = m / n, math.sqrt(m * (1 - m / n))
            k = np.arange(n + 1)
            rn = np.where(k >= n, 1.0, norm.cdf((k + 0.5 - m) / sd))  # P(floor(m + sd Z + 1/2) <= k), clipped
            d_k = np.max(np.abs(rn - binom.cdf(k, n, qq)))
            assert d_k <= 0.0665 / sd * 1.02 and d_k <= 0.017, (m, q, d_k)
            assert abs(np.sum(1 - rn[:-1]) - m) / m < 2e-6
    chernoff = math.exp(-EXACT_BELOW_MEAN) * (math.e * EXACT_BELOW_MEAN / (SEARCH_TERMS + 1)) ** (SEARCH_TERMS + 1)
    assert chernoff < 1e-10 < norm.cdf(-6.35)
    assert poisson.sf(SEARCH_TERMS, EXACT_BELOW_MEAN) < chernoff
