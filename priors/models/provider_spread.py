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
    df = _panel_rows(prices, generations)
    if df.empty:
        return ProviderResiduals(0.0, 0, 0, 0, 0)
    y, X, coef, n_cells, n_effs = _two_way_fit(df)
    rss = float(np.sum((y - X @ coef) ** 2))
    rank = int(np.linalg.matrix_rank(X))
    return ProviderResiduals(rss=rss, df=int(len(y) - rank), n_rows=int(len(y)), n_cells=n_cells, n_effects=n_effs)


def _panel_rows(prices: pd.DataFrame, generations: list[str]) -> pd.DataFrame:
    """The dated ``provider_restated`` point rows (value_low == value_high > 0) of ``generations``."""
    df = prices[(prices["series"] == SERIES) & prices["dated"] & prices["generation"].isin(generations)].copy()
    lo = pd.to_numeric(df["value_low"], errors="coerce")
    hi = pd.to_numeric(df["value_high"], errors="coerce")
    return df[(lo > 0) & (lo == hi)]


def _two_way_fit(df: pd.DataFrame):
    """Least squares of log price on generation-month cell dummies plus provider x generation dummies.
    Returns (y (N,), X (N, cells + effects), coef (minimum-norm), n_cells, n_effects)."""
    y = np.log(pd.to_numeric(df["value_low"]).to_numpy(float))
    cell = (df["generation"] + "/" + df["when"].dt.strftime("%Y-%m")).to_numpy()
    eff = (df["generation"] + "/" + df["entity"].astype(str)).to_numpy()
    cells, ci = np.unique(cell, return_inverse=True)
    effs, ei = np.unique(eff, return_inverse=True)
    X = np.zeros((len(y), len(cells) + len(effs)))
    X[np.arange(len(y)), ci] = 1.0
    X[np.arange(len(y)), len(cells) + ei] = 1.0
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    return y, X, coef, len(cells), len(effs)


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


# --- persistence of the median's composition error (issue 3, backtest: the two-step predictive) ---
# Lags with fewer than this many provider pairs (same provider, months t and t + h) or generation-
# month pairs say nothing usable about the persistence: rho_h = 0 there (the independent noise the
# fit assumes). At the 2024-06/09/12 cutoffs every lag 1..6 has 28+ provider pairs and 18+ month pairs.
MIN_PAIRS = 5


@dataclass(frozen=True)
class CompositionPersistence:
    """rho_h, the lag-h correlation of the on-demand median's composition error, h = 1..max_lag.

    rho_h = J_h * phi_h (clipped to [0, 1]), all arrays of shape (max_lag,), index h - 1:
    overlap_frac = J_h, the mean over generation-month pairs (t, t + h) that both have a panel of
    |K_t & K_t+h| / sqrt(|K_t| |K_t+h|) (K_t: the providers quoted in month t);
    offset_corr = phi_h, the pooled lag-h correlation of one provider's deviation from its
    generation-month level; n_month_pairs, n_provider_pairs: how many pairs each rests on."""

    as_of: str
    rho: np.ndarray
    overlap_frac: np.ndarray
    offset_corr: np.ndarray
    n_month_pairs: np.ndarray
    n_provider_pairs: np.ndarray

    def to_dict(self) -> dict:
        r = lambda a: [round(float(v), 4) for v in a]  # noqa: E731
        return {"as_of": self.as_of, "rho_by_lag": r(self.rho), "overlap_frac_by_lag": r(self.overlap_frac),
                "offset_corr_by_lag": r(self.offset_corr), "n_month_pairs": [int(v) for v in self.n_month_pairs],
                "n_provider_pairs": [int(v) for v in self.n_provider_pairs]}


