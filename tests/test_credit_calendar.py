"""Payment calendars (``payment_every_months``): quarterly and semi-annual schedules by hand, to the
cent, and a quarterly covenant's breach probability against its closed form (docs/credit.md §2.1).

Hand cases: the deterministic fleet of tests/test_credit_hand_cases.py (CFADS $146,000 every month,
run 2026-01 .. 2027-12), one cohort per facility. Interest accrues monthly at rate / 12 on the
balance outstanding in the month (simple accrual, not compounded within the period) and is paid
with the scheduled principal on the payment date: calendar months divisible by the period, and
maturity.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from tests._util import run, write_scenario
from tests.test_credit_hand_cases import CENT, COHORT, _facility

SL_12_Q = """name = "L"
principal_usd = 1200000
first_draw_month = "2026-01"
tenor_months = 12
amortization = "straight_line"
rate_type = "fixed"
fixed_rate_annual_frac = 0.12
payment_every_months = 3
collateral_cohorts = ["c1"]
"""
SEMI = """name = "L"
principal_usd = 1200000
maturity_month = "2027-03"
amortization = "straight_line"
fixed_rate_annual_frac = 0.12
commitment_fee_annual_frac = 0.01
payment_every_months = 6
collateral_cohorts = ["c1"]
[financing.facility.covenants]
min_dscr = 1.0
[[financing.facility.draw]]
month = "2026-01"
amount_usd = 600000
[[financing.facility.draw]]
month = "2026-03"
amount_usd = 600000
"""
FACILITIES = {
    "QSL": SL_12_Q + "[financing.facility.covenants]\nmin_dscr = 1.0\n",
    "QLEVEL": SL_12_Q.replace("straight_line", "level_payment"),
    "QSWEEP": SL_12_Q + "cash_sweep_frac = 0.5\n",
    "SEMI": SEMI,
}


@pytest.fixture(scope="module")
def cal(tmp_path_factory):
    d = tmp_path_factory.mktemp("credit_calendar")
    extra = "".join(COHORT.format(name=f"c{i}") for i in range(2, len(FACILITIES) + 1))
    for i, (name, text) in enumerate(FACILITIES.items(), start=1):
        extra += _facility(text, name, f"c{i}")
    p = write_scenario(d, horizon=24, life=60, capex=30000.0, units=100, price=2.0, decline=0.0, vol=0.0, util=1.0, afr=0.0, extra=extra)
    p.write_text(p.read_text().replace("[accounting]", "[accounting]\nused_value_decay_per_month = 0.02", 1))
    r = run(p, paths=2)
    assert list(r.model.facilities) == list(FACILITIES)
    return r


def _m(r, key, fac):
    return r.run.monthly[key][0, :, list(r.model.facilities).index(fac)]


def _s(r, key, fac):
    return r.run.scalars[key][0, list(r.model.facilities).index(fac)]


def test_quarterly_straight_line_schedule(cal):
    # $1.2m over 12 months at 12 %/yr, paid at quarter ends (months 3, 6, 9, 12): principal 1.2m / 4 =
    # 300,000 a quarter. Interest accrues 1 % a month on the balance outstanding, paid at the quarter end:
    #   Q1 1,200,000 x 0.01 x 3 = 36,000  -> debt service 336,000
    #   Q2   900,000 x 0.01 x 3 = 27,000  -> 327,000
    #   Q3   600,000 x 0.01 x 3 = 18,000  -> 318,000
    #   Q4   300,000 x 0.01 x 3 =  9,000  -> 309,000          total interest 90,000 (monthly: 78,000)
    # nothing is due in the other months; the balance steps down at quarter ends.
    ds = _m(cal, "credit_debt_service_usd", "QSL")
    want = np.zeros(24)
    want[[2, 5, 8, 11]] = [336000, 327000, 318000, 309000]
    assert np.max(np.abs(ds - want)) < CENT
    bal = _m(cal, "credit_balance_usd", "QSL")
    want_b = np.repeat([1200000, 900000, 600000, 300000], 3).astype(float)
    want_b[[2, 5, 8, 11]] -= 300000
    assert np.max(np.abs(bal[:12] - want_b)) < CENT
    assert abs(_s(cal, "credit_interest_paid_usd", "QSL") - 90000.0) < CENT
    assert abs(_s(cal, "credit_principal_paid_usd", "QSL") - 1200000.0) < CENT
    # DSCR on the facility's own period: the quarter's CFADS 3 x 146,000 = 438,000 over its debt service;
    # reported on payment dates only (NaN between them)
    dscr = _m(cal, "credit_dscr", "QSL")
    assert dscr[2] == pytest.approx(438000 / 336000, rel=1e-12)
    assert dscr[5] == pytest.approx(438000 / 327000, rel=1e-12)
    assert dscr[8] == pytest.approx(438000 / 318000, rel=1e-12)
    assert np.isnan(dscr[[0, 1, 3, 4, 6, 7]]).all()
    # tests default to the payment dates (max(3, 3) = quarter ends): March, June, September; not December (repaid)
    assert _s(cal, "credit_covenant_tests", "QSL") == 3
    assert _s(cal, "credit_min_tested_dscr", "QSL") == pytest.approx(438000 / 336000, rel=1e-12)


def test_quarterly_level_payment_schedule(cal):
    # Level payment on the quarterly calendar: period rate 12 % / 4 = 3 %, 4 payments:
    #   payment = 1,200,000 x 0.03 / (1 - 1.03^-4) = 322,832.45 (322,832.4542)
    #   Q1 interest 1,200,000 x 0.03 = 36,000.00, principal 286,832.45, balance 913,167.55
    #   Q2 interest 913,167.5458 x 0.03 = 27,395.03, principal 295,437.43, balance 617,730.12
    #   total interest 4 x 322,832.4542 - 1,200,000 = 91,329.82
    # (three months of simple interest at 1 % on a constant balance = the 3 % period rate, so the
    # accrued interest and the annuity agree exactly)
    pay = 1200000 * 0.03 / (1 - 1.03 ** -4)
    assert round(pay, 2) == 322832.45
    ds = _m(cal, "credit_debt_service_usd", "QLEVEL")
    assert np.max(np.abs(ds[[2, 5, 8, 11]] - pay)) < CENT
    assert np.max(np.abs(ds[[0, 1, 3, 4, 6, 7, 9, 10]])) == 0.0
    bal = _m(cal, "credit_balance_usd", "QLEVEL")
    assert abs(bal[1] - 1200000.0) < CENT and abs(bal[2] - 913167.55) < 0.01 and abs(bal[5] - 617730.12) < 0.01
    assert abs(bal[11]) < CENT
    assert abs(_s(cal, "credit_interest_paid_usd", "QLEVEL") - (4 * pay - 1200000)) < CENT
    assert abs(4 * pay - 1200000 - 91329.82) < 0.01


def test_cash_sweep_waits_for_the_payment_date(cal):
    # Sweep 50 % of the period's excess (its CFADS less its debt service) on each payment date; CFADS
    # of the months between payment dates accrues in the cash account, so nothing is prepaid before:
    #   Q1: debt service 336,000; excess 438,000 - 336,000 = 102,000; prepay 51,000;
    #       balance 1,200,000 - 300,000 - 51,000 = 849,000
    #   Q2: re-based straight line 849,000 / 3 = 283,000; interest 849,000 x 0.03 = 25,470;
    #       debt service 308,470; excess 129,530; prepay 64,765; balance 849,000 - 283,000 - 64,765 = 501,235
    bal = _m(cal, "credit_balance_usd", "QSWEEP")
    assert abs(bal[0] - 1200000.0) < CENT and abs(bal[1] - 1200000.0) < CENT
    assert abs(bal[2] - 849000.0) < CENT and abs(bal[3] - 849000.0) < CENT
    assert abs(bal[5] - 501235.0) < CENT
    ds = _m(cal, "credit_debt_service_usd", "QSWEEP")
    assert abs(ds[5] - 308470.0) < CENT


def test_semi_annual_with_draws_stub_and_commitment_fee(cal):
    # $1.2m semi-annual (June, December) drawn 600,000 in 2026-01 and 600,000 in 2026-03, maturity
    # 2027-03 (a three-month last period); 12 %/yr; commitment fee 1 %/yr on the undrawn amount.
    # Payment dates 2026-06 (t = 6), 2026-12 (t = 12), 2027-03 (t = 15): three, so principal 400,000 each.
    #   2026-06: interest Jan, Feb 600,000 x 0.01 x 2 = 12,000 + Mar..Jun 1,200,000 x 0.01 x 4 = 48,000
    #            = 60,000; fee Jan, Feb 600,000 x 0.01 / 12 x 2 = 1,000; debt service 461,000
    #   2026-12: interest 800,000 x 0.01 x 6 = 48,000; debt service 448,000
    #   2027-03: interest 400,000 x 0.01 x 3 = 12,000; debt service 412,000   total interest 120,000
    ds = _m(cal, "credit_debt_service_usd", "SEMI")
    want = np.zeros(24)
    want[[5, 11, 14]] = [461000, 448000, 412000]
    assert np.max(np.abs(ds - want)) < CENT
    assert abs(_s(cal, "credit_interest_paid_usd", "SEMI") - 120000.0) < CENT
    assert abs(_s(cal, "credit_fees_usd", "SEMI") - 1000.0) < CENT
    bal = _m(cal, "credit_balance_usd", "SEMI")
    assert np.max(np.abs(bal[:15] - np.array([6e5, 6e5, 12e5, 12e5, 12e5, 8e5, 8e5, 8e5, 8e5, 8e5, 8e5, 4e5, 4e5, 4e5, 0]))) < CENT
    assert _s(cal, "credit_default_month", "SEMI") == 0
    # tests default to every payment date (max(3, 6) = 6: June and December) over the six months just
    # ended: 6 x 146,000 = 876,000 over the period's debt service
    assert _s(cal, "credit_covenant_tests", "SEMI") == 2
    dscr = _m(cal, "credit_dscr", "SEMI")
    assert dscr[5] == pytest.approx(876000 / 461000, rel=1e-12) and dscr[11] == pytest.approx(876000 / 448000, rel=1e-12)


def test_calendar_arrays_and_monthly_default(tmp_path):
    # Monthly (the default, and payment_every_months = 1 given) compiles to the same arrays as before:
    # every month of the term is a payment date, n_left = maturity - t + 1. Quarterly: quarter ends and
    # maturity, n_left counts payment dates.
    from engine.compile import compile_model
    from engine.scenario.load import load_scenario

    base = SL_12_Q.replace("payment_every_months = 3\n", "")
    arrays = {}
    for k, text in (("default", base), ("1", base + "payment_every_months = 1\n"), ("3", SL_12_Q)):
        p = write_scenario(tmp_path, name=f"s{k}.toml", horizon=24, life=60, extra="\n[[financing.facility]]\n" + text)
        arrays[k] = compile_model(load_scenario(p)).a
    for key in [k for k in arrays["default"] if k.startswith("fin_")]:
        assert np.array_equal(arrays["default"][key], arrays["1"][key]), key
    a = arrays["default"]
    assert np.array_equal(a["fin_pay"][:, 0], a["fin_active"][:, 0])
    assert np.array_equal(a["fin_n_left"][:12, 0], np.arange(12, 0, -1.0))
    assert a["fin_window"][0] == 3.0  # tests omitted: quarter ends, as before the setting existed
    q = arrays["3"]
    assert np.array_equal(np.nonzero(q["fin_pay"][:, 0])[0], [2, 5, 8, 11])
    assert np.array_equal(q["fin_n_left"][:12, 0], np.repeat([4.0, 3.0, 2.0, 1.0], 3))
    assert np.allclose(q["fin_phi"][[2, 5, 8, 11], 0], [1 / 4, 1 / 3, 1 / 2, 1.0]) and q["fin_phi"][[0, 1, 3], 0].sum() == 0
    assert q["fin_pay_every"][0] == 3.0 and q["fin_window"][0] == 3.0


def test_first_payment_ends_a_full_period():
    # A draw inside a period rolls the stub into the first period: drawn in February (month 1 of the
    # absolute months below = Feb), quarterly -> the first payment is June (Feb..Jun, five months of
    # interest), not March; drawn in April -> June (a full quarter). Maturity off the calendar (Nov) is a
    # payment date (a short last period). Monthly: every month of the term.
    from engine.credit.schedule import payment_calendar

    months = np.arange(2026 * 12, 2027 * 12)  # 2026-01 .. 2026-12
    feb, apr, nov = 2026 * 12 + 1, 2026 * 12 + 3, 2026 * 12 + 10
    pay, n_left = payment_calendar(months, feb, nov, 3)
    assert np.array_equal(np.nonzero(pay)[0], [5, 8, 10])  # June, September, November
    assert np.array_equal(n_left[[0, 1, 5, 6, 9, 10, 11]], [0, 3, 3, 2, 1, 1, 0])
    pay, _ = payment_calendar(months, apr, nov, 3)
    assert np.array_equal(np.nonzero(pay)[0], [5, 8, 10])
    pay, n_left = payment_calendar(months, feb, nov, 1)
    assert np.array_equal(np.nonzero(pay)[0], np.arange(1, 11)) and np.array_equal(n_left[1:11], np.arange(10, 0, -1.0))


def test_tests_must_fall_on_payment_dates(tmp_path, capsys):
    # monthly tests on a quarterly calendar are refused: one line naming the field and the allowed values
    from tests.test_bad_input import Case, assert_rejected_cleanly
    from tests.test_credit_bad_input import fin

    text = fin("min_dscr = 1.25", "min_dscr = 1.25\ntest_every_months = 1", 'amortization = "straight_line"', 'amortization = "straight_line"\npayment_every_months = 3')
    case = Case("tests-between-payment-dates", text, "financing.facility[0].covenants.test_every_months", ("payment dates", "3, 6, 12"))
    assert_rejected_cleanly(case, tmp_path, capsys)


# ---------------------------------------------------------------------------------------------------
# Breach probability on a quarterly calendar against its closed form.
#
# CFADS i.i.d. normal each month, X_t ~ N(mu, sigma^2), mu = 146,000, sigma = 40,000, on the $1.2m
# 12-month 12 % straight-line loan, min DSCR 1.25, point in time, with 20 equity cures (so a breach
# never ends the loan) and a 6-month reserve (a payment default would need a quarter's CFADS below
# debt service less the reserve, 10 sd away: probability < 1e-20):
#
#   Q3 quarterly payments and tests: the quarter's CFADS S_q = X_{3q-2} + X_{3q-1} + X_{3q} ~ N(3 mu, 3 sigma^2)
#      against its debt service DS_q = 336,000, 327,000, 318,000 (tests at months 3, 6, 9; month 12 is
#      not tested: repaid). p_q = P(S_q < 1.25 DS_q) = Phi((1.25 DS_q - 3 mu) / (sigma sqrt 3));
#      the quarters do not overlap, so the tests are independent:
#      P(first breach in quarter q) = p_q prod_{j<q} (1 - p_j),   P(breach) = 1 - prod_q (1 - p_q).
#   M3 monthly payments, quarterly tests (the engine before the setting): DS over the quarter
#      333,000, 324,000, 315,000 (monthly interest on the amortizing balance), same formula.
#   M1 monthly payments and tests: DS_t = 112,000 - 1,000 (t - 1), t = 1..11;
#      p_t = Phi((1.25 DS_t - mu) / sigma).
# Tolerance: 4.5 binomial SEs at the closed-form p (a false failure about 1 in 150,000 per check).
# ---------------------------------------------------------------------------------------------------
MU, SIGMA, MIN_DSCR = 146000.0, 40000.0, 1.25
COV = "[financing.facility.covenants]\nmin_dscr = 1.25\nequity_cures = 20\n"
BASE = SL_12_Q.replace("payment_every_months = 3\n", "reserve_months = 6\n")
MC = {
    "Q3": BASE + "payment_every_months = 3\n" + COV,
    "M3": BASE + COV + "test_every_months = 3\n",
    "M1": BASE + COV + "test_every_months = 1\n",
}


def closed_form():
    q_ds = {"Q3": [336000.0, 327000.0, 318000.0], "M3": [333000.0, 324000.0, 315000.0]}
    p = {k: norm.cdf((MIN_DSCR * np.array(v) - 3 * MU) / (SIGMA * math.sqrt(3))) for k, v in q_ds.items()}
    p["M1"] = norm.cdf((MIN_DSCR * (112000.0 - 1000.0 * np.arange(11)) - MU) / SIGMA)
    return p


def test_quarterly_breach_probability_closed_form(tmp_path):
    import jax
    import jax.numpy as jnp

    from engine.compile import compile_model
    from engine.credit.path import credit_path
    from engine.runner import _configure_jax
    from engine.scenario.load import load_scenario
    from engine.kernel.path import consts as _consts

    _configure_jax("float64")
    extra = "".join(COHORT.format(name=f"c{i}") for i in range(2, len(MC) + 1))
    for i, (name, text) in enumerate(MC.items(), start=1):
        extra += _facility(text, name, f"c{i}")
    model = compile_model(load_scenario(write_scenario(tmp_path, horizon=12, life=60, extra=extra)))
    A = _consts(model, jnp.float64)
    T, C, n = model.T, len(MC), 20000
    x = np.random.default_rng(20261201).normal(MU, SIGMA, size=(n, T))  # pinned seed
    cf = jnp.asarray(np.repeat(x[:, :, None], C, axis=2))  # the same CFADS path under each calendar
    theta = jnp.zeros(len(model.inputs), jnp.float64)
    zero, coll = jnp.zeros((T, C)), jnp.full((T, C), 1e9)
    res, _ = jax.jit(jax.vmap(lambda c: credit_path(A, theta, c, zero, coll)))(cf)
    first = np.asarray(res["credit_first_breach_month"])
    assert not np.asarray(res["credit_default_month"]).any()  # cures and the reserve: no default
    p = closed_form()
    for j, name in enumerate(MC):
        want = 1 - np.prod(1 - p[name])
        got = (first[:, j] > 0).mean()
        se = math.sqrt(want * (1 - want) / n)
        assert abs(got - want) < 4.5 * se, (name, got, want, se)
    # quarterly: the first breach falls in quarter q with probability p_q prod_{j<q}(1 - p_j) ...
    pq = p["Q3"]
    for q, month in enumerate((3, 6, 9)):
        want = pq[q] * np.prod(1 - pq[:q])
        got = (first[:, 0] == month).mean()
        assert abs(got - want) < 4.5 * math.sqrt(want * (1 - want) / n), (month, got, want)
    # ... and path by path exactly when the quarter's CFADS is below 1.25 x its debt service
    s = x[:, :9].reshape(n, 3, 3).sum(axis=2)
    below = s < MIN_DSCR * np.array([336000.0, 327000.0, 318000.0])
    want_first = np.where(below.any(axis=1), 3 * (np.argmax(below, axis=1) + 1), 0)
    assert np.array_equal(first[:, 0], want_first)
    # the calendar matters: monthly tests breach far more often than quarterly ones (~1.00 vs ~0.71)
    assert (first[:, 2] > 0).mean() - (first[:, 0] > 0).mean() > 0.2
