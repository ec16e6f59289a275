"""Gaussian copula for rank correlations between uncertain inputs.

A Spearman rank correlation r_s between two inputs is imposed by correlating their normal scores
with Pearson correlation rho = 2 sin(pi r_s / 6) (exact for the Gaussian copula); each input then
goes through its own quantile function, so its marginal distribution is unchanged.
"""

from __future__ import annotations

import math

import numpy as np


def spearman_to_pearson(rank: float) -> float:
    return 2.0 * math.sin(math.pi * rank / 6.0)


def copula_matrix(names: list[str], pairs: list[tuple[str, str, float]]) -> np.ndarray:
    """Lower Cholesky factor of the normal-score correlation matrix over ``names``.

    Raises ``ValueError`` when the pairs do not form a valid (positive definite) correlation matrix.
    """
    index = {n: i for i, n in enumerate(names)}
    r = np.eye(len(names))
    for a, b, rank in pairs:
        i, j = index[a], index[b]
        r[i, j] = r[j, i] = spearman_to_pearson(rank)
    try:
        return np.linalg.cholesky(r)
    except np.linalg.LinAlgError:
        raise ValueError("the rank correlations are inconsistent (the correlation matrix is not positive definite)") from None
