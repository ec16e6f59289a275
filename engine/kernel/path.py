"""One Monte Carlo path: ``lax.scan`` over months of the whole fleet (JAX, pure).

``make_path_fn(model, dtype, monthly)`` returns ``path(theta, z_price, z_fail)``:

    theta    (N,)    every scalar input of this path (fixed and drawn)
    z_price  (T, G)  standard normal price shocks by generation
    z_fail   (T, C)  standard normal failure-count scores by cohort

and gives a dict of per-path results (and, with ``monthly=True``, a dict of (T, ...) arrays).
``general_path_fn(st, monthly)`` is the same step as ``path(args, theta, z_price, z_fail)`` for every
scenario with static part ``st``, its numbers ``args`` an argument (engine/compiled.py): what the runners
compile, once per scenario shape.
Axes: S = 2 standards (0: ASC 360, 1: IAS 36), always both; C cohorts, K components, G generations.

Month t (1..T), in order (docs/methodology.md has the equations):
 1. log market price random walk with drift; launches shipped by t multiply the price of every
    older generation by (1 - undercut) and its utilization by (1 - cut);
 2. utilization responds to the price's deviation from its own trend with the elasticity, capped;
 3. failures: Binomial(alive, q) counts from the month's score (engine/failures.py: exact, or the
    rounded, clipped normal approximation of the bench SPEC with failures.draw = "normal");
 4. revenue (take-or-pay contracts at the contract price, the rest at utilization x market price
    with the spot mix), operating costs, replacement and disposal cash;
 5. straight-line depreciation re-based on the current carrying amount and remaining life;
    failed GPUs' share written off (policy write_off);
 6. impairment test when due (periodic or triggered) on forecasts made from month-t state only;
    ASC 360 on one carrying amount, IAS 36 on another (with reversals), same paths.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from engine.accounting.depreciation import monthly_depreciation
from engine.accounting.forecast import forecast_value
from engine.accounting.impairment import asc360, ias36, opening_unrecoverable
from engine.compile import Model
from engine.failures import failure_counts
from engine.credit.path import credit_path



def _sum_in_order(x):
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


def _consts(model: Model, dtype):
    """``Model.a`` as JAX arrays: the integer index arrays as int32, the rest in ``dtype``."""
    from engine.compiled import is_int_key

    return {k: jnp.asarray(v, jnp.int32 if is_int_key(k) else dtype) for k, v in model.a.items()}


def _bind(fn, args):
    """``fn(args, *rest)`` as a function of ``rest`` (the model's numbers closed over: one scenario)."""
    return lambda *rest: fn(args, *rest)


def make_indexed_path_fn(model: Model, dtype, *, monthly: bool):
    """``one(root, i) -> (results, months, theta, posterior_index)``: path ``i`` of the run with root key ``root``,
    its draws included (``indexed_path_fn`` with ``model``'s numbers closed over)."""
    from engine.compiled import device_args, split

    st, args = split(model, dtype)
    return _bind(indexed_path_fn(st, monthly=monthly), device_args(args))


def indexed_path_fn(st, *, monthly: bool):
    """``one(args, root, i) -> (results, months, theta, posterior_index)``: path ``i`` of the run with root
    key ``root`` of the scenario whose numbers are ``args`` (``engine.compiled.ModelArgs``) and whose
    static part is ``st`` (``engine.compiled.Static``): what the runners vmap over a chunk's path indices.

    Simple scenarios take the fast step with its monthly shocks drawn inside the scan
    (``fast_path_fn(..., keyed=True)``); the others draw (T, ...) shock arrays with
    ``engine.random.draw_noise`` first. Same numbers either way (engine/simulate_fast.py).
    """
    from engine.random import draw_inputs_from, draw_noise_from, noise_keys_from

    dtype = jnp.dtype(st.dtype)
    if st.fast is not None:
        from engine.backend_tuning import settings
        from engine.simulate_fast import fast_path_fn

        tune = settings()  # the backend's layout (engine.backend_tuning)
        keyed = fast_path_fn(st, monthly=monthly, keyed=True, select=tune["select"], unroll=tune["unroll"])

        def one(args, root, i):
            theta, pidx = draw_inputs_from(st, args, root, i, dtype)
            res, months = keyed(args, theta, noise_keys_from(st, root, i))
            return res, months, theta, pidx

        return one
    path = general_path_fn(st, monthly=monthly)

    def one(args, root, i):
        theta, pidx = draw_inputs_from(st, args, root, i, dtype)
        zp, zf = draw_noise_from(st, root, i, dtype)
        res, months = path(args, theta, zp, zf)
        return res, months, theta, pidx

    return one


def make_path_fn(model: Model, dtype, *, monthly: bool, fast: bool = True):
    """``path(theta, z_price, z_fail) -> (results, months)`` of ``model`` (module docstring).

    Simple scenarios (engine/simulate_fast.py: the eligibility rule) take a specialised step with
    the same results (and, with monthly=True, the same monthly values); ``fast=False`` forces the general step.
    """
    if fast:
        from engine.simulate_fast import fast_ineligible_reason, make_fast_path_fn

        if fast_ineligible_reason(model) is None:
            return make_fast_path_fn(model, dtype, monthly=monthly)
    from engine.compiled import device_args, split

    st, args = split(model, dtype)
    return _bind(general_path_fn(st, monthly=monthly), device_args(args))


def general_path_fn(st, *, monthly: bool):
    """The general monthly step: ``path(args, theta, z_price, z_fail) -> (results, months)`` for every
    scenario with static part ``st`` (``engine.compiled.Static``), its numbers ``args`` (``ModelArgs``)."""
    dtype = jnp.dtype(st.dtype)
    T, C, L = st.T, st.C, st.L
    ints = st.ints
    has_fin = st.flags["has_financing"]
    used_disposal = st.flags["disposal_used_market"]  # static
    exact_failures = st.flags["failures_exact"]  # static: failures.draw
    loss_floor = st.flags["loss_floor"]  # static: accounting.loss_allocation
    fv_life_set = st.flags["fv_life_set"]  # static: 0 = remaining book life
    stressed = st.flags["stressed"]  # static: any non-neutral monthly stress array
    f = lambda x: jnp.asarray(x, dtype)  # noqa: E731

    def path(args, theta, z_price, z_fail):
        A = {**{k: jnp.asarray(v, jnp.int32) for k, v in ints.items()}, **args.a()}
        gen = A["gen_of_cohort"]
        th = theta
        P0 = th[A["i_price_usd_per_gpu_hour"]]
        mu = -th[A["i_decline_rate_per_month"]]
        sig = th[A["i_volatility_per_month"]]
        cf_g = th[A["i_contracted_frac"]]
        spot_factor_g = 1.0 - th[A["i_spot_frac"]] * th[A["i_spot_discount_frac"]]

        # launches: explicit ones never before the previous; cadence ones after the previous
        raw = th[A["ship_idx"]]
        ships = []
        prev = f(0.0)
        for l in range(max(L, 1)):
            s_l = jnp.where(A["is_cadence"][l] > 0, prev + raw[l], jnp.maximum(prev, raw[l]))
            ships.append(s_l)
            prev = s_l
        ship = jnp.where(A["launch_mask"] > 0, jnp.stack(ships), jnp.inf)
        take = lambda idx: jnp.where(idx >= 0, jnp.clip(th[jnp.maximum(idx, 0)], 0.0, 1.0 - 1e-6), 0.0)  # noqa: E731
        log1m_uc = jnp.log1p(-take(A["undercut_idx"]))  # (L, G)
        log1m_ut = jnp.log1p(-take(A["utilcut_idx"]))

        u0 = th[A["i_util"]]
        eps = th[A["i_elasticity"]]
        afr = th[A["i_afr"]]
        q_c = (1.0 - (1.0 - afr) ** (1.0 / 12.0))[gen]
        hours = A["hours"]
        energy = A["kw"] * th[A["i_power_draw_frac"]] * th[A["i_pue"]] * th[A["i_electricity_usd_per_kwh"]] * hours
        var_cost = energy + th[A["i_staff_maintenance_usd_per_gpu_month"]] + th[A["i_network_usd_per_gpu_month"]]
        fixed_c = A["fixed_opex"] + A["units"] * A["kw"] * th[A["i_colocation_usd_per_kw_month"]]
        repl_unit = A["capex_per_gpu"] * A["replacement_cost_frac"] * A["policy_replace"]

        # what management expects (scenario means), for the forecasts at test dates
        drift = A["forecast_drift"]
        q_exp = (1.0 - (1.0 - A["expected_afr"]) ** (1.0 / 12.0))[gen]
        log_rho_c = -A["expected_decline"][gen] * drift
        log_a_c = jnp.log1p(-q_exp) * drift * (1.0 - A["policy_replace"])
        var_cost_fc = var_cost + q_exp * repl_unit * drift
        Pc = A["contract_price"][gen]
        renew = A["renew"][gen]
        rf = A["renewal_frac"][gen]
        term = A["contract_term"][gen].astype(dtype)
        cf_c = cf_g[gen]
        spot_c = spot_factor_g[gen]
        keep_eol = 1.0 - A["eol_disposal_cost"]
        book_disp_unit = A["disposal_per_unit"] * keep_eol  # book salvage per GPU, net of disposal costs
        fv_life = A["fv_life"]
        log_dv, log_df, log_dc = jnp.log(A["d_viu"]), jnp.log(A["d_fv"]), jnp.log(A["d_coc"])
        group = A["group"]
        decay = th[A["i_used_decay"]]

        def used_value_per_gpu(log_dev, age_after):
            """Used-GPU market value per GPU at the end of month t (observed then): capex decayed with
            age at the path's rate, moved with the market price against the scenario's expectation;
            ``log_dev`` = log(P_t / (P_0 e^{-E[decline] t})) by cohort. One exp of one sum: the same
            bits whatever the batch size (a product and a division were vectorised differently)."""
            return A["capex_per_gpu"] * jnp.exp(log_dev - decay * age_after)

        def valuations(used_unit, n_live, uc, pc, age_after, n_left):
            """Forecast values of each cohort at the end of month t from month-t state only:
            (undiscounted cash flows, value in use, fair value), (C,) USD; ``used_unit`` (C,) the used
            value per GPU now."""

            def disposal_at(n):  # end-of-life proceeds forecast n months ahead, net of disposal costs
                if used_disposal:
                    return n_live * used_unit * jnp.exp(-A["expected_used_decay"] * n) * keep_eol
                return n_live * book_disp_unit

            n = jnp.maximum(n_left, 0.0)
            common = dict(
                alive=n_live, util=uc, price_eff=pc * spot_c, contract_share=cf_c, contract_price=Pc,
                renewal_price=Pc * rf, share_after=cf_c * renew, log_rho=log_rho_c, log_a=log_a_c,
                var_cost=var_cost_fc, fixed_cost=fixed_c, hours=hours,
            )
            m_con = jnp.clip(term - age_after, 0.0, n)
            undisc = forecast_value(log_d=0.0, n=n, m_contract=m_con, disposal=disposal_at(n), **common)
            viu = forecast_value(log_d=log_dv, n=n, m_contract=m_con, disposal=disposal_at(n), **common)
            # market-participant DCF (Level 3): to the economic life when one is set
            n_fv = jnp.maximum(fv_life - age_after, 0.0) if fv_life_set else n
            fv_dcf = forecast_value(log_d=log_df, n=n_fv, m_contract=jnp.clip(term - age_after, 0.0, n_fv), disposal=disposal_at(n_fv), **common)
            fair = jnp.where(A["fv_used_market"] > 0, n_live * used_unit, fv_dcf)  # Level 2 where observed
            return undisc, viu, fair

        # the valuation-date check of the opening book (cohorts bought before the start; t = 0 state)
        on_books = (A["purchase"] < 0).astype(dtype)
        u_start = jnp.clip(u0, 0.0, A["util_ceiling"])  # no launch or price deviation at t = 0
        age0 = A["age"][0]
        undisc0, viu0, fair0 = valuations(used_value_per_gpu(0.0, age0), A["units"] * on_books, u_start, P0[gen], age0, A["rem"][0, :, 0])
        open_asc, open_ias = opening_unrecoverable(A["cv0"].sum(-1), undisc_c=undisc0, viu_c=viu0, fvlcd_c=fair0 * (1.0 - A["disposal_cost"]), on_books_c=on_books, group=group)

        cv0 = A["cv0"]
        zeros_c = jnp.zeros((C,), dtype)
        carry0 = dict(
            W=jnp.zeros_like(P0),
            alive=A["units"],
            cv=jnp.stack([cv0, cv0]),
            sv=jnp.stack([A["salvage"], A["salvage"]]) * (cv0 > 0),
            cv_base=cv0,
            sv_base=A["salvage"] * (cv0 > 0),
            p_off=jnp.zeros_like(P0),  # stress: log-price offset left by a path table (engine/stress)
            last_price=P0[gen],
            loss=jnp.zeros((2, C), dtype),
            first=jnp.zeros((2, C), dtype),
            first_loss=jnp.zeros((2, C), dtype),
            reversal=zeros_c,
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
            mat_month=jnp.zeros((2,), dtype),
            mat_fy=jnp.zeros((2, A["fiscal_year_onehot"].shape[1]), dtype),
            mat_loss=jnp.zeros((2,), dtype),
            immat_loss=jnp.zeros((2,), dtype),
        )

        def step(c, x):
            t, zp, zf, rem, act, last, age, in_term, periodic, reporting, ends, fy_hot, sh = x
            W = c["W"] + sig * zp
            post = (t >= ship).astype(dtype)  # (L,)
            # a launch shipping in (t-1, t] is a triggering event for the generations it undercuts
            launched_now_g = ((post * (ship > t - 1.0)) @ A["launch_applies"]) > 0  # (G,)
            log_mp = post @ log1m_uc  # (G,)
            log_mu = post @ log1m_ut
            # stress (engine/stress/compile_stress.py): price level shocks and a path table's price
            # index (the walk continues from the imposed level), utilization overrides; all neutral
            # (exact zeros / NaN) without a [stress] section
            if stressed:
                log_sp = jnp.log(sh["price_mult"])
                has_ix = ~jnp.isnan(sh["price_index"])
                p_off = jnp.where(has_ix, jnp.log(jnp.where(has_ix, sh["price_index"], 1.0)) - (mu * t + W + log_mp + log_sp), c["p_off"])
                log_st = log_sp + p_off
                log_x = mu * t + W + log_mp + log_st  # (G,) log of the price over its start
                util = jnp.clip(u0 * jnp.exp(log_mu - eps * (W + log_mp + log_st)), 0.0, A["util_ceiling"])
                has_uo = ~jnp.isnan(sh["util"])
                util = jnp.where(has_uo, jnp.where(has_uo, sh["util"], 0.0), util)
            else:  # neutral arrays: log_st = 0 exactly, no override (the same numbers without the arithmetic)
                p_off = c["p_off"]
                log_x = mu * t + W + log_mp
                util = jnp.clip(u0 * jnp.exp(log_mu - eps * (W + log_mp)), 0.0, A["util_ceiling"])
            price = P0 * jnp.exp(log_x)
            pc, uc = price[gen], util[gen]

            newly = (t == A["purchase"] + 1.0)[:, None]
            cv = jnp.where(newly[None], A["cost"][None], c["cv"])
            sv = jnp.where(newly[None], A["salvage"][None], c["sv"])
            cv_base = jnp.where(newly, A["cost"], c["cv_base"])
            sv_base = jnp.where(newly, A["salvage"], c["sv_base"])

            alive = c["alive"]
            q_t = jnp.clip(q_c * sh["afr_mult"][gen] if stressed else q_c, 0.0, 1.0)  # stress: failure spike
            failed = failure_counts(alive, q_t, zf, exact=exact_failures) * act
            alive_new = alive - failed * (1.0 - A["policy_replace"])
            fail_frac = jnp.where(alive > 0, failed / jnp.where(alive > 0, alive, 1.0), 0.0) * A["policy_write_off"]

            n_live = alive_new * act
            share = cf_c * (in_term + (1.0 - in_term) * renew)
            cprice = jnp.where(in_term > 0, Pc, Pc * rf)
            h_con = n_live * share * hours
            h_mkt = n_live * (1.0 - share) * uc * hours
            revenue = h_con * cprice + h_mkt * pc * spot_c
            var_cost_t = var_cost + energy * (sh["elec_mult"] - 1.0) if stressed else var_cost  # stress: power-price spike
            opex = n_live * var_cost_t + act * fixed_c + failed * repl_unit
            age_after = age + 1.0
            used_unit = used_value_per_gpu(log_x[gen] + A["expected_decline"][gen] * t, age_after)
            disposal_cash = last * n_live * (used_unit * keep_eol if used_disposal else book_disp_unit)
            cash = revenue - opex + disposal_cash

            dep = monthly_depreciation(cv, sv, rem[None])
            cv = cv - dep
            cv_base = cv_base - monthly_depreciation(cv_base, sv_base, rem)
            wo = cv * fail_frac[None, :, None]
            cv = cv - wo
            sv = sv * (1.0 - fail_frac)[None, :, None]
            cv_base = cv_base * (1.0 - fail_frac)[:, None]
            sv_base = sv_base * (1.0 - fail_frac)[:, None]

            # ---- impairment test at the end of month t, on month-t information only
            n_left = rem[:, 0] - 1.0
            # triggering events (ASC 360-10-35-21; IAS 36.12 indicators), each with a size
            cut_now_g = (post * (ship > t - 1.0)) @ (-log1m_uc)  # (G,) log price cut of launches shipping now
            launch_trig = (A["trigger_launch"] > 0) & launched_now_g[gen] & (cut_now_g[gen] >= A["trigger_launch_min_logcut"])
            below = (A["trigger_price_drop"] > 0) & (pc < (1.0 - A["trigger_price_drop"]) * c["last_price"])
            n_below = jnp.where(below, c["n_below"] + 1.0, 0.0)
            low = (A["trigger_util"] > 0) & (uc < A["trigger_util"])
            n_low = jnp.where(low, c["n_low"] + 1.0, 0.0)
            lost_contract = (A["trigger_contract_expiry"] > 0) & (ends > 0) & (cf_c * (1.0 - renew) > 0)
            trig = launch_trig | (n_below == A["trigger_price_months"]) | (n_low == A["trigger_util_months"]) | lost_contract
            # ASC 360 tests when the event occurs; IAS 36 assesses indicators at reporting dates (36.9)
            pending = (c["pending"] > 0) | trig
            due_a = (periodic > 0) | trig
            due_i = (periodic > 0) | (pending & (reporting > 0))
            pending = jnp.where((reporting > 0) | (periodic > 0), False, pending)
            in_life = (act > 0) & (n_left > 0)
            # the whole asset group is tested when a test is due for any of its cohorts
            tested_a = in_life & ((group.T @ (group @ due_a.astype(dtype))) > 0)
            tested_i = in_life & ((group.T @ (group @ due_i.astype(dtype))) > 0)
            tested = tested_a | tested_i
            tested_f = tested.astype(dtype)
            last_price = jnp.where(tested | (act == 0), pc, c["last_price"])
            undisc, viu, fair = valuations(used_unit, n_live, uc, pc, age_after, n_left)
            fv_used = n_live * used_unit
            fvlcd = fair * (1.0 - A["disposal_cost"])

            loss_a, _ = asc360(cv[0], recoverable_undisc=undisc, fair_value=fair, tested=tested_a.astype(dtype), group=group, floor=loss_floor)
            loss_i, rev_i, _ = ias36(cv[1], cv_base, value_in_use=viu, fvlcd=fvlcd, tested=tested_i.astype(dtype), group=group, floor=loss_floor)
            # materiality: the month's loss against the fleet's carrying amount before it (SAB 99)
            book_before = _sum_in_order(cv)  # (2,)
            loss_total = jnp.stack([_sum_in_order(loss_a), _sum_in_order(loss_i)])
            material = (loss_total > 0) & (loss_total >= A["materiality"] * book_before)
            cv = jnp.stack([cv[0] - loss_a, cv[1] - loss_i + rev_i])
            sv = jnp.stack([jnp.minimum(sv[0], cv[0]), jnp.minimum(sv_base, cv[1])])
            keep = (1.0 - last)[:, None]  # derecognized after the last month of life
            cv, sv, cv_base, sv_base = cv * keep[None], sv * keep[None], cv_base * keep, sv_base * keep

            loss_now = jnp.stack([loss_a.sum(-1), loss_i.sum(-1)])  # (2, C)
            hit = (loss_now > 0) & (c["first"] == 0)
            d_t = jnp.exp(log_dc * t)
            new = dict(
                W=W, alive=alive_new, cv=cv, sv=sv, cv_base=cv_base, sv_base=sv_base, last_price=last_price, p_off=p_off,
                n_below=n_below, n_low=n_low, pending=pending.astype(dtype),
                mat_month=jnp.where(material & (c["mat_month"] == 0), t, c["mat_month"]),
                mat_fy=jnp.maximum(c["mat_fy"], material.astype(dtype)[:, None] * fy_hot[None, :]),
                mat_loss=c["mat_loss"] + jnp.where(material, loss_total, 0.0),
                immat_loss=c["immat_loss"] + jnp.where(material, 0.0, loss_total),
                loss=c["loss"] + loss_now,
                first=jnp.where(hit, t, c["first"]),
                first_loss=jnp.where(hit, loss_now, c["first_loss"]),
                reversal=c["reversal"] + rev_i.sum(-1),
                writeoff=c["writeoff"] + wo.sum(-1),
                pv_cf=c["pv_cf"] + cash * d_t,
                opex=c["opex"] + opex,
                rev=c["rev"] + revenue,
                h_sold=c["h_sold"] + h_con + h_mkt,
                h_avail=c["h_avail"] + n_live * hours,
                n_tests=c["n_tests"] + tested_f,
            )
            # per-cohort inputs of the debt scan (engine/credit/path.py), only with [financing]
            credit_in = dict(cfads=revenue - opex, cfads_contracted=h_con * cprice - opex * share, disposal=disposal_cash, collateral=fv_used) if has_fin else {}
            if not monthly:
                return new, (credit_in or None)
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
                impairment_reversal_usd=rev_i.sum(-1),
                tested=tested_f,
                revenue_usd=revenue,
                operating_cost_usd=opex,
                cash_flow_usd=cash,
                gpu_hours_sold=h_con + h_mkt,
            )
            out.update({f"_credit_{k}": v for k, v in credit_in.items()})
            return new, out

        ts = jnp.arange(1, T + 1, dtype=dtype)
        shocks = dict(price_mult=A["shock_price_mult"], price_index=A["shock_price_index"], util=A["shock_util_override"],
                      afr_mult=A["shock_afr_mult"], elec_mult=A["shock_electricity_mult"])
        xs = (ts, z_price, z_fail, A["rem"], A["active"], A["last_month"], A["age"], A["in_term"], A["periodic"], A["reporting"],
              A["contract_ends"], A["fiscal_year_onehot"], shocks)
        c, months = jax.lax.scan(step, carry0, xs)

        h_sold, h_avail = c["h_sold"], c["h_avail"]
        safe = lambda num, den: jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), jnp.nan)  # noqa: E731
        tco_sl_del = safe(A["capital_charge_sl"] + c["opex"], h_sold)
        tco_sl_avail = safe(A["capital_charge_sl"] + c["opex"], h_avail)
        tco_ann_del = safe(A["capital_charge_annuity"] + c["opex"], h_sold)
        from engine.tco import breakeven_vs_cloud

        be_hours, be_months = breakeven_vs_cloud(A["capex_per_gpu"], A["cloud_price"], c["opex"], h_sold, h_avail, A["hours"], xp=jnp)
        res = dict(
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
            opening_book_unrecoverable=jnp.stack([open_asc, open_ias]).astype(dtype),
        )
        if has_fin:
            cin = months if not monthly else {k.removeprefix("_credit_"): months.pop(k) for k in [k for k in months if k.startswith("_credit_")]}
            credit_res, credit_months = credit_path(A, th, cin["cfads"], cin["disposal"], cin["collateral"], cin["cfads_contracted"])
            res.update(credit_res)
            if not monthly:
                return res, None
            months.update(credit_months)
        return res, months

    return path
