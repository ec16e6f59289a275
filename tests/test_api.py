"""The Python API (engine/api, docs/api.md): the same numbers as the CLI's run, from a Dataset.

Numbers here are compared for exact equality with the CLI's own function (``engine.app.run_scenario``)
on the same seed and paths: the API adds no arithmetic of its own, so any difference is a bug.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import Scenario, simulate, summarize, summary_dict, write
from engine.errors import ScenarioError
from engine.jsontext import json_text
from tests._util import write_scenario

ROOT = Path(__file__).resolve().parents[1]
PATHS = 600


@pytest.fixture(scope="module")
def one(tmp_path_factory):
    """The one-cohort test scenario (tests/_util.py), two standards."""
    return Scenario.from_toml(write_scenario(tmp_path_factory.mktemp("api"), standards='["asc360", "ias36"]'))


@pytest.fixture(scope="module")
def ds_one(one):
    return simulate(one, paths=PATHS)


def _stats(doc: dict) -> str:
    return json_text({k: doc[k] for k in ("fleet", "cohorts")})


def test_summary_of_the_dataset_is_the_runs_summary(one, ds_one):
    from engine.app import run_scenario

    direct = run_scenario(one.loaded, paths=PATHS, write=False).summary
    assert _stats(summary_dict(ds_one)) == _stats(direct)
    assert summary_dict(ds_one)["run"]["paths"] == PATHS


def test_a_selection_of_paths_is_the_smaller_run(one, ds_one):
    # paths are keyed by index: the first 300 of a 600-path run are a 300-path run with the same seed
    assert _stats(summary_dict(ds_one.isel(path=slice(0, 300)))) == _stats(summary_dict(simulate(one, paths=300)))


def test_summarize_lays_out_the_same_numbers(ds_one):
    doc, table = summary_dict(ds_one), summarize(ds_one)
    assert set(table.dims) == {"entity", "statistic", "standard"}
    assert list(table.entity.values) == ["fleet", "c1"]
    cell = table.sel(entity="fleet", statistic="p_material_impairment.horizon", standard="ias36")
    assert cell.value.item() == doc["fleet"]["p_material_impairment_ias36"]["horizon"]["value"]
    assert cell.se.item() == doc["fleet"]["p_material_impairment_ias36"]["horizon"]["se"]
    npv = table.sel(entity="c1", statistic="npv_usd.mean", standard="none")
    assert npv.value.item() == doc["cohorts"]["c1"]["npv_usd"]["mean"]["value"]
    # a statistic of neither standard has no ASC 360 entry
    assert np.isnan(table.sel(entity="c1", statistic="npv_usd.mean", standard="asc360").value.item())


def test_write_then_read_back(ds_one, tmp_path):
    import xarray as xr

    out = write(ds_one, tmp_path / "run")
    on_disk = json.loads((out / "summary.json").read_text())
    assert _stats(on_disk) == _stats(summary_dict(ds_one))
    assert (out / "scenario.resolved.toml").read_text().splitlines()[1].endswith(ds_one.attrs["scenario_sha256"])
    with xr.open_dataset(out / "results.nc") as back:  # no recorded summary: recomputed from the file
        assert _stats(summary_dict(back)) == _stats(on_disk)
    with pytest.raises(FileExistsError):
        write(ds_one, out)


def test_overrides_are_the_edited_file(tmp_path, one):
    edited = Scenario.from_toml(write_scenario(tmp_path, standards='["asc360", "ias36"]', decline=0.02, units=250))
    over = one.with_overrides({"market.H100.decline_rate_per_month": 0.02, "fleet.cohort.c1.units": 250})
    assert over.sha256 == edited.sha256
    assert one.config.fleet.cohort[0].units == 100  # the original is unchanged
    assert one.with_overrides({"fleet.cohort[0].units": 250, "market.H100.decline_rate_per_month": 0.02}).sha256 == edited.sha256


@pytest.mark.parametrize("key, value, says", [
    ("market.H100.decline_rate_per_mont", 0.02, "unknown key"),
    ("fleet.cohort.c9.units", 5, "items: c1"),
    ("run.paths.x", 1, "is a value"),
    ("fleet.cohort[0].units", -5, "greater than 0"),
])
def test_bad_overrides_name_the_field(one, key, value, says):
    with pytest.raises(ScenarioError) as exc:
        one.with_overrides({key: value})
    assert key.split(".")[0] in exc.value.field and says in exc.value.message


def test_text_and_dict_sources_are_the_file():
    import tomllib

    path = ROOT / "scenarios" / "baseline.toml"
    s = Scenario.from_toml(path)
    assert Scenario.from_toml(path.read_text(), base_dir=path.parent).sha256 == s.sha256
    assert Scenario.from_dict(tomllib.loads(path.read_text()), base_dir=path.parent).sha256 == s.sha256
    with pytest.raises(ScenarioError, match="TOML syntax error"):
        Scenario.from_toml("[run\nx = 1")


def test_importing_the_api_starts_no_jax():
    code = "import sys; from engine import Scenario, simulate; print('jax' in sys.modules, 'pymc' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout.split()
    assert out == ["False", "False"]


def _python_blocks(md: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", md, flags=re.S)


def test_docs_example_runs(monkeypatch):
    """docs/api.md's five-line example, executed as written (from the repository root)."""
    monkeypatch.chdir(ROOT)
    code = _python_blocks((ROOT / "docs" / "api.md").read_text())[0]
    assert len([ln for ln in code.splitlines() if ln.strip()]) <= 5
    ns: dict = {}
    exec(compile(code, "docs/api.md", "exec"), ns)
    assert 0.0 <= ns["table"].value.sel(entity="fleet", standard="asc360", statistic="p_material_impairment.horizon").item() <= 1.0
    assert ns["ds"].sizes["path"] == 1000


