"""ASC 360 and IAS 36 impairment tests on asset groups, as pure array functions.

Shapes: ``cv`` (C, K) carrying amount by cohort and component; group matrix ``group`` (NG, C)
with 1 where cohort c belongs to group g (cohort level: identity; fleet level: ones); per-cohort
values (C,) are summed into groups with ``group @ x``. ``tested`` (C,) marks cohorts tested now.

ASC 360-10-35-17 (held and used): step 1, the group's carrying amount is not recoverable if it
exceeds the undiscounted cash flows from use and eventual disposition (``recoverable_undisc``);
step 2, loss = carrying amount - fair value. The loss is allocated to cohorts pro rata to carrying
amounts, but no cohort below its own fair value (35-28; ``floor=True``): what a floored cohort
cannot take goes to the others (water-filling, ``_alloc_capped``); a cohort's loss is spread over its
components pro rata. The written-down amount is the new cost basis (35-20): no reversal, ever.

IAS 36.59: loss = carrying amount - recoverable amount, recoverable amount = max(FVLCD, VIU)
(36.18), allocated the same way with the floor of 36.104-105: no asset below the highest of its
FVLCD, its value in use if determinable, and zero. A cohort inside a larger CGU has no value in
use of its own (it does not generate independent inflows, 36.22 and 36.67: that is why it is in
the CGU), so its floor is max(FVLCD, 0); a one-cohort CGU's loss never reaches its own FVLCD.

Both floors are at least zero (no negative carrying amount). When every floor binds before the
group's loss is placed (possible only where some cohort's fair value, hence its floor's excess over
it, is negative: sum_c max(cv_c - fv_c, 0) >= CV_G - FV_G otherwise), the rest is not recognised
(ASC 360-10-35-28 reduces only the group's long-lived assets; IAS 36.108: no liability unless
another standard requires one). ``floor=False`` is the plain pro-rata allocation.

One asset (C = K = 1, a shape known when the function is traced): the group is the asset, nothing is
allocated, and the loss is the group's loss itself. Neither floor can bind there (the ASC 360 loss is
at most the carrying amount less the fair value; the IAS 36 loss at most the carrying amount less
max(FVLCD, VIU)), so ``floor`` changes nothing; the reversal is the group's (at most the headroom).

IAS 36.114-117: a later test whose recoverable amount exceeds the carrying amount
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


def _alloc_floored(amount_g, cv, floor_c, group, include_c, floor: bool):
    """Spread group losses (NG,) over (C, K) pro rata to carrying amounts ``cv``; with ``floor``, no
    cohort's carrying amount below ``max(floor_c, 0)`` (C,) USD: each cohort's loss is capped at
    max(cv_c - floor_c, 0), at most cv_c, the excess re-spread over the group's other cohorts, and a
    cohort's loss goes to its components pro rata. Amounts no cohort can take stay unallocated."""
    if not floor:
        return _alloc(amount_g, cv, group, include_c)
    cv_c = cv.sum(axis=1)
    cap_c = jnp.clip(cv_c - floor_c, 0.0, cv_c)
    loss_c = _alloc_capped(amount_g, cv_c[:, None], cap_c[:, None], group, include_c, cv.shape[0])[:, 0]
    return cv * jnp.where(cv_c > 0, loss_c / jnp.where(cv_c > 0, cv_c, 1.0), 0.0)[:, None]


def asc360(cv, *, recoverable_undisc, fair_value, tested, group, floor: bool = True):
    """One ASC 360 test. Returns (loss_ck, impaired_g).

    Args:
        cv: (C, K) carrying amounts, USD. recoverable_undisc, fair_value: (C,) USD per cohort.
        tested: (C,) 1.0 where the cohort is tested. group: (NG, C).
        floor: (static) no cohort below its own fair value (35-28); False = pro rata only.
    """
    if cv.shape == (1, 1):  # one asset: no allocation (module docstring)
        cv_1 = cv[:, 0]
        impaired = (tested > 0) & (cv_1 > recoverable_undisc)
        loss = jnp.where(impaired, jnp.minimum(jnp.maximum(cv_1 - fair_value, 0.0), cv_1), 0.0)
        return loss[:, None], impaired
    include = tested
    cv_g = group @ (cv.sum(axis=1) * include)
    tested_g = (group @ include) > 0
    impaired_g = tested_g & (cv_g > group @ (recoverable_undisc * include))
    loss_g = jnp.where(impaired_g, jnp.maximum(cv_g - group @ (fair_value * include), 0.0), 0.0)
    loss_g = jnp.minimum(loss_g, cv_g)
    return _alloc_floored(loss_g, cv, fair_value, group, include, floor), impaired_g


def _alloc_capped(amount_g, weights_ck, cap_ck, group, include_c, n_rounds: int):
    """Spread group amounts pro rata to ``weights`` but never above ``cap`` per asset; the excess
    is re-spread over the assets with room left (water-filling: each round places everything or fills
    at least one asset, exactly to its cap, so ``n_rounds`` = the number of assets suffices)."""
    include = include_c[:, None] * jnp.ones_like(weights_ck)
    given = jnp.zeros_like(weights_ck)
    left_g = amount_g
    for _ in range(n_rounds):
        room = jnp.maximum(cap_ck - given, 0.0)
        open_ = (room > 0) * include
        w = jnp.where(weights_ck > 0, weights_ck, room) * open_
        w_g = group @ w.sum(axis=1)
        share = jnp.where(w_g > 0, left_g / jnp.where(w_g > 0, w_g, 1.0), 0.0)
        want = w * (group.T @ share)[:, None]
        new = jnp.where((want >= room) & (open_ > 0), cap_ck, given + want)  # a filled asset sits at its cap, room exactly 0
        left_g = left_g - group @ (new - given).sum(axis=1)
        given = new
    return given


def ias36(cv, cv_no_impairment, *, value_in_use, fvlcd, tested, group, floor: bool = True):
    """One IAS 36 test. Returns (loss_ck, reversal_ck, impaired_g).

    Args:
        cv, cv_no_impairment: (C, K) USD. value_in_use, fvlcd: (C,) USD. tested: (C,). group: (NG, C).
        floor: (static) no cohort below max(its FVLCD, 0) (36.105); False = pro rata only.
    """
    if cv.shape == (1, 1):  # one asset: no allocation (module docstring)
        cv_1 = cv[:, 0]
        recoverable = jnp.maximum(value_in_use, fvlcd)
        impaired = (tested > 0) & (cv_1 > recoverable)
        loss = jnp.where(impaired, jnp.minimum(cv_1 - recoverable, cv_1), 0.0)
        headroom = jnp.maximum(cv_no_impairment[:, 0] - cv_1, 0.0)
        reversal = jnp.where((tested > 0) & ~impaired, jnp.minimum(jnp.maximum(recoverable - cv_1, 0.0), headroom), 0.0)
        return loss[:, None], reversal[:, None], impaired
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
    return _alloc_floored(loss_g, cv, fvlcd, group, include, floor), reversal, impaired_g


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
