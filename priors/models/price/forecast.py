"""The price model's forecast: posterior predictive log price ratios of the on-demand market median
(numpy; no PyMC). Used by the fit's posterior predictive (``price_dynamics.finalize``) and the backtest.
"""

from __future__ import annotations

import numpy as np

from priors.models.price import drift as pdr
from priors.models.price import panel as ppn
from priors.models.price.config import PriceModelConfig
from priors.models.price.data import GENERATIONS, KINDS, NU_GROUPS, PriceObs, cutoff_providers
from priors.models.price.draws import posterior_draws
from priors.models.price.noise import cutoff_noise, median_noise_dof, persistent_median_noise


def forecast_log_ratio(idata, obs: PriceObs, horizon: int, seed: int = 0, max_samples: int | None = None,
                       return_level: bool = False, n_providers=None, noise_persistence=None):
    """Posterior predictive log(price_{T-1+h} / level_{T-1}) of the on-demand market median, h = 1..H.

    Per posterior sample: the latent path continues from its cutoff level with the sample's drift,
    volatility and the undercut ramps of launches known at the cutoff; the median's observation noise
    is added in the target month (a Student-t with the file's median dof, or nu_eff(n) for a fit with
    ``median_tail="order_statistic"``), with the noise of a median of ``n_providers`` providers: (G,) or
    (G, H); default the count behind each generation's last median at the cutoff
    (``cutoff_providers``). The same seed gives the same draws whatever the counts (only the noise
    scale changes), so a forecast and its rescoring with other counts share their paths. Returns
    (samples, generation, horizon); with ``return_level`` also the matching samples of the log level
    at the cutoff, (samples, generation).

    ``noise_persistence`` (optional; rho at lags 1, 2, ... months, e.g. ``provider_spread.
    composition_persistence(...).rho``): the two-step persistent-noise predictive. The target month's
    median noise is drawn jointly with the noise of each generation's last on-demand median at or
    before the cutoff, draw by draw: e_c = log(that median) - latent log price of its month (the
    posterior path ``log_market_price``, so the fit must keep it), and e_t | e_c by the Gaussian
    copula of ``persistent_median_noise`` at lag = months from that median to the target month
    (rho = 0 beyond the array, and for a generation without a median). The noise is then drawn by
    inverse CDF from standard normals (same seed, same draws whatever the counts). None: the
    independent noise of the fit (the draws of the shipped forecast, unchanged).
    """
    cfg = PriceModelConfig.of_posterior(idata)
    rng = np.random.default_rng(seed)
    r = posterior_draws(idata, "decline_rate_per_month")
    sig = posterior_draws(idata, "volatility_per_month")
    f = posterior_draws(idata, "undercut_frac")
    floor = posterior_draws(idata, "obs_sd")[:, KINDS.index("median_on_demand")]
    comp = posterior_draws(idata, "composition_sd")
    kexp = posterior_draws(idata, "composition_exponent")
    level = posterior_draws(idata, "log_level_end")
    nu_med = posterior_draws(idata, "noise_dof")[:, NU_GROUPS.index("median")]
    n = r.shape[0]
    if max_samples is not None and n > max_samples:
        idx = np.sort(rng.choice(n, max_samples, replace=False))
        r, sig, f, floor, comp, kexp, level = r[idx], sig[idx], f[idx], floor[idx], comp[idx], kexp[idx], level[idx]
        nu_med = nu_med[idx]
        n = max_samples
    else:
        idx = slice(None)
    T, G = obs.T, len(GENERATIONS)
    h = np.arange(1, horizon + 1)
    n_prov = np.asarray(cutoff_providers(obs) if n_providers is None else n_providers, float)
    n_prov = np.broadcast_to(n_prov.reshape(G, -1), (G, horizon))  # (G, H)
    sd_od = np.sqrt(floor[:, None, None] ** 2
                    + comp[:, None, None] ** 2 * n_prov[None] ** (-kexp[:, None, None]))  # (samples, G, H)
    dS = obs.ramp[:, T - 1 + h] - obs.ramp[:, [T - 1]]  # (G, H)
    shocks = np.cumsum(rng.standard_normal((n, G, horizon)), axis=2) * sig[:, :, None]
    lr = -r[:, :, None] * h[None, None, :] + np.log1p(-f)[:, None, None] * dS[None] + shocks
    if cfg.drift == "ar1":  # r = mu_r; the deviation from it forgets geometrically
        u = pdr.forecast_deviation(idata, obs, idx, horizon, seed, cfg.provider_panel)
        lr = lr - np.cumsum(u, axis=2)
    if cfg.provider_panel:
        if noise_persistence is not None:
            raise ValueError("noise_persistence is not defined for a provider-panel fit")
        comp_t, mix_t = ppn.panel_median_noise(idata, obs, idx, sd_od, n_prov, rng)  # composition, product mix
        lr = lr + comp_t + mix_t
        return (lr, level) if return_level else lr
    if noise_persistence is not None:
        m_path = posterior_draws(idata, "log_market_price")[idx] if "log_market_price" in idata.posterior else None
        if m_path is None:
            raise ValueError("noise_persistence needs the latent path log_market_price in the posterior "
                             "(the shipped files drop it; use a fresh fit, as the backtest does)")
        order = cfg.median_tail == "order_statistic"
        nu_t = median_noise_dof(nu_med[:, None, None], n_prov[None]) if order else np.broadcast_to(nu_med[:, None, None], sd_od.shape)
        e_c, s_c, nu_c, rho = cutoff_noise(obs, m_path, floor, comp, kexp, nu_med, order, horizon, noise_persistence)
        xi = rng.standard_normal((n, G, horizon))
        lr = lr + persistent_median_noise(e_c[:, :, None], s_c[:, :, None], nu_c[:, :, None], sd_od, nu_t, rho[None], xi)
        return (lr, level) if return_level else lr
    if cfg.median_tail == "order_statistic":
        # nu_eff(n) of the target median's provider count; drawn by inverse CDF from uniforms so that
        # the same seed gives the same draws whatever the counts (only the noise's shape and scale move)
        from scipy.stats import t as student_t

        u = rng.uniform(size=(n, G, horizon))
        lr = lr + sd_od * student_t.ppf(u, median_noise_dof(nu_med[:, None, None], n_prov[None]))
    else:
        lr = lr + sd_od * rng.standard_t(nu_med[:, None, None], (n, G, horizon))
    return (lr, level) if return_level else lr

