"""Rental price dynamics by GPU generation: the engine's decline, volatility and undercut (``PriorModel``).

The model's parts live in ``priors.models.price`` (imported in this order, no cycle):

* ``config``   ``PriceModelConfig``, the options in one frozen object; ``SHIPPED`` is the fitted model
* ``data``     observation tables -> ``PriceObs`` on a monthly grid (``load_observations``)
* ``draws``, ``noise``, ``drift``, ``panel``   numpy pieces of the forecast (and PyMC pieces of the graph)
* ``graph``    ``build_model(obs, config)``: the PyMC model and its equations
* ``forecast`` ``forecast_log_ratio``: posterior predictive log price ratios of the on-demand median
* ``plots``    the posterior predictive check and the forward fans

This module is the interface `rackrisk fit` uses (``priors.models.PriorModel``). ENGINE_VARS (posterior
group): decline_rate_per_month[generation] = r[g] (monthly natural-log decline, the forward drift
without launch steps), volatility_per_month[generation] = sigma[g] (sd of the monthly log shocks at
the cutoff), undercut_frac = f (fractional price cut per successor launch). The posterior predictive
adds ``y`` (replicated point observations, log $/GPU-hour) and ``market_price_ratio`` (chain, draw,
generation, horizon = 1..12 months: on-demand median over the level at the cutoff).
docs/priors.md, "The shipped model", gives the equations and the backtest scores.
"""

from __future__ import annotations

import numpy as np

from priors.inference import request_parallel_chains
from priors.models.price.config import SHIPPED, PriceModelConfig
from priors.models.price.data import GENERATIONS, KINDS, RAMP_MONTHS, PriceObs, load_observations
from priors.models.price.forecast import forecast_log_ratio
from priors.models.price.graph import build_model
from priors.models.price.noise import median_tail_order
from priors.models.price.plots import plot

request_parallel_chains()  # numpyro runs chains in parallel only on as many XLA host devices: before jax loads

__all__ = ["NAME", "TABLES", "GATE_VARS", "ENGINE_VARS", "SAMPLE", "load_observations", "build_model", "finalize",
           "gate_vars", "fit_notes", "plot", "record_options", "SHIPPED"]

NAME = "price_dynamics"
TABLES = ["rental_prices", "launches"]
GATE_VARS = [
    "decline_rate_mean", "decline_rate_sd", "decline_rate_per_month",
    "volatility_log_mean", "volatility_log_sd", "volatility_per_month",
    "undercut_frac", "basis_offset", "class_offset", "basis_gen_sd", "provider_sd", "obs_sd", "composition_sd", "composition_exponent", "noise_dof", "quote_offset",
    "log_level_end",
]
# gated as well when the fitted model has them (the panel's parameters in the shipped model; the
# volatility trend and the AR(1) decline's persistence in the experiments)
OPTIONAL_GATE_VARS = ["volatility_trend_per_year",
                      "provider_offset_sd", "provider_offset", "provider_noise_sd", "provider_noise_persistence",
                      "provider_deviation_last",
                      "median_mix_offset", "decline_persistence"]
ENGINE_VARS = {
    "decline_rate_per_month": "posterior",
    "volatility_per_month": "posterior",
    "undercut_frac": "posterior",
}
# 4 x 2000 draws after 2000 tuning steps, target_accept 0.98 (the panel's AR(1) persistence and
# offsets need a small step); on all data, 2 cores, seed 20261126: 0 divergences, max R-hat 1.007,
# min bulk ESS 950, 130.5 s with compilation (docs/decisions/0007 keeps the measurement).
SAMPLE = dict(draws=2000, tune=2000, chains=4, target_accept=0.98)
FAN_HORIZON_MONTHS = 12


def gate_vars(idata) -> list[str]:
    """GATE_VARS plus the OPTIONAL_GATE_VARS present in this posterior."""
    return list(GATE_VARS) + [v for v in OPTIONAL_GATE_VARS if v in idata.posterior]


def record_options(idata, model) -> None:
    """Write the options ``model`` (from ``build_model``) was built with as posterior attributes, which
    the forecast follows (``PriceModelConfig.of_posterior``); ``model`` None: a model without the
    options' attributes, read as the model without the panel."""
    config = getattr(model, "price_config", PriceModelConfig(provider_panel=False))
    config.record(idata, panel_fallback=bool(getattr(model, "provider_panel_fallback", False)))


