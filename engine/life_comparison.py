"""Depreciation-policy comparison: the same fleet under several useful lives, side by side.

``compare_lives(path, lives)`` runs the scenario once per life (every cohort's primary life set to
it, components scaled in proportion, life changes dropped) with the same seed, so every path sees
the same market, failures and inputs under each policy (common random numbers: the differences are
the policy's, path by path). For each life it reports the impairment statistics of summary.json
(P(impaired) by year end and over the horizon, timing, size) and earnings by calendar year:

    EBIT_t = cash flow_t - (B_{t-1} + capex_t - B_t)          per standard, summed over cohorts

cash flow = revenue - operating cost + disposal proceeds (methodology §6.3); B the carrying amount
(so depreciation, impairment, failure write-offs, reversals and the book derecognized at disposal
all enter, and a disposal at book value nets to zero); capex_t the cost of cohorts bought in month t.
Pre-interest, pre-tax. Differences against a reference life are paired by path, with the SE of the
paired mean. All paths' months are simulated (store = full), so use a few thousand paths.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.summary import STANDARD_NAMES, mean


def with_life(loaded, life_months: int):
    """The loaded scenario with every cohort's primary life = ``life_months`` (components in proportion)."""
    import hashlib

    from engine.scenario.load import _plain
    from engine.scenario.toml_write import dumps

    s = loaded.scenario
    cohorts = []
    for c in s.fleet.cohort:
        comps = [
            x.model_copy(update={"useful_life_months": life_months if k == 0 else max(1, round(x.useful_life_months * life_months / c.useful_life_months))})
            for k, x in enumerate(c.component)
        ]
        cohorts.append(c.model_copy(update={"useful_life_months": life_months, "component": comps, "life_change": None}))
    scen = s.model_copy(update={"fleet": s.fleet.model_copy(update={"cohort": cohorts}), "title": f"{s.title} [useful life {life_months} months]"})
    resolved = dumps(_plain(scen))
    from dataclasses import replace

    return replace(loaded, scenario=scen, resolved_toml=resolved, sha256=hashlib.sha256(resolved.encode()).hexdigest())


def ebit_by_year(model, run) -> tuple[np.ndarray, list[str]]:
    """(P, Y, S) EBIT per calendar year and standard (S as in the scenario), and the year labels."""
    cv = run.monthly["carrying_amount_usd"].astype(np.float64)  # (P, T, 2, C)
    cash = run.monthly["cash_flow_usd"].astype(np.float64)  # (P, T, C)
    P, T = cash.shape[:2]
    cv0 = np.broadcast_to(model.a["cv0"].sum(-1), (P, 1, 2, model.C))
    prev = np.concatenate([cv0, cv[:, :-1]], axis=1)
    capex = np.zeros((T, model.C))
    cost = model.a["cost"].sum(-1)
    for c in range(model.C):
        p = int(model.a["purchase"][c])
        if 0 <= p < T:
            capex[p, c] = cost[c]
    ebit_m = (cash[:, :, None, :] - (prev + capex[None, :, None, :] - cv)).sum(-1)  # (P, T, 2)
    years = [lab[:4] for lab in model.month_labels]
    labels = sorted(set(years))
    idx = np.array([labels.index(y) for y in years])
    out = np.zeros((P, len(labels), 2))
    for y in range(len(labels)):
        out[:, y] = ebit_m[:, idx == y].sum(axis=1)
    s_idx = [STANDARD_NAMES.index(s) for s in model.standards]
    return out[:, :, s_idx], labels


