"""Sobol estimators on the Ishigami function against its known indices.

f(x) = sin x1 + a sin^2 x2 + b x3^4 sin x1, x_i ~ U(-pi, pi), a = 7, b = 0.1 (Ishigami and Homma
1990; values as in Saltelli et al. 2008, "Global Sensitivity Analysis: The Primer", sec. 4.5):

    V   = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2
    V1  = (1 + b pi^4/5)^2 / 2,   V2 = a^2/8,   V3 = 0,   V13 = b^2 pi^8 (1/18 - 1/50)
    S   = (V1, V2, 0) / V = (0.3139, 0.4424, 0)
    ST  = (V1 + V13, V2, V13) / V = (0.5576, 0.4424, 0.2437)

Tolerance: 5 bootstrap standard errors (the bootstrap SE is the estimator's Monte Carlo SE), with
N = 2^14 rows and a pinned NumPy seed; the bootstrap 95 % interval must also cover the truth.
"""

from __future__ import annotations

import math

import numpy as np

from engine.sensitivity.sobol import sobol

A_, B_ = 7.0, 0.1


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + A_ * np.sin(x[:, 1]) ** 2 + B_ * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_ishigami_indices() -> None:
    pi = math.pi
    V = A_**2 / 8 + B_ * pi**4 / 5 + B_**2 * pi**8 / 18 + 0.5
    V1 = 0.5 * (1 + B_ * pi**4 / 5) ** 2
    V2 = A_**2 / 8
    V13 = B_**2 * pi**8 * (1 / 18 - 1 / 50)
    s1_true = np.array([V1, V2, 0.0]) / V
    st_true = np.array([V1 + V13, V2, V13]) / V
    assert np.allclose(s1_true, [0.3139, 0.4424, 0.0], atol=1e-4) and np.allclose(st_true, [0.5576, 0.4424, 0.2437], atol=1e-4)

    rng = np.random.default_rng(20261126)
    N = 2**14
    A = rng.uniform(-pi, pi, (N, 3))
    B = rng.uniform(-pi, pi, (N, 3))
    fAB = []
    for i in range(3):
        ABi = A.copy()
        ABi[:, i] = B[:, i]
        fAB.append(ishigami(ABi))
    res = sobol(ishigami(A), ishigami(B), np.array(fAB), n_boot=300, seed=1)
    for est, se, ci, true in ((res["S1"], res["S1_se"], res["S1_ci"], s1_true), (res["ST"], res["ST_se"], res["ST_ci"], st_true)):
        assert np.all(np.abs(est - true) < 5 * se), (est, se, true)
        assert np.all(se < 0.03)  # the test has power: an SE this small separates the indices
        assert np.all((ci[:, 0] - 2 * se / 300**0.5 <= true) & (true <= ci[:, 1] + 2 * se / 300**0.5)), (ci, true)
