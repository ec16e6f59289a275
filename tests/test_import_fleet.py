"""`rackrisk import-fleet` (a fleet table -> a scenario) and `rackrisk new --template` (issue 20).

Before these commands a company's cohorts had to be typed into TOML by hand. The tests load
scenarios only (nothing is simulated): the round trip table -> scenario -> `rackrisk validate`, every
bad cell reported on its own line with nothing written, xlsx equal to CSV, and each template valid.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from engine.cli import main

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "scenarios" / "examples" / "fleet_example.csv"
FACILITIES = REPO / "scenarios" / "examples" / "facilities_example.csv"


def test_example_table_round_trip(tmp_path, capsys):
    """CSV -> scenario -> validate: one cohort per row with the row's values, contract terms per generation, the
    facility from the second table; the written file validates with the sha256 import-fleet reported."""
    from engine.scenario.load import load_scenario

    out = tmp_path / "fleet.toml"
    assert main(["import-fleet", str(EXAMPLE), "--facilities", str(FACILITIES), "--out", str(out)]) == 0
    o, err = capsys.readouterr()
    assert err == "", err  # the example's values are inside every plausible range
    s = load_scenario(out).scenario
    rows = list(csv.DictReader(EXAMPLE.open()))
    assert [c.name for c in s.fleet.cohort] == [r["name"] for r in rows]
    for c, r in zip(s.fleet.cohort, rows):
        assert (c.generation, c.purchase_month, c.units, c.capex_usd_per_gpu, c.useful_life_months, c.kw_per_gpu, c.site) == (
            r["generation"], r["purchase_month"], int(r["units"]), float(r["capex_usd_per_gpu"]), int(r["useful_life_months"]),
            float(r["kw_per_gpu"]), r["site"])
    assert s.market["B200"].contract_term_months == 48 and s.market["H100"].contract_price_usd_per_gpu_hour == 3.37
    assert [f.name for f in s.financing.facility] == ["B200_term_loan"] and s.financing.facility[0].covenants.min_dscr == 1.25
    assert s.financing.facility[0].principal_usd == 0.70 * 4000 * 48300  # the row's principal: 70 % of B200_2025's capex
    assert main(["validate", str(out)]) == 0
    sha = load_scenario(out).sha256
    assert f"sha256 {sha[:12]}" in o and f"sha256 {sha[:12]}" in capsys.readouterr().out
    text = out.read_text()
    assert "# row 3: purchase: LT 2023-06-30" in text  # the source column kept as a comment
    assert 'replace = ["fleet", "financing"]' in text


def test_bad_cells_each_reported_nothing_written(tmp_path, capsys):
    """Every bad cell on its own line, FILE: row N, column X: message (allowed: ...); exit 2; no file."""
    table = tmp_path / "fleet.csv"
    table.write_text(
        "name,generation,purchase_month,units,capex_usd_per_gpu,useful_life_months,kw_per_gpu,contracted_frac\n"
        "a,H100,2024-01,100,30000,60,1.2,0.5\n"
        "b,H1000,2024-13,ten,-5,60,9,\n"
        "c,H100,2024-06,100,30000,60,1.2,0.4\n"
        "a,B200,2025-01,10,40000,60,1.5,\n"
    )
    out = tmp_path / "s.toml"
    assert main(["import-fleet", str(table), "--out", str(out)]) == 2
    o, err = capsys.readouterr()
    lines = err.splitlines()
    f = str(table)
    expected = [
        f"{f}: row 3, column units: not a number: 'ten' (allowed: a whole number > 0)",
        f"{f}: row 3, column generation: unknown generation 'H1000' (allowed: A100, H100, H200, B200, GB200, B300, GB300, Rubin, RubinUltra, Feynman)",
        f"{f}: row 3, column purchase_month: expected a month as \"YYYY-MM\", got '2024-13' (allowed: a month YYYY-MM (or a date))",
        f"{f}: row 3, column capex_usd_per_gpu: Input should be greater than 0, got -5.0 (allowed: a number > 0)",
        f"{f}: row 3, column kw_per_gpu: Input should be less than or equal to 5, got 9.0 (allowed: a number > 0 and <= 5)",
        f"{f}: row 4, column contracted_frac: 0.4 differs from 0.5 on row 2",
        f"{f}: row 5, column name: 'a' is the name of row 2 too (cohort names must be unique)",
    ]
    assert len(lines) == len(expected), err
    for line, want in zip(lines, expected):
        assert line.startswith("rackrisk: error: " + want), (line, want)
    assert "Traceback" not in o + err and not out.exists()


def test_unknown_column_did_you_mean_and_missing_column(tmp_path, capsys):
    table = tmp_path / "fleet.csv"
    table.write_text("name,generation,purchase_month,units,capex_usd_per_gpu,useful_life_month,kw_per_gpu\na,H100,2024-01,100,30000,60,1.2\n")
    assert main(["import-fleet", str(table)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2, err  # the missing column is not also reported on every row
    assert "row 1, column useful_life_month: unknown column; did you mean 'useful_life_months'?" in err[0]
    assert "row 1: missing required column(s) useful_life_months" in err[1]


def test_cross_field_problem_names_row_and_column(tmp_path, capsys):
    """A rule checked on the whole scenario (the purchase after the baseline's horizon, 2026-01 .. 2030-12) is
    reported at the row and column of the cohort that breaks it."""
    table = tmp_path / "fleet.csv"
    table.write_text("name,generation,purchase_month,units,capex_usd_per_gpu,useful_life_months,kw_per_gpu\n"
                     "a,H100,2024-01,100,30000,60,1.2\nb,H100,2034-01,100,30000,60,1.2\n")
    assert main(["import-fleet", str(table), "--out", str(tmp_path / "s.toml")]) == 2
    err = capsys.readouterr().err
    assert f"{table}: row 3, column purchase_month: 2034-01 is after the horizon (the run covers 2026-01 to 2030-12)" in err, err
    assert not (tmp_path / "s.toml").exists()


def test_existing_out_needs_force(tmp_path, capsys):
    out = tmp_path / "s.toml"
    out.write_text("keep me")
    assert main(["import-fleet", str(EXAMPLE), "--out", str(out)]) == 2
    assert out.read_text() == "keep me" and "--force" in capsys.readouterr().err
    assert main(["import-fleet", str(EXAMPLE), "--out", str(out), "--force"]) == 0 and "[[fleet.cohort]]" in out.read_text()


def test_xlsx_equals_csv(tmp_path):
    """The same table as a workbook (numbers as numbers, months as dates, the facilities on a sheet named
    'facilities') gives the same scenario (sha256) as the CSVs."""
    import datetime as dt

    openpyxl = pytest.importorskip("openpyxl")
    from engine.scenario.fleet_table import import_fleet

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "fleet"
    for i, row in enumerate(csv.reader(EXAMPLE.open())):
        if i:
            row = [float(x) if x.replace(".", "", 1).isdigit() else x for x in row]
            row[2] = dt.datetime(int(row[2][:4]), int(row[2][5:7]), 1)  # a date cell, as a spreadsheet holds a month
        ws.append(row)
    fs = wb.create_sheet("facilities")
    for row in csv.reader(FACILITIES.open()):
        fs.append(row)
    book = tmp_path / "fleet.xlsx"
    wb.save(book)
    out = tmp_path / "s.toml"
    _, from_csv = import_fleet(EXAMPLE, out=out, facilities=FACILITIES, title="t")  # the default title names the table file
    _, from_xlsx = import_fleet(book, out=out, title="t")
    assert from_xlsx.sha256 == from_csv.sha256


@pytest.mark.parametrize("name", ["neocloud", "lender", "buyer"])
def test_new_template_validates_without_warnings(tmp_path, capsys, name):
    """Each template writes a commented scenario that `rackrisk validate` accepts with no plausibility warning."""
    out = tmp_path / "sub" / f"{name}.toml"
    out.parent.mkdir()
    assert main(["new", "--template", name, "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["validate", str(out)]) == 0
    o, err = capsys.readouterr()
    assert err == "" and "ok (" in o, err
    text = out.read_text()
    assert text.count("#") > 20 and "extends = \"../../" in text  # commented; extends the shipped baseline, relative to the file
    from engine.scenario.load import load_scenario

    s = load_scenario(out).scenario
    assert all(not c.name.startswith(("A100_2022", "H100_2023")) for c in s.fleet.cohort)  # the baseline's cohorts are replaced
    if name == "lender":
        assert s.financing is not None and s.financing.facility[0].principal_usd == pytest.approx(0.70 * (4000 * 45700 + 4000 * 48300), rel=1e-12)  # float rounding only


def test_new_refuses_existing_file(tmp_path, capsys):
    out = tmp_path / "s.toml"
    out.write_text("mine")
    assert main(["new", "--template", "buyer", "--out", str(out)]) == 2
    assert out.read_text() == "mine" and "exists" in capsys.readouterr().err
