"""The provider panel in the price model's likelihood and forecast (``PriceModelConfig.provider_panel``,
on in the shipped model).

Data. ``obs.panel`` (``data.provider_panel_rows``): one row per provider x generation x month on the
model's monthly grid, columns g (index into ``data.GENERATIONS``), t (month index from the
grid start), pair (index into ``obs.panel_pairs``, labels "GEN/provider") and y, the log restated
on-demand list price in $/GPU-hour (8 x SXM benchmark; ``provider_restated`` rows dated at or before
the as-of month). Everything below is on the monthly natural-log scale.

Likelihood (``panel_terms``, inside the pm.Model): y[k,g,t] = m[g,t] + a[k,g] + w[k,g,t], m (G, T)
the latent log on-demand level, a (pairs,) sum-to-zero offsets, w a per-pair AR(1) in months; the
medians' product-mix mean mu_x (G,). The on-demand medians' product-mix part x = log M - median_k y
is scored in ``graph.build_model`` (Student-t or, with ``mix_noise="normal"``, Normal).

Forecast (``panel_median_noise``, the two parts returned separately): per posterior draw (S draws), generation (G) and horizon (H), the
median over the target month's n providers of (a + w) (``panel_composition_noise``, who the providers
are from ``panel_composition``) plus x; arrays (S, G, H), log.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from priors.models.price.config import PriceModelConfig
from priors.models.price.data import GENERATIONS, NU_GROUPS, PriceObs
from priors.models.price.draws import posterior_draws

# Priors of the panel's parameters (log scale, monthly):
# provider offsets a[k,g] ~ N(0, tau_a), tau_a ~ HalfNormal(0.5) (the providers' cross-sectional sd is
# 0.26-0.32, docs "What the provider-level quotes say"); a provider's deviation w is a stationary
# AR(1) across months with innovation sd s_w ~ Gamma(2, 40) (mean 0.05, zero-avoiding: a provider's own
# monthly change has sd 0.05-0.06) and persistence phi ~ Beta(1, 1) (normal, not t: see panel_terms);
# the raw median's mean product-mix offset over the panel median mix_mu[g] ~ N(0, 0.2) (measured
# -0.03 to -0.18 by provider count, provider_spread.sku_mix_offsets).
PANEL_OFFSET_SD_PRIOR = 0.5
PANEL_NOISE_RATE = 40.0
MIX_PRIOR_SD = 0.2


def panel_previous(panel: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For each panel row (sorted by pair, then month), the row index of the same provider x
    generation's previous panel month (-1 for its first) and the lag in months to it (0 for the first).
    Returns (prev (N,) int, lag_months (N,) int)."""
    k, t = panel["pair"].to_numpy(int), panel["t"].to_numpy(int)
    if len(k) and (np.any(np.diff(k) < 0) or np.any((np.diff(k) == 0) & (np.diff(t) <= 0))):
        raise ValueError("panel rows must be sorted by pair and month, one row per pair and month")
    first = np.r_[True, k[1:] != k[:-1]] if len(k) else np.zeros(0, bool)
    prev = np.where(first, -1, np.arange(len(k)) - 1)
    lag = np.where(first, 0, t - np.r_[t[:1], t[:-1]])
    return prev, lag


def sum_to_zero_matrix(obs: PriceObs) -> np.ndarray:
    """(pairs, pairs) C with a = C z: within each generation's K pairs, a_j = sqrt(K / (K - 1)) (z_j -
    mean z), so sum a = 0 and Var(a_j) = 1 for z ~ N(0, I); a generation with one pair gets a = 0."""
    P = len(obs.panel_pairs)
    C = np.zeros((max(P, 1), max(P, 1)))
    gens = [lab.split("/", 1)[0] for lab in obs.panel_pairs]
    for gen in set(gens):
        idx = [i for i, x in enumerate(gens) if x == gen]
        K = len(idx)
        if K > 1:
            C[np.ix_(idx, idx)] = np.sqrt(K / (K - 1)) * (np.eye(K) - 1.0 / K)
    return C


