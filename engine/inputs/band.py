"""Percentile-band stress of one input: the input is drawn inside its p-q percentile band.

The input's normal score z gives the uniform score u = Phi(z); the band maps it to
u' = p + (q - p) u and the input is Q(u'), i.e. z' = Phi^-1(p + (q - p) Phi(z)). The same z per
path keeps common random numbers: a path's rank inside the band is its rank in the full
distribution. (Posterior inputs are banded in engine/stress/bands.py by restricting the sample
index instead.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.scenario.dists import Dist


@dataclass(frozen=True)
class Banded:
    """``base`` restricted to its percentiles [p, q] (fractions). ``mean_value``: its mean (host)."""

    base: Dist
    p: float
    q: float
    mean_value: float

    def mean(self) -> float:
        return self.mean_value


def band_score(z, p: float, q: float):
    """z' = Phi^-1(p + (q - p) Phi(z)) in JAX (any shape)."""
    import jax.numpy as jnp
    from jax.scipy.special import ndtr, ndtri

    u = p + (q - p) * ndtr(z)
    return ndtri(jnp.clip(u, 1e-12, 1.0 - 1e-7))


def banded(base: Dist, p: float, q: float) -> Banded:
    """The banded distribution, its mean by the midpoint rule on 4,000 uniform scores (host, float64)."""
    import jax.numpy as jnp

    from engine.inputs.distributions import quantile

    u = (np.arange(4000) + 0.5) / 4000
    from scipy.special import ndtri as np_ndtri

    z = np_ndtri(p + (q - p) * u)
    x = np.asarray(quantile(base, jnp.asarray(z)), dtype=np.float64)
    return Banded(base=base, p=float(p), q=float(q), mean_value=float(x.mean()))
