"""One Monte Carlo path: ``lax.scan`` over months of the whole fleet (JAX, pure). The one monthly step.

``path_fn(st, monthly=, layout=)`` returns ``path(args, theta, z_price, z_fail)`` and
``path_keyed(args, theta, keys)`` for every scenario with static part ``st`` (``engine.compiled.Static``),
its numbers ``args`` (``ModelArgs``) an argument, so one compilation serves every scenario of the shape:

    theta    (N,)    every scalar input of this path (fixed and drawn)
    z_price  (T, G)  standard normal price shocks by generation
    z_fail   (T, C)  standard normal failure-count scores by cohort
    keys             ``engine.random.noise_keys`` of the path: the month's shocks drawn inside the scan
                     (the same bits as ``z_price``/``z_fail``, without the (T, ...) arrays)

Each gives ``(results, months)``: a dict of per-path results ((S, C) for standard-indexed ones,
S = 2 standards, 0: ASC 360, 1: IAS 36; (C,) otherwise) and, with ``monthly=True``, a dict of (T, ...)
monthly values (else ``None``). ``make_path_fn(model, dtype, monthly=)`` binds one model's numbers.
Axes: C cohorts, K components, G generations, L launches.

Month t (1..T), in order (docs/methodology.md has the equations), each a function of its own module:
 1. the market (engine/kernel/market.py): the log price walk with drift; launches shipped by t cut older
    generations' prices and utilization; utilization answers the price's deviation from its trend;
 2. the fleet (engine/kernel/fleet.py): failures (engine/failures.py), revenue, operating cost, cash;
 3. depreciation (engine/accounting/depreciation.py), re-based on the current carrying amount; failed
    GPUs' share written off (policy write_off);
 4. the impairment test when due (engine/kernel/impairment_month.py, engine/accounting/impairment.py) on
    valuations made from month-t state only (engine/kernel/valuation.py);
 5. after the scan, the per-path results (TCO, engine/tco.py) and the debt (engine/credit/path.py).

Static specialisation (flags of ``st``, read at trace time; the same functions, less work): without a
non-neutral stress array the stress arithmetic is left out (``stressed``); when no triggering event can
fire (``calendar_only``: no launch, price-drop or utilization trigger, no contract that can lapse), the
months with a test are the same on every path, so the valuations and the test run only in them
(``lax.cond`` on the calendar, which stays a branch under ``vmap``; with the ``layout`` option ``select``
the test is computed every month and kept where due, an elementwise body for XLA:GPU). An untested
month's test books exact zeros, so the branch changes no amount.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from engine.accounting.depreciation import monthly_depreciation
from engine.accounting.impairment import opening_unrecoverable
from engine.compile import Model
from engine.credit.path import credit_path
from engine.compaction import due_rows_only
from engine.kernel.fleet import cash_month, failures_month
from engine.kernel.impairment_month import BOOK_KEYS, book_test, tests_due
from engine.kernel.market import launch_table, market_month, small_dot
from engine.kernel.valuation import Valuer
from engine.tco import breakeven_vs_cloud

CPU_LAYOUT = {"select": False, "unroll": 1}


def consts(model: Model, dtype):
    """``Model.a`` as JAX arrays: the integer index arrays as int32, the rest in ``dtype`` (tests, closed forms)."""
    from engine.compiled import is_int_key

    return {k: jnp.asarray(v, jnp.int32 if is_int_key(k) else dtype) for k, v in model.a.items()}


def make_path_fn(model: Model, dtype, *, monthly: bool, specialise: bool = True, layout: dict | None = None):
    """``path(theta, z_price, z_fail) -> (results, months)`` of ``model`` (its numbers bound; module docstring).
    ``specialise=False``: no specialisation that rests on an input's value (``path_fn``; the same results)."""
    from engine.compiled import device_args, split

    st, args = split(model, dtype)
    path, _ = path_fn(st, monthly=monthly, layout=layout, specialise=specialise)
    dargs = device_args(args)
    return lambda *rest: path(dargs, *rest)


def make_indexed_path_fn(model: Model, dtype, *, monthly: bool):
    """``one(root, i) -> (results, months, theta, posterior_index)`` of ``model`` (``indexed_path_fn``, numbers bound)."""
    from engine.compiled import device_args, split

    st, args = split(model, dtype)
    one, dargs = indexed_path_fn(st, monthly=monthly), device_args(args)
    return lambda *rest: one(dargs, *rest)


