"""Utilization: a Beta across fleets, from reported fleet (time) utilization figures.

Utilization here is the share of a GPU's hours that is sold or in use. Power draw as a fraction
of TDP (e.g. the 76 % Brookhaven figure) and kernel FLOPs utilization (MFU-like) are different
quantities: the table keeps them under their own ``metric`` and this model never reads them.

    mu     ~ Beta(2, 2)              mean utilization across fleets
    kappa  ~ Gamma(2, 0.1)           concentration (mean 20): the spread between fleets
    u_i    ~ Beta(mu * kappa, (1 - mu) * kappa)     utilization of the fleet behind report i
    a report [lo_i, hi_i] (an interval) says lo_i < u_i < hi_i: u_i = lo_i + (hi_i - lo_i) * z_i,
      z_i ~ Uniform(0, 1), with the Beta density of u_i added as a potential. Integrating z_i out
      gives the interval likelihood Beta_CDF(hi_i) - Beta_CDF(lo_i) (sampled this way because the
      Beta CDF has no gradient in its shape parameters under JAX). A point report is a Beta
      observation.
    utilization_frac ~ Beta(mu * kappa, (1 - mu) * kappa): a new fleet's utilization, one draw per
      posterior sample (group posterior_predictive): what the engine reads.

Data: rows with metric ``fleet_utilization`` of priors/observations/utilization.csv (trust D, the
unsourced illustrative ones, are dropped by read_table). See README_fleet.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NAME = "utilization"
TABLES = ["utilization"]
GATE_VARS = ["utilization_mean", "utilization_concentration"]
ENGINE_VARS = {"utilization_frac": "posterior_predictive"}
SAMPLE = dict(draws=1000, tune=1000, target_accept=0.95)

EPS = 1e-6  # keeps interval ends off 0 and 1, where a Beta density can be infinite


def make_observations(reports: pd.DataFrame, table: pd.DataFrame | None = None) -> dict:
    """reports: value_low, value_high (fractions; equal for a point), label (optional)."""
    r = reports.copy().reset_index(drop=True)
    if "label" not in r:
        r["label"] = [f"report {i}" for i in range(len(r))]
    lo, hi = r["value_low"].astype(float), r["value_high"].astype(float)
    if ((lo < 0) | (hi > 1) | (lo > hi)).any():
        raise ValueError("utilization reports must satisfy 0 <= value_low <= value_high <= 1")
    point = np.isclose(lo, hi)
    return {"intervals": r[~point].reset_index(drop=True), "points": r[point].reset_index(drop=True), "table": table}


def load_observations(as_of: str | None = None) -> dict:
    from priors.observations_io import read_table

    df = read_table("utilization", as_of=as_of)
    rep = df[df["metric"] == "fleet_utilization"]
    rep = rep.assign(label=rep["subject"])[["label", "value_low", "value_high"]]
    return make_observations(rep, table=df)


def build_model(obs: dict):
    import pymc as pm

    iv, pts = obs["intervals"], obs["points"]
    coords = {}
    if len(iv):
        coords["interval_obs"] = list(iv["label"])
    if len(pts):
        coords["point_obs"] = list(pts["label"])
    with pm.Model(coords=coords) as model:
        mu = pm.Beta("utilization_mean", alpha=2.0, beta=2.0)
        kappa = pm.Gamma("utilization_concentration", alpha=2.0, beta=0.1)
        a, b = mu * kappa, (1 - mu) * kappa
        if len(iv):
            lo = pm.Data("interval_low", np.clip(iv["value_low"].to_numpy(float), EPS, 1 - EPS), dims="interval_obs")
            hi = pm.Data("interval_high", np.clip(iv["value_high"].to_numpy(float), EPS, 1 - EPS), dims="interval_obs")
            z = pm.Uniform("interval_position", 0.0, 1.0, dims="interval_obs")
            u = pm.Deterministic("reported_fleet_utilization", lo + (hi - lo) * z, dims="interval_obs")
            pm.Potential("interval_likelihood", pm.logp(pm.Beta.dist(alpha=a, beta=b), u).sum())
        if len(pts):
            pm.Beta("point_report", alpha=a, beta=b, observed=np.clip(pts["value_low"].to_numpy(float), EPS, 1 - EPS), dims="point_obs")
    return model


def finalize(idata, obs, model, seed) -> None:
    """Adds ``utilization_frac`` (a new fleet's utilization) to the posterior_predictive group."""
    import warnings

    import pymc as pm

    with model:
        if "utilization_frac" not in model.named_vars:
            mu, kappa = model["utilization_mean"], model["utilization_concentration"]
            pm.Beta("utilization_frac", alpha=mu * kappa, beta=(1 - mu) * kappa)
        with warnings.catch_warnings():
            # PyMC warns that potentials are ignored in predictive sampling; here the potential
            # only concerns the reported fleets' latent u_i, and utilization_frac is drawn from
            # the posterior (mu, kappa), which already includes it.
            warnings.filterwarnings("ignore", message="The effect of Potentials")
            pm.sample_posterior_predictive(idata, var_names=["utilization_frac"], extend_inferencedata=True, random_seed=seed, progressbar=False)
