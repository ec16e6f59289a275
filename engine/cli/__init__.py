"""The ``rackrisk`` command. argparse only: parsing, calling ``engine`` functions, exit codes.

Heavy modules (jax, xarray, pydantic models) are imported inside the subcommands, so
``rackrisk --help`` stays fast. Bad input -> one line on stderr naming file, field and rule,
exit status 2, nothing written.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from engine.cli.argtypes import add_set_flag, add_threads_flag, overrides_of, path_count

EXIT_BAD_INPUT = 2
BACKTEST_MAX_HORIZON_MONTHS = 240  # as a scenario's run.horizon_months (engine/scenario/schema.py)
# fit/backtest seeds: the samplers derive further seeds by adding small offsets (origin index, +1, +2,
# +17), so the range stops well below 2^32
SAMPLER_SEED_MAX = 2**31


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rackrisk", description="Monte Carlo risk and valuation engine for GPU fleets.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="simulate a scenario file and write results.nc and summary.json")
    r.add_argument("scenario", help="scenario TOML file, e.g. scenarios/baseline.toml")
    r.add_argument("--paths", type=path_count, help="number of Monte Carlo paths (default: the file's run.paths)")
    r.add_argument("--seed", type=int, help="root seed (default: the file's run.seed)")
    r.add_argument("--out", help="output directory (default: outputs/<scenario>-<timestamp>)")
    r.add_argument("--force", action="store_true", help="replace an existing output directory")
    r.add_argument("--chunk-paths", type=path_count, help="paths per compiled chunk (memory; results do not depend on it)")
    r.add_argument("--store", choices=["summary", "paths", "full"], help="what results.nc holds (default: the file's run.store)")
    r.add_argument("--allow-unconverged", action="store_true", help="accept posterior files that failed their convergence gate")
    r.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    r.add_argument("--target-se", type=float, help="add paths until the standard error of --se-metric is at most this (or --max-paths is reached)")
    r.add_argument("--se-metric", default="p_impairment_asc360", help="metric for --target-se (default p_impairment_asc360; e.g. expected_impairment_loss_usd_ias36)")
    r.add_argument("--max-paths", type=path_count, default=1_000_000, help="path limit for --target-se (default 1,000,000)")
    r.add_argument("--report", action="store_true", help="also write the analyst's report into the output folder (report.html, report/; as `rackrisk report`)")
    add_set_flag(r)
    r.add_argument("--xlsx", action="store_true", help="also write OUT/export/tables.xlsx (as `rackrisk export OUT --xlsx`)")
    r.add_argument("--policy-range-paths", type=path_count, default=2000, help="value the first N paths under each alternative accounting policy too (summary.json policy_range; docs/methodology.md §0); 0 = off (default 2,000)")
    add_threads_flag(r)

    v = sub.add_parser("validate", help="check scenario files (and capex plans) without running them")
    v.add_argument("files", nargs="+", help="scenario TOML files")
    add_set_flag(v, "each scenario (for a capex plan: the scenario it implies)")

    f = sub.add_parser("fit", help="fit the PyMC priors and write priors/fitted/<model>.nc (imports pymc)")
    f.add_argument("models", nargs="*", help="models to fit (default: all): price_dynamics, failures, utilization, elasticity, residual_value")
    f.add_argument("--as-of", help="use only observations dated up to this month (YYYY-MM); undated ones are dropped")
    f.add_argument("--seed", type=int, default=20261126, help="sampler seed (default 20261126)")
    f.add_argument("--allow-unconverged", action="store_true", help="save a posterior that fails the gate (marked as failed in the file)")
    f.add_argument("--out-dir", help="where to write <model>.nc (default: priors/fitted/)")
    f.add_argument("--check", action="store_true", help="refit with each shipped file's seed into a temporary folder and check it reproduces the shipped posterior (same data hash, means within 4.5 combined MCSE, gate passed); writes nothing")

    b = sub.add_parser("backtest", help="fit rental-price dynamics as of past dates and score the forecasts against later data")
    b.add_argument("--as-of", action="append", required=True, help="forecast origin YYYY-MM (repeat for rolling origins)")
    b.add_argument("--horizon", type=int, default=12, help="months ahead (default 12)")
    b.add_argument("--out", help="output directory (default: outputs/backtest-<timestamp>)")
    b.add_argument("--seed", type=int, default=20261126, help="sampler seed")
    b.add_argument("--force", action="store_true", help="replace an existing output directory")
    b.add_argument("--median-noise", choices=["independent", "persistent"], default=None,
                   help="target-month median noise: independent of the cutoff median's, or persistent (drawn jointly with it, "
                        "persistence from the provider panel as of the cutoff; the model without the panel only, so refused with the shipped "
                        "panel model); default: priors.backtest.MEDIAN_NOISE; docs/priors.md")

    ib = sub.add_parser("impairment-backtest", help="P(material impairment in the next 12 months) of each preset's fleet as of past dates, scored against the filings; docs/impairment_backtest.md")
    ib.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="preset files named <company>_like.toml (default: the CoreWeave, Nebius and Lambda presets)")
    ib.add_argument("--as-of", action="append", required=True, help="valuation date YYYY-MM (repeat), e.g. --as-of 2023-12 --as-of 2024-12")
    ib.add_argument("--out", required=True, help="output directory (company_years.csv, scores.json, provenance.json, ...)")
    ib.add_argument("--paths", type=path_count, default=4000, help="Monte Carlo paths per company-year (default 4000)")
    ib.add_argument("--seed", type=int, default=20261126, help="root seed of every run (default 20261126)")
    ib.add_argument("--force", action="store_true", help="replace an existing output directory")
    ib.add_argument("--fit-missing", action="store_true", help="fit an as-of price_dynamics posterior that is not shipped (imports pymc; an MCMC fit)")
    add_threads_flag(ib)

    from engine.cli.stress_args import add_parsers  # argparse only

    add_parsers(sub)

    cc = sub.add_parser("capex-check", help="breakeven rental price and utilization of a capex plan (impairment, DSCR, NPV); docs/credit.md")
    cc.add_argument("plan", help="plan TOML file, e.g. scenarios/plans/neocloud_2026.toml")
    cc.add_argument("--paths", type=path_count, help="Monte Carlo paths (default: the plan's paths)")
    cc.add_argument("--seed", type=int, help="root seed (default: the plan's seed)")
    cc.add_argument("--out", help="output directory (default: outputs/<plan>-capex-<timestamp>)")
    cc.add_argument("--force", action="store_true", help="replace an existing output directory")
    cc.add_argument("--quiet", action="store_true", help="no table")
    add_set_flag(cc, "the scenario the plan implies (its base scenario with the plan's fleet and financing)")
    add_threads_flag(cc)

    lc = sub.add_parser("compare-lives", help="the same fleet under several useful lives: impairment and earnings by year, paired by path")
    lc.add_argument("scenario", help="scenario TOML file")
    lc.add_argument("--lives", type=int, nargs="+", default=[48, 60, 72], help="useful lives in months (default 48 60 72)")
    lc.add_argument("--reference", type=int, help="life the differences are taken against (default: the middle one)")
    lc.add_argument("--paths", type=path_count, help="paths (default: the file's; every month of every path is kept, so use thousands)")
    lc.add_argument("--seed", type=int, help="root seed (default: the file's)")
    lc.add_argument("--out", help="output directory (default: outputs/<scenario>-lives-<timestamp>)")
    lc.add_argument("--force", action="store_true", help="replace an existing output directory")
    lc.add_argument("--quiet", action="store_true", help="no table")
    add_set_flag(lc)
    add_threads_flag(lc)

    w = sub.add_parser("sweep", help="run a grid of scenario overrides x seeds on Dask and combine the results")
    w.add_argument("grid", help="grid TOML file (base scenario, seeds, [[axis]] tables; see docs/performance.md)")
    w.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (default: a local cluster)")
    w.add_argument("--workers", type=int, help="local cluster worker processes (default: the CPU count)")
    w.add_argument("--out", help="output directory (default: outputs/<grid>-<timestamp>)")
    w.add_argument("--format", choices=["auto", "zarr", "netcdf"], default="auto", help="sweep file format (auto: netCDF up to 64 MiB, else zarr)")
    w.add_argument("--chunk-paths", type=path_count, help="paths per compiled chunk (results do not depend on it)")
    w.add_argument("--force", action="store_true", help="replace an existing output directory")
    w.add_argument("--threads", metavar="N", help="CPU threads of each local worker process (default: the grid's base scenario's [run] threads, "
                   "else the cores free now divided among the workers; docs/performance.md). Results do not depend on it")

    rp = sub.add_parser("report", help="write DIR/report.html: one self-contained page (headline figures with SEs, charts, assumptions, provenance) for a run folder; docs/report.md")
    rp.add_argument("dir", help="run folder written by `rackrisk run` (results.nc, summary.json, scenario.resolved.toml)")
    rp.add_argument("--stress", help="a `rackrisk stress` output folder to include (default: DIR/stress when it exists)")
    rp.add_argument("--sensitivity", help="a `rackrisk sensitivity` output folder to include (default: DIR/sensitivity when it exists)")

    ex = sub.add_parser("export", help="write a run folder's tables as a workbook (tables.xlsx) and/or CSV files, units in the column names; docs/outputs.md")
    ex.add_argument("dir", help="run folder written by `rackrisk run` (results.nc, summary.json, scenario.resolved.toml)")
    ex.add_argument("--xlsx", action="store_true", help="write tables.xlsx: one sheet a table")
    ex.add_argument("--csv", action="store_true", help="write one CSV file a table")
    ex.add_argument("--out", help="output folder (default: DIR/export)")
    ex.add_argument("--force", action="store_true", help="replace an existing output folder")
    ex.add_argument("--stress", help="a `rackrisk stress` output folder to include (default: DIR/stress when it exists)")
    ex.add_argument("--sensitivity", help="a `rackrisk sensitivity` output folder to include (default: DIR/sensitivity when it exists)")

    rc = sub.add_parser("reconcile", help="a scenario's past periods (revenue, PP&E, debt, capex, power) modelled deterministically against the company's filings; docs/reconcile.md")
    rc.add_argument("scenario", help="scenario TOML file, e.g. scenarios/coreweave_like.toml")
    rc.add_argument("--entity", help="company in priors/observations/neocloud_financials.csv (default: the file's [reconcile] entity)")
    add_set_flag(rc)

    imf = sub.add_parser("import-fleet", help="write a scenario from a fleet table (CSV or xlsx, one row a cohort; docs/scenarios.md)")
    imf.add_argument("table", help="FLEET.csv or FLEET.xlsx; columns = [[fleet.cohort]] field names, e.g. scenarios/examples/fleet_example.csv")
    imf.add_argument("--out", help="scenario file to write (default: print it)")
    imf.add_argument("--extends", help="base scenario for market, launches, demand, costs and accounting (default: the shipped scenarios/baseline.toml)")
    imf.add_argument("--facilities", help="facilities table (CSV; default for an xlsx: its sheet named 'facilities' when there is one)")
    imf.add_argument("--title", help="the scenario's title line")
    imf.add_argument("--force", action="store_true", help="replace an existing --out file")

    nw = sub.add_parser("new", help="write a commented starting scenario that validates (docs/scenarios.md)")
    nw.add_argument("--template", required=True, choices=["neocloud", "lender", "buyer"], help="neocloud: an operator's fleet; lender: a fleet with a GPU-backed loan; buyer: one purchase, own or rent")
    nw.add_argument("--out", help="file to write (default: print it)")
    nw.add_argument("--force", action="store_true", help="replace an existing --out file")

    d = sub.add_parser("schema-docs", help="write the scenario reference (docs/scenarios.md) generated from the schema")
    d.add_argument("--out", default="docs/scenarios.md", help="file to write (default: docs/scenarios.md)")
    d.add_argument("--check", action="store_true", help="exit 1 if the file differs from the schema")
    return p


def _error(msg: str) -> int:
    print(f"rackrisk: error: {msg}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _positive(name: str, value: int | None) -> str | None:
    if value is not None and value <= 0:
        return f"--{name} must be a positive integer, got {value}"
    return None


def cmd_validate(args) -> int:
    from engine.errors import ScenarioError
    from engine.scenario.load import load_scenario
    from engine.scenario.plausibility import print_warnings

    status = 0
    for f in args.files:
        if _is_capex_plan(f):  # a capex-check plan (docs/credit.md section 8) validates as one
            from engine.capex.plan import load_plan

            try:
                lp = load_plan(f, overrides=overrides_of(args))
            except ScenarioError as exc:
                print(f"rackrisk: error: {exc.render()}", file=sys.stderr)
                status = EXIT_BAD_INPUT
                continue
            n_warn = print_warnings(lp.scenario)
            print(f"{f}: ok (capex plan: {len(lp.tranche_names)} tranches on {lp.plan.base_scenario}, sha256 {lp.sha256[:12]}{_warned(n_warn)})")
            continue
        try:
            ls = load_scenario(f, overrides=overrides_of(args))
        except ScenarioError as exc:
            print(f"rackrisk: error: {exc.render()}", file=sys.stderr)
            status = EXIT_BAD_INPUT
            continue
        s = ls.scenario
        n = len(s.fleet.cohort)
        n_warn = print_warnings(ls)
        print(f"{f}: ok ({n} cohort{'' if n == 1 else 's'}, {s.run.horizon_months} months, sha256 {ls.sha256[:12]}{_warned(n_warn)})")
    return status


def _warned(n: int) -> str:
    return f"; {n} plausibility warning{'' if n == 1 else 's'} on stderr" if n else ""


def _is_capex_plan(path: str) -> bool:
    """A TOML file with a top-level ``base_scenario`` key is a capex plan, not a scenario."""
    import tomllib

    try:
        return "base_scenario" in tomllib.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # load_scenario reports it


def cmd_run(args) -> int:
    from engine.errors import ScenarioError

    for name in ("paths", "chunk_paths"):
        msg = _positive(name.replace("_", "-"), getattr(args, name))
        if msg:
            return _error(msg)
    if args.policy_range_paths < 0:
        return _error(f"--policy-range-paths must be 0 (off) or a positive number of paths, got {args.policy_range_paths}")
    if args.seed is not None and not 0 <= args.seed < 2**32:
        return _error(f"--seed must be in [0, 2^32), got {args.seed}")
    out = Path(args.out) if args.out else Path("outputs") / f"{Path(args.scenario).stem}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    msg = _prepare(args, args.scenario)  # before JAX starts: malloc arenas, threads, host devices
    if msg:
        return _error(msg)
    if args.target_se is not None:
        return _run_target_se(args, out)
    from engine.app import run_scenario

    progress, finish = _progress(args.quiet)
    try:
        result = run_scenario(
            args.scenario, paths=args.paths, seed=args.seed, out=out, force=args.force, chunk_paths=args.chunk_paths,
            store=args.store, allow_unconverged=args.allow_unconverged, progress=progress, policy_range_paths=args.policy_range_paths,
            overrides=overrides_of(args), warnings_to=sys.stderr,
        )
    except ScenarioError as exc:
        finish()
        return _error(exc.render())
    except FileExistsError as exc:
        finish()
        return _error(str(exc))
    finish()
    if not args.quiet:
        from engine.table import print_summary

        print_summary(result.summary)
    print(f"results written to {out}/ (results.nc, summary.json, scenario.resolved.toml); {result.run.n_paths} paths in {result.run.seconds:.1f} s")
    return _after_run(args, out)


def _after_run(args, out: Path) -> int:
    """``run --report`` and ``run --xlsx``, after the run folder is written."""
    status = _write_report(out) if getattr(args, "report", False) else 0
    if status == 0 and getattr(args, "xlsx", False):
        status = _write_export(out, xlsx=True, force=True)  # the run folder was just (re)written: its export too
    return status


def _write_report(out: Path, stress: str | None = None, sensitivity: str | None = None) -> int:
    """``rackrisk report`` and ``run --report``: engine/report/build.py (docs/report.md)."""
    from engine.errors import ScenarioError
    from engine.report.build import build_report

    try:
        path = build_report(out, stress=stress, sensitivity=sensitivity)
    except ScenarioError as exc:
        return _error(exc.render())
    print(f"report written to {path} (figures and headline.csv in {path.parent / 'report'}/)")
    return 0


def cmd_report(args) -> int:
    return _write_report(Path(args.dir), stress=args.stress, sensitivity=args.sensitivity)


def _write_export(run_dir: Path, *, out=None, xlsx: bool = True, csv: bool = False, force: bool = False, stress=None, sensitivity=None) -> int:
    """``rackrisk export`` and ``run --xlsx``: engine/export/write.py (docs/outputs.md)."""
    from engine.errors import ScenarioError
    from engine.export.write import export_run

    try:
        path = export_run(run_dir, out=out, xlsx=xlsx, csv=csv, force=force, stress=stress, sensitivity=sensitivity)
    except ScenarioError as exc:
        return _error(exc.render())
    except FileExistsError as exc:
        return _error(str(exc))
    print(f"tables written to {path}/ ({', '.join(n for n, on in (('tables.xlsx', xlsx), ('one CSV a table', csv)) if on)})")
    return 0


def cmd_export(args) -> int:
    if not (args.xlsx or args.csv):
        return _error("export: choose a format: --xlsx, --csv or both")
    return _write_export(Path(args.dir), out=args.out, xlsx=args.xlsx, csv=args.csv, force=args.force, stress=args.stress, sensitivity=args.sensitivity)


def _prepare(args, scenario=None) -> str | None:
    """Malloc arenas, threads and host devices before JAX starts (engine/cli/runtime.py); an error message or None."""
    from engine.cli.runtime import prepare

    return prepare(args, scenario)


def _run_target_se(args, out: Path) -> int:
    """``run --target-se``: engine/convergence.py."""
    import math

    from engine.errors import ScenarioError

    if not (math.isfinite(args.target_se) and args.target_se > 0):
        return _error(f"--target-se must be a positive number, got {args.target_se}")
    msg = _positive("max-paths", args.max_paths)
    if msg:
        return _error(msg)
    if out.exists() and not args.force:
        return _error(f"output directory {out} exists; pass --force to replace it")
    from engine.convergence import run_to_target_se

    try:
        result, conv = run_to_target_se(
            args.scenario, metric=args.se_metric, target_se=args.target_se, max_paths=args.max_paths, start_paths=args.paths, seed=args.seed,
            out=out, force=args.force, chunk_paths=args.chunk_paths, store=args.store, allow_unconverged=args.allow_unconverged,
            overrides=overrides_of(args), warnings_to=sys.stderr,
        )
    except ScenarioError as exc:
        return _error(exc.render())
    except FileExistsError as exc:
        return _error(str(exc))
    if not args.quiet:
        from engine.table import print_summary

        print_summary(result.summary)
    steps = ", ".join(f"{s['paths']} paths: SE {s['se']:.3g}" for s in conv["steps"])
    print(f"--target-se {args.target_se:g} on {conv['label']}: {conv['reason']} (SE {conv['achieved_se']:.3g} at {conv['paths']} paths; steps {steps})")
    print(f"results written to {out}/ (results.nc, summary.json with \"convergence\", scenario.resolved.toml)")
    return _after_run(args, out)


def _progress(quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True)
    bar.start()
    task = bar.add_task("paths", total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return update, bar.stop


def cmd_schema_docs(args) -> int:
    from engine.scenario.docs import render

    text = render()
    path = Path(args.out)
    if args.check:
        if not path.exists() or path.read_text() != text:
            print(f"{path} is out of date: run `rackrisk schema-docs`", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    path.write_text(text)
    print(f"wrote {path}")
    return 0


def _check_month(text: str | None) -> str | None:
    import re

    if text is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        return f"--as-of must be a month YYYY-MM, got {text!r}"
    return None


def _parallel_chains() -> None:
    """numpyro runs its 4 chains in parallel only on as many XLA host devices: ask for them before
    jax is imported (fit and backtest only; `rackrisk run` keeps the default single device)."""
    from priors.inference import request_parallel_chains

    request_parallel_chains()


def _check_sampler_seed(seed: int) -> str | None:
    if not 0 <= seed < SAMPLER_SEED_MAX:
        return f"--seed must be in [0, 2^31), got {seed}"
    return None


def _need_extra(extra: str, command: str) -> int | None:
    """Exit status 2 with one line naming the extra to install when ``extra`` (engine/extras.py) is missing."""
    from engine.extras import missing_extra

    msg = missing_extra(extra, command)
    return _error(msg) if msg else None


def cmd_fit(args) -> int:
    missing = _need_extra("fit", "rackrisk fit")
    if missing is not None:
        return missing
    _parallel_chains()
    from priors.models import MODELS

    names = args.models or list(MODELS)
    bad = [n for n in names if n not in MODELS]
    if bad:
        return _error(f"unknown model(s) {', '.join(bad)}; models: {', '.join(MODELS)}")
    msg = _check_month(args.as_of) or _check_sampler_seed(args.seed)
    if msg:
        return _error(msg)
    import logging
    import warnings

    from rich.console import Console
    from rich.table import Table

    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    logging.getLogger("pytensor").setLevel(logging.ERROR)
    logging.getLogger("pymc").setLevel(logging.ERROR)
    from priors.fit import FITTED, GateError, fit

    if args.as_of:  # every named model must have data to fit as of the cutoff: checked before any fit
        import importlib

        for name in names:
            try:
                importlib.import_module(MODELS[name]).load_observations(args.as_of)
            except ValueError as exc:
                return _error(str(exc))
    console = Console(width=None if sys.stdout.isatty() else 140)
    if getattr(args, "check", False):
        from priors.reproduce_cli import check_models

        return check_models(names, Path(args.out_dir) if args.out_dir else FITTED, console)
    status = 0
    for name in names:
        try:
            res = fit(name, as_of=args.as_of, seed=args.seed, allow_unconverged=args.allow_unconverged, out_dir=Path(args.out_dir) if args.out_dir else FITTED)
        except GateError as exc:
            print(f"rackrisk: {exc}", file=sys.stderr)
            status = 1
            continue
        t = Table(title=f"{name}: {res.seconds:.1f} s, {res.diagnostics.divergences} divergences, gate {'passed' if res.diagnostics.passed else 'FAILED'}")
        for col in ("parameter", "mean", "sd", "R-hat", "ESS bulk", "ESS tail"):
            t.add_column(col, justify="left" if col == "parameter" else "right")
        for r in res.diagnostics.rows:
            t.add_row(r["name"], f"{r['mean']:.4g}", f"{r['sd']:.3g}", f"{r['r_hat']:.3f}", f"{r['ess_bulk']:.0f}", f"{r['ess_tail']:.0f}")
        console.print(t)
        for line in res.diagnostics.failures:
            console.print(f"[red]gate: {line}[/red]")
        for note in res.notes:
            console.print(f"note: {note}")
        console.print(f"wrote {res.path}")
    return status


def cmd_backtest(args) -> int:
    missing = _need_extra("fit", "rackrisk backtest")
    if missing is not None:
        return missing
    for origin in args.as_of:
        msg = _check_month(origin)
        if msg:
            return _error(msg)
    msg = _check_sampler_seed(args.seed)
    if msg:
        return _error(msg)
    if not 0 < args.horizon <= BACKTEST_MAX_HORIZON_MONTHS:
        return _error(f"--horizon must be a number of months from 1 to {BACKTEST_MAX_HORIZON_MONTHS} (the scenarios' "
                      f"longest horizon), got {args.horizon}")
    out = Path(args.out) if args.out else Path("outputs") / f"backtest-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    if out.exists() and not args.force:
        return _error(f"output directory {out} exists; pass --force to replace it")
    _parallel_chains()
    from priors.backtest import check_median_noise, rolling
    from priors.models import price_dynamics as pdm

    try:
        check_median_noise(args.median_noise)
        for origin in args.as_of:  # every origin must leave data to fit (reads the tables only)
            pdm.load_observations(origin)
    except ValueError as exc:
        return _error(str(exc))

    result = rolling(sorted(args.as_of), args.horizon, out, args.seed, median_noise=args.median_noise)
    print(json.dumps(result.get("summary", result), indent=2, default=str))
    print(f"backtest written to {out}/")
    return 0


def cmd_impairment_backtest(args) -> int:
    """engine/impairment_backtest/command.py; every input checked before anything runs (exit 2, one line)."""
    for origin in args.as_of:
        msg = _check_month(origin)
        if msg:
            return _error(msg + " (e.g. --as-of 2023-12)")
    msg = _positive("paths", args.paths)
    if msg:
        return _error(msg)
    if not 0 <= args.seed < 2**32:
        return _error(f"--seed must be in [0, 2^32), got {args.seed}")
    if args.fit_missing and (missing := _need_extra("fit", "rackrisk impairment-backtest --fit-missing")) is not None:
        return missing
    msg = _prepare(args)  # as `rackrisk run`: before JAX starts
    if msg:
        return _error(msg)
    from engine.errors import ScenarioError
    from engine.impairment_backtest.asof import AsOfInputError
    from engine.impairment_backtest.command import DEFAULT_SCENARIOS, print_report, run

    try:
        rows, scores = run(
            scenarios=args.scenarios or list(DEFAULT_SCENARIOS), as_ofs=list(dict.fromkeys(args.as_of)), out=Path(args.out),
            paths=args.paths, seed=args.seed, force=args.force, fit_missing=args.fit_missing, argv=sys.argv[1:] if args.argv is None else args.argv,
        )
    except AsOfInputError as exc:
        return _error(f"{exc.argument}: {exc}")
    except ScenarioError as exc:
        return _error(exc.render())
    except FileExistsError as exc:
        return _error(str(exc))
    print_report(rows, scores)
    print(f"impairment backtest written to {args.out}/ (company_years.csv, scores.json, observed_rows.csv, provenance.json)")
    return 0


def cmd_sweep(args) -> int:
    import os

    from engine.errors import ScenarioError

    for name in ("workers", "chunk_paths"):
        msg = _positive(name.replace("_", "-"), getattr(args, name))
        if msg:
            return _error(msg)
    missing = _need_extra("cluster", "rackrisk sweep")
    if missing is not None:
        return missing
    from engine.sweep.grid import load_grid

    out = Path(args.out) if args.out else Path("outputs") / f"{Path(args.grid).stem}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    try:
        grid = load_grid(args.grid)
        if out.exists() and not args.force:
            return _error(f"output directory {out} exists; pass --force to replace it")
        from engine.cli.runtime import prepare_workers

        msg = prepare_workers(args, grid.base, None if args.scheduler else (args.workers or os.cpu_count() or 1))
        if msg:
            return _error(msg)
        from engine.sweep.combine import write_sweep
        from engine.sweep.run import run_sweep

        ds, summaries = run_sweep(grid, scheduler=args.scheduler, n_workers=args.workers, chunk_paths=args.chunk_paths)
        target = write_sweep(out, ds, summaries, [p.label for p in grid.points], fmt=args.format, force=args.force)
    except ScenarioError as exc:
        return _error(exc.render())
    except FileExistsError as exc:
        return _error(str(exc))
    print(f"sweep of {len(grid.points)} points written to {target} (+ summaries.json)")
    return 0


def cmd_capex_check(args) -> int:
    from engine.errors import ScenarioError

    msg = _positive("paths", args.paths)
    if msg:
        return _error(msg)
    if args.seed is not None and not 0 <= args.seed < 2**32:
        return _error(f"--seed must be in [0, 2^32), got {args.seed}")
    out = Path(args.out) if args.out else Path("outputs") / f"{Path(args.plan).stem}-capex-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    msg = _prepare(args, _plan_base_scenario(args.plan))
    if msg:
        return _error(msg)
    from engine.capex.app import run_capex_check

    try:
        report, *_ = run_capex_check(args.plan, paths=args.paths, seed=args.seed, out=out, force=args.force, overrides=overrides_of(args))
    except ScenarioError as exc:
        return _error(exc.render())
    except FileExistsError as exc:
        return _error(str(exc))
    if not args.quiet:
        from engine.capex.report import print_report

        print_report(report)
    print(f"capex check written to {out}/ (capex_check.json, capex_check.csv, scenario.resolved.toml)")
    return 0


def _plan_base_scenario(plan: str) -> Path | None:
    """A capex plan's ``base_scenario`` file (relative to the plan), for its ``[run] threads``; None when unreadable."""
    import tomllib

    try:
        base = tomllib.loads(Path(plan).read_text()).get("base_scenario")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return Path(plan).resolve().parent / base if isinstance(base, str) else None


