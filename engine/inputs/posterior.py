"""Posterior files: a fitted model's draws feeding ``dist = "posterior"`` inputs.

File format (written by ``rackrisk fit``, issue 3): netCDF4 via h5netcdf with an ArviZ-style
``posterior`` group whose variables have dims ``(chain, draw, *extra)``. The root attribute
``rackrisk_gate_passed`` (1 or 0) records whether the fit passed the convergence gate (R-hat,
ESS, divergences); a file that failed it is refused unless the caller allows it.

This module reads the files with h5py (netCDF4 is HDF5): it imports neither xarray nor pymc nor arviz.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.errors import ScenarioError
from engine.inputs.registry import bounds_for
from engine.scenario.dists import Posterior

GATE_ATTR = "rackrisk_gate_passed"


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class _Group:
    """One group of a posterior file as read: ``variables`` name -> (dims, values), the data variables
    only; ``coords`` dim -> labels (str) for the dims that have a coordinate variable."""

    variables: dict
    coords: dict


def _attr(value):
    """An HDF5 attribute as netCDF readers give it: text decoded, a one-element array as its element."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(-1)[0]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _dim_name(scale) -> str:
    return scale.name.rsplit("/", 1)[-1]


def _decoded(ds) -> np.ndarray:
    """A variable's values with the netCDF encodings the fit writes undone: missing values (``_FillValue``,
    ``missing_value``) as NaN, then ``scale_factor`` / ``add_offset`` (CF conventions), in float64."""
    values = ds[()]
    attrs = ds.attrs
    fills = [_attr(attrs[k]) for k in ("_FillValue", "missing_value") if k in attrs]
    scale, offset = _attr(attrs.get("scale_factor", 1.0)), _attr(attrs.get("add_offset", 0.0))
    if values.dtype.kind in "iuf" and (fills or scale != 1.0 or offset != 0.0):
        values = values.astype(np.float64)
        for f in fills:
            if not (isinstance(f, float) and np.isnan(f)):
                values[values == f] = np.nan
        values = values * scale + offset
    return values


@lru_cache(maxsize=32)
def _open(path: str, mtime_ns: int, group: str):
    """``(root attributes, _Group)`` of ``group`` in the netCDF4 (HDF5) file ``path``, read with h5py:
    netCDF4 variables are HDF5 datasets whose dims are attached dimension scales (a dimension without a
    coordinate variable is a scale marked as such). Raises FileNotFoundError, LookupError (no such group)
    or OSError (not a readable netCDF4 file)."""
    import h5py

    try:
        with h5py.File(path, "r") as fh:
            attrs = {k: _attr(v) for k, v in fh.attrs.items()}
            if group not in fh or not isinstance(fh[group], h5py.Group):
                raise LookupError(group)
            variables, coords = {}, {}
            for name, ds in fh[group].items():
                if not isinstance(ds, h5py.Dataset):
                    continue
                if ds.attrs.get("CLASS") == b"DIMENSION_SCALE":  # a dimension: a coordinate variable unless marked as a bare dimension
                    if not str(_attr(ds.attrs.get("NAME", b""))).startswith("This is a netCDF dimension but not a netCDF variable"):
                        values = ds.asstr()[()] if h5py.check_string_dtype(ds.dtype) else ds[()]
                        coords[name] = [str(x) for x in np.asarray(values).reshape(-1)]
                    continue
                dims = tuple(_dim_name(ds.dims[i][0]) if len(ds.dims[i]) else f"phony_dim_{i}" for i in range(ds.ndim))
                variables[name] = (dims, _decoded(ds))
    except (FileNotFoundError, LookupError):
        raise
    except Exception as exc:  # any parse failure of a corrupt or non-netCDF file
        raise OSError(f"not a readable posterior netCDF file ({type(exc).__name__}: {exc})") from None
    return attrs, _Group(variables, coords)


def load_draws(d: Posterior, *, field: str = "", scenario_file: str = "", allow_unconverged: bool = False) -> np.ndarray:
    """The posterior draws of ``d.variable`` (with ``d.select`` applied), flattened to (sample,).

    Sample order is chain-major (chain 0's draws first), so sample index i is reproducible.

    Raises:
        ScenarioError: missing or unreadable file, failed gate, missing variable or coordinate,
            draws outside the field's allowed range, non-finite draws.
    """
    path = Path(d.file)
    where = f"{field} (posterior file {path})"
    if not path.exists():
        raise ScenarioError(scenario_file, field, f"posterior file {path} not found (run `rackrisk fit` or fix the path; it is relative to the scenario file)")
    try:
        attrs, post = _open(str(path), path.stat().st_mtime_ns, d.group)
    except LookupError:
        raise ScenarioError(scenario_file, field, f"posterior file {path} has no group {d.group!r}") from None
    except OSError as exc:
        raise ScenarioError(scenario_file, field, f"cannot read posterior file {path}: {exc}") from None
    gate = attrs.get(GATE_ATTR)
    if gate is not None and int(gate) != 1 and not allow_unconverged:
        raise ScenarioError(scenario_file, field, f"posterior file {path} failed its convergence gate ({GATE_ATTR} = {gate}); refit, or pass --allow-unconverged")
    if d.variable not in post.variables:
        have = ", ".join(sorted(post.variables)) or "none"
        raise ScenarioError(scenario_file, field, f"variable {d.variable!r} not in the {d.group} group of {path}; variables there: {have}")
    dims, values = post.variables[d.variable]
    for dim, label in d.select.items():
        if dim not in dims:
            raise ScenarioError(scenario_file, field, f"select: {d.variable} has no dim {dim!r}; its dims: {', '.join(dims)}")
        axis = dims.index(dim)
        labels = post.coords.get(dim) or [str(i) for i in range(values.shape[axis])]
        if str(label) not in labels:
            raise ScenarioError(scenario_file, field, f"select: {dim} = {label!r} not found; allowed: {', '.join(labels)}")
        values, dims = np.take(values, labels.index(str(label)), axis=axis), dims[:axis] + dims[axis + 1:]
    extra = [dim for dim in dims if dim not in ("chain", "draw")]
    if extra:
        raise ScenarioError(scenario_file, field, f"{d.variable} has extra dim(s) {', '.join(extra)}: pick one element with select = {{ {extra[0]} = ... }}")
    if not {"chain", "draw"} <= set(dims):
        raise ScenarioError(scenario_file, field, f"{d.variable} must have dims (chain, draw); it has {dims}")
    values = np.asarray(np.moveaxis(values, (dims.index("chain"), dims.index("draw")), (0, 1)), dtype=np.float64).reshape(-1)
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ScenarioError(scenario_file, field, f"{where}: draws must be finite and non-empty")
    lo, hi = bounds_for(field)
    if values.min() < lo or values.max() > hi:
        raise ScenarioError(scenario_file, field, f"{where}: draws span [{values.min():g}, {values.max():g}], outside the allowed range [{lo:g}, {hi:g}]")
    return values


def check_posterior_input(d: Posterior, *, field: str, scenario_file: str, allow_unconverged: bool = False) -> None:
    load_draws(d, field=field, scenario_file=scenario_file, allow_unconverged=allow_unconverged)
