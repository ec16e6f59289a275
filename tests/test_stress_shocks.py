"""Each stress kind changes exactly what it names, from its month on, path by path.

Every test runs a base and a stressed one-cohort scenario (tests/_util.py, float64) with the same
seed and compares the full monthly paths (store = "full"): every monthly output of every month
before the shock must be identical bit for bit (common random numbers: the draws are keyed by
seed, stream, name and path index), and from the shock month the named quantity must move by
exactly the stated amount (rtol 1e-12: float64 arithmetic, no Monte Carlo error since both runs
use the same paths).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests._util import run, write_scenario

PATHS = 48
START_T = 7  # the shock month 2026-07 is month t = 7 (start 2026-01): rows 0..5 are before it

LAUNCH = """
[[next_gen.launch]]
generation = "B200"
ship_months_from_start = 30
undercut_frac = { default = 0.1 }
"""


BASE_KW = dict(vol=0.05, util='{ dist = "uniform", low = 0.5, high = 0.9 }', afr=0.05, horizon=24, test_every=3, units=2000,
               trigger_on_launch="true", extra=LAUNCH)
POWER = ("power_draw_frac = 0.0", "power_draw_frac = 0.5", "pue = 1.0", "pue = 1.2", "electricity_usd_per_kwh = 0.0", "electricity_usd_per_kwh = 0.10")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The base scenario (one H100 cohort, power costs, a B200 launch after the horizon) and its run."""
    d = tmp_path_factory.mktemp("stress_base")
    path = write_scenario(d, "base.toml", **BASE_KW)
    text = path.read_text()
    for old, new in zip(POWER[::2], POWER[1::2]):
        text = text.replace(old, new)
    path.write_text(text)
    return path, run(path, paths=PATHS, store="full")


def _pair(base, tmp_path, stress: str):
    path, a = base
    stressed = tmp_path / "stress.toml"
    stressed.write_text(path.read_text() + stress)
    b = run(stressed, paths=PATHS, store="full")
    return a.run.monthly, b.run.monthly, a, b


def _before_identical(ma: dict, mb: dict, t_first: int) -> None:
    for k in ma:
        np.testing.assert_array_equal(ma[k][:, : t_first - 1], mb[k][:, : t_first - 1], err_msg=k)


def test_price_drop(base, tmp_path) -> None:
    ma, mb, _, _ = _pair(base, tmp_path, '[[stress.shock]]\nkind = "price_drop"\nmonth = "2026-07"\ndrop_frac = 0.3\nduration_months = 6\n')
    _before_identical(ma, mb, START_T)
    p_a, p_b = ma["price_usd_per_gpu_hour"], mb["price_usd_per_gpu_hour"]
    np.testing.assert_allclose(p_b[:, 6:12], 0.7 * p_a[:, 6:12], rtol=1e-12)  # months 7..12: x (1 - 0.3)
    np.testing.assert_allclose(p_b[:, 12:], p_a[:, 12:], rtol=1e-12)  # after the 6 months the level is back


def test_utilization_hold(base, tmp_path) -> None:
    ma, mb, _, _ = _pair(base, tmp_path, '[[stress.shock]]\nkind = "utilization_hold"\nquarter = "2026-Q3"\nutilization_frac = 0.4\nduration_months = 12\n')
    _before_identical(ma, mb, START_T)
    u_a, u_b = ma["utilization_frac"], mb["utilization_frac"]
    assert np.all(u_b[:, 6:18] == 0.4)
    np.testing.assert_array_equal(u_b[:, 18:], u_a[:, 18:])  # utilization has no memory: back to the base path
    np.testing.assert_array_equal(ma["price_usd_per_gpu_hour"], mb["price_usd_per_gpu_hour"])  # the price is not named


def test_failure_spike(base, tmp_path) -> None:
    ma, mb, _, _ = _pair(base, tmp_path, '[[stress.shock]]\nkind = "failure_spike"\nmonth = "2026-07"\nafr_mult = 20\nduration_months = 3\n')
    _before_identical(ma, mb, START_T)
    lost_a = ma["alive_gpus"][:, 5] - ma["alive_gpus"][:, 8]
    lost_b = mb["alive_gpus"][:, 5] - mb["alive_gpus"][:, 8]
    # hazard x20 at AFR 5 %: q = 1 - 0.95^(1/12) = 0.004265/month -> 0.0853; 3 months of 2000 GPUs lose
    # ~25 in the base and ~470 stressed: every path loses more
    assert np.all(lost_b > lost_a + 200)
    np.testing.assert_array_equal(ma["price_usd_per_gpu_hour"], mb["price_usd_per_gpu_hour"])


