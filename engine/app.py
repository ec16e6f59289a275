"""The ``run`` job as a function: load -> compile -> simulate -> summarize -> write.

The CLI and the tests call ``run_scenario``; it raises ``ScenarioError`` for bad input before
writing anything.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from engine.compile import Model, compile_model
from engine.outdir import check_out_dir
from engine.results import build_dataset, provenance, write_results
from engine.runner import RunOutput, simulate_paths
from engine.scenario.load import LoadedScenario, load_scenario
from engine.stats import summarize_exact
from engine.summary import summarize
from engine.summary_stream import reduction_note, should_stream, summarize_streamed


@dataclass
class RunResult:
    loaded: LoadedScenario
    model: Model
    run: RunOutput
    summary: dict
    out_dir: Path | None
    chunk_paths: int = 0  # paths per compiled call that the run used
    prov: dict | None = None  # how the numbers were made (engine.results.provenance)
    phase_seconds: dict[str, float] | None = None  # wall time of each step of run_scenario (benchmarks/time_to_answer.py)
    results_file: Path | None = None  # results.nc when it was written during the run (engine/results_file.py)

    def dataset(self):
        """The results Dataset (results.nc's content) of this run, in the run's ``store`` mode (opened lazily
        from results.nc when the run wrote its per-path results there during the run)."""
        if self.results_file is not None:
            import xarray as xr

            return xr.open_dataset(self.results_file, engine="h5netcdf")
        return build_dataset(self.model, self.run, store=self.loaded.scenario.run.store, prov=self.prov, resolved_toml=self.loaded.resolved_toml)


def resolved_with_header(resolved_toml: str, *, engine_version: str, source: str, sha256: str) -> str:
    """scenario.resolved.toml's text: a header naming the engine, the source file and the sha256, then the resolved TOML."""
    return (
        f"# Resolved by rackrisk {engine_version} from {source} (extends applied, defaults filled in).\n"
        f"# sha256 of the text below this header: {sha256}\n\n" + resolved_toml
    )


def summarize_variant(loaded: LoadedScenario, *, n_paths: int, seed: int, chunk_paths: int | None = None, allow_unconverged: bool = False) -> dict:
    """The summary statistics (fleet and cohorts) of ``loaded``'s first ``n_paths`` paths with root seed
    ``seed``, gathered, nothing written: the policy range's runner (its paths are the run's own). They run through
    the monthly function in chunks of at most 2,048 paths, as the run's own fan paths do, so a policy that
    changes numbers only reuses the run's compiled function (no second program to load); per-path results
    are the packed function's bit for bit (tests/test_fan_paths.py)."""
    cfg = loaded.scenario.run
    from engine.backend_tuning import chunk_paths_for

    m = compile_model(loaded, allow_unconverged=allow_unconverged)
    r = simulate_paths(m, n_paths=n_paths, seed=seed, dtype=cfg.dtype, chunk_paths=chunk_paths_for(cfg, m, chunk_paths),
                       fan_paths=n_paths, store_full=False, stream=False)
    return summarize(m, r, standards=m.standards)


def run_scenario(path: str | Path | LoadedScenario, **kwargs) -> RunResult:
    """Run one scenario (a file, or one already loaded); write ``out`` (when ``write``) and return the statistics.

    Keyword arguments as ``_run_scenario``'s. A results file written during the run (``store = "paths"``
    or ``"full"``, engine/results_file.py) is removed when the run fails: nothing is half-written."""
    with ExitStack() as cleanup:
        return _run_scenario(path, cleanup=cleanup, **kwargs)


def _run_scenario(
    path: str | Path | LoadedScenario,
    *,
    cleanup: ExitStack,
    paths: int | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    force: bool = False,
    chunk_paths: int | None = None,
    store: str | None = None,
    allow_unconverged: bool = False,
    progress: Callable[[int, int], None] | None = None,
    write: bool = True,
    policy_range_paths: int = 0,
    overrides: dict | None = None,
    warnings_to=None,
    monthly: bool = True,
) -> RunResult:
    """Run one scenario (a file, or one already loaded); write ``out`` (when ``write``) and return the statistics.

    ``overrides``: dotted key -> value set on the scenario before it is validated (``--set``,
    engine/scenario/overrides.py); they enter the resolved scenario and its sha256, and are listed in
    summary.json's provenance (``overrides``). ``warnings_to``: a text stream (stderr) that gets the scenario's
    plausibility warnings, one line each, before anything is computed (engine/scenario/plausibility.py).
    ``monthly=False``: no fan paths (no monthly values; a caller that reads per-path results only, such as
    the stress comparison), except with [financing], whose credit block holds DSCR and LTV fans; no per-path
    number changes (tests/test_fan_paths.py)."""
    # --paths, --seed and --store change what is computed or kept: they enter the resolved scenario
    # (and its sha256); --chunk-paths changes no number, so it is recorded in results.nc only
    phases: dict[str, float] = {}
    lap = _stopwatch(phases)
    if isinstance(path, LoadedScenario):
        loaded = path.with_overrides(overrides, allow_unconverged=allow_unconverged) if overrides else path
    else:
        loaded = load_scenario(path, allow_unconverged=allow_unconverged, overrides=overrides)
    loaded = loaded.with_run_overrides(paths=paths, seed=seed, store=store)
    cfg = loaded.scenario.run
    n_paths, seed_, store_ = cfg.paths, cfg.seed, cfg.store
    if warnings_to is not None:
        from engine.scenario.plausibility import print_warnings

        print_warnings(loaded, warnings_to)
    if chunk_paths is not None:
        loaded.checked_run(chunk_paths=chunk_paths)  # the file's rule for chunk_paths (not recorded: no number depends on it)
    if write and out is not None:
        check_out_dir(Path(out), force)
    from engine.backend_tuning import chunk_paths_for, settings

    settings()  # a bad RACKRISK_* layout override fails here, before anything is compiled or written
    lap("load_scenario")
    model = compile_model(loaded, allow_unconverged=allow_unconverged)
    lap("compile_model")
    chunk = chunk_paths_for(cfg, model, chunk_paths)  # --chunk-paths, [run] chunk_paths, or the backend's default
    if store_ == "full" and chunk_paths is None and "chunk_paths" not in cfg.model_fields_set:
        from engine.runner import FULL_CHUNK_PATHS

        chunk = min(chunk, FULL_CHUNK_PATHS)  # every path's months come back with each chunk: bounded memory
    n_sub = min(policy_range_paths, n_paths)  # the policy range's paths: the run's first n_sub
    sink = None  # per-path results written to results.nc as they come (bounded memory; engine/results_file.py)
    if write and out is not None:
        from engine.results_file import PathsFile, streams_to_file

        if streams_to_file(model, store_):
            sink = cleanup.enter_context(PathsFile(Path(out), model, store=store_, n_paths=n_paths, fan_paths=cfg.fan_paths, force=force))
    run = simulate_paths(
        model, n_paths=n_paths, seed=seed_, dtype=cfg.dtype, chunk_paths=chunk, fan_paths=cfg.fan_paths if monthly or model.facilities else 0,
        store_full=(store_ == "full"), progress=progress,
        # credit statistics (engine/credit/summary.py) need the per-path debt results: a scenario with
        # [financing] is gathered exactly at any path count (docs/performance.md, memory)
        stream=should_stream(store_, n_paths) and not model.facilities, sink=sink,
        head_paths=n_sub,  # the policy range's row for the scenario's own policy is these paths' summary
    )
    lap("simulate")
    prov = provenance(loaded, model, seed=seed_, n_paths=n_paths, dtype=cfg.dtype, chunk_paths=chunk)
    if run.reduced is not None:  # streamed (store = "summary", more than EXACT_MAX_PATHS paths)
        stats = summarize_streamed(model, run.reduced, n_paths, standards=model.standards)
    elif sink is not None:  # the same exact statistics, from the file's columns
        stats = sink.summarize(standards=model.standards)
    else:
        stats = summarize(model, run, standards=model.standards)
    summary = {
        # what makes the numbers (not when, nor the chunk size, which changes no number)
        "provenance": {**{k: v for k, v in prov.items() if k not in ("created_utc", "chunk_paths")},
                       **({"overrides": _plain_overrides(overrides)} if overrides else {})},
        "run": {
            "start_month": cfg.start_month, "horizon_months": cfg.horizon_months, "paths": n_paths, "seed": seed_,
            "dtype": cfg.dtype, "standards": list(model.standards), "year_ends": list(model.year_end_labels),
            "cohorts": list(model.cohorts),
            **({"reduction": reduction_note(run)} if run.reduced is not None else {}),
        },
        **stats,
    }
    lap("summarize")
    from engine.accounting.policy_range import policy_in_words

    summary["accounting_policy"] = policy_in_words(loaded.scenario)
    if policy_range_paths > 0:  # the same first paths under each defensible policy (engine/accounting/policy_range.py)
        from engine.accounting.policy_range import policy_range

        def run_subset(variant: LoadedScenario) -> dict:
            return summarize_variant(variant, n_paths=n_sub, seed=seed_, chunk_paths=chunk_paths, allow_unconverged=allow_unconverged)

        own = summarize_exact(model, run.head_scalars, standards=model.standards) if run.head_scalars else None  # None: streamed
        summary["policy_range"] = policy_range(loaded, paths=n_sub, seed=seed_, run_subset=run_subset, own_summary=own)
        lap("policy_range")
    if model.facilities:  # [financing]: the credit block (engine/credit/summary.py; docs/credit.md)
        from engine.credit.summary import credit_summary

        summary["credit"] = credit_summary(model, run)
        lap("credit_summary")
    result = RunResult(loaded=loaded, model=model, run=run, summary=summary, out_dir=None, chunk_paths=chunk, prov=prov, phase_seconds=phases)
    if write and out is not None:
        resolved_text = resolved_with_header(loaded.resolved_toml, engine_version=prov['engine_version'], source=str(loaded.path), sha256=loaded.sha256)
        if sink is not None:
            result.results_file = sink.commit(run, summary=summary, prov=prov, resolved_toml=loaded.resolved_toml, resolved_text=resolved_text)
        else:
            write_results(Path(out), dataset=result.dataset(), summary=summary, resolved_toml=resolved_text, force=force)
        result.out_dir = Path(out)
        lap("write")
    return result


def _stopwatch(phases: dict[str, float]) -> Callable[[str], None]:
    """``lap(name)`` records the wall seconds since the previous lap (or the stopwatch's start) as ``phases[name]``."""
    import time

    last = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        phases[name] = now - last[0]
        last[0] = now

    return lap


def _plain_overrides(overrides: dict) -> dict:
    """``--set`` values as JSON-able data (TOML dates and times as their text)."""
    def plain(v):
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v if isinstance(v, (str, int, float, bool)) or v is None else str(v)

    return {str(k): plain(v) for k, v in overrides.items()}