def test_example_notebook_executes(monkeypatch):
    """docs/examples/api_walkthrough.ipynb: every code cell, in order, in one namespace."""
    monkeypatch.chdir(ROOT)
    nb = json.loads((ROOT / "docs" / "examples" / "api_walkthrough.ipynb").read_text())
    ns: dict = {}
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert cells
    for i, cell in enumerate(cells):
        exec(compile("".join(cell["source"]), f"api_walkthrough.ipynb[{i}]", "exec"), ns)
    assert list(ns["headline"].index.names) == ["statistic", "standard"]
    assert any(line.startswith("asset group: ") for line in ns["summary_dict"](ns["ds"])["accounting_policy"]["in_words"])


def test_stress_as_a_dataset(one):
    from engine.api import stress

    cheaper = one.with_overrides({"market.H100.price_usd_per_gpu_hour": 1.5})
    res = stress(one, [cheaper], paths=300)
    assert set(res.dims) == {"scenario", "metric"}
    assert list(res.scenario.values) == [one.name]
    row = res.sel(scenario=one.name)
    # delta is the mean of the paired per-path differences: the difference of the means up to float64 rounding
    np.testing.assert_allclose(row.delta.values, (row.stress - row.base).values, rtol=1e-12, atol=1e-6)
    # a lower rental price lowers the NPV on every path (same paths: common random numbers)
    assert row.delta.sel(metric="expected_npv_usd").item() < 0


def test_sensitivity_as_a_dataset(one):
    from engine.api import sensitivity

    uncertain = one.with_overrides({"market.H100.price_usd_per_gpu_hour": {"dist": "uniform", "low": 1.6, "high": 2.4},
                                    "market.H100.decline_rate_per_month": {"dist": "uniform", "low": 0.005, "high": 0.015}})
    res = sensitivity(uncertain, methods=("tornado",), metric="expected_npv_usd", paths=200)
    assert set(res["tornado_swing"].dims) == {"input", "metric"}
    # the swing is |at p90 - at p10| (engine/sensitivity/tornado.py), exactly
    np.testing.assert_array_equal(res.tornado_swing.values, np.abs(res.tornado_at_p90 - res.tornado_at_p10).values)
    # a higher rental price (p90 above p10) raises the NPV on the same paths
    price = res.sel(input="market.H100.price_usd_per_gpu_hour", metric="expected_npv_usd")
    assert price.tornado_at_p90.item() > price.tornado_at_p10.item()
