"""Bad stress input: one line naming the file, the field (or CSV column / row) and what is allowed;
exit 2; nothing written. Same harness as tests/test_bad_input.py (`validate` and `run`), plus the
flags of the stress, reverse-stress and sensitivity commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main
from tests.test_bad_input import REF, Case, assert_rejected_cleanly


def shock(body: str) -> str:
    return REF + "[[stress.shock]]\n" + body + "\n"


def table(csv: str):
    def setup(d: Path) -> None:
        (d / "t.csv").write_text(csv)

    return setup


PT = REF + '[stress]\npath_table = "t.csv"\n'

CASES = [
    Case("shock_kind", shock('kind = "meteor"\nmonth = "2026-07"'), "stress.shock[0].kind", ("price_drop", "launch", "sofr")),
    Case("shock_no_date", shock('kind = "price_drop"\ndrop_frac = 0.2'), "stress.shock[0].month", ("exactly one of month", "quarter")),
    Case("shock_two_dates", shock('kind = "price_drop"\ndrop_frac = 0.2\nmonth = "2026-07"\nquarter = "2026-Q3"'), "stress.shock[0].month", ("exactly one",)),
    Case("shock_bad_quarter", shock('kind = "price_drop"\ndrop_frac = 0.2\nquarter = "2026-Q5"'), "stress.shock[0].quarter", ("YYYY-Qn",)),
    Case("shock_missing_size", shock('kind = "price_drop"\nmonth = "2026-07"'), "stress.shock[0].drop_frac", ("required", "price_drop")),
    Case("shock_wrong_field", shock('kind = "price_drop"\nmonth = "2026-07"\ndrop_frac = 0.2\nafr_mult = 2'), "stress.shock[0].afr_mult",
         ("does not apply", "drop_frac")),
    Case("shock_drop_range", shock('kind = "price_drop"\nmonth = "2026-07"\ndrop_frac = 1.5'), "stress.shock[0].drop_frac", ("less than 1",)),
    Case("shock_outside_run", shock('kind = "price_drop"\nmonth = "2035-01"\ndrop_frac = 0.2'), "stress.shock[0].month", ("outside the run", "2026-01")),
    Case("shock_unknown_gen", shock('kind = "price_drop"\nmonth = "2026-07"\ndrop_frac = 0.2\ngenerations = ["H900"]'), "stress.shock[0].generations",
         ("unknown generation", "H100")),
    Case("shock_gen_not_in_fleet", shock('kind = "utilization_hold"\nmonth = "2026-07"\nutilization_frac = 0.3\ngenerations = ["A100"]'),
         "stress.shock[0].generations", ("not a fleet generation", "H100")),
    Case("launch_not_newer", shock('kind = "launch"\ngeneration = "A100"\nmonth = "2026-07"\nundercut_frac = 0.3'), "stress.shock[0].generation",
         ("not newer",)),
    Case("launch_undercut_newer", shock('kind = "launch"\ngeneration = "B200"\nmonth = "2026-07"\nundercut_frac = 0.3\ngenerations = ["B200"]'),
         "stress.shock[0].generations", ("older than B200", "H100")),
    Case("sofr_no_financing", shock('kind = "sofr"\nmonth = "2026-07"\nsofr_shock_annual_frac = 0.02'), "stress.shock[0].kind", ("[financing]",)),
    Case("band_unknown_input", REF + '[[stress.band]]\ninput = "demand.nothing"\np = 0.1\nq = 0.2\n', "stress.band[0].input",
         ("not an input", "demand.utilization_frac")),
    Case("band_fixed_input", REF + '[[stress.band]]\ninput = "costs.pue"\np = 0.1\nq = 0.2\n', "stress.band[0].input", ("fixed", "uncertain")),
    Case("band_p_ge_q", REF + '[[stress.band]]\ninput = "demand.utilization_frac"\np = 0.5\nq = 0.2\n', "stress.band[0].q", ("must exceed p",)),
    Case("table_missing", PT, "stress.path_table", ("not found", "t.csv")),
    Case("table_no_quarter", PT, "quarter", ("missing column 'quarter'",), setup=table("date,utilization_frac\n2026-Q1,0.5\n"), extra=("t.csv",)),
    Case("table_unknown_column", PT, "power", ("unknown column", "price_index.<GEN>", "electricity_mult"), setup=table("quarter,power\n2026-Q1,1\n"),
         extra=("t.csv",)),
    Case("table_gen_not_in_fleet", PT, "price_index.A100", ("not in the fleet", "H100"), setup=table("quarter,price_index.A100\n2026-Q1,0.9\n"),
         extra=("t.csv",)),
    Case("table_not_number", PT, "row 2, column utilization_frac", ("not a number", "[0, 1]"), setup=table("quarter,utilization_frac\n2026-Q1,high\n"),
         extra=("t.csv",)),
    Case("table_out_of_range", PT, "row 3, column price_index.H100", ("outside the allowed range", "(0, inf)"),
         setup=table("quarter,price_index.H100\n2026-Q1,0.9\n2026-Q2,-1\n"), extra=("t.csv",)),
    Case("table_bad_quarter", PT, "row 2, column quarter", ("YYYY-Qn",), setup=table("quarter,utilization_frac\n2026-03,0.5\n"), extra=("t.csv",)),
    Case("table_quarter_order", PT, "row 3, column quarter", ("increasing",), setup=table("quarter,utilization_frac\n2026-Q2,0.5\n2026-Q1,0.5\n"),
         extra=("t.csv",)),
    Case("table_outside_run", PT, "row 2, column quarter", ("outside the run",), setup=table("quarter,utilization_frac\n2040-Q1,0.5\n"), extra=("t.csv",)),
    Case("table_ragged", PT, "row 2", ("cells", "header"), setup=table("quarter,utilization_frac\n2026-Q1,0.5,7\n"), extra=("t.csv",)),
    Case("table_sofr_no_financing", PT, "sofr_shock_annual_frac", ("[financing]",), setup=table("quarter,sofr_shock_annual_frac\n2026-Q1,0.01\n"),
         extra=("t.csv",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_stress_scenario(case: Case, tmp_path: Path, capsys) -> None:
    assert_rejected_cleanly(case, tmp_path, capsys)


@pytest.mark.parametrize(
    "argv, words",
    [
        (["stress", "{bad}", "--against", "{ref}", "--paths", "0"], ("--paths must be a positive integer",)),
        (["stress", "{bad}", "--against", "{ref}"], ("bad.toml", "stress.shock[0].drop_frac", "required")),
        (["reverse-stress", "{ref}", "--vary", "nope", "--threshold", "0.5"], ("--vary", "'nope' is not an input", "market.H100.decline_rate_per_month")),
        (["reverse-stress", "{ref}", "--vary", "demand.utilization_frac", "--threshold", "0.5", "--metric", "x"], ("--metric", "unknown metric 'x'")),
        (["reverse-stress", "{ref}", "--vary", "demand.utilization_frac", "--threshold", "0.5", "--range", "0.5", "2"], ("outside the allowed range", "[0, 1]")),
        (["reverse-stress", "{ref}", "--vary", "market.H100.price_usd_per_gpu_hour", "--threshold", "0.5"], ("--range is needed",)),
        (["reverse-stress", "{ref}", "--vary", "demand.utilization_frac", "--threshold", "nan"], ("--threshold must be a finite number",)),
        (["sensitivity", "{ref}", "--methods", "tornado,magic"], ("--methods", "magic", "tornado, gradients, sobol")),
        (["sensitivity", "{ref}", "--metric", "nope"], ("--metric", "unknown metric")),
        (["sensitivity", "{ref}", "--sobol-paths", "-3"], ("--sobol-paths must be a positive integer",)),
    ],
)
def test_bad_stress_flags(argv: list[str], words: tuple[str, ...], tmp_path: Path, capsys) -> None:
    ref = tmp_path / "ref.toml"
    ref.write_text(REF)
    bad = tmp_path / "bad.toml"
    bad.write_text(shock('kind = "price_drop"\nmonth = "2026-07"'))
    out = tmp_path / "out"
    rc = main([a.format(ref=ref, bad=bad) for a in argv] + ["--out", str(out)])
    o, err = capsys.readouterr()
    assert rc == 2 and "Traceback" not in o + err, (o, err)
    assert len(err.splitlines()) == 1 and err.startswith("rackrisk: error: "), err
    for w in words:
        assert w in err, (w, err)
    assert not out.exists()
