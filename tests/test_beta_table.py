"""The Beta quantile table (engine/inputs/distributions._beta_table) uses scipy.special.betaincinv, not
scipy.stats (whose import cost 2-3 s of every run): the table must equal scipy.stats.beta.ppf exactly."""

import numpy as np
import pytest
from scipy.special import ndtr
from scipy.stats import beta

from engine.inputs.distributions import Z_GRID, _beta_table


@pytest.mark.parametrize("a, b", [(14.0, 6.0), (2.0, 5.0), (0.5, 0.5), (1.2, 30.0), (50.0, 3.0), (1.0, 1.0), (3.7, 2.2)])
def test_beta_table_equals_scipy_stats(a, b):
    want = beta.ppf(ndtr(Z_GRID), a, b)
    want[0], want[-1] = max(want[0], 0.0), min(want[-1], 1.0)
    assert np.array_equal(_beta_table(a, b), want)
