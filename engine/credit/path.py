"""The debt of one Monte Carlo path: a ``lax.scan`` over months on the fleet's (T, C) cash flows (JAX, pure).

``credit_path(A, theta, cfads_tc, disposal_tc, collateral_tc)``:

    A              the Model arrays as JAX arrays (``fin_*``, ``sofr_shock_annual_frac``, ``i_sofr_level``)
    theta          (N,)   the path's inputs (SOFR level)
    cfads_tc       (T, C) revenue - operating cost (incl. replacements) of each cohort, USD per month
    disposal_tc    (T, C) end-of-life disposal proceeds of each cohort, USD (a mandatory prepayment)
    collateral_tc  (T, C) used-GPU market value of each cohort's surviving GPUs at month end, USD
    contracted_cfads_tc  (T, C) contracted revenue - the contracted share of operating cost, USD
                   (used by facilities with pledged_cash_flow = "contracted"; optional)

returns (per-path results, each (F,); monthly results, each (T, F)). Month t for facility f, in order
(docs/credit.md §3): draw; interest at the month's rate on the balance and the commitment fee accrue;
on a payment date (``fin_pay``) the accrued interest and fee and the scheduled principal fall due
and are paid from the period's CFADS then the cash account, else payment default; reserve top-up and
cash sweep of the period's excess (all of it under a cash trap) on payment dates, disposal proceeds
prepay when received; CFADS between payment dates accumulates in the cash account; DSCR over the
test window and LTV; at a test month (always a payment date) a breach is cured with equity while
cures last, else it is a covenant default. After a default the facility stops; EAD, recovery and
loss are recorded. With monthly payments (``fin_pay_every`` = 1) every accumulator holds one month
and the arithmetic is that of the monthly engine bit for bit.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from engine.credit.rates import facility_rates, sofr_monthly
from engine.credit.ratios import dscr, level_principal_frac, lgd_frac, ltv, recovery_usd, window_sum

WINDOW = 12  # months kept for the trailing-twelve-month DSCR
# credit_default_cause codes: 0 no default, 1 payment shortfall (CFADS and the cash account cannot pay the
# debt service due), 2 covenant (a failed DSCR / LTV test with no equity cure left)
DEFAULT_CAUSES = {1: "payment", 2: "covenant"}


def credit_path(A, theta, cfads_tc, disposal_tc, collateral_tc, contracted_cfads_tc=None):
    dtype = cfads_tc.dtype
    pledge = A["fin_pledge"]  # (F, C)
    F = pledge.shape[0]
    T = cfads_tc.shape[0]
    cf_tf = cfads_tc @ pledge.T
    if contracted_cfads_tc is not None:  # facilities that pledge only the contracts' cash flow
        cf_tf = jnp.where(A["fin_cfads_contracted"][None, :] > 0, contracted_cfads_tc @ pledge.T, cf_tf)
    disp_tf = disposal_tc @ pledge.T
    mv_tf = collateral_tc @ pledge.T
    rate_tf = facility_rates(sofr_monthly(theta, A), A)
    zf = jnp.zeros((F,), dtype)
    has_min = A["fin_min_dscr"] > 0
    has_ltv = jnp.isfinite(A["fin_max_ltv"])
    has_trap = A["fin_trap_dscr"] > 0
    h = A["fin_haircut"]

    carry0 = dict(
        B=A["fin_opening"].astype(dtype), R=zf, funded=zf, cures=A["fin_cures"].astype(dtype), trap=zf, dead=zf,
        win_cf=jnp.zeros((WINDOW, F), dtype), win_ds=jnp.zeros((WINDOW, F), dtype),
        first_breach=zf, default_month=zf, default_cause=zf, ead=zf, recovery=zf, cures_used=zf, cure_usd=zf,
        acc_int=zf, acc_fee=zf, acc_cf=zf,
        interest=zf, principal=zf, prepaid=zf, fees=zf, min_dscr=jnp.full((F,), jnp.inf, dtype), max_ltv=zf, n_tests=zf,
    )

    def step(c, x):
        t, draw, act, pay, n_left, amort, phi_host, undrawn, test, cf, disp, mv, r_ann = x
        alive = (1.0 - c["dead"]) * act  # 1 while the facility runs and has not defaulted
        on_pay = pay > 0  # a payment date (every month of the term when payments are monthly)
        B = c["B"] + draw * (1.0 - c["dead"])
        r_m = r_ann / 12.0
        r_p = r_m * A["fin_pay_every"]  # the period rate k x annual / 12 of the level payment
        phi_level = jnp.where(n_left == 1, 1.0, level_principal_frac(r_p, n_left) * amort)
        phi = jnp.where(on_pay, jnp.where(A["fin_is_level"] > 0, phi_level, phi_host), 0.0)
        # simple accrual: the month's interest on the balance outstanding in it, not compounded within the period
        acc_int = c["acc_int"] + B * r_m * alive
        acc_fee = c["acc_fee"] + undrawn * A["fin_cfee"] / 12.0 * alive
        cf_period = c["acc_cf"] + cf * alive  # CFADS of the payment period so far
        interest = jnp.where(on_pay, acc_int, 0.0)
        cfee = jnp.where(on_pay, acc_fee, 0.0)
        sched = B * phi * alive
        ds = interest + cfee + sched
        reserve_target = A["fin_reserve_months"] / A["fin_pay_every"]  # payments of debt service
        fund_now = (c["funded"] == 0) & (ds > 0) & (alive > 0)
        R = jnp.where(fund_now, c["R"] + reserve_target * ds, c["R"])  # the sponsor funds the reserve; cash accrued before stays
        funded = jnp.where(fund_now, 1.0, c["funded"])

        net = cf - ds
        short = (alive > 0) & (ds > 0) & (net + R < 0)  # payment default: CFADS and the cash account cannot pay
        sweep_share = jnp.where(c["trap"] > 0, 1.0, A["fin_sweep"])
        B1 = B - sched
        excess = jnp.where(on_pay, jnp.maximum(cf_period - ds, 0.0), 0.0)  # the period's CFADS less its debt service
        prepay = jnp.minimum(excess * sweep_share + disp, B1) * alive
        B1 = B1 - prepay
        R1 = R + (net + disp - prepay) * alive  # excess cash stays in the borrower's account until a passed test

        win_cf = jnp.concatenate([cf[None], c["win_cf"][:-1]])
        win_ds = jnp.concatenate([ds[None], c["win_ds"][:-1]])
        cf_p = window_sum(win_cf, A["fin_window"])
        ds_p = window_sum(win_ds, A["fin_window"])
        dscr_now = dscr(cf_p, ds_p)
        ltv_now = ltv(B1, mv, h)

        tested = (test > 0) & (alive > 0) & ~short & (ds_p > 0) & (B1 > 0)  # nothing to test once repaid
        breach_d = tested & has_min & (dscr_now < A["fin_min_dscr"])
        breach_l = tested & has_ltv & (ltv_now > A["fin_max_ltv"])
        breach = breach_d | breach_l
        cure = breach & (c["cures"] > 0)
        cov_default = breach & ~cure
        cure_d = jnp.where(cure & breach_d, A["fin_min_dscr"] * ds_p - cf_p, 0.0)  # equity counted as CFADS of the period
        cure_l = jnp.where(cure & breach_l, jnp.clip(B1 - A["fin_max_ltv"] * mv * (1.0 - h), 0.0, B1), 0.0)  # equity prepays
        win_cf = win_cf.at[0].add(cure_d)
        R1 = R1 + cure_d
        B1 = B1 - cure_l
        trap = jnp.where(tested, (has_trap & (dscr_now < A["fin_trap_dscr"])).astype(dtype), c["trap"])
        # a passed test (no breach, even a cured one; no cash trap) releases the cash above the reserve target
        release = (test > 0) & (alive > 0) & (trap == 0) & ~short & ~breach
        R1 = jnp.where(release, jnp.minimum(R1, reserve_target * ds), R1)

        default_now = short | cov_default
        ead = jnp.where(short, B + interest + cfee, B1)
        cash = jnp.where(short, R + jnp.maximum(cf, 0.0), R1)
        rec = recovery_usd(ead, mv, h, cash)
        dead = jnp.where(default_now, 1.0, c["dead"])
        paid = (alive > 0) & ~short
        B_end = jnp.where(dead > 0, 0.0, jnp.where(alive > 0, B1, B))
        new = dict(
            B=B_end, R=jnp.where(dead > 0, 0.0, R1), funded=funded, cures=c["cures"] - cure.astype(dtype), trap=trap, dead=dead,
            win_cf=win_cf, win_ds=win_ds,
            acc_int=jnp.where(on_pay | (dead > 0), 0.0, acc_int), acc_fee=jnp.where(on_pay | (dead > 0), 0.0, acc_fee),
            acc_cf=jnp.where(on_pay | (dead > 0), 0.0, cf_period),
            first_breach=jnp.where(breach & (c["first_breach"] == 0), t, c["first_breach"]),
            default_month=jnp.where(default_now, t, c["default_month"]),
            default_cause=jnp.where(default_now, jnp.where(short, 1.0, 2.0), c["default_cause"]),  # DEFAULT_CAUSES codes
            ead=jnp.where(default_now, ead, c["ead"]),
            recovery=jnp.where(default_now, rec, c["recovery"]),
            cures_used=c["cures_used"] + cure.astype(dtype),
            cure_usd=c["cure_usd"] + cure_d + cure_l,
            interest=c["interest"] + jnp.where(paid, interest, 0.0),
            principal=c["principal"] + jnp.where(paid, sched + prepay + cure_l, 0.0),
            prepaid=c["prepaid"] + jnp.where(paid, prepay + cure_l, 0.0),
            fees=c["fees"] + jnp.where(paid, cfee, 0.0) + draw * A["fin_upfront_fee"] * (1.0 - c["dead"]),
            min_dscr=jnp.where(tested, jnp.minimum(c["min_dscr"], dscr_now), c["min_dscr"]),
            max_ltv=jnp.where(tested, jnp.maximum(c["max_ltv"], ltv_now), c["max_ltv"]),
            n_tests=c["n_tests"] + tested.astype(dtype),
        )
        live_after = (alive > 0) & ~default_now
        out = dict(
            credit_balance_usd=new["B"],
            credit_debt_service_usd=jnp.where(alive > 0, ds, 0.0),
            credit_cfads_usd=cf,
            credit_dscr=jnp.where(live_after & on_pay, dscr_now, jnp.nan),  # on payment dates (every month when monthly)
            credit_ltv_frac=jnp.where(live_after & (B1 > 0), ltv_now, jnp.nan),
            credit_collateral_value_usd=mv,
            credit_covenant_tested=tested.astype(dtype),
            credit_rate_annual_frac=r_ann,
        )
        return new, out

    ts = jnp.arange(1, T + 1, dtype=dtype)
    xs = (ts, A["fin_draw"], A["fin_active"], A["fin_pay"], A["fin_n_left"], A["fin_amortizing"], A["fin_phi"], A["fin_undrawn"], A["fin_test"], cf_tf, disp_tf, mv_tf, rate_tf)
    c, months = jax.lax.scan(step, carry0, xs)
    defaulted = c["default_month"] > 0
    loss = jnp.where(defaulted, c["ead"] - c["recovery"], 0.0)
    res = dict(
        credit_first_breach_month=c["first_breach"],
        credit_default_month=c["default_month"],
        credit_default_cause=c["default_cause"],
        credit_ead_usd=jnp.where(defaulted, c["ead"], 0.0),
        credit_recovery_usd=jnp.where(defaulted, c["recovery"], 0.0),
        credit_loss_usd=loss,
        credit_lgd_frac=jnp.where(defaulted, lgd_frac(c["ead"], c["recovery"]), jnp.nan),
        credit_cures_used=c["cures_used"],
        credit_equity_cure_usd=c["cure_usd"],
        credit_interest_paid_usd=c["interest"],
        credit_principal_paid_usd=c["principal"],
        credit_prepaid_usd=c["prepaid"],
        credit_fees_usd=c["fees"],
        credit_balance_end_usd=c["B"],
        credit_min_tested_dscr=jnp.where(c["n_tests"] > 0, c["min_dscr"], jnp.nan),
        credit_max_tested_ltv_frac=jnp.where(c["n_tests"] > 0, c["max_ltv"], jnp.nan),
        credit_covenant_tests=c["n_tests"],
    )
    return res, months
