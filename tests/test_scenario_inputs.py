"""Getting a company in (issue 20): --set on the command line, one parser for path counts and for
quarters, plan tranches in the scenario's names, "did you mean" for unknown keys, plausibility
warnings, and no engine.inputs.band <-> engine.inputs.distributions import circle.

Each test states the behaviour before the change it guards (which it would fail on). All but one
only load scenarios (no simulation); ``test_run_with_set_equals_run_of_edited_file`` simulates
64 paths of a one-cohort scenario twice.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.errors import ScenarioError
from tests._util import write_scenario

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------ --set
def test_set_gives_the_sha256_of_the_file_edited_the_same_way(tmp_path, capsys):
    """Before: `rackrisk validate` had no --set (argparse refused it, exit 2). Now the override enters the
    resolved scenario: the same sha256 as a file with the value edited in."""
    from engine.scenario.load import load_scenario

    base = write_scenario(tmp_path, name="base.toml", price=2.0, life=24)
    edited = write_scenario(tmp_path, name="edited.toml", price=2.5, life=36)
    a = load_scenario(base, overrides={"market.H100.price_usd_per_gpu_hour": 2.5, "fleet.cohort.c1.useful_life_months": 36})
    b = load_scenario(edited)
    assert a.sha256 == b.sha256 and a.sha256 != load_scenario(base).sha256
    assert main(["validate", str(base), "--set", "market.H100.price_usd_per_gpu_hour=2.5", "--set", "fleet.cohort.c1.useful_life_months=36"]) == 0
    out = capsys.readouterr().out
    assert f"sha256 {b.sha256[:12]}" in out, out


@pytest.mark.parametrize(
    ("arg", "words"),
    [
        ("costs.electricity_usd_per_kwhh=0.1", ("costs.electricity_usd_per_kwhh", "did you mean 'electricity_usd_per_kwh'")),
        ("fleet.cohort.c9.units=5", ("no item of fleet.cohort has name = 'c9'", "items: c1")),
        ("market.H100.price_usd_per_gpu_hour=-1", ("market.H100.price_usd_per_gpu_hour",)),
        ("no_equals_sign", ("expected KEY=VALUE",)),
    ],
)
def test_set_bad_key_or_value_is_one_clear_line(tmp_path, capsys, arg, words):
    base = write_scenario(tmp_path, name="base.toml")
    out = tmp_path / "out"
    try:
        code = main(["run", str(base), "--paths", "64", "--out", str(out), "--set", arg])
    except SystemExit as e:  # argparse: a --set without "=" is refused while parsing
        code = e.code
    assert code == 2
    o, err = capsys.readouterr()
    lines = [x for x in err.splitlines() if x.strip() and not x.startswith("usage:") and not x.startswith(" ")]
    assert "Traceback" not in o + err and len(lines) == 1, err
    for w in words:
        assert w in err, err
    assert not out.exists()


def test_run_with_set_equals_run_of_edited_file(tmp_path):
    """A run with --set and a run of the file edited the same way give the same summary (and sha256); the
    overrides are listed in summary.json's provenance. 64 paths, same seed: equal to the last bit (same inputs)."""
    base = write_scenario(tmp_path, name="base.toml", horizon=12, life=12, dtype="float32")
    edited = write_scenario(tmp_path, name="edited.toml", horizon=12, life=12, dtype="float32", util=0.8)
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", str(base), "--paths", "64", "--out", str(a), "--quiet", "--policy-range-paths", "0", "--set", "demand.utilization_frac=0.8"]) == 0
    assert main(["run", str(edited), "--paths", "64", "--out", str(b), "--quiet", "--policy-range-paths", "0"]) == 0
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (a, b))
    pa, pb = sa.pop("provenance"), sb.pop("provenance")
    assert pa["scenario_sha256"] == pb["scenario_sha256"]
    assert pa["overrides"] == {"demand.utilization_frac": 0.8} and "overrides" not in pb
    assert sa == sb


def test_run_prints_plausibility_warnings_and_goes_ahead(tmp_path, capsys):
    """Before: `rackrisk run` said nothing about capex $40 a GPU. Now one warning line on stderr, before the run,
    which still completes (a warning is not an error). 16 paths: only the exit status and the message matter."""
    base = write_scenario(tmp_path, name="base.toml", horizon=12, life=24, dtype="float32")  # a 24-month life: the shortest in the data
    out = tmp_path / "out"
    assert main(["run", str(base), "--paths", "16", "--out", str(out), "--quiet", "--policy-range-paths", "0",
                 "--set", "fleet.cohort.c1.capex_usd_per_gpu=40"]) == 0
    err = capsys.readouterr().err
    assert err.count("rackrisk: warning:") == 1 and "field 'fleet.cohort.c1.capex_usd_per_gpu': 40 is outside the plausible range" in err, err
    assert (out / "summary.json").exists()


