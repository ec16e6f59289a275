"""A synthetic price_dynamics posterior for forecast tests (no sampling): ``forecast_posterior``.

The forecast (``price_dynamics.forecast_log_ratio``) reads these variables from ``idata.posterior``; tests fix
them to values whose forecast they can compute by hand. Each value is broadcast to its (chain = 1, draw = S,
...) shape: a scalar, or an array of that shape (e.g. random levels).
"""

from __future__ import annotations

import numpy as np

from priors.models import price_dynamics as pdm
from priors.models.price import data as pdata
from priors.models.price.forecast import forecast_log_ratio


def forecast_posterior(S: int, *, volatility, obs_sd, dof, decline=0.0, undercut=0.0, composition_sd=0.0, level=0.0, **extra):
    """xarray.Dataset: decline_rate_per_month, volatility_per_month, log_level_end (per generation), undercut_frac,
    obs_sd (per kind), composition_sd, composition_exponent (2.0), noise_dof (per noise group), plus ``extra``
    entries given as (dims, array) like any Dataset variable."""
    import xarray as xr

    G = len(pdata.GENERATIONS)

    def full(v, shape):
        return np.broadcast_to(np.asarray(v, float), shape).copy()

    gen, one = ("chain", "draw", "generation"), ("chain", "draw")
    return xr.Dataset({
        "decline_rate_per_month": (gen, full(decline, (1, S, G))),
        "volatility_per_month": (gen, full(volatility, (1, S, G))),
        "undercut_frac": (one, full(undercut, (1, S))),
        "obs_sd": (("chain", "draw", "kind"), full(obs_sd, (1, S, len(pdata.KINDS)))),
        "composition_sd": (one, full(composition_sd, (1, S))),
        "composition_exponent": (one, full(2.0, (1, S))),
        "log_level_end": (gen, full(level, (1, S, G))),
        "noise_dof": (("chain", "draw", "noise_group"), full(dof, (1, S, 2))),
        **extra,
    })
