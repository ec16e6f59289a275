"""One sweep point: base scenario + overlay + seed -> (summary, Dataset). What a Dask worker runs.

The overlay is written as a scenario file that ``extends`` the base (absolute path), so it merges
exactly as a user's own ``extends`` file would, and is validated by the same loader.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from engine.scenario.toml_write import dumps


def write_point_file(base: str | Path, overlay: dict, directory: str | Path) -> Path:
    """A scenario file in ``directory`` that extends ``base`` with ``overlay``."""
    text = f"extends = {str(Path(base).resolve())!r}\n".replace("'", '"')
    if overlay:
        text += "\n" + dumps(overlay) + "\n"
    f = Path(tempfile.mkstemp(prefix="point-", suffix=".toml", dir=directory)[1])
    f.write_text(text)
    return f


def _flatten(d, prefix=()):
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _flatten(v, prefix + (k,))
    else:
        yield prefix, d


def summary_variables(summary: dict, cohorts: list[str]) -> dict:
    """summary.json's numbers as Dataset variables: name -> (dims, array).

    A leaf ``fleet/<stat>/.../value`` becomes ``fleet__<stat>__...`` and its ``se`` the same name +
    ``_se``; cohort statistics get a ``cohort`` dim (NaN where a cohort lacks the statistic).
    Text leaves (month labels) stay in summaries.json only.
    """
    out = {}
    for path, v in _flatten(summary.get("fleet", {})):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and path[-1] in ("value", "se"):
            name = "fleet__" + "__".join(path[:-1]) + ("_se" if path[-1] == "se" else "")
            out[name] = ((), np.float64(np.nan if v is None else v))
    per = {}
    for c_i, c in enumerate(cohorts):
        for path, v in _flatten(summary.get("cohorts", {}).get(c, {})):
            if isinstance(v, (int, float)) and not isinstance(v, bool) and path[-1] in ("value", "se"):
                name = "cohort__" + "__".join(path[:-1]) + ("_se" if path[-1] == "se" else "")
                per.setdefault(name, np.full(len(cohorts), np.nan))[c_i] = v
    for name, arr in per.items():
        out[name] = (("cohort",), arr)
    return out


def run_point(base: str, overlay: dict, seed: int, paths: int | None, store: str, chunk_paths: int | None = None):
    """Run one point; returns (summary dict, xarray.Dataset without per-run attributes)."""
    from engine.app import run_scenario
    from engine.results import build_dataset, provenance

    with tempfile.TemporaryDirectory(prefix="rackrisk-sweep-") as tmp:
        f = write_point_file(base, overlay, tmp)
        r = run_scenario(f, paths=paths, seed=seed, store=store, chunk_paths=chunk_paths, write=False)
        cfg = r.loaded.scenario.run
        prov = provenance(r.loaded, r.model, seed=seed, n_paths=cfg.paths, dtype=cfg.dtype, chunk_paths=r.chunk_paths)
        ds = build_dataset(r.model, r.run, store=store, prov=prov, resolved_toml=r.loaded.resolved_toml)
    for name, (dims, arr) in summary_variables(r.summary, list(r.model.cohorts)).items():
        ds[name] = (dims, arr)
    ds["scenario_sha256"] = ((), r.loaded.sha256)
    ds["resolved_scenario_toml"] = ((), r.loaded.resolved_toml)
    ds.attrs = {}
    summary = dict(r.summary)
    prov = dict(summary.get("provenance", {}))
    # the point file is a temporary: name what it was instead (the base and the overlay)
    prov["scenario_file"] = f"{Path(base).resolve()} + overlay"
    prov["scenario_files_read"] = [p for p in prov.get("scenario_files_read", []) if Path(p) != f.resolve()]
    prov["overlay"] = overlay
    summary["provenance"] = prov
    return summary, ds
