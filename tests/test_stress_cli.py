"""The stress, reverse-stress and sensitivity commands end to end on a small scenario: files written
(tables, JSON with provenance, PNG plots), exit 0; and the shipped stress set validates."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from engine.cli import main
from tests._util import write_scenario

REPO = Path(__file__).resolve().parents[1]
KW = dict(price='{ dist = "uniform", low = 1.5, high = 2.5 }', util='{ dist = "uniform", low = 0.5, high = 0.9 }', vol=0.05, test_every=3, horizon=24,
          standards='["asc360", "ias36"]')


def test_shipped_stress_set_validates(capsys) -> None:
    files = sorted(str(p) for p in (REPO / "scenarios" / "stress").glob("*.toml"))
    assert len(files) == 5
    assert main(["validate", *files]) == 0
    assert capsys.readouterr().out.count(": ok") == 5


def test_stress_command_writes_table_and_plots(tmp_path, capsys) -> None:
    base = write_scenario(tmp_path, "base.toml", **KW)
    s1 = write_scenario(tmp_path, "drop.toml", extra='[[stress.shock]]\nkind = "price_drop"\nquarter = "2026-Q2"\ndrop_frac = 0.2\n', **KW)
    s2 = write_scenario(tmp_path, "band.toml", extra='[[stress.band]]\ninput = "demand.utilization_frac"\np = 0.0\nq = 0.1\n', **KW)
    out = tmp_path / "out"
    assert main(["stress", str(s1), str(s2), "--against", str(base), "--paths", "300", "--out", str(out)]) == 0
    rows = list(csv.DictReader((out / "comparison.csv").open()))
    assert {r["scenario"] for r in rows} == {"drop", "band"}
    loss = {r["scenario"]: r for r in rows if r["metric"] == "expected_impairment_loss_usd_ias36"}
    assert float(loss["drop"]["delta"]) > 0 and float(loss["band"]["delta"]) > 0  # lower prices / utilization: larger losses
    doc = json.loads((out / "comparison.json").read_text())
    assert doc["provenance"]["paths"] == 300 and doc["provenance"]["seed"] == 7 and "scenario_sha256" in doc["provenance"]["baseline"]
    assert doc["common_random_numbers"]["band"]["changed"] == ["demand.utilization_frac"]
    for png in ("comparison_p_impairment_asc360.png", "comparison_expected_impairment_loss_usd_ias36.png", "comparison_expected_npv_usd.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Stress minus baseline" in capsys.readouterr().out


def test_reverse_stress_and_sensitivity_commands(tmp_path, capsys) -> None:
    base = write_scenario(tmp_path, "base.toml", **KW)
    out = tmp_path / "rev"
    assert main(["reverse-stress", str(base), "--vary", "demand.utilization_frac", "--metric", "p_impairment_ias36", "--threshold", "0.8",
                 "--paths", "400", "--out", str(out)]) == 0
    doc = json.loads((out / "reverse_stress.json").read_text())
    assert doc["status"] == "crossed" and not doc["increasing"]  # more utilization, fewer impairments (1 at 0, 0.65 at 0.99): crossed from above
    assert doc["ci"][0] <= doc["x_star"] <= doc["ci"][1]
    assert (out / "reverse_stress.png").exists() and (out / "reverse_stress_grid.csv").exists()
    out2 = tmp_path / "sens"
    assert main(["sensitivity", str(base), "--paths", "300", "--sobol-paths", "128", "--out", str(out2)]) == 0
    doc = json.loads((out2 / "sensitivity.json").read_text())
    assert {"tornado", "gradients", "sobol"} <= set(doc)
    for png in ("tornado.png", "gradients.png", "sobol.png"):
        assert (out2 / png).read_bytes()[:4] == b"\x89PNG"
    assert "Sobol indices" in capsys.readouterr().out


def test_stress_target_se_stops_at_the_path_limit(tmp_path, capsys) -> None:
    base = write_scenario(tmp_path, "base.toml", **KW)
    s1 = write_scenario(tmp_path, "drop.toml", extra='[[stress.shock]]\nkind = "price_drop"\nquarter = "2026-Q2"\ndrop_frac = 0.2\n', **KW)
    out = tmp_path / "out"
    assert main(["stress", str(s1), "--against", str(base), "--paths", "200", "--target-se", "1e-9", "--max-paths", "320", "--out", str(out)]) == 0
    conv = json.loads((out / "comparison.json").read_text())["convergence"]
    assert conv["reason"] == "path limit reached" and conv["paths"] == 320 and [s["paths"] for s in conv["steps"]] == [200, 320]
    assert "path limit reached" in capsys.readouterr().out
    assert main(["stress", str(s1), "--against", str(base), "--target-se", "0.01", "--se-metric", "bogus", "--out", str(tmp_path / "o2")]) == 2
    assert "unknown metric 'bogus'" in capsys.readouterr().err
