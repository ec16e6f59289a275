"""Labelled results: the xarray Dataset (results.nc), summary.json, and atomic writing.

Dims: ``path``, ``month`` (datetime64, month start), ``cohort``, ``generation``, ``standard``,
``quantile``, ``input``, ``posterior_file``. Every variable has ``units`` and ``long_name``; the
Dataset's attributes record how it was made (engine version, resolved scenario and its sha256,
seed, dtype, jax version, posterior file hashes).
"""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from engine.version import __version__
from engine.compile import Model
from engine.jsontext import json_text
from engine.outdir import atomic_dir
from engine.runner import RunOutput
from engine.summary import QUANTILES, STANDARD_NAMES, fan, first_month_fleet, impaired_by_month


def _git_sha() -> str:
    """The commit of the engine's checkout, or "unknown" outside a git checkout."""
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True, text=True, timeout=5)
        sha = out.stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=Path(__file__).resolve().parent, capture_output=True, text=True, timeout=5).stdout.strip()
        return (sha + ("+dirty" if dirty else "")) if out.returncode == 0 and sha else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(loaded, model: Model, *, seed: int, n_paths: int, dtype: str, chunk_paths: int) -> dict:
    import jax

    from engine.backend_tuning import settings as backend_settings

    out = {
        "engine": "rackrisk",
        "engine_version": __version__,
        "engine_git_sha": _git_sha(),
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "scenario_file": str(loaded.path),
        "scenario_files_read": [str(p) for p in loaded.files],
        "scenario_sha256": loaded.sha256,
        "seed": int(seed),
        "paths": int(n_paths),
        "dtype": dtype,
        "chunk_paths": int(chunk_paths),
        "jax_version": jax.__version__,
        "jax_backend": jax.default_backend(),
        # speed-only layout of the chunk functions (engine/backend_tuning.py): may move float32 roundings
        "chunk_layout": backend_settings(),
        "python_version": platform.python_version(),
        "posterior_files": dict(model.posterior_sha256),
    }
    stress = getattr(loaded.scenario, "stress", None)
    if stress is not None and stress.path_table:  # the CSV's content is not in the resolved TOML: record its hash
        from engine.inputs.posterior import file_sha256

        out["stress_path_table_sha256"] = {stress.path_table: file_sha256(stress.path_table)}
    return out


def _month_coord(model: Model) -> np.ndarray:
    return np.array([np.datetime64(m + "-01", "M") for m in model.month_labels]).astype("datetime64[ns]")


