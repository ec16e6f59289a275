"""The exact backend: summary.json's statistics from per-path results gathered on the host, in path order.

``ExactReduction(arrays)`` evaluates the primitive leaves of engine/stats/declarations.py with the
estimators of engine/stats/estimators.py over (P,) columns of ``arrays`` (name -> (P, ...) array):
the run's per-path results and the fleet's per-path values (``with_fleet_paths``). The statistics do
not depend on the chunk size (the arrays are in path order).
"""

from __future__ import annotations

import numpy as np

from engine.stats.declarations import Source
from engine.stats.estimators import mean, month_quantiles, nan_stat, prob, quantile
from engine.stats.fleet import fleet_capital_usd, fleet_paths, sum_cohorts_float64


def with_fleet_paths(model, scalars: dict) -> dict:
    """The run's per-path results and the fleet's per-path values (NumPy, float64 sums)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return {**scalars, **fleet_paths(fleet_capital_usd(model), scalars, xp=np, sum_cohorts=sum_cohorts_float64)}


class ExactReduction:
    """Primitive reductions over gathered per-path columns; each returns summary.json's value."""

    def __init__(self, arrays: dict):
        self.arrays = arrays
        self._sorted: tuple = (None, None)  # (src, its finite values sorted, float64): the last column a quantile read

    def sorted_column(self, src: Source) -> np.ndarray:
        """(P',) the finite values of ``src``, float64, sorted: the same quantiles as the column, and a
        statistic's several quantiles of one column sort it once (one column kept: memory stays bounded)."""
        if self._sorted[0] != src:
            x = np.asarray(self.column(src), dtype=np.float64)
            self._sorted = (src, np.sort(x[np.isfinite(x)]))
        return self._sorted[1]

    def column(self, src: Source) -> np.ndarray:
        """(P,) values of ``src``."""
        return self.arrays[src.key][(slice(None),) + src.index]

    def mean(self, src: Source, _=None) -> dict:
        return mean(self.column(src))

    def quantile(self, src: Source, q: float) -> dict:
        return quantile(self.sorted_column(src), q)

    def p_positive(self, src: Source, _=None) -> dict:
        return prob(self.column(src) > 0)

    def p_within(self, src: Source, t: int) -> dict:
        x = self.column(src)
        return prob((x > 0) & (x <= t))

    def p_not_finite(self, src: Source, _=None) -> dict:
        return prob(~np.isfinite(self.column(src).astype(np.float64)))

    def mean_given(self, src: Source, given: Source) -> dict:
        hit = self.column(given) > 0
        return mean(self.column(src)[hit]) if np.any(hit) else nan_stat()

    def quantile_given(self, src: Source, arg: tuple[Source, float]) -> dict:
        given, q = arg
        hit = self.column(given) > 0
        return quantile(self.column(src)[hit], q) if np.any(hit) else nan_stat()

    def month_quantiles(self, src: Source, labels: tuple[str, ...]) -> dict:
        return month_quantiles(self.column(src), labels)
