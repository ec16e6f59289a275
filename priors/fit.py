"""`rackrisk fit`: sample a model, check the gate, save ``priors/fitted/<name>.nc`` with provenance.

The file is an ArviZ InferenceData saved as netCDF4 (h5netcdf) with the groups posterior,
posterior_predictive (where the model has one), observed_data and sample_stats. Root attributes:
``rackrisk_gate_passed`` (1/0), ``gate_failures``, ``model``, ``as_of``, ``seed``, ``sampler``,
``data_sha256`` (JSON: file -> sha256), ``library_versions`` (JSON), ``created_utc``.
The engine (engine/inputs/posterior.py) reads the ENGINE_VARS from it; it never imports this.
"""

from __future__ import annotations

import importlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from priors.gate import Diagnostics, diagnose
from priors.inference import draw_posterior, sampler_name
from priors.models import MODELS, PriorModel
from priors.observations_io import file_hashes

FITTED = Path(__file__).resolve().parent / "fitted"


class GateError(Exception):
    """The posterior failed the convergence gate; nothing was saved."""


@dataclass
class FitResult:
    name: str
    path: Path | None
    diagnostics: Diagnostics
    seconds: float
    notes: tuple[str, ...] = ()  # what the user should know about how the model was fitted


def _versions() -> dict[str, str]:
    out = {}
    for mod in ("pymc", "pytensor", "arviz", "numpyro", "jax", "numpy", "xarray"):
        try:
            out[mod] = importlib.import_module(mod).__version__
        except Exception:  # pragma: no cover - optional
            pass
    return out


def sample(model_module: PriorModel, *, as_of: str | None, seed: int, sample_kw: dict | None = None):
    """Build and sample one model (``inference.draw_posterior`` with the module's SAMPLE updated by
    ``sample_kw``), add the posterior predictive of its observed variables and the module's
    ``finalize``; returns (idata, obs)."""
    import pymc as pm

    obs = model_module.load_observations(as_of)
    model = model_module.build_model(obs)
    idata, _ = draw_posterior(model, seed=seed, sample_kw={**model_module.SAMPLE, **(sample_kw or {})})
    with model:
        observed = [rv.name for rv in model.observed_RVs]
        if observed:  # predictive draws of the observed variables, for the posterior predictive check
            pm.sample_posterior_predictive(idata, var_names=observed, extend_inferencedata=True, random_seed=seed, progressbar=False)
    model_module.finalize(idata, obs, model, seed)
    return idata, obs


MAX_ELEMENTS_PER_SAMPLE = 32


def _slim(idata, keep: set[str]) -> list[str]:
    """Drop latent paths and per-observation replicates (more than 32 numbers per draw) from the
    posterior and posterior_predictive groups, so the shipped files stay small; the variables the
    engine reads are always kept. Returns the dropped names (recorded in the file)."""
    dropped = []
    for group in ("posterior", "posterior_predictive"):
        if group not in idata.groups():
            continue
        ds = getattr(idata, group)
        big = [v for v in ds.data_vars if v not in keep and ds[v].size / (ds.sizes["chain"] * ds.sizes["draw"]) > MAX_ELEMENTS_PER_SAMPLE]
        if big:
            setattr(idata, group, ds.drop_vars(big))
            dropped += [f"{group}/{v}" for v in big]
    return dropped


def _plots(mod, idata, obs, out_dir: Path, name: str) -> None:
    """Posterior predictive checks next to the fitted file: the module's own ``plot`` when it has
    one (price_dynamics: PPC and forecast fans), else the generic <name>_ppc.png."""
    from priors.plots import ppc_plot

    if hasattr(mod, "plot"):
        mod.plot(idata, obs, out_dir)
    else:
        ppc_plot(idata, out_dir / f"{name}_ppc.png", f"{name}: posterior predictive check")


def fit(name: str, *, as_of: str | None = None, seed: int = 0, allow_unconverged: bool = False, out_dir: Path = FITTED, sample_kw: dict | None = None) -> FitResult:
    """Fit model ``name`` and write ``out_dir/<name>.nc`` unless it fails the gate."""
    import time

    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; models: {', '.join(MODELS)}")
    mod: PriorModel = importlib.import_module(MODELS[name])
    t0 = time.perf_counter()
    idata, obs = sample(mod, as_of=as_of, seed=seed, sample_kw=sample_kw)
    # a model's optional parameters (price_dynamics: volatility trend, provider panel) are gated too when present
    gate = mod.gate_vars(idata) if hasattr(mod, "gate_vars") else list(mod.GATE_VARS)
    diag = diagnose(idata, gate)
    seconds = time.perf_counter() - t0
    if not diag.passed and not allow_unconverged:
        raise GateError(f"{name}: the posterior failed the convergence gate, not saved: " + "; ".join(diag.failures[:5]))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.nc"
    _plots(mod, idata, obs, out_dir, name)  # the checks see every draw, before the file is slimmed
    dropped = _slim(idata, keep=set(mod.ENGINE_VARS))
    attrs = {
        "rackrisk_gate_passed": int(diag.passed),
        "gate_failures": json.dumps(diag.failures),
        "model": name,
        "as_of": as_of or "all data",
        "seed": int(seed),
        "sampler": sampler_name(),
        "data_sha256": json.dumps(file_hashes(list(mod.TABLES))),
        "library_versions": json.dumps(_versions()),
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "engine_variables": json.dumps(dict(mod.ENGINE_VARS)),
        "dropped_variables": json.dumps(dropped),
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".nc", dir=out_dir)
    os.close(fd)
    try:
        groups = [g for g in ("posterior", "posterior_predictive", "observed_data", "sample_stats", "constant_data") if g in idata.groups()]
        idata.to_netcdf(tmp, groups=groups, engine="h5netcdf")
        import h5netcdf

        with h5netcdf.File(tmp, "a") as f:
            for k, v in attrs.items():
                f.attrs[k] = v
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    notes = tuple(mod.fit_notes(idata, as_of)) if hasattr(mod, "fit_notes") else ()
    return FitResult(name=name, path=path, diagnostics=diag, seconds=seconds, notes=notes)
