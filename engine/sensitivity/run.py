"""``run_sensitivity``: tornado, pathwise-gradient elasticities and Sobol indices of one scenario,
as one dict (sensitivity.json's content). ``rackrisk sensitivity`` formats and writes it; the Python
API (``engine.api.sensitivity``) lays it out as a Dataset. Methods and equations: docs/stress.md."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

METHODS = ("tornado", "gradients", "sobol")


def run_sensitivity(loaded, model, *, methods: tuple[str, ...], metric: str, paths: int = 20_000, sobol_paths: int = 2048,
                    progress: Callable[[str], None] | None = None) -> dict:
    """The sensitivity results of ``loaded`` (compiled as ``model``) on its seed and dtype.

    ``methods``: a subset of ``METHODS``; ``metric``: the metric the tornado ranks by and the Sobol
    indices are reported for (engine/stress/metrics.py names; ``KeyError`` naming the allowed ones
    otherwise); ``paths``: paths per evaluation (tornado, gradients); ``sobol_paths``: the Sobol
    design's N. Returns ``{"tornado": ..., "gradients": ..., "sobol": ...}`` for the methods run."""
    from engine.sensitivity.override import Evaluator
    from engine.stress.metrics import metric_table, resolve

    say = progress or (lambda _m: None)
    cfg = loaded.scenario.run
    seed, n = cfg.seed, paths
    ev = Evaluator(model, dtype=cfg.dtype)
    metrics = {k: v[1] for k, v in metric_table(model).items() if "_by_" not in k}
    if metric not in metrics:
        metrics[metric] = resolve(model, metric)[1]
    doc: dict = {}
    if "tornado" in methods:
        from engine.sensitivity.tornado import tornado

        say(f"tornado: {sum(sp.is_random for sp in model.inputs)} inputs x 2 values x {n} paths")
        doc["tornado"] = {**tornado(ev, metrics, seed=seed, paths=np.arange(n), rank_by=metric), "paths": n}
    if "gradients" in methods:
        from engine.sensitivity.gradients import pathwise_elasticities, smooth_metric_values, tau_usd

        say(f"gradients: autodiff through {n} paths")
        gr = pathwise_elasticities(model, seed=seed, paths=np.arange(n), dtype=cfg.dtype)
        base_run = ev.evaluate(seed=seed, paths=np.arange(n))
        loss = smooth_metric_values(base_run.scalars, tau_usd(model))["expected_impairment_loss_usd_ias36"]
        gr["smoothing_bias_p_impairment_ias36"] = float(np.mean(1.0 - np.exp(-loss / gr["tau_usd"])) - np.mean(loss > 0))
        doc["gradients"] = gr
    if "sobol" in methods:
        from engine.sensitivity.sobol import engine_design

        say(f"sobol: N = {sobol_paths} rows")
        doc["sobol"] = engine_design(ev, metrics, seed=seed, N=sobol_paths)
    return doc
