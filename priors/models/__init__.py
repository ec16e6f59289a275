"""The calibration models, one module per model, each a ``PriorModel``; ``MODELS`` is the registry (the
order `rackrisk fit` runs them in). Optional hooks a module may add, which ``priors.fit`` calls when
present: ``gate_vars(idata) -> list[str]`` (the gated parameters of this posterior; default GATE_VARS),
``fit_notes(idata, as_of) -> tuple[str, ...]`` (lines printed after the fit) and ``plot(idata, obs,
out_dir)`` (its own check plots; default ``priors.plots.ppc_plot``).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class PriorModel(Protocol):
    """What `rackrisk fit` needs of a model module.

    NAME: the model's name; the fit writes priors/fitted/<NAME>.nc.
    TABLES: observation tables it reads (priors/observations/<table>.csv; their sha256 go in the file).
    GATE_VARS: free parameters the convergence gate checks (every scalar element).
    ENGINE_VARS: variable -> group ("posterior" or "posterior_predictive") the engine reads, dims
        (chain, draw[, generation]); always kept in the shipped file.
    SAMPLE: keyword arguments for pm.sample (draws, tune, chains, target_accept).
    load_observations(as_of): the observations dated at or before as_of (YYYY-MM; None: all); a
        ValueError naming the earliest usable month when none are left.
    build_model(obs): the pm.Model (PyMC imported inside).
    finalize(idata, obs, model, seed): adds the ENGINE_VARS that are not free parameters (posterior
        predictive draws etc.) to idata in place.
    """

    NAME: str
    TABLES: list[str]
    GATE_VARS: list[str]
    ENGINE_VARS: dict[str, str]
    SAMPLE: dict[str, Any]

    def load_observations(self, as_of: str | None = None) -> Any: ...

    def build_model(self, obs: Any) -> Any: ...

    def finalize(self, idata: Any, obs: Any, model: Any, seed: int) -> None: ...


MODELS = {
    "price_dynamics": "priors.models.price_dynamics",
    "failures": "priors.models.failures",
    "utilization": "priors.models.utilization",
    "elasticity": "priors.models.elasticity",
    "residual_value": "priors.models.residual_value",
}
