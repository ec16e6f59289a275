"""A statically specialised path function for simple scenarios (same results as engine/kernel/path.py).

``fast_ineligible_reason(model)`` says, from the ``Model``'s static arrays only (pure Python, no
JAX), why a scenario needs the general monthly step, or returns ``None`` when the specialised step
``make_fast_path_fn(model, dtype)`` applies. ``engine.kernel.path.make_path_fn`` picks it for per-path
results and, with ``monthly=True``, for the monthly values too (fan charts, ``store = "full"``: the
general step's keys, shapes and values).

Eligible ("simple") scenarios — the bench reference workload (scenarios/bench/reference.toml) is one:

* one cohort with one component (C = K = 1), hence one generation (G = 1); any number of launches;
* bought at or before the run start (no purchase inside the horizon);
* no financing (no [[financing.facility]]), no [stress] (every monthly shock array neutral);
* no contracts: ``market.<G>.contracted_frac`` a fixed 0 (spot mix and elasticity stay general);
* failures policy ``retain_book`` (no write-off, no replacement); either ``failures.draw`` (both steps
  count failures with the same ``engine.failures.failure_counts``);
* impairment tests on the periodic calendar only (no launch, price-drop or utilization trigger);
* forecast ``flat``, fair value by ``dcf`` over the book life, disposal proceeds at book salvage.

Why it is faster with the same numbers: for these scenarios the whole no-impairment book (IAS 36's
reversal cap) and its salvage, the test calendar, the remaining life and the forecast annuity
factors are the same on every path, so they are computed once on the host (float64,
engine/fast_static.py) and passed to the compiled step as per-month arguments (the same compilation
serves every eligible scenario of the same shape, engine/compiled.py); a flat forecast without contracts is the month-t run-rate cash flow
times an annuity factor plus the discounted disposal, i.e.

    F(d) = [n_t (H u_t p_t s - v) - f] * sum_{k=1..n} d^k + n_t D d^n

(docs/methodology.md's forecast with rho = a = 1 and no contract terms), which is what
``engine.accounting.forecast.forecast_value`` returns for these inputs up to rounding. ASC 360 and
IAS 36 on one cohort-component reduce to scalar comparisons (the pro-rata allocation of a group
amount over one asset is the amount itself, and the allocation floors of ASC 360-10-35-28 and
IAS 36.105 never bind: the loss is at most the carrying amount less the cohort's own fair value,
resp. FVLCD, so ``accounting.loss_allocation`` changes nothing here). The carry is 18 scalars per path instead of ~30 arrays.

``path(theta, z_price, z_fail)`` has the general step's signature (``keyed=True``: ``path(theta, keys)``,
the month's shocks drawn inside the scan) and returns the same keys with the
same shapes: (2, C) for standard-indexed results (0: ASC 360, 1: IAS 36), (C,) otherwise, and
``None`` for the monthly values.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from engine.accounting.impairment import opening_unrecoverable
from engine.compile import Model
from engine.failures import failure_counts
from engine.random import monthly_shocks
from engine.fast_static import _SCHEDULE_KEYS, fast_ineligible_reason  # noqa: F401  (fast_ineligible_reason re-exported)
from engine.tco import breakeven_vs_cloud


def make_fast_path_fn(model: Model, dtype, monthly: bool = False, keyed: bool = False, *, select: bool | None = None, unroll: int | None = None):
    """The specialised ``path(theta, z_price, z_fail) -> (results, months)`` of an eligible model.

    ``months`` is ``None``, or with ``monthly=True`` the general step's monthly dict (same keys, (T, ...)
    shapes and values: fan charts and ``store = "full"``); the per-path results are the same either way
    (the monthly variant adds outputs, it changes no operation of the result chain).

    ``keyed=True`` returns ``path(theta, keys)`` instead, ``keys`` = ``engine.random.noise_keys`` of the
    path: each month's two shocks are drawn inside the scan (``engine.random.monthly_shocks``, the same
    bits and transform as ``draw_noise``, so the results are identical bit for bit,
    tests/test_simulate_fast.py) instead of being read from (T,) arrays made before it. On XLA:CPU that
    keeps a chunk's 2 x T x B shocks out of memory (about 4 % faster on the bench reference).

    GPU layout (``select`` and ``unroll`` left ``None``: ``engine.backend_tuning.settings()`` picks them per
    backend and environment): ``select=True``
    computes the impairment test every month and keeps its outputs only in tested months (``where``
    on the per-month flag) instead of branching with ``lax.cond``, and writes the launch sums as
    explicit products and adds instead of a (L,) dot; ``unroll`` months share one loop iteration
    (``lax.scan(..., unroll=)``). Without a branch or a dot the month's body is elementwise only, so
    XLA:GPU can fuse it (and ``unroll`` consecutive months) into few kernels instead of about 70 a
    month, which is what bounds a memory-bound step on a GPU. On a CPU the branch is cheaper (the
    test runs in 6 of 72 months of the reference), so the defaults there are ``select=False``,
    ``unroll=1``. The kept months run the same operations, fused differently: the same decisions on
    every path, amounts within a few float32 roundings of the carrying amount (tests/test_simulate_fast.py
    compares every per-path result and monthly value of both layouts; ``unroll`` alone changes no bit).
    """
    reason = fast_ineligible_reason(model)
    if reason is not None:
        raise ValueError(f"the fast step does not apply: {reason}")
    if select is None or unroll is None:
        from engine.backend_tuning import settings

        tune = settings()
        select = tune["select"] if select is None else select
        unroll = tune["unroll"] if unroll is None else unroll
    from engine.compiled import device_args, split

    st, args = split(model, dtype)
    args = device_args(args)
    fn = fast_path_fn(st, monthly=monthly, keyed=keyed, select=select, unroll=unroll)

    def path(*rest):
        return fn(args, *rest)

    return path


def fast_path_fn(st, *, monthly: bool, keyed: bool, select: bool, unroll: int):
    """The fast step for every eligible scenario with static part ``st`` (``engine.compiled.Static``):
    ``path(args, theta, z_price, z_fail)``, or with ``keyed=True`` ``path(args, theta, keys)``, ``args`` the
    scenario's numbers (``engine.compiled.ModelArgs``, its ``fast`` group from ``fast_args``)."""
    dtype = jnp.dtype(st.dtype)
    T, L = st.T, st.L
    fs = st.fast
    f = lambda x: jnp.asarray(x, dtype)  # noqa: E731
    i32 = lambda x: jnp.asarray(x, jnp.int32)  # noqa: E731
    ix = dict(fs["ix"])
    n_launch = max(L, 1)
    ship_idx = i32(st.ints["ship_idx"])
    is_cadence = fs["is_cadence"]
    launch_mask = fs["launch_mask"]
    uc_idx = i32(st.ints["undercut_idx"][:, 0])
    ut_idx = i32(st.ints["utilcut_idx"][:, 0])
    exact_failures = st.flags["failures_exact"]  # static: failures.draw, as the general step
    n_fy = st.n_fiscal_years
    purchase0 = fs["purchase0"]
    two_level_util = fs["two_level_util"]
    C = 1

    def simulate(args, theta, noise_xs, keys):
        """The scan. noise_xs: the month-indexed scan inputs for the shocks, ((T,), (T,)): the shocks
        themselves, or (with ``keys``) the 0-based month index j twice, from which the step draws them."""
        F = args.fast  # scalars () and the (T,) schedule, in dtype (fast_args)
        hours, kw, units, util_ceiling, disp_unit, materiality = (F[k] for k in ("hours", "kw", "units", "util_ceiling", "disp_unit", "materiality"))
        th = theta
        P0 = th[ix["i_price_usd_per_gpu_hour"]]
        mu = -th[ix["i_decline_rate_per_month"]]
        sig = th[ix["i_volatility_per_month"]]
        spot_c = 1.0 - th[ix["i_spot_frac"]] * th[ix["i_spot_discount_frac"]]
        # launches, as the general step: explicit ones never before the previous, cadence after it
        raw = th[ship_idx]
        prev = f(0.0)
        ships = []
        for l in range(n_launch):
            s_l = prev + raw[l] if is_cadence[l] > 0 else jnp.maximum(prev, raw[l])
            ships.append(s_l if launch_mask[l] > 0 else f(jnp.inf))
            prev = s_l
        ship = jnp.stack(ships)  # (L,)
        take = lambda idx: jnp.where(idx >= 0, jnp.clip(th[jnp.maximum(idx, 0)], 0.0, 1.0 - 1e-6), 0.0)  # noqa: E731
        log1m_uc = jnp.log1p(-take(uc_idx))  # (L,)
        log1m_ut = jnp.log1p(-take(ut_idx))
        u0 = th[ix["i_util"]]
        eps = th[ix["i_elasticity"]]
        q = 1.0 - (1.0 - th[ix["i_afr"]]) ** (1.0 / 12.0)
        energy = kw * th[ix["i_power_draw_frac"]] * th[ix["i_pue"]] * th[ix["i_electricity_usd_per_kwh"]] * hours
        var_cost = energy + th[ix["i_staff_maintenance_usd_per_gpu_month"]] + th[ix["i_network_usd_per_gpu_month"]]
        fixed_c = F["fixed_opex"] + F["units_kw"] * th[ix["i_colocation_usd_per_kw_month"]]
        if two_level_util:
            util_before = jnp.clip(u0, 0.0, util_ceiling)  # exp(0) = 1 before the launch
            util_after = jnp.clip(u0 * jnp.exp(log1m_ut[0]), 0.0, util_ceiling)
        margin_rate = hours * spot_c  # revenue per GPU per unit of (util x price)

        z = jnp.zeros_like(P0)
        zy = jnp.zeros((n_fy,), dtype)
        if purchase0:
            open_asc = open_ias = jnp.asarray(False)
        else:  # the general step's check with C = 1 and a flat forecast (closed forms as in forecasts())
            run_rate0 = units * (jnp.clip(u0, 0.0, util_ceiling) * P0 * margin_rate - var_cost) - fixed_c
            disp0 = F["disp0"]
            one_c = lambda x: jnp.reshape(x, (1,))  # noqa: E731
            open_asc, open_ias = opening_unrecoverable(
                one_c(F["cv0"]), undisc_c=one_c(run_rate0 * F["n0"] + disp0), viu_c=one_c(run_rate0 * F["a_viu0"] + F["disp0_dn_viu0"]),
                fvlcd_c=one_c((run_rate0 * F["a_fv0"] + F["disp0_dn_fv0"]) * F["keep_disposal"]), on_books_c=jnp.ones((1,), dtype), group=jnp.ones((1, 1), dtype))
        cv_start = F["cv_start"]
        sv_start = F["sv_start"]
        carry0 = (
            z, units, cv_start, cv_start, sv_start, sv_start,  # W, alive, cv and sv by standard
            z, z, z, z, z, z, z,  # loss A, loss I, first A, first I, first loss A, first loss I, reversal
            z, z, z, z, z,  # pv cash, opex, revenue, hours sold, hours available
            z, z, zy, zy, z, z, z, z,  # material: first month A, I; by fiscal year A, I; loss A, I; immaterial loss A, I
        )

        def step(c, x):
            W, alive, cvA, cvI, svA, svI, lossA, lossI, firstA, firstI, flA, flI, rev_sum, pv, opex_sum, rev_usd, h_sold, h_avail = c[:18]
            mat = c[18:]
            t, zp, zf, inv_rem, act, last, tested, cvb_pre, svb, n, a_viu, a_fv, dn_viu, dn_fv, d_t, hot = x
            if keys is not None:  # zp is month t's 0-based index j = t - 1: draw its shocks here
                zp, zf = monthly_shocks(keys, zp, dtype)
                zp, zf = zp[0], zf[0]
            W = W + sig * zp
            post = (t >= ship).astype(dtype)
            if select:  # no dot: an elementwise body (L is small and static)
                log_mp = sum(post[l] * log1m_uc[l] for l in range(n_launch))
                log_mu = sum(post[l] * log1m_ut[l] for l in range(n_launch))
            else:
                log_mp = post @ log1m_uc
                log_mu = post @ log1m_ut
            x_w = W + log_mp
            price = P0 * jnp.exp(mu * t + x_w)
            if two_level_util:
                util = jnp.where(post[0] > 0, util_after, util_before)
            else:
                util = jnp.clip(u0 * jnp.exp(log_mu - eps * x_w), 0.0, util_ceiling)

            failed = failure_counts(alive, q, zf, exact=exact_failures) * act
            alive = alive - failed
            n_live = alive * act
            h_mkt = n_live * util * hours
            up = util * price
            revenue = n_live * up * margin_rate
            opex = n_live * var_cost + act * fixed_c
            disposal = n_live * disp_unit
            cash = revenue - opex + last * disposal

            # straight line re-based on the current carrying amount: (cv - sv) / rem, as a product with
            # the host's 1/rem (0 when no life is left) so that no compiler rewrites the division
            cvA = cvA - (cvA - svA) * inv_rem
            cvI = cvI - (cvI - svI) * inv_rem

            # impairment test at the end of month t (flat forecast, no contracts); the calendar is
            # the same on every path, so under vmap this stays a real branch: untested months skip it
            def forecasts():
                run_rate = n_live * (up * margin_rate - var_cost) - fixed_c
                undisc = run_rate * n + disposal
                viu = run_rate * a_viu + disposal * dn_viu
                fair = run_rate * a_fv + disposal * dn_fv
                return undisc, viu, fair

            def test(ops):
                cvA, cvI, lossA, lossI, firstA, firstI, flA, flI, rev_sum = ops[:9]
                mA, mI, fyA, fyI, mlA, mlI, ilA, ilI = ops[9:17]
                undisc, viu, fair = forecasts()
                lossA_now = jnp.where(cvA > undisc, jnp.minimum(jnp.maximum(cvA - fair, 0.0), cvA), 0.0)
                recov = jnp.maximum(viu, fair * F["keep_disposal"])
                impI = cvI > recov
                lossI_now = jnp.where(impI, jnp.minimum(cvI - recov, cvI), 0.0)
                revI = jnp.where(~impI, jnp.minimum(jnp.maximum(recov - cvI, 0.0), jnp.maximum(cvb_pre - cvI, 0.0)), 0.0)
                hitA = (lossA_now > 0) & (firstA == 0)
                hitI = (lossI_now > 0) & (firstI == 0)
                # materiality against the (one-cohort) fleet's carrying amount before the loss
                matA = (lossA_now > 0) & (lossA_now >= materiality * cvA)
                matI = (lossI_now > 0) & (lossI_now >= materiality * cvI)
                return (
                    cvA - lossA_now, cvI - lossI_now + revI, lossA + lossA_now, lossI + lossI_now,
                    jnp.where(hitA, t, firstA), jnp.where(hitI, t, firstI),
                    jnp.where(hitA, lossA_now, flA), jnp.where(hitI, lossI_now, flI), rev_sum + revI,
                    jnp.where(matA & (mA == 0), t, mA), jnp.where(matI & (mI == 0), t, mI),
                    jnp.maximum(fyA, matA * hot), jnp.maximum(fyI, matI * hot),
                    mlA + jnp.where(matA, lossA_now, 0.0), mlI + jnp.where(matI, lossI_now, 0.0),
                    ilA + jnp.where(matA, 0.0, lossA_now), ilI + jnp.where(matI, 0.0, lossI_now),
                ) + ((lossA_now, lossI_now, revI) if monthly else ())

            ops = (cvA, cvI, lossA, lossI, firstA, firstI, flA, flI, rev_sum) + tuple(mat)
            if monthly:  # this month's loss and reversal leave the branch too (zeros when untested)
                ops = ops + (z, z, z)
            if select:  # every month computed, kept where tested: one elementwise body for XLA:GPU
                is_test = tested > 0
                out_ops = tuple(jnp.where(is_test, new, old) for new, old in zip(test(ops), ops))
            else:
                out_ops = jax.lax.cond(tested > 0, test, lambda o: o, ops)
            cvA, cvI, lossA, lossI, firstA, firstI, flA, flI, rev_sum = out_ops[:9]
            mat = out_ops[9:17]
            keep = 1.0 - last
            cvA = cvA * keep
            cvI = cvI * keep
            svA = jnp.minimum(svA, cvA) * keep
            svI = jnp.minimum(svb, cvI)
            month_out = None
            if monthly:  # the general step's monthly values (engine/kernel/path.py), same keys and shapes
                lossA_now, lossI_now, revI = out_ops[17:]
                undisc, viu, fair = forecasts()  # reported every month in service, as the general step does
                month_out = dict(
                    price_usd_per_gpu_hour=price[None],
                    utilization_frac=util[None],
                    alive_gpus=n_live[None],
                    carrying_amount_usd=jnp.stack([cvA, cvI])[:, None],
                    carrying_amount_no_impairment_usd=(cvb_pre * keep)[None],
                    value_in_use_usd=jnp.where(act > 0, viu, 0.0)[None],
                    undiscounted_cash_flows_usd=jnp.where(act > 0, undisc, 0.0)[None],
                    fair_value_usd=jnp.where(act > 0, fair, 0.0)[None],
                    impairment_loss_usd=jnp.stack([lossA_now, lossI_now])[:, None],
                    impairment_reversal_usd=revI[None],
                    tested=tested[None],
                    revenue_usd=revenue[None],
                    operating_cost_usd=opex[None],
                    cash_flow_usd=cash[None],
                    gpu_hours_sold=h_mkt[None],
                )
            return (
                W, alive, cvA, cvI, svA, svI, lossA, lossI, firstA, firstI, flA, flI,
                rev_sum, pv + cash * d_t, opex_sum + opex, rev_usd + revenue,
                h_sold + h_mkt, h_avail + n_live * hours,
            ) + tuple(mat), month_out

        xs = (f(np.arange(1, T + 1)),) + tuple(noise_xs) + tuple(F[k] for k in _SCHEDULE_KEYS) + (F["fy_hot"],)
        c, months = jax.lax.scan(step, carry0, xs, unroll=unroll)
        W, alive, cvA, cvI, svA, svI, lossA, lossI, firstA, firstI, flA, flI, rev_sum, pv, opex_sum, rev_usd, h_sold, h_avail = c[:18]
        mA, mI, fyA, fyI, mlA, mlI, ilA, ilI = c[18:]

        two = lambda x0, x1: jnp.stack([x0, x1])[:, None]  # noqa: E731  (2, C)
        one = lambda x0: x0[None]  # noqa: E731  (C,)
        safe = lambda num, den: jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), jnp.nan)  # noqa: E731
        cap_sl, cap_ann, cloud_price = F["cap_sl"], F["cap_ann"], F["cloud_price"]
        tco_sl_del = safe(cap_sl + opex_sum, h_sold)
        tco_sl_avail = safe(cap_sl + opex_sum, h_avail)
        tco_ann_del = safe(cap_ann + opex_sum, h_sold)
        be_hours, be_months = breakeven_vs_cloud(F["capex_per_gpu"], cloud_price, opex_sum, h_sold, h_avail, hours, xp=jnp)
        res = dict(
            impairment_loss_usd=two(lossA, lossI),
            first_impairment_month=two(firstA, firstI),
            first_impairment_loss_usd=two(flA, flI),
            impairment_reversal_usd=one(rev_sum),
            failure_writeoff_usd=jnp.zeros((2, C), dtype),
            carrying_amount_end_usd=two(cvA, cvI),
            npv_usd=one(pv - F["npv_outlay"]),
            revenue_usd=one(rev_usd),
            operating_cost_usd=one(opex_sum),
            gpu_hours_sold=one(h_sold),
            gpu_hours_available=one(h_avail),
            tco_usd_per_gpu_hour=one(tco_sl_avail),
            tco_usd_per_delivered_gpu_hour=one(tco_sl_del),
            tco_annuity_usd_per_delivered_gpu_hour=one(tco_ann_del),
            tco_usd_per_million_tokens=one(tco_sl_del / F["tokens_per_mtok_hour"]),
            breakeven_utilization_frac=one(tco_sl_avail / cloud_price),
            breakeven_vs_cloud_gpu_hours=one(be_hours),
            breakeven_vs_cloud_months=one(be_months),
            impairment_tests=jnp.full((C,), F["n_tests"], dtype),
            alive_gpus_end=one(alive * F["active_end"]),
            material_impairment_month=jnp.stack([mA, mI]),
            material_impairment_in_fiscal_year=jnp.stack([fyA, fyI]),
            material_impairment_loss_usd=jnp.stack([mlA, mlI]),
            immaterial_impairment_loss_usd=jnp.stack([ilA, ilI]),
            opening_book_unrecoverable=jnp.stack([open_asc, open_ias]).astype(dtype),
        )
        return res, months

    def path(args, theta, z_price, z_fail):
        return simulate(args, theta, (z_price[:, 0], z_fail[:, 0]), None)

    def path_keyed(args, theta, keys):
        j = jnp.arange(T, dtype=jnp.uint32)
        return simulate(args, theta, (j, j), keys)

    return path_keyed if keyed else path
