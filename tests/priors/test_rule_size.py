"""research/rule_size.py: the simulation that sizes the backtest's adoption rules.

Fast (numpy, < 2 s). The forecaster there is calibrated by construction, so its pooled 80 % coverage
must average 0.80; the structure must reproduce the backtest's observation counts (docs/priors.md,
"Monthly origins (session 6)": 12 at 2024-06 ... 10, 18 at 2024-11 and 12, 96 in all; 12 / 12 / 18
at the quarterly origins).
"""

import numpy as np
import pytest

from research import rule_size as rs


def test_structure_gives_the_backtests_counts():
    rng = np.random.default_rng(1)
    _, scored = rs.simulate(0.04, 0.05, rs.MONTHLY_ORIGINS, 3, rng)
    assert scored[0].tolist() == [12, 12, 12, 12, 12, 18, 18] and scored[0].sum() == 96
    _, scored_q = rs.simulate(0.04, 0.05, rs.QUARTERLY_ORIGINS, 3, rng)
    assert scored_q[0].tolist() == [12, 12, 18]


@pytest.mark.parametrize("level", [0.5, 0.8])
def test_calibrated_forecaster_covers_at_its_level(level):
    # n = 3000 histories; a history's pooled coverage of its 96 dependent observations has sd ~0.10-0.11
    # (measured with this seed: 0.110 at 50 %, 0.099 at 80 %; 0.041-0.046 if they were independent,
    # which is the point of the module); bounded here by 0.15, so the mean's SE is <= 0.15 / sqrt(3000)
    # = 0.0027; tolerance 5 SE = 0.014
    rng = np.random.default_rng(20261126)
    cov, sc = rs.simulate(0.046, 0.05, rs.MONTHLY_ORIGINS, 3000, rng, level=level)
    pooled = cov.sum(axis=1) / sc.sum(axis=1)
    assert pooled.std() < 0.15
    assert pooled.mean() == pytest.approx(level, abs=5 * 0.15 / np.sqrt(3000))


def test_rule_probabilities_counts_by_hand():
    # two histories, two origins of 10 observations: (10, 7) -> pooled 0.85, origin 1 at 1.00 outside
    # [0.60, 0.99] (one outside: clause 3 passes); (5, 5) -> pooled 0.5 (clause 1 fails), both origins
    # at 0.5 outside (clause 3 fails)
    covered = np.array([[10, 7], [5, 5]])
    scored = np.full((2, 2), 10)
    r = rs.rule_probabilities(covered, scored, [0.85], [1, 2])
    assert r["clause1_pooled_in_0.70_0.90"]["p"] == 0.5
    assert r["clause3_at_most_one_origin_outside"]["p"] == 0.5
    assert r["clauses_1_and_3"]["p"] == 0.5
    assert r["pooled_at_least_0.85"]["p"] == 0.5
    # fully covered origins: 1 in the first history (10 of 10), 0 in the second
    assert r["origins_fully_covered_at_least_1"]["p"] == 0.5 and r["origins_fully_covered_at_least_2"]["p"] == 0.0
