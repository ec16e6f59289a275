"""One PyMC model per module. Each module defines:

    NAME: str                     the model's name (priors/fitted/<NAME>.nc)
    TABLES: list[str]             observation tables it reads (priors/observations/<table>.csv)
    GATE_VARS: list[str]          free parameters checked by the convergence gate
    ENGINE_VARS: dict[str, str]   variable -> group ("posterior" or "posterior_predictive") the
                                  engine reads, with dims (chain, draw[, generation])
    load_observations(as_of: str | None) -> object
    build_model(obs) -> pm.Model
    finalize(idata, obs, model, seed) -> None   adds the ENGINE_VARS (posterior predictive etc.)
    SAMPLE: dict                  keyword arguments for pm.sample (draws, tune, target_accept)

Registry below: the order `rackrisk fit` runs them in.
"""

MODELS = {
    "price_dynamics": "priors.models.price_dynamics",
    "failures": "priors.models.failures",
    "utilization": "priors.models.utilization",
    "elasticity": "priors.models.elasticity",
    "residual_value": "priors.models.residual_value",
}
