"""Credit ratios and loss arithmetic as pure array functions (JAX; work on NumPy inputs too).

Shapes broadcast; units in the argument names. docs/credit.md gives the equations and sources.
"""

from __future__ import annotations

import jax.numpy as jnp


def level_principal_frac(rate_monthly, n_left):
    """Principal share of the balance in a level (annuity) payment: r / ((1 + r)^n - 1); 1/n at r = 0.

    The annuity payment is B r / (1 - (1 + r)^-n); minus the interest B r it leaves B r / ((1 + r)^n - 1).
    """
    n = jnp.maximum(n_left, 1.0)
    r = jnp.where(rate_monthly > 0, rate_monthly, 1.0)
    frac = r / jnp.expm1(n * jnp.log1p(r))
    return jnp.where(rate_monthly > 0, frac, 1.0 / n)


def window_sum(window, months):
    """Sum of the most recent ``months`` entries of a most-recent-first window (W, F) -> (F,)."""
    pos = jnp.arange(window.shape[0])[:, None]
    return jnp.sum(jnp.where(pos < months[None, :], window, 0.0), axis=0)


def dscr(cfads_usd, debt_service_usd):
    """Debt service coverage ratio CFADS / debt service; NaN when no debt service is due."""
    ok = debt_service_usd > 0
    return jnp.where(ok, cfads_usd / jnp.where(ok, debt_service_usd, 1.0), jnp.nan)


def ltv(balance_usd, collateral_value_usd, haircut_frac):
    """Loan to value on the collateral net of the liquidation haircut; 0 with no balance, inf with no collateral."""
    net = collateral_value_usd * (1.0 - haircut_frac)
    safe = jnp.where(net > 0, net, 1.0)
    return jnp.where(balance_usd > 0, jnp.where(net > 0, balance_usd / safe, jnp.inf), 0.0)


def recovery_usd(ead_usd, collateral_value_usd, haircut_frac, cash_usd):
    """What the lender recovers at default: the collateral net of the haircut plus the borrower's cash, capped at EAD."""
    return jnp.minimum(ead_usd, collateral_value_usd * (1.0 - haircut_frac) + jnp.maximum(cash_usd, 0.0))


def lgd_frac(ead_usd, recovery):
    """Loss given default = (EAD - recovery) / EAD (NaN when EAD = 0)."""
    ok = ead_usd > 0
    return jnp.where(ok, (ead_usd - recovery) / jnp.where(ok, ead_usd, 1.0), jnp.nan)
