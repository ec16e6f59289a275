"""Residual value: used-GPU value as a fraction of its new price, by age in months.

    delta    ~ LogNormal(log 0.02, 1.0)   used_value_decay_per_month: the typical (median across
                                          sources) continuous monthly decay rate, > 0; what the
                                          engine reads (accounting.used_value_decay_per_month)
    tau      ~ HalfNormal(0.5)            spread of the decay rate between sources (log scale)
    log delta_s ~ Normal(log delta, tau)  decay rate behind source s (sampled centered for a source
                                          whose rows pin its rate, non-centered otherwise: _centering)
    sigma    ~ HalfNormal(0.2)            scatter of a row around its own source's curve (log scale;
                                          GLRI's rows, the only source with several, scatter ~0.15)
    log v_i  = -delta_s(i) * age_i + e_i,  e_i ~ Normal(0, sigma)
    a report of v_i is read with error r_i ~ Normal(0, rho), rho = 0.10 (the figures are rounded
    readings and ranges of ranges: "~25 % over 3 years", "$22-25k" over a "$25-40k" list price),
    so a report is Normal around the curve with sd s = sqrt(sigma^2 + rho^2): a point enters as that
    Normal, a range [lo, hi] as log(Phi((log hi + delta_s age) / s) - Phi((log lo + delta_s age) / s))
    (interval likelihood).
    (Without rho, data a source fits exactly pull sigma to 0, where an interval likelihood becomes
    a hard wall and a point one unbounded; NUTS meets both as divergences. With rho = 0.05 the
    walls were still sharp enough for a rare divergence; 0.10 gave none in 20 seeds.)

The source level matters: one source (the GLRI residual guide) gives five of the nine rows, all
read off one curve; treating them as five independent witnesses would let that one curve set the
rate and make it look precise. With a rate per source, the sources that disagree (used H100 quotes
and the Mercatus claim ~0.01/month; GLRI and the V100 ~0.03-0.05/month) widen ``delta`` instead.
No intercept: value is 1 at age 0, as the engine's FV = capex * exp(-delta * (age + 1)) assumes.

Data: rows of priors/observations/residual_value.csv with kind ``residual_curve``, ``used_market``
or ``depreciation_claim`` (forecasts and mixed-condition shortage resale are kept in the table and
not used; trust D rows are dropped by read_table). See README_fleet.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NAME = "residual_value"
TABLES = ["residual_value"]
GATE_VARS = ["used_value_decay_per_month", "decay_source_log_sd", "decay_source_raw", "decay_by_source", "residual_log_sd"]
ENGINE_VARS = {"used_value_decay_per_month": "posterior"}
SAMPLE = dict(draws=1000, tune=1000, target_accept=0.99)
USED_KINDS = ("residual_curve", "used_market", "depreciation_claim")
READING_LOG_SD = 0.10  # reading error of a reported figure (log scale, about 10 %)


def make_observations(rows: pd.DataFrame, table: pd.DataFrame | None = None) -> dict:
    """rows: age_months, value_low, value_high (fractions of the new price; equal = point), source
    (rows of one source share a decay rate; default: one source), label (optional)."""
    r = rows.copy().reset_index(drop=True)
    if "label" not in r:
        r["label"] = [f"obs {i}" for i in range(len(r))]
    if "source" not in r:
        r["source"] = "all"
    sources = list(dict.fromkeys(r["source"])) or ["(no data)"]  # a prior-only source keeps GATE_VARS defined
    lo, hi = r["value_low"].astype(float), r["value_high"].astype(float)
    if ((lo <= 0) | (lo > hi)).any():
        raise ValueError("residual-value rows need 0 < value_low <= value_high")
    point = np.isclose(lo, hi)
    return {"intervals": r[~point].reset_index(drop=True), "points": r[point].reset_index(drop=True), "sources": sources, "table": table}


def load_observations(as_of: str | None = None) -> dict:
    from priors.observations_io import read_table

    df = read_table("residual_value", as_of=as_of)
    use = df[df["kind"].isin(USED_KINDS)]
    rows = use.assign(label=use["gpu"] + " " + use["kind"] + " " + use["age_months"].astype(str) + "m " + use["origin"])
    return make_observations(rows[["label", "source", "age_months", "value_low", "value_high"]], table=df)


def _centering(obs: dict) -> np.ndarray:
    """1 for a source whose rows pin its decay rate (centered), else 0 (non-centered).

    A row [lo, hi] at age a, widened by 2 reading-error sd, implies a decay rate in
    [-log(hi)/a, -log(lo)/a]; a source is 'pinned' when the narrowest such range of its rows has a
    positive lower end and spans less than a factor of 2. With a rate per source a well-pinned
    source sampled non-centered (or a vague one sampled centered) bends the posterior into a funnel.
    """
    rows = pd.concat([obs["intervals"], obs["points"]], ignore_index=True)
    out = np.zeros(len(obs["sources"]))
    for i, src in enumerate(obs["sources"]):
        r = rows[rows["source"] == src] if len(rows) else rows
        if not len(r):
            continue
        lo = np.log(r["value_low"].to_numpy(float)) - 2 * READING_LOG_SD
        hi = np.log(r["value_high"].to_numpy(float)) + 2 * READING_LOG_SD
        age = r["age_months"].to_numpy(float)
        d_lo, d_hi = -hi / age, -lo / age
        ok = d_lo > 0
        if ok.any() and np.min(d_hi[ok] / d_lo[ok]) < 2.0:
            out[i] = 1.0
    return out


def build_model(obs: dict):
    import pymc as pm

    from priors.models._likelihoods import normal_interval_logp

    iv, pts, sources = obs["intervals"], obs["points"], obs["sources"]
    sidx = {x: i for i, x in enumerate(sources)}
    coords = {"source": sources}
    if len(iv):
        coords["interval_obs"] = list(iv["label"])
    if len(pts):
        coords["point_obs"] = list(pts["label"])
    with pm.Model(coords=coords) as model:
        delta = pm.LogNormal("used_value_decay_per_month", mu=np.log(0.02), sigma=1.0)
        tau = pm.HalfNormal("decay_source_log_sd", sigma=0.5)
        # Per-source parameterization: centered where a source's own rows pin its rate, non-centered
        # where they hardly do (variably centered, w_s in {0, 1}; see _centering). The raw variable
        # is log delta_s for a centered source and the standardized effect for a non-centered one.
        w = pm.Data("source_centered", _centering(obs), dims="source")
        log_delta = pm.math.log(delta)
        eta = pm.Normal("decay_source_raw", mu=w * log_delta, sigma=tau**w, dims="source")
        log_delta_s = log_delta + tau ** (1 - w) * (eta - w * log_delta)
        delta_s = pm.Deterministic("decay_by_source", pm.math.exp(log_delta_s), dims="source")
        sigma = pm.HalfNormal("residual_log_sd", sigma=0.2)
        sd = pm.math.sqrt(sigma**2 + READING_LOG_SD**2)
        if len(iv):
            s_i = pm.Data("interval_source", iv["source"].map(sidx).to_numpy(np.int64), dims="interval_obs")
            age = pm.Data("interval_age_months", iv["age_months"].to_numpy(float), dims="interval_obs")
            lo = pm.Data("interval_log_low", np.log(iv["value_low"].to_numpy(float)), dims="interval_obs")
            hi = pm.Data("interval_log_high", np.log(iv["value_high"].to_numpy(float)), dims="interval_obs")
            pm.Potential("interval_likelihood", normal_interval_logp(lo, hi, -delta_s[s_i] * age, sd).sum())
        if len(pts):
            s_p = pm.Data("point_source", pts["source"].map(sidx).to_numpy(np.int64), dims="point_obs")
            age_p = pm.Data("point_age_months", pts["age_months"].to_numpy(float), dims="point_obs")
            pm.Normal("log_value_frac", mu=-delta_s[s_p] * age_p, sigma=sd, observed=np.log(pts["value_low"].to_numpy(float)), dims="point_obs")
    return model


def finalize(idata, obs, model, seed) -> None:
    """``used_value_decay_per_month`` is a free parameter, already in the posterior; check it."""
    if "used_value_decay_per_month" not in idata.posterior:
        raise RuntimeError("used_value_decay_per_month missing from the posterior")
