"""Failures: GPU interruptions and permanent failures by generation (hierarchical Gamma-Poisson).

Interruptions (a job stops because of a GPU fault; most are remediated and the GPU returns) and
permanent failures (the GPU leaves service) are kept apart: the counts measure interruptions, and
the permanent rate is a share of them, informed by the published permanent-failure ranges.

    generation g in (A100, H100, H200, B200); rates per GPU-year
    m          ~ LogNormal(log 0.10, 1.0)        mean GPU-attributed interruption rate across generations
    alpha      ~ LogNormal(log 4, 0.5)           Gamma shape; between-generation CV = 1/sqrt(alpha): 0.5
                                                 (95 % 0.3-0.8: generations of datacenter GPUs differ by
                                                 a factor of about 2, not by orders of magnitude)
    lambda_g   ~ Gamma(alpha, alpha / m)         interruption rate of generation g (partial pooling:
                                                 a generation without data gets a draw from this Gamma)
    phi        ~ Beta(2, 3)                      share of GPU-attributed interruptions that are permanent
    pi_g       = phi * lambda_g                  permanent failure rate
    AFR_g      = 1 - exp(-pi_g)                  annual_failure_rate_frac: the engine's input

    count rows k (metric interruptions, GPU-attributed categories summed per study; or
    permanent_failures): y_k ~ Poisson(r_k * E_k * exp(s_k * eta_k)), eta_k ~ Normal(0, 1),
    r_k = lambda_g or pi_g, E_k the exposure in GPU-years, s_k its log-sd (0 when exact).
    permanent-rate ranges [lo, hi] (metric permanent_rate): the study's figure is pi_g with log-normal
    error sd 0.25, and it lies in [lo, hi]: log(Phi(z_hi) - Phi(z_lo)) (interval likelihood).

Data (priors/observations/failures.csv, README_fleet.md): Meta Llama 3 (H100, 268 GPU-attributed
interruptions in 2,422 GPU-years), Crusoe (H200, ~125 GPU faults in ~533 GPU-years, exposure log-sd
0.3), the 2.5-6 %/yr permanent synthesis (H100-class). A100 and B200 have no counts here: their
rates are partially pooled draws.

The interval likelihood uses ``priors.models._likelihoods.normal_interval_logp`` (JAX-safe; PyMC's
Normal logcdf uses ``erfcx``, which has no JAX implementation), shared with the elasticity and
residual-value models.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from priors.models._likelihoods import normal_interval_logp

NAME = "failures"
TABLES = ["failures"]
GENERATIONS = ["A100", "H100", "H200", "B200"]
GATE_VARS = ["interruption_rate_mean", "interruption_rate_shape", "interruption_rate", "permanent_share"]
ENGINE_VARS = {"annual_failure_rate_frac": "posterior"}
SAMPLE = dict(draws=1000, tune=1000, target_accept=0.95)

PERMANENT_RANGE_LOG_SD = 0.25  # a C-trust synthesis bracket: its edges are soft (about +-25 %)
OPEN = 50.0                    # stands for an open end of an interval on the log scale (e^50)


# ---------------------------------------------------------------------------------- observations
def make_observations(counts: pd.DataFrame, rates: pd.DataFrame | None = None, table: pd.DataFrame | None = None) -> dict:
    """Observations in the form ``build_model`` takes (tests build synthetic ones with this).

    counts: generation, metric ('interruptions' | 'permanent_failures'), count, exposure_gpu_years,
    exposure_log_sd (optional, default 0), label (optional). rates: generation, value_low,
    value_high, label (optional): published permanent-failure-rate ranges per GPU-year.
    """
    counts = counts.copy().reset_index(drop=True)
    if "exposure_log_sd" not in counts:
        counts["exposure_log_sd"] = 0.0
    if "label" not in counts:
        counts["label"] = [f"{g}:{m}:{i}" for i, (g, m) in enumerate(zip(counts["generation"], counts["metric"]))]
    rates = (rates if rates is not None else pd.DataFrame(columns=["generation", "value_low", "value_high"])).copy().reset_index(drop=True)
    if "label" not in rates:
        rates["label"] = [f"{g}:permanent_rate:{i}" for i, g in enumerate(rates["generation"])]
    for df in (counts, rates):
        bad = set(df["generation"]) - set(GENERATIONS)
        if bad:
            raise ValueError(f"unknown generation(s) {sorted(bad)}; allowed {GENERATIONS}")
    bad = set(counts["metric"]) - {"interruptions", "permanent_failures"}
    if bad:
        raise ValueError(f"unknown count metric(s) {sorted(bad)}")
    return {"counts": counts, "rates": rates, "table": table}


def load_observations(as_of: str | None = None) -> dict:
    """GPU-attributed interruption counts summed per study, permanent counts, permanent-rate ranges."""
    from priors.observations_io import read_table

    df = read_table("failures", as_of=as_of)
    df = df[df["generation"].isin(GENERATIONS)]
    cnt = df[df["metric"].isin(["interruptions", "permanent_failures"]) & (df["gpu_attributed"] == 1)]
    counts = (
        cnt.groupby(["entity", "generation", "metric", "exposure_gpu_years", "exposure_log_sd"], as_index=False, sort=False)["count"].sum()
        .assign(label=lambda d: d["entity"] + " " + d["generation"] + " " + d["metric"])
    )
    counts["count"] = counts["count"].astype(int)
    rates = df[df["metric"] == "permanent_rate"][["entity", "generation", "value_low", "value_high"]]
    rates = rates.assign(label=rates["entity"] + " " + rates["generation"] + " permanent rate")
    return make_observations(counts, rates, table=df)


# ------------------------------------------------------------------------------------------ model
def build_model(obs: dict):
    import pymc as pm
    import pytensor.tensor as pt

    counts, rates = obs["counts"], obs["rates"]
    gidx = {g: i for i, g in enumerate(GENERATIONS)}
    coords = {"generation": GENERATIONS}
    if len(counts):
        coords["count_obs"] = list(counts["label"])
    if len(rates):
        coords["rate_obs"] = list(rates["label"])
    with pm.Model(coords=coords) as model:
        m = pm.LogNormal("interruption_rate_mean", mu=np.log(0.10), sigma=1.0)
        alpha = pm.LogNormal("interruption_rate_shape", mu=np.log(4.0), sigma=0.5)
        lam = pm.Gamma("interruption_rate", alpha=alpha, beta=alpha / m, dims="generation")
        phi = pm.Beta("permanent_share", alpha=2.0, beta=3.0)
        perm = pm.Deterministic("permanent_rate", phi * lam, dims="generation")
        pm.Deterministic("annual_failure_rate_frac", -pt.expm1(-perm), dims="generation")

        if len(counts):
            g = pm.Data("count_generation", counts["generation"].map(gidx).to_numpy(np.int64), dims="count_obs")
            is_perm = pm.Data("count_is_permanent", (counts["metric"] == "permanent_failures").to_numpy(np.int64), dims="count_obs")
            expo = pm.Data("exposure_gpu_years", counts["exposure_gpu_years"].to_numpy(float), dims="count_obs")
            log_sd = pm.Data("exposure_log_sd", counts["exposure_log_sd"].to_numpy(float), dims="count_obs")
            eta = pm.Normal("exposure_log_error", 0.0, 1.0, dims="count_obs")
            rate = pt.switch(pt.eq(is_perm, 1), perm[g], lam[g])
            pm.Poisson("failure_count", mu=rate * expo * pt.exp(log_sd * eta), observed=counts["count"].to_numpy(np.int64), dims="count_obs")

        if len(rates):
            rg = pm.Data("rate_generation", rates["generation"].map(gidx).to_numpy(np.int64), dims="rate_obs")
            lo = pm.Data("permanent_rate_low", np.log(rates["value_low"].to_numpy(float)), dims="rate_obs")
            hi_v = rates["value_high"].to_numpy(float)
            hi = pm.Data("permanent_rate_high", np.where(np.isfinite(hi_v), np.log(np.where(np.isfinite(hi_v), hi_v, 1.0)), OPEN), dims="rate_obs")
            pm.Potential("permanent_rate_range", normal_interval_logp(lo, hi, pt.log(perm[rg]), PERMANENT_RANGE_LOG_SD).sum())
    return model


def finalize(idata, obs, model, seed) -> None:
    """``annual_failure_rate_frac`` is a Deterministic, already in the posterior; check it."""
    if "annual_failure_rate_frac" not in idata.posterior:
        raise RuntimeError("annual_failure_rate_frac missing from the posterior")


# ----------------------------------------------------------------------------------- closed form
def build_single_rate_model(counts, exposure, a: float, b: float):
    """One rate, Gamma(a, b) prior (shape a, rate b), Poisson counts y_k ~ Poisson(rate * E_k)."""
    import pymc as pm

    with pm.Model() as model:
        rate = pm.Gamma("rate", alpha=a, beta=b)
        pm.Poisson("count", mu=rate * np.asarray(exposure, float), observed=np.asarray(counts, np.int64))
    return model


def gamma_poisson_posterior(counts, exposure, a: float, b: float) -> tuple[float, float]:
    """Conjugate posterior of that model: Gamma(a + sum y, b + sum E) as (shape, rate)."""
    return a + float(np.sum(counts)), b + float(np.sum(exposure))
