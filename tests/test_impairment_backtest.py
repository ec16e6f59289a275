"""`rackrisk impairment-backtest` (engine/impairment_backtest/, docs/impairment_backtest.md).

Fast (no Monte Carlo): the scores against hand arithmetic, the 12-month accessor and its fallback,
the launches known at a date, the as-of scenario builder, the outcomes, bad input. One small
end-to-end run (300 paths, one preset, one date). Where a number comes from is written beside it.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from engine.impairment_backtest import scoring
from engine.impairment_backtest.asof import AsOfInputError, build
from engine.impairment_backtest.command import COLUMNS
from engine.impairment_backtest.launches import known_launches
from engine.impairment_backtest.outcomes import entity_for, observe
from engine.impairment_backtest.posteriors import ASOF, file_as_of
from engine.impairment_backtest.statistic import MATERIAL, p_material_impairment_12m
from engine.scenario.load import load_scenario

REPO = Path(__file__).resolve().parents[1]
CW = REPO / "scenarios" / "coreweave_like.toml"
SHARED = REPO.parent / "shared" / "data"


# ------------------------------------------------------------------------------------------ scoring
def test_brier_and_log_probability_by_hand():
    p, y = [0.9, 0.2, 0.5], [0, 0, 1]
    # Brier: ((0.9-0)^2 + (0.2-0)^2 + (0.5-1)^2) / 3 = (0.81 + 0.04 + 0.25) / 3 = 1.10 / 3
    assert scoring.brier(p, y) == pytest.approx(1.10 / 3, abs=1e-12)
    # P(observed) = (1-0.9) (1-0.2) 0.5 = 0.1 * 0.8 * 0.5 = 0.04; log = ln 0.04 = -3.2188758
    assert scoring.prob_observed(p, y) == pytest.approx(0.04, abs=1e-12)
    assert scoring.log_prob_observed(p, y) == pytest.approx(math.log(0.04), abs=1e-12)
    assert scoring.log_prob_observed(p, y) == pytest.approx(-3.2188758, abs=1e-7)
    # a constant 0.5 scores (0.5)^2 = 0.25 whatever happened; a constant 0 scores 1/3 here (one miss of 1)
    assert scoring.constant_brier(0.5, y) == pytest.approx(0.25, abs=1e-12)
    assert scoring.constant_brier(0.0, y) == pytest.approx(1 / 3, abs=1e-12)
    # six no-impairment years forecast at 0.99: Brier 0.99^2 = 0.9801; P(observed) = 0.01^6 = 1e-12
    assert scoring.brier([0.99] * 6, [0] * 6) == pytest.approx(0.9801, abs=1e-12)
    assert scoring.prob_observed([0.99] * 6, [0] * 6) == pytest.approx(1e-12, rel=1e-9)
    # an outcome given probability 0: log P = -inf, P = 0
    assert scoring.log_prob_observed([1.0], [0]) == -math.inf and scoring.prob_observed([1.0], [0]) == 0.0
    with pytest.raises(ValueError):
        scoring.brier([0.5], [0, 1])


# ------------------------------------------------------------------------------------------ the accessor
def test_accessor_reads_the_material_key_when_present():
    summary = {"fleet": {"p_material_impairment_asc360": {"first_12_months": {"value": 0.12, "se": 0.01}}}}
    got = p_material_impairment_12m(summary, "asc360")
    assert (got.value, got.se, got.definition) == (0.12, 0.01, MATERIAL)


# ------------------------------------------------------------------------------------------ launches
def test_launches_known_at_2023_12():
    (h200,) = known_launches("2023-12", "2024-01")  # B200 (announced 2024-03-18) is not known yet
    assert h200.generation == "H200" and h200.announced == "2023-11-13"
    # lags known then: A100 announced and launched 2020-05-14 (0); H100 2022-03-22 -> 2022-09-20 = 182 days
    assert h200.lags_months == {"A100": 0.0, "H100": round(182 / 30.4375, 2)}
    # 2023-11-13 is 49 days before 2024-01-01: -1.61 months; + 0 -> clipped to 0; + median 2.99 -> 1.38; + 5.98 -> 4.37
    assert h200.ship_months_from_start == {"dist": "triangular", "low": 0.0, "mode": 1.38, "high": 4.37}


def test_no_launch_known_at_2024_12():
    # H200 shipped 2024-06-30, B200 2024-12-15 (launch_timing.csv); nothing later is announced by 2024-12
    assert known_launches("2024-12", "2025-01") == []


# ------------------------------------------------------------------------------------------ as-of scenario
def _gix_median(gen: str, month: str) -> float:
    """The raw on-demand GIX median read straight from the CSV (independent of the builder)."""
    with open(REPO / "priors" / "observations" / "rental_prices.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["series"] == "market_median" and r["basis"] == "on_demand"
                and r["entity"] == "gix" and r["generation"] == gen and r["date"].startswith(month)]
    assert len(rows) == 1
    return float(rows[0]["value_low"])


@pytest.mark.parametrize("as_of", ["2023-12", "2024-12"])
def test_asof_scenario_of_the_coreweave_preset(as_of, tmp_path):
    preset = load_scenario(CW).scenario
    a = build(CW, as_of)
    s = load_scenario(a.write(tmp_path)).scenario  # the engine's own checks pass on the built file
    assert s.run.start_month == {"2023-12": "2024-01", "2024-12": "2025-01"}[as_of]
    kept = {c.name for c in s.fleet.cohort}
    assert kept and all(c.purchase_month <= as_of for c in s.fleet.cohort)
    assert {c.name for c in preset.fleet.cohort if c.purchase_month > as_of} == set(a.cohorts_dropped)
    assert kept | set(a.cohorts_dropped) == {c.name for c in preset.fleet.cohort}
    for c in s.fleet.cohort:  # everything but the date is the preset's
        assert c == next(p for p in preset.fleet.cohort if p.name == c.name)
    assert set(s.market) == {c.generation for c in s.fleet.cohort}
    for g, m in s.market.items():
        assert m.price_usd_per_gpu_hour.mean() == _gix_median(g, as_of)
    # no launch announced after the date: every launch's generation has an announcement row dated <= as_of
    with open(REPO / "priors" / "observations" / "launch_timing.csv", newline="") as f:
        announced = {r["entity"].split("/")[0] for r in csv.DictReader(f) if "announced" in r["event_or_metric"] and r["date"][:7] <= as_of}
    assert {x.generation for x in s.next_gen.launch} <= announced and s.next_gen.cadence is None
    assert s.financing is None
    pd_files = {Path(d.file) for d in [s.market[g].decline_rate_per_month for g in s.market]}
    assert pd_files == {ASOF / as_of / "price_dynamics.nc"} and file_as_of(ASOF / as_of / "price_dynamics.nc") == as_of


def test_asof_scenario_follows_the_preset(tmp_path):
    """A preset edited by someone else (a later H100 vintage, more units) is taken as it is."""
    p = tmp_path / "acme_like.toml"
    p.write_text(f'extends = "{REPO / "scenarios" / "baseline.toml"}"\n'
                 '[[fleet.cohort]]\nname = "H100_2023"\npurchase_month = "2024-02"\nunits = 12345\n')
    a = build(p, "2023-12")
    assert a.cohorts_kept == ["A100_2022"] and "H100_2023" in a.cohorts_dropped
    b = build(p, "2024-12")
    s = load_scenario(b.write(tmp_path)).scenario
    assert next(c for c in s.fleet.cohort if c.name == "H100_2023").units == 12345


def test_asof_errors_name_the_argument():
    with pytest.raises(AsOfInputError, match="no cohort bought by then") as e:
        build(CW, "2022-01")  # CoreWeave's first cohort: A100_2022, bought 2022-06
    assert e.value.argument == "--as-of"
    with pytest.raises(AsOfInputError, match="no observed raw on-demand median price of A100"):
        build(CW, "2022-12")  # the GIX medians start 2023-01


# ------------------------------------------------------------------------------------------ outcomes
def test_outcomes_window_and_sources():
    assert entity_for("coreweave_like") == "CoreWeave" and entity_for("lambda_like") == "Lambda" and entity_for("baseline") is None
    o = observe("CoreWeave", "2024-12")
    assert o.impaired == 0 and o.window == ("2025-01-01", "2025-12-31") and o.rows and "absence" in o.source
    # HIVE Digital's impairment_PP&E row is dated 2025-09-30: inside 2024-10..2025-09, outside 2025-10..2026-09
    assert observe("HIVE Digital", "2024-10").impaired == 1
    assert observe("HIVE Digital", "2025-09").impaired == 0
    assert "impairment_PP&E" in observe("HIVE Digital", "2025-06").source
    assert observe("Nebius", "2023-12").rows == []  # no Nebius row at all in 2024: said so
    assert "no Nebius row at all" in observe("Nebius", "2023-12").source


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data not beside the repository")
@pytest.mark.parametrize("copy,orig", [("launch_timing.csv", "market/launch_timing.csv"), ("neocloud_financials.csv", "financials/neocloud_financials.csv")])
def test_copies_equal_the_shared_data(copy, orig):
    assert (REPO / "priors" / "observations" / copy).read_bytes() == (SHARED / orig).read_bytes()


def test_building_never_imports_pymc():
    code = ("import sys; from engine.impairment_backtest.command import prepare; "
            "prepare(['scenarios/lambda_like.toml'], ['2023-12', '2024-12']); assert 'pymc' not in sys.modules, 'pymc imported'")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 0, r.stderr


# ------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("argv,needle", [
    (["--as-of", "2023-13"], "--as-of must be a month YYYY-MM"),
    (["--as-of", "2023/12"], "--as-of must be a month YYYY-MM"),
    (["--as-of", "2022-12"], "--as-of: 2022-12: no observed raw on-demand median price"),  # before any price
    (["--as-of", "2022-01"], "--as-of: 2022-01: scenarios/coreweave_like.toml has no cohort bought by then"),
    (["scenarios/lambda_like.toml", "--as-of", "2024-06"], "--as-of: no posterior of price_dynamics fitted as of 2024-06"),  # not shipped
    (["scenarios/nope_like.toml", "--as-of", "2023-12"], "SCENARIO: scenarios/nope_like.toml: file not found"),
    (["scenarios/baseline.toml", "--as-of", "2023-12"], "SCENARIO: scenarios/baseline.toml: no company for it"),
    (["--as-of", "2023-12", "--paths", "0"], "--paths must be a positive integer"),
])
def test_bad_input_exit_2_one_line_nothing_written(argv, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    out = tmp_path / "out"
    if argv[0] == "--as-of" and "--paths" not in argv:
        argv = ["scenarios/coreweave_like.toml", *argv]
    code = main(["impairment-backtest", *argv, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.iterdir())


# ------------------------------------------------------------------------------------------ end to end
def test_end_to_end_small(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    out = tmp_path / "bt"
    pymc_before = "pymc" in sys.modules
    code = main(["impairment-backtest", "scenarios/lambda_like.toml", "--as-of", "2024-12", "--out", str(out), "--paths", "300", "--seed", "3"])
    printed = capsys.readouterr().out
    assert code == 0 and "Brier" in printed
    assert pymc_before or "pymc" not in sys.modules  # the shipped as-of posterior is read, nothing is fitted
    with open(out / "company_years.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 1
    r = rows[0]
    assert (r["entity"], r["as_of"], r["observed_impairment"]) == ("Lambda", "2024-12", "0")
    assert r["definition"] == MATERIAL
    for std in ("asc360", "ias36"):
        assert 0.0 <= float(r[f"p_material_impairment_12m_{std}"]) <= 1.0 and float(r[f"p_material_impairment_12m_{std}_se"]) >= 0
    summary = json.loads((out / "summaries" / "lambda_like_2024-12.json").read_text())
    # start 2025-01: the first 12 months are fiscal (= calendar) 2025, the summary's first fiscal year end
    fy = summary["fleet"]["p_material_impairment_asc360"]["cumulative_by_fiscal_year_end"]["FY2025"]["value"]
    assert float(r["p_material_impairment_12m_asc360"]) == pytest.approx(fy, abs=1e-12)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["seed"] == 3 and prov["paths"] == 300 and prov["engine_git_sha"]
    assert any(k.endswith("asof/2024-12/price_dynamics.nc") for k in prov["posterior_files_sha256"])
    scores = json.loads((out / "scores.json").read_text())
    assert scores["n_company_years"] == 1 and set(scores["standards"]) == {"asc360", "ias36"}
    assert (out / "scenarios" / "lambda_like_2024-12.toml").exists() and (out / "observed_rows.csv").exists()