def panel_terms(obs: PriceObs, m):
    """Inside a pm.Model: the provider panel's likelihood and the on-demand medians' product-mix mean.

        y[p] = m[g_p, t_p] + a[pair_p] + w[p]                    (p: panel rows, ``obs.panel``)
        w of one provider x generation is a stationary AR(1) in months, observed with gaps:
          first row    w ~ N(0, s_w^2 / (1 - phi^2))
          later rows   w ~ N(phi^L w_prev, s_w^2 (1 - phi^(2L)) / (1 - phi^2)),  L = months since its previous row
        a[pair] = tau_a C z,  z ~ N(0, 1)                        (provider x generation offsets)
          C = sum_to_zero_matrix: within each generation a sums to 0 and each a[k] has sd tau_a, so
          m[g,t] is the mean level of the generation's panel providers (no ridge between m and a)
        tau_a ~ HalfNormal(PANEL_OFFSET_SD_PRIOR), s_w ~ Gamma(2, PANEL_NOISE_RATE) (monthly innovation sd),
        phi ~ Beta(1, 1)
        mix_mu[g] ~ N(0, MIX_PRIOR_SD)                           (returned, (G,): log raw median - panel median)

    m: (G, T) tensor of the latent log on-demand price. Given m and a, w = y - m - a is known, so the
    AR(1) needs no latent states: the likelihood is the product of the conditional normals above
    (a Potential, ``panel_loglik``). Adds provider_offset_sd, provider_offset_z[provider_pair],
    provider_noise_sd, provider_noise_persistence, median_mix_offset[generation] and the
    Deterministics provider_offset[provider_pair] and provider_deviation_last[provider_pair] = a + w at the pair's last panel month
    (what the forecast carries on).

    Why w is persistent and normal. The panel's list prices are sticky (77-82 % of a provider's
    monthly changes are exactly 0) and a provider's position persists (lag-h persistence phi_h
    0.8-0.96). Fitted as of 2024-06 before any scoring (4 x 200 draws), an iid Student-t w degenerates
    (s_w -> 0, dof -> 0.25, sigma 0.012: a walk on its drift plus a heavy tail that takes every list
    change as an outlier fits the ties exactly), and an iid normal w gives s_w 0.11, the size of the
    slow provider-specific drifts, whose fresh draws in the forecast then make the median's
    composition noise larger than the median's monthly changes. The AR(1) lets a provider's
    position persist in the fit and in the forecast alike."""
    import pymc as pm
    import pytensor.tensor as pt

    model = pm.modelcontext(None)
    model.add_coord("provider_pair", obs.panel_pairs or ["none"])
    tau_a = pm.HalfNormal("provider_offset_sd", PANEL_OFFSET_SD_PRIOR)
    z_a = pm.Normal("provider_offset_z", 0.0, 1.0, dims="provider_pair")
    a = pm.Deterministic("provider_offset", tau_a * pt.as_tensor(sum_to_zero_matrix(obs)) @ z_a, dims="provider_pair")
    s_w = pm.Gamma("provider_noise_sd", alpha=2.0, beta=PANEL_NOISE_RATE)
    phi = pm.Beta("provider_noise_persistence", 1.0, 1.0)
    mix_mu = pm.Normal("median_mix_offset", 0.0, MIX_PRIOR_SD, dims="generation")
    Q = obs.panel
    if len(Q):
        g, t, k = Q.g.to_numpy(int), Q.t.to_numpy(int), Q.pair.to_numpy(int)
        w = Q.y.to_numpy(float) - m[g, t] - a[k]
        prev, lag = panel_previous(Q)
        first = prev < 0
        w_prev = w[np.where(first, 0, prev)]
        var_stat = s_w**2 / (1.0 - phi**2)
        phi_l = phi ** np.where(first, 1, lag)
        mean = pt.where(first, 0.0, phi_l * w_prev)
        sd = pt.sqrt(var_stat * pt.where(first, 1.0, 1.0 - phi_l**2))
        pm.Potential("panel_loglik", pm.logp(pm.Normal.dist(mean, sd), w).sum())
        last = np.r_[k[1:] != k[:-1], True]
        dev = pt.zeros(len(obs.panel_pairs))
        dev = pt.set_subtensor(dev[k[last]], (Q.y.to_numpy(float) - m[g, t])[np.flatnonzero(last)])
        pm.Deterministic("provider_deviation_last", dev, dims="provider_pair")
    return mix_mu


PANEL_WINDOW_MONTHS = 12  # the pool and the entry rate are read from the panel's last 12 months
PANEL_MAX_PROVIDERS = 16  # most providers behind one target median the composition draw supports
PANEL_MAX_POOL = 32  # most providers in one generation's pool


