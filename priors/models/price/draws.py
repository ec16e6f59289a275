"""Posterior draws as plain arrays, samples first (no PyMC)."""

from __future__ import annotations


def posterior_draws(idata, name: str):
    """``idata.posterior[name]`` as a numpy array (samples, ...): chain and draw stacked chain-major."""
    return idata.posterior[name].stack(sample=("chain", "draw")).transpose("sample", ...).values
