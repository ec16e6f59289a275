"""The on-demand median's measurement noise: heavy tails of a median of n providers, and the noise of a
target month drawn jointly with the cutoff median's (Gaussian copula). numpy/scipy only.

Units: noise values and scales are on the natural-log price scale; n is a count of providers;
rho is a correlation of normal scores at a lag in months.
"""

from __future__ import annotations

import numpy as np

from priors.models.price.data import GENERATIONS, PriceObs, cutoff_providers


def median_tail_order(n_providers) -> np.ndarray:
    """k(n) = ceil(n / 2): how many of a median's n providers must be extreme for the median to be.

    Derivation (iid provider prices X_1..X_n with a regularly varying tail, P(X > x) ~ c x^-nu_1,
    as a Student-t with nu_1 dof has): for odd n the median is the order statistic X_((n+1)/2), which
    exceeds a large x only if at least k = (n+1)/2 of the n prices do, so
    P(median > x) ~ C(n, k) P(X > x)^k ~ c' x^-(k nu_1). For even n the median is
    (X_(n/2) + X_(n/2+1)) / 2; it exceeds a large x once the top n/2 prices do (X_(n/2+1) > x with
    the one below it bounded), so k = n/2 (n = 2: the mean of two, whose tail is one draw's). Both
    cases: k = ceil(n / 2) (1, 1, 2, 2, 3, 3, ... for n = 1, 2, 3, 4, 5, 6), and the median's tail
    index is nu_1 k(n); the same holds for the lower tail. Unknown or non-positive counts -> 1 (the
    heaviest tail).
    """
    n = np.asarray(n_providers, float)
    ok = np.isfinite(n) & (n >= 1)
    return np.where(ok, np.ceil(np.where(ok, n, 1.0) / 2.0), 1.0)


def median_noise_dof(nu_1, n_providers) -> np.ndarray:
    """nu_eff(n) = nu_1 * ceil(n / 2): the t dof of a median of n providers whose single-provider
    prices have nu_1 dof (``median_tail_order``). Broadcasts nu_1 against n_providers."""
    return np.asarray(nu_1, float) * median_tail_order(n_providers)



Z_CLIP = 8.0  # normal scores beyond +-8 (tail probability 6e-16) are clipped: no infinite draws


def _z_from_t(x, nu):
    """Normal score of a Student-t variate: Phi^-1(F_nu(x)), computed on the lower tail for accuracy."""
    from scipy.special import ndtri, stdtr

    x = np.asarray(x, float)
    z = -ndtri(stdtr(nu, -np.abs(x)))
    return np.clip(np.sign(x) * z, -Z_CLIP, Z_CLIP)


def _t_from_z(z, nu):
    """F_nu^-1(Phi(z)): the Student-t (nu dof, nu = inf: normal) variate with normal score z."""
    from scipy.special import ndtr, stdtrit

    z = np.asarray(z, float)
    return np.sign(z) * -stdtrit(nu, ndtr(-np.abs(z)))


def persistent_median_noise(e_c, s_c, nu_c, s_t, nu_t, rho, xi):
    """The target month's median noise drawn jointly with the cutoff median's (Gaussian copula).

    e_c: the cutoff median's noise (log; per draw), s_c / nu_c its t scale and dof; s_t / nu_t the
    target median's; rho the correlation of the two noises' normal scores (lag-h persistence); xi
    standard normals (the new part). All broadcast together; returns e_t of the broadcast shape:
        z_c = Phi^-1(F_nu_c(e_c / s_c)),  z_t = rho z_c + sqrt(1 - rho^2) xi,  e_t = s_t F_nu_t^-1(Phi(z_t)).
    With nu = inf (normal noise) this is e_t | e_c ~ N(rho (s_t / s_c) e_c, s_t^2 (1 - rho^2)); if e_c is
    t(nu_c, s_c), e_t is t(nu_t, s_t), so the marginal noise of the fit is kept. rho = 0: independent."""
    rho = np.clip(np.asarray(rho, float), 0.0, 1.0)
    z_c = _z_from_t(np.asarray(e_c, float) / np.asarray(s_c, float), nu_c)
    z_t = rho * z_c + np.sqrt(1.0 - rho**2) * np.asarray(xi, float)
    return np.asarray(s_t, float) * _t_from_z(z_t, nu_t)


def cutoff_noise(obs: PriceObs, m_path, floor, comp, kexp, nu_med, order: bool, horizon: int, persistence):
    """Per draw and generation, the noise of the last on-demand median at or before the cutoff and
    the persistence at each target lag. m_path (S, G, T) latent log prices; floor, comp, kexp, nu_med
    (S,) noise parameters. Returns e_c (S, G), s_c (S, G), nu_c (S, G), rho (G, H): rho[g, h-1] =
    persistence[lag - 1], lag = h + months from that median to the cutoff; 0 beyond the array and for
    a generation without a median (its e_c, s_c are set to 0, 1)."""
    S, G = m_path.shape[0], len(GENERATIONS)
    pers = np.asarray(persistence, float).ravel()
    e_c, s_c = np.zeros((S, G)), np.ones((S, G))
    nu_c = np.broadcast_to(nu_med[:, None], (S, G)).copy()
    rho = np.zeros((G, horizon))
    fallback = cutoff_providers(obs)
    for g, gen in enumerate(GENERATIONS):
        sub = obs.market[obs.market["generation"] == gen]
        if sub.empty:
            continue
        last = sub.iloc[-1]
        t_last = obs.months.index(last["month"])
        n_c = float(last["n_providers"]) if np.isfinite(last["n_providers"]) and last["n_providers"] > 0 else fallback[g]
        e_c[:, g] = np.log(float(last["price"])) - m_path[:, g, t_last]
        s_c[:, g] = np.sqrt(floor**2 + comp**2 * n_c ** (-kexp))
        if order:
            nu_c[:, g] = median_noise_dof(nu_med, n_c)
        lags = np.arange(1, horizon + 1) + (obs.T - 1 - t_last)
        if pers.size:
            rho[g] = np.where(lags <= pers.size, pers[np.minimum(lags, pers.size) - 1], 0.0)
    return e_c, s_c, nu_c, rho

