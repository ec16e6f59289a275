"""Straight-line depreciation, re-based whenever the carrying amount or the life changes.

One month of depreciation of a component with carrying amount ``cv``, salvage ``salvage`` and
``rem`` months of useful life left at the start of the month:

    dep = (cv - salvage) / rem        if rem > 0, else 0

With nothing changing this is exactly straight line, (cost - salvage) / life each month. After an
impairment (ASC 360-10-35-20, IAS 36.63) ``cv`` is the new basis; after a change of useful life
(ASC 250-10-45-17, prospective) ``rem`` is the new remaining life; the same formula then spreads
the remaining depreciable amount over the remaining life, which is what both rules require.
"""

from __future__ import annotations

import jax.numpy as jnp


def monthly_depreciation(cv, salvage, rem):
    """Depreciation for one month. All arrays broadcast together; units: USD, USD, months."""
    return jnp.where(rem > 0, (cv - salvage) / jnp.maximum(rem, 1.0), 0.0)


def straight_line_schedule(cost_usd: float, salvage_usd: float, life_months: int, change_at_month: int | None = None, new_life_months: int | None = None) -> list[float]:
    """Carrying amount at the end of each month 1..life (host helper for tests and docs).

    ``change_at_month``: the first month (1-based) in which ``new_life_months`` (total life from
    purchase) applies.
    """
    cv = cost_usd
    out = []
    month = 1
    life = life_months
    while True:
        if change_at_month is not None and month == change_at_month:
            life = new_life_months
        rem = life - (month - 1)
        if rem <= 0:
            break
        cv -= (cv - salvage_usd) / rem
        out.append(cv)
        month += 1
    return out
