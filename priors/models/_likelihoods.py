"""JAX-safe normal log-CDF and interval likelihood for PyMC models sampled through numpyro.

PyMC's ``Normal`` logcdf uses ``erfcx``, which has no JAX implementation; these use only ops that
have one. Shared by the failures, elasticity and residual-value models.
"""

from __future__ import annotations

import numpy as np


def normal_logcdf(z):
    """log Phi(z), stable in the left tail, built from ops that have JAX implementations."""
    import pytensor.tensor as pt

    cut = -10.0
    zt = pt.minimum(z, cut)  # asymptotic series, used below the cut (error < 1e-7 there)
    tail = -0.5 * zt**2 - pt.log(-zt) - 0.5 * np.log(2 * np.pi) + pt.log1p(-1 / zt**2 + 3 / zt**4 - 15 / zt**6)
    zb = pt.maximum(z, cut)  # erfc is exact in float64 above the cut (Phi(-10) ~ 7.6e-24)
    body = pt.log(0.5 * pt.erfc(-zb / np.sqrt(2.0)))
    return pt.switch(z < cut, tail, body)


def normal_interval_logp(lo, hi, mu, sigma):
    """log P(lo < X < hi) for X ~ Normal(mu, sigma), elementwise; lo < hi."""
    import pytensor.tensor as pt

    a = (lo - mu) / sigma
    b = (hi - mu) / sigma
    flip = a > 0  # both ends in the right tail: use the mirror image, Phi(b) - Phi(a) = Phi(-a) - Phi(-b)
    top = pt.switch(flip, -a, b)
    bot = pt.switch(flip, -b, a)
    l_top = normal_logcdf(top)
    return l_top + pt.log1mexp(pt.minimum(normal_logcdf(bot) - l_top, -1e-12))
