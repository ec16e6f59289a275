"""The ``capex-check`` job as a function: load the plan -> compile -> breakevens -> report (-> write)."""

from __future__ import annotations

from pathlib import Path


def run_capex_check(plan_path, *, paths: int | None = None, seed: int | None = None, out=None, force: bool = False, write: bool = True, progress=None,
                    overrides: dict | None = None):
    """Returns (report dict, LoadedPlan, Model, raw breakevens). Raises ScenarioError on bad input before any work.
    ``overrides``: ``--set`` on the scenario the plan implies (``load_plan``)."""
    from engine.capex.breakeven import breakevens
    from engine.capex.plan import load_plan
    from engine.capex.report import build_report, write_report
    from engine.compile import compile_model
    from engine.runner import _configure_jax

    lp = load_plan(plan_path, paths=paths, seed=seed, overrides=overrides)
    if write and out is not None and Path(out).exists() and not force:
        raise FileExistsError(f"output directory {out} exists; pass --force to replace it")
    model = compile_model(lp.scenario)
    cfg = lp.scenario.scenario.run
    _configure_jax(cfg.dtype)
    import jax.numpy as jnp

    dtype = jnp.float64 if cfg.dtype == "float64" else jnp.float32
    sr = lp.plan.search
    u_max = float(lp.scenario.scenario.demand.utilization_ceiling_frac)
    be = breakevens(model, n_paths=cfg.paths, seed=cfg.seed, dtype=dtype, m_min=sr.price_multiplier_min, m_max=sr.price_multiplier_max,
                    u_min=sr.utilization_min_frac, u_max=u_max, iterations=sr.iterations, progress=progress)
    report = build_report(model, be, plan_path=str(plan_path), sha256=lp.sha256, seed=cfg.seed, n_paths=cfg.paths, has_debt=bool(model.facilities), u_max=u_max,
                          u_min=sr.utilization_min_frac, m_min=sr.price_multiplier_min, m_max=sr.price_multiplier_max)
    report["tranches"] = list(lp.tranche_names)
    if write and out is not None:
        write_report(Path(out), report, lp.scenario.resolved_toml, force=force)
    return report, lp, model, be
