"""Allocation of an asset group's impairment loss with the asset floors (engine/accounting/impairment.py;
docs/methodology.md §9.1, §9.2): ASC 360-10-35-28, no cohort below its own fair value; IAS 36.105, no
cohort below max(FVLCD, 0); the excess re-spread pro rata over the others; what no cohort can take is
not recognised. One fleet group of two cohorts, A with two components (60/40), B with two (60/40).
Hand arithmetic in each test; float64, to the cent.
"""

from __future__ import annotations

import jax
import numpy as np

from engine.accounting.impairment import asc360, ias36

jax.config.update("jax_enable_x64", True)

f64 = lambda x: np.asarray(x, np.float64)  # noqa: E731
FLEET = f64([[1.0, 1.0]])
BOTH = f64([1.0, 1.0])
CV = f64([[600_000.0, 400_000.0], [300_000.0, 200_000.0]])  # A 1,000,000, B 500,000: group 1,500,000


def _asc(undisc, fair, floor=True):
    loss, impaired = asc360(CV, recoverable_undisc=f64(undisc), fair_value=f64(fair), tested=BOTH, group=FLEET, floor=floor)
    return np.asarray(loss), bool(np.asarray(impaired)[0])


def _cents(a, b):
    np.testing.assert_allclose(a, b, rtol=0, atol=0.005)


def test_asc360_floor_at_the_cohorts_own_used_market_fair_value():
    """A: FV 400,000; B: FV 480,000 (used-market, Level 2). Group FV 880,000, undiscounted 1,200,000
    < 1,500,000: impaired, loss = 1,500,000 - 880,000 = 620,000.
    Pro rata: A 620,000 x 1,000/1,500 = 413,333.33 (A -> 586,666.67, above 400,000),
              B 620,000 x   500/1,500 = 206,666.67 (B -> 293,333.33, below its FV 480,000: not allowed).
    Floored: B's room 500,000 - 480,000 = 20,000; round 1 gives B 20,000 (capped) and A 413,333.33;
    the 186,666.67 left goes to A (room 600,000 - 413,333.33 = 186,666.67): A 600,000, B 20,000.
    Components 60/40: A 360,000 / 240,000; B 12,000 / 8,000. Both end at their fair values."""
    pro, imp = _asc([600_000.0, 600_000.0], [400_000.0, 480_000.0], floor=False)
    assert imp
    _cents(pro.sum(1), [413_333.33, 206_666.67])
    assert (CV.sum(1) - pro.sum(1))[1] < 480_000.0  # pro rata cuts B below its own fair value
    loss, imp = _asc([600_000.0, 600_000.0], [400_000.0, 480_000.0])
    assert imp
    _cents(loss, [[360_000.0, 240_000.0], [12_000.0, 8_000.0]])
    _cents(loss.sum(), 620_000.0)


def test_asc360_excess_goes_to_the_other_cohort():
    """A: FV 900,000; B: FV 550,000 (above its carrying amount 500,000). Undiscounted 1,400,000 <
    1,500,000: loss = 1,500,000 - 1,450,000 = 50,000. Pro rata would give B 16,666.67 (-> 483,333.33 <
    550,000); B has no room (500,000 - 550,000 < 0), so A takes all 50,000 (-> 950,000, above its
    900,000): components 30,000 / 20,000, B nothing."""
    loss, imp = _asc([700_000.0, 700_000.0], [900_000.0, 550_000.0])
    assert imp
    _cents(loss, [[30_000.0, 20_000.0], [0.0, 0.0]])


def test_asc360_loss_larger_than_the_room_is_not_recognised_beyond_it():
    """A: FV -200,000 (a loss-making cohort's Level 3 DCF), B: FV 600,000. Undiscounted 300,000:
    loss = min(1,500,000 - 400,000, 1,500,000) = 1,100,000. Rooms: A min(1,000,000 + 200,000,
    1,000,000) = 1,000,000 (floor max(FV, 0) = 0: no negative book); B 0 (FV above its book).
    A goes to zero (600,000 / 400,000), B keeps 500,000: 1,000,000 recognised, the other 100,000 (the
    part of the group's deficit that only A's negative fair value creates) has no asset to reduce and
    is not recognised (35-28 reduces only the group's long-lived assets). Pro rata would have
    recognised 1,100,000 and cut B to 133,333.33."""
    loss, imp = _asc([150_000.0, 150_000.0], [-200_000.0, 600_000.0])
    assert imp
    _cents(loss, [[600_000.0, 400_000.0], [0.0, 0.0]])
    pro, _ = _asc([150_000.0, 150_000.0], [-200_000.0, 600_000.0], floor=False)
    _cents(pro.sum(), 1_100_000.0)


