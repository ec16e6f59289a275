"""A decline that forgets: ``PriceModelConfig(drift="ar1")`` (an experiment; the shipped model has drift="constant").

Used by ``graph.build_model`` and ``forecast.forecast_log_ratio`` for a config / fit with drift="ar1".

The constant per-generation decline r[g] = mu_r + tau_r zr[g] is replaced by a monthly decline
that wanders around the pooled mean and reverts to it (monthly natural-log scale):

    m[g,t] = m[g,t-1] - (mu_r + u[g,t]) + log(1 - f) dS[g,t] + sigma[g] eps[g,t]     (active months)
    u[g,t] = phi u[g,t-1] + tau_r sqrt(1 - phi^2) eta[g,t],  u at the first active month ~ N(0, tau_r^2)
    mu_r ~ N(0.01, 0.02), tau_r ~ HalfNormal(0.01) (the base's priors), phi ~ Beta(PERSISTENCE_PRIOR)

u is integrated out: over a generation's active months the walk's increments are jointly normal with
mean -mu_r + log(1 - f) dS and covariance sigma[g]^2 I + K, K[s,t] = tau_r^2 phi^|s-t|
(``increments_loglik``). The forecast draws u at the last active month from its normal conditional
on a posterior draw's increments (``conditional_last``) and carries it forward by the AR(1)
(``drift_path``); the decline h months ahead then has mean mu_r + phi^(gap+h) E[u_last].
"""

from __future__ import annotations

import numpy as np

from priors.models.price.data import active_mask
from priors.models.price.draws import posterior_draws

PERSISTENCE_PRIOR = (4.0, 2.0)  # phi ~ Beta(4, 2): mean 0.67, 90 % 0.34-0.92 (half-life 0.65-8.7 months)
PERSISTENCE_VAR = "decline_persistence"
DRIFT_SEED_KEY = 1  # the forecast's drift draws come from SeedSequence([seed, DRIFT_SEED_KEY])


def ar1_cov_np(phi, tau, n: int) -> np.ndarray:
    """K[..., s, t] = tau^2 phi^|s-t| for n consecutive months; phi, tau broadcastable arrays."""
    d = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    phi, tau = np.asarray(phi, float)[..., None, None], np.asarray(tau, float)[..., None, None]
    return tau**2 * phi**d


def increments_loglik(inc, mean, sig_t, active: np.ndarray, tau, phi):
    """Inside a pm.Model: the log density of the centred walk's increments with the AR(1) decline
    integrated out. inc, mean: (G, T) tensors; sig_t: (G, 1) or (G, T) shock sd; active (G, T) numpy.
    Active months (consecutive per generation): MvNormal(mean, diag(sig^2) + tau^2 phi^|s-t|);
    inactive months: N(0, 1) placeholders (unused increments, as in the base)."""
    import pymc as pm
    import pytensor.tensor as pt

    G, T = active.shape
    sig_full = sig_t * pt.ones((1, T))
    on = active > 0
    total = pm.logp(pm.Normal.dist(0.0, 1.0), inc[~on]).sum() if (~on).any() else pt.constant(0.0)
    for g in range(G):
        idx = np.flatnonzero(on[g])
        if not idx.size:
            continue
        d = np.abs(np.subtract.outer(idx, idx)).astype(float)
        cov = tau**2 * phi**d + pt.diag(sig_full[g, idx] ** 2)
        total = total + pm.logp(pm.MvNormal.dist(mean[g, idx], cov), inc[g, idx])
    return total


def conditional_last(e: np.ndarray, sig: np.ndarray, tau: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd of u at the last of n active months given e = increments - their mean (= -u + sig eps),
    per draw. e (S, n); sig, tau, phi (S,). With K = tau^2 phi^|s-t| and C = K + sig^2 I:
    E[u_last | e] = -K[last, :] C^-1 e, Var = K[last, last] - K[last, :] C^-1 K[:, last].
    n = 0: mean 0, sd tau (the stationary law)."""
    S, n = e.shape
    if n == 0:
        return np.zeros(S), np.asarray(tau, float).copy()
    K = ar1_cov_np(phi, tau, n)  # (S, n, n)
    C = K + (np.asarray(sig, float) ** 2)[:, None, None] * np.eye(n)
    k = K[:, -1, :]  # (S, n)
    sol = np.linalg.solve(C, np.stack([e, k], axis=-1))  # (S, n, 2)
    mean = -np.einsum("sn,sn->s", k, sol[..., 0])
    var = K[:, -1, -1] - np.einsum("sn,sn->s", k, sol[..., 1])
    return mean, np.sqrt(np.clip(var, 0.0, None))


def drift_path(u_last: np.ndarray, phi: np.ndarray, tau: np.ndarray, gap: int, horizon: int, xi: np.ndarray) -> np.ndarray:
    """u at the months 1..H after the cutoff, carried on by the AR(1) from the last active month
    gap months before the cutoff: u_{k+1} = phi u_k + tau sqrt(1 - phi^2) xi_k. u_last, phi, tau
    (S,); xi (S, gap + H) standard normals. Returns (S, H). With xi = 0 it is phi^(gap+h) u_last."""
    u = np.asarray(u_last, float).copy()
    phi, tau = np.asarray(phi, float), np.asarray(tau, float)
    innov = tau * np.sqrt(1.0 - phi**2)
    out = np.zeros((u.shape[0], horizon))
    for k in range(gap + horizon):
        u = phi * u + innov * xi[:, k]
        if k >= gap:
            out[:, k - gap] = u
    return out


def forecast_deviation(idata, obs, idx, horizon: int, seed: int, provider_panel: bool) -> np.ndarray:
    """The decline's deviation u[g, T-1+h] from the pooled mean, per posterior draw (``idx``: the
    samples used), generation and month after the cutoff: (S, G, H). The forecast's log ratio gets
    -cumsum(u, axis=-1) on top of the base's -mu_r h (``decline_rate_per_month`` = mu_r here).
    Draws from SeedSequence([seed, DRIFT_SEED_KEY]) with fixed shapes (S, G) and (S, G, max_gap + H)."""
    post = lambda v: posterior_draws(idata, v)[idx]  # noqa: E731
    inc = post("rw_increment")  # (S, G, T)
    mu_r, tau, phi = post("decline_rate_mean"), post("decline_rate_sd"), post(PERSISTENCE_VAR)
    sig = post("volatility_per_month")  # (S, G)
    f = post("undercut_frac")
    if "volatility_trend_per_year" in idata.posterior:
        raise ValueError("drift='ar1' is specified without vol_trend")
    S, G, T = inc.shape
    active, _, t1 = active_mask(obs, provider_panel)
    S_ramp = obs.ramp[:, :T]
    dS = np.diff(S_ramp, axis=1, prepend=S_ramp[:, :1]) * active  # (G, T)
    gaps = (T - 1 - t1).astype(int)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), DRIFT_SEED_KEY]))
    z0 = rng.standard_normal((S, G))
    xi = rng.standard_normal((S, G, int(gaps.max()) + horizon))
    out = np.zeros((S, G, horizon))
    for g in range(G):
        on = np.flatnonzero(active[g] > 0)
        e = inc[:, g, on] - (-mu_r[:, None] + np.log1p(-f)[:, None] * dS[g, on][None, :])
        m_u, s_u = conditional_last(e, sig[:, g], tau, phi)
        u_last = m_u + s_u * z0[:, g]
        out[:, g] = drift_path(u_last, phi, tau, int(gaps[g]), horizon, xi[:, g, : int(gaps[g]) + horizon])
    return out
