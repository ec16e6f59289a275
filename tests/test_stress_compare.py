"""The comparison arithmetic by hand (pure functions, no simulation)."""

from __future__ import annotations

import math

from engine.stress.compare import paired, summary_only_rows


def test_paired_statistics_by_hand() -> None:
    base = [1.0, 2.0, 3.0, 4.0]
    stress = [2.0, 2.0, 5.0, 5.0]
    r = paired(base, stress)
    # d = (1, 0, 2, 1): mean 1, sd (ddof 1) = sqrt(((0)^2 + 1 + 1 + 0) / 3) = sqrt(2/3); SE = sqrt(2/3) / 2
    assert r["delta"] == 1.0 and math.isclose(r["se_delta_crn"], math.sqrt(2 / 3) / 2)
    # sd(base) = sqrt(5/3), sd(stress) = sqrt(3): SE_indep = sqrt(5/3 / 4 + 3 / 4)
    assert math.isclose(r["se_delta_independent"], math.sqrt((5 / 3) / 4 + 3 / 4))
    assert math.isclose(r["variance_reduction"], ((5 / 3) / 4 + 3 / 4) / ((2 / 3) / 4))
    assert r["base"] == 2.5 and r["stress"] == 3.5 and r["n_paths"] == 4


def test_summary_metrics_outside_fleet_are_compared_with_the_independent_se() -> None:
    """A credit section (issue 4) joins the table without code: Delta and SE_indep from summary.json."""
    base = {"run": {}, "fleet": {"x": {"value": 1, "se": 1}}, "credit": {"p_covenant_breach": {"value": 0.10, "se": 0.003}, "note": "text"}}
    stress = {"run": {}, "fleet": {"x": {"value": 2, "se": 1}}, "credit": {"p_covenant_breach": {"value": 0.25, "se": 0.004}}}
    rows = summary_only_rows(base, stress)
    assert [r["metric"] for r in rows] == ["credit.p_covenant_breach"]
    assert math.isclose(rows[0]["delta"], 0.15) and math.isclose(rows[0]["se_delta_independent"], 0.005)  # sqrt(0.003^2 + 0.004^2)
    assert math.isnan(rows[0]["se_delta_crn"])