def indexed_path_fn(st, *, monthly: bool, layout: dict | None = None):
    """``one(args, root, i) -> (results, months, theta, posterior_index)``: path ``i`` of the run with root
    key ``root``, its inputs drawn (``engine.random.draw_inputs_from``) and its monthly shocks drawn inside
    the scan: what the runners vmap over a chunk's path indices. ``layout``: ``engine.backend_tuning.settings()``
    when ``None``."""
    from engine.random import draw_inputs_from, noise_keys_from

    dtype = jnp.dtype(st.dtype)
    _, keyed = path_fn(st, monthly=monthly, layout=layout)

    def one(args, root, i):
        theta, pidx = draw_inputs_from(st, args, root, i, dtype)
        res, months = keyed(args, theta, noise_keys_from(st, root, i))
        return res, months, theta, pidx

    return one


def path_fn(st, *, monthly: bool, layout: dict | None = None, specialise: bool = True):
    """``(path(args, theta, z_price, z_fail), path_keyed(args, theta, keys))`` for the scenarios with static
    part ``st`` (module docstring). ``layout`` = ``{"select": bool, "unroll": int}`` (engine/backend_tuning.py;
    its defaults when ``None``): speed only, never a decision. ``specialise=False`` leaves out the
    specialisations that rest on the value of an input (a fixed zero contracted share or elasticity, and the
    calendar rule, which rests on them): for callers that replace drawn inputs (engine/sensitivity/override.py)."""
    if layout is None:
        from engine.backend_tuning import settings

        tune = settings()
        layout = {"select": tune["select"], "unroll": tune["unroll"]}
    from engine.random import monthly_shocks

    dtype = jnp.dtype(st.dtype)
    T, C, L = st.T, st.C, st.L
    ints = st.ints
    flags = st.flags
    has_fin = flags["has_financing"]
    exact_failures = flags["failures_exact"]
    loss_floor = flags["loss_floor"]
    stressed = flags["stressed"]
    write_off, replace = flags["policy_write_off"], flags["policy_replace"]  # the failures policy
    contracts, elastic = flags["contracts"] or not specialise, flags["elastic"] or not specialise
    on_calendar = specialise and flags["calendar_only"]
    select, unroll = bool(layout["select"]), int(layout["unroll"])
    gen = jnp.asarray(ints["gen_of_cohort"], jnp.int32)  # each cohort's generation

    def by_cohort(x_g):
        """(..., G) by generation -> (..., C) by cohort."""
        return x_g[..., gen]

    elementwise = select  # the GPU layout: month bodies without small dots

    def test_core(p):
        """The month's impairment test of one path: valuations from month-t state, then the booking."""
        val = p["val"]
        used = val.used_value_per_gpu(p["log_x"] + p["exp_decline"] * p["t"], p["age_after"])
        undisc, viu, fair = val.valuations(used, p["n_live"], p["uc"], p["pc"], p["age_after"], p["n_left"])
        return book_test(p["book"], p["t"], p["fy_hot"], cv_base=p["cv_base"], undisc=undisc, viu=viu, fair=fair,
                         fvlcd=fair * (1.0 - p["disposal_cost"]), tested_a=p["tested_a"], tested_i=p["tested_i"], group=p["group"],
                         materiality=p["materiality"], floor=loss_floor)

    def untested(p):
        """What ``test_core`` gives a path with nothing tested: the book as it was, exact zeros."""
        return p["book"], jnp.zeros((2, C), dtype), jnp.zeros((C,), dtype)

    # triggered tests: over a chunk, the month's test runs on the paths with a cohort tested only (engine/compaction.py)
    compact = specialise and not on_calendar and not select
    test_month = due_rows_only(test_core, lambda p: (p["tested_a"] | p["tested_i"]).any(), untested) if compact else test_core

    def simulate(args, theta, noise_xs, keys):
        A = {**{k: jnp.asarray(v, jnp.int32) for k, v in ints.items()}, **args.a()}
        th = theta
        P0 = th[A["i_price_usd_per_gpu_hour"]]
        mu = -th[A["i_decline_rate_per_month"]]
        sig = th[A["i_volatility_per_month"]]
        cf_g = th[A["i_contracted_frac"]]
        spot_factor_g = 1.0 - th[A["i_spot_frac"]] * th[A["i_spot_discount_frac"]]
        ship, log1m_uc, log1m_ut = launch_table(th, A, L, dtype)
        u0 = th[A["i_util"]]
        eps = th[A["i_elasticity"]]
        afr = th[A["i_afr"]]
        q_c = by_cohort(1.0 - (1.0 - afr) ** (1.0 / 12.0))
        hours = A["hours"]
        energy = A["kw"] * th[A["i_power_draw_frac"]] * th[A["i_pue"]] * th[A["i_electricity_usd_per_kwh"]] * hours
        var_cost = energy + th[A["i_staff_maintenance_usd_per_gpu_month"]] + th[A["i_network_usd_per_gpu_month"]]
        fixed_c = A["fixed_opex"] + A["units"] * A["kw"] * th[A["i_colocation_usd_per_kw_month"]]
        repl_unit = A["capex_per_gpu"] * A["replacement_cost_frac"] * A["policy_replace"]

        # what management expects (scenario means), for the forecasts at test dates
        drift = A["forecast_drift"]
        q_exp = by_cohort(1.0 - (1.0 - A["expected_afr"]) ** (1.0 / 12.0))
        Pc = by_cohort(A["contract_price"])
        renew = by_cohort(A["renew"])
        rf = by_cohort(A["renewal_frac"])
        cf_c = by_cohort(cf_g)
        spot_c = by_cohort(spot_factor_g)
        keep_eol = 1.0 - A["eol_disposal_cost"]
        val = Valuer(
            capex_per_gpu=A["capex_per_gpu"], decay=th[A["i_used_decay"]], expected_used_decay=A["expected_used_decay"],
            keep_eol=keep_eol, book_disp_unit=A["disposal_per_unit"] * keep_eol, used_disposal=A["disposal_used_market"],
            fv_life_set=flags["fv_life_set"], fv_life=A["fv_life"], spot=spot_c, cf=cf_c, Pc=Pc, rf=rf, renew=renew,
            term=by_cohort(A["contract_term"]).astype(dtype), log_rho=-by_cohort(A["expected_decline"]) * drift,
            log_a=jnp.log1p(-q_exp) * drift * (1.0 - A["policy_replace"]), var_cost_fc=var_cost + q_exp * repl_unit * drift,
            fixed=fixed_c, hours=hours, log_dv=jnp.log(A["d_viu"]), log_df=jnp.log(A["d_fv"]), fv_used_market=A["fv_used_market"],
        )
        log_dc = jnp.log(A["d_coc"])
        group = A["group"]

        u_start = jnp.clip(u0, 0.0, A["util_ceiling"])  # no launch or price deviation at t = 0
        if flags["opening_book"]:  # the valuation-date check of the opening book (cohorts bought before the start; t = 0 state)
            on_books = (A["purchase"] < 0).astype(dtype)
            age0 = A["age"][0]
            undisc0, viu0, fair0 = val.valuations(val.used_value_per_gpu(0.0, age0), A["units"] * on_books, u_start, by_cohort(P0), age0, A["rem"][0, :, 0])
            open_asc, open_ias = opening_unrecoverable(A["cv0"].sum(-1), undisc_c=undisc0, viu_c=viu0, fvlcd_c=fair0 * (1.0 - A["disposal_cost"]),
                                                       on_books_c=on_books, group=group)
        else:  # nothing on the books at the start
            open_asc = open_ias = jnp.asarray(False)
        two_levels = None
        if not (elastic or stressed) and L <= 1:  # utilization moves only with the launch's cut
            two_levels = (u_start, jnp.clip(u0 * jnp.exp(log1m_ut[0]), 0.0, A["util_ceiling"]))

        cv0, sv0 = A["cv0"], A["salvage"] * (A["cv0"] > 0)
        if not flags["buys_in_horizon"]:  # cohorts bought at the start enter the books as month 1 begins, none later
            at_start = (A["purchase"] == 0.0)[:, None]
            cv0, sv0 = jnp.where(at_start, A["cost"], cv0), jnp.where(at_start, A["salvage"], sv0)
        zeros_c = jnp.zeros((C,), dtype)
        book0 = dict(
            cv=jnp.stack([cv0, cv0]),
            loss=jnp.zeros((2, C), dtype),
            first=jnp.zeros((2, C), dtype),
            first_loss=jnp.zeros((2, C), dtype),
            reversal=zeros_c,
            mat_month=jnp.zeros((2,), dtype),
            mat_fy=jnp.zeros((2, A["fiscal_year_onehot"].shape[1]), dtype),
            mat_loss=jnp.zeros((2,), dtype),
            immat_loss=jnp.zeros((2,), dtype),
        )
        carry0 = dict(
            book0,
            W=jnp.zeros_like(P0),
            alive=A["units"],
            sv=jnp.stack([sv0, sv0]),
            cv_base=cv0,
            sv_base=sv0,
            p_off=jnp.zeros_like(P0),  # stress: log-price offset left by a path table (engine/stress)
            last_price=by_cohort(P0),
            writeoff=jnp.zeros((2, C), dtype),
            pv_cf=zeros_c,
            opex=zeros_c,
            rev=zeros_c,
            h_sold=zeros_c,
            h_avail=zeros_c,
            n_tests=zeros_c,
            n_below=zeros_c,  # consecutive month ends with the price below the trigger level
            n_low=zeros_c,  # consecutive month ends with utilization below the trigger floor
            pending=zeros_c,  # an IAS 36 indicator since the last reporting date
        )

        def step(c, x):
            t, zp, zf, rem, act, last, age, in_term, periodic, reporting, ends, fy_hot, sh = x
            if keys is not None:  # zp is month t's 0-based index j = t - 1: draw its shocks here
                zp, zf = monthly_shocks(keys, zp, dtype)
            W = c["W"] + sig * zp
            post = (t >= ship).astype(dtype)  # (L,)
            price, util, log_x, p_off = market_month(
                t, W, c["p_off"], sh, P0=P0, mu=mu, u0=u0, eps=eps, post=post, log1m_uc=log1m_uc, log1m_ut=log1m_ut,
                util_ceiling=A["util_ceiling"], stressed=stressed, elementwise=elementwise, two_levels=two_levels)
            pc, uc = by_cohort(price), by_cohort(util)

            cv, sv, cv_base, sv_base = c["cv"], c["sv"], c["cv_base"], c["sv_base"]
            if flags["buys_in_horizon"]:  # a cohort enters the books at the start of the month after its purchase month
                newly = (t == A["purchase"] + 1.0)[:, None]
                cv = jnp.where(newly[None], A["cost"][None], cv)
                sv = jnp.where(newly[None], A["salvage"][None], sv)
                cv_base = jnp.where(newly, A["cost"], cv_base)
                sv_base = jnp.where(newly, A["salvage"], sv_base)

            q_t = jnp.clip(q_c * by_cohort(sh["afr_mult"]) if stressed else q_c, 0.0, 1.0)  # stress: failure spike
            failed, alive_new, fail_frac = failures_month(c["alive"], q_t, zf, act, replace=A["policy_replace"] if replace else None,
                                                          write_off=A["policy_write_off"] if write_off else None, exact=exact_failures,
                                                          gather=specialise and not select)
            n_live = alive_new * act
            share = cf_c * (in_term + (1.0 - in_term) * renew) if contracts else None
            cprice = jnp.where(in_term > 0, Pc, Pc * rf)
            age_after = age + 1.0
            used_unit = lambda: val.used_value_per_gpu(by_cohort(log_x) + by_cohort(A["expected_decline"]) * t, age_after)  # noqa: E731  (where it is read)
            var_cost_t = var_cost + energy * (sh["elec_mult"] - 1.0) if stressed else var_cost  # stress: power-price spike
            cm = cash_month(n_live, failed, act, pc, uc, share=share, cprice=cprice, hours=hours, spot=spot_c, var_cost=var_cost_t,
                            fixed_cost=fixed_c, repl_unit=repl_unit if replace else None, disposal_unit=val.disposal_unit(used_unit()),
                            last=last)

            dep = monthly_depreciation(cv, sv, rem[None])
            cv = cv - dep
            cv_base = cv_base - monthly_depreciation(cv_base, sv_base, rem)
            if write_off:  # failed GPUs' share of the book written off
                wo = cv * fail_frac[None, :, None]
                cv = cv - wo
                sv = sv * (1.0 - fail_frac)[None, :, None]
                cv_base = cv_base * (1.0 - fail_frac)[:, None]
                sv_base = sv_base * (1.0 - fail_frac)[:, None]

            # ---- impairment test at the end of month t, on month-t information only
            n_left = rem[:, 0] - 1.0
            in_life = (act > 0) & (n_left > 0)
            if on_calendar:  # no event can trigger a test: only the calendar's tests
                n_below, n_low = c["n_below"], c["n_low"]
                tested_a, tested_i, pending = tests_due(jnp.zeros((C,), bool), jnp.zeros((C,), bool), periodic=periodic, reporting=reporting,
                                                       in_life=in_life, group=group)  # nothing pending: the same calendar on every path
            else:
                # triggering events (ASC 360-10-35-21; IAS 36.12 indicators), each with a size
                launched_now = post * (ship > t - 1.0)  # (L,) launches shipping in (t-1, t]
                launched_now_g = small_dot(launched_now, A["launch_applies"], elementwise=elementwise) > 0  # (G,)
                cut_now_g = small_dot(launched_now, -log1m_uc, elementwise=elementwise)  # (G,) log price cut of launches shipping now
                launch_trig = (A["trigger_launch"] > 0) & by_cohort(launched_now_g) & (by_cohort(cut_now_g) >= A["trigger_launch_min_logcut"])
                below = (A["trigger_price_drop"] > 0) & (pc < (1.0 - A["trigger_price_drop"]) * c["last_price"])
                n_below = jnp.where(below, c["n_below"] + 1.0, 0.0)
                low = (A["trigger_util"] > 0) & (uc < A["trigger_util"])
                n_low = jnp.where(low, c["n_low"] + 1.0, 0.0)
                lost_contract = (A["trigger_contract_expiry"] > 0) & (ends > 0) & (cf_c * (1.0 - renew) > 0)
                trig = launch_trig | (n_below == A["trigger_price_months"]) | (n_low == A["trigger_util_months"]) | lost_contract
                tested_a, tested_i, pending = tests_due(trig, c["pending"] > 0, periodic=periodic, reporting=reporting, in_life=in_life, group=group)
            tested = tested_a | tested_i
            tested_f = tested.astype(dtype)
            last_price = jnp.where(tested | (act == 0), pc, c["last_price"])

            test_in = dict(val=val, log_x=by_cohort(log_x), exp_decline=by_cohort(A["expected_decline"]), t=t, age_after=age_after, n_live=n_live,
                           uc=uc, pc=pc, n_left=n_left, fy_hot=fy_hot, cv_base=cv_base, tested_a=tested_a, tested_i=tested_i,
                           disposal_cost=A["disposal_cost"], group=group, materiality=A["materiality"])

            def test(book):
                return test_month({**test_in, "book": book})

            book = {k: c[k] for k in BOOK_KEYS}
            book["cv"] = cv
            if on_calendar and not select:  # a real branch: the calendar is the same on every path
                book, loss_now, rev_now = jax.lax.cond(tested.any(), test, lambda b: (b, jnp.zeros((2, C), dtype), zeros_c), book)
            elif on_calendar:  # computed every month, kept in the calendar's months (elementwise, XLA:GPU)
                new, loss_new, rev_new = test(book)
                due = tested.any()
                book = {k: jnp.where(due, new[k], book[k]) for k in BOOK_KEYS}
                loss_now, rev_now = jnp.where(due, loss_new, 0.0), jnp.where(due, rev_new, 0.0)
            else:
                book, loss_now, rev_now = test(book)
            cv = book["cv"]
            sv = jnp.stack([jnp.minimum(sv[0], cv[0]), jnp.minimum(sv_base, cv[1])])
            keep = (1.0 - last)[:, None]  # derecognized after the last month of life
            cv, sv, cv_base, sv_base = cv * keep[None], sv * keep[None], cv_base * keep, sv_base * keep
            book["cv"] = cv

            d_t = jnp.exp(log_dc * t)
            new = dict(
                book,
                W=W, alive=alive_new, sv=sv, cv_base=cv_base, sv_base=sv_base, last_price=last_price, p_off=p_off,
                n_below=n_below, n_low=n_low, pending=pending.astype(dtype),
                writeoff=c["writeoff"] + wo.sum(-1) if write_off else c["writeoff"],
                pv_cf=c["pv_cf"] + cm["cash"] * d_t,
                opex=c["opex"] + cm["opex"],
                rev=c["rev"] + cm["revenue"],
                h_sold=c["h_sold"] + cm["h_con"] + cm["h_mkt"],
                h_avail=c["h_avail"] + n_live * hours,
                n_tests=c["n_tests"] + tested_f,
            )
            # per-cohort inputs of the debt scan (engine/credit/path.py), only with [financing]
            credit_in = dict(cfads=cm["revenue"] - cm["opex"], cfads_contracted=cm["h_con"] * cprice - cm["opex"] * share if contracts else cm["h_con"],
                             disposal=cm["disposal"], collateral=n_live * used_unit()) if has_fin else {}
            if not monthly:
                return new, (credit_in or None)
            undisc, viu, fair = val.valuations(used_unit(), n_live, uc, pc, age_after, n_left)  # reported every month in service
            out = dict(
                price_usd_per_gpu_hour=price,
                utilization_frac=util,
                alive_gpus=n_live,
                carrying_amount_usd=cv.sum(-1),
                carrying_amount_no_impairment_usd=cv_base.sum(-1),
                value_in_use_usd=jnp.where(act > 0, viu, 0.0),
                undiscounted_cash_flows_usd=jnp.where(act > 0, undisc, 0.0),
                fair_value_usd=jnp.where(act > 0, fair, 0.0),
                impairment_loss_usd=loss_now,
                impairment_reversal_usd=rev_now,
                tested=tested_f,
                revenue_usd=cm["revenue"],
                operating_cost_usd=cm["opex"],
                cash_flow_usd=cm["cash"],
                gpu_hours_sold=cm["h_con"] + cm["h_mkt"],
            )
            out.update({f"_credit_{k}": v for k, v in credit_in.items()})
            return new, out

        ts = jnp.arange(1, T + 1, dtype=dtype)
        shocks = dict(price_mult=A["shock_price_mult"], price_index=A["shock_price_index"], util=A["shock_util_override"],
                      afr_mult=A["shock_afr_mult"], elec_mult=A["shock_electricity_mult"])
        xs = (ts,) + tuple(noise_xs) + (A["rem"], A["active"], A["last_month"], A["age"], A["in_term"], A["periodic"], A["reporting"],
                                        A["contract_ends"], A["fiscal_year_onehot"], shocks)
        c, months = jax.lax.scan(step, carry0, xs, unroll=unroll)
        res = _results(A, c, dtype, hours)
        res["opening_book_unrecoverable"] = jnp.stack([open_asc, open_ias]).astype(dtype)
        if has_fin:
            cin = months if not monthly else {k.removeprefix("_credit_"): months.pop(k) for k in [k for k in months if k.startswith("_credit_")]}
            credit_res, credit_months = credit_path(A, th, cin["cfads"], cin["disposal"], cin["collateral"], cin["cfads_contracted"])
            res.update(credit_res)
            if not monthly:
                return res, None
            months.update(credit_months)
        return res, months

    def path(args, theta, z_price, z_fail):
        return simulate(args, theta, (z_price, z_fail), None)

    def path_keyed(args, theta, keys):
        j = jnp.arange(T, dtype=jnp.uint32)
        return simulate(args, theta, (j, j), keys)

    return path, path_keyed


