"""Quantile functions of the scenario distributions against scipy (exact or table-interpolated)."""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.special import ndtr  # noqa: E402

from engine.inputs.distributions import quantile  # noqa: E402
from engine.scenario.dists import parse_dist  # noqa: E402

Z = np.linspace(-4.0, 4.0, 161)
U = ndtr(Z)

CASES = [
    ({"dist": "normal", "mean": 0.02, "sd": 0.01}, stats.norm(0.02, 0.01), 1e-12),
    ({"dist": "lognormal", "median": 2.0, "sigma_log": 0.3}, stats.lognorm(0.3, scale=2.0), 1e-12),
    ({"dist": "truncnormal", "mean": 0.5, "sd": 0.3, "low": 0.0, "high": 1.0}, stats.truncnorm(-0.5 / 0.3, 0.5 / 0.3, loc=0.5, scale=0.3), 1e-7),
    ({"dist": "uniform", "low": 0.1, "high": 0.4}, stats.uniform(0.1, 0.3), 1e-12),
    ({"dist": "triangular", "low": 6, "mode": 9, "high": 15}, stats.triang((9 - 6) / 9, loc=6, scale=9), 1e-9),
    ({"dist": "exponential", "mean": 12, "loc": 12}, stats.expon(loc=12, scale=12), 1e-9),
    # Beta and PERT: table of 4097 normal scores, linear interpolation: error below 1e-5 of the range
    ({"dist": "beta", "mean": 0.7, "concentration": 20}, stats.beta(14, 6), 1e-5),
    ({"dist": "pert", "low": 0.025, "mode": 0.04, "high": 0.06}, stats.beta(1 + 4 * 0.015 / 0.035, 1 + 4 * 0.02 / 0.035, loc=0.025, scale=0.035), 1e-5 * 0.035),
]


@pytest.mark.parametrize("spec, ref, atol", CASES, ids=[c[0]["dist"] for c in CASES])
def test_quantile_matches_scipy(spec, ref, atol):
    d = parse_dist(spec)
    got = np.asarray(quantile(d, jnp.asarray(Z)))
    np.testing.assert_allclose(got, ref.ppf(U), atol=atol, rtol=0)
    assert abs(d.mean() - ref.mean()) < 1e-9


def test_discrete_quantile():
    d = parse_dist({"dist": "discrete", "values": [1.0, 2.0, 5.0], "weights": [0.2, 0.5, 0.3]})
    got = np.asarray(quantile(d, jnp.asarray(Z)))
    expected = np.where(U < 0.2, 1.0, np.where(U < 0.7, 2.0, 5.0))
    assert np.array_equal(got, expected)
    assert abs(d.mean() - (0.2 + 1.0 + 1.5)) < 1e-12
