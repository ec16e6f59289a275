"""The price model's PyMC graph: ``build_model(obs, config)`` (the shipped model: ``config.SHIPPED``).

Model, on the monthly grid t = 0..T-1 of ``obs`` (natural logs of $/GPU-hour; rates per month):

    m[g,t] = m[g,t-1] - r[g] + log(1 - f) (S[g,t] - S[g,t-1]) + sigma[g] eps[g,t],  eps ~ N(0, 1)
             for t0[g] < t <= t1[g] (the generation's first and last data month), m[g,t0] ~ N(log 3, 1)
    a[g]   = m[g,t1] - r[g] gap + log(1 - f) (S[g,T-1] - S[g,t1]) + sigma[g] sqrt(gap) z[g]   (gap = T-1-t1)
    y_i    = m[g_i,t_i] + beta[b_i] + gamma[c_i] + delta[g_i,b_i] + [quote] (q[g_i] + e[k_i]) + eps_i
    eps_i  ~ StudentT(nu[grp_i], 0, s_i),  s_i^2 = s[kind_i]^2 + s_comp^2 n_i^(-kappa)
    P(lo_i <= y_i <= hi_i) under N(mu_i, s[quote])                  (interval observations)

m[g,t] is the latent log on-demand market price of generation g; a[g] its level at the cutoff; r[g]
the monthly decline; sigma[g] the sd of the monthly log shocks; S[g,t] the successor launches whose
undercut has phased in by month t (``data.build_ramp``), each cutting the price by the fraction f;
beta / gamma the pricing-basis and provider-class offsets (on-demand and neocloud are 0); delta[g,b]
the generation part of the reserved / spot discounts; q[g] the quotes' mean level relative to the
median; e[k] a provider effect; n_i the providers behind a median (the composition term is 0 for
quotes). The walk is centred: its monthly increments are the parameters.

With ``config.provider_panel`` (shipped) the panel enters (``panel.panel_terms``): y[k,g,t] = m[g,t] +
a[k,g] + w[k,g,t]; an on-demand median whose month has panel rows is scored on its product-mix part
log M - median_k y[k,g,t] only, with mean mix_mu[g] and (``mix_noise="normal"``, shipped) Normal noise
of scale s_i; the other point observations keep the Student-t. The other options are described in
``config.PriceModelConfig``.

Priors (weakly informative, monthly log scale):
    r[g] = mu_r + tau_r zr[g], mu_r ~ N(0.01, 0.02), tau_r ~ HalfNormal(0.01), zr ~ N(0, 1)
    log sigma[g] = lmu_s + tau_s zs[g], lmu_s ~ N(log 0.06, 0.5), tau_s ~ HalfNormal(0.3)
    f ~ Beta(2, 8)  (mean 0.2)
    beta_reserved ~ N(log 0.65, 0.3), beta_spot ~ N(log 0.5, 0.4)
    gamma_hyperscaler ~ N(log 1.5, 0.5), gamma_marketplace ~ N(0, 0.5)
    delta[g,b] = s_delta zd[g,b], s_delta ~ HalfNormal(0.15);  e[k] = s_e ze[k], s_e ~ HalfNormal(0.5)
    q[g] ~ N(0, 0.3)
    s[kind] ~ Gamma(2, 40) for the on-demand median's floor, Gamma(2, 10) for the others
    s_comp ~ Gamma(2, 5), kappa ~ LogNormal(log 2, 0.75)
    nu[grp] ~ Gamma(2, 0.1) (Juarez and Steel 2010; mean 20, P(nu < 1) = 0.5 %)
"""

from __future__ import annotations

import numpy as np

from priors.models._likelihoods import normal_logcdf
from priors.models.price import drift as pdr
from priors.models.price import panel as ppn
from priors.models.price.config import SHIPPED, PriceModelConfig
from priors.models.price.data import BASES, CLASSES, GENERATIONS, KINDS, NU_GROUPS, PriceObs, active_mask, launch_age_years
from priors.models.price.noise import median_tail_order

