"""The SOFR path of one Monte Carlo path, and each facility's monthly rate (JAX, pure).

    SOFR_t = curve_t + level + shock_t          (T,) nominal annual
    rate_{t,f} = max(SOFR_t, floor_f) + spread_f    floating facilities
               = fixed_f                             fixed-rate facilities

``curve_t`` is [financing.sofr] curve_annual_frac by run year (0 when omitted), ``level`` the input
``financing.sofr.level_annual_frac`` (drawn once per path), and ``shock_t`` the Model array
``sofr_shock_annual_frac`` (T,), zeros unless a stress scenario fills it. This is the only function
that forms SOFR.
"""

from __future__ import annotations

import jax.numpy as jnp


def sofr_monthly(theta, A) -> jnp.ndarray:
    """(T,) SOFR, nominal annual, for the path whose inputs are ``theta``."""
    return A["fin_sofr_curve"] + theta[A["i_sofr_level"]] + A["sofr_shock_annual_frac"]


def facility_rates(sofr, A) -> jnp.ndarray:
    """(T, F) nominal annual rate of each facility each month."""
    floating = jnp.maximum(sofr[:, None], A["fin_floor"][None, :]) + A["fin_spread"][None, :]
    return jnp.where(A["fin_is_floating"][None, :] > 0, floating, A["fin_fixed_rate"][None, :])
