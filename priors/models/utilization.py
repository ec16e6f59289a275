"""Utilization: the booking rate, a Beta across rental fleets, from reported sold shares of GPU-hours.

What the engine needs (``demand.utilization_frac``) is the **booking rate**: the share of a
powered GPU's hours that is sold (booked, rented or contracted), the factor the revenue model puts
on non-contracted GPU-hours. priors/observations/utilization.csv keeps every utilization-like report
with a ``measure`` (README_fleet.md): ``booking_rate``, ``gpu_busy_time`` (a fleet's own hours in
use), ``enterprise_cluster_utilization`` (a self-hosting buyer's cluster), ``compute_utilization_mfu``
(FLOPs over peak FLOPs) and ``power_draw_fraction_of_tdp``. **Only ``booking_rate`` rows are fitted**
(``select_fitted``): MFU says how hard a running job works a GPU, not whether its hour was sold;
busy time of an owned fleet and an enterprise's own cluster say nothing of a provider's sales.

    mu     ~ Beta(4, 2)              mean booking rate across rental fleets (MU_PRIOR)
    kappa  ~ Gamma(2, 0.1)           concentration (mean 20): the spread between fleets (KAPPA_PRIOR)
    u_i    ~ Beta(mu * kappa, (1 - mu) * kappa)     booking rate of the fleet behind report i
    a report [lo_i, hi_i] (an interval) says lo_i < u_i < hi_i: u_i = lo_i + (hi_i - lo_i) * z_i,
      z_i ~ Uniform(0, 1), with the Beta density of u_i added as a potential. Integrating z_i out
      gives the interval likelihood Beta_CDF(hi_i) - Beta_CDF(lo_i) (sampled this way because the
      Beta CDF has no gradient in its shape parameters under JAX). A point report is a Beta
      observation.
    utilization_frac ~ Beta(mu * kappa, (1 - mu) * kappa): a new fleet's booking rate, one draw per
      posterior sample (group posterior_predictive).

The baseline scenario reads ``utilization_mean`` (mu, a fraction of GPU-hours sold); the predictive
``utilization_frac`` is one new fleet's. The booking evidence is thin (two CoreWeave rows: "fully
booked" A100s, and Q1 2025 revenue over GPU-hours at market prices), so the prior on mu matters and
is argued, not flat: Beta(4, 2) has mean 0.667 and 94 % interval 0.30-0.94. The shared data's
breakeven utilizations (cloud wins below 40 %, owning breaks even at 50-60 %) are the sold share at
which a GPU pays for itself at market prices, which a provider that finances a fleet plans to beat,
so most mass is above 0.4 without ruling lower out; and a fleet keeps spare GPUs for failures (the
baseline's 0.95 utilization ceiling), so little mass is above 0.95. Those rows are not in the
likelihood, so nothing is counted twice. Beta(2, 2), the model before (mean 0.5, 94 % 0.10-0.90),
said that half of all hours go unsold, which no row supports.

Data: rows with measure ``booking_rate`` of priors/observations/utilization.csv (trust D, the
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

FITTED_MEASURE = "booking_rate"  # the only measure fitted; the others stay in the table, apart
MU_PRIOR = (4.0, 2.0)  # Beta(alpha, beta) on the mean booking rate; argued in the docstring
KAPPA_PRIOR = (2.0, 0.1)  # Gamma(alpha, rate) on the concentration between fleets

EPS = 1e-6  # keeps interval ends off 0 and 1, where a Beta density can be infinite


def make_observations(reports: pd.DataFrame, table: pd.DataFrame | None = None) -> dict:
    """reports: value_low, value_high (fractions; equal for a point), label (optional)."""
    r = reports.copy().reset_index(drop=True)
    if "label" not in r:
        r["label"] = [f"report {i}" for i in range(len(r))]
    lo, hi = r["value_low"].astype(float), r["value_high"].astype(float)
    if ((lo < 0) | (hi > 1) | (lo > hi)).any() or lo.isna().any() or hi.isna().any():
        raise ValueError("utilization reports must satisfy 0 <= value_low <= value_high <= 1 (no open end)")
    point = np.isclose(lo, hi)
    return {"intervals": r[~point].reset_index(drop=True), "points": r[point].reset_index(drop=True), "table": table}


def select_fitted(table: pd.DataFrame) -> pd.DataFrame:
    """The rows the model fits: ``measure == FITTED_MEASURE`` (booking rate), nothing else.

    Returns label (the row's subject), measure, value_low, value_high (fractions of GPU-hours
    sold). A table without a ``measure`` column is refused rather than read whole.
    """
    if "measure" not in table:
        raise ValueError("utilization table has no 'measure' column: regenerate it with priors/observations/derive_fleet.py")
    rep = table[table["measure"] == FITTED_MEASURE]
    return rep.assign(label=rep["subject"])[["label", "measure", "value_low", "value_high"]].reset_index(drop=True)


def load_observations(as_of: str | None = None) -> dict:
    from priors.observations_io import read_table

    df = read_table("utilization", as_of=as_of)
    return make_observations(select_fitted(df), table=df)


def build_model(obs: dict):
    import pymc as pm

    iv, pts = obs["intervals"], obs["points"]
    coords = {}
    if len(iv):
        coords["interval_obs"] = list(iv["label"])
    if len(pts):
        coords["point_obs"] = list(pts["label"])
    with pm.Model(coords=coords) as model:
        mu = pm.Beta("utilization_mean", alpha=MU_PRIOR[0], beta=MU_PRIOR[1])
        kappa = pm.Gamma("utilization_concentration", alpha=KAPPA_PRIOR[0], beta=KAPPA_PRIOR[1])
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
    """Adds ``utilization_frac`` (a new fleet's booking rate) to the posterior_predictive group."""
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