def _results(A: dict, c: dict, dtype, hours) -> dict:
    """The per-path results from the scan's final carry ``c`` (shapes: module docstring)."""
    h_sold, h_avail = c["h_sold"], c["h_avail"]
    safe = lambda num, den: jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), jnp.nan)  # noqa: E731
    tco_sl_del = safe(A["capital_charge_sl"] + c["opex"], h_sold)
    tco_sl_avail = safe(A["capital_charge_sl"] + c["opex"], h_avail)
    tco_ann_del = safe(A["capital_charge_annuity"] + c["opex"], h_sold)
    be_hours, be_months = breakeven_vs_cloud(A["capex_per_gpu"], A["cloud_price"], c["opex"], h_sold, h_avail, hours, xp=jnp)
    return dict(
        impairment_loss_usd=c["loss"],
        first_impairment_month=c["first"],
        first_impairment_loss_usd=c["first_loss"],
        impairment_reversal_usd=c["reversal"],
        failure_writeoff_usd=c["writeoff"],
        carrying_amount_end_usd=c["cv"].sum(-1),
        npv_usd=c["pv_cf"] - A["npv_outlay_pv"],
        revenue_usd=c["rev"],
        operating_cost_usd=c["opex"],
        gpu_hours_sold=h_sold,
        gpu_hours_available=h_avail,
        tco_usd_per_gpu_hour=tco_sl_avail,
        tco_usd_per_delivered_gpu_hour=tco_sl_del,
        tco_annuity_usd_per_delivered_gpu_hour=tco_ann_del,
        tco_usd_per_million_tokens=tco_sl_del / (A["tokens_per_s"] * 3600.0 / 1e6),
        breakeven_utilization_frac=tco_sl_avail / A["cloud_price"],
        breakeven_vs_cloud_gpu_hours=be_hours,
        breakeven_vs_cloud_months=be_months,
        impairment_tests=c["n_tests"],
        alive_gpus_end=c["alive"] * A["active"][-1],
        material_impairment_month=c["mat_month"],
        material_impairment_in_fiscal_year=c["mat_fy"],
        material_impairment_loss_usd=c["mat_loss"],
        immaterial_impairment_loss_usd=c["immat_loss"],
    )
