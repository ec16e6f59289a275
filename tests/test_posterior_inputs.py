"""`dist = "posterior"` inputs: joint draws from a fitted file, recorded per path."""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from _util import run, write_scenario


def _write_posterior(path, gate=1):
    """A small ArviZ-layout file: 2 chains x 500 draws of two correlated variables."""
    rng = np.random.default_rng(0)
    a = rng.normal(0.02, 0.005, size=(2, 500))
    b = 0.7 + 2.0 * (a - 0.02) + rng.normal(0, 0.002, size=(2, 500))  # strongly tied to a
    xr.Dataset(attrs={"rackrisk_gate_passed": gate}).to_netcdf(path, engine="h5netcdf")
    post = xr.Dataset({"decline": (("chain", "draw"), a), "util": (("chain", "draw"), b)})
    post.to_netcdf(path, engine="h5netcdf", group="posterior", mode="a")
    return a.reshape(-1), b.reshape(-1)


def test_posterior_draws_are_joint_and_recorded(tmp_path):
    a, b = _write_posterior(tmp_path / "fit.nc")
    path = write_scenario(
        tmp_path,
        decline='{ dist = "posterior", file = "fit.nc", variable = "decline" }',
        util='{ dist = "posterior", file = "fit.nc", variable = "util" }',
    )
    n = 20_000
    r = run(path, paths=n, seed=8)
    m = r.model
    x = r.run.inputs[:, m.index("market.H100.decline_rate_per_month")]
    y = r.run.inputs[:, m.index("demand.utilization_frac")]
    idx = r.run.posterior_index[:, 0]
    # each path used one sample index for both variables (the joint draw is kept)
    np.testing.assert_allclose(x, a[idx], rtol=1e-6)
    np.testing.assert_allclose(y, b[idx], rtol=1e-6)
    # moments match the posterior's: SE of the mean = sd / sqrt(n); tolerance 4.5 SE
    assert abs(x.mean() - a.mean()) < 4.5 * a.std() / math.sqrt(n)
    assert abs(np.corrcoef(x, y)[0, 1] - np.corrcoef(a, b)[0, 1]) < 0.01
    # indices cover the file uniformly: every one of the 1,000 samples is used about 20 times
    counts = np.bincount(idx, minlength=1000)
    assert counts.min() > 0


def test_posterior_that_failed_its_gate_needs_allow_unconverged(tmp_path):
    import pytest

    from engine.errors import ScenarioError

    _write_posterior(tmp_path / "fit.nc", gate=0)
    path = write_scenario(tmp_path, decline='{ dist = "posterior", file = "fit.nc", variable = "decline" }')
    with pytest.raises(ScenarioError, match="convergence gate"):
        run(path, paths=10)
    r = run(path, paths=10, allow_unconverged=True)
    assert r.run.inputs.shape[0] == 10


def test_posterior_predictive_group_and_missing_group(tmp_path):
    import pytest

    from engine.errors import ScenarioError

    a, _ = _write_posterior(tmp_path / "fit.nc")
    pp = xr.Dataset({"util_new": (("chain", "draw"), np.full((2, 500), 0.6))})
    pp.to_netcdf(tmp_path / "fit.nc", engine="h5netcdf", group="posterior_predictive", mode="a")
    path = write_scenario(
        tmp_path,
        decline='{ dist = "posterior", file = "fit.nc", variable = "decline" }',
        util='{ dist = "posterior", file = "fit.nc", variable = "util_new", group = "posterior_predictive" }',
    )
    r = run(path, paths=50)
    assert np.allclose(r.run.inputs[:, r.model.index("demand.utilization_frac")], 0.6)
    bad = write_scenario(tmp_path, name="bad.toml", decline='{ dist = "posterior", file = "fit.nc", variable = "decline", group = "posterior_predictive" }')
    with pytest.raises(ScenarioError, match="not in the posterior_predictive group"):
        run(bad, paths=10)
    (tmp_path / "nopp.nc").write_bytes(b"")
    _write_posterior(tmp_path / "nopp.nc")
    bad2 = write_scenario(tmp_path, name="bad2.toml", util='{ dist = "posterior", file = "nopp.nc", variable = "util", group = "posterior_predictive" }')
    with pytest.raises(ScenarioError, match="no group 'posterior_predictive'"):
        run(bad2, paths=10)


def test_file_reader_gives_xarrays_values(tmp_path):
    """engine/inputs/posterior.py reads netCDF4 with h5py: the draws equal what xarray decodes, for labelled
    and unlabelled dims, (draw, chain) order, a packed variable (scale_factor, add_offset, an integer
    _FillValue: CF decoding, in float64) and a dim selected by label or by index."""
    from engine.inputs.posterior import load_draws
    from engine.scenario.dists import Posterior

    rng = np.random.default_rng(1)
    x = rng.normal(0.02, 0.005, size=(2, 50, 3))
    packed = np.round(rng.uniform(0.5, 0.9, size=(2, 50)) * 1000).astype(np.int16)
    xr.Dataset(attrs={"rackrisk_gate_passed": 1}).to_netcdf(tmp_path / "f.nc", engine="h5netcdf")
    post = xr.Dataset(
        {"by_gen": (("chain", "draw", "generation"), x), "no_coord": (("chain", "draw", "k"), x),
         "swapped": (("draw", "chain"), x[..., 0].T), "packed": (("chain", "draw"), packed * 0.001)},
        coords={"generation": ["A100", "H100", "B200"]},
    )
    post["packed"].encoding = {"scale_factor": 0.001, "add_offset": 0.0, "_FillValue": np.int16(-1), "dtype": "int16"}  # stored as `packed`
    post.to_netcdf(tmp_path / "f.nc", engine="h5netcdf", group="posterior", mode="a")
    ref = xr.open_dataset(tmp_path / "f.nc", engine="h5netcdf", group="posterior")

    def draws(variable, **select):
        return load_draws(Posterior(dist="posterior", file=str(tmp_path / "f.nc"), variable=variable, select=select),
                          field="market.H100.utilization_frac" if variable == "packed" else "market.H100.decline_rate_per_month")

    np.testing.assert_array_equal(draws("by_gen", generation="H100"), ref["by_gen"].sel(generation="H100").values.reshape(-1))
    np.testing.assert_array_equal(draws("no_coord", k=2), ref["no_coord"].isel(k=2).values.reshape(-1))
    np.testing.assert_array_equal(draws("swapped"), ref["swapped"].transpose("chain", "draw").values.reshape(-1))
    # CF decoding in float64: stored integer x scale_factor + add_offset (xarray rounds it to float32 for int16)
    np.testing.assert_array_equal(draws("packed"), packed.astype(np.float64).reshape(-1) * 0.001)
    np.testing.assert_allclose(draws("packed"), ref["packed"].values.reshape(-1), rtol=1e-7)  # float32's rounding
