"""Quantile functions of the scenario distributions, in JAX.

Every uncertain input is drawn as ``x = Q(z)`` from a standard-normal score ``z`` (independent,
or correlated through the Gaussian copula). Working from ``z`` rather than from ``u = Phi(z)``
keeps the tails accurate in float32 (the upper tail uses ``Phi(-z)`` directly).

Beta and PERT quantiles have no closed form: they are tabulated once on the host with scipy on
a grid of 4097 normal scores in [-8, 8] and linearly interpolated (interpolation error below
1e-5 of the range; checked in tests/test_distributions.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import log_ndtr, ndtr, ndtri

from engine.scenario import dists as D

Z_GRID = np.linspace(-8.0, 8.0, 4097)


@dataclass(frozen=True)
class Banded:
    """``base`` restricted to its percentiles [p, q] (fractions): a percentile-band stress, built by
    engine.inputs.band.banded. ``mean_value``: its mean (host)."""

    base: D.Dist
    p: float
    q: float
    mean_value: float

    def mean(self) -> float:
        return self.mean_value


def band_score(z, p: float, q: float):
    """z' = Phi^-1(p + (q - p) Phi(z)) (any shape): the score of the same rank inside the band [p, q]."""
    u = p + (q - p) * ndtr(z)
    return ndtri(jnp.clip(u, 1e-12, 1.0 - 1e-7))


@lru_cache(maxsize=256)
def _beta_table(a: float, b: float) -> np.ndarray:
    # scipy.special.betaincinv is what scipy.stats.beta.ppf evaluates (identical tables, checked for
    # several (a, b)); importing scipy.stats instead cost 2-3 s of every run with a beta or PERT input
    from scipy.special import betaincinv
    from scipy.special import ndtr as np_ndtr

    u = np_ndtr(Z_GRID)
    q = betaincinv(a, b, u)
    q[0], q[-1] = max(q[0], 0.0), min(q[-1], 1.0)
    return q


def quantile(d: D.Dist, z: jnp.ndarray) -> jnp.ndarray:
    """x = Q_d(Phi(z)) elementwise. ``z``: any shape, standard-normal scores."""
    if isinstance(d, Banded):  # a percentile-band stress (engine/inputs/band.py)
        return quantile(d.base, band_score(z, d.p, d.q))
    if isinstance(d, D.Fixed):
        return jnp.full_like(z, d.value)
    if isinstance(d, D.Normal):
        return d.mean_ + d.sd * z
    if isinstance(d, D.LogNormal):
        return d.median * jnp.exp(d.sigma_log * z)
    if isinstance(d, D.TruncNormal):
        a = (d.low - d.mean_) / d.sd
        b = (d.high - d.mean_) / d.sd
        pa, pb = ndtr(jnp.asarray(a, z.dtype)), ndtr(jnp.asarray(b, z.dtype))
        u = pa + ndtr(z) * (pb - pa)
        x = d.mean_ + d.sd * ndtri(jnp.clip(u, 1e-12, 1 - 1e-7))
        return jnp.clip(x, d.low, d.high)
    if isinstance(d, D.Uniform):
        return d.low + (d.high - d.low) * ndtr(z)
    if isinstance(d, D.Triangular):
        u = ndtr(z)
        r = d.high - d.low
        c = (d.mode - d.low) / r
        lower = d.low + jnp.sqrt(u * r * (d.mode - d.low))
        upper = d.high - jnp.sqrt(ndtr(-z) * r * (d.high - d.mode))
        return jnp.where(u < c, lower, upper)
    if isinstance(d, D.Exponential):
        return d.loc - d.mean_ * log_ndtr(-z)
    if isinstance(d, (D.Beta, D.Pert)):
        a, b = d.ab
        table = jnp.asarray(_beta_table(float(a), float(b)), z.dtype)
        x01 = jnp.interp(z, jnp.asarray(Z_GRID, z.dtype), table)
        if isinstance(d, D.Pert):
            return d.low + (d.high - d.low) * x01
        return x01
    if isinstance(d, D.Discrete):
        cum = np.cumsum(d.probs)[:-1]
        idx = jnp.searchsorted(jnp.asarray(cum, z.dtype), ndtr(z), side="right")
        return jnp.asarray(np.asarray(d.values), z.dtype)[idx]
    raise TypeError(f"no quantile function for {type(d).__name__}")
