"""Run a grid on Dask distributed: one task per point, on a scheduler or a local cluster.

    run_sweep(grid, scheduler=None, n_workers=None) -> (Dataset, summaries)

``scheduler``: address of a running scheduler (``tcp://host:8786``; a dask-jobqueue or Kubernetes
cluster's ``scheduler_address``); None starts a ``LocalCluster`` of ``n_workers`` single-threaded
worker processes (default: the CPU count). Each task is ``engine.sweep.task.run_point``: workers
need this package importable (same environment). Every point is checked on the client first, so a
bad grid fails before any task is sent (ScenarioError naming the grid file and the axis).
"""

from __future__ import annotations

import os
import tempfile

from engine.errors import ScenarioError
from engine.sweep.grid import Grid
from engine.sweep.task import run_point, write_point_file


def check_points(grid: Grid) -> None:
    from engine.scenario.load import load_scenario

    with tempfile.TemporaryDirectory(prefix="rackrisk-sweep-check-") as tmp:
        for p in grid.points[:: max(len(grid.seeds), 1)]:  # seeds do not change validity
            f = write_point_file(grid.base, p.overlay, tmp)
            try:
                load_scenario(f)
            except ScenarioError as exc:
                raise ScenarioError(str(grid.path), f"axis point {p.label}", f"the base with this point's overrides is invalid: {exc.field}: {exc.message}") from None


def run_sweep(grid: Grid, *, scheduler: str | None = None, n_workers: int | None = None, chunk_paths: int | None = None):
    check_points(grid)
    from dask.distributed import Client, LocalCluster

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        futures = [
            client.submit(run_point, str(grid.base), p.overlay, p.seed, grid.paths, grid.store, chunk_paths, key=f"rackrisk-point-{p.index}-{p.label}", pure=False)
            for p in grid.points
        ]
        results = client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    from engine.sweep.combine import combine

    return combine(grid, results), [s for s, _ in results]