def cmd_compare_lives(args) -> int:
    from engine.errors import ScenarioError

    msg = _positive("paths", args.paths)
    if msg:
        return _error(msg)
    bad = [x for x in args.lives if not 0 < x <= 240]
    if bad:
        return _error(f"--lives must be months in 1..240, got {bad}")
    out = Path(args.out) if args.out else Path("outputs") / f"{Path(args.scenario).stem}-lives-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    if out.exists() and not args.force:
        return _error(f"output directory {out} exists; pass --force to replace it")
    msg = _prepare(args, args.scenario)
    if msg:
        return _error(msg)
    from engine.life_comparison import compare_lives, print_comparison, write_comparison

    try:
        report = compare_lives(args.scenario, args.lives, paths=args.paths, seed=args.seed, reference=args.reference, overrides=overrides_of(args))
    except ScenarioError as exc:
        return _error(exc.render())
    write_comparison(out, report, force=args.force)
    if not args.quiet:
        print_comparison(report)
    print(f"comparison written to {out}/life_comparison.json")
    return 0


def _write_new_file(text: str, out: str | None, force: bool) -> str | None:
    """Write ``text`` to ``out`` atomically (a temporary file renamed into place); an error message or None."""
    import os
    import tempfile

    path = Path(out)
    if path.exists() and not force:
        return f"{path} exists; pass --force to replace it"
    if not path.parent.exists():
        return f"folder {path.parent} does not exist"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return None