@dataclass(frozen=True)
class PanelComposition:
    """Who stands behind a future median, from the panel as of the cutoff (``panel_composition``).

    current[g]: indices into obs.panel_pairs of the providers in generation g's last panel month;
    retention[L - 1], L = 1..len: the share of a month's providers quoted again L months later,
    sum over generation-months (t, t + L) both in the panel of |K_t & K_t+L| / sum of |K_t|
    (0 where no such pair); pools[g]: the providers quoted for g in the window (the
    PANEL_WINDOW_MONTHS months ending at the cutoff), weights[g] their panel months in it;
    entry_rate: providers entering a generation's panel (their first month for that generation
    after its first panel month) per provider-month, in the window, pooled over generations;
    lag[g]: months from generation g's last panel month to the cutoff (0 without a panel);
    pair_lag[k]: months from pair k's last panel month to the cutoff."""

    current: list[np.ndarray]
    retention: np.ndarray
    pools: list[np.ndarray]
    weights: list[np.ndarray]
    entry_rate: float
    lag: np.ndarray
    pair_lag: np.ndarray

    def months_ahead(self, horizon: int) -> np.ndarray:
        """(G, H) months from each generation's last panel month to the target month h = 1..H."""
        return np.arange(1, horizon + 1)[None, :] + self.lag[:, None].astype(int)

    def p_keep(self, horizon: int) -> np.ndarray:
        """(G, H): the chance that a provider of the last panel month is quoted in the target month."""
        L = self.months_ahead(horizon)
        r = self.retention
        return np.where(L <= r.size, r[np.clip(L, 1, max(r.size, 1)) - 1] if r.size else 0.0, 0.0)

    def p_new(self, horizon: int) -> np.ndarray:
        """(G, H): the chance that a slot not filled by a kept provider is a new provider,
        1 - (1 - entry_rate)^L; 1 for a generation without a pool."""
        p = 1.0 - (1.0 - self.entry_rate) ** self.months_ahead(horizon)
        has = np.array([len(k) > 0 for k in self.pools])[:, None]
        return np.where(has, p, 1.0)


def panel_composition(obs: PriceObs, max_lag: int = 24) -> PanelComposition:
    """The composition model's inputs from ``obs.panel`` (already cut at the as-of); retention for
    lags 1..max_lag."""
    Q, T, G = obs.panel, obs.T, len(GENERATIONS)
    lo = T - PANEL_WINDOW_MONTHS
    win = Q[Q["t"] >= lo]
    pools, weights, current, lag = [], [], [], np.zeros(G, int)
    for g in range(G):
        cnt = win[win["g"] == g].groupby("pair").size()
        pools.append(cnt.index.to_numpy(int))
        weights.append(cnt.to_numpy(float))
        qg = Q[Q["g"] == g]
        if len(qg):
            t_last = int(qg["t"].max())
            lag[g] = T - 1 - t_last
            current.append(np.sort(qg[qg["t"] == t_last]["pair"].to_numpy(int)))
        else:
            current.append(np.zeros(0, int))
    if len(pools) and max(len(k) for k in pools) > PANEL_MAX_POOL:
        raise ValueError(f"a generation's provider pool exceeds PANEL_MAX_POOL = {PANEL_MAX_POOL}")
    first = Q.groupby("pair").agg(g=("g", "first"), t=("t", "min"))
    gen_first = Q.groupby("g")["t"].min()
    entries = int(((first["t"] >= lo) & (first["t"] > first["g"].map(gen_first))).sum())
    rate = entries / len(win) if len(win) else 0.0
    panels = {(int(g), int(t)): set(v["pair"]) for (g, t), v in Q.groupby(["g", "t"])}
    keep = np.zeros(max_lag)
    for L in range(1, max_lag + 1):
        both = [(len(k & panels[(g, t + L)]), len(k)) for (g, t), k in panels.items() if (g, t + L) in panels]
        keep[L - 1] = sum(b for b, _ in both) / sum(n for _, n in both) if both else 0.0
    pair_lag = np.array([T - 1 - int(Q[Q["pair"] == k]["t"].max()) for k in range(len(obs.panel_pairs))], int)
    return PanelComposition(current=current, retention=keep, pools=pools, weights=weights, entry_rate=float(rate),
                            lag=lag, pair_lag=pair_lag)


PANEL_FORECAST_VARS = ("provider_offset", "provider_deviation_last", "provider_offset_sd", "provider_noise_sd",
                       "provider_noise_persistence")


def _continue_ar1(a_k, d_k, L, phi, sd_stat, xi):
    """A known provider's log deviation from m, L months after its last panel month (AR(1) of w around
    its offset a): a + phi^L (d - a) + sd_stat sqrt(1 - phi^(2L)) xi. phi, sd_stat (S,); others (S, ...)."""
    shape = (-1,) + (1,) * (np.ndim(L) - 1) if np.ndim(L) else (-1,)
    phi_l = phi.reshape(shape) ** L
    return a_k + phi_l * (d_k - a_k) + sd_stat.reshape(shape) * np.sqrt(1.0 - phi_l**2) * xi


def panel_composition_noise(obs: PriceObs, draws: dict, n_prov, rng) -> np.ndarray:
    """The composition part of a future on-demand median under the provider-panel model:
    median over its n providers of (a[k] + w[k]) (their log deviations from m), per posterior draw,
    generation and horizon.

    Who (``panel_composition``): each provider of the generation's last panel month is quoted in the
    target month with probability p_keep(g, h) (independently; if more are kept than n, a random n of
    them); each remaining slot is a new provider with probability p_new(g, h), otherwise the next one
    of a weighted random order of the generation's pool without the kept providers (weights: panel
    months in the window; drawn without replacement by exponential races); a slot beyond the pool is
    new. Where: a known provider k continues its AR(1) from its last panel month, L = h + pair_lag[k]
    months earlier, in the same posterior draw (``_continue_ar1``, d = provider_deviation_last); a
    new provider is a ~ N(0, tau_a) plus a stationary w, s_w / sqrt(1 - phi^2) xi.
    ``draws``: posterior arrays of PANEL_FORECAST_VARS, provider_offset and provider_deviation_last
    (S, pairs), the others (S,); n_prov (G, H) provider counts. The random arrays have fixed shapes
    (PANEL_MAX_PROVIDERS slots, PANEL_MAX_POOL pool places), so the same rng state gives the same
    draws whatever the counts. Returns (S, G, H), log."""
    a_post = np.asarray(draws["provider_offset"], float)
    d_last = np.asarray(draws["provider_deviation_last"], float)
    tau_a, s_w, phi = (np.asarray(draws[v], float) for v in ("provider_offset_sd", "provider_noise_sd",
                                                            "provider_noise_persistence"))
    S, (G, H) = a_post.shape[0], np.shape(n_prov)
    n_prov = np.asarray(n_prov, float)
    if np.nanmax(n_prov) > PANEL_MAX_PROVIDERS:
        raise ValueError(f"more than PANEL_MAX_PROVIDERS = {PANEL_MAX_PROVIDERS} providers behind a median")
    comp = panel_composition(obs, max_lag=H + int(comp_lag_max(obs)))
    p_keep, p_new = comp.p_keep(H), comp.p_new(H)  # (G, H)
    sd_stat = s_w / np.sqrt(1.0 - phi**2)  # (S,)
    NM, NP = PANEL_MAX_PROVIDERS, PANEL_MAX_POOL
    u_keep = rng.uniform(size=(S, G, H, NP))
    race_keep = rng.exponential(size=(S, G, H, NP))
    xi_keep = rng.standard_normal((S, G, H, NP))
    u_new = rng.uniform(size=(S, G, H, NM))
    race = rng.exponential(size=(S, G, H, NP))
    z_new = rng.standard_normal((S, G, H, NM))
    xi = rng.standard_normal((S, G, H, NM))
    out = np.zeros((S, G, H))
    L_gh = comp.months_ahead(H)  # (G, H)
    for g in range(G):
        cur, pool, wt = comp.current[g], comp.pools[g], comp.weights[g]
        nc = len(cur)
        # kept providers of the last panel month, first in a random order, then NaN
        if nc:
            kept = u_keep[:, g, :, :nc] < p_keep[g][None, :, None]  # (S, H, nc)
            a_c, d_c = a_post[:, cur][:, None, :], d_last[:, cur][:, None, :]
            v_c = _continue_ar1(a_c, d_c, L_gh[g][None, :, None], phi, sd_stat, xi_keep[:, g, :, :nc])
            order_c = np.argsort(np.where(kept, race_keep[:, g, :, :nc], np.inf), axis=-1)
            v_c = np.take_along_axis(np.where(kept, v_c, np.nan), order_c, axis=-1)
            r = kept.sum(-1)  # (S, H)
        else:
            v_c, r = np.zeros((S, H, 0)), np.zeros((S, H), int)
        # the other slots: new providers or the pool's next providers (kept ones excluded)
        is_new = u_new[:, g] < p_new[g][None, :, None]  # (S, H, NM)
        rank = np.cumsum(~is_new, axis=-1) - 1
        fill = tau_a[:, None, None] * z_new[:, g] + sd_stat[:, None, None] * xi[:, g]
        if len(pool):
            in_kept = np.zeros((S, H, len(pool)), bool)
            if nc:
                pos = {k: j for j, k in enumerate(cur)}
                for i, k in enumerate(pool):
                    if k in pos:
                        in_kept[..., i] = kept[..., pos[k]]
            keys = np.where(in_kept, np.inf, race[:, g, :, :len(pool)] / wt)
            order = np.argsort(keys, axis=-1)  # (S, H, P): weighted random order, kept ones last
            avail = (~in_kept).sum(-1)[..., None]  # (S, H, 1)
            known = ~is_new & (rank < avail)
            place = np.take_along_axis(order, np.clip(rank, 0, len(pool) - 1), axis=-1)  # (S, H, NM)
            k_idx = pool[place]
            a_k = np.take_along_axis(a_post, k_idx.reshape(S, -1), axis=-1).reshape(k_idx.shape)
            d_k = np.take_along_axis(d_last, k_idx.reshape(S, -1), axis=-1).reshape(k_idx.shape)
            L = np.arange(1, H + 1)[None, :, None] + comp.pair_lag[k_idx]
            fill = np.where(known, _continue_ar1(a_k, d_k, L, phi, sd_stat, xi[:, g]), fill)
        vals = np.concatenate([v_c, fill], axis=-1)  # (S, H, nc + NM)
        for h in range(H):
            n = int(round(n_prov[g, h])) if np.isfinite(n_prov[g, h]) and n_prov[g, h] >= 1 else 1
            j = np.arange(n)[None, :]
            rh = r[:, h][:, None]
            take = np.where(j < rh, j, nc + j - rh)  # kept providers first, then the other slots
            out[:, g, h] = np.median(np.take_along_axis(vals[:, h], take, axis=-1), axis=-1)
    return out


