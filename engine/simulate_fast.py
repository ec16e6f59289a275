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
factors are the same on every path, so they are computed once on the host (float64) and fed to the
scan as per-month constants; a flat forecast without contracts is the month-t run-rate cash flow
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
from engine.scenario.dists import Fixed
from engine.tco import breakeven_vs_cloud


def fast_ineligible_reason(model: Model) -> str | None:
    """Why ``model`` needs the general step (a short phrase), or ``None`` when the fast step applies."""
    a = model.a
    if model.facilities:
        return "financing"
    if model.C != 1 or model.K != 1 or model.G != 1:
        return "more than one cohort, component or generation"
    if float(a["purchase"][0]) > 0:
        return "a purchase inside the horizon"
    if float(a["policy_write_off"]) != 0 or float(a["policy_replace"]) != 0:
        return "failures policy other than retain_book"
    if float(a["trigger_launch"]) != 0 or float(a["trigger_price_drop"]) != 0 or float(a["trigger_util"]) != 0:
        return "impairment triggers"
    if float(a["forecast_drift"]) != 0:
        return "drift forecast"
    if np.any(a["fv_used_market"] != 0):
        return "used-market fair value"
    if float(a["fv_life"]) != 0:
        return "an economic life for the fair value"
    if float(a["disposal_used_market"]) != 0:
        return "used-market disposal proceeds"
    cf = model.inputs[int(a["i_contracted_frac"][0])]
    if not (isinstance(cf.dist, Fixed) and cf.posterior_draws is None and cf.dist.value == 0.0):
        return "contracts"
    neutral = (
        np.all(a["shock_price_mult"] == 1.0) and np.all(np.isnan(a["shock_price_index"]))
        and np.all(np.isnan(a["shock_util_override"])) and np.all(a["shock_afr_mult"] == 1.0)
        and np.all(a["shock_electricity_mult"] == 1.0)
    )
    if not neutral:
        return "stress shocks"
    return None


def _annuity(d: float, n: np.ndarray) -> np.ndarray:
    """sum_{k=1..n} d^k for integer n >= 0 (float64, host)."""
    return np.array([sum(d ** k for k in range(1, int(m) + 1)) for m in n])