def cmd_import_fleet(args) -> int:
    """``rackrisk import-fleet``: engine/scenario/fleet_table.py; every bad cell on its own line, exit 2, nothing written."""
    from engine.errors import ScenarioError
    from engine.scenario.fleet_table import import_fleet

    if args.out and Path(args.out).exists() and not args.force:
        return _error(f"{args.out} exists; pass --force to replace it")
    try:
        text, loaded = import_fleet(args.table, out=args.out, extends=args.extends, facilities=args.facilities, title=args.title)
    except ScenarioError as exc:
        for line in exc.render().splitlines():
            _error(line)
        return EXIT_BAD_INPUT
    from engine.scenario.plausibility import print_warnings

    n = len(loaded.scenario.fleet.cohort)
    if not args.out:
        print(text, end="")
        print_warnings(loaded)
        return 0
    msg = _write_new_file(text, args.out, args.force)
    if msg:
        return _error(msg)
    n_warn = print_warnings(loaded)
    print(f"wrote {args.out}: {n} cohort{'' if n == 1 else 's'}, validated (sha256 {loaded.sha256[:12]}{_warned(n_warn)}); next: rackrisk run {args.out}")
    return 0


def cmd_new(args) -> int:
    """``rackrisk new --template``: engine/scenario/templates/; the text is validated before it is written."""
    from engine.errors import ScenarioError
    from engine.scenario.templates import template_text

    try:
        text, loaded = template_text(args.template, out=args.out)
    except ScenarioError as exc:  # a shipped template that does not validate is a bug: say so plainly
        return _error(f"template {args.template}: {exc.render()}")
    if not args.out:
        print(text, end="")
        return 0
    msg = _write_new_file(text, args.out, args.force)
    if msg:
        return _error(msg)
    print(f"wrote {args.out} ({args.template} template, validated, sha256 {loaded.sha256[:12]}); edit it, then rackrisk validate {args.out}")
    return 0


