"""Fleet quantities per path, defined once for the host (NumPy, exact summary) and the device (JAX, streamed).

``fleet_paths(capital, res, xp=, sum_cohorts=)`` derives, from a path function's per-path results
``res`` (name -> (B, ..., C) arrays, C = cohorts), the fleet's per-path values that summary.json
reduces. The caller passes the array module and the way cohorts are added, the only thing that
differs between the two routes:

* exact (engine/stats/exact.py): ``xp = numpy``, ``sum_cohorts = sum_cohorts_float64`` (float64,
  NumPy's own reduction order);
* streamed (``device_fleet_paths``, called inside the compiled chunk function): ``xp = jax.numpy``,
  ``sum_cohorts = sum_cohorts_in_order`` (the run's dtype, explicit adds left to right, so the order
  does not depend on the batch size or the device count).

A pure rule on per-path results (layer 2 of docs/architecture.md): the streamed runner may import it.

The two summations round differently in the last bits, within the streamed route's documented
tolerance (engine/reduce.py); each route's numbers are reproducible on their own.
"""

from __future__ import annotations

import numpy as np

def first_month(months, xp=np):
    """(..., K) months (1-based, 0 = never) -> (...): the earliest positive one over the last axis, 0 if none.

    The fleet's first impairment month over its cohorts, a portfolio's first default over its facilities.
    """
    big = xp.where(months > 0, months, xp.inf).min(axis=-1)
    return xp.where(xp.isfinite(big), big, 0.0)


def sum_cohorts_float64(x):
    """NumPy: (B, ..., C) -> (B, ...) in float64 (the exact route)."""
    return np.asarray(x, dtype=np.float64).sum(axis=-1)


def sum_cohorts_in_order(x):
    """Sum over the last axis (cohorts) as explicit adds, left to right: (B, ..., C) -> (B, ...).

    ``x.sum(axis=-1)`` leaves the order of the C additions to XLA, which vectorised it differently for
    512 paths a device than for 1,024 (the baseline's fleet NPV of 159 of 1,024 paths differed in the
    last bit between one and two host devices); elementwise adds are never reordered.
    """
    total = x[..., 0]
    for c in range(1, x.shape[-1]):
        total = total + x[..., c]
    return total


def fleet_capital_usd(model) -> tuple[float, float]:
    """The fleet's straight-line and annuity capital charges over the horizon, USD: the sums of
    ``model.a["capital_charge_sl"]`` and ``["capital_charge_annuity"]`` (C,), in float64 on the host."""
    return float(np.sum(model.a["capital_charge_sl"])), float(np.sum(model.a["capital_charge_annuity"]))


def fleet_paths(capital, res: dict, *, xp, sum_cohorts) -> dict:
    """The fleet's per-path values: name -> (B, ...) array.

    Args:
        capital: ``(straight-line, annuity)`` capital charges of the fleet, USD (``fleet_capital_usd``; on the
            device the same numbers as arguments of the compiled function, ``engine.compiled.ModelArgs``).
        res: per-path results; uses first_impairment_month (B, S, C), impairment_loss_usd (B, S, C),
            impairment_reversal_usd (B, C), npv_usd, operating_cost_usd, gpu_hours_sold,
            gpu_hours_available (B, C).

    Returns ``fleet_first_impairment_month`` (B, S; 0 = never), ``fleet_impairment_loss_usd`` (B, S),
    ``fleet_impairment_reversal_usd``, ``fleet_npv_usd``, ``fleet_tco_usd_per_gpu_hour`` (capital
    charge + operating cost over GPU-hours available), ``fleet_tco_usd_per_delivered_gpu_hour`` (over
    GPU-hours sold), ``fleet_tco_annuity_usd_per_delivered_gpu_hour`` (annuity capital charge) (B,),
    and the 0/1 flags ``fleet_impaired_one_standard_only`` (B, 2) and ``impaired_one_standard_only``
    (B, 2, C): [impaired under ASC 360 and not IAS 36, under IAS 36 and not ASC 360], for the fleet
    (any cohort) and per cohort.
    """
    first = res["first_impairment_month"]  # (B, S, C)
    cap, cap_ann = capital
    opex = sum_cohorts(res["operating_cost_usd"])
    h_sold = sum_cohorts(res["gpu_hours_sold"])
    h_avail = sum_cohorts(res["gpu_hours_available"])
    imp = first > 0  # (B, S, C)
    fleet_imp = imp.any(axis=-1)  # (B, S)
    return {
        "fleet_first_impairment_month": first_month(first, xp),
        "fleet_impairment_loss_usd": sum_cohorts(res["impairment_loss_usd"]),
        "fleet_impairment_reversal_usd": sum_cohorts(res["impairment_reversal_usd"]),
        "fleet_npv_usd": sum_cohorts(res["npv_usd"]),
        "fleet_tco_usd_per_gpu_hour": (cap + opex) / h_avail,
        "fleet_tco_usd_per_delivered_gpu_hour": (cap + opex) / h_sold,
        "fleet_tco_annuity_usd_per_delivered_gpu_hour": (cap_ann + opex) / h_sold,
        "fleet_impaired_one_standard_only": xp.stack([fleet_imp[:, 0] & ~fleet_imp[:, 1], fleet_imp[:, 1] & ~fleet_imp[:, 0]], axis=1).astype(first.dtype),
        "impaired_one_standard_only": xp.stack([imp[:, 0] & ~imp[:, 1], imp[:, 1] & ~imp[:, 0]], axis=1).astype(first.dtype),
    }


def device_fleet_paths(capital, res: dict) -> dict:
    """The fleet's per-path values on the device (JAX, inside the chunk function, the run's dtype): name -> (B, ...).
    ``capital`` as ``fleet_paths``."""
    import jax.numpy as jnp

    return fleet_paths(capital, res, xp=jnp, sum_cohorts=sum_cohorts_in_order)