def _static_schedule(model: Model) -> dict[str, np.ndarray]:
    """Per-month constants (T,) of an eligible scenario, float64 on the host.

    inv_rem: 1 / remaining life at the start of month t (0 when none is left); act: in service; last: last month of life;
    tested: periodic test due and life left; cvb_pre: the no-impairment carrying amount after month
    t's depreciation (before derecognition); svb: its salvage at the end of month t; n: months left after t; a_viu, a_fv: annuity
    factors; dn_viu, dn_fv: d^n; d_coc: NPV discount factor of month t.
    """
    a = model.a
    T = model.T
    rem = a["rem"][:, 0, 0].astype(np.float64)
    act = a["active"][:, 0].astype(np.float64)
    last = a["last_month"][:, 0].astype(np.float64)
    n_left = rem - 1.0
    tested = (act > 0) & (n_left > 0) & (a["periodic"] > 0)
    n = np.maximum(n_left, 0.0)
    # the general step's cv_base / sv_base recursion, which no path-dependent quantity enters here
    cv0 = float(a["cv0"][0, 0])
    if float(a["purchase"][0]) == 0:
        cvb, svb = float(a["cost"][0, 0]), float(a["salvage"][0, 0])
    else:
        cvb, svb = cv0, float(a["salvage"][0, 0]) * (cv0 > 0)
    cvb_pre, svb_t = np.zeros(T), np.zeros(T)
    for t in range(T):
        cvb = cvb - ((cvb - svb) / max(rem[t], 1.0) if rem[t] > 0 else 0.0)
        cvb_pre[t] = cvb
        keep = 1.0 - last[t]
        cvb, svb = cvb * keep, svb * keep
        svb_t[t] = svb
    d_viu, d_fv, d_coc = float(a["d_viu"]), float(a["d_fv"]), float(a["d_coc"])
    return dict(
        inv_rem=np.where(rem > 0, 1.0 / np.maximum(rem, 1.0), 0.0), act=act, last=last, tested=tested.astype(np.float64), n=n,
        cvb_pre=cvb_pre, svb=svb_t,
        a_viu=_annuity(d_viu, n), a_fv=_annuity(d_fv, n), dn_viu=d_viu ** n, dn_fv=d_fv ** n,
        d_coc=d_coc ** np.arange(1, T + 1, dtype=np.float64),
    )


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
    a = model.a
    T, L = model.T, model.L
    sch = _static_schedule(model)
    f = lambda x: jnp.asarray(x, dtype)  # noqa: E731
    i32 = lambda x: jnp.asarray(x, jnp.int32)  # noqa: E731

    # scalar indices into theta (G = C = 1)
    ix = {k: int(np.asarray(a[k]).reshape(-1)[0]) for k in (
        "i_price_usd_per_gpu_hour", "i_decline_rate_per_month", "i_volatility_per_month", "i_spot_frac",
        "i_spot_discount_frac", "i_util", "i_elasticity", "i_afr", "i_power_draw_frac", "i_pue",
        "i_electricity_usd_per_kwh", "i_colocation_usd_per_kw_month", "i_staff_maintenance_usd_per_gpu_month",
        "i_network_usd_per_gpu_month")}
    n_launch = max(L, 1)
    ship_idx = i32(a["ship_idx"])
    is_cadence = np.asarray(a["is_cadence"])
    launch_mask = np.asarray(a["launch_mask"])
    uc_idx = i32(a["undercut_idx"][:, 0])
    ut_idx = i32(a["utilcut_idx"][:, 0])
    hours = float(a["hours"])
    kw, units = float(a["kw"][0]), float(a["units"][0])
    fixed_opex = float(a["fixed_opex"][0])
    util_ceiling = float(a["util_ceiling"])
    disposal_cost = float(a["disposal_cost"])
    disp_unit = float(a["disposal_per_unit"][0]) * (1.0 - float(a["eol_disposal_cost"]))
    materiality = float(a["materiality"])
    exact_failures = float(a["failures_exact"]) > 0  # static: failures.draw, as the general step
    fy_hot = np.asarray(a["fiscal_year_onehot"])  # (T, Y)
    # the valuation-date check (t = 0): only a cohort bought before the start is on the opening book
    n0 = float(a["rem"][0, 0, 0])
    d_viu, d_fv = float(a["d_viu"]), float(a["d_fv"])
    a_viu0, a_fv0 = float(_annuity(d_viu, [n0])[0]), float(_annuity(d_fv, [n0])[0])
    purchase0 = float(a["purchase"][0]) == 0
    cost, salvage, cv0 = float(a["cost"][0, 0]), float(a["salvage"][0, 0]), float(a["cv0"][0, 0])
    active_end = float(a["active"][-1, 0])
    npv_outlay = float(a["npv_outlay_pv"][0])
    cap_sl, cap_ann = float(a["capital_charge_sl"][0]), float(a["capital_charge_annuity"][0])
    tokens_per_s, cloud_price = float(a["tokens_per_s"][0]), float(a["cloud_price"][0])
    capex_per_gpu = float(a["capex_per_gpu"][0])
    n_tests = float(sch["tested"].sum())
    # a fixed zero elasticity with at most one launch: utilization takes one of two per-path values
    el = model.inputs[ix["i_elasticity"]]
    two_level_util = L <= 1 and isinstance(el.dist, Fixed) and el.posterior_draws is None and el.dist.value == 0.0
    C = 1

    def simulate(theta, noise_xs, keys):
        """The scan. noise_xs: the month-indexed scan inputs for the shocks, ((T,), (T,)): the shocks
        themselves, or (with ``keys``) the 0-based month index j twice, from which the step draws them."""
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
        fixed_c = fixed_opex + units * kw * th[ix["i_colocation_usd_per_kw_month"]]
        if two_level_util:
            util_before = jnp.clip(u0, 0.0, util_ceiling)  # exp(0) = 1 before the launch
            util_after = jnp.clip(u0 * jnp.exp(log1m_ut[0]), 0.0, util_ceiling)
        margin_rate = hours * spot_c  # revenue per GPU per unit of (util x price)

        z = jnp.zeros_like(P0)
        zy = jnp.zeros((fy_hot.shape[1],), dtype)
        if purchase0:
            open_asc = open_ias = jnp.asarray(False)
        else:  # the general step's check with C = 1 and a flat forecast (closed forms as in forecasts())
            run_rate0 = units * (jnp.clip(u0, 0.0, util_ceiling) * P0 * margin_rate - var_cost) - fixed_c
            disp0 = units * disp_unit
            one_c = lambda x: jnp.reshape(x, (1,))  # noqa: E731
            open_asc, open_ias = opening_unrecoverable(
                one_c(f(cv0)), undisc_c=one_c(run_rate0 * n0 + disp0), viu_c=one_c(run_rate0 * a_viu0 + disp0 * d_viu ** n0),
                fvlcd_c=one_c((run_rate0 * a_fv0 + disp0 * d_fv ** n0) * (1.0 - disposal_cost)), on_books_c=jnp.ones((1,), dtype), group=jnp.ones((1, 1), dtype))
        cv_start = f(cost if purchase0 else cv0)
        sv_start = f(salvage if purchase0 else salvage * (cv0 > 0))
        carry0 = (
            z, f(units), cv_start, cv_start, sv_start, sv_start,  # W, alive, cv and sv by standard
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
                recov = jnp.maximum(viu, fair * (1.0 - disposal_cost))
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

        xs = (f(np.arange(1, T + 1)),) + tuple(noise_xs) + tuple(
            f(sch[k]) for k in ("inv_rem", "act", "last", "tested", "cvb_pre", "svb", "n", "a_viu", "a_fv", "dn_viu", "dn_fv", "d_coc")) + (f(fy_hot),)
        c, months = jax.lax.scan(step, carry0, xs, unroll=unroll)
        W, alive, cvA, cvI, svA, svI, lossA, lossI, firstA, firstI, flA, flI, rev_sum, pv, opex_sum, rev_usd, h_sold, h_avail = c[:18]
        mA, mI, fyA, fyI, mlA, mlI, ilA, ilI = c[18:]

        two = lambda x0, x1: jnp.stack([x0, x1])[:, None]  # noqa: E731  (2, C)
        one = lambda x0: x0[None]  # noqa: E731  (C,)
        safe = lambda num, den: jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), jnp.nan)  # noqa: E731
        tco_sl_del = safe(cap_sl + opex_sum, h_sold)
        tco_sl_avail = safe(cap_sl + opex_sum, h_avail)
        tco_ann_del = safe(cap_ann + opex_sum, h_sold)
        be_hours, be_months = breakeven_vs_cloud(capex_per_gpu, cloud_price, opex_sum, h_sold, h_avail, hours, xp=jnp)
        res = dict(
            impairment_loss_usd=two(lossA, lossI),
            first_impairment_month=two(firstA, firstI),
            first_impairment_loss_usd=two(flA, flI),
            impairment_reversal_usd=one(rev_sum),
            failure_writeoff_usd=jnp.zeros((2, C), dtype),
            carrying_amount_end_usd=two(cvA, cvI),
            npv_usd=one(pv - npv_outlay),
            revenue_usd=one(rev_usd),
            operating_cost_usd=one(opex_sum),
            gpu_hours_sold=one(h_sold),
            gpu_hours_available=one(h_avail),
            tco_usd_per_gpu_hour=one(tco_sl_avail),
            tco_usd_per_delivered_gpu_hour=one(tco_sl_del),
            tco_annuity_usd_per_delivered_gpu_hour=one(tco_ann_del),
            tco_usd_per_million_tokens=one(tco_sl_del / (tokens_per_s * 3600.0 / 1e6)),
            breakeven_utilization_frac=one(tco_sl_avail / cloud_price),
            breakeven_vs_cloud_gpu_hours=one(be_hours),
            breakeven_vs_cloud_months=one(be_months),
            impairment_tests=jnp.full((C,), n_tests, dtype),
            alive_gpus_end=one(alive * active_end),
            material_impairment_month=jnp.stack([mA, mI]),
            material_impairment_in_fiscal_year=jnp.stack([fyA, fyI]),
            material_impairment_loss_usd=jnp.stack([mlA, mlI]),
            immaterial_impairment_loss_usd=jnp.stack([ilA, ilI]),
            opening_book_unrecoverable=jnp.stack([open_asc, open_ias]).astype(dtype),
        )
        return res, months

    def path(theta, z_price, z_fail):
        return simulate(theta, (z_price[:, 0], z_fail[:, 0]), None)

    def path_keyed(theta, keys):
        j = jnp.arange(T, dtype=jnp.uint32)
        return simulate(theta, (j, j), keys)

    return path_keyed if keyed else path
