"""Read what the report presents: a run folder and, optionally, stress and sensitivity folders.

A run folder (``rackrisk run --out DIR``) holds ``summary.json``, ``results.nc`` and
``scenario.resolved.toml``. Stress (``rackrisk stress``) and sensitivity (``rackrisk sensitivity``)
folders are found from ``--stress`` / ``--sensitivity`` or, when not given, as the subfolders
``DIR/stress`` and ``DIR/sensitivity`` (docs/report.md). Anything missing or unreadable raises
``ScenarioError`` naming the file, before anything is written.
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import ScenarioError

RUN_FILES = ("summary.json", "results.nc", "scenario.resolved.toml")
SUMMARY_KEYS = ("provenance", "run", "fleet", "cohorts")
STRESS_PNG_PREFIX = "comparison_"
SENSITIVITY_PNGS = ("tornado.png", "gradients.png", "gradients_per_sd.png", "sobol.png")


@dataclass
class StressFolder:
    """A ``rackrisk stress`` folder: comparison.csv rows, comparison.json provenance, its PNGs (name -> bytes)."""

    path: Path
    rows: list[dict]
    provenance: dict
    pngs: dict[str, bytes]


@dataclass
class SensitivityFolder:
    """A ``rackrisk sensitivity`` folder: sensitivity.json and its PNGs (name -> bytes)."""

    path: Path
    doc: dict
    pngs: dict[str, bytes]


@dataclass
class RunFolder:
    """One run folder, read: ``ds`` is the loaded results.nc (xarray Dataset, in memory)."""

    path: Path
    summary: dict
    ds: object
    resolved_toml_text: str
    scenario: dict
    stress: StressFolder | None = None
    sensitivity: SensitivityFolder | None = None
    notes: list[str] = field(default_factory=list)


def _read_json(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ScenarioError(str(path), "", f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); the file is corrupt or was not written by rackrisk") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), "", f"cannot read the file ({type(exc).__name__}: {exc})") from None
    if not isinstance(doc, dict):
        raise ScenarioError(str(path), "", f"expected a JSON object, found {type(doc).__name__}")
    return doc


def _check_dir(path: Path, what: str, needed: tuple[str, ...], made_by: str) -> None:
    if not path.exists():
        raise ScenarioError(str(path), "", f"{what} folder not found")
    if not path.is_dir():
        raise ScenarioError(str(path), "", f"not a folder: give the {what} folder written by `{made_by}`")
    missing = [n for n in needed if not (path / n).is_file()]
    if missing:
        raise ScenarioError(str(path / missing[0]), "", f"missing: {path} is not a {what} folder (it needs {', '.join(needed)}, written by `{made_by}`)")


def load_run(path: str | Path, *, stress: str | Path | None = None, sensitivity: str | Path | None = None) -> RunFolder:
    """Read run folder ``path`` (and the stress / sensitivity folders); ScenarioError on bad input."""
    path = Path(path)
    _check_dir(path, "run", RUN_FILES, "rackrisk run")
    summary = _read_json(path / "summary.json")
    for key in SUMMARY_KEYS:
        if not isinstance(summary.get(key), dict):
            raise ScenarioError(str(path / "summary.json"), key, f"missing or not an object; a run's summary.json has the keys {', '.join(SUMMARY_KEYS)}")
    for key in ("cohorts", "standards", "paths", "seed", "start_month", "horizon_months"):
        if key not in summary["run"]:
            raise ScenarioError(str(path / "summary.json"), f"run.{key}", "missing; the summary.json was not written by `rackrisk run`")
    try:
        text = (path / "scenario.resolved.toml").read_text()
        scenario = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise ScenarioError(str(path / "scenario.resolved.toml"), "", f"not a readable TOML file ({exc})") from None
    ds = _read_results(path / "results.nc", summary)
    run = RunFolder(path=path, summary=summary, ds=ds, resolved_toml_text=text, scenario=scenario)
    stress_dir = Path(stress) if stress is not None else (path / "stress" if (path / "stress").is_dir() else None)
    sens_dir = Path(sensitivity) if sensitivity is not None else (path / "sensitivity" if (path / "sensitivity").is_dir() else None)
    if stress_dir is not None:
        run.stress = load_stress(stress_dir)
        note = stress_baseline_note(run, stress_dir)
        if note:
            run.notes.append(note)
    if sens_dir is not None:
        run.sensitivity = load_sensitivity(sens_dir)
        prov = run.sensitivity.doc.get("provenance", {})
        sha, file_ = prov.get("scenario_sha256"), prov.get("scenario_file")
        # its sha256 covers the file's own run.paths (sensitivity takes --paths separately), so a
        # different sha256 from the same scenario file is expected: only another file is flagged
        if sha and sha != summary["provenance"].get("scenario_sha256") and Path(str(file_)).name != Path(str(summary["provenance"].get("scenario_file"))).name:
            run.notes.append(f"The sensitivity analysis in {sens_dir} was run on a scenario (sha256 {sha[:12]}) other than this run's: "
                             "it describes that scenario, not this run.")
    return run


# [run] fields that say how many paths were drawn, from which seed and what was kept: not what the scenario is
RUN_SETTINGS = ("paths", "seed", "store", "chunk_paths", "fan_paths")


def scenario_fingerprint(resolved_toml: str) -> str:
    """sha256 of a resolved scenario (TOML text) without the ``[run]`` fields of RUN_SETTINGS: two runs of the
    same scenario with other path counts, seeds or stores have the same fingerprint (their sha256 differ)."""
    import hashlib

    data = tomllib.loads(resolved_toml)
    data["run"] = {k: v for k, v in data.get("run", {}).items() if k not in RUN_SETTINGS}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _stress_baseline_toml(prov: dict, run_toml: str) -> str | None:
    """The resolved scenario the stress baseline ran: the baseline file re-read with the comparison's
    --paths / --seed when that reproduces the recorded sha256 (the file is unchanged), else this run's
    scenario with them when that does; None when neither reproduces it."""
    import tempfile

    from engine.errors import ScenarioError
    from engine.scenario.load import load_scenario

    base = prov.get("baseline", {})
    sha, paths, seed = base.get("scenario_sha256"), prov.get("paths"), prov.get("seed")
    candidates = [base.get("file")]
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "run.resolved.toml"
        p.write_text(run_toml)
        candidates.append(str(p))
        for f in candidates:
            if not f or not Path(f).is_file():
                continue
            try:
                loaded = load_scenario(f, check_posteriors=False)
                for changes in ({"paths": paths, "seed": seed}, {}):
                    again = loaded.with_run_overrides(**changes)
                    if again.sha256 == sha:
                        return again.resolved_toml
            except (ScenarioError, OSError, ValueError):
                continue
    return None


def stress_baseline_note(run: RunFolder, stress_dir: Path) -> str | None:
    """A note when the stress folder's baseline is not this run: another scenario (compared without the
    run settings: path count, seed, store), or this scenario with another path count or seed; None when
    it is this very run."""
    prov = run.stress.provenance
    base_sha = prov.get("baseline", {}).get("scenario_sha256")
    mine = run.summary["provenance"].get("scenario_sha256")
    if not base_sha or base_sha == mine:
        return None
    other_toml = _stress_baseline_toml(prov, run.resolved_toml_text)
    if other_toml is None:
        return (f"The stress comparison in {stress_dir} was run against a baseline (sha256 {base_sha[:12]}) that cannot be matched to this run's "
                f"scenario (sha256 {str(mine)[:12]}): its baseline file has changed or is gone, so its numbers may not be this run's.")
    if scenario_fingerprint(other_toml) != scenario_fingerprint(run.resolved_toml_text):
        return (f"The stress comparison in {stress_dir} was run against a baseline scenario (sha256 {base_sha[:12]}) other than this run's "
                f"({str(mine)[:12]}), compared without the path count and seed: its numbers are not this run's.")
    r = run.summary["run"]
    diffs = [f"{what} {theirs:,} (this run: {ours:,})" for what, theirs, ours in (("paths", prov.get("paths"), r["paths"]), ("seed", prov.get("seed"), r["seed"]))
             if theirs is not None and theirs != ours]
    if not diffs:
        return None  # the same scenario, paths and seed: only the store or chunking differs
    return (f"The stress comparison in {stress_dir} ran this run's scenario with {' and '.join(diffs)}: the same scenario, "
            "so its baseline column is another Monte Carlo estimate of this run's figures and differs from them by sampling error only.")


def _read_results(path: Path, summary: dict):
    import xarray as xr

    try:
        with xr.open_dataset(path, engine="h5netcdf") as f:
            ds = f.load()
    except Exception as exc:  # any parse failure of a corrupt or non-netCDF file
        raise ScenarioError(str(path), "", f"not a readable netCDF results file ({type(exc).__name__}: {exc})") from None
    need = ("p_impaired_by_month", "fleet_p_impaired_by_month", "fleet_carrying_amount_usd_fan", "fleet_value_in_use_usd_fan", "price_usd_per_gpu_hour_fan")
    missing = [v for v in need if v not in ds.data_vars]
    if missing:
        raise ScenarioError(str(path), missing[0], "variable missing; the file was not written by `rackrisk run`")
    cohorts = [str(c) for c in ds["cohort"].values]
    if cohorts != list(summary["run"]["cohorts"]):
        raise ScenarioError(str(path), "cohort", f"cohorts {cohorts} differ from summary.json's run.cohorts {summary['run']['cohorts']}: the files are from different runs")
    return ds


def _pngs(path: Path, names) -> dict[str, bytes]:
    out = {}
    for name in names:
        p = path / name
        data = p.read_bytes()
        if not data.startswith(b"\x89PNG\r\n\x1a\n"):
            raise ScenarioError(str(p), "", "not a PNG image (the file is corrupt)")
        out[name] = data
    return out


def load_stress(path: Path) -> StressFolder:
    """A ``rackrisk stress`` output folder (comparison.csv, comparison.json, comparison_*.png)."""
    _check_dir(path, "stress", ("comparison.csv", "comparison.json"), "rackrisk stress")
    doc = _read_json(path / "comparison.json")
    try:
        rows = list(csv.DictReader(io.StringIO((path / "comparison.csv").read_text())))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ScenarioError(str(path / "comparison.csv"), "", f"not a readable CSV file ({exc})") from None
    need = {"scenario", "metric", "base", "stress", "delta", "se_delta_crn"}
    if not rows or not need <= set(rows[0]):
        raise ScenarioError(str(path / "comparison.csv"), "", f"expected a header with {', '.join(sorted(need))} and at least one row (written by `rackrisk stress`)")
    names = sorted(p.name for p in path.glob(f"{STRESS_PNG_PREFIX}*.png"))
    return StressFolder(path=path, rows=rows, provenance=doc.get("provenance", {}), pngs=_pngs(path, names))


def load_sensitivity(path: Path) -> SensitivityFolder:
    """A ``rackrisk sensitivity`` output folder (sensitivity.json and its PNGs)."""
    _check_dir(path, "sensitivity", ("sensitivity.json",), "rackrisk sensitivity")
    doc = _read_json(path / "sensitivity.json")
    names = [n for n in SENSITIVITY_PNGS if (path / n).is_file()]
    return SensitivityFolder(path=path, doc=doc, pngs=_pngs(path, names))


def posterior_attrs(files: dict[str, str]) -> list[dict]:
    """For each posterior file of the run (path -> SHA-256 recorded at run time): the fit's attributes.

    Read with xarray/h5netcdf (never arviz). ``status`` says whether the file on disk is still the
    one the run used (same SHA-256); when it is not, or it is gone, its attributes are not shown.
    """
    from engine.inputs.posterior import file_sha256

    out = []
    for p, sha in files.items():
        row = {"file": p, "sha256": sha, "status": "", "model": "", "as_of": "", "created_utc": "", "seed": "", "sampler": "", "gate": "", "data_sha256": {}}
        fp = Path(p)
        if not fp.is_file():
            row["status"] = "file no longer on disk"
        elif file_sha256(fp) != sha:
            row["status"] = "changed since the run (refitted?): its attributes are not the run's"
        else:
            import xarray as xr

            try:
                with xr.open_dataset(fp, engine="h5netcdf") as f:
                    a = dict(f.attrs)
            except Exception as exc:  # unreadable: say so on the page, do not fail the report
                row["status"] = f"unreadable ({type(exc).__name__})"
                out.append(row)
                continue
            row.update(status="as used by the run", model=str(a.get("model", "")), as_of=str(a.get("as_of", "")), created_utc=str(a.get("created_utc", "")),
                       seed=str(a.get("seed", "")), sampler=str(a.get("sampler", "")),
                       gate={1: "passed", 0: "FAILED"}.get(int(a["rackrisk_gate_passed"]), "") if "rackrisk_gate_passed" in a else "")
            try:
                row["data_sha256"] = json.loads(a.get("data_sha256", "{}"))
            except (TypeError, json.JSONDecodeError):
                row["data_sha256"] = {}
        out.append(row)
    return out
