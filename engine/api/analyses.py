"""The analyses as library functions returning ``xarray.Dataset``: ``stress``, ``sensitivity``,
``compare_lives``, ``capex_check``. The ``rackrisk`` subcommands of the same names run the same
functions (engine/stress/compare.py, engine/sensitivity/run.py, engine/life_comparison.py,
engine/capex/app.py) and format their results.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.api.results import tidy
from engine.api.scenario import Scenario

_STRESS_COLUMNS = ("base", "stress", "delta", "se_delta_crn", "se_delta_independent", "variance_reduction", "se_base", "se_stress")


def _loaded(x):
    """A ``Scenario``'s loaded scenario, or a scenario file loaded (``ScenarioError`` on bad input)."""
    from engine.scenario.load import load_scenario

    return x.loaded if isinstance(x, Scenario) else load_scenario(x)


def stress(baseline: Scenario | str | Path, stresses: list, *, paths: int | None = None, seed: int | None = None):
    """Each stress scenario against ``baseline`` on common random numbers (same seed and path indices):
    ``xarray.Dataset`` on dims ``scenario`` x ``metric`` with ``base``, ``stress``, ``delta`` and the
    paired (CRN) and independent standard errors of the difference (docs/stress.md). ``stresses``:
    ``Scenario`` objects or files; a ``Scenario``'s name labels it. ``attrs["summaries"]`` is not kept:
    run ``simulate`` on a scenario for its full summary."""
    import xarray as xr

    from engine.api.configure import default_runtime
    from engine.stress.compare import run_comparison

    default_runtime()
    cmp = run_comparison(_loaded(baseline), [_loaded(s) for s in stresses], paths=paths, seed=seed)
    scen = list(dict.fromkeys(r["scenario"] for r in cmp.rows))
    metrics = list(dict.fromkeys(r["metric"] for r in cmp.rows))
    data = {k: np.full((len(scen), len(metrics)), np.nan) for k in _STRESS_COLUMNS}
    labels = {}
    for r in cmp.rows:
        i, j = scen.index(r["scenario"]), metrics.index(r["metric"])
        labels[r["metric"]] = r.get("label", r["metric"])
        for k in _STRESS_COLUMNS:
            v = r.get(k)
            data[k][i, j] = np.nan if v is None else float(v)
    return xr.Dataset(
        {k: (("scenario", "metric"), v) for k, v in data.items()},
        coords={"scenario": scen, "metric": metrics, "metric_label": ("metric", [labels[m] for m in metrics])},
        attrs={"paths": int(cmp.base.run.n_paths), "seed": int(cmp.base.summary["run"]["seed"]),
               "baseline_sha256": cmp.base.loaded.sha256, "method": "common random numbers (docs/stress.md)"},
    )


def compare_lives(scenario: Scenario | str | Path, lives_months: list[int], *, paths: int | None = None, seed: int | None = None,
                  reference_months: int | None = None):
    """The same fleet depreciated over each useful life (ASC 250 change in estimate; docs/methodology.md),
    same paths: ``xarray.Dataset`` on dims ``life_months`` x ``statistic`` x ``standard`` (impairment
    probabilities and losses, EBIT by year and its difference to the reference life)."""
    from engine.api.configure import default_runtime
    from engine.life_comparison import compare_lives as run_lives

    default_runtime()
    rep = run_lives(_loaded(scenario), lives_months, paths=paths, seed=seed, reference=reference_months)
    ds = tidy({int(k): v for k, v in rep["by_life"].items()}, entity_dim="life_months",
              attrs={"paths": rep["paths"], "seed": rep["seed"], "reference_life_months": rep["reference_life_months"]})
    return ds.assign_coords(life_months=[int(x) for x in ds["life_months"].values])


