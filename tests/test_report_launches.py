"""engine/report/words.launch_months: explicit and [next_gen.cadence] launches, as the engine ships them.

Hand cases (months after the start): with per-path inputs stored, an explicit launch ships at
max(previous ship, its own draw) and a cadence launch at previous ship + its interval, path by path;
without them (store = "summary"), the scenario's fixed values or distribution bounds, the cadence
launch adding its interval's low / mode / high to the previous launch's (flagged approximate).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from engine.report.words import launch_months

SCENARIO = {
    "next_gen": {
        "launch": [
            {"generation": "Rubin", "ship_months_from_start": {"dist": "triangular", "low": 6, "mode": 9, "high": 15}},
            {"generation": "RubinUltra", "ship_months_from_start": {"dist": "triangular", "low": 18, "mode": 21, "high": 27}},
        ],
        "cadence": {"generations": ["Feynman"], "interval_months": {"dist": "triangular", "low": 12, "mode": 12, "high": 24}},
    }
}


def test_from_the_scenario_when_no_inputs_are_stored():
    got = launch_months(SCENARIO, None)
    assert [L["generation"] for L in got] == ["Rubin", "RubinUltra", "Feynman"]
    assert [L["cadence"] for L in got] == [False, False, True]
    # Feynman: RubinUltra's (18, 21, 27) + the interval's (12, 12, 24) = (30, 33, 51)
    assert (got[2]["p05_months"], got[2]["p50_months"], got[2]["p95_months"]) == (30.0, 33.0, 51.0)
    assert all(L["approximate"] for L in got)


def test_from_the_stored_per_path_inputs():
    # 5 paths; path 4's RubinUltra draw (10) is before its Rubin (12): it ships with Rubin, at 12
    vals = {
        "next_gen.Rubin.ship_months_from_start": [6, 8, 9, 11, 12],
        "next_gen.RubinUltra.ship_months_from_start": [18, 20, 21, 25, 10],
        "next_gen.Feynman.interval_months": [12, 12, 13, 20, 24],
    }
    names = list(vals)
    ds = xr.Dataset({"input_value": (("path", "input"), np.array([vals[n] for n in names], float).T)}, coords={"input": names})
    got = {L["generation"]: L for L in launch_months(SCENARIO, ds)}
    ultra = np.array([18, 20, 21, 25, 12.0])  # max(Rubin, own draw)
    feynman = ultra + np.array([12, 12, 13, 20, 24.0])  # 30, 32, 34, 45, 36
    assert got["RubinUltra"]["p50_months"] == np.quantile(ultra, 0.5) == 20.0
    assert got["Feynman"]["p50_months"] == np.quantile(feynman, 0.5) == 34.0
    assert got["Feynman"]["p05_months"] == np.quantile(feynman, 0.05)  # 30 + 0.2 x (32 - 30) = 30.4
    assert got["Feynman"]["cadence"] and not got["Feynman"]["approximate"]
