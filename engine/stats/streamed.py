"""The streamed backend: summary.json's statistics from per-chunk reductions (engine/reduce.py).

``StreamedReduction(cols, n_paths)`` evaluates the primitive leaves of engine/stats/declarations.py
from the accumulated ``Column``s (one per per-path key, the fleet's per-path values among them:
``engine.stats.fleet.device_fleet_paths`` derives them inside the compiled chunk function).
Differences from the exact backend, as engine/reduce.py states them: means and SEs equal the
gathered ones up to float rounding (pairwise float32 block sums, <= 5e-7 sd), probabilities and
month quantiles are exact (integer counts), value quantiles are within one histogram bin
(``Column.quantile_error_bound``).
"""

from __future__ import annotations

import math

import numpy as np

from engine.reduce import Column, flat_index
from engine.stats.declarations import Source
from engine.stats.estimators import QUANTILES, nan_stat, prob_from_count, quantile_key


def month_quantiles_from_counts(counts: np.ndarray, labels) -> dict:
    """numpy 'inverted_cdf' quantiles of the months of the paths with an event, from counts by month 0..T."""
    hits = counts[1 : len(labels) + 1]
    k = int(hits.sum())
    if k == 0:
        return {}
    cum = np.cumsum(hits)
    out = {}
    for q in QUANTILES:
        j = math.floor(k * q)
        idx = j if k * q - j > 0 else j - 1
        t = int(np.searchsorted(cum, max(idx, 0), side="right")) + 1
        out[quantile_key(q)] = labels[t - 1]
    return out


class StreamedReduction:
    """Primitive reductions over accumulated columns; each returns summary.json's value."""

    def __init__(self, cols: dict[str, Column], n_paths: int):
        self.cols = cols
        self.n_paths = n_paths

    def column(self, src: Source) -> tuple[Column, int]:
        """The key's Column and the flat index of ``src``'s column in it."""
        col = self.cols[src.key]
        return col, flat_index(col.plan.shape, *src.index)

    def _count_within(self, src: Source, t: int | None) -> int:
        """Paths with 0 < x <= t (t None: x > 0), from the exact integer counts."""
        col, j = self.column(src)
        cum = np.cumsum(col.int_counts(j))
        return int((cum[-1] if t is None else cum[min(t, cum.size - 1)]) - cum[0])

    def mean(self, src: Source, _=None) -> dict:
        col, j = self.column(src)
        return col.mean(j)

    def quantile(self, src: Source, q: float) -> dict:
        col, j = self.column(src)
        return col.quantile(j, q)

    def p_positive(self, src: Source, _=None) -> dict:
        return prob_from_count(self._count_within(src, None), self.n_paths)

    def p_within(self, src: Source, t: int) -> dict:
        return prob_from_count(self._count_within(src, t), self.n_paths)

    def p_not_finite(self, src: Source, _=None) -> dict:
        # +inf or NaN: the column counts its finite values exactly
        col, j = self.column(src)
        return prob_from_count(self.n_paths - int(col.n[j]), self.n_paths)

    def mean_given(self, src: Source, given: Source) -> dict:
        """Mean of ``src`` over the paths with ``given > 0``; ``src`` is 0 or not finite on the others (the
        declaration's contract, e.g. the impairment loss is positive exactly on impaired paths), so its
        sums over all finite values are the sums over those paths."""
        n_hit = self._count_within(given, None)
        if n_hit == 0:
            return nan_stat()
        col, j = self.column(src)
        _, s, s2 = col.raw_sums(j)
        var = max(s2 - s * s / n_hit, 0.0) / (n_hit - 1) if n_hit > 1 else 0.0
        return {"value": s / n_hit, "se": math.sqrt(var / n_hit)}

    def quantile_given(self, src: Source, arg: tuple[Source, float]) -> dict:
        """Quantile q of ``src`` over the paths with ``given > 0``: its finite values, when they are exactly
        those paths (the declaration's contract: ``src`` is not finite on the others)."""
        given, q = arg
        n_hit = self._count_within(given, None)
        if n_hit == 0:
            return nan_stat()
        col, j = self.column(src)
        if int(col.n[j]) != n_hit:
            raise ValueError(f"quantile of {src.key} given {given.key} > 0: {int(col.n[j])} finite values on {n_hit} such paths; "
                             "the streamed route needs the values finite exactly on those paths")
        return col.quantile(j, q)

    def month_quantiles(self, src: Source, labels: tuple[str, ...]) -> dict:
        col, j = self.column(src)
        return month_quantiles_from_counts(col.int_counts(j), labels)
