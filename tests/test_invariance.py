"""Invariance: chunk size, path-count prefix, scaling all dollar amounts, deterministic inputs."""

from __future__ import annotations

import json

import numpy as np

from _util import run, write_scenario

BASELINE = "scenarios/baseline.toml"


def _same(a: dict, b: dict, n: int | None = None) -> None:
    for k in a:
        x, y = a[k], b[k]
        if n is not None:
            x, y = x[:n], y[:n]
        assert np.array_equal(x, y, equal_nan=True), k


def test_chunk_size_does_not_change_any_number():
    """Per-path results and the whole summary are bit-identical for chunks of 256, 1000 and 3000.

    3,000 paths are all fan paths, so these are the monthly function's chunks (at most the run's chunk): 256,
    1,024 and 2,048 paths. On the suite's 4 host devices (conftest.py) a chunk of 256 is 64 paths a device,
    where one gathered block of the month's test holds the whole chunk (engine/compaction.py): a shortcut that
    ran such chunks ungathered changed the last bits of breakeven_utilization_frac."""
    runs = [run(BASELINE, paths=3000, seed=1, chunk_paths=c) for c in (256, 1000, 3000)]
    for r in runs[1:]:
        _same(runs[0].run.scalars, r.run.scalars)
        assert np.array_equal(runs[0].run.inputs, r.run.inputs)
        assert json.dumps(runs[0].summary, sort_keys=True) == json.dumps(r.summary, sort_keys=True)


def test_path_count_prefix():
    """The first 1000 paths of a 2500-path run are the 1000 paths of a 1000-path run."""
    small = run(BASELINE, paths=1000, seed=2, chunk_paths=512)
    large = run(BASELINE, paths=2500, seed=2, chunk_paths=512)
    _same(small.run.scalars, large.run.scalars, n=1000)


def test_scaling_capex_and_prices_together(tmp_path):
    """Multiplying every dollar input by k leaves decisions unchanged and scales dollar results by k.

    The reference workload (SPEC) has dollars in capex, price, electricity and fixed opex; in
    float64 the flags and months agree exactly and the amounts to a relative 1e-9.
    """
    base = open("scenarios/bench/reference.toml").read()
    k = 3.0
    scaled = (
        base.replace("capex_usd_per_gpu = 30000", f"capex_usd_per_gpu = {30000 * k}")
        .replace("price_usd_per_gpu_hour = 2.50", f"price_usd_per_gpu_hour = {2.5 * k}")
        .replace("electricity_usd_per_kwh = 0.08", f"electricity_usd_per_kwh = {0.08 * k}")
        .replace("fixed_opex_usd_per_month = 20000", f"fixed_opex_usd_per_month = {20000 * k}")
        .replace('dtype = "float32"', 'dtype = "float64"')
    )
    assert scaled.count(str(30000 * k)) == 1 and scaled.count(str(2.5 * k)) == 1, "reference.toml changed: update this test"
    (tmp_path / "a.toml").write_text(base.replace('dtype = "float32"', 'dtype = "float64"'))
    (tmp_path / "b.toml").write_text(scaled)
    a = run(tmp_path / "a.toml", paths=2000, seed=4).run.scalars
    b = run(tmp_path / "b.toml", paths=2000, seed=4).run.scalars
    assert np.array_equal(a["first_impairment_month"], b["first_impairment_month"])
    for name in ("impairment_loss_usd", "first_impairment_loss_usd", "npv_usd", "tco_usd_per_delivered_gpu_hour", "operating_cost_usd"):
        np.testing.assert_allclose(b[name], k * a[name], rtol=1e-9, atol=1e-6, err_msg=name)


def test_fixed_inputs_and_zero_volatility_give_identical_paths(tmp_path):
    """With every input fixed, zero volatility and zero failure rate, all paths are the same."""
    path = write_scenario(tmp_path, vol=0.0, afr=0.0, price=1.5, capex=30000.0, life=36, horizon=36, test_every=3)
    r = run(path, paths=300, seed=9)
    for name, arr in r.run.scalars.items():
        assert np.all(np.equal(arr, arr[:1]) | (np.isnan(arr) & np.isnan(arr[:1]))), name
    assert np.all(r.run.inputs == r.run.inputs[:1])