VAR_META = {
    "impairment_loss_usd": ("USD", "total impairment loss over the horizon"),
    "first_impairment_month": ("month index (1 = start_month; 0 = never)", "month of the first impairment"),
    "first_impairment_loss_usd": ("USD", "loss recognised at the first impairment"),
    "impairment_reversal_usd": ("USD", "IAS 36 reversals of impairment over the horizon"),
    "failure_writeoff_usd": ("USD", "carrying amount written off with failed GPUs"),
    "carrying_amount_end_usd": ("USD", "carrying amount at the horizon"),
    "npv_usd": ("USD", "net present value at the run start at the cost of capital"),
    "revenue_usd": ("USD", "revenue over the horizon"),
    "operating_cost_usd": ("USD", "operating cost (and replacements) over the horizon"),
    "gpu_hours_sold": ("GPU-hour", "GPU-hours sold (delivered) over the horizon"),
    "gpu_hours_available": ("GPU-hour", "GPU-hours of alive GPUs over the horizon"),
    "tco_usd_per_gpu_hour": ("USD per GPU-hour", "TCO per available GPU-hour (straight-line capital charge)"),
    "tco_usd_per_delivered_gpu_hour": ("USD per GPU-hour", "TCO per delivered GPU-hour (straight-line capital charge)"),
    "tco_annuity_usd_per_delivered_gpu_hour": ("USD per GPU-hour", "TCO per delivered GPU-hour (annuity capital charge)"),
    "tco_usd_per_million_tokens": ("USD per million tokens", "TCO per million tokens"),
    "breakeven_utilization_frac": ("1", "utilization at which the cloud price covers the cost per available GPU-hour"),
    "breakeven_vs_cloud_gpu_hours": ("GPU-hour per GPU", "delivered GPU-hours after which owning a GPU beats renting at the cloud price: capex per GPU / (cloud price - operating cost per delivered GPU-hour); inf = owning never saves"),
    "breakeven_vs_cloud_months": ("month", "months of service after which owning a GPU beats renting at the cloud price: breakeven_vs_cloud_gpu_hours / GPU-hours sold per alive GPU per month; inf = owning never saves"),
    "impairment_tests": ("count", "impairment tests performed"),
    "material_impairment_month": ("month index (1 = start_month; 0 = never)", "month of the fleet's first material impairment (a month's loss >= materiality_frac of the fleet's carrying amount)"),
    "material_impairment_in_fiscal_year": ("1", "1 when a material impairment is recognised in the fiscal year"),
    "material_impairment_loss_usd": ("USD", "impairment losses recognised in material months, over the horizon"),
    "immaterial_impairment_loss_usd": ("USD", "impairment losses below the materiality threshold (e.g. de-minimis end-of-life losses), over the horizon"),
    "opening_book_unrecoverable": ("1", "1 when a test at the valuation date would find the opening book unrecoverable (ASC 360 step 1 fails; IAS 36: carrying amount > recoverable amount)"),
    "alive_gpus_end": ("GPU", "GPUs alive at the horizon"),
    "price_usd_per_gpu_hour": ("USD per GPU-hour", "on-demand market rental price"),
    "utilization_frac": ("1", "utilization of non-contracted capacity"),
    "alive_gpus": ("GPU", "GPUs alive at month end"),
    "carrying_amount_usd": ("USD", "carrying amount at month end"),
    "carrying_amount_no_impairment_usd": ("USD", "carrying amount had no impairment been recognised (IAS 36.117 cap)"),
    "value_in_use_usd": ("USD", "value in use at month end (IAS 36 forecast, pre-tax rate)"),
    "undiscounted_cash_flows_usd": ("USD", "undiscounted forecast cash flows incl. disposal (ASC 360 step 1)"),
    "fair_value_usd": ("USD", "fair value at month end"),
    "impairment_loss_usd_monthly": ("USD", "impairment loss recognised in the month"),
    "impairment_reversal_usd_monthly": ("USD", "IAS 36 reversal recognised in the month"),
    "tested": ("1", "1 when an impairment test was performed in the month"),
    "revenue_usd_monthly": ("USD", "revenue in the month"),
    "operating_cost_usd_monthly": ("USD", "operating cost in the month"),
    "cash_flow_usd": ("USD", "operating cash flow incl. disposal proceeds in the month"),
    "gpu_hours_sold_monthly": ("GPU-hour", "GPU-hours sold in the month"),
}

# dims of each per-path scalar after the path axis
_SCALAR_DIMS = {
    "material_impairment_month": ("standard",), "material_impairment_in_fiscal_year": ("standard", "fiscal_year"),
    "material_impairment_loss_usd": ("standard",), "immaterial_impairment_loss_usd": ("standard",), "opening_book_unrecoverable": ("standard",),
    "impairment_loss_usd": ("standard", "cohort"), "first_impairment_month": ("standard", "cohort"), "first_impairment_loss_usd": ("standard", "cohort"), "failure_writeoff_usd": ("standard", "cohort"), "carrying_amount_end_usd": ("standard", "cohort")}
_MONTHLY_DIMS = {"price_usd_per_gpu_hour": ("generation",), "utilization_frac": ("generation",), "carrying_amount_usd": ("standard", "cohort"), "impairment_loss_usd": ("standard", "cohort")}
# credit variables (engine/credit/results.py): dims after path (and month) are ("facility",)
from engine.credit.results import MONTHLY_DIMS as _CREDIT_MONTHLY_DIMS  # noqa: E402
from engine.credit.results import SCALAR_DIMS as _CREDIT_SCALAR_DIMS  # noqa: E402
from engine.credit.results import VAR_META as _CREDIT_VAR_META  # noqa: E402

_SCALAR_DIMS.update(_CREDIT_SCALAR_DIMS)
_MONTHLY_DIMS.update(_CREDIT_MONTHLY_DIMS)
VAR_META.update(_CREDIT_VAR_META)


def _attrs(name: str, base: str | None = None) -> dict:
    units, long_name = VAR_META.get(name, VAR_META.get(base or name, ("", name)))
    return {"units": units, "long_name": long_name}


# the fans: variable -> (its values from the fan paths' monthly arrays ``m`` and the reported standards' indices ``s``, trailing dims)
FANS = {
    "price_usd_per_gpu_hour": (lambda m, s: m["price_usd_per_gpu_hour"], ("generation",)),
    "utilization_frac": (lambda m, s: m["utilization_frac"], ("generation",)),
    "alive_gpus": (lambda m, s: m["alive_gpus"], ("cohort",)),
    "carrying_amount_usd": (lambda m, s: m["carrying_amount_usd"][:, :, s, :], ("standard", "cohort")),
    "value_in_use_usd": (lambda m, s: m["value_in_use_usd"], ("cohort",)),
    "fleet_carrying_amount_usd": (lambda m, s: m["carrying_amount_usd"][:, :, s, :].sum(axis=-1), ("standard",)),
    "fleet_value_in_use_usd": (lambda m, s: m["value_in_use_usd"].sum(axis=-1), ()),
    "cash_flow_usd": (lambda m, s: m["cash_flow_usd"], ("cohort",)),
}


