"""``rackrisk export`` and ``run --xlsx`` (engine/export/), and the report's stress-baseline check
(engine/report/load.py): a one-cohort scenario with one facility, 200 paths kept per path, a stress
comparison on 100 paths and a 40-path tornado beside it (docs/outputs.md "Spreadsheet output").

Every value compared is copied, never recomputed. openpyxl writes a float with 16 significant digits
('%.16g'; Excel itself keeps 15), so a workbook value equals summary.json's to a relative 1e-15 (the
16th digit rounded: at most 5e-16 relative); the CSV files (pandas, repr) hold every digit: exact.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from tests._util import ONE_FACILITY, write_scenario

FAC = ONE_FACILITY
STRESS = """title = "test stress: prices -35 % from 2026-Q2"
extends = "s.toml"
[[stress.shock]]
kind = "price_drop"
quarter = "2026-Q2"
drop_frac = 0.35
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from engine.cli import main

    d = tmp_path_factory.mktemp("export")
    s = write_scenario(d, horizon=24, life=60, capex=30000.0, price='{ dist = "lognormal", median = 2.0, sigma_log = 0.3 }', decline=0.0, vol=0.05, extra=FAC)
    (d / "st.toml").write_text(STRESS)
    run = d / "run"
    assert main(["run", str(s), "--paths", "200", "--out", str(run), "--quiet", "--xlsx", "--policy-range-paths", "0"]) == 0
    assert (run / "export" / "tables.xlsx").is_file()  # run --xlsx, before any stress folder exists
    # the same scenario with half the paths: the stress baseline is another estimate of this run
    assert main(["stress", str(d / "st.toml"), "--against", str(s), "--paths", "100", "--out", str(run / "stress")]) == 0
    import warnings

    with warnings.catch_warnings(record=True) as caught:  # a Sobol sample of 8 rows: before, NumPy RuntimeWarnings and no words
        warnings.simplefilter("always")
        assert main(["sensitivity", str(s), "--methods", "tornado,sobol", "--metric", "expected_impairment_loss_usd_asc360", "--paths", "40",
                     "--sobol-paths", "8", "--out", str(run / "sensitivity")]) == 0
    runtime = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert main(["export", str(run), "--xlsx", "--csv", "--out", str(d / "exported")]) == 0
    return d, run, d / "exported", runtime


def _sheets(path: Path) -> dict[str, list[tuple]]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


X = dict(rel=1e-15, abs=0.0)  # 16 significant digits (module docstring)


def _col(rows: list[tuple], name: str) -> list:
    i = rows[0].index(name)
    return [r[i] for r in rows[1:]]


def test_workbook_sheets_units_and_headline(folder):
    _, run, out, _ = folder
    wb = _sheets(out / "tables.xlsx")
    assert list(wb) == ["headline", "by_fiscal_year", "by_year_end", "by_cohort", "credit", "credit_by_quarter", "stress", "tornado", "paths",
                        "provenance", "scenario"]
    summary = json.loads((run / "summary.json").read_text())
    h = wb["headline"]
    # every numeric column of the headline names its unit
    for name in h[0]:
        assert name in ("standard", "material_counts", "any_loss_counts", "start_month", "horizon_months", "paths") or name.endswith(("_frac", "_usd")), name
    f = summary["fleet"]
    assert _col(h, "p_material_impairment_by_horizon_frac")[0] == pytest.approx(f["p_material_impairment_asc360"]["horizon"]["value"], **X)
    assert _col(h, "p_material_impairment_by_horizon_se_frac")[0] == pytest.approx(f["p_material_impairment_asc360"]["horizon"]["se"], **X)
    assert _col(h, "p_any_impairment_loss_by_horizon_frac")[0] == pytest.approx(f["p_impairment_asc360"]["horizon"]["value"], **X)
    assert _col(h, "expected_impairment_loss_usd")[0] == pytest.approx(f["expected_impairment_loss_usd_asc360"]["value"], **X)
    # in words, the horizon of this run (24 months from 2026-01: to 2027-12) and the asset group of its policy
    assert "at any impairment test from 2026-01 to 2027-12 (24 months)" in _col(h, "any_loss_counts")[0]
    assert _col(h, "material_counts")[0] == next(w for w in summary["accounting_policy"]["in_words"] if w.startswith("material impairment:"))
    fy = wb["by_fiscal_year"]
    assert _col(fy, "fiscal_year") == list(f["p_material_impairment_asc360"]["by_fiscal_year"])
    assert _col(fy, "p_material_impairment_in_year_frac") == pytest.approx([x["value"] for x in f["p_material_impairment_asc360"]["by_fiscal_year"].values()], **X)
    q = wb["credit_by_quarter"]
    port = [r for r in q[1:] if r[0] == "portfolio"]
    assert [r[1] for r in port] == summary["credit"]["quarters"]
    i = q[0].index("p_default_by_quarter_end_frac")
    assert [r[i] for r in port] == pytest.approx([summary["credit"]["portfolio"]["p_default"]["by_quarter"][k]["value"] for k in summary["credit"]["quarters"]], **X)
    c = wb["credit"]
    assert _col(c, "p_default_payment_frac")[0] + _col(c, "p_default_covenant_frac")[0] == pytest.approx(_col(c, "p_default_frac")[0], abs=1e-15)