def compare_lives(path, lives, *, paths: int | None = None, seed: int | None = None, reference: int | None = None, progress=None, overrides: dict | None = None) -> dict:
    from engine.compile import compile_model
    from engine.runner import simulate_paths
    from engine.scenario.load import load_scenario
    from engine.summary import summarize

    from engine.scenario.load import LoadedScenario

    if isinstance(path, LoadedScenario):
        base = path.with_overrides(overrides) if overrides else path
    else:
        base = load_scenario(path, overrides=overrides)
    base = base.with_run_overrides(paths=paths, seed=seed)
    cfg = base.scenario.run
    lives = [int(x) for x in lives]
    ref = reference if reference is not None else lives[len(lives) // 2]
    if ref not in lives:
        lives.append(ref)
    results = {}
    ebits = {}
    labels: list[str] = []
    from engine.backend_tuning import chunk_paths_for

    for L in lives:
        loaded = with_life(base, L)
        model = compile_model(loaded)
        run = simulate_paths(model, n_paths=cfg.paths, seed=cfg.seed, dtype=cfg.dtype, chunk_paths=chunk_paths_for(cfg, model), fan_paths=cfg.fan_paths, store_full=True)
        stats = summarize(model, run, standards=model.standards)["fleet"]
        e, labels = ebit_by_year(model, run)
        ebits[L] = e
        keep = {k: v for k, v in stats.items() if k.startswith(("p_impairment_", "first_impairment_month_", "expected_impairment_loss_usd_", "expected_loss_given_impairment_usd_", "impairment_loss_quantiles_usd_"))}
        keep["ebit_usd_by_year"] = {std: {y: mean(e[:, j, s]) for j, y in enumerate(labels)} for s, std in enumerate(model.standards)}
        keep["scenario_sha256"] = loaded.sha256
        results[str(L)] = keep
        standards = model.standards
        if progress:
            progress(L)
    for L in lives:
        d = ebits[L] - ebits[ref]
        results[str(L)][f"ebit_difference_vs_{ref}_months_usd_by_year"] = {std: {y: mean(d[:, j, s]) for j, y in enumerate(labels)} for s, std in enumerate(standards)}
    return {
        "scenario_file": str(base.path), "paths": int(cfg.paths), "seed": int(cfg.seed), "lives_months": lives, "reference_life_months": ref,
        "standards": list(standards), "years": labels, "by_life": results,
    }


def write_comparison(out: Path, report: dict, *, force: bool) -> None:
    """life_comparison.json, written atomically."""
    from engine.outdir import atomic_dir
    from engine.jsontext import json_text

    with atomic_dir(out, force=force) as tmp:
        (tmp / "life_comparison.json").write_text(json_text(report))


def print_comparison(report: dict) -> None:
    import sys

    from rich.console import Console
    from rich.table import Table

    from engine.termfmt import musd, pct

    console = Console(width=None if sys.stdout.isatty() else 160)
    ref = report["reference_life_months"]
    for std in report["standards"]:
        label = "ASC 360" if std == "asc360" else "IAS 36"
        t = Table(title=f"Depreciation policy: impairment under {label} ({report['paths']:,} paths, seed {report['seed']}, same paths for every life)")
        for col in ("useful life", "P(impaired) horizon", "first impairment p50", "mean write-down $M", "write-down | impaired $M"):
            t.add_column(col, justify="right")
        for L in report["lives_months"]:
            e = report["by_life"][str(L)]
            t.add_row(f"{L} months", pct(e[f"p_impairment_{std}"]["horizon"]), e[f"first_impairment_month_{std}"].get("p50", "-"),
                      musd(e[f"expected_impairment_loss_usd_{std}"]), musd(e[f"expected_loss_given_impairment_usd_{std}"]))
        console.print(t)
        y = Table(title=f"EBIT by year under {label}, $M (mean ± SE); difference vs {ref} months paired by path")
        y.add_column("useful life", no_wrap=True)
        for yr in report["years"]:
            y.add_column(yr, justify="right")
        for L in report["lives_months"]:
            e = report["by_life"][str(L)]
            y.add_row(f"{L} months", *[musd(e["ebit_usd_by_year"][std][yr]) for yr in report["years"]])
            if L != ref:
                d = e[f"ebit_difference_vs_{ref}_months_usd_by_year"][std]
                y.add_row(f"  minus {ref}", *[musd(d[yr]) for yr in report["years"]])
        console.print(y)
