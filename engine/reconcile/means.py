"""The scenario's expected value of each uncertain input: a distribution's mean, a posterior's sample
mean (the posterior file is read once, as ``rackrisk run`` reads it)."""

from __future__ import annotations

import numpy as np

from engine.inputs.posterior import load_draws
from engine.inputs.registry import iter_inputs
from engine.scenario.dists import Posterior
from engine.scenario.load import LoadedScenario


def input_means(loaded: LoadedScenario) -> dict[str, float]:
    """input name (e.g. ``demand.utilization_frac``) -> expected value."""
    out: dict[str, float] = {}
    for name, d in iter_inputs(loaded.scenario):
        if isinstance(d, Posterior):
            out[name] = float(np.mean(load_draws(d, field=name, scenario_file=str(loaded.path))))
        else:
            out[name] = float(d.mean())
    return out