def placeholder(shape: tuple[int, ...], dtype) -> np.ndarray:
    """A read-only array of ``shape`` and ``dtype`` that takes no memory (every element the same zero)."""
    return np.broadcast_to(np.zeros((), dtype), shape)


def reported_standards(model: Model) -> tuple[list[str], list[int]]:
    """The standards results.nc reports (its ``standard`` coordinate) and their indices in the path function's standard axis."""
    S = [s for s in STANDARD_NAMES if s in model.standards]
    return S, [STANDARD_NAMES.index(s) for s in S]


def path_variables(model: Model, store: str, *, scalar_names=(), scalars=None, inputs=None, posterior_index=None, monthly=None) -> dict:
    """The per-path variables of results.nc: name -> (dims, values, attrs), in the Dataset's order.

    The arguments are per-path arrays with one leading axis of rows (a whole run, or a block of rows of
    a results file written chunk by chunk, engine/results_file.py): ``scalars`` name -> (R, ...) results
    with every standard, ``inputs`` (R, N), ``posterior_index`` (R, F), ``monthly`` name -> (R, T, ...)
    (``store = "full"``); one left None gives no variables. ``scalar_names``: the run's per-path result
    names (a monthly array named as one of them is stored as ``NAME_monthly``; default: ``scalars``' keys).
    Empty unless ``store`` is "paths" or "full".
    """
    out: dict = {}
    if store not in ("paths", "full"):
        return out
    _, s_idx = reported_standards(model)
    names = set(scalar_names) or set(scalars or ())
    for name, arr in (scalars or {}).items():
        dims = _SCALAR_DIMS.get(name, ("cohort",))
        if dims[0] == "standard":
            arr = arr[:, s_idx]
        out[name] = (("path", *dims), arr, _attrs(name))
    if inputs is not None:
        out["input_value"] = (("path", "input"), inputs, {"units": "as the input's field name", "long_name": "value of each scalar input on the path"})
    if posterior_index is not None and model.posterior_files:
        out["posterior_sample"] = (("path", "posterior_file"), np.asarray(posterior_index).astype(np.int64), {"units": "index", "long_name": "posterior sample (chain-major) used by the path"})
    if store == "full":
        for name, arr in (monthly or {}).items():
            dims = _MONTHLY_DIMS.get(name, ("cohort",))
            if dims[0] == "standard":
                arr = arr[:, :, s_idx]
            key = name if name not in names else f"{name}_monthly"
            out[key] = (("path", "month", *dims), arr, _attrs(key, name))
    return out


