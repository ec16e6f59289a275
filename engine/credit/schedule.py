"""Deterministic debt schedules on the host (NumPy, float64): draws, payment and test calendars, amortization.

Payment dates (docs/credit.md §2.1): the months of the facility's term whose calendar month is
divisible by ``payment_every_months`` (k = 1 every month, 3 quarter ends, 6 June/December) from the
end of the first full period after the first draw, and the maturity month. A facility's scheduled principal on a payment date is a *fraction of the balance
outstanding*, ``SP_t = B_t * phi_t``, so prepayments (cash sweep, cures) shorten nothing and re-base
the instalments, like the re-based straight-line depreciation of the engine (docs/credit.md §2):

    straight_line   phi_t = 1 / n_t                              n_t = payment dates left incl. t
    level_payment   phi_t = r_t / ((1 + r_t)^n_t - 1)            r_t = k x annual rate / 12, the
                                                                 period rate; the annuity's principal part
    contracted      phi_t = K_t / sum_{s >= t} K_s               K_t = expected contracted revenue of the
                                                                 pledged cohorts over the period ending at
                                                                 payment date t; s runs over payment dates
    every kind      phi_t = 0 between payment dates and on interest-only payment dates, 1 at maturity.

With k = 1 every month of the term is a payment date and the arrays are those of the monthly engine
bit for bit. The level-payment fraction depends on the (possibly floating) rate, so it is evaluated
inside the path scan (``engine.credit.ratios.level_principal_frac``); this module gives ``n_t`` and
the flags.
"""

from __future__ import annotations

import numpy as np

from engine.scenario import schema as S


def level_payment_usd(balance_usd: float, rate_monthly: float, n_payments: int) -> float:
    """Annuity payment that repays ``balance_usd`` in ``n_payments`` monthly payments at ``rate_monthly``."""
    if rate_monthly == 0.0:
        return balance_usd / n_payments
    return balance_usd * rate_monthly / (1.0 - (1.0 + rate_monthly) ** (-n_payments))


