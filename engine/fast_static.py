"""The fast step's host side (engine/simulate_fast.py): eligibility, trace-time flags, host schedule.

Pure Python and NumPy on the ``Model`` (no JAX), so that the backend's tuning
(engine/backend_tuning.py), the XLA options (engine/xla_options.py) and the model split
(engine/compiled.py) can use it without importing the step itself.

* ``fast_ineligible_reason``: why a scenario needs the general step, or None (engine/simulate_fast.py's
  docstring lists the conditions and why they suffice);
* ``fast_static``: the values the step's trace reads as Python values (part of the compile key);
* ``fast_args``: its numbers, the (T,) per-month schedule (``_static_schedule``) and scalar constants,
  passed to the compiled step as an argument.
"""

from __future__ import annotations

import numpy as np

from engine.compile import Model
from engine.scenario.dists import Fixed


def fast_ineligible_reason(model: Model) -> str | None:
    """Why ``model`` needs the general step (a short phrase), or ``None`` when the fast step applies."""
    a = model.a
    if model.facilities:
        return "financing"
    if model.C != 1 or model.K != 1 or model.G != 1:
        return "more than one cohort, component or generation"
    if float(a["purchase"][0]) > 0:
        return "a purchase inside the horizon"
    if float(a["policy_write_off"]) != 0 or float(a["policy_replace"]) != 0:
        return "failures policy other than retain_book"
    if float(a["trigger_launch"]) != 0 or float(a["trigger_price_drop"]) != 0 or float(a["trigger_util"]) != 0:
        return "impairment triggers"
    if float(a["forecast_drift"]) != 0:
        return "drift forecast"
    if np.any(a["fv_used_market"] != 0):
        return "used-market fair value"
    if float(a["fv_life"]) != 0:
        return "an economic life for the fair value"
    if float(a["disposal_used_market"]) != 0:
        return "used-market disposal proceeds"
    cf = model.inputs[int(a["i_contracted_frac"][0])]
    if not (isinstance(cf.dist, Fixed) and cf.posterior_draws is None and cf.dist.value == 0.0):
        return "contracts"
    neutral = (
        np.all(a["shock_price_mult"] == 1.0) and np.all(np.isnan(a["shock_price_index"]))
        and np.all(np.isnan(a["shock_util_override"])) and np.all(a["shock_afr_mult"] == 1.0)
        and np.all(a["shock_electricity_mult"] == 1.0)
    )
    if not neutral:
        return "stress shocks"
    return None


def _annuity(d: float, n: np.ndarray) -> np.ndarray:
    """sum_{k=1..n} d^k for integer n >= 0 (float64, host)."""
    return np.array([sum(d ** k for k in range(1, int(m) + 1)) for m in n])


def _static_schedule(model: Model) -> dict[str, np.ndarray]:
    """Per-month constants (T,) of an eligible scenario, float64 on the host.

    inv_rem: 1 / remaining life at the start of month t (0 when none is left); act: in service; last: last month of life;
    tested: periodic test due and life left; cvb_pre: the no-impairment carrying amount after month
    t's depreciation (before derecognition); svb: its salvage at the end of month t; n: months left after t; a_viu, a_fv: annuity
    factors; dn_viu, dn_fv: d^n; d_coc: NPV discount factor of month t.
    """
    a = model.a
    T = model.T
    rem = a["rem"][:, 0, 0].astype(np.float64)
    act = a["active"][:, 0].astype(np.float64)
    last = a["last_month"][:, 0].astype(np.float64)
    n_left = rem - 1.0
    tested = (act > 0) & (n_left > 0) & (a["periodic"] > 0)
    n = np.maximum(n_left, 0.0)
    # the general step's cv_base / sv_base recursion, which no path-dependent quantity enters here
    cv0 = float(a["cv0"][0, 0])
    if float(a["purchase"][0]) == 0:
        cvb, svb = float(a["cost"][0, 0]), float(a["salvage"][0, 0])
    else:
        cvb, svb = cv0, float(a["salvage"][0, 0]) * (cv0 > 0)
    cvb_pre, svb_t = np.zeros(T), np.zeros(T)
    for t in range(T):
        cvb = cvb - ((cvb - svb) / max(rem[t], 1.0) if rem[t] > 0 else 0.0)
        cvb_pre[t] = cvb
        keep = 1.0 - last[t]
        cvb, svb = cvb * keep, svb * keep
        svb_t[t] = svb
    d_viu, d_fv, d_coc = float(a["d_viu"]), float(a["d_fv"]), float(a["d_coc"])
    return dict(
        inv_rem=np.where(rem > 0, 1.0 / np.maximum(rem, 1.0), 0.0), act=act, last=last, tested=tested.astype(np.float64), n=n,
        cvb_pre=cvb_pre, svb=svb_t,
        a_viu=_annuity(d_viu, n), a_fv=_annuity(d_fv, n), dn_viu=d_viu ** n, dn_fv=d_fv ** n,
        d_coc=d_coc ** np.arange(1, T + 1, dtype=np.float64),
    )


