"""``rackrisk sweep`` on a local Dask cluster of 2 workers equals running the points one by one.

Grid: the bench reference scenario, undercut 0.2 / 0.35 (one axis) x seeds 0 / 1 = 4 points of
600 paths. The combined Dataset's slice for each point must be identical to the Dataset of that
point run alone in this process, and summaries.json must hold the same summaries.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from engine.cli import main
from engine.errors import ScenarioError
from engine.sweep.grid import load_grid
from engine.sweep.task import run_point

ROOT = Path(__file__).resolve().parents[1]
GRID = f"""
base = "{ROOT / 'scenarios' / 'bench' / 'reference.toml'}"
seeds = [0, 1]
paths = 600

[[axis]]
name = "undercut_frac"
set = "next_gen.launch[B200].undercut_frac.default"
values = [0.2, 0.35]
"""


def _strip(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k != "provenance"} | {"provenance": {k: v for k, v in summary["provenance"].items() if k != "created_utc"}}


def test_sweep_on_two_workers_equals_points_one_by_one(tmp_path):
    grid_file = tmp_path / "grid.toml"
    grid_file.write_text(GRID)
    out = tmp_path / "sweep"
    assert main(["sweep", str(grid_file), "--workers", "2", "--out", str(out), "--format", "netcdf"]) == 0
    ds = xr.load_dataset(out / "sweep.nc", engine="h5netcdf")
    summaries = json.loads((out / "summaries.json").read_text())
    grid = load_grid(grid_file)
    assert ds.sizes["scenario"] == 4 and list(ds["seed"].values) == [0, 1, 0, 1]
    assert list(ds["undercut_frac"].values) == [0.2, 0.2, 0.35, 0.35]
    npv = []
    for i, p in enumerate(grid.points):
        summary, alone = run_point(str(grid.base), p.overlay, p.seed, grid.paths, grid.store)
        part = ds.isel(scenario=i).drop_vars(["scenario", "seed", "undercut_frac"])
        for name in alone.data_vars:
            a, b = alone[name].values, part[name].values
            if a.dtype.kind in "fc":
                assert np.array_equal(a, b, equal_nan=True), (p.label, name)
            else:
                assert np.array_equal(a.astype(str), b.astype(str)), (p.label, name)
        assert set(part.data_vars) == set(alone.data_vars)
        assert json.dumps(_strip(json.loads(json.dumps(summary, default=float))), sort_keys=True) == json.dumps(_strip(summaries[p.label]), sort_keys=True)
        npv.append(summary["fleet"]["npv_usd"]["mean"]["value"])
    # the axis does something: a deeper undercut lowers the NPV on the same seed (common random numbers)
    assert npv[2] < npv[0] and npv[3] < npv[1]


def test_bad_grid_names_the_file_and_field(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(GRID.replace('set = "next_gen.launch[B200].undercut_frac.default"', 'set = "fleet.cohort[H100_ref].no_such_field"'))
    assert main(["sweep", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "undercut_frac=0.2" in err and "no_such_field" in err
    assert not (tmp_path / "o").exists()
    bad.write_text(GRID.replace("seeds = [0, 1]", "seeds = [0, 0]"))
    with pytest.raises(ScenarioError, match="seeds"):
        load_grid(bad)
    bad.write_text(GRID.replace("[B200]", "[B200"))
    with pytest.raises(ScenarioError, match="bad part"):
        load_grid(bad)


def test_sweep_on_a_running_scheduler(tmp_path):
    """--scheduler ADDRESS: the tasks go to an existing cluster (here a local one started by the test)."""
    from dask.distributed import LocalCluster

    grid_file = tmp_path / "grid.toml"
    grid_file.write_text(GRID.replace("seeds = [0, 1]", "seeds = [4]").replace("values = [0.2, 0.35]", "values = [0.25]"))
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert main(["sweep", str(grid_file), "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "s")]) == 0
    summaries = json.loads((tmp_path / "s" / "summaries.json").read_text())
    grid = load_grid(grid_file)
    (p,) = grid.points
    summary, _ = run_point(str(grid.base), p.overlay, p.seed, grid.paths, grid.store)
    assert json.dumps(_strip(json.loads(json.dumps(summary, default=float))), sort_keys=True) == json.dumps(_strip(summaries[p.label]), sort_keys=True)