def principal_frac_host(kind: str, n_left: np.ndarray, amortizing: np.ndarray, rate_monthly: np.ndarray, contracted_weight: np.ndarray) -> np.ndarray:
    """phi_t for months with ``n_left`` payments left (NumPy; same rule as the JAX scan)."""
    n = np.maximum(n_left, 1.0)
    if kind == "straight_line":
        phi = 1.0 / n
    elif kind == "level_payment":
        r = np.asarray(rate_monthly, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.where(r > 0, r / np.expm1(n * np.log1p(np.where(r > 0, r, 0.0))), 1.0 / n)
    else:
        phi = contracted_weight
    phi = np.where(amortizing > 0, phi, 0.0)
    return np.where(n_left == 1, 1.0, phi) * (n_left > 0)


def contracted_weights(revenue_by_month: np.ndarray) -> np.ndarray:
    """K_t / sum_{s >= t} K_s for a revenue vector running to maturity (last month 1; 1/n if nothing left)."""
    k = np.asarray(revenue_by_month, float)
    tail = np.cumsum(k[::-1])[::-1]
    n_left = np.arange(len(k), 0, -1, dtype=float)
    return np.where(tail > 0, k / np.where(tail > 0, tail, 1.0), 1.0 / n_left)


def expected_contracted_revenue(s: S.Scenario, cohort_names: list[str], months_abs: np.ndarray, mean_of) -> np.ndarray:
    """Expected contracted revenue (USD) of the named cohorts in each absolute month.

    units * E[contracted_frac] * hours * contract price while in term (from the purchase month), times
    the expected survival (1 - q)^(age + 1) with q the monthly failure probability of the mean
    annual failure rate. ``mean_of(name)`` gives an input's mean (posterior means included).
    """
    out = np.zeros(len(months_abs))
    cohorts = {c.name: c for c in s.fleet.cohort}
    for name in cohort_names:
        c = cohorts[name]
        m = s.market[c.generation]
        if m.contract_term_months <= 0 or m.contract_price_usd_per_gpu_hour <= 0:
            continue
        table = s.failures.annual_failure_rate_frac
        key = c.generation if c.generation in table else ("default" if "default" in table else None)
        afr = mean_of(f"failures.annual_failure_rate_frac.{key}") if key else 0.0
        q = 1.0 - (1.0 - afr) ** (1.0 / 12.0)
        age = months_abs - S.month_index(c.purchase_month)
        in_term = (age >= 0) & (age < m.contract_term_months) & (age < c.useful_life_months)
        surv = (1.0 - q) ** (np.maximum(age, 0) + 1)
        cf = mean_of(f"market.{c.generation}.contracted_frac")
        out += np.where(in_term, c.units * cf * s.costs.hours_per_month * m.contract_price_usd_per_gpu_hour * surv, 0.0)
    return out


def payment_calendar(months: np.ndarray, first: int, mat: int, every: int) -> tuple[np.ndarray, np.ndarray]:
    """(pay, n_left) over absolute ``months``: 1 on payment dates and the payment dates left from each
    month of the term to maturity (incl. that month's, if any; 0 outside the term).

    Payment dates: calendar months divisible by ``every`` that end a full period after the first draw
    (``first + every - 1`` or later: a draw inside a period rolls that stub into the first period, as
    credit agreements start payments with the first full fiscal quarter after closing), up to
    maturity, and the maturity month (a short last period when it is off the calendar). every = 1:
    every month of the term.
    """
    active = (months >= first) & (months <= mat)
    pay = (active & (((months % 12) + 1) % every == 0) & (months >= first + every - 1)) | (months == mat)
    n_left = np.where(active, np.cumsum(pay[::-1])[::-1], 0).astype(float)
    return pay.astype(float), n_left


def period_sums(x: np.ndarray, pay: np.ndarray, start: int) -> np.ndarray:
    """Sum of ``x`` over each payment period (the months after the previous payment date, or from index
    ``start`` for the first, to the payment date), placed on the payment dates; 0 elsewhere."""
    out = np.zeros(len(x))
    lo = start
    for i in np.nonzero(pay > 0)[0]:
        out[i] = x[lo : i + 1].sum() if i > lo else x[i]
        lo = i + 1
    return out


def facility_schedule(fac: S.Facility, s: S.Scenario, mean_of, expected_rate_annual: float) -> dict[str, np.ndarray | float]:
    """Host arrays of one facility over the run months t = 1..T.

    Returns (all (T,) unless stated): draw_usd, active (1 from the first draw to maturity), pay (1 on
    payment dates), n_left (payment dates left incl. t), amortizing (1 after the interest-only
    period), phi (straight-line or contracted fraction on payment dates; level payment is evaluated
    in the scan), undrawn_usd (commitment left after the month's draw), test (covenant test month),
    and opening_balance_usd (float).
    """
    start = S.month_index(s.run.start_month)
    T = s.run.horizon_months
    first = S.month_index(fac.first_draw())
    mat = fac.maturity()
    draws = [(S.month_index(d.month), d.amount_usd) for d in fac.draw] if fac.draw else [(first, fac.principal_usd)]
    # absolute months from the earlier of the first draw and the start to the later of maturity and the horizon
    m0 = min(first, start)
    m1 = max(mat, start + T - 1)
    months = np.arange(m0, m1 + 1)
    draw = np.zeros(len(months))
    for m, amt in draws:
        draw[m - m0] += amt
    active = ((months >= first) & (months <= mat)).astype(float)
    every = fac.payment_every_months
    pay, n_left = payment_calendar(months, first, mat, every)  # every = 1: pay = active, n_left = mat - t + 1
    amortizing = ((months >= first + fac.interest_only_months) & (months <= mat)).astype(float)
    if fac.amortization == "contracted":
        k = expected_contracted_revenue(s, fac.collateral_cohorts, months, mean_of)
        # the weights run over the amortizing payment dates only (interest-only dates carry no principal),
        # each weighted by the contracted revenue of its period (every = 1: the month's)
        k_p = period_sums(k, pay, first - m0)
        w_am = np.zeros(len(months))
        am = (amortizing > 0) & (pay > 0)
        w_am[am] = contracted_weights(k_p[am])
        phi = w_am
    else:
        phi = principal_frac_host("straight_line", n_left, amortizing, np.zeros(len(months)), np.zeros(len(months)))
        phi = np.where(pay > 0, phi, 0.0)
    undrawn = fac.principal_usd - np.cumsum(draw)
    cal = months % 12 + 1
    test = ((cal % fac.test_every() == 0) & (active > 0)).astype(float)  # test_every is a multiple of every: payment dates
    # opening balance: the given one, else the scheduled balance (no prepayments) at the expected rate
    pre = months < start
    if fac.opening_balance_usd is not None:
        opening = float(fac.opening_balance_usd)
    else:
        b = 0.0
        r_m = expected_rate_annual / 12.0 * every  # the period rate (every = 1: the monthly rate)
        for i in np.nonzero(pre)[0]:
            b += draw[i]
            if fac.amortization == "level_payment":
                f = principal_frac_host("level_payment", n_left[i : i + 1], amortizing[i : i + 1], np.array([r_m]), np.zeros(1))[0] * pay[i]
            else:
                f = principal_frac_host("contracted", n_left[i : i + 1], amortizing[i : i + 1], np.zeros(1), phi[i : i + 1])[0]
            b -= b * f
        opening = float(b)
    run = slice(start - m0, start - m0 + T)
    return dict(
        draw_usd=draw[run], active=active[run], pay=pay[run], n_left=n_left[run], amortizing=amortizing[run], phi=phi[run],
        undrawn_usd=undrawn[run], test=test[run], opening_balance_usd=opening,
    )
