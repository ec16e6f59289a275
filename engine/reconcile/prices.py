"""Observed monthly on-demand market rental price of each generation, USD per GPU-hour.

Source: priors/observations/rental_prices.csv rows ``series = market_median``, ``basis = on_demand``,
``entity = gix`` (the raw on-demand median of the monthly rental index, shared/data/market/
rental_index_monthly.csv ``raw_on_demand_median``, derived by priors/observations/derive_market.py).

Months without an observation:
* before a generation's first observation: its first observed value (back-filled);
* between two observations: the earlier one (carried forward);
* after its last observation (the series stop at 2025-06): geometric interpolation from the last
  observation to the scenario's expected market price at ``run.start_month``
  (``market.<GEN>.price_usd_per_gpu_hour``), which baseline.toml derives from the same series;
* a generation with no observation: the scenario's expected price, flat.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from engine.scenario.schema import month_index

RENTAL_CSV = Path(__file__).resolve().parents[2] / "priors" / "observations" / "rental_prices.csv"


def observed_series(path: Path = RENTAL_CSV) -> dict[str, dict[int, float]]:
    """generation -> {absolute month: raw on-demand median USD/GPU-hour}."""
    out: dict[str, dict[int, float]] = {}
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            if r["series"] == "market_median" and r["basis"] == "on_demand" and r["entity"] == "gix" and r["date"]:
                out.setdefault(r["generation"], {})[month_index(r["date"][:7])] = float(r["value_low"])
    return out


def price_path_usd_per_gpu_hour(obs: dict[int, float], months_abs: np.ndarray, start_abs: int, start_price_usd: float) -> np.ndarray:
    """The market price in each of ``months_abs`` (shape (M,)) by the rules in the module docstring."""
    out = np.empty(len(months_abs))
    if not obs:
        out[:] = start_price_usd
        return out
    keys = sorted(obs)
    first, last = keys[0], keys[-1]
    for j, m in enumerate(months_abs):
        m = int(m)
        if m <= first:
            out[j] = obs[first]
        elif m <= last:
            prev = max(k for k in keys if k <= m)
            out[j] = obs[prev]
        elif m < start_abs:
            w = (m - last) / (start_abs - last)
            out[j] = obs[last] * (start_price_usd / obs[last]) ** w
        else:
            out[j] = start_price_usd
    return out
