"""Percentile-band stress of one input: the input is drawn inside its p-q percentile band.

The input's normal score z gives the uniform score u = Phi(z); the band maps it to
u' = p + (q - p) u and the input is Q(u'), i.e. z' = Phi^-1(p + (q - p) Phi(z)). The same z per
path keeps common random numbers: a path's rank inside the band is its rank in the full
distribution. The banded distribution (``Banded``) and its score map (``band_score``) live with
the quantile functions (engine/inputs/distributions.py), which draw it; this module builds it.
(Posterior inputs are banded in engine/stress/bands.py by restricting the sample index instead.)
"""

from __future__ import annotations

import numpy as np

from engine.inputs.distributions import Banded, quantile
from engine.scenario.dists import Dist


def banded(base: Dist, p: float, q: float) -> Banded:
    """The banded distribution, its mean by the midpoint rule on 4,000 uniform scores (host, float64)."""
    import jax.numpy as jnp
    from scipy.special import ndtri as np_ndtri

    u = (np.arange(4000) + 0.5) / 4000
    z = np_ndtri(p + (q - p) * u)
    x = np.asarray(quantile(base, jnp.asarray(z)), dtype=np.float64)
    return Banded(base=base, p=float(p), q=float(q), mean_value=float(x.mean()))