_IX_KEYS = (
    "i_price_usd_per_gpu_hour", "i_decline_rate_per_month", "i_volatility_per_month", "i_spot_frac",
    "i_spot_discount_frac", "i_util", "i_elasticity", "i_afr", "i_power_draw_frac", "i_pue",
    "i_electricity_usd_per_kwh", "i_colocation_usd_per_kw_month", "i_staff_maintenance_usd_per_gpu_month",
    "i_network_usd_per_gpu_month")
_SCHEDULE_KEYS = ("inv_rem", "act", "last", "tested", "cvb_pre", "svb", "n", "a_viu", "a_fv", "dn_viu", "dn_fv", "d_coc")


def fast_static(model: Model) -> dict:
    """The fast step's trace-time values of an eligible ``model`` (hashable; part of ``engine.compiled.Static``):
    scalar input positions, which launches are cadence ones and which are set, whether the cohort is
    bought at the start, and whether utilization takes two per-path values only (a fixed zero
    elasticity with at most one launch)."""
    a = model.a
    ix = tuple((k, int(np.asarray(a[k]).reshape(-1)[0])) for k in _IX_KEYS)
    el = model.inputs[dict(ix)["i_elasticity"]]
    return dict(
        ix=ix,
        is_cadence=tuple(bool(x > 0) for x in np.asarray(a["is_cadence"]).reshape(-1)),
        launch_mask=tuple(bool(x > 0) for x in np.asarray(a["launch_mask"]).reshape(-1)),
        purchase0=float(a["purchase"][0]) == 0,
        two_level_util=model.L <= 1 and isinstance(el.dist, Fixed) and el.posterior_draws is None and el.dist.value == 0.0,
    )


def fast_args(model: Model, dtype) -> dict:
    """The fast step's numbers of an eligible ``model``, computed on the host in float64 and cast to
    ``dtype`` (an argument of the compiled step, ``engine.compiled.ModelArgs.fast``): the (T,)
    schedule of ``_static_schedule`` (and the (T, Y) fiscal-year one-hot) and scalar constants. A
    product of two model numbers is formed here in float64, as the step's Python arithmetic did
    before it became an argument, so that the step's float32 operations are unchanged."""
    a = model.a
    sch = _static_schedule(model)
    hours = float(a["hours"])
    kw, units = float(a["kw"][0]), float(a["units"][0])
    disposal_cost = float(a["disposal_cost"])
    disp_unit = float(a["disposal_per_unit"][0]) * (1.0 - float(a["eol_disposal_cost"]))
    n0 = float(a["rem"][0, 0, 0])
    d_viu, d_fv = float(a["d_viu"]), float(a["d_fv"])
    cost, salvage, cv0 = float(a["cost"][0, 0]), float(a["salvage"][0, 0]), float(a["cv0"][0, 0])
    purchase0 = float(a["purchase"][0]) == 0
    disp0 = units * disp_unit
    scalars = dict(
        hours=hours, kw=kw, units=units, units_kw=units * kw, fixed_opex=float(a["fixed_opex"][0]),
        util_ceiling=float(a["util_ceiling"]), keep_disposal=1.0 - disposal_cost, disp_unit=disp_unit,
        materiality=float(a["materiality"]), n0=n0,
        a_viu0=float(_annuity(d_viu, [n0])[0]), a_fv0=float(_annuity(d_fv, [n0])[0]),
        disp0=disp0, disp0_dn_viu0=disp0 * d_viu ** n0, disp0_dn_fv0=disp0 * d_fv ** n0,
        cv0=cv0, cv_start=cost if purchase0 else cv0, sv_start=salvage if purchase0 else salvage * (cv0 > 0),
        active_end=float(a["active"][-1, 0]), npv_outlay=float(a["npv_outlay_pv"][0]),
        cap_sl=float(a["capital_charge_sl"][0]), cap_ann=float(a["capital_charge_annuity"][0]),
        tokens_per_mtok_hour=float(a["tokens_per_s"][0]) * 3600.0 / 1e6, cloud_price=float(a["cloud_price"][0]),
        capex_per_gpu=float(a["capex_per_gpu"][0]), n_tests=float(sch["tested"].sum()),
    )
    out = {k: np.asarray(v, dtype) for k, v in scalars.items()}
    out.update({k: np.asarray(sch[k], dtype) for k in _SCHEDULE_KEYS})
    out["fy_hot"] = np.asarray(a["fiscal_year_onehot"], dtype)
    return out
