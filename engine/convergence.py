"""``rackrisk run --target-se X``: add paths until a metric's Monte Carlo standard error is under X.

Paths are keyed by their index (engine/random.py), so a run of n' > n paths contains the n-path
run as its first n paths: growing the run is adding chunks of new path indices. Each step runs
the scenario with n paths, computes SE = sd(m_i) / sqrt(n) of the chosen per-path metric
(engine/stress/metrics.py), and stops when SE <= X ("target reached") or n = the path limit
("path limit reached"). Otherwise the next size is the SE rule's estimate
n' = n (SE / X)^2 x 1.1, at least 1.5 n, rounded up to a whole chunk, capped at the limit.
(Each step re-simulates from path 0: simple, and at most about twice the work of one run of the
final size.) The steps and the reason are written to summary.json under "convergence".
"""

from __future__ import annotations

import math
from pathlib import Path


def run_to_target_se(path, *, metric: str, target_se: float, max_paths: int, start_paths: int | None = None, seed: int | None = None,
                     out: Path | None = None, force: bool = False, chunk_paths: int | None = None, store: str | None = None,
                     allow_unconverged: bool = False, progress=None, overrides: dict | None = None, warnings_to=None):
    """Run ``path`` (with ``overrides`` and ``warnings_to``, as ``run_scenario``'s) with growing path counts; returns (RunResult, convergence dict)."""
    import numpy as np

    from engine.app import run_scenario
    from engine.stress.metrics import resolve

    from engine.compile import compile_model
    from engine.errors import ScenarioError
    from engine.scenario.load import load_scenario

    try:  # a bad metric name fails before anything runs
        first = load_scenario(path, allow_unconverged=allow_unconverged, overrides=overrides)
        if warnings_to is not None:
            from engine.scenario.plausibility import print_warnings

            print_warnings(first, warnings_to)
        resolve(compile_model(first, allow_unconverged=allow_unconverged), metric)
    except KeyError as exc:
        raise ScenarioError("", "--se-metric", exc.args[0]) from None
    n = int(min(max_paths, start_paths or 4096))
    steps = []
    while True:
        res = run_scenario(path, paths=n, seed=seed, write=False, chunk_paths=chunk_paths, store=store, allow_unconverged=allow_unconverged, progress=progress,
                           overrides=overrides)
        label, fn = resolve(res.model, metric)
        v = fn(res.run)
        v = v[np.isfinite(v)]
        se = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else float("inf")
        steps.append({"paths": n, "value": float(v.mean()), "se": se})
        if se <= target_se:
            reason = "target reached"
            break
        if n >= max_paths:
            reason = "path limit reached"
            break
        chunk = res.chunk_paths
        want = max(n * (se / target_se) ** 2 * 1.1, 1.5 * n)
        n = int(min(max_paths, math.ceil(want / chunk) * chunk))
    conv = {"metric": metric, "label": label, "target_se": target_se, "achieved_se": steps[-1]["se"], "value": steps[-1]["value"],
            "paths": n, "max_paths": max_paths, "reason": reason, "steps": steps}
    res.summary["convergence"] = conv
    if out is not None:
        from engine.results import build_dataset, provenance, write_results

        loaded, cfg = res.loaded, res.loaded.scenario.run
        chunk = res.chunk_paths
        prov = provenance(loaded, res.model, seed=cfg.seed, n_paths=n, dtype=cfg.dtype, chunk_paths=chunk)
        ds = build_dataset(res.model, res.run, store=cfg.store, prov=prov, resolved_toml=loaded.resolved_toml)
        header = (
            f"# Resolved by rackrisk {prov['engine_version']} from {loaded.path} (extends applied, defaults filled in).\n"
            f"# sha256 of the text below this header: {loaded.sha256}\n\n"
        )
        write_results(Path(out), dataset=ds, summary=res.summary, resolved_toml=header + loaded.resolved_toml, force=force)
        res.out_dir = Path(out)
    return res, conv