# obs_sd[median_on_demand] ~ Gamma(2, 40), mean 0.05: the floor the on-demand median's noise tends to
# as the provider count grows (the composition term carries the few-provider noise); a mean of 0.1
# would put the floor at the whole month-on-month variation of medians of 4+ providers (sd of log
# changes 0.03-0.06), which the ~10 such medians before 2024 could not pull down.
OD_FLOOR_PRIOR_RATE = 40.0
NU_PRIOR = (2.0, 0.1)  # noise_dof ~ Gamma(2, 0.1)
VOL_TREND_PRIOR_SD = 0.5  # eta (log change of the volatility a year) ~ N(0, 0.5): may halve or nearly double in a year
AGE_SLOPE_PRIOR_SD = 0.01  # b_age per month per year of age: +-0.01 lets the decline change by 1 %/month a year


def build_model(obs: PriceObs, config: PriceModelConfig = SHIPPED):
    """The PyMC model of ``obs`` under ``config`` (default: the shipped model). Returns a pm.Model with
    ``model.price_config`` (the config actually built) and ``model.provider_panel_fallback`` attached.

    Without any panel row at or before the cutoff (the panel starts 2023-01, the quotes 2022-08) the
    panel has nothing to identify, so a panel config is built without it
    (``config.without_panel()``) and ``provider_panel_fallback`` is True (recorded in the fit)."""
    import pymc as pm
    import pytensor.tensor as pt

    panel_fallback = bool(config.provider_panel and len(obs.panel) == 0)
    if panel_fallback:
        config = config.without_panel()
    provider_panel, mix_noise, median_tail = config.provider_panel, config.mix_noise, config.median_tail
    drift_mode, vol_trend, age_slope = config.drift, config.vol_trend, config.age_slope

    G, T = len(GENERATIONS), obs.T
    coords = {
        "generation": GENERATIONS, "month": obs.months,
        "basis": BASES, "provider_class": CLASSES, "priced_basis": ["reserved", "spot"],
        "other_class": ["hyperscaler", "marketplace"], "provider": obs.entities or ["none"], "kind": KINDS, "noise_group": NU_GROUPS,
        "obs": np.arange(len(obs.point)), "interval_obs": np.arange(len(obs.interval)),
    }
    P, I = obs.point, obs.interval
    S = obs.ramp[:, :T]
    with pm.Model(coords=coords) as model:
        mu_r = pm.Normal("decline_rate_mean", 0.01, 0.02)
        tau_r = pm.HalfNormal("decline_rate_sd", 0.01)
        if drift_mode == "ar1":
            phi_d = pm.Beta(pdr.PERSISTENCE_VAR, *pdr.PERSISTENCE_PRIOR)
            r = pm.Deterministic("decline_rate_per_month", mu_r * pt.ones(G), dims="generation")
        else:
            zr = pm.Normal("decline_rate_z", 0.0, 1.0, dims="generation")
            r = pm.Deterministic("decline_rate_per_month", mu_r + tau_r * zr, dims="generation")

        lmu_s = pm.Normal("volatility_log_mean", np.log(0.06), 0.5)
        tau_s = pm.HalfNormal("volatility_log_sd", 0.3)
        zs = pm.Normal("volatility_z", 0.0, 1.0, dims="generation")
        sigma = pm.Deterministic("volatility_per_month", pt.exp(lmu_s + tau_s * zs), dims="generation")

        f = pm.Beta("undercut_frac", 2.0, 8.0)
        # Random walk on each generation's own data span [t0, t1] (months outside it carry no shock;
        # the level at the cutoff carries the walk on from t1). Vectorised over the (G, T) grid.
        active, t0, t1 = active_mask(obs, provider_panel)  # month t has an increment from t-1 where active
        dS = np.diff(S, axis=1, prepend=S[:, :1]) * active
        logf = pt.log1p(-f)
        if age_slope:
            b_age = pm.Normal("decline_age_slope", 0.0, AGE_SLOPE_PRIOR_SD)
            drift = -(r[:, None] + b_age * launch_age_years(obs)) * active + logf * dS
        else:
            drift = -r[:, None] * active + logf * dS
        start = pm.Normal("log_level_start", np.log(3.0), 1.0, dims="generation")
        if vol_trend:
            eta = pm.Normal("volatility_trend_per_year", 0.0, VOL_TREND_PRIOR_SD)
            sig_t = sigma[:, None] * pt.exp(eta * (np.arange(T)[None, :] - (T - 1)) / 12.0)  # (G, T)
        else:
            sig_t = sigma[:, None]
        if config.rw_param == "centred":
            inc = pm.Flat("rw_increment", dims=("generation", "month"), initval=np.zeros((G, T)))
            # increments ~ N(drift, sigma) where active; N(0, 1) placeholders elsewhere (unused)
            sd_inc = sig_t * active + (1.0 - active)
            if drift_mode == "ar1":  # the decline's AR(1) deviation integrated out (drift.py)
                pm.Potential("random_walk", pdr.increments_loglik(inc, drift, sig_t, active, tau_r, phi_d))
            else:
                pm.Potential("random_walk", pm.logp(pm.Normal.dist(drift, sd_inc), inc).sum())
            inc_used = inc * active
        else:
            z = pm.Normal("rw_z", 0.0, 1.0, dims=("generation", "month"))
            inc_used = drift + sig_t * z * active
        cum = pt.cumsum(inc_used, axis=1)
        base = cum - cum[np.arange(G), t0][:, None]  # 0 at t0
        m = start[:, None] + base
        # level at the cutoff: the walk carried on from t1 (sqrt(gap) shock); no data -> start ~ N(log 3, 1)
        gap = (T - 1 - t1).astype(float)
        zgap = pm.Normal("level_gap_z", 0.0, 1.0, dims="generation")
        a_end = (m[np.arange(G), t1] - r * gap + logf * (S[:, T - 1] - S[np.arange(G), t1])
                 + sigma * np.sqrt(gap) * zgap)
        a = pm.Deterministic("log_level_end", a_end, dims="generation")
        m = pt.set_subtensor(m[:, T - 1], a)
        pm.Deterministic("log_market_price", m, dims=("generation", "month"))

        beta_free = pm.Normal("basis_offset", np.array([np.log(0.65), np.log(0.5)]), np.array([0.3, 0.4]), dims="priced_basis")
        gamma_free = pm.Normal("class_offset", np.array([np.log(1.5), 0.0]), np.array([0.5, 0.5]), dims="other_class")
        beta = pt.concatenate([pt.zeros(1), beta_free, pt.zeros(1)])  # on_demand, reserved, spot, marketplace
        gamma = pt.concatenate([pt.zeros(1), gamma_free])  # neocloud, hyperscaler, marketplace
        s_d = pm.HalfNormal("basis_gen_sd", 0.15)
        zd = pm.Normal("basis_gen_z", 0.0, 1.0, dims=("generation", "priced_basis"))
        delta = pt.concatenate([pt.zeros((G, 1)), s_d * zd, pt.zeros((G, 1))], axis=1)
        s_e = pm.HalfNormal("provider_sd", 0.5)
        ze = pm.Normal("provider_z", 0.0, 1.0, dims="provider")
        e = pt.concatenate([s_e * ze, pt.zeros(1)])  # index -1 -> the medians' reference 0
        # quotes of a generation sit at their own mean level relative to its market median (the
        # scraped providers and products are not the median's mix)
        q_off = pm.Normal("quote_offset", 0.0, 0.3, dims="generation")
        # zero-avoiding Gamma(2, .) priors on the noise scales (a noise sd pushed to 0 makes a funnel with
        # the walk); for the on-demand median obs_sd is the floor (OD_FLOOR_PRIOR_RATE)
        sd = pm.Gamma("obs_sd", alpha=2.0, beta=np.array([OD_FLOOR_PRIOR_RATE, 10.0, 10.0, 10.0]), dims="kind")
        s_comp = pm.Gamma("composition_sd", alpha=2.0, beta=5.0)
        # variance ~ n^-kappa; kappa = 1 is sampling-like 1/n, and a median of 1-2 providers' lists is
        # worse than a sample (one provider's list is not the market): the prior allows steep decay
        nu = pm.Gamma("noise_dof", alpha=NU_PRIOR[0], beta=NU_PRIOR[1], dims="noise_group")
        k_comp = pm.LogNormal("composition_exponent", mu=np.log(2.0), sigma=0.75)
        pm.Deterministic("log_level_offset", beta[None, :, None] + gamma[None, None, :] + delta[:, :, None],
                         dims=("generation", "basis", "provider_class"))

        if provider_panel:
            mix_mu = ppn.panel_terms(obs, m)  # the panel likelihood; the medians' product-mix mean by generation
        if len(P):
            is_q = (P.k.values >= 0).astype(float)
            mu = (m[P.g.values, P.t.values] + beta[P.b.values] + gamma[P.c.values] + delta[P.g.values, P.b.values]
                  + e[P.k.values] + q_off[P.g.values] * is_q)
            if provider_panel:
                # an on-demand median is log M = median_k y[k,g,t] + mix: where the panel has its month, the
                # panel median (data) replaces m + offsets, so the median informs the mix terms only;
                # without panel rows it stays on m (its providers are not in the likelihood otherwise)
                pmed = P["panel_med"].to_numpy(float) if "panel_med" in P else np.full(len(P), np.nan)
                is_od = (P.kind.values == KINDS.index("median_on_demand")).astype(float)
                mu = pt.where(np.isfinite(pmed), np.nan_to_num(pmed), mu) + mix_mu[P.g.values] * is_od
            inv_n = P.inv_n.values
            comp_i = pt.where(inv_n > 0, s_comp**2 * pt.power(np.where(inv_n > 0, inv_n, 1.0), k_comp), 0.0)
            sd_i = pt.sqrt(sd[P.kind.values] ** 2 + comp_i)
            nu_i = nu[(P.kind.values == KINDS.index("quote")).astype(int)]
            if median_tail == "order_statistic":
                is_med = P.kind.values != KINDS.index("quote")
                n_i = np.where(inv_n > 0, 1.0 / np.where(inv_n > 0, inv_n, 1.0), np.nan)
                nu_i = nu_i * np.where(is_med, median_tail_order(n_i), 1.0)
            if mix_noise == "normal":
                # the on-demand medians' product-mix part: Normal; everything else keeps its Student-t
                od = P.kind.values == KINDS.index("median_on_demand")
                i_mix, i_t = np.flatnonzero(od), np.flatnonzero(~od)
                model.add_coords({"obs_mix": i_mix, "obs_t": i_t})
                pm.Normal("y_mix", mu=mu[i_mix], sigma=sd_i[i_mix], observed=P.y.values[i_mix], dims="obs_mix")
                pm.StudentT("y_t", nu=nu_i[i_t], mu=mu[i_t], sigma=sd_i[i_t], observed=P.y.values[i_t], dims="obs_t")
            else:
                pm.StudentT("y", nu=nu_i, mu=mu, sigma=sd_i, observed=P.y.values, dims="obs")
        if len(I):
            mu_i = (m[I.g.values, I.t.values] + beta[I.b.values] + gamma[I.c.values] + delta[I.g.values, I.b.values]
                    + e[I.k.values] + q_off[I.g.values])
            s_q = sd[KINDS.index("quote")]
            lo, hi = I.lo.values, I.hi.values
            fin_lo, fin_hi = np.isfinite(lo), np.isfinite(hi)
            z_hi = (np.where(fin_hi, hi, 0.0) - mu_i) / s_q
            z_lo = (np.where(fin_lo, lo, 0.0) - mu_i) / s_q
            # log(Phi(z_hi) - Phi(z_lo)) for a range; log Phi(z_hi) below a bound; log Phi(-z_lo) above one
            lp_both = pm.math.logdiffexp(normal_logcdf(z_hi), normal_logcdf(z_lo))
            lp = pt.where(fin_hi & fin_lo, lp_both, pt.where(fin_hi, normal_logcdf(z_hi), normal_logcdf(-z_lo)))
            pm.Potential("interval_loglik", lp.sum())
    model.price_config = config
    model.provider_panel_fallback = panel_fallback
    return model