def comp_lag_max(obs: PriceObs) -> int:
    """The longest gap from a generation's last panel month to the cutoff (0 without a panel)."""
    if not len(obs.panel):
        return 0
    return int(max(obs.T - 1 - int(v["t"].max()) for _, v in obs.panel.groupby("g")))


def panel_median_noise(idata, obs: PriceObs, idx, sd_od, n_prov, rng) -> tuple[np.ndarray, np.ndarray]:
    """The target median's deviation from m under a panel fit: composition (median over its n providers
    of a + w, ``panel_composition_noise``) plus the product-mix part x = mu_x[g] + noise with scale
    sd_od (Student-t with the median dof, or Normal for a ``mix_noise="normal"`` fit). ``idx``: the
    posterior samples used (slice or index array); sd_od (S, G, H); n_prov (G, H). Returns the two
    parts (composition, product mix), each (S, G, H), log; their sum is the deviation."""
    mix_mu = posterior_draws(idata, "median_mix_offset")[idx]  # (samples, G)
    draws = {v: posterior_draws(idata, v)[idx] for v in PANEL_FORECAST_VARS}
    comp_t = panel_composition_noise(obs, draws, n_prov, rng)  # (samples, G, H)
    if PriceModelConfig.of_posterior(idata).mix_noise == "normal":
        mix_t = mix_mu[:, :, None] + sd_od * rng.standard_normal(sd_od.shape)
    else:
        nu_med = posterior_draws(idata, "noise_dof")[idx][:, NU_GROUPS.index("median")]
        mix_t = mix_mu[:, :, None] + sd_od * rng.standard_t(nu_med[:, None, None], sd_od.shape)
    return comp_t, mix_t
