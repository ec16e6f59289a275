"""What `rackrisk run` writes: results.nc (labelled, with units and provenance), summary.json,
reproducibility (same seed -> same summary.json), and docs generated from the schema."""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path

import numpy as np
import xarray as xr

from engine.cli import main

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"


def test_run_writes_labelled_results_and_same_seed_same_summary(tmp_path, capsys):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert main(["run", str(BASELINE), "--paths", "1500", "--seed", "3", "--out", str(a), "--quiet", "--policy-range-paths", "0"]) == 0
    assert main(["run", str(BASELINE), "--paths", "1500", "--seed", "3", "--out", str(b), "--quiet", "--chunk-paths", "700", "--policy-range-paths", "0"]) == 0
    assert main(["run", str(BASELINE), "--paths", "1500", "--seed", "4", "--out", str(c), "--quiet", "--policy-range-paths", "0"]) == 0
    assert sorted(p.name for p in a.iterdir()) == ["results.nc", "scenario.resolved.toml", "summary.json"]
    sa, sb, sc = ((d / "summary.json").read_text() for d in (a, b, c))
    assert sa == sb  # same inputs and seed: byte-identical summary.json, whatever the chunk size
    assert sa != sc  # another seed: other numbers

    ds = xr.open_dataset(a / "results.nc", engine="h5netcdf")
    assert {"path", "month", "cohort"} <= set(ds.dims)
    assert ds.sizes["path"] == 1500 and ds.sizes["month"] == 60 and ds.sizes["cohort"] == 4
    assert list(ds["cohort"].values) == ["A100_2022", "H100_2023", "H200_2024", "B200_2025"]
    assert str(ds["month"].values[0])[:7] == "2026-01"
    for name, var in ds.data_vars.items():
        assert "units" in var.attrs and "long_name" in var.attrs, name
    for key in ("engine_version", "scenario_sha256", "seed", "dtype", "jax_version", "resolved_scenario_toml", "posterior_files"):
        assert key in ds.attrs, key
    summary = json.loads(sa)
    assert ds.attrs["scenario_sha256"] == summary["provenance"]["scenario_sha256"]
    # scenario.resolved.toml: a two-line header, then the resolved text whose sha256 both files record
    body = (a / "scenario.resolved.toml").read_text().split("\n\n", 1)[1].rstrip("\n")
    assert hashlib.sha256(body.encode()).hexdigest() == summary["provenance"]["scenario_sha256"]
    assert body == ds.attrs["resolved_scenario_toml"]
    # the per-path scalars in results.nc give the summary's numbers
    first = ds["first_impairment_month"].sel(standard="asc360").values  # (path, cohort)
    fleet_hit = (first > 0).any(axis=1)
    assert summary["fleet"]["p_impairment_asc360"]["horizon"]["value"] == fleet_hit.mean()
    loss = ds["impairment_loss_usd"].sel(standard="ias36", cohort="B200_2025").values.astype(np.float64)
    assert abs(summary["cohorts"]["B200_2025"]["expected_impairment_loss_usd_ias36"]["value"] - loss.mean()) <= 1e-9 * abs(loss.mean())
    # the fan of the fleet's probability of impairment is non-decreasing and ends at the horizon value
    p = ds["fleet_p_impaired_by_month"].sel(standard="asc360").values
    assert np.all(np.diff(p) >= 0) and p[-1] == summary["fleet"]["p_impairment_asc360"]["horizon"]["value"]
    # every headline figure carries a standard error
    for key in ("expected_impairment_loss_usd_asc360", "expected_impairment_loss_usd_ias36"):
        assert set(summary["fleet"][key]) == {"value", "se"}
    ye = summary["fleet"]["p_impairment_ias36"]["by_year_end"]
    assert list(ye) == ["2026", "2027", "2028", "2029", "2030"]
    out = capsys.readouterr().out
    assert "results written to" in out
    ds.close()


def test_store_summary_has_no_path_dim(tmp_path):
    out = tmp_path / "s"
    assert main(["run", str(ROOT / "scenarios" / "bench" / "reference.toml"), "--paths", "500", "--out", str(out), "--quiet", "--store", "summary"]) == 0
    ds = xr.open_dataset(out / "results.nc", engine="h5netcdf")
    assert "path" not in ds.dims and "month" in ds.dims and "cohort" in ds.dims
    ds.close()


def test_scenarios_doc_is_generated_from_the_schema():
    from engine.scenario.docs import render

    assert (ROOT / "docs" / "scenarios.md").read_text() == render(), "run `rackrisk schema-docs`"


def test_shipped_scenarios_validate(capsys):
    files = sorted(str(p) for p in (ROOT / "scenarios").rglob("*.toml"))
    assert len(files) >= 7
    assert main(["validate", *files]) == 0


def test_engine_never_imports_pymc_or_arviz():
    """`rackrisk run` must not pay for pymc/arviz imports: no module under engine/ imports them."""
    for path in (ROOT / "engine").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for n in names:
                assert n.split(".")[0] not in ("pymc", "arviz"), f"{path} imports {n}"


def test_run_does_not_import_pymc_or_arviz(tmp_path):
    """In a fresh interpreter, a whole `rackrisk run` leaves pymc, pytensor and arviz unimported."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from engine.cli import main\n"
        f"rc = main(['run', {str(ROOT / 'scenarios' / 'bench' / 'reference.toml')!r}, '--paths', '64', '--out', {str(tmp_path / 'o')!r}, '--quiet'])\n"
        "heavy = sorted(m for m in ('pymc', 'pytensor', 'arviz', 'numpyro') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
        "sys.exit(rc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout, out.stdout