# ------------------------------------------------------------------------------------------ path counts
@pytest.mark.parametrize(("text", "n"), [("1e5", 100_000), ("100_000", 100_000), ("100k", 100_000), ("2.5e5", 250_000), ("1M", 1_000_000), ("64", 64)])
def test_path_counts_in_any_exact_spelling(text, n):
    """Before: argparse type=int refused "1e5" and "100k" (it accepted "100_000", as int() does)."""
    from engine.cli.argtypes import parse_path_count

    assert parse_path_count(text) == n


@pytest.mark.parametrize("text", ["1.5e0", "2.5", "0.0001k", "abc", "nan", "inf"])
def test_path_count_that_is_not_whole_is_refused(text):
    from engine.cli.argtypes import parse_path_count

    with pytest.raises(ValueError, match="whole number"):
        parse_path_count(text)


def test_paths_flag_refuses_non_whole_with_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        main(["run", str(REPO / "scenarios" / "baseline.toml"), "--paths", "1.5e0"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "argument --paths: a number of paths must be a whole number, got '1.5e0' (= 1.5)" in err, err


def test_paths_1e5_is_accepted_by_every_command():
    """--paths takes the one parser in run, stress, reverse-stress, sensitivity, capex-check, compare-lives, impairment-backtest."""
    from engine.cli import _parser

    p = _parser()
    cases = [["run", "s.toml"], ["stress", "s.toml", "--against", "b.toml"], ["reverse-stress", "s.toml", "--vary", "x", "--threshold", "0.5"],
             ["sensitivity", "s.toml"], ["capex-check", "p.toml"], ["compare-lives", "s.toml"], ["impairment-backtest", "--as-of", "2024-12", "--out", "o"]]
    for argv in cases:
        assert p.parse_args([*argv, "--paths", "1e5"]).paths == 100_000, argv


# ------------------------------------------------------------------------------------------ quarters
def test_one_quarter_parser_both_spellings():
    """Before: stress files took only "2026-Q2", capex plans only "2026Q2"."""
    from engine.capex.plan import quarter_first_month as plan_month
    from engine.scenario.schema import quarter_first_month, quarter_label

    assert quarter_first_month("2026-Q2") == quarter_first_month("2026Q2") == 2026 * 12 + 3  # April = month index 3
    assert quarter_label("2026Q3") == "2026-Q3"
    assert plan_month("2026-Q2") == plan_month("2026Q2") == "2026-04"
    for bad in ("2026Q5", "2026-Q0", "26Q1", "2026 Q1"):
        with pytest.raises(ValueError, match="YYYY-Qn"):
            quarter_first_month(bad)


def test_stress_shock_accepts_compact_quarter_with_the_same_sha(tmp_path):
    from engine.scenario.load import load_scenario

    shock = '[[stress.shock]]\nkind = "price_drop"\nquarter = "{q}"\ndrop_frac = 0.2\n'
    a = load_scenario(write_scenario(tmp_path, name="a.toml", extra=shock.format(q="2026-Q3")))
    b = load_scenario(write_scenario(tmp_path, name="b.toml", extra=shock.format(q="2026Q3")))
    assert a.sha256 == b.sha256  # the quarter is written in one spelling in the resolved scenario
    assert b.scenario.stress.shock[0].first_month_abs() == 2026 * 12 + 6  # July


PLAN = """
base_scenario = "base.toml"
paths = 4
[[tranche]]
quarter = "{quarter}"
generation = "H100"
{units}
kw_per_gpu = 0.7
useful_life_months = 24
[funding]
debt_frac = 0.5
rate_type = "fixed"
fixed_rate_annual_frac = 0.08
tenor_months = 24
"""


def _plan(tmp_path, name, quarter, units):
    write_scenario(tmp_path, name="base.toml", horizon=24, life=24)
    p = tmp_path / name
    p.write_text(PLAN.format(quarter=quarter, units=units))
    return p


def test_plan_accepts_scenario_names_and_both_quarters(tmp_path):
    """Before: a tranche took only gpus / capex_usd (total) and "YYYYQn". Now units / capex_usd_per_gpu and
    "YYYY-Qn" too, giving the same implied scenario (100 x $28,032 = $2,803,200)."""
    from engine.capex.plan import load_plan

    old = load_plan(_plan(tmp_path, "old.toml", "2026Q1", "gpus = 100\ncapex_usd = 2803200"))
    new = load_plan(_plan(tmp_path, "new.toml", "2026-Q1", "units = 100\ncapex_usd_per_gpu = 28032"))
    assert old.sha256 == new.sha256 and old.tranche_names == new.tranche_names == ("H100_2026Q1",)


@pytest.mark.parametrize(("units", "words"), [("gpus = 100\nunits = 100\ncapex_usd = 1e6", "units or gpus: give exactly one (both given)"),
                                              ("units = 100", "capex_usd_per_gpu or capex_usd: give exactly one (missing)")])
def test_plan_pairs_give_exactly_one(tmp_path, units, words):
    from engine.capex.plan import load_plan

    with pytest.raises(ScenarioError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_plan(_plan(tmp_path, "p.toml", "2026Q1", units))


# ------------------------------------------------------------------------------------------ did you mean
def test_misspelt_required_key_is_reported_first_with_did_you_mean(tmp_path):
    """Before: "field 'fleet.cohort[0].useful_life_months': required field is missing ... [and 1 more problem(s)]",
    hiding the unknown key useful_life_month that caused it."""
    from engine.scenario.load import load_scenario

    p = write_scenario(tmp_path)
    p.write_text(p.read_text().replace("useful_life_months = 24", "useful_life_month = 24"))
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    assert e.value.field == "fleet.cohort[0].useful_life_month"
    assert e.value.message.startswith("unknown key; did you mean 'useful_life_months'?"), e.value.message
    assert "[and 1 more problem(s)]" in e.value.message


def test_unknown_key_far_from_any_name_has_no_guess(tmp_path):
    from engine.scenario.load import load_scenario

    p = write_scenario(tmp_path, extra="[costs.zzz]\n")  # nothing like an allowed key
    p.write_text(p.read_text().replace("[costs.zzz]\n", "").replace("[costs]\n", "[costs]\nqqqq = 1\n"))
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    assert e.value.field == "costs.qqqq" and "did you mean" not in e.value.message


# ------------------------------------------------------------------------------------------ replace
def test_replace_takes_the_fleet_whole(tmp_path):
    """Before: a file extending another merged its cohorts with the base's (by name); ``replace = ["fleet"]`` drops the base's."""
    from engine.scenario.load import load_scenario

    write_scenario(tmp_path, name="base.toml")
    cohort = '[[fleet.cohort]]\nname = "c2"\ngeneration = "H100"\npurchase_month = "2026-01"\nunits = 5\ncapex_usd_per_gpu = 30000\nuseful_life_months = 24\nkw_per_gpu = 0.7\n'
    merged = tmp_path / "merged.toml"
    merged.write_text('extends = "base.toml"\n' + cohort)
    whole = tmp_path / "whole.toml"
    whole.write_text('extends = "base.toml"\nreplace = ["fleet"]\n' + cohort)
    assert [c.name for c in load_scenario(merged).scenario.fleet.cohort] == ["c1", "c2"]
    assert [c.name for c in load_scenario(whole).scenario.fleet.cohort] == ["c2"]
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "base.toml"\nreplace = ["fleets"]\n' + cohort)
    with pytest.raises(ScenarioError, match="did you mean 'fleet'"):
        load_scenario(bad)


# ------------------------------------------------------------------------------------------ plausibility
def test_implausible_values_warn_on_validate_and_can_be_acknowledged(tmp_path, capsys):
    """Before: electricity 90 $/kWh (a $/MWh figure), capex $40 a GPU and a decline mode of 1.2 a month
    validated "ok" with nothing said. Now one warning line each (field, value, range, source) on stderr;
    validate still exits 0, and acknowledged fields are silent."""
    p = write_scenario(tmp_path, capex=40.0)
    text = p.read_text().replace("electricity_usd_per_kwh = 0.0", "electricity_usd_per_kwh = 90")
    text = text.replace("decline_rate_per_month = 0.01", 'decline_rate_per_month = { dist = "triangular", low = 0.5, mode = 1.2, high = 1.5 }')
    p.write_text(text)
    assert main(["validate", str(p)]) == 0
    o, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 3 and "3 plausibility warnings" in o, err
    assert "field 'fleet.cohort.c1.capex_usd_per_gpu': 40 is outside the plausible range 5000 to 150000 USD per GPU (source:" in lines[0]
    assert "field 'market.H100.decline_rate_per_month': 1.2 (the distribution's mode) is outside the plausible range -0.03 to 0.1" in lines[1]
    assert "field 'costs.electricity_usd_per_kwh': 90 is outside the plausible range 0.02 to 0.4 USD per kWh" in lines[2] and "HW:180" in lines[2]
    p.write_text(text.replace("[run]\n", '[run]\nacknowledge_warnings = ["costs.electricity_usd_per_kwh", "market.*.decline_rate_per_month"]\n'))
    assert main(["validate", str(p)]) == 0
    o, err = capsys.readouterr()
    assert len(err.splitlines()) == 1 and "capex_usd_per_gpu" in err and "1 plausibility warning " in o, err


def test_shipped_scenarios_have_no_plausibility_warnings():
    """The ranges hold every shipped scenario (each value cited in its file): a warning there would be noise."""
    from engine.scenario.load import load_scenario
    from engine.scenario.plausibility import plausibility_warnings

    files = [f for f in sorted((REPO / "scenarios").rglob("*.toml")) if "plans" not in f.parts]
    assert len(files) >= 10
    for f in files:
        ws = plausibility_warnings(load_scenario(f).scenario)
        assert ws == [], (f, [w.render() for w in ws])


def test_plausible_ranges_hold_the_data_they_cite():
    """Each range that cites an in-repo table holds that table's values: every trust A/B rental quote
    (priors/observations/rental_prices.csv), the permanent failure rates (failures.csv) and the booking
    rates (utilization.csv)."""
    import csv

    from engine.scenario.plausibility import RANGES

    by = {r.field: r for r in RANGES}
    obs = REPO / "priors" / "observations"
    rent = by["market.*.price_usd_per_gpu_hour"]
    quotes = [float(x) for row in csv.DictReader((obs / "rental_prices.csv").open()) if row["trust"] in ("A", "B")
              for x in (row["value_low"], row["value_high"]) if x]
    assert len(quotes) > 100 and rent.lo <= min(quotes) and max(quotes) <= rent.hi
    afr = by["failures.annual_failure_rate_frac.*"]
    perm = [float(x) for row in csv.DictReader((obs / "failures.csv").open()) if row["metric"] == "permanent_rate"
            for x in (row["value"], row["value_low"], row["value_high"]) if x]
    assert perm and afr.lo <= min(perm) and max(perm) <= afr.hi
    util = by["demand.utilization_frac"]
    booked = [float(x) for row in csv.DictReader((obs / "utilization.csv").open()) if row["measure"] == "booking_rate"
              for x in (row["value_low"], row["value_high"]) if x]
    assert booked and util.lo <= min(booked) and max(booked) <= util.hi


def test_typical_value_of_a_distribution():
    from engine.scenario.dists import Fixed
    from engine.scenario.plausibility import typical
    from engine.scenario.schema import MarketSection

    m = MarketSection.model_validate({"price_usd_per_gpu_hour": {"dist": "lognormal", "median": 2.0, "sigma_log": 0.1},
                                      "decline_rate_per_month": {"dist": "pert", "low": 0.0, "mode": 0.02, "high": 0.05},
                                      "volatility_per_month": {"dist": "uniform", "low": 0.02, "high": 0.06}})
    assert typical(m.price_usd_per_gpu_hour) == (2.0, "median")
    assert typical(m.decline_rate_per_month) == (0.02, "mode")
    assert typical(m.volatility_per_month) == pytest.approx((0.04, "mean"))  # (0.02 + 0.06) / 2
    assert typical(Fixed(value=3.0)) == (3.0, "value")


# ------------------------------------------------------------------------------------------ import circle
def _imports(module_file: Path) -> set[str]:
    """Every module named by an import anywhere in the file (inside functions too)."""
    out = set()
    for n in ast.walk(ast.parse(module_file.read_text())):
        if isinstance(n, ast.ImportFrom) and n.module:
            out.add(n.module)
        elif isinstance(n, ast.Import):
            out.update(a.name for a in n.names)
    return out


def test_no_band_distributions_import_circle():
    """Before: band.py imported distributions.quantile and distributions.quantile imported band.Banded
    (a circle closed by a function-level import). Now only band -> distributions."""
    band, dists = REPO / "engine" / "inputs" / "band.py", REPO / "engine" / "inputs" / "distributions.py"
    assert "engine.inputs.distributions" in _imports(band)
    assert "engine.inputs.band" not in _imports(dists)


def test_set_on_a_capex_plan_applies_to_the_implied_scenario(tmp_path):
    """capex-check --set: the override lands in the scenario the plan implies, as if the base file had been edited."""
    from engine.capex.plan import load_plan

    plan = _plan(tmp_path, "p.toml", "2026Q1", "units = 100\ncapex_usd_per_gpu = 28032")
    over = load_plan(plan, overrides={"costs.electricity_usd_per_kwh": 0.1})
    write_scenario(tmp_path, name="base.toml", horizon=24, life=24)
    (tmp_path / "base.toml").write_text((tmp_path / "base.toml").read_text().replace("electricity_usd_per_kwh = 0.0", "electricity_usd_per_kwh = 0.1"))
    assert over.sha256 == load_plan(plan).sha256 and over.scenario.scenario.costs.electricity_usd_per_kwh.value == 0.1
