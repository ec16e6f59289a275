"""Process set-up of a command: the garbage collector's thresholds; for the commands that simulate, before
JAX starts, malloc arenas, threads and host devices.

``relax_gc()``: every command (``engine.cli.main``) first raises the collector's first-generation threshold.
``prepare(args, scenario)``: ``--threads`` (checked: one error line), else ``[run] threads`` of the
scenario file the command runs, else the free cores (engine/host_devices.py); a warning line on
stderr when the count exceeds the cores. Returns an error message (the command exits 2) or None.
"""

from __future__ import annotations

import gc
import sys

from engine.cli.argtypes import overrides_of

# (first, second, third generation) thresholds of a command's process. Imports, JAX's tracing and lowering
# and the summaries allocate millions of short-lived objects, and CPython's default (700, 10, 10) then runs
# a collection every 700 net allocations, the full ones walking every object the imports made (what that
# cost: docs/decisions/0019). At 50,000 the young collections are rare; cycles are still collected, in the
# same proportion between generations.
GC_THRESHOLDS = (50_000, 10, 10)


def relax_gc() -> None:
    """Set ``GC_THRESHOLDS`` for this (command's) process. No value computed depends on it; the Python API
    leaves the user's process alone."""
    gc.set_threshold(*GC_THRESHOLDS)


def scenario_threads(path, overrides: dict | None = None) -> int | None:
    """``[run] threads`` of the scenario file ``path`` (``extends`` and ``--set`` applied), or None when it
    is not set or the file does not load: the command's own load then reports the error (posterior
    files are not read here)."""
    from engine.errors import ScenarioError
    from engine.scenario.load import load_scenario

    try:
        return load_scenario(path, check_posteriors=False, overrides=overrides).scenario.run.threads
    except (ScenarioError, OSError):
        return None


def plan_for(args, scenario=None):
    """The ``ThreadPlan`` of ``--threads``, else of ``scenario``'s ``[run] threads``, else ``auto``. ValueError on a bad value."""
    from engine.host_devices import plan_threads

    if getattr(args, "threads", None) is not None:
        return plan_threads(args.threads, source="--threads")
    n = scenario_threads(scenario, overrides_of(args)) if scenario is not None else None
    return plan_threads(n, source="[run] threads") if n is not None else plan_threads(None)


def prepare(args, scenario=None) -> str | None:
    """Limit malloc arenas and apply the thread plan (before JAX starts); an error message or None."""
    from engine.host_devices import apply_plan
    from engine.malloc_tuning import limit_malloc_arenas

    try:
        plan = plan_for(args, scenario)
    except ValueError as exc:
        return str(exc)
    limit_malloc_arenas()  # before JAX starts its threads: lower peak memory (engine/malloc_tuning.py)
    if plan.warning:
        print(f"rackrisk: warning: {plan.warning}", file=sys.stderr)
    apply_plan(plan)
    return None


def prepare_workers(args, scenario, n_workers: int | None) -> str | None:
    """``rackrisk sweep``: the threads of each local worker process, through ``PJRT_NPROC`` in this process's
    environment (the workers inherit it; this process simulates nothing): ``--threads``, else ``scenario``'s
    ``[run] threads``, else the free cores divided among ``n_workers`` (at least 1). ``n_workers`` None: a
    remote scheduler, whose workers keep their own settings. An error message or None."""
    import os

    from engine.host_devices import NPROC

    try:
        plan = plan_for(args, scenario)
    except ValueError as exc:
        return str(exc)
    if n_workers is None:
        return None
    per_worker = max(1, plan.threads // n_workers) if plan.source == "auto" else plan.threads
    if plan.warning:
        print(f"rackrisk: warning: {plan.warning} (each worker)", file=sys.stderr)
    os.environ[NPROC] = str(per_worker)
    return None
