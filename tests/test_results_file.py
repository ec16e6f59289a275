"""results.nc written chunk by chunk during the run (engine/results_file.py): the same file and summary.json
as the in-memory route, nothing left behind on failure, and memory that does not grow with the paths."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import engine.results_file as rf
from engine.app import run_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
PATHS, CHUNK = 2000, 512  # 4 chunks of the runner (the last one padded)


def _run(out: Path, store: str, *, to_file: bool, monkeypatch, **kw):
    with monkeypatch.context() as m:
        if not to_file:
            m.setattr(rf, "streams_to_file", lambda model, store: False)  # the in-memory route: Dataset.to_netcdf at the end
        # small HDF5 chunks (64 rows of paths mode's widest variable, input_value: 46 float32 = 184 B; 8 rows of full
        # mode's 1,920 B carrying_amount_usd) and a 3-column budget: many flushes that straddle the runner's chunks,
        # and several column batches per key when summary.json is evaluated
        m.setattr(rf, "CHUNK_BYTES", 16 * 1024)
        m.setattr(rf, "COLUMN_BUDGET_BYTES", 3 * PATHS * 4)
        m.setattr(rf, "READ_SLAB_BYTES", 4096)
        return run_scenario(BASELINE, paths=PATHS, seed=11, out=out, chunk_paths=CHUNK, store=store, policy_range_paths=0, **kw)


def _open(path: Path) -> xr.Dataset:
    ds = xr.open_dataset(path / "results.nc", engine="h5netcdf").load()
    ds.attrs.pop("created_utc")
    return ds


@pytest.mark.parametrize("store", ["paths", "full"])
def test_file_written_during_the_run_is_the_in_memory_one(tmp_path, monkeypatch, store):
    mem, disk = tmp_path / "mem", tmp_path / "disk"
    r_mem = _run(mem, store, to_file=False, monkeypatch=monkeypatch)
    r_disk = _run(disk, store, to_file=True, monkeypatch=monkeypatch)
    assert r_mem.results_file is None and r_disk.results_file == disk / "results.nc"
    a, b = _open(mem), _open(disk)
    assert a.identical(b)
    assert list(a.variables) == list(b.variables) and list(a.attrs) == list(b.attrs)  # the same order too
    for k in a.variables:  # dtypes and values bit for bit (identical() compares NaN-aware values only)
        assert a[k].dtype == b[k].dtype, k
        if a[k].dtype.kind in "fiu":
            assert a[k].values.tobytes() == b[k].values.tobytes(), k
    assert b.sizes["path"] == PATHS and "path" in b["npv_usd"].dims
    assert ("impairment_loss_usd_monthly" in b) == (store == "full")
    assert (mem / "summary.json").read_text() == (disk / "summary.json").read_text()
    assert (mem / "scenario.resolved.toml").read_text() == (disk / "scenario.resolved.toml").read_text()
    assert sorted(p.name for p in disk.iterdir()) == ["results.nc", "scenario.resolved.toml", "summary.json"]  # no scratch file
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    # the per-path variables are chunked along path, so a lazy read goes a chunk at a time
    enc = xr.open_dataset(disk / "results.nc", engine="h5netcdf")["input_value"].encoding
    assert enc["chunksizes"][0] == 64 if store == "paths" else 8


def test_failure_mid_run_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / "out"
    calls = []

    def progress(done, total):  # fails after the second chunk's rows have been written
        calls.append(done)
        if len(calls) == 2:
            raise RuntimeError("stopped mid-run")

    with pytest.raises(RuntimeError, match="stopped mid-run"):
        _run(out, "paths", to_file=True, monkeypatch=monkeypatch, progress=progress, monthly=False)  # packed chunks of CHUNK paths
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary folder, no partial results.nc


def _feed(model, source, n_paths: int, block: int, out: Path) -> int:
    """Peak traced bytes of writing ``n_paths`` paths in blocks of ``block`` (rows cycled from ``source``, a
    gathered run's per-path arrays) into a PathsFile, from the first put to the last row on disk."""
    scalars, inputs, pidx = source
    n_src = inputs.shape[0]
    gc.collect()
    tracemalloc.start()
    try:
        with rf.PathsFile(out, model, store="paths", n_paths=n_paths, fan_paths=0, force=False) as f:
            for start in range(0, n_paths, block):
                rows = np.arange(start, start + block) % n_src
                keep = min(block, n_paths - start)
                f.put(start, keep, scalars={k: v[rows] for k, v in scalars.items()}, inputs=inputs[rows], posterior_index=pidx[rows])
            # the last chunk's last device block can hold padding paths only (several host devices): no rows to keep
            f.put(n_paths + block, 0, scalars={k: v[:block] for k, v in scalars.items()}, inputs=inputs[:block], posterior_index=pidx[:block])
            f.finish()
            _, peak = tracemalloc.get_traced_memory()
            f._close()
    finally:
        tracemalloc.stop()
    return peak


def test_memory_of_writing_does_not_grow_with_paths(tmp_path, monkeypatch):
    r = _run(tmp_path / "src", "paths", to_file=False, monkeypatch=monkeypatch, write=False)
    source = (r.run.scalars, r.run.inputs, r.run.posterior_index)
    row_bytes = sum(v[0].nbytes for v in source[0].values()) + source[1][0].nbytes + source[2][0].nbytes
    block = 1024
    small, large = 16_384, 65_536
    peak_small = _feed(r.model, source, small, block, tmp_path / "a")
    peak_large = _feed(r.model, source, large, block, tmp_path / "b")
    # gathered in memory the per-path arrays alone would take row_bytes per path (about 850 B in the baseline):
    # 4x the paths would add (large - small) * row_bytes (40 MB). Written chunk by chunk, what grows with the
    # paths is the xarray index of the path coordinate (8 B a path, about 1 % of a row): allow 5 % of a row.
    assert peak_large - peak_small < 0.05 * row_bytes * (large - small), (peak_small, peak_large, row_bytes)
    # the constant part: the rows held before a whole HDF5 chunk is written (at most R + block), the R rows being
    # written, and the fleet's per-path values of those rows (about a fifth of a row): under 3 R rows
    R = rf.chunk_rows(source[1][0].nbytes, large)  # input_value is the widest variable: 16,384 rows of 184 B
    assert peak_large < 3 * R * row_bytes, (peak_large, R, row_bytes)
