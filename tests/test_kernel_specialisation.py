"""The monthly step's calendar specialisation (engine/kernel/path.py, ``calendar_only``: the valuations
and the impairment test run only in the calendar's months, under ``lax.cond``) gives the results of the
same step run month by month (``specialise=False``) on the scenarios where no triggering event can fire.

Both forms are fed identical draws (the engine's own generator, engine/random.py) and
compared path by path on every result key:

* float64: decisions (first impairment month, test counts, alive GPUs) identical; amounts equal to
  1e-9 relative (the SPEC agreement rule), with an absolute floor of 1e-9 of the cohort's cost
  (C0) for amounts that are 0 on one side and a rounding residue (~1e-8 USD) on the other
  (e.g. an IAS 36 reversal capped at a headroom of exactly 0).
* float32: the same decisions on every path; amounts within float32 rounding of the sums
  (1e-5 relative, floor 1e-5 x C0: 72 monthly float32 additions of terms up to C0 / 72 at a
  unit roundoff of 6e-8 give ~72 x 6e-8 ~ 4e-6 of C0) except on the few paths where a later
  test's comparison (carrying amount vs undiscounted cash flows or recoverable amount, a loss vs the
  materiality threshold) is a near-tie in float32 and XLA, fusing the branch apart, rounds it
  differently; at most 0.5 % of paths (1 of 32,768 observed on the reference), checked below.

A scenario with triggers (baseline.toml) is not specialised. ``monthly=True`` (fan charts, ``store =
"full"``) is specialised too: its monthly values equal the month-by-month form's (float64, same rule).
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from engine.compile import compile_model
from engine.random import draw_inputs, draw_noise, root_key
from engine.scenario.load import load_scenario
from engine.compiled import calendar_only
from engine.kernel.path import make_path_fn
from _util import reference_variant

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "scenarios" / "bench" / "reference.toml"
C0_USD = 1000 * 30000.0  # the reference cohort's cost: 1,000 GPUs x $30,000
DECISION_KEYS = ("first_impairment_month", "impairment_tests", "alive_gpus_end", "gpu_hours_available", "gpu_hours_sold")


# still eligible: salvage, life shorter than the horizon (derecognition and disposal inside it),
# both standards, disposal costs, a spot mix, a non-zero elasticity (utilization's general form)
VARIANT_SALVAGE_LIFE = [
    ("salvage_frac = 0.0 ", "salvage_frac = 0.1 "),
    ("useful_life_months = 72 ", "useful_life_months = 60 "),
    ('standards = ["asc360"]', 'standards = ["asc360", "ias36"]'),
    ("disposal_cost_frac = 0.0 ", "disposal_cost_frac = 0.05 "),
    ("spot_frac = 0.0 ", "spot_frac = 0.3\nspot_discount_frac = 0.2 "),
    ("price_elasticity = 0.0 ", "price_elasticity = 0.5 "),
]
# still eligible: bought a year before the start (opening book), tests every 6 months, no launch,
# a different fair-value rate
VARIANT_OPENING_BOOK = [
    ('purchase_month = "2026-01"', 'purchase_month = "2025-01"'),
    ("test_every_months = 3 ", "test_every_months = 6 "),
    ("fair_value_discount_rate_annual_frac = 0.10", "fair_value_discount_rate_annual_frac = 0.12"),
    ("[[next_gen.launch]]\n", "[[next_gen.launch_removed]]\n"),
]


def _strip_launch(path: Path) -> None:
    text = path.read_text()
    head, tail = text.split("[[next_gen.launch_removed]]")
    tail = tail[tail.index("[demand]"):]
    path.write_text(head + tail)


def _scenario(tmp_path: Path, which: str) -> Path:
    if which == "reference":
        return REF
    if which == "salvage_life":
        return reference_variant(tmp_path, "v1.toml", VARIANT_SALVAGE_LIFE)
    p = reference_variant(tmp_path, "v2.toml", VARIANT_OPENING_BOOK)
    _strip_launch(p)
    return p


def _run_step(model, dtype, n: int, *, fast: bool, monthly: bool, layout=None):
    """The step, specialised (``fast``) or month by month, on the first ``n`` paths' draws (root key 3):
    what ``make_path_fn`` returns, vmapped (the CPU layout unless ``layout``)."""
    path = make_path_fn(model, dtype, monthly=monthly, specialise=fast, layout=layout or {"select": False, "unroll": 1})

    def one(i):
        th, _ = draw_inputs(model, root_key(3), i, dtype)
        zp, zf = draw_noise(model, root_key(3), i, dtype)
        return path(th, zp, zf)

    return jax.jit(jax.vmap(one))(jnp.arange(n, dtype=jnp.uint32))


def _as64(d: dict) -> dict:
    return {k: np.asarray(v, np.float64) for k, v in d.items()}


def _both(model, dtype, n: int):
    """Per-path results of the month-by-month and the specialised step on identical draws, as float64."""
    return _as64(_run_step(model, dtype, n, fast=False, monthly=False)[0]), _as64(_run_step(model, dtype, n, fast=True, monthly=False)[0])


def _check_float64(got: dict, want: dict, exact_keys) -> None:
    """Decisions (``exact_keys``) identical; amounts to 1e-9 relative, floor 1e-9 x C0 (module docstring)."""
    assert set(got) == set(want)
    for k in want:
        assert got[k].shape == want[k].shape, k
        assert np.array_equal(np.isnan(got[k]), np.isnan(want[k])), k
        if k in exact_keys:
            assert np.array_equal(got[k], want[k], equal_nan=True), k
        else:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-9, atol=1e-9 * C0_USD, equal_nan=True, err_msg=k)


@pytest.mark.parametrize("which", ["salvage_life", "opening_book"])
def test_specialised_step_equals_month_by_month_float64(tmp_path, which):
    """600 paths, float64: every per-path result and every monthly key (price, utilization, alive GPUs, carrying
    amounts, forecasts, losses, reversals, test flags, cash flows), month by month. For salvage_life also: the
    per-path results of the per-path-only step (what the runners' main pass compiles) equal those of the monthly
    one bit for bit (the monthly outputs are added; no operation of the result chain changes). The reference
    itself is compared in float32 below and against the SPEC's values in tests/test_reference_workload.py."""
    model = compile_model(load_scenario(_scenario(tmp_path, which)))
    assert calendar_only(model)
    jax.config.update("jax_enable_x64", True)
    (g_res, g_mon), (f_res, f_mon) = (_run_step(model, jnp.float64, 600, fast=fast, monthly=True) for fast in (False, True))
    g_res, g_mon, f_res, f_mon = _as64(g_res), _as64(g_mon), _as64(f_res), _as64(f_mon)
    _check_float64(f_res, g_res, DECISION_KEYS)
    _check_float64(f_mon, g_mon, ("tested", "alive_gpus"))
    if which == "salvage_life":
        f_only = _as64(_run_step(model, jnp.float64, 600, fast=True, monthly=False)[0])
        for k in f_only:
            assert np.array_equal(f_res[k], f_only[k], equal_nan=True), k
    # not vacuous: many paths impair, losses are booked in some months, and the forecasts are non-zero
    assert (g_res["first_impairment_month"] > 0).mean() > 0.1
    assert (g_mon["impairment_loss_usd"] > 0).any() and (np.abs(g_mon["value_in_use_usd"]) > 0).mean() > 0.5


def test_specialised_step_equals_month_by_month_float32():
    model = compile_model(load_scenario(REF))
    g, f = _both(model, jnp.float32, 4000)
    for k in DECISION_KEYS:
        assert np.array_equal(g[k], f[k], equal_nan=True), k
    for k in g:
        assert np.array_equal(np.isnan(g[k]), np.isnan(f[k])), k
        close = np.isclose(f[k], g[k], rtol=1e-5, atol=1e-5 * C0_USD, equal_nan=True)
        per_path = close.reshape(close.shape[0], -1).all(axis=1)
        assert per_path.mean() >= 0.995, (k, int((~per_path).sum()))


def test_the_calendar_rule(tmp_path):
    """``calendar_only``: the reference (no trigger, no contracts) is specialised; so are a write_off policy, a
    drift forecast, a second cohort and contracts renewed in full (nothing can trigger a test there); a launch
    trigger, a price-drop trigger, a utilization trigger, lapsing contracts and the baseline are not."""
    base = compile_model(load_scenario(ROOT / "scenarios" / "baseline.toml"))
    assert calendar_only(compile_model(load_scenario(REF))) and not calendar_only(base)
    contracts = ("contracted_frac = 0.0 ", "contracted_frac = 0.3\ncontract_price_usd_per_gpu_hour = 2.0\ncontract_term_months = 24 ")
    kept = {
        "failures": [('policy = "retain_book"', 'policy = "write_off"')],
        "drift": [('forecast = "flat"', 'forecast = "drift"')],
        "renewed": [(contracts[0], contracts[1] + '\ncontract_expiry = "renew"\nrenewal_share_frac = 1.0 ')],
    }
    lost = {
        "contracts": [contracts],
        "launch_trigger": [("trigger_on_launch = false", "trigger_on_launch = true")],
        "price_trigger": [("trigger_price_drop_frac = 0 ", "trigger_price_drop_frac = 0.3 ")],
        "util_trigger": [("trigger_utilization_below_frac = 0 ", "trigger_utilization_below_frac = 0.4 ")],
    }
    for name, subs in {**kept, **lost}.items():
        model = compile_model(load_scenario(reference_variant(tmp_path, f"{name}.toml", subs)))
        assert calendar_only(model) == (name in kept), name
    text = REF.read_text()
    i = text.index("[[fleet.cohort]]")
    j = text.index("[market.H100]")
    second = text[i:j].replace('name = "H100_ref"', 'name = "H100_two"')
    p = tmp_path / "two.toml"
    p.write_text(text[:j] + second + text[j:])
    assert calendar_only(compile_model(load_scenario(p)))


def test_specialised_runs_are_chunk_size_invariant():
    """A run of the reference through the runner (specialised step) is bit-identical for chunks of 256 and 700."""
    from _util import run

    a = run(REF, paths=700, seed=5, chunk_paths=256)
    b = run(REF, paths=700, seed=5, chunk_paths=700)
    for k in a.run.scalars:
        assert np.array_equal(a.run.scalars[k], b.run.scalars[k], equal_nan=True), k


def test_shocks_drawn_inside_the_scan_equal_the_drawn_arrays_bit_for_bit():
    """``make_indexed_path_fn`` (what the runners vmap) draws each month's shocks in the scan from the path's keys
    (engine.random.noise_keys / monthly_shocks); per-path results and monthly values equal, bit for bit, the
    step fed the (T, G) and (T, C) arrays of ``draw_noise`` (same bits, same transform)."""
    from engine.kernel.path import make_indexed_path_fn

    model = compile_model(load_scenario(REF))
    arrays_res, arrays_mon = _run_step(model, jnp.float32, 512, fast=True, monthly=True)
    one = make_indexed_path_fn(model, jnp.float32, monthly=True)
    keyed_res, keyed_mon, _, _ = jax.jit(jax.vmap(lambda i: one(root_key(3), i)))(jnp.arange(512, dtype=jnp.uint32))
    for got, want in ((keyed_res, arrays_res), (keyed_mon, arrays_mon)):
        for k in want:
            assert np.array_equal(np.asarray(want[k]), np.asarray(got[k]), equal_nan=True), k
    assert (np.asarray(keyed_res["first_impairment_month"]) > 0).mean() > 0.1  # not vacuous


@pytest.mark.parametrize(("which", "unroll"), [("salvage_life", 5)])
def test_gpu_layout_gives_the_same_decisions_and_amounts_to_float32_rounding(tmp_path, which, unroll):
    """The GPU layout (engine.backend_tuning: the impairment test computed every month and selected with
    ``where``, launch sums without a dot, ``unroll`` months per iteration; 5 does not divide T = 72, so the
    remainder iteration is exercised) runs the same operations on the values it keeps, but XLA fuses them
    differently (no branch boundary), so roundings may differ. On the XLA:CPU, float32, 600 paths:
    decisions (first impairment month, test counts, alive GPUs, hours, months tested) identical; amounts
    within $64 = 32 float32 ulps at the cohort's cost (C0 = $3e7 lies in [2^24, 2^25): ulp $2)."""
    model = compile_model(load_scenario(_scenario(tmp_path, which)))

    def run(**layout):
        return _run_step(model, jnp.float32, 600, fast=True, monthly=True, layout=layout)

    (r0, m0), (r1, m1) = run(select=False, unroll=1), run(select=True, unroll=unroll)
    for k in DECISION_KEYS:
        assert np.array_equal(np.asarray(r0[k]), np.asarray(r1[k]), equal_nan=True), k
    assert np.array_equal(np.asarray(m0["tested"]), np.asarray(m1["tested"]))
    for got, want in ((r1, r0), (m1, m0)):
        for k in want:
            assert np.allclose(np.asarray(got[k], np.float64), np.asarray(want[k], np.float64), rtol=0, atol=64.0, equal_nan=True), k
    assert (np.asarray(r0["impairment_loss_usd"]) > 0).mean() > 0.05  # not vacuous: the selected branch books losses


def test_replacing_an_input_the_model_fixes_at_zero_takes_effect():
    """The reference fixes the elasticity and the contracted share at 0, so its step is specialised without them;
    engine/sensitivity/override.py replaces drawn inputs and must see their effect: 400 paths, elasticity 0.8
    (utilization then answers the price's deviation from its trend) and a 50 % contracted share (half the hours
    at the contract price instead of the market's) each change revenue on every path (the price moves on all)."""
    from engine.sensitivity.override import Evaluator

    model = compile_model(load_scenario(REF))
    ev = Evaluator(model, chunk_paths=400)
    paths = np.arange(400)
    base = ev.evaluate(seed=3, paths=paths).scalars["revenue_usd"]
    for name, value in (("demand.price_elasticity", 0.8), ("market.H100.contracted_frac", 0.5)):
        j = next(j for j, sp in enumerate(model.inputs) if sp.name == name)
        over = np.zeros(ev.N)
        over[j] = value
        mask = np.zeros(ev.N)
        mask[j] = 1.0
        got = ev.evaluate(seed=3, paths=paths, theta_over=over, mask=mask).scalars["revenue_usd"]
        assert np.all(got != base), name