def test_power_spike(base, tmp_path) -> None:
    # energy per alive GPU-month = kW 0.7 x draw 0.5 x PUE 1.2 x $0.10 x 730 h = $30.66
    ma, mb, _, _ = _pair(base, tmp_path, '[[stress.shock]]\nkind = "power_spike"\nmonth = "2026-07"\nelectricity_mult = 3\nduration_months = 2\n')
    _before_identical(ma, mb, START_T)
    extra = mb["operating_cost_usd"] - ma["operating_cost_usd"]
    energy = 0.7 * 0.5 * 1.2 * 0.10 * 730.0
    np.testing.assert_allclose(extra[:, 6:8], (ma["alive_gpus"] * energy * 2.0)[:, 6:8], rtol=1e-9)  # (3 - 1) x energy x alive
    np.testing.assert_allclose(extra[:, 8:], 0.0, atol=1e-6)
    np.testing.assert_array_equal(ma["alive_gpus"], mb["alive_gpus"])


def test_launch_forced(base, tmp_path) -> None:
    ma, mb, _, b = _pair(base, tmp_path, '[[stress.shock]]\nkind = "launch"\ngeneration = "B200"\nmonth = "2026-07"\nundercut_frac = 0.4\n')
    _before_identical(ma, mb, START_T)
    p_a, p_b = ma["price_usd_per_gpu_hour"], mb["price_usd_per_gpu_hour"]
    # base: B200 ships at month 30 (after the horizon); stressed: at month 7 with a 40 % cut
    np.testing.assert_allclose(p_b[:, 6:], 0.6 * p_a[:, 6:], rtol=1e-12)
    names = {sp.name: sp for sp in b.model.inputs}
    assert names["next_gen.B200.ship_months_from_start"].dist.value == 7.0
    assert mb["tested"][:, 6].min() == 1.0  # the launch triggers a test in its month (trigger_on_launch)


def test_path_table(base, tmp_path) -> None:
    (tmp_path / "table.csv").write_text("quarter,price_index.H100,utilization_frac\n2026-Q3,0.8,0.5\n2026-Q4,0.6,\n")
    ma, mb, a, b = _pair(base, tmp_path, '[stress]\npath_table = "table.csv"\n')
    import hashlib

    # the CSV's content is not in the resolved scenario: its hash is in the provenance
    assert b.summary["provenance"]["stress_path_table_sha256"] == {str((tmp_path / "table.csv").resolve()): hashlib.sha256((tmp_path / "table.csv").read_bytes()).hexdigest()}
    _before_identical(ma, mb, START_T)
    p0 = a.run.inputs[:, [sp.name for sp in a.model.inputs].index("market.H100.price_usd_per_gpu_hour")]
    p_a, p_b = ma["price_usd_per_gpu_hour"][:, :, 0], mb["price_usd_per_gpu_hour"][:, :, 0]
    np.testing.assert_allclose(p_b[:, 6:9], 0.8 * p0[:, None] * np.ones(3), rtol=1e-12)  # price = start price x index
    np.testing.assert_allclose(p_b[:, 9:12], 0.6 * p0[:, None] * np.ones(3), rtol=1e-12)
    # after the table the walk continues from the imposed level with the base path's own moves
    np.testing.assert_allclose(p_b[:, 12:] / p_b[:, 11:12], p_a[:, 12:] / p_a[:, 11:12], rtol=1e-12)
    assert np.all(mb["utilization_frac"][:, 6:9] == 0.5)
    np.testing.assert_array_equal(mb["utilization_frac"][:, 9:12] == 0.5, False)  # empty cell: not imposed


def test_band_keeps_rank_path_by_path(base, tmp_path) -> None:
    """util ~ uniform(0.5, 0.9) in its 10-30 % band: x' = 0.5 + 0.4 (0.1 + 0.2 u), u = (x - 0.5) / 0.4 (same u per path)."""
    ma, mb, a, b = _pair(base, tmp_path, '[[stress.band]]\ninput = "demand.utilization_frac"\np = 0.1\nq = 0.3\n')
    j = [sp.name for sp in a.model.inputs].index("demand.utilization_frac")
    x, xb = a.run.inputs[:, j], b.run.inputs[:, j]
    u = (x - 0.5) / 0.4
    np.testing.assert_allclose(xb, 0.5 + 0.4 * (0.1 + 0.2 * u), rtol=1e-9, atol=1e-9)  # ndtri(ndtr(z)) round trip in float64
    np.testing.assert_array_equal(ma["price_usd_per_gpu_hour"], mb["price_usd_per_gpu_hour"])  # nothing else moves


def test_sofr_needs_financing(tmp_path) -> None:
    from engine.errors import ScenarioError

    base = write_scenario(tmp_path, extra='[[stress.shock]]\nkind = "sofr"\nmonth = "2026-07"\nsofr_shock_annual_frac = 0.02\n')
    with pytest.raises(ScenarioError, match=r"needs a \[financing\] section"):
        run(base, paths=8)
