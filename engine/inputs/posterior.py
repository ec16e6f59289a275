"""Posterior files: a fitted model's draws feeding ``dist = "posterior"`` inputs.

File format (written by ``rackrisk fit``, issue 3): netCDF4 via h5netcdf with an ArviZ-style
``posterior`` group whose variables have dims ``(chain, draw, *extra)``. The root attribute
``rackrisk_gate_passed`` (1 or 0) records whether the fit passed the convergence gate (R-hat,
ESS, divergences); a file that failed it is refused unless the caller allows it.

This module uses xarray only: it never imports pymc or arviz.
"""

from __future__ import annotations

import hashlib
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


@lru_cache(maxsize=32)
def _open(path: str, mtime_ns: int, group: str):
    import xarray as xr

    try:
        root = xr.open_dataset(path, engine="h5netcdf")
        attrs = dict(root.attrs)
        root.close()
        try:
            post = xr.open_dataset(path, engine="h5netcdf", group=group).load()
        except (OSError, KeyError) as exc:
            if "group not found" in str(exc) or isinstance(exc, KeyError):
                raise LookupError(group) from None
            raise
    except (FileNotFoundError, LookupError):
        raise
    except Exception as exc:  # any parse failure of a corrupt or non-netCDF file
        raise OSError(f"not a readable posterior netCDF file ({type(exc).__name__}: {exc})") from None
    return attrs, post


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
    if d.variable not in post.data_vars:
        have = ", ".join(sorted(map(str, post.data_vars))) or "none"
        raise ScenarioError(scenario_file, field, f"variable {d.variable!r} not in the {d.group} group of {path}; variables there: {have}")
    var = post[d.variable]
    for dim, label in d.select.items():
        if dim not in var.dims:
            raise ScenarioError(scenario_file, field, f"select: {d.variable} has no dim {dim!r}; its dims: {', '.join(map(str, var.dims))}")
        labels = [str(x) for x in var[dim].values] if dim in var.coords else [str(i) for i in range(var.sizes[dim])]
        if str(label) not in labels:
            raise ScenarioError(scenario_file, field, f"select: {dim} = {label!r} not found; allowed: {', '.join(labels)}")
        var = var.isel({dim: labels.index(str(label))})
    extra = [dim for dim in var.dims if dim not in ("chain", "draw")]
    if extra:
        raise ScenarioError(scenario_file, field, f"{d.variable} has extra dim(s) {', '.join(map(str, extra))}: pick one element with select = {{ {extra[0]} = ... }}")
    if not {"chain", "draw"} <= set(var.dims):
        raise ScenarioError(scenario_file, field, f"{d.variable} must have dims (chain, draw); it has {var.dims}")
    values = np.asarray(var.transpose("chain", "draw").values, dtype=np.float64).reshape(-1)
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ScenarioError(scenario_file, field, f"{where}: draws must be finite and non-empty")
    lo, hi = bounds_for(field)
    if values.min() < lo or values.max() > hi:
        raise ScenarioError(scenario_file, field, f"{where}: draws span [{values.min():g}, {values.max():g}], outside the allowed range [{lo:g}, {hi:g}]")
    return values


def check_posterior_input(d: Posterior, *, field: str, scenario_file: str, allow_unconverged: bool = False) -> None:
    load_draws(d, field=field, scenario_file=scenario_file, allow_unconverged=allow_unconverged)