def fit_notes(idata, as_of: str | None) -> tuple[str, ...]:
    """What `rackrisk fit` should tell the user about how this posterior was fitted."""
    if int(idata.posterior.attrs.get("provider_panel_fallback", 0)):
        return (f"{NAME}: no provider-panel rows as of {as_of}: fitted the price model without the panel "
                "(medians and quotes, Student-t noise; docs/priors.md)",)
    return ()


def finalize(idata, obs: PriceObs, model, seed: int) -> None:
    """Record the options and add posterior_predictive ``y`` (chain, draw, obs: replicated point
    observations, log $/GPU-hour; seed + 1) and ``market_price_ratio`` (chain, draw, generation,
    horizon: the FAN_HORIZON_MONTHS-month price-ratio fan of ``forecast_log_ratio``; seed + 2)."""
    import xarray as xr

    rng = np.random.default_rng(seed + 1)
    record_options(idata, model)
    cfg = PriceModelConfig.of_posterior(idata)
    post = idata.posterior
    nc, nd = post.sizes["chain"], post.sizes["draw"]
    P = obs.point
    groups = {}
    if len(P):
        m = post["log_market_price"].values  # (c, d, G, T)
        off = post["log_level_offset"].values  # (c, d, G, B, C)
        inv_n = np.where(P.inv_n.values > 0, P.inv_n.values, 1.0)
        comp = (post["composition_sd"].values[:, :, None] ** 2
                * inv_n ** post["composition_exponent"].values[:, :, None]) * (P.inv_n.values > 0)
        sd = np.sqrt(post["obs_sd"].values[:, :, P.kind.values] ** 2 + comp)  # (c, d, obs)
        if len(obs.entities):
            ze = post["provider_z"].values * post["provider_sd"].values[..., None]
            e = np.concatenate([ze, np.zeros((nc, nd, 1))], axis=-1)
        else:
            e = np.zeros((nc, nd, 1))
        qo = post["quote_offset"].values[:, :, P.g.values] * (P.k.values >= 0)
        mu = m[:, :, P.g.values, P.t.values] + off[:, :, P.g.values, P.b.values, P.c.values] + e[:, :, P.k.values] + qo
        if cfg.provider_panel:  # an on-demand median: panel median (where the month has one) + mix offset
            pmed = P["panel_med"].to_numpy(float)
            is_od = P.kind.values == KINDS.index("median_on_demand")
            mu = np.where(np.isfinite(pmed), np.nan_to_num(pmed), mu) + post["median_mix_offset"].values[:, :, P.g.values] * is_od
        nu = post["noise_dof"].values[:, :, (P.kind.values == KINDS.index("quote")).astype(int)]  # (c, d, obs)
        if cfg.median_tail == "order_statistic":
            n_i = np.where(P.inv_n.values > 0, 1.0 / inv_n, np.nan)
            nu = nu * np.where(P.kind.values != KINDS.index("quote"), median_tail_order(n_i), 1.0)
        eps = rng.standard_t(nu, mu.shape)
        if cfg.mix_noise == "normal":  # the on-demand medians' noise is Normal
            eps = np.where(P.kind.values == KINDS.index("median_on_demand"), rng.standard_normal(mu.shape), eps)
        groups["y"] = (("chain", "draw", "obs"), mu + sd * eps)
    H = FAN_HORIZON_MONTHS
    # stack(sample=(chain, draw)) is chain-major: reshape back accordingly
    lr = forecast_log_ratio(idata, obs, H, seed=seed + 2).reshape(nc, nd, len(GENERATIONS), H)
    groups["market_price_ratio"] = (("chain", "draw", "generation", "horizon"), np.exp(lr))
    ds = xr.Dataset(groups, coords={"chain": post["chain"].values, "draw": post["draw"].values,
                                    "obs": np.arange(len(P)), "generation": GENERATIONS, "horizon": np.arange(1, H + 1)})
    if "posterior_predictive" in idata.groups():
        idata.posterior_predictive = idata.posterior_predictive.assign(ds)
    else:
        idata.add_groups(posterior_predictive=ds)
    idata.posterior.attrs["price_dynamics_grid"] = f"{obs.months[0]}..{obs.months[-1]}"
    idata.posterior.attrs["undercut_ramp_months"] = RAMP_MONTHS
