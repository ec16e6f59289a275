"""Scores of probability forecasts of binary outcomes (plain Python, checkable by hand).

For forecasts p_i = P(outcome i = 1) and outcomes y_i in {0, 1}, i = 1..n:

    Brier score                       B = (1/n) sum_i (p_i - y_i)^2          (0 best, 1 worst)
    probability of what was observed  L = prod_i p_i^y_i (1 - p_i)^(1 - y_i)
    its natural log                   log L = sum_i [y_i log p_i + (1 - y_i) log(1 - p_i)]

A constant forecast c has B = (1/n) sum_i (c - y_i)^2: 0.25 for c = 0.5 whatever happens.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def _check(p: Sequence[float], y: Sequence[int]) -> None:
    if len(p) != len(y) or not p:
        raise ValueError(f"need as many forecasts as outcomes, at least one (got {len(p)} and {len(y)})")
    if any(not 0.0 <= x <= 1.0 for x in p) or any(v not in (0, 1) for v in y):
        raise ValueError("forecasts must be probabilities in [0, 1] and outcomes 0 or 1")


def brier(p: Sequence[float], y: Sequence[int]) -> float:
    """Mean squared difference between forecast probability and outcome (0 best, 1 worst)."""
    _check(p, y)
    return sum((a - b) ** 2 for a, b in zip(p, y)) / len(p)


def log_prob_observed(p: Sequence[float], y: Sequence[int]) -> float:
    """Natural log of the probability the forecasts gave to every observed outcome together
    (independent company-years); -inf when an observed outcome had probability 0."""
    _check(p, y)
    total = 0.0
    for a, b in zip(p, y):
        q = a if b == 1 else 1.0 - a
        if q <= 0.0:
            return -math.inf
        total += math.log(q)
    return total


def prob_observed(p: Sequence[float], y: Sequence[int]) -> float:
    """Product over company-years of P(observed outcome): exp(log_prob_observed)."""
    return math.exp(log_prob_observed(p, y))


def constant_brier(c: float, y: Sequence[int]) -> float:
    """Brier score of the constant forecast ``c`` for every outcome (the comparison forecaster)."""
    return brier([c] * len(y), y)