def build_dataset(model: Model, run: RunOutput, *, store: str, prov: dict, resolved_toml: str, paths=None):
    """The results Dataset. ``store``: summary | paths | full.

    ``paths``: for a results file written chunk by chunk (``engine.results_file.PathsFile``; ``run``'s
    per-path arrays are then empty): it gives the per-path variables (``paths.variables()``, placeholders
    of the final shapes: their values are in the file), the path coordinate, and P(impaired by month)
    (``paths.impaired_by_month(T)``); with ``paths.layout_only`` every variable is a placeholder (the
    file's layout, made before the run's numbers exist).
    """
    import xarray as xr

    S, s_idx = reported_standards(model)
    coords = {
        "month": ("month", _month_coord(model), {"long_name": "calendar month (cash flows at its end)"}),
        "cohort": ("cohort", list(model.cohorts)),
        "cohort_generation": ("cohort", [model.generations[g] for g in model.a["gen_of_cohort"]]),
        "cohort_units": ("cohort", model.a["units"].astype(np.int64), {"units": "GPU"}),
        "generation": ("generation", list(model.generations)),
        "standard": ("standard", S),
        "quantile": ("quantile", list(QUANTILES)),
        "fiscal_year": ("fiscal_year", list(model.fiscal_year_labels)),
    }
    ds = xr.Dataset(coords=coords)
    T = model.T
    layout_only = paths is not None and paths.layout_only
    if layout_only:
        (p, se), (pf, sef) = [(placeholder(sh, np.float64),) * 2 for sh in ((T, len(S), len(model.cohorts)), (T, len(S)))]
    elif run.reduced is not None:  # streamed run: from exact counts by month (engine/summary_stream.py)
        from engine.summary_stream import impaired_by_month_from_run

        (p, se), (pf, sef) = impaired_by_month_from_run(run, s_idx, model)
    elif paths is not None:
        (p, se), (pf, sef) = paths.impaired_by_month(T)
    else:
        first = run.scalars["first_impairment_month"][:, s_idx, :]
        p, se = impaired_by_month(first, T)  # (T, S, C)
        pf, sef = impaired_by_month(first_month_fleet(first), T)
    ds["p_impaired_by_month"] = (("month", "standard", "cohort"), p, {"units": "1", "long_name": "probability the cohort has been impaired by the month end"})
    ds["p_impaired_by_month_se"] = (("month", "standard", "cohort"), se, {"units": "1", "long_name": "Monte Carlo standard error of p_impaired_by_month"})
    ds["fleet_p_impaired_by_month"] = (("month", "standard"), pf, {"units": "1", "long_name": "probability some cohort of the fleet has been impaired by the month end"})
    ds["fleet_p_impaired_by_month_se"] = (("month", "standard"), sef, {"units": "1", "long_name": "Monte Carlo standard error of fleet_p_impaired_by_month"})

    # fans over the first n_fan paths (in store = "full" the monthly arrays hold every path)
    m = {k: v[: run.n_fan] for k, v in run.monthly.items()}
    for name, (values_of, dims) in FANS.items():
        if layout_only:
            shape = (model.T,) + tuple(ds.sizes[d] for d in dims)
            q, mu = placeholder((len(QUANTILES),) + shape, np.float64), placeholder(shape, np.float64)
        else:
            q, mu = fan(values_of(m, s_idx))
        base = name.removeprefix("fleet_")
        meta = _attrs(base)
        ds[f"{name}_fan"] = (("quantile", "month", *dims), q, {**meta, "long_name": meta["long_name"] + f" (quantiles over the first {run.n_fan} paths)"})
        ds[f"{name}_mean"] = (("month", *dims), mu, {**meta, "long_name": meta["long_name"] + f" (mean over the first {run.n_fan} paths)"})

    if store in ("paths", "full"):
        if paths is not None:
            variables, path_coord = paths.variables(), paths.path_coordinate()
        else:
            variables = path_variables(model, store, scalars=run.scalars, inputs=run.inputs, posterior_index=run.posterior_index, monthly=run.monthly)
            path_coord = np.arange(run.n_paths)
        ds = ds.assign_coords(path=path_coord, input=[sp.name for sp in model.inputs])
        for name, (dims, values, attrs) in variables.items():
            if name == "posterior_sample":
                ds = ds.assign_coords(posterior_file=list(model.posterior_files))
            ds[name] = (dims, values, attrs)

    from engine.credit.results import add_credit_variables

    ds = add_credit_variables(ds, model, run, store)
    attrs = {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in prov.items()}
    attrs["resolved_scenario_toml"] = resolved_toml
    attrs["store"] = store
    attrs["fan_paths"] = int(run.n_fan)
    ds.attrs.update(attrs)
    return ds


def write_texts(folder: Path, *, summary: dict, resolved_toml: str) -> None:
    """summary.json and scenario.resolved.toml of a run folder (being filled: see ``write_results``)."""
    (folder / "summary.json").write_text(json_text(summary))
    (folder / "scenario.resolved.toml").write_text(resolved_toml + "\n")


def write_results(out: Path, *, dataset, summary: dict, resolved_toml: str, force: bool) -> None:
    """Write results.nc, summary.json and scenario.resolved.toml into ``out`` atomically.

    Everything is written into a temporary sibling directory which is renamed into place at the
    end, so a run killed half-way leaves no half-written results.
    """
    with atomic_dir(out, force=force) as tmp:
        write_netcdf(dataset, tmp / "results.nc")
        write_texts(tmp, summary=summary, resolved_toml=resolved_toml)


def netcdf_store(path: Path):
    """xarray's h5netcdf store of a new netCDF file at ``path`` (what ``Dataset.to_netcdf(engine="h5netcdf")``
    opens), with HDF5's lock only: one thread writes, and xarray's default write lock imports dask, where it is
    installed, to choose its kind (about a second)."""
    from xarray.backends import H5NetCDFStore
    from xarray.backends.locks import HDF5_LOCK

    return H5NetCDFStore.open(str(path), mode="w", format=None, lock=HDF5_LOCK)


def write_netcdf(dataset, path: Path) -> None:
    """``dataset.to_netcdf(path, engine="h5netcdf")`` through ``netcdf_store`` (NumPy-backed variables)."""
    from xarray.backends.writers import dump_to_store

    store = netcdf_store(path)
    try:
        dump_to_store(dataset, store)
    finally:
        store.close()
