"""Is the decline rate's dependence on age since launch identifiable in the rental-price data?

Fits price_dynamics with the experimental age slope (``build_model(obs, age_slope=True)``:
r[g,t] = r[g] + b_age (age[g,t] - 2 years)) on all data and prints the posterior of b_age against
its prior N(0, 0.01), the age span each generation's data cover, and how the generation decline
rates move when the slope is added. Run: ``.venv/bin/python -m research.age_since_launch``
(about a minute on 2 cores). The result is in docs/priors.md ("Age since launch").
"""

from __future__ import annotations

import numpy as np

from priors.models import price_dynamics as pdm  # sets the XLA host device count before jax loads
from priors.models.price import data as pdata
from priors.models.price import graph as pgraph
from priors.models.price.config import PriceModelConfig


def main(seed: int = 20261126) -> dict:
    import pymc as pm

    obs = pdm.load_observations(None)
    age = pdata.launch_age_years(obs) + pdata.AGE_REF_YEARS
    seg = obs.segments()
    spans = {gen: (round(float(age[g, seg[g][0]]), 1), round(float(age[g, seg[g][1]]), 1)) for g, gen in enumerate(pdata.GENERATIONS) if g in seg}
    with pdm.build_model(obs, PriceModelConfig(provider_panel=False, age_slope=True)):  # as scored: the model shipped before session 7
        idata = pm.sample(nuts_sampler="numpyro", random_seed=seed, progressbar=False, draws=1000, tune=1000, chains=4, target_accept=0.9)
    b = idata.posterior["decline_age_slope"].values.reshape(-1)
    r = idata.posterior["decline_rate_per_month"].mean(("chain", "draw")).values
    out = {
        "age_span_years": spans,
        "b_age_prior_sd": pgraph.AGE_SLOPE_PRIOR_SD,
        "b_age_mean": float(b.mean()), "b_age_sd": float(b.std()),
        "b_age_94": [float(np.quantile(b, 0.03)), float(np.quantile(b, 0.97))],
        "posterior_sd_over_prior_sd": float(b.std() / pgraph.AGE_SLOPE_PRIOR_SD),
        "decline_rate_mean_with_slope": dict(zip(pdata.GENERATIONS, np.round(r, 4).tolist())),
        "corr_b_age_with_r": {gen: float(np.corrcoef(b, idata.posterior["decline_rate_per_month"].values[..., g].reshape(-1))[0, 1]) for g, gen in enumerate(pdata.GENERATIONS)},
        "divergences": int(idata.sample_stats["diverging"].values.sum()),
    }
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
