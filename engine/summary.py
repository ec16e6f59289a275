"""summary.json's statistics from gathered per-path results, and the host-side monthly summaries.

``summarize(model, run, standards=)`` reports the statistics declared in
engine/stats/declarations.py, evaluated exactly over the run's per-path results (engine/stats/exact.py;
standard errors as engine/stats/estimators.py states them). All statistics come from per-path arrays
gathered in path order, so they do not depend on the chunk size. Monthly fans (quantiles by month)
come from the first ``fan_paths`` paths.

The estimators (``prob``, ``mean``, ``quantile``, ``distribution``) and ``first_month_fleet`` are
re-exported here for the modules that summarize other per-path results with them (credit, capex).
"""

from __future__ import annotations

import numpy as np

from engine.stats import summarize_exact
from engine.stats.estimators import LOSS_QUANTILES, QUANTILES, STANDARD_NAMES, distribution, mean, prob, quantile
from engine.stats.fleet import first_month as first_month_fleet

__all__ = ["LOSS_QUANTILES", "QUANTILES", "STANDARD_NAMES", "distribution", "fan", "first_month_fleet", "impaired_by_month", "mean", "prob", "quantile", "summarize"]


def summarize(model, run, *, standards: tuple[str, ...]) -> dict:
    """The statistics of summary.json: {"fleet": ..., "cohorts": {name: ...}} from ``run.scalars``."""
    return summarize_exact(model, run.scalars, standards=standards)


def impaired_by_month(first: np.ndarray, T: int) -> tuple[np.ndarray, np.ndarray]:
    """P(first impairment <= t) for t = 1..T, and its SE.

    first: (P, ...) first impairment month (0 = never) -> two (T, ...) arrays.
    """
    n = first.shape[0]
    flat = first.reshape(n, -1).astype(np.int64)
    counts = np.stack([np.bincount(flat[:, j], minlength=T + 1)[1 : T + 1] for j in range(flat.shape[1])], axis=1)
    p = (np.cumsum(counts, axis=0) / n).reshape((T,) + first.shape[1:])
    return p, np.sqrt(p * (1 - p) / n)


def fan(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P_fan, T, ...) -> quantiles (Q, T, ...) and mean (T, ...).

    The quantiles are taken along a contiguous last axis (the paths moved there in one copy): the same
    values as along axis 0, without NumPy's slower strided partition (docs/decisions/0019)."""
    x = np.asarray(values, dtype=np.float64)
    by_path_last = np.ascontiguousarray(np.moveaxis(x, 0, -1))  # (T, ..., P_fan)
    return np.quantile(by_path_last, QUANTILES, axis=-1), x.mean(axis=0)  # (Q, T, ...): the quantiles' axis first