def test_ias36_floor_at_fvlcd():
    """VIU A 300,000, B 520,000 (820,000); FVLCD A 350,000, B 450,000 (800,000). Recoverable amount
    max(820,000, 800,000) = 820,000; loss = 1,500,000 - 820,000 = 680,000.
    Pro rata: B 226,666.67 (-> 273,333.33 < its FVLCD 450,000: not allowed under 36.105).
    Floored: B's room 50,000 (capped in round 1), A 453,333.33 in round 1 plus the 176,666.67 left
    (room 196,666.67): A 630,000 (-> 370,000, above its FVLCD 350,000), B 50,000 (-> 450,000).
    Components 60/40: A 378,000 / 252,000; B 30,000 / 20,000."""
    loss, rev, imp = ias36(CV, CV, value_in_use=f64([300_000.0, 520_000.0]), fvlcd=f64([350_000.0, 450_000.0]), tested=BOTH, group=FLEET)
    assert bool(np.asarray(imp)[0])
    _cents(np.asarray(loss), [[378_000.0, 252_000.0], [30_000.0, 20_000.0]])
    _cents(np.asarray(rev), np.zeros((2, 2)))


def test_one_cohort_groups_are_unchanged():
    """Cohort-level groups: a cohort's loss cv - fv never reaches below its own fair value, so the floor
    changes nothing (A: 1,000,000 - 400,000 = 600,000 when undiscounted 900,000 < 1,000,000)."""
    eye = np.eye(2)
    kw = dict(recoverable_undisc=f64([900_000.0, 600_000.0]), fair_value=f64([400_000.0, 480_000.0]), tested=BOTH, group=eye)
    floored, _ = asc360(CV, floor=True, **kw)
    pro, _ = asc360(CV, floor=False, **kw)
    _cents(np.asarray(floored), np.asarray(pro))
    _cents(np.asarray(floored), [[360_000.0, 240_000.0], [0.0, 0.0]])


def test_an_empty_padding_group_changes_no_amount():
    """The kernel's group matrix has empty groups (zero rows) added to C rows (engine.compiled.padded_groups),
    so that every asset-group policy shares one compiled function. The fleet group's cases above, padded to
    two rows: the same losses and reversals to the cent (the hand figures of the floor test: A 600,000 and
    B 20,000 in components 60/40), and the empty group is never impaired."""
    from engine.compiled import padded_groups

    padded = padded_groups(FLEET, 2)
    np.testing.assert_array_equal(padded, [[1.0, 1.0], [0.0, 0.0]])
    np.testing.assert_array_equal(padded_groups(np.eye(2), 2), np.eye(2))  # cohort groups: nothing to add
    kw = dict(recoverable_undisc=f64([600_000.0, 600_000.0]), fair_value=f64([400_000.0, 480_000.0]), tested=BOTH)
    for floor in (True, False):
        one, imp_one = asc360(CV, group=FLEET, floor=floor, **kw)
        two, imp_two = asc360(CV, group=padded, floor=floor, **kw)
        _cents(np.asarray(two), np.asarray(one))
        assert bool(np.asarray(imp_two)[0]) and not bool(np.asarray(imp_two)[1])
    _cents(np.asarray(asc360(CV, group=padded, floor=True, **kw)[0]), [[360_000.0, 240_000.0], [12_000.0, 8_000.0]])
    # IAS 36: a loss (VIU below the book) and a reversal (a later recovery up to the no-impairment amount)
    no_imp = CV * 1.2
    for viu in ([500_000.0, 400_000.0], [1_300_000.0, 700_000.0]):
        ia = dict(value_in_use=f64(viu), fvlcd=f64([400_000.0, 480_000.0]), tested=BOTH, floor=True)
        l1, r1, _ = ias36(CV, no_imp, group=FLEET, **ia)
        l2, r2, i2 = ias36(CV, no_imp, group=padded, **ia)
        _cents(np.asarray(l2), np.asarray(l1))
        _cents(np.asarray(r2), np.asarray(r1))
        assert not bool(np.asarray(i2)[1])
    assert np.asarray(l1).sum() == 0 and np.asarray(r1).sum() > 0  # the second case reverses (hand: recoverable 2,000,000 > 1,500,000)
