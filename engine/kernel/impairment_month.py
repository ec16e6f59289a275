"""The impairment test at the end of month t, on month-t information only (JAX, pure).

``tests_due`` says which cohorts are tested (ASC 360 when an event occurs or a periodic test is due;
IAS 36 at reporting dates for indicators since the last one, 36.9; the whole asset group when any of
its cohorts is due). ``book_test`` applies ``engine.accounting.impairment.asc360`` and ``ias36`` to the
month's carrying amounts and books the losses, reversals and the materiality record. Shapes: S = 2
standards (0: ASC 360, 1: IAS 36), C cohorts, K components, NG asset groups, Y fiscal years.
"""

from __future__ import annotations

import jax.numpy as jnp

from engine.accounting.impairment import asc360, ias36


def sum_in_order(x):
    """Sum over the last two axes (cohorts, components) as explicit adds in a fixed order: ``x.sum()``
    leaves the order to XLA, which vectorises it differently for different chunk sizes, and a
    last-bit difference must not move a materiality decision or a sum (results do not depend on the
    chunk size). (..., C, K) -> (...)."""
    total = x[..., 0, 0]
    for c in range(x.shape[-2]):
        for k in range(x.shape[-1]):
            if c or k:
                total = total + x[..., c, k]
    return total


def tests_due(trig, pending, *, periodic, reporting, in_life, group):
    """(tested_asc360 (C,) bool, tested_ias36 (C,) bool, pending (C,) bool after the month).

    ``trig`` (C,) a triggering event this month; ``pending`` (C,) an IAS 36 indicator not yet assessed;
    ``periodic``, ``reporting`` () 1.0 when a periodic test / reporting date falls in the month;
    ``in_life`` (C,) in service with life left; ``group`` (NG, C)."""
    pending = pending | trig
    due_a = (periodic > 0) | trig
    due_i = (periodic > 0) | (pending & (reporting > 0))
    pending = jnp.where((reporting > 0) | (periodic > 0), False, pending)
    dtype = group.dtype
    tested_a = in_life & ((group.T @ (group @ due_a.astype(dtype))) > 0)
    tested_i = in_life & ((group.T @ (group @ due_i.astype(dtype))) > 0)
    return tested_a, tested_i, pending


def book_test(book, t, fy_hot, *, cv_base, undisc, viu, fair, fvlcd, tested_a, tested_i, group, materiality, floor: bool):
    """Test, book the result, and record it. ``book`` (a dict) holds ``cv`` (S, C, K) USD and the
    accumulators ``loss``, ``first``, ``first_loss`` (S, C), ``reversal`` (C,), ``mat_month`` (S,),
    ``mat_fy`` (S, Y), ``mat_loss``, ``immat_loss`` (S,). ``cv_base`` (C, K) the no-impairment carrying
    amount (IAS 36.117's cap); ``undisc``, ``viu``, ``fair``, ``fvlcd`` (C,) USD; ``tested_*`` (C,) bool;
    ``materiality`` the fraction of the fleet's carrying amount before the loss at which a month's loss
    is material (SAB 99); ``floor`` (static) the allocation floor (ASC 360-10-35-28, IAS 36.105).

    Returns ``(book', loss_now (S, C), reversal_now (C,))``: an untested month leaves every amount as it was.
    """
    cv = book["cv"]
    dtype = cv.dtype
    loss_a, _ = asc360(cv[0], recoverable_undisc=undisc, fair_value=fair, tested=tested_a.astype(dtype), group=group, floor=floor)
    loss_i, rev_i, _ = ias36(cv[1], cv_base, value_in_use=viu, fvlcd=fvlcd, tested=tested_i.astype(dtype), group=group, floor=floor)
    book_before = sum_in_order(cv)  # (S,)
    loss_total = jnp.stack([sum_in_order(loss_a), sum_in_order(loss_i)])
    material = (loss_total > 0) & (loss_total >= materiality * book_before)
    loss_now = jnp.stack([loss_a.sum(-1), loss_i.sum(-1)])  # (S, C)
    hit = (loss_now > 0) & (book["first"] == 0)
    out = dict(
        cv=jnp.stack([cv[0] - loss_a, cv[1] - loss_i + rev_i]),
        loss=book["loss"] + loss_now,
        first=jnp.where(hit, t, book["first"]),
        first_loss=jnp.where(hit, loss_now, book["first_loss"]),
        reversal=book["reversal"] + rev_i.sum(-1),
        mat_month=jnp.where(material & (book["mat_month"] == 0), t, book["mat_month"]),
        mat_fy=jnp.maximum(book["mat_fy"], material.astype(dtype)[:, None] * fy_hot[None, :]),
        mat_loss=book["mat_loss"] + jnp.where(material, loss_total, 0.0),
        immat_loss=book["immat_loss"] + jnp.where(material, 0.0, loss_total),
    )
    return out, loss_now, rev_i.sum(-1)


BOOK_KEYS = ("cv", "loss", "first", "first_loss", "reversal", "mat_month", "mat_fy", "mat_loss", "immat_loss")
