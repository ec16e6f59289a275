"""The posteriors shipped in priors/fitted/: gated, built from the committed observations, readable
by the engine, reproduced by a refit, and drawn by the simulation with the right moments."""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from priors.models import MODELS
from priors.observations_io import file_hashes

ROOT = Path(__file__).resolve().parents[2]
FITTED = ROOT / "priors" / "fitted"


@pytest.mark.parametrize("name", list(MODELS))
def test_shipped_file_passed_its_gate_on_the_committed_data(name):
    mod = importlib.import_module(MODELS[name])
    path = FITTED / f"{name}.nc"
    root = xr.open_dataset(path, engine="h5netcdf")
    assert int(root.attrs["rackrisk_gate_passed"]) == 1
    # the file was fitted on exactly the observation tables committed now
    assert json.loads(root.attrs["data_sha256"]) == file_hashes(list(mod.TABLES))
    assert root.attrs["as_of"] == "all data"
    for var, group in mod.ENGINE_VARS.items():
        ds = xr.open_dataset(path, engine="h5netcdf", group=group)
        assert var in ds and ds[var].dims[:2] == ("chain", "draw")
        assert np.all(np.isfinite(ds[var].values))


def test_baseline_draws_match_the_posterior_moments():
    """The engine's per-path draws of posterior inputs have the posterior's mean (4.5 SE)."""
    from engine.app import run_scenario

    n = 20_000
    r = run_scenario(ROOT / "scenarios" / "baseline.toml", paths=n, seed=5, write=False)
    m = r.model
    post = xr.open_dataset(FITTED / "price_dynamics.nc", engine="h5netcdf", group="posterior")
    for g in ("H100", "B200"):
        x = r.run.inputs[:, m.index(f"market.{g}.decline_rate_per_month")]
        ref = post["decline_rate_per_month"].sel(generation=g).values.reshape(-1)
        assert abs(x.mean() - ref.mean()) < 4.5 * ref.std() / math.sqrt(n), g
    # joint draw: decline rate and undercut of a path come from the same posterior sample
    j = m.posterior_files.index(str((FITTED / "price_dynamics.nc").resolve()))
    idx = r.run.posterior_index[:, j]
    uc = r.run.inputs[:, m.index("next_gen.Rubin.undercut_frac.default")]
    np.testing.assert_allclose(uc, post["undercut_frac"].values.reshape(-1)[idx], rtol=1e-6)


def test_residual_value_posterior_feeds_the_used_market_fair_value(tmp_path):
    """accounting.used_value_decay_per_month can be drawn from priors/fitted/residual_value.nc."""
    from engine.app import run_scenario

    path = tmp_path / "used.toml"
    path.write_text(
        f'extends = "{ROOT / "scenarios" / "baseline.toml"}"\n'
        "[accounting]\n"
        'fair_value_method = "used_market"\n'
        f'used_value_decay_per_month = {{ dist = "posterior", file = "{FITTED / "residual_value.nc"}", variable = "used_value_decay_per_month" }}\n'
    )
    n = 4000
    r = run_scenario(path, paths=n, seed=3, write=False)
    x = r.run.inputs[:, r.model.index("accounting.used_value_decay_per_month")]
    ref = xr.open_dataset(FITTED / "residual_value.nc", engine="h5netcdf", group="posterior")["used_value_decay_per_month"].values.reshape(-1)
    assert abs(x.mean() - ref.mean()) < 4.5 * ref.std() / math.sqrt(n)  # SE of a mean of n draws
    assert np.all(np.isin(x.astype(np.float32), ref.astype(np.float32)))  # every value is a posterior draw


def test_shipped_backtest_meets_the_issue_target_with_the_shipped_model():
    """priors/fitted/backtest/ is the shipped price model's rolling backtest (docs/priors.md, "Backtest"):
    the issue's origins, every fit gated, pooled 80 % coverage in the issue's 70-90 % and a CRPS no
    worse than the random walk's. Counts, not tolerances: 36 of 42 later medians inside the 80 % bands
    (0.857), CRPS 0.071 against 0.116 (the file's own figures; a rerun of `rackrisk backtest` with the
    same seed on this machine reproduces them exactly)."""
    from priors.backtest import TARGET_80

    d = json.loads((FITTED / "backtest" / "rolling_summary.json").read_text())
    assert d["origins"] == ["2024-06", "2024-09", "2024-12"] and d["horizon"] == 6
    assert all(o["diagnostics"]["gate_passed"] for o in d["per_origin"])
    pooled = d["pooled"]
    assert TARGET_80 == (0.70, 0.90) and TARGET_80[0] <= pooled["coverage_model"]["80"] <= TARGET_80[1]
    assert round(pooled["coverage_model"]["80"] * pooled["n_obs"]) == 36 and pooled["n_obs"] == 42
    assert pooled["crps_model"] <= pooled["crps_rw"]
    assert d["calibrated_80"] and d["crps_model_not_worse_than_rw"]
    # the shipped posterior is the model the backtest ran (panel, Normal product mix; the defaults)
    post = xr.open_dataset(FITTED / "price_dynamics.nc", engine="h5netcdf", group="posterior")
    assert int(post.attrs["provider_panel"]) == 1 and post.attrs["mix_noise"] == "normal"