def capex_check(plan: str | Path, *, paths: int | None = None, seed: int | None = None):
    """Breakeven prices and utilization of a capex plan (docs/scenarios.md, capex plans): ``xarray.Dataset``
    on dims ``row`` (each generation, and ``fleet_utilization``) x ``statistic`` x ``standard``
    (criteria are in the statistic's name, e.g. ``impairment.p_plan_clears``)."""
    from engine.api.configure import default_runtime
    from engine.capex.app import run_capex_check

    default_runtime()
    report, *_ = run_capex_check(plan, paths=paths, seed=seed, write=False)
    rows = {**report["generations"], "fleet_utilization": report["fleet_utilization"]}
    return tidy(rows, entity_dim="row", attrs={"paths": report["paths"], "seed": report["seed"], "scenario_sha256": report["scenario_sha256"]})


def sensitivity(scenario: Scenario | str | Path, *, methods: tuple[str, ...] = ("tornado",), metric: str = "expected_impairment_loss_usd_ias36",
                paths: int = 20_000, sobol_paths: int = 2048):
    """Which inputs move ``metric`` (docs/stress.md): ``xarray.Dataset`` with, per method run,

    * tornado (each random input at its p10 and p90, common random numbers): ``tornado_at_p10``,
      ``tornado_at_p90``, ``tornado_swing``, ``tornado_se_delta_p10``/``_p90`` on ``input`` x ``metric``,
      the inputs' ``x_p10``/``x_p90`` and each metric's ``tornado_base``;
    * gradients (pathwise autodiff): ``elasticity``, ``elasticity_se``, ``dM_per_sd``, ``dM_per_sd_se``
      on ``gradient_metric`` x ``input``;
    * sobol: ``S1``, ``S1_se``, ``ST``, ``ST_se`` on ``sobol_metric`` x ``group``.
    """
    import xarray as xr

    from engine.api.configure import default_runtime
    from engine.compile import compile_model
    from engine.sensitivity.run import run_sensitivity

    default_runtime()
    loaded = _loaded(scenario)
    doc = run_sensitivity(loaded, compile_model(loaded), methods=tuple(methods), metric=metric, paths=paths, sobol_paths=sobol_paths)
    ds = xr.Dataset(attrs={"seed": int(loaded.scenario.run.seed), "scenario_sha256": loaded.sha256, "metric": metric, "paths": int(paths)})
    if "tornado" in doc:
        tor = doc["tornado"]
        inputs, mets = [r["input"] for r in tor["rows"]], list(tor["base"])
        for key in ("at_p10", "at_p90", "swing", "se_delta_p10", "se_delta_p90"):
            values = np.array([[r["metrics"][m][key] for m in mets] for r in tor["rows"]], float).reshape(len(inputs), len(mets))
            ds[f"tornado_{key}"] = (("input", "metric"), values)
        ds = ds.assign_coords(input=inputs, metric=mets, x_p10=("input", [r["x_p10"] for r in tor["rows"]]),
                              x_p90=("input", [r["x_p90"] for r in tor["rows"]]))
        ds["tornado_base"] = ("metric", np.array([tor["base"][m] for m in mets], float))
    if "gradients" in doc:
        gm = list(doc["gradients"]["metrics"])
        names = sorted({r["input"] for m in gm for r in doc["gradients"]["metrics"][m]["rows"]})
        for key in ("elasticity", "elasticity_se", "dM_per_sd", "dM_per_sd_se"):
            table = {m: {r["input"]: r[key] for r in doc["gradients"]["metrics"][m]["rows"]} for m in gm}
            ds[key] = (("gradient_metric", "gradient_input"), np.array([[table[m][i] for i in names] for m in gm], float))
        ds = ds.assign_coords(gradient_metric=gm, gradient_input=names)
    if "sobol" in doc:
        sb = doc["sobol"]
        sm = list(sb["metrics"])
        for key in ("S1", "S1_se", "ST", "ST_se"):
            ds[key] = (("sobol_metric", "group"), np.array([sb["metrics"][m][key] for m in sm], float))
        ds = ds.assign_coords(sobol_metric=sm, group=[g["name"] for g in sb["groups"]])
    return ds