def test_per_path_sheet_equals_results_nc(folder):
    import xarray as xr

    _, run, out, _ = folder
    p = _sheets(out / "tables.xlsx")["paths"]
    assert len(p) == 1 + 200  # header and one row a path
    with xr.open_dataset(run / "results.nc", engine="h5netcdf") as ds:
        np.testing.assert_allclose(np.array(_col(p, "impairment_loss_usd[asc360, c1] (USD)"), float), ds.impairment_loss_usd.sel(standard="asc360", cohort="c1").values, rtol=1e-15)
        np.testing.assert_array_equal(np.array(_col(p, "credit_default_cause[L] (code (0 = no default, 1 = payment shortfall, 2 = covenant breach without a cure left))"), float),
                                      ds.credit_default_cause.sel(facility="L").values)
        name = next(str(n) for n in ds.input.values if "price_usd_per_gpu_hour" in str(n))
        np.testing.assert_allclose(np.array(_col(p, f"input: {name}"), float), ds.input_value.sel(input=name).values, rtol=1e-15)


def test_stress_tornado_provenance_and_csv(folder):
    _, run, out, _ = folder
    wb = _sheets(out / "tables.xlsx")
    rows = list(csv.DictReader((run / "stress" / "comparison.csv").open()))
    st = wb["stress"]
    assert _col(st, "metric") == [r["metric"] for r in rows]
    assert _col(st, "delta (metric_unit)") == pytest.approx([float(r["delta"]) for r in rows], **X)
    units = dict(zip(_col(st, "metric"), _col(st, "metric_unit")))
    assert units["p_impairment_asc360"] == "fraction (probability)" and units["expected_impairment_loss_usd_asc360"] == "USD"
    doc = json.loads((run / "sensitivity" / "sensitivity.json").read_text())
    t = wb["tornado"]
    assert set(_col(t, "input")) == {r["input"] for r in doc["tornado"]["rows"]}
    prov = dict(zip(_col(wb["provenance"], "key"), _col(wb["provenance"], "value")))
    summary = json.loads((run / "summary.json").read_text())
    assert prov["summary.provenance.scenario_sha256"] == summary["provenance"]["scenario_sha256"]
    assert prov["summary.run.seed"] == summary["run"]["seed"]
    assert "\n".join(x or "" for x in _col(wb["scenario"], "scenario.resolved.toml")) == (run / "scenario.resolved.toml").read_text().rstrip("\n")
    # one CSV a table, the same tables
    assert sorted(p.stem for p in out.glob("*.csv")) == sorted(wb)
    head = list(csv.DictReader((out / "headline.csv").open()))
    assert list(head[0]) == list(wb["headline"][0])
    summary_v = summary["fleet"]["p_material_impairment_asc360"]["horizon"]["value"]
    assert float(head[0]["p_material_impairment_by_horizon_frac"]) == summary_v  # repr: every digit


def test_export_refuses_and_writes_nothing(folder, capsys):
    from engine.cli import main

    d, run, out, _ = folder
    assert main(["export", str(run), "--xlsx", "--out", str(out)]) == 2  # exists, no --force
    assert "exists; pass --force" in capsys.readouterr().err
    assert main(["export", str(run), "--out", str(d / "none")]) == 2  # no format
    assert "--xlsx, --csv" in capsys.readouterr().err and not (d / "none").exists()
    bad = d / "bad"
    bad.mkdir()
    (bad / "summary.json").write_text("{}")
    assert main(["export", str(bad), "--xlsx"]) == 2
    err = capsys.readouterr().err
    assert "results.nc" in err and "Traceback" not in err and not (bad / "export").exists()


def test_stress_baseline_with_other_paths_is_not_another_scenario(folder):
    # before: the stress folder's baseline sha256 (100 paths) differs from the run's (200 paths) and the
    # report said "run against a baseline scenario other than this run's"; now the scenario is compared
    # without the path count and seed, and the path counts are named apart
    from engine.report.load import load_run

    _, run, _, _ = folder
    notes = load_run(run).notes
    assert not any("other than this run's" in n for n in notes)
    assert any("paths 100 (this run: 200)" in n and "same scenario" in n for n in notes)


def test_stress_baseline_of_another_scenario_is_flagged(folder, tmp_path):
    # the stress folder re-pointed at another scenario (price median 2.5, not 2.0) with that scenario's
    # real sha256 at the comparison's paths and seed: flagged as another scenario
    import shutil

    from engine.report.load import load_run
    from engine.scenario.load import load_scenario

    d, run, _, _ = folder
    other = write_scenario(tmp_path, "other.toml", horizon=24, life=60, capex=30000.0, price='{ dist = "lognormal", median = 2.5, sigma_log = 0.3 }',
                           decline=0.0, vol=0.05, extra=FAC)
    st = tmp_path / "stress"
    shutil.copytree(run / "stress", st)
    doc = json.loads((st / "comparison.json").read_text())
    prov = doc["provenance"]
    prov["baseline"] = {"file": str(other), "scenario_sha256": load_scenario(other, check_posteriors=False).with_run_overrides(paths=prov["paths"], seed=prov["seed"]).sha256}
    (st / "comparison.json").write_text(json.dumps(doc))
    notes = load_run(run, stress=st).notes
    assert any("other than this run's" in n and "without the path count and seed" in n for n in notes)


def test_small_sobol_sample_warns_in_words(folder):
    # `sensitivity --sobol-paths 8`: the indices come with sentences saying the sample is too small and
    # which --sobol-paths would do, and NumPy raises no RuntimeWarning on the way
    _, run, _, runtime = folder
    doc = json.loads((run / "sensitivity" / "sensitivity.json").read_text())
    w = doc["sobol"]["metrics"]["expected_impairment_loss_usd_asc360"]["warnings"]
    assert any("N = 8 rows is a small Sobol sample" in x for x in w) or any("does not vary" in x for x in w)
    assert not runtime, runtime
