"""ASC 360 and IAS 36 impairment tests on asset groups, as pure array functions.

Shapes: ``cv`` (C, K) carrying amount by cohort and component; group matrix ``group`` (NG, C)
with 1 where cohort c belongs to group g (cohort level: identity; fleet level: ones); per-cohort
values (C,) are summed into groups with ``group @ x``. ``tested`` (C,) marks cohorts tested now.

ASC 360-10-35-17 (held and used): step 1, the group's carrying amount is not recoverable if it
exceeds the undiscounted cash flows from use and eventual disposition (``recoverable_undisc``);
step 2, loss = carrying amount - fair value. The loss is allocated to cohorts and components pro
rata to carrying amounts (35-28; the floor at an asset's own fair value is not modelled). The
written-down amount is the new cost basis (35-20): no reversal, ever.

IAS 36.59: loss = carrying amount - recoverable amount, recoverable amount = max(FVLCD, VIU)
(36.18). IAS 36.114-117: a later test whose recoverable amount exceeds the carrying amount
reverses past losses, capped at the carrying amount that would stand had no loss been recognised
(``cv_no_impairment``); allocated pro rata to the carrying amounts (36.122), no asset above its own
no-impairment amount, the excess going to the others (36.123).
"""

from __future__ import annotations

import jax.numpy as jnp


def _alloc(amount_g, weights_ck, group, include_c):
    """Spread group amounts (NG,) over (C, K) in proportion to weights within each group."""
    w = weights_ck * include_c[:, None]
    w_c = w.sum(axis=1)
    w_g = group @ w_c
    share_g = jnp.where(w_g > 0, amount_g / jnp.where(w_g > 0, w_g, 1.0), 0.0)
    return w * (group.T @ share_g)[:, None]


def asc360(cv, *, recoverable_undisc, fair_value, tested, group):
    """One ASC 360 test. Returns (loss_ck, impaired_g).

    Args:
        cv: (C, K) carrying amounts, USD. recoverable_undisc, fair_value: (C,) USD per cohort.
        tested: (C,) 1.0 where the cohort is tested. group: (NG, C).
    """
    include = tested
    cv_g = group @ (cv.sum(axis=1) * include)
    tested_g = (group @ include) > 0
    impaired_g = tested_g & (cv_g > group @ (recoverable_undisc * include))
    loss_g = jnp.where(impaired_g, jnp.maximum(cv_g - group @ (fair_value * include), 0.0), 0.0)
    loss_g = jnp.minimum(loss_g, cv_g)
    return _alloc(loss_g, cv, group, include), impaired_g


def _alloc_capped(amount_g, weights_ck, cap_ck, group, include_c, n_rounds: int):
    """Spread group amounts pro rata to ``weights`` but never above ``cap`` per asset; the excess
    is re-spread over the assets with room left (water-filling, at most one round per asset)."""
    include = include_c[:, None] * jnp.ones_like(weights_ck)
    given = jnp.zeros_like(weights_ck)
    left_g = amount_g
    for _ in range(n_rounds):
        room = jnp.maximum(cap_ck - given, 0.0)
        open_ = (room > 0) * include
        w = jnp.where(weights_ck > 0, weights_ck, room) * open_
        w_g = group @ w.sum(axis=1)
        share = jnp.where(w_g > 0, left_g / jnp.where(w_g > 0, w_g, 1.0), 0.0)
        step = jnp.minimum(w * (group.T @ share)[:, None], room)
        given = given + step
        left_g = left_g - group @ step.sum(axis=1)
    return given


def ias36(cv, cv_no_impairment, *, value_in_use, fvlcd, tested, group):
    """One IAS 36 test. Returns (loss_ck, reversal_ck, impaired_g).

    Args:
        cv, cv_no_impairment: (C, K) USD. value_in_use, fvlcd: (C,) USD. tested: (C,). group: (NG, C).
    """
    include = tested
    cv_g = group @ (cv.sum(axis=1) * include)
    recoverable_g = jnp.maximum(group @ (value_in_use * include), group @ (fvlcd * include))
    tested_g = (group @ include) > 0
    impaired_g = tested_g & (cv_g > recoverable_g)
    loss_g = jnp.where(impaired_g, jnp.minimum(cv_g - recoverable_g, cv_g), 0.0)
    headroom = jnp.maximum(cv_no_impairment - cv, 0.0)
    headroom_g = group @ (headroom.sum(axis=1) * include)
    reversal_g = jnp.where(tested_g & ~impaired_g, jnp.minimum(jnp.maximum(recoverable_g - cv_g, 0.0), headroom_g), 0.0)
    n_rounds = cv.shape[0] * cv.shape[1]
    reversal = _alloc_capped(reversal_g, cv, headroom, group, include, n_rounds)
    return _alloc(loss_g, cv, group, include), reversal, impaired_g


def opening_unrecoverable(cv_c, *, undisc_c, viu_c, fvlcd_c, on_books_c, group):
    """The valuation-date check of the opening balance: would a test today find a loss? Returns
    (asc360, ias36) booleans: some asset group's carrying amount exceeds its undiscounted cash flows
    (ASC 360-10-35-17 step 1), resp. its recoverable amount max(FVLCD, VIU) (IAS 36.59).

    Args: cv_c, undisc_c, viu_c, fvlcd_c: (C,) USD at the valuation date; on_books_c: (C,) 1.0 for
    cohorts on the opening balance sheet (bought before the run start); group: (NG, C).
    A scenario whose opening book fails this on most paths contradicts an unimpaired balance sheet.
    """
    inc = on_books_c
    cv_g = group @ (cv_c * inc)
    has_g = (group @ inc) > 0
    asc = has_g & (cv_g > group @ (undisc_c * inc))
    ias = has_g & (cv_g > jnp.maximum(group @ (viu_c * inc), group @ (fvlcd_c * inc)))
    return asc.any(), ias.any()
