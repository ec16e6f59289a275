"""summary.json from streamed statistics (engine.reduce), for runs too large to gather every path.

``summarize_streamed`` evaluates the statistics declared in engine/stats/declarations.py, the same
declaration ``engine.summary.summarize`` evaluates, over the streamed reductions
(engine/stats/streamed.py): same keys in the same order by construction. The differences in value are
stated in engine/reduce.py: means and SEs equal the gathered ones up to float rounding (pairwise
float32 block sums, <= 5e-7 sd), probabilities and month quantiles are exact (integer counts), value
quantiles are within one histogram bin (``quantile_error_bound``); tests/test_streaming.py checks both
routes agree within these bounds.

The fleet's per-path values (engine/stats/fleet.py) are derived per path on the device first
(``derived_paths``), then reduced like any other key.
"""

from __future__ import annotations

import numpy as np

from engine.reduce import Column, flat_index
from engine.stats import summarize_streamed as _summarize_streamed
from engine.stats.fleet import device_fleet_paths, fleet_capital_usd


def derived_paths(model, res: dict) -> dict:
    """Per-path fleet values and joint flags (JAX, inside the chunk function): name -> (B, ...)
    (engine.stats.fleet.fleet_paths)."""
    return device_fleet_paths(fleet_capital_usd(model), res)


def summarize_streamed(model, cols: dict[str, Column], n_paths: int, *, standards: tuple[str, ...]) -> dict:
    """The statistics of summary.json (fleet and each cohort) from accumulated columns."""
    return _summarize_streamed(model, cols, n_paths, standards=standards)


def impaired_by_month_streamed(col: Column, idx_list, shape_out, T: int, n_paths: int):
    """P(first impairment <= t), t = 1..T, and its SE from month counts: (T, *shape_out) arrays."""
    p = np.zeros((T, len(idx_list)))
    for k, j in enumerate(idx_list):
        counts = col.int_counts(j)[1 : T + 1]
        p[:, k] = np.cumsum(counts) / n_paths
    p = p.reshape((T,) + tuple(shape_out))
    return p, np.sqrt(p * (1 - p) / n_paths)


def quantile_error_bounds(cols: dict[str, Column]) -> dict[str, list[float]]:
    """Per key, per flat column: the largest error of a value quantile (one bin width; 0 if exact)."""
    return {k: [c.quantile_error_bound(j) for j in range(c.plan.c.size)] for k, c in cols.items()}


def should_stream(store: str, n_paths: int) -> bool:
    """Stream (reduce on the device) when only the summary is stored and the run is large."""
    from engine.reduce import EXACT_MAX_PATHS

    return store == "summary" and n_paths > EXACT_MAX_PATHS


def reduction_note(run) -> dict:
    """What summary.json's statistics of a streamed run are (recorded under run.reduction)."""
    from engine.reduce import BINS, BLOCK_PATHS, PILOT_PATHS

    bounds = quantile_error_bounds(run.reduced)
    return {
        "method": "streamed: per-chunk reduction on the device (engine/reduce.py)",
        "means": f"float64 sums of float32-or-better block sums of {BLOCK_PATHS} paths (relative error <= 1.5e-5 sd)",
        "probabilities_and_months": "exact integer counts",
        "value_quantiles": f"histogram of {BINS} bins over 3x the range of the first {PILOT_PATHS} paths; error <= one bin",
        "quantile_error_bound": {k: v if len(v) > 1 else v[0] for k, v in bounds.items()},
    }


def impaired_by_month_from_run(run, s_idx, model):
    """((T, S', C) p and SE by cohort, (T, S') p and SE for the fleet) of a streamed run."""
    cols = run.reduced
    col = cols["first_impairment_month"]
    by_cohort = impaired_by_month_streamed(col, [flat_index(col.plan.shape, s, c) for s in s_idx for c in range(model.C)], (len(s_idx), model.C), model.T, run.n_paths)
    fcol = cols["fleet_first_impairment_month"]
    fleet = impaired_by_month_streamed(fcol, [flat_index(fcol.plan.shape, s) for s in s_idx], (len(s_idx),), model.T, run.n_paths)
    return by_cohort, fleet
