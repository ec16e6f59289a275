"""Credit outputs: results.nc variables and dims, summary.json keys with SEs, the terminal table, presets.

A small random scenario (one cohort, lognormal price, 300 paths) with one facility is written to
disk with store = paths and store = full; the checks are on structure and on identities that must
hold exactly (probabilities by quarter agree with the per-path months, the fan is over defined
paths), not on Monte Carlo values.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests._util import ONE_FACILITY, write_scenario

REPO = Path(__file__).resolve().parents[1]

FAC = ONE_FACILITY


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    from engine.app import run_scenario

    d = tmp_path_factory.mktemp("credit_out")
    p = write_scenario(d, horizon=24, life=60, capex=30000.0, price='{ dist = "lognormal", median = 2.0, sigma_log = 0.3 }', decline=0.0, vol=0.05, extra=FAC)
    out = {}
    for store in ("paths", "full"):
        r = run_scenario(p, paths=300, out=d / store, store=store, force=True)
        out[store] = (r, d / store)
    return out


def test_summary_json_credit_block(written):
    r, d = written["paths"]
    js = json.loads((d / "summary.json").read_text())
    c = js["credit"]
    assert c["quarters"][0] == "2026Q1" and c["quarters"][-1] == "2027Q4" and len(c["quarters"]) == 8
    for e in (c["facilities"]["L"], c["portfolio"]):
        for key in ("p_covenant_breach", "p_default"):
            assert set(e[key]["by_quarter"]) == set(c["quarters"])
            v = e[key]["horizon"]
            assert 0 <= v["value"] <= 1 and v["se"] == pytest.approx(np.sqrt(v["value"] * (1 - v["value"]) / 300))
        assert {"value", "se"} <= set(e["expected_credit_loss_usd"])
        assert set(e["lgd_quantiles_frac"]) == {"p50", "p95", "p99"}
    f = c["facilities"]["L"]
    assert len(f["dscr_fan_by_quarter"]["p50"]) == 8 and len(f["ltv_fan_by_quarter"]["p05"]) == 8
    # the quarter table is the per-path default month read at quarter ends
    dm = r.run.scalars["credit_default_month"][:, 0]
    assert f["p_default"]["by_quarter"]["2026Q2"]["value"] == pytest.approx(np.mean((dm > 0) & (dm <= 6)))
    # EL is the mean loss over all paths
    assert f["expected_credit_loss_usd"]["value"] == pytest.approx(float(np.mean(r.run.scalars["credit_loss_usd"][:, 0].astype(float))))


def test_results_nc_credit_variables(written):
    import xarray as xr

    r, d = written["paths"]
    ds = xr.open_dataset(d / "results.nc", engine="h5netcdf")
    assert list(ds.facility.values) == ["L"]
    assert ds.credit_p_default_by_quarter.dims == ("quarter", "facility")
    assert ds.credit_p_default_by_quarter_se.attrs["units"] == "1"
    assert ds.credit_dscr_fan.dims == ("quantile", "quarter", "facility")
    assert ds.credit_ltv_frac_by_quarter.dims == ("fan_path", "quarter", "facility")
    assert ds.credit_default_month.dims == ("path", "facility")
    assert ds.credit_lgd_frac.attrs["units"] == "1" and ds.credit_ead_usd.attrs["units"] == "USD"
    # P(default by quarter end) from results.nc equals the summary's
    js = json.loads((d / "summary.json").read_text())
    q = js["credit"]["facilities"]["L"]["p_default"]["by_quarter"]
    assert np.allclose(ds.credit_p_default_by_quarter.sel(facility="L").values, [q[k]["value"] for k in js["credit"]["quarters"]])
    # LGD is NaN exactly where there is no default
    assert np.array_equal(np.isnan(ds.credit_lgd_frac.values), ds.credit_default_month.values == 0)


def test_results_nc_full_store_monthly_credit(written):
    import xarray as xr

    _, d = written["full"]
    ds = xr.open_dataset(d / "results.nc", engine="h5netcdf")
    assert ds.credit_dscr.dims == ("path", "month", "facility")
    assert ds.credit_balance_usd.sizes["path"] == 300
    # the balance never rises except by draws (all drawn in month 1), and is 0 after a default
    bal = ds.credit_balance_usd.values[:, :, 0]
    assert np.all(np.diff(bal, axis=1) <= 1e-6 * 1.4e6)


def test_terminal_table_shows_credit(written, capsys):
    from engine.table import print_summary

    r, _ = written["paths"]
    print_summary(r.summary)
    out = capsys.readouterr().out
    assert "Credit over the horizon" in out and "P(default)" in out and "portfolio" in out


def test_scenario_without_financing_has_no_credit(tmp_path):
    from engine.app import run_scenario

    p = write_scenario(tmp_path, horizon=12)
    r = run_scenario(p, paths=16, write=False)
    assert "credit" not in r.summary and not any(k.startswith("credit_") for k in r.run.scalars)


@pytest.mark.parametrize("name", ["coreweave_like.toml", "nebius_like.toml", "lambda_like.toml"])
def test_presets_validate(name, capsys):
    from engine.cli import main

    assert main(["validate", str(REPO / "scenarios" / name)]) == 0


def test_credit_results_do_not_depend_on_chunk_size(tmp_path):
    # Structural keys make every path's numbers independent of the chunk size, and the credit
    # statistics are host reductions in path order: the credit block is identical bit for bit.
    from engine.app import run_scenario

    p = write_scenario(tmp_path, horizon=24, life=60, capex=30000.0, price='{ dist = "lognormal", median = 2.0, sigma_log = 0.3 }', decline=0.0, vol=0.05, extra=FAC)
    a = run_scenario(p, paths=96, chunk_paths=96, write=False)
    b = run_scenario(p, paths=96, chunk_paths=17, write=False)
    assert json.dumps(a.summary["credit"], sort_keys=True) == json.dumps(b.summary["credit"], sort_keys=True)
    for k in a.run.scalars:
        if k.startswith("credit_"):
            assert np.array_equal(a.run.scalars[k], b.run.scalars[k], equal_nan=True), k
