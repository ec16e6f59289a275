"""Month-to-month noise of one provider's list price, from the provider-level quotes (issue 3, backtest).

The GIX on-demand median of a month summarises the list prices of the n providers quoted that
month. Each provider's log price is (market level of the generation that month) + (the provider's
persistent position for that generation) + (a provider-month residual). The persistent positions
do not make the median noisy from month to month: the same providers with the same sticky lists
(the median change of a provider's own price between consecutive months is 0, sd 0.022 over all
data) come back month after month, and the latent market level of the price model tracks the mix.
What the median adds on top of the market level is the sampling noise of the residuals of its n
providers: sd = ``median_sd_factor(n) * s_w`` with ``s_w`` the sd of the provider-month residual.

``provider_residuals(prices)`` fits the two-way fixed-effects decomposition by least squares to the
``provider_restated`` rows (one value per provider, generation and month: the GIX per-provider
series behind the medians, restated to a common SXM benchmark) and returns the residual sum of
squares and its degrees of freedom (N - rank of the design). The price model turns them into the
likelihood of ``s_w`` (``RSS / s_w^2 ~ chi^2(df)``): the restated quotes inform the noise scale
only, not the price level, so the medians and the restated quotes (the same archived quotes) are
not counted twice for the level.

``median_sd_factor(n)``: sd of the sample median of n iid N(0, 1) draws (the mean of the middle two
for even n), by seeded Monte Carlo with 400,000 samples (relative MC error ~0.11 %): 1 for n = 1,
1/sqrt(2) for n = 2, 0.670 for n = 3, tending to sqrt(pi / 2) / sqrt(n) = 1.2533 / sqrt(n).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

SERIES = "provider_restated"
MC_SAMPLES = 400_000


@dataclass(frozen=True)
class ProviderResiduals:
    """Residuals of log provider prices after month x generation and provider x generation effects."""

    rss: float  # residual sum of squares (log scale)
    df: int  # residual degrees of freedom: rows - rank of the design
    n_rows: int  # provider-month quotes used
    n_cells: int  # generation-months
    n_effects: int  # provider x generation effects

    @property
    def sd(self) -> float:
        """The unbiased point estimate sqrt(RSS / df); nan without degrees of freedom."""
        return float(np.sqrt(self.rss / self.df)) if self.df > 0 else float("nan")


def provider_residuals(prices: pd.DataFrame, generations: list[str]) -> ProviderResiduals:
    """Two-way fixed effects on the dated ``provider_restated`` point rows of ``generations``.

    ``prices``: tidy rows as ``observations_io.read_table`` returns them (already cut at the as-of
    date). log price ~ cell[generation, month] + effect[provider, generation]; RSS and df exact
    (least squares with the full dummy design; df = N - rank).
    """
    df = prices[(prices["series"] == SERIES) & prices["dated"] & prices["generation"].isin(generations)].copy()
    lo = pd.to_numeric(df["value_low"], errors="coerce")
    hi = pd.to_numeric(df["value_high"], errors="coerce")
    df = df[(lo > 0) & (lo == hi)]
    if df.empty:
        return ProviderResiduals(0.0, 0, 0, 0, 0)
    y = np.log(pd.to_numeric(df["value_low"]).to_numpy(float))
    cell = (df["generation"] + "/" + df["when"].dt.strftime("%Y-%m")).to_numpy()
    eff = (df["generation"] + "/" + df["entity"].astype(str)).to_numpy()
    cells, ci = np.unique(cell, return_inverse=True)
    effs, ei = np.unique(eff, return_inverse=True)
    X = np.zeros((len(y), len(cells) + len(effs)))
    X[np.arange(len(y)), ci] = 1.0
    X[np.arange(len(y)), len(cells) + ei] = 1.0
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    rss = float(np.sum((y - X @ coef) ** 2))
    rank = int(np.linalg.matrix_rank(X))
    return ProviderResiduals(rss=rss, df=int(len(y) - rank), n_rows=int(len(y)), n_cells=len(cells), n_effects=len(effs))


@lru_cache(maxsize=None)
def _factor(n: int) -> float:
    if n <= 2:
        return 1.0 / np.sqrt(n)  # the median of one or two draws is their mean
    rng = np.random.default_rng(1000 + n)
    chunk = max(1, 4_000_000 // n)  # at most ~32 MB of draws at a time
    meds = np.concatenate([np.median(rng.standard_normal((min(chunk, MC_SAMPLES - i), n)), axis=1)
                           for i in range(0, MC_SAMPLES, chunk)])
    return float(np.std(meds, ddof=1))


def median_sd_factor(n) -> np.ndarray:
    """sd of the median of n iid standard normals, elementwise for n >= 1 (0 where n <= 0: no
    median noise, e.g. single quotes). Integer n (provider counts); non-integers are rounded."""
    n = np.asarray(n, float)
    out = np.zeros(n.shape)
    for v in np.unique(n[np.isfinite(n) & (n >= 1)]):
        out[n == v] = _factor(int(round(v)))
    return out


def sku_mix_offsets(prices: pd.DataFrame, generations: list[str]) -> pd.DataFrame:
    """The product-mix part of each on-demand median, measured: log(raw GIX median) - median of the
    log ``provider_restated`` prices of the same generation and month (the same providers' quotes
    restated to one SXM benchmark, so the difference is what the raw median's mix of SKUs (PCIe/SXM,
    40/80 GB, instance sizes) adds). Columns: generation, month (YYYY-MM), n_providers (behind the
    raw median; its n_quotes where it has none), offset_log. Months without both are left out.
    ``prices``: tidy rows as ``read_table`` returns them, already cut at the as-of date."""
    base = prices[prices["dated"] & prices["generation"].isin(generations)].copy()
    base["month"] = base["when"].dt.strftime("%Y-%m")
    base["v"] = pd.to_numeric(base["value_low"], errors="coerce")
    point = (base["v"] > 0) & (base["v"] == pd.to_numeric(base["value_high"], errors="coerce"))
    med = base[point & (base["series"] == "market_median") & (base["basis"] == "on_demand")]
    prov = base[point & (base["series"] == SERIES)]
    if med.empty or prov.empty:
        return pd.DataFrame(columns=["generation", "month", "n_providers", "offset_log"])
    rest = prov.assign(lv=np.log(prov["v"])).groupby(["generation", "month"])["lv"].median()
    rows = []
    for _, r in med.iterrows():
        key = (r["generation"], r["month"])
        if key not in rest.index:
            continue
        n = pd.to_numeric(r.get("n_providers", np.nan), errors="coerce")
        if not n > 0:
            n = pd.to_numeric(r.get("n_quotes", np.nan), errors="coerce")
        if not n > 0:
            continue
        rows.append({"generation": key[0], "month": key[1], "n_providers": float(n), "offset_log": float(np.log(r["v"]) - rest[key])})
    return pd.DataFrame(rows, columns=["generation", "month", "n_providers", "offset_log"])
