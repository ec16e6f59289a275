"""``rackrisk run --target-se``: stops at the target or at the path limit, and says which.

One-cohort scenario (tests/_util.py) with a random start price: P(impairment) is near 0.5, so its
SE is sqrt(0.25 / n): 0.02 needs n >= 625 paths, 0.005 would need 10,000.
"""

from __future__ import annotations

import json
import math

from engine.cli import main
from tests._util import write_scenario

KW = dict(price='{ dist = "uniform", low = 1.0, high = 3.0 }', decline=0.0, vol=0.05, test_every=3, horizon=12)


def test_target_se_reached(tmp_path, capsys) -> None:
    path = write_scenario(tmp_path, **KW)
    out = tmp_path / "out"
    rc = main(["run", str(path), "--paths", "256", "--target-se", "0.02", "--max-paths", "5000", "--chunk-paths", "256", "--out", str(out), "--quiet"])
    assert rc == 0
    conv = json.loads((out / "summary.json").read_text())["convergence"]
    assert conv["reason"] == "target reached" and conv["achieved_se"] <= 0.02
    p = conv["value"]
    assert conv["paths"] >= 0.25 / 0.02**2 * 0.8 and abs(conv["achieved_se"] - math.sqrt(p * (1 - p) / (conv["paths"] - 1))) < 1e-12  # sd with ddof = 1
    assert [s["paths"] for s in conv["steps"]][0] == 256 and conv["steps"][-1]["paths"] == conv["paths"]
    assert json.loads((out / "summary.json").read_text())["run"]["paths"] == conv["paths"]
    assert "target reached" in capsys.readouterr().out


def test_target_se_path_limit(tmp_path, capsys) -> None:
    path = write_scenario(tmp_path, **KW)
    out = tmp_path / "out"
    rc = main(["run", str(path), "--paths", "256", "--target-se", "0.005", "--max-paths", "600", "--chunk-paths", "256", "--out", str(out), "--quiet"])
    assert rc == 0
    conv = json.loads((out / "summary.json").read_text())["convergence"]
    assert conv["reason"] == "path limit reached" and conv["paths"] == 600 and conv["achieved_se"] > 0.005
    assert "path limit reached" in capsys.readouterr().out


def test_target_se_bad_metric(tmp_path, capsys) -> None:
    path = write_scenario(tmp_path, **KW)
    rc = main(["run", str(path), "--target-se", "0.01", "--se-metric", "nonsense", "--out", str(tmp_path / "o")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "--se-metric" in err and "unknown metric 'nonsense'" in err and "p_impairment_asc360" in err
    assert not (tmp_path / "o").exists()
