"""``simulate``, ``summarize``, ``summary_dict`` and ``write``: a run as an xarray Dataset and back.

``simulate`` returns results.nc's Dataset (per-path results on the ``path`` dim, with ``units`` and
``long_name`` on every variable, provenance in ``attrs``); ``summary_dict`` gives summary.json's
statistics of a Dataset (recomputed from its per-path variables, so a selection of paths is
summarized as such); ``summarize`` lays the same numbers out as a tidy Dataset; ``write`` writes
the three files the CLI writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from engine.api.scenario import Scenario

_SUMMARY_ATTR = "summary_json"  # the run's summary.json text, kept on the Dataset simulate returns


def simulate(scenario: Scenario, *, paths: int | None = None, seed: int | None = None, store: str = "paths",
             chunk_paths: int | None = None, policy_range_paths: int = 0,
             progress: Callable[[int, int], None] | None = None):
    """Simulate ``scenario`` -> ``xarray.Dataset`` (results.nc's content).

    ``paths``/``seed`` default to the scenario's ``[run]``; ``store``: ``"paths"`` (per-path results,
    dims ``path`` x ``standard``/``cohort``/``fiscal_year``), ``"full"`` (also every path's monthly
    values, dim ``month``) or ``"summary"`` (fans and probabilities by month only). Same inputs and
    seed give the same numbers as ``rackrisk run`` (whatever ``chunk_paths``). ``policy_range_paths``
    > 0 also values the first paths under each alternative accounting policy (``summary_dict(ds)
    ["policy_range"]``). Raises ``ScenarioError`` on a bad ``paths``/``seed``/``store``.
    """
    from engine.api.configure import default_runtime
    from engine.app import run_scenario
    from engine.jsontext import json_text

    default_runtime()
    result = run_scenario(scenario.loaded, paths=paths, seed=seed, store=store, chunk_paths=chunk_paths, write=False,
                          progress=progress, policy_range_paths=policy_range_paths)
    ds = result.dataset()
    ds.attrs[_SUMMARY_ATTR] = json_text(result.summary)
    return ds


def _recorded(ds) -> dict | None:
    """The summary ``simulate`` kept on ``ds`` (None for a results.nc read from disk)."""
    text = ds.attrs.get(_SUMMARY_ATTR)
    return json.loads(text) if text is not None else None


def _from_attrs(ds) -> dict:
    """summary.json's ``provenance`` and ``run`` blocks from results.nc's attributes."""
    prov = {k: (json.loads(v) if isinstance(v, str) and v[:1] in "[{" else v) for k, v in ds.attrs.items()
            if k not in ("resolved_scenario_toml", "store", "fan_paths", "created_utc", "chunk_paths", _SUMMARY_ATTR)}
    return {"provenance": prov, "run": {"paths": int(ds.attrs.get("paths", 0)), "seed": int(ds.attrs.get("seed", 0)), "dtype": ds.attrs.get("dtype")}}


def _per_path_run(ds, model) -> SimpleNamespace:
    """The per-path arrays ``engine.summary.summarize`` reads, from ``ds`` (standards re-expanded to both slots)."""
    from engine.results import _SCALAR_DIMS, VAR_META
    from engine.summary import STANDARD_NAMES

    scalars = {}
    stds = [str(s) for s in ds["standard"].values]
    for name in list(VAR_META) + [v for v in ds.data_vars if str(v).startswith("credit_")]:
        if name not in ds.data_vars or "path" not in ds[name].dims or "month" in ds[name].dims or name == "input_value":
            continue
        arr = ds[name].values
        if _SCALAR_DIMS.get(name, ("cohort",))[0] == "standard":
            full = np.zeros((arr.shape[0], len(STANDARD_NAMES)) + arr.shape[2:], arr.dtype)
            for i, s in enumerate(stds):
                full[:, STANDARD_NAMES.index(s)] = arr[:, i]
            arr = full
        scalars[name] = arr
    monthly, n_fan = {}, int(ds.attrs.get("fan_paths", 0))
    if "fan_path" in ds.dims:  # credit fans: the quarter-end values of the first paths, at their months
        from engine.credit.summary import quarter_ends

        q_t, _ = quarter_ends(model.month_labels)
        n_fan = ds.sizes["fan_path"]
        for key in ("credit_dscr", "credit_ltv_frac", "credit_balance_usd"):
            if f"{key}_by_quarter" in ds:
                x = ds[f"{key}_by_quarter"].values
                full = np.full((x.shape[0], model.T, x.shape[2]), np.nan)
                full[:, [t - 1 for t in q_t], :] = x
                monthly[key] = full
    for key in ("credit_dscr", "credit_ltv_frac", "credit_balance_usd"):  # store = "full": every path's months
        if key in ds and "month" in ds[key].dims:
            monthly[key] = ds[key].values
            n_fan = ds.sizes["path"]
    return SimpleNamespace(scalars=scalars, monthly=monthly, n_fan=n_fan, n_paths=ds.sizes["path"])


def summary_dict(ds) -> dict:
    """summary.json's content for ``ds``: the statistics recomputed from its per-path variables (the
    same functions, so an unmodified ``simulate`` result gives summary.json's numbers exactly, and a
    selection such as ``ds.isel(path=slice(0, 1000))`` gives that selection's), with the run's
    provenance, accounting policy and policy range as recorded. A ``store="summary"`` Dataset has
    no per-path variables: its recorded summary is returned."""
    recorded = _recorded(ds)
    if "path" not in ds.dims or "first_impairment_month" not in ds:
        if recorded is None:
            raise ValueError("this Dataset has no per-path results (store = 'summary'): read its summary.json, or simulate with store='paths'")
        return recorded
    from engine.accounting.policy_range import policy_in_words
    from engine.compile import compile_model
    from engine.scenario.load import load_scenario_text
    from engine.summary import summarize as summarize_paths

    loaded = load_scenario_text(ds.attrs["resolved_scenario_toml"], name=str(ds.attrs.get("scenario_file", "scenario")))
    model = compile_model(loaded, allow_unconverged=True)  # the run already passed its posterior gate
    run = _per_path_run(ds, model)
    out = dict(recorded) if recorded is not None else _from_attrs(ds)
    out["run"] = {**out["run"], "paths": run.n_paths}
    out.update(summarize_paths(model, run, standards=model.standards))
    out.setdefault("accounting_policy", policy_in_words(loaded.scenario))
    if model.facilities:
        from engine.credit.summary import credit_summary

        out["credit"] = credit_summary(model, run)
    return out


def _flatten(node, prefix: str, out: list) -> None:
    if isinstance(node, dict):
        if "value" in node and not isinstance(node["value"], dict):
            out.append((prefix, node.get("value"), node.get("se")))
            return
        for k, v in node.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        out.append((prefix, node, None))


_STANDARDS = ("asc360", "ias36")


def _split_standard(key: str) -> tuple[str, str]:
    """``"p_impairment_asc360.horizon"`` -> (``"p_impairment.horizon"``, ``"asc360"``); keys naming no
    standard (or both, e.g. ``p_impaired_asc360_not_ias36``) -> (key, ``"none"``)."""
    parts = key.split(".")
    for i, p in enumerate(parts):
        for s in _STANDARDS:
            if p.endswith("_" + s) and not any(o in p for o in _STANDARDS if o != s):
                parts[i] = p.removesuffix("_" + s)
                return ".".join(parts), s
    return key, "none"


def summarize(ds):
    """summary.json's numbers as a tidy ``xarray.Dataset``: variables ``value`` and ``se`` (Monte
    Carlo standard error; NaN where none applies) on dims ``entity`` (``fleet``, each cohort, and with
    [financing] each facility and ``portfolio``) x ``statistic`` (the summary.json key with the
    standard taken out, e.g. ``p_material_impairment.by_fiscal_year.FY2027``) x ``standard``
    (``asc360``, ``ias36``, ``none`` for statistics of neither or both). Statistics that are dates
    (first-impairment month quantiles) are in ``summary_dict(ds)`` only. ``summarize(ds).to_dataframe()``
    gives the long table."""
    doc = summary_dict(ds)
    entities = {"fleet": doc["fleet"], **doc["cohorts"]}
    credit = doc.get("credit")
    if credit:
        entities.update({f"facility:{k}": v for k, v in credit["facilities"].items()})
        entities["portfolio"] = credit["portfolio"]
    return tidy(entities, attrs={"paths": doc["run"]["paths"], "seed": doc["run"]["seed"],
                                 "scenario_sha256": doc["provenance"].get("scenario_sha256", "")})


def tidy(entities: dict[str, dict], *, entity_dim: str = "entity", attrs: dict | None = None):
    """Nested statistics (summary.json's layout: ``{"value": v, "se": e}`` leaves, plain numbers
    too) of several entities -> an ``xarray.Dataset`` with ``value`` and ``se`` on dims
    ``entity_dim`` x ``statistic`` x ``standard`` (see ``summarize``); strings are left out."""
    import xarray as xr

    rows = []
    for ent, node in entities.items():
        flat: list = []
        _flatten(node, "", flat)
        for key, value, se in flat:
            stat, std = _split_standard(key)
            rows.append((str(ent), stat, std, value, se))
    ents = [str(e) for e in entities]
    stats = list(dict.fromkeys(r[1] for r in rows))
    stds = [s for s in (*_STANDARDS, "none") if any(r[2] == s for r in rows)]
    value = np.full((len(ents), len(stats), len(stds)), np.nan)
    se = np.full_like(value, np.nan)
    ei, si, di = ({k: i for i, k in enumerate(x)} for x in (ents, stats, stds))
    for ent, stat, std, v, e in rows:
        idx = (ei[ent], si[stat], di[std])
        value[idx] = np.nan if v is None else float(v)
        se[idx] = np.nan if e is None else float(e)
    dims = (entity_dim, "statistic", "standard")
    return xr.Dataset(
        {"value": (dims, value, {"long_name": "statistic's value (units in the statistic's name: _usd, _frac, _months; p_ = probability)"}),
         "se": (dims, se, {"long_name": "Monte Carlo standard error of value (NaN where none applies)"})},
        coords={entity_dim: ents, "statistic": stats, "standard": stds},
        attrs=dict(attrs or {}),
    )


def write(ds, out: str | Path, *, force: bool = False) -> Path:
    """Write ``ds`` as the CLI does: ``out/results.nc``, ``summary.json`` (``summary_dict(ds)``) and
    ``scenario.resolved.toml``, atomically (nothing half-written). ``FileExistsError`` when ``out``
    exists and ``force`` is false. Returns ``out``."""
    from engine.app import resolved_with_header
    from engine.outdir import check_out_dir
    from engine.results import write_results

    out = Path(out)
    check_out_dir(out, force)
    doc = summary_dict(ds)
    clean = ds.copy()
    clean.attrs = {k: v for k, v in ds.attrs.items() if k != _SUMMARY_ATTR}
    text = resolved_with_header(ds.attrs["resolved_scenario_toml"], engine_version=ds.attrs.get("engine_version", ""),
                                source=ds.attrs.get("scenario_file", ""), sha256=ds.attrs.get("scenario_sha256", ""))
    write_results(out, dataset=clean, summary=doc, resolved_toml=text, force=force)
    return out
