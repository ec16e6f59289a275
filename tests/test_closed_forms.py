"""Monte Carlo against closed forms, with tolerances of 4.5 Monte Carlo standard errors.

Each test pins its seed; the tolerance is 4.5 * sqrt(p (1 - p) / n), so a correct engine fails
with probability below 1e-5 while a bias larger than the tolerance is caught.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from _util import run, write_scenario

N = 40_000  # paths: SE of a probability near 0.3 is sqrt(0.3 * 0.7 / 4e4) = 0.0023


def test_lognormal_price_below_threshold_at_a_test_date(tmp_path):
    """One test date (December, t = 12); flat forecast, no costs, utilization 1, no failures.

    Step 1 at t: R = n * units * H * p_t against CV = C0 * n / T, so the cohort is impaired iff
    p_t < K = capex / (T * H). The log price is ln P0 - d t + sigma W_t, hence
    P(impaired) = Phi((ln(K / P0) + d t) / (sigma sqrt(t))).
    """
    p0, d, sigma, t, T, H = 2.0, 0.01, 0.05, 12, 24, 730.0
    K = 1.6
    capex = K * T * H  # 28,032 USD per GPU
    path = write_scenario(tmp_path, price=p0, decline=d, vol=sigma, capex=capex, life=T, horizon=T, test_every=12)
    res = run(path, paths=N, seed=11)
    first = res.run.scalars["first_impairment_month"][:, 0, 0]
    assert set(np.unique(first)) <= {0.0, 12.0}  # only December 2026 is a test date (t = 24 has no life left)
    expected = norm.cdf((math.log(K / p0) + d * t) / (sigma * math.sqrt(t)))  # = Phi(-0.595) = 0.2759
    p_hat = float(np.mean(first == 12))
    se = math.sqrt(expected * (1 - expected) / N)
    assert abs(p_hat - expected) < 4.5 * se, (p_hat, expected, se)
    # the summary reports the same number with the same standard error
    s = res.summary["cohorts"]["c1"]["p_impairment_asc360"]["horizon"]
    assert s["value"] == p_hat and abs(s["se"] - math.sqrt(p_hat * (1 - p_hat) / N)) < 1e-12


def test_exponential_launch_time(tmp_path):
    """Launch at tau ~ Exponential(mean 20); tests only on launches; every test impairs.

    The price is so low that any test fails step 1, so the first impairment month is the month
    the launch ships, ceil(tau): P(impaired by month m) = 1 - exp(-m / 20) for m <= T = 24.
    """
    extra = """
    [[next_gen.launch]]
    generation = "B200"
    ship_months_from_start = { dist = "exponential", mean = 20 }
    undercut_frac = { default = 0.1 }
    """
    path = write_scenario(tmp_path, price=0.01, vol=0.0, capex=30000.0, life=48, horizon=24, test_every=0, trigger_on_launch="true", extra=extra)
    res = run(path, paths=N, seed=5)
    first = res.run.scalars["first_impairment_month"][:, 0, 0]
    for m in (6, 12, 24):
        expected = 1 - math.exp(-m / 20)  # 0.2592, 0.4512, 0.6988
        p_hat = float(np.mean((first > 0) & (first <= m)))
        se = math.sqrt(expected * (1 - expected) / N)
        assert abs(p_hat - expected) < 4.5 * se, (m, p_hat, expected)
    # months are whole: first == ceil(tau) for the impaired paths
    tau = res.run.inputs[:, res.model.index("next_gen.B200.ship_months_from_start")]
    hit = first > 0
    assert np.array_equal(first[hit], np.ceil(tau[hit]))


def test_rank_correlation_through_the_copula(tmp_path):
    """Spearman correlation of two drawn inputs equals the requested rank correlation.

    With n = 20,000 the standard error of Spearman's rho near 0.6 is about (1 - 0.36) / sqrt(n)
    = 0.0045; tolerance 0.025 (5.5 SE).
    """
    from scipy.stats import spearmanr

    extra = """
    [[correlations.pair]]
    a = "market.H100.decline_rate_per_month"
    b = "demand.utilization_frac"
    rank = -0.6
    """
    path = write_scenario(tmp_path, decline='{ dist = "normal", mean = 0.01, sd = 0.005 }', util='{ dist = "beta", mean = 0.7, concentration = 20 }', extra=extra)
    res = run(path, paths=20_000, seed=3)
    m = res.model
    x = res.run.inputs[:, m.index("market.H100.decline_rate_per_month")]
    y = res.run.inputs[:, m.index("demand.utilization_frac")]
    rho = spearmanr(x, y).statistic
    assert abs(rho - (-0.6)) < 0.025, rho
    # marginals unchanged: the beta's mean 0.7, sd sqrt(0.7 * 0.3 / 21) = 0.1; SE of the mean 0.1 / sqrt(2e4)
    assert abs(y.mean() - 0.7) < 4.5 * 0.1 / math.sqrt(20_000)