def provider_deviations(prices: pd.DataFrame, generations: list[str]) -> pd.DataFrame:
    """Each provider's log deviation from its generation-month level: d[k,g,t] = log p[k,g,t] - c[g,t],
    c the cell effects of the two-way fit (``_two_way_fit``: generation-month + provider x generation),
    centred over each generation's rows (the split of a constant between cells and provider effects is
    not identified; centring removes it). Columns: generation, entity, mi (month index y * 12 + m - 1),
    dev_log. ``prices``: tidy rows, already cut at the as-of."""
    df = _panel_rows(prices, generations)
    if df.empty:
        return pd.DataFrame(columns=["generation", "entity", "mi", "dev_log"])
    y, X, coef, n_cells, _ = _two_way_fit(df)
    cell_effect = X[:, :n_cells] @ coef[:n_cells]
    out = pd.DataFrame({"generation": df["generation"].to_numpy(), "entity": df["entity"].astype(str).to_numpy(),
                        "mi": (df["when"].dt.year * 12 + df["when"].dt.month - 1).to_numpy(int), "dev_log": y - cell_effect})
    # one value per provider, generation and month (the table has one; a duplicate would count twice)
    out = out.groupby(["generation", "entity", "mi"], as_index=False)["dev_log"].mean()
    out["dev_log"] -= out.groupby("generation")["dev_log"].transform("mean")
    return out


def composition_persistence(prices: pd.DataFrame, generations: list[str], as_of: str, max_lag: int,
                            min_pairs: int = MIN_PAIRS) -> CompositionPersistence:
    """rho_h (h = 1..max_lag) of the on-demand median's composition error, from the provider panel
    dated at or before the end of month ``as_of`` (YYYY-MM; later and undated rows are dropped here,
    whatever ``prices`` holds).

    The median of month t is treated as the mean of its panel's deviations, e_t = mean_{k in K_t} d[k,t],
    with providers independent of each other, Var(d) the same for all, and one provider's own lag-h
    correlation phi_h; then Corr(e_t, e_t+h) = |K_t & K_t+h| phi_h / sqrt(|K_t| |K_t+h|). Pooled over
    generations and months: rho_h = J_h phi_h, J_h the mean overlap fraction, phi_h = sum d_t d_t+h /
    sqrt(sum d_t^2 sum d_t+h^2) over the same provider's pairs. A lag with fewer than ``min_pairs``
    month or provider pairs gets rho_h = 0."""
    from priors.observations_io import month_end

    import re

    if not isinstance(as_of, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", as_of):
        raise ValueError(f"as_of must be YYYY-MM, got {as_of!r}")
    if not isinstance(max_lag, (int, np.integer)) or max_lag < 1:
        raise ValueError(f"max_lag must be a positive number of months, got {max_lag!r}")
    cutoff = month_end(as_of)
    kept = prices[prices["dated"] & (prices["when"] <= cutoff)]
    dev = provider_deviations(kept, generations)
    lags = np.arange(1, max_lag + 1)
    J, phi = np.zeros(max_lag), np.zeros(max_lag)
    n_month, n_prov = np.zeros(max_lag, int), np.zeros(max_lag, int)
    panels = {(g, t): set(s["entity"]) for (g, t), s in dev.groupby(["generation", "mi"])}
    value = {(g, e, t): v for g, e, t, v in zip(dev["generation"], dev["entity"], dev["mi"], dev["dev_log"])}
    for i, h in enumerate(lags):
        fr = [len(k & panels[(g, t + h)]) / np.sqrt(len(k) * len(panels[(g, t + h)]))
              for (g, t), k in panels.items() if (g, t + h) in panels]
        pairs = np.array([(v, value[(g, e, t + h)]) for (g, e, t), v in value.items() if (g, e, t + h) in value]).reshape(-1, 2)
        n_month[i], n_prov[i] = len(fr), len(pairs)
        if len(fr) < min_pairs or len(pairs) < min_pairs:
            continue
        J[i] = float(np.mean(fr))
        den = np.sqrt(np.sum(pairs[:, 0] ** 2) * np.sum(pairs[:, 1] ** 2))
        phi[i] = float(np.sum(pairs[:, 0] * pairs[:, 1]) / den) if den > 0 else 0.0
    rho = np.clip(J * phi, 0.0, 1.0)
    return CompositionPersistence(as_of=str(as_of), rho=rho, overlap_frac=J, offset_corr=phi,
                                  n_month_pairs=n_month, n_provider_pairs=n_prov)
