"""Stack per-point Datasets along ``scenario`` and write the sweep (zarr, or netCDF when small)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

NETCDF_MAX_BYTES = 64 * 2**20  # combined Datasets up to this size go to one netCDF file; larger ones to zarr


def _coord_value(v):
    return json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v


def combine(grid, results: list) -> "xarray.Dataset":  # noqa: F821
    """results[i] = (summary, Dataset) of grid.points[i] -> one Dataset with a ``scenario`` dim."""
    import xarray as xr

    from engine.version import __version__

    dss = [ds for _, ds in results]
    ds = xr.concat(dss, dim="scenario", data_vars="all", coords="minimal", compat="override", join="outer", combine_attrs="drop")
    coords = {"scenario": ("scenario", [p.label for p in grid.points]), "seed": ("scenario", [p.seed for p in grid.points])}
    for a in grid.axes:
        coords[a.name] = ("scenario", [_coord_value(p.labels[a.name]) for p in grid.points])
    ds = ds.assign_coords(coords)
    ds.attrs = {
        "engine": "rackrisk",
        "engine_version": __version__,
        "sweep_grid_file": str(grid.path),
        "sweep_grid_sha256": hashlib.sha256(Path(grid.path).read_bytes()).hexdigest(),
        "sweep_base_scenario": str(grid.base),
        "sweep_axes": json.dumps([{"name": a.name, "set": list(a.fields), "values": [_coord_value(v) for v in a.values]} for a in grid.axes]),
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return ds


def write_sweep(out: Path, ds, summaries: list[dict], labels: list[str], *, fmt: str = "auto", force: bool = False) -> Path:
    """Write ``sweep.nc`` or ``sweep.zarr`` and ``summaries.json`` into ``out`` atomically."""
    from engine.outdir import atomic_dir

    if fmt == "auto":
        fmt = "netcdf" if ds.nbytes <= NETCDF_MAX_BYTES else "zarr"
    with atomic_dir(out, force=force) as tmp:
        if fmt == "netcdf":
            target = tmp / "sweep.nc"
            ds.to_netcdf(target, engine="h5netcdf")
        else:
            target = tmp / "sweep.zarr"
            ds.to_zarr(target, mode="w", consolidated=True)
        (tmp / "summaries.json").write_text(json.dumps(dict(zip(labels, summaries)), indent=2, default=float) + "\n")
    return out / target.name
