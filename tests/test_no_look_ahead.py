"""No look-ahead on the full baseline (four cohorts, contracts, launches, triggers, drift forecast).

An impairment test at month t may use the path's state at t and the scenario's expectations, never
the path's own future. Two checks, path by path, on every month-k-or-earlier output:
1. replacing every price and failure shock after month k changes nothing at months <= k;
2. moving launches that have not shipped by month k to other dates after k, with other undercuts,
   changes nothing at months <= k.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from engine.compile import compile_model
from engine.random import draw_inputs, draw_noise, root_key
from engine.scenario.load import load_scenario
from engine.kernel.path import make_path_fn

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
DECISIONS = ("impairment_loss_usd", "impairment_reversal_usd", "tested", "carrying_amount_usd", "value_in_use_usd", "undiscounted_cash_flows_usd", "fair_value_usd", "cash_flow_usd")


def _setup(n=256):
    model = compile_model(load_scenario(BASELINE))
    dtype = jnp.float32
    root = root_key(12)
    idx = jnp.arange(n, dtype=jnp.uint32)
    theta, _ = jax.vmap(lambda i: draw_inputs(model, root, i, dtype))(idx)
    zp, zf = jax.vmap(lambda i: draw_noise(model, root, i, dtype))(idx)
    f = jax.jit(jax.vmap(make_path_fn(model, dtype, monthly=True)))
    return model, f, np.asarray(theta), np.asarray(zp), np.asarray(zf)


def _assert_prefix_equal(a, b, k):
    for name in DECISIONS:
        assert np.array_equal(np.asarray(a[name])[:, :k], np.asarray(b[name])[:, :k]), name


def test_future_shocks_do_not_change_past_decisions():
    model, f, theta, zp, zf = _setup()
    _, base = f(theta, zp, zf)
    rng = np.random.default_rng(1)
    for k in (6, 18, 36):
        zp2, zf2 = zp.copy(), zf.copy()
        zp2[:, k:] = rng.standard_normal(zp2[:, k:].shape)
        zf2[:, k:] = rng.standard_normal(zf2[:, k:].shape)
        _, alt = f(theta, zp2, zf2)
        _assert_prefix_equal(base, alt, k)
        assert not np.array_equal(np.asarray(base["cash_flow_usd"])[:, k:], np.asarray(alt["cash_flow_usd"])[:, k:])


def test_unshipped_launches_do_not_change_past_decisions():
    model, f, theta, zp, zf = _setup()
    k = 12
    ship = [model.index(f"next_gen.{g}.ship_months_from_start") for g in ("Rubin", "RubinUltra")]
    undercuts = [j for j, s in enumerate(model.inputs) if ".undercut_frac." in s.name and not s.name.startswith("next_gen.Rubin.")]
    theta = theta.copy()
    theta[:, ship[0]] = np.maximum(theta[:, ship[0]], k + 0.5)  # Rubin not shipped by month k on any path
    _, base = f(theta, zp, zf)
    alt_theta = theta.copy()
    alt_theta[:, ship[0]] = theta[:, ship[0]] + 7.0  # Rubin later still
    alt_theta[:, ship[1]] = theta[:, ship[1]] + 3.0  # Rubin Ultra later
    alt_theta[:, undercuts] = 0.9 - theta[:, undercuts] * 0.5  # other undercuts for the later launches
    rubin_uc = [j for j, s in enumerate(model.inputs) if s.name.startswith("next_gen.Rubin.undercut_frac.")]
    alt_theta[:, rubin_uc] = 0.5  # and a deeper Rubin undercut, which only bites after it ships
    _, alt = f(alt_theta, zp, zf)
    _assert_prefix_equal(base, alt, k)
    assert not np.array_equal(np.asarray(base["price_usd_per_gpu_hour"]), np.asarray(alt["price_usd_per_gpu_hour"]))