def cmd_reconcile(args) -> int:
    """``rackrisk reconcile``: engine/reconcile/app.py; exit 1 when a gated figure is outside its tolerance."""
    from engine.errors import ScenarioError
    from engine.reconcile.app import reconcile
    from engine.reconcile.table import render

    try:
        rec = reconcile(args.scenario, entity=args.entity, overrides=overrides_of(args))
    except ScenarioError as exc:
        return _error(exc.render())
    print(render(rec.scenario, rec.entity, rec.filings, rec.comparisons), end="")
    return 1 if rec.outside else 0


def main(argv: list[str] | None = None) -> int:
    from engine.cli.runtime import relax_gc

    relax_gc()  # before the commands' imports (engine/cli/runtime.py)
    args = _parser().parse_args(argv)
    args.argv = argv  # the command line as given (recorded in provenance by impairment-backtest)
    handlers = {"impairment-backtest": cmd_impairment_backtest, "run": cmd_run, "validate": cmd_validate, "schema-docs": cmd_schema_docs, "fit": cmd_fit, "backtest": cmd_backtest, "capex-check": cmd_capex_check, "compare-lives": cmd_compare_lives, "sweep": cmd_sweep, "report": cmd_report, "export": cmd_export, "reconcile": cmd_reconcile,
                "import-fleet": cmd_import_fleet, "new": cmd_new}
    if args.command in ("stress", "reverse-stress", "sensitivity"):
        from engine.cli import stress as commands

        handlers[args.command] = {"stress": commands.cmd_stress, "reverse-stress": commands.cmd_reverse_stress, "sensitivity": commands.cmd_sensitivity}[args.command]
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        print("rackrisk: interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
