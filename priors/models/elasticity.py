"""Demand elasticity: the price elasticity of demand for GPU-hours, from token-market estimates.

There is no direct estimate of the GPU-hour elasticity in the data. It is built from a chain, each
link with its own evidence or an explicit prior:

    GPU-hour price -1 %  ->  inference price -beta %  ->  tokens (and GPU-hours) +kappa * eps * beta %

    eps    provider-level token price elasticity (absolute value)
           prior LogNormal(0, 0.5) (median 1, 95 % 0.38-2.7);
           evidence: Fradkin (OpenRouter, Azure) "just above one": a lower bound, eps_obs > 1, where
           log eps_obs ~ Normal(log eps, 0.1) (a soft edge: the study is large but reports no SE).
    beta   pass-through of a cost change to the inference price, prior Beta(2, 2);
           evidence: beta = 0.432 (arXiv 2603.28576, training cost -> inference price) read as
           beta_obs ~ Normal(beta, 0.1): no SE is reported, 0.1 is assumed (about +-0.2 at 95 %),
           wider than a regression SE would be because it is a training-cost, not a GPU-hour-price,
           pass-through.
    kappa  market-level / provider-level elasticity ratio ~ Uniform(0, 1) (Beta(1, 1)): NO DATA.
           A provider-level elasticity includes switching between providers, which is not new
           demand for GPU-hours, so the market elasticity is at most the provider one; the study
           itself rules out short-run Jevons (> 1) at the provider level. How much of it is
           switching is unknown: the uniform says so, and it is the largest part of the spread.
    price_elasticity = kappa * beta * eps  (>= 0): the engine's demand.price_elasticity
           (group posterior, a Deterministic).

Restatements (blog readings of the same two estimates) are kept in the table with role
``restatement`` and not counted again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NAME = "elasticity"
TABLES = ["elasticity"]
GATE_VARS = ["provider_token_elasticity", "pass_through", "market_share_of_elasticity"]
ENGINE_VARS = {"price_elasticity": "posterior"}
SAMPLE = dict(draws=1000, tune=1000, target_accept=0.9)

ELASTICITY_LOG_SD = 0.1    # soft edge of the "just above one" bound (no SE reported)
PASS_THROUGH_SD = 0.1      # assumed SE of the 0.432 estimate (none reported)
OPEN = 50.0                # an open interval end on the log scale

Q_ELAST = "token_price_elasticity"
Q_PASS = "pass_through_training_cost_to_inference_price"


def make_observations(elasticity: pd.DataFrame, pass_through: pd.DataFrame, table: pd.DataFrame | None = None) -> dict:
    """elasticity: value_low, value_high (NaN = open end; equal = point); pass_through: value (points)."""
    e = elasticity.copy().reset_index(drop=True)
    p = pass_through.copy().reset_index(drop=True)
    for df, name in ((e, "elasticity"), (p, "pass_through")):
        if "label" not in df:
            df["label"] = [f"{name} {i}" for i in range(len(df))]
    return {"elasticity": e, "pass_through": p, "table": table}


def load_observations(as_of: str | None = None) -> dict:
    from priors.observations_io import read_table

    df = read_table("elasticity", as_of=as_of)
    est = df[df["role"] == "estimate"]
    e = est[est["quantity"] == Q_ELAST][["subject", "value_low", "value_high"]].rename(columns={"subject": "label"})
    p = est[est["quantity"] == Q_PASS]
    p = pd.DataFrame({"label": p["subject"], "value": p["value_low"].astype(float)})
    return make_observations(e, p, table=df)


def build_model(obs: dict):
    import pymc as pm
    import pytensor.tensor as pt

    from priors.models._likelihoods import normal_interval_logp

    e, p = obs["elasticity"], obs["pass_through"]
    coords = {}
    if len(e):
        coords["elasticity_obs"] = list(e["label"])
    if len(p):
        coords["pass_through_obs"] = list(p["label"])
    with pm.Model(coords=coords) as model:
        eps = pm.LogNormal("provider_token_elasticity", mu=0.0, sigma=0.5)
        beta = pm.Beta("pass_through", alpha=2.0, beta=2.0)
        kappa = pm.Beta("market_share_of_elasticity", alpha=1.0, beta=1.0)
        pm.Deterministic("price_elasticity", kappa * beta * eps)
        if len(e):
            lo_v, hi_v = e["value_low"].to_numpy(float), e["value_high"].to_numpy(float)
            lo = pm.Data("elasticity_low", np.where(np.isfinite(lo_v), np.log(np.where(np.isfinite(lo_v), lo_v, 1.0)), -OPEN), dims="elasticity_obs")
            hi = pm.Data("elasticity_high", np.where(np.isfinite(hi_v), np.log(np.where(np.isfinite(hi_v), hi_v, 1.0)), OPEN), dims="elasticity_obs")
            point = np.isclose(lo_v, hi_v)
            if point.any():
                pm.Normal("elasticity_point", mu=pt.log(eps), sigma=ELASTICITY_LOG_SD, observed=np.log(lo_v[point]))
            if (~point).any():
                keep = np.flatnonzero(~point)
                pm.Potential("elasticity_bound", normal_interval_logp(lo[keep], hi[keep], pt.log(eps), ELASTICITY_LOG_SD).sum())
        if len(p):
            pm.Normal("pass_through_estimate", mu=beta, sigma=PASS_THROUGH_SD, observed=p["value"].to_numpy(float), dims="pass_through_obs")
    return model


def finalize(idata, obs, model, seed) -> None:
    """``price_elasticity`` is a Deterministic, already in the posterior; check it."""
    if "price_elasticity" not in idata.posterior:
        raise RuntimeError("price_elasticity missing from the posterior")
