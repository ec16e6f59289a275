"""The ``stress``, ``reverse-stress`` and ``sensitivity`` commands: argument checks, calls, output."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from engine.cli.argtypes import overrides_of

EXIT_BAD_INPUT = 2


def _error(msg: str) -> int:
    print(f"rackrisk: error: {msg}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _check_common(args) -> str | None:
    for name in ("paths", "sobol_paths"):
        v = getattr(args, name, None)
        if v is not None and v <= 0:
            return f"--{name.replace('_', '-')} must be a positive integer, got {v}"
    if args.seed is not None and not 0 <= args.seed < 2**32:
        return f"--seed must be in [0, 2^32), got {args.seed}"
    from engine.cli.runtime import prepare  # before JAX starts: threads and host devices (the baseline's [run] threads)

    return prepare(args, getattr(args, "against", None) or args.scenario)


def _out(args, stem: str) -> Path:
    return Path(args.out) if args.out else Path("outputs") / f"{stem}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _provenance(extra: dict) -> dict:
    import platform

    import jax

    from engine.version import __version__
    from engine.results import _git_sha

    return {"engine": "rackrisk", "engine_version": __version__, "engine_git_sha": _git_sha(), "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "jax_version": jax.__version__, "python_version": platform.python_version(), **extra}


def _overrides_record(args) -> dict:
    """``--set`` as a provenance entry ({} when none; the scenario sha256s record them too)."""
    from engine.app import _plain_overrides

    ov = overrides_of(args)
    return {"overrides": _plain_overrides(ov)} if ov else {}


def _fmt(x, prob: bool) -> str:
    if x is None or x != x:
        return "-"
    return f"{x:+.4f}" if prob else f"{x:+,.0f}"


def cmd_stress(args) -> int:
    msg = _check_common(args)
    if msg:
        return _error(msg)
    out = _out(args, "stress")
    if out.exists() and not args.force:
        return _error(f"output directory {out} exists; pass --force to replace it")
    from engine.errors import ScenarioError
    from engine.scenario.load import load_scenario

    try:  # every file is checked before anything runs
        for f in [args.against, *args.scenarios]:
            load_scenario(f, allow_unconverged=args.allow_unconverged, overrides=overrides_of(args))
    except ScenarioError as exc:
        return _error(exc.render())
    from engine.stress.compare import run_comparison, to_csv
    from engine.outdir import write_folder
    from engine.jsontext import json_text
    from engine.stress.plots import comparison_png

    convergence = None
    if args.target_se is not None:
        import math

        if not (math.isfinite(args.target_se) and args.target_se > 0):
            return _error(f"--target-se must be a positive number, got {args.target_se}")
        if args.max_paths <= 0:
            return _error(f"--max-paths must be a positive integer, got {args.max_paths}")
        from engine.compile import compile_model
        from engine.stress.metrics import metric_table

        names = metric_table(compile_model(load_scenario(args.against, allow_unconverged=args.allow_unconverged, overrides=overrides_of(args)), allow_unconverged=args.allow_unconverged))
        if args.se_metric not in names:
            return _error(f"--se-metric: unknown metric {args.se_metric!r}; allowed: {', '.join(names)}")
    try:
        n = args.paths
        steps = []
        while True:
            cmp = run_comparison(args.against, args.scenarios, paths=n, seed=args.seed, allow_unconverged=args.allow_unconverged, overrides=overrides_of(args),
                                 progress=lambda m: print(m, file=sys.stderr))
            if args.target_se is None:
                break
            n = cmp.base.run.n_paths
            se = max(r["se_delta_crn"] for r in cmp.rows if r["metric"] == args.se_metric)
            steps.append({"paths": n, "max_se_delta_crn": se})
            reason = "target reached" if se <= args.target_se else "path limit reached" if n >= args.max_paths else None
            if reason:
                convergence = {"metric": args.se_metric, "target_se": args.target_se, "achieved_se": se, "paths": n, "max_paths": args.max_paths,
                               "reason": reason, "steps": steps}
                break
            n = int(min(args.max_paths, max(1.1 * n * (se / args.target_se) ** 2, 1.5 * n)))
    except ScenarioError as exc:
        return _error(exc.render())
    base = cmp.base
    doc = {
        "provenance": _provenance({
            "baseline": {"file": str(args.against), "scenario_sha256": base.loaded.sha256},
            "scenarios": {Path(f).stem: {"file": str(f), "scenario_sha256": r.loaded.sha256} for f, r in zip(args.scenarios, cmp.stresses)},
            "seed": base.summary["run"]["seed"], "paths": base.run.n_paths, "dtype": base.summary["run"]["dtype"],
            "method": "common random numbers: same seed and path indices; SE of the paired difference (docs/stress.md)",
            **_overrides_record(args),
        }),
        "rows": cmp.rows,
        "convergence": convergence,
        "common_random_numbers": cmp.crn,
        "summaries": {"baseline": base.summary, **{Path(f).stem: r.summary for f, r in zip(args.scenarios, cmp.stresses)}},
    }
    files = {"comparison.csv": to_csv(cmp.rows), "comparison.json": json_text(doc)}
    for metric in sorted({r["metric"] for r in cmp.rows if r.get("se_delta_crn") == r.get("se_delta_crn")}):
        if metric.startswith(("p_impairment", "expected_impairment_loss", "expected_npv")) and "_by_" not in metric:
            files[f"comparison_{metric}.png"] = (lambda m: lambda p: comparison_png(cmp.rows, m, p, title=f"Stress vs {Path(args.against).stem}: {m}"))(metric)
    try:
        write_folder(out, files, force=args.force)
    except FileExistsError as exc:
        return _error(str(exc))
    _print_comparison(cmp.rows)
    if convergence:
        print(f"--target-se {args.target_se:g} on Delta {args.se_metric}: {convergence['reason']} (largest CRN SE {convergence['achieved_se']:.3g} at {convergence['paths']} paths)")
    print(f"comparison written to {out}/ (comparison.csv, comparison.json, comparison_*.png); {base.run.n_paths} paths per scenario, seed {base.summary['run']['seed']}")
    return 0


def _print_comparison(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    # the headline metrics (those with a per-path paired SE); every other summary figure is in comparison.csv/json
    shown = [r for r in rows if r.get("se_delta_crn") is not None and r["se_delta_crn"] == r["se_delta_crn"]]
    t = Table(title="Stress minus baseline (common random numbers); every summary figure: comparison.csv")
    for col in ("scenario", "metric", "baseline", "stress", "Delta", "SE (CRN)", "SE (indep.)"):
        t.add_column(col, justify="left" if col in ("scenario", "metric") else "right")
    for r in shown:
        prob = r["metric"].startswith("p_") or "p_" in r["metric"].split(".")[-1][:2]
        f = (lambda x: "-" if x is None or x != x else f"{x:.4f}") if prob else (lambda x: "-" if x is None or x != x else f"{x:,.0f}")
        t.add_row(r["scenario"], r["metric"], f(r["base"]), f(r["stress"]), _fmt(r["delta"], prob), f(r["se_delta_crn"]), f(r["se_delta_independent"]))
    Console(width=None if sys.stdout.isatty() else 160).print(t)



def _load_model(args):
    from engine.compile import compile_model
    from engine.scenario.load import load_scenario

    loaded = load_scenario(args.scenario, allow_unconverged=args.allow_unconverged, overrides=overrides_of(args)).with_run_overrides(paths=args.paths, seed=args.seed)
    return loaded, compile_model(loaded, allow_unconverged=args.allow_unconverged)


def cmd_reverse_stress(args) -> int:
    msg = _check_common(args)
    if msg:
        return _error(msg)
    import math

    if not math.isfinite(args.threshold):
        return _error(f"--threshold must be a finite number, got {args.threshold}")
    out = _out(args, "reverse-stress")
    if out.exists() and not args.force:
        return _error(f"output directory {out} exists; pass --force to replace it")
    from engine.errors import ScenarioError
    from engine.inputs.registry import bounds_for
    from engine.stress.metrics import resolve

    try:
        loaded, model = _load_model(args)
    except ScenarioError as exc:
        return _error(exc.render())
    names = [sp.name for sp in model.inputs]
    if args.vary not in names:
        return _error(f"--vary: {args.vary!r} is not an input of {args.scenario}; inputs: {', '.join(names)}")
    try:
        label, fn = resolve(model, args.metric)
    except KeyError as exc:
        return _error(f"--metric: {exc.args[0]}")
    b_lo, b_hi = bounds_for(args.vary)
    if args.range:
        lo, hi = args.range
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            return _error(f"--range must be two finite numbers LO < HI, got {lo:g} {hi:g}")
        if lo < b_lo or hi > b_hi:
            return _error(f"--range {lo:g} {hi:g} is outside the allowed range of {args.vary}: [{b_lo:g}, {b_hi:g}]")
    else:
        if not (math.isfinite(b_lo) and math.isfinite(b_hi)):
            return _error(f"--range is needed: {args.vary} has no finite allowed range ([{b_lo:g}, {b_hi:g}])")
        lo, hi = b_lo, (b_hi - 0.01 * (b_hi - b_lo) if b_hi == 1.0 else b_hi)
    from engine.sensitivity.override import Evaluator
    from engine.stress.reverse import reverse_stress

    cfg = loaded.scenario.run
    import numpy as np

    ev = Evaluator(model, dtype=cfg.dtype)
    j = ev.index(args.vary)
    paths = np.arange(cfg.paths)
    res = reverse_stress(lambda x: ev.metric_at(fn, seed=cfg.seed, paths=paths, j=j, value=x), input_name=args.vary, metric=args.metric,
                         threshold=args.threshold, lo=lo, hi=hi, n_paths=cfg.paths, seed=cfg.seed)
    from dataclasses import asdict

    from engine.outdir import write_folder
    from engine.jsontext import json_text

    doc = {"provenance": _provenance({"scenario_file": str(args.scenario), "scenario_sha256": loaded.sha256, "seed": cfg.seed, "paths": cfg.paths,
                                      "dtype": cfg.dtype, "method": "bisection on the common-random-number estimate; CI by test inversion (docs/stress.md)",
                                      **_overrides_record(args)}),
           "metric_label": label, **asdict(res)}
    csv_text = "x,value,se\n" + "".join(f"{r['x']!r},{r['value']!r},{r['se']!r}\n" for r in res.grid)

    def plot(p):
        from engine.stress.plots import _plt

        plt = _plt()
        fig, ax = plt.subplots(figsize=(7, 4))
        xs = [r["x"] for r in res.grid]
        v = np.array([r["value"] for r in res.grid])
        se = np.array([r["se"] for r in res.grid])
        ax.plot(xs, v, "o-", ms=3, label=label)
        ax.fill_between(xs, v - 1.96 * se, v + 1.96 * se, alpha=0.3, label="95 % CI")
        ax.axhline(args.threshold, color="k", lw=0.8, ls="--", label="threshold")
        if res.x_star is not None:
            ax.axvline(res.x_star, color="#ee6677", lw=1, label=f"x* = {res.x_star:.4g}")
        ax.set_xlabel(args.vary)
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(p, dpi=120)
        plt.close(fig)

    try:
        write_folder(out, {"reverse_stress.json": json_text(doc), "reverse_stress_grid.csv": csv_text, "reverse_stress.png": plot}, force=args.force)
    except FileExistsError as exc:
        return _error(str(exc))
    if res.x_star is None:
        print(f"{label} does not reach {args.threshold:g} for {args.vary} in [{lo:g}, {hi:g}] (at {hi:g}: {res.grid[-1]['value']:.4g})")
    else:
        ci = [f"{c:.4g}" if c is not None else "?" for c in res.ci]
        cens = " (the CI reaches the search range's end)" if any(res.ci_censored) else ""
        what = "already at the low end of the range: " if res.status == "already_across" else ""
        print(f"{what}{args.vary} = {res.x_star:.4g} (95 % CI {ci[0]} .. {ci[1]}{cens}) brings {label} to {args.threshold:g} "
              f"(estimate there {res.metric_at_x_star['value']:.4g} +- {res.metric_at_x_star['se']:.2g}); {cfg.paths} paths, seed {cfg.seed}")
    print(f"written to {out}/ (reverse_stress.json, reverse_stress_grid.csv, reverse_stress.png)")
    return 0


def cmd_sensitivity(args) -> int:
    msg = _check_common(args)
    if msg:
        return _error(msg)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in ("tornado", "gradients", "sobol")]
    if bad or not methods:
        return _error(f"--methods: unknown method(s) {', '.join(bad) or '(none given)'}; allowed: tornado, gradients, sobol")
    out = _out(args, "sensitivity")
    if out.exists() and not args.force:
        return _error(f"output directory {out} exists; pass --force to replace it")
    from engine.errors import ScenarioError
    from engine.stress.metrics import resolve

    try:
        loaded, model = _load_model(args)
    except ScenarioError as exc:
        return _error(exc.render())
    try:
        label, _ = resolve(model, args.metric)
    except KeyError as exc:
        return _error(f"--metric: {exc.args[0]}")
    import numpy as np

    from engine.jsontext import json_text
    from engine.outdir import write_folder
    from engine.sensitivity.run import run_sensitivity
    from engine.stress import plots

    cfg = loaded.scenario.run
    n = args.paths or 20_000
    doc: dict = {"provenance": _provenance({"scenario_file": str(args.scenario), "scenario_sha256": loaded.sha256, "seed": cfg.seed, "dtype": cfg.dtype,
                                             "metric": args.metric, **_overrides_record(args)})}
    doc.update(run_sensitivity(loaded, model, methods=tuple(methods), metric=args.metric, paths=n, sobol_paths=args.sobol_paths or 2048,
                               progress=lambda m: print(m, file=sys.stderr)))
    files: dict = {}
    if "tornado" in doc:
        tor = doc["tornado"]
        rows = [{"input": r["input"], **r["metrics"][args.metric]} for r in tor["rows"]]
        files["tornado.png"] = lambda p: plots.tornado_png(rows, p, title=f"Tornado: {label} (inputs at p10 / p90, CRN, {n} paths)", xlabel=label,
                                                           base=tor["base"][args.metric], metric=args.metric)
        files["tornado.csv"] = "input,x_p10,x_p90,at_p10,at_p90,se_delta_p10,se_delta_p90,swing\n" + "".join(
            f"{r['input']},{t['x_p10']!r},{t['x_p90']!r},{r['at_p10']!r},{r['at_p90']!r},{r['se_delta_p10']!r},{r['se_delta_p90']!r},{r['swing']!r}\n"
            for r, t in zip(rows, tor["rows"]))
    if "gradients" in doc:
        from engine.sensitivity.gradients import SMOOTH_METRICS

        gr = doc["gradients"]
        gm = args.metric if args.metric in SMOOTH_METRICS else "expected_impairment_loss_usd_ias36"
        top = [r for r in gr["metrics"][gm]["rows"] if r["elasticity"] == r["elasticity"]][:25]
        files["gradients.png"] = lambda p: plots.ranked_bars_png([r["input"] for r in top], [r["elasticity"] for r in top], [r["elasticity_se"] for r in top], p,
                                                                 title=f"Elasticities of {gm} (pathwise autodiff, {n} paths)", xlabel="% change of the metric per % change of the input")
        by_sd = sorted(gr["metrics"][gm]["rows"], key=lambda r: -abs(r["dM_per_sd"]))[:25]
        files["gradients_per_sd.png"] = lambda p: plots.ranked_bars_png([r["input"] for r in by_sd], [r["dM_per_sd"] for r in by_sd], [r["dM_per_sd_se"] for r in by_sd], p,
                                                                        title=f"d {gm} per one-sd shift of each input (autodiff, {n} paths)", xlabel=f"change of {gm} per +1 sd", metric=gm)
    if "sobol" in doc:
        sb = doc["sobol"]
        N = sb.get("N", args.sobol_paths or 2048)
        res = sb["metrics"][args.metric]
        order = np.argsort(res["ST"])[::-1]
        names = [sb["groups"][i]["name"] for i in order]
        files["sobol.png"] = lambda p: plots.sobol_png(names, [res["S1"][i] for i in order], [tuple(res["S1_ci"][i]) for i in order], [res["ST"][i] for i in order],
                                                       [tuple(res["ST_ci"][i]) for i in order], p, title=f"Sobol indices of {args.metric} (N = {N})")
    files["sensitivity.json"] = json_text(doc)
    try:
        write_folder(out, files, force=args.force)
    except FileExistsError as exc:
        return _error(str(exc))
    _print_rankings(doc, args.metric)
    print(f"written to {out}/ ({', '.join(sorted(files))})")
    return 0


def _print_rankings(doc: dict, metric: str) -> None:
    from engine.sensitivity.text import print_rankings  # the report's number formats; Sobol sample warnings

    print_rankings(doc, metric)