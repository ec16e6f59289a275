"""Breakeven rental price (per generation) and utilization (fleet) by vectorized bisection (JAX).

For each path p (its inputs and shocks as drawn), a criterion k and a generation g, the pass/fail
function of a rental-price multiplier m (applied to the generation's market price at the run start,
so to its whole price path; contract prices stay the plan's) is evaluated on many (path, m) rows in
one compiled call. Criteria on the cohorts of generation g (the plan's tranches):

    (a) no_impairment   no ASC 360 impairment loss over the horizon
    (b) dscr            no failed DSCR test and no default on their facilities (none: always passes)
    (c) npv             NPV at the cost of capital >= 0

At the plan (m = 1, utilization as drawn) each path also gives, per generation, the breakeven time of
owning against renting at ``tco.cloud_price_usd_per_gpu_hour`` (engine/tco.py ``breakeven_vs_cloud``
on the generation's tranches pooled: their capex per GPU, operating cost and GPU-hours summed).

Each is taken as non-decreasing in m (a higher price never hurts); the breakeven is the smallest m
that passes, found by bisection on log m in [m_min, m_max] (``iterations`` halvings: the bracket
shrinks by 2^-iterations in log m). A path that passes at m_min is censored low (reported at m_min),
one that fails at m_max censored high (reported at m_max); both shares are reported. Utilization
(one fleet-wide input, demand.utilization_frac) is searched the same way on [u_min, ceiling] for
the whole programme (criteria over all tranches).
"""

from __future__ import annotations

import numpy as np

CRITERIA = ("no_impairment", "dscr", "npv")


def _criteria(model, res, jnp):
    """Per-path pass flags (3, G) for the three criteria by generation, from the path's results."""
    G = model.G
    onehot = jnp.asarray(np.eye(G)[model.a["gen_of_cohort"]])  # (C, G)
    loss = res["impairment_loss_usd"][0]  # (C,) ASC 360
    imp = (loss @ onehot) > 0
    npv = res["npv_usd"] @ onehot
    if model.facilities:
        pledge = jnp.asarray(model.a["fin_pledge"])  # (F, C)
        bad_f = (res["credit_first_breach_month"] > 0) | (res["credit_default_month"] > 0)  # (F,)
        bad_c = (bad_f.astype(loss.dtype) @ pledge) > 0  # (C,)
        dscr_bad = (bad_c.astype(loss.dtype) @ onehot) > 0
    else:
        dscr_bad = jnp.zeros((G,), bool)
    return jnp.stack([~imp, ~dscr_bad, npv >= 0])


def _generation_pools(model):
    """Host constants for the per-generation breakeven against the cloud: one-hot (C, G), capex per GPU (G,)
    (the tranches' capex over their GPUs) and the cloud price (G,) (NaN where none is given)."""
    a = model.a
    onehot = np.eye(model.G)[a["gen_of_cohort"]]  # (C, G)
    units_g = a["units"] @ onehot
    capex_g = (a["units"] * a["capex_per_gpu"]) @ onehot / units_g
    cloud_g = np.array([a["cloud_price"][np.flatnonzero(a["gen_of_cohort"] == g)[0]] for g in range(model.G)])
    return onehot, capex_g, cloud_g


def make_eval_fn(model, dtype):
    """jit: (seed, path_idx[B], price_mult[B, G], util[B] (<0 = as drawn)) -> pass flags (B, 3, G), fleet flags (B, 3), P0 (B, G),
    breakeven against the cloud (B, 2, G): GPU-hours per GPU and months (engine/tco.py ``breakeven_vs_cloud``)."""
    import jax
    import jax.numpy as jnp

    from engine.random import draw_inputs, draw_noise, root_key
    from engine.kernel.path import make_path_fn
    from engine.tco import breakeven_vs_cloud

    path = make_path_fn(model, dtype, monthly=False)
    i_price = jnp.asarray(model.a["i_price_usd_per_gpu_hour"])  # (G,)
    i_util = int(model.a["i_util"])
    N = len(model.inputs)
    oh, capex_g, cloud_g = (jnp.asarray(x, dtype) for x in _generation_pools(model))
    hours = float(model.a["hours"])

    def one(root, i, mult, util):
        theta, _ = draw_inputs(model, root, i, dtype)
        zp, zf = draw_noise(model, root, i, dtype)
        p0 = theta[i_price]
        scale = jnp.ones((N,), dtype).at[i_price].set(mult)
        theta = theta * scale
        theta = jnp.where((jnp.arange(N) == i_util) & (util >= 0), util, theta)
        res, _ = path(theta, zp, zf)
        flags = _criteria(model, res, jnp)
        fleet = jnp.stack([flags[0].all(), flags[1].all(), res["npv_usd"].sum() >= 0])
        be_h, be_m = breakeven_vs_cloud(capex_g, cloud_g, res["operating_cost_usd"] @ oh, res["gpu_hours_sold"] @ oh, res["gpu_hours_available"] @ oh, hours, xp=jnp)
        return flags, fleet, p0, jnp.stack([be_h, be_m])

    def run(seed, idx, mult, util):
        root = root_key(seed)
        return jax.vmap(lambda i, m, u: one(root, i, m, u))(idx, mult, util)

    return jax.jit(run)


def breakevens(model, *, n_paths: int, seed: int, dtype, m_min: float, m_max: float, u_min: float, u_max: float, iterations: int, chunk: int = 1024, progress=None):
    """Breakeven multipliers and utilization, per path.

    Returns dict with:
        p0_usd_per_gpu_hour (P, G): the path's drawn price at the run start
        pass_plan (P, 3, G), pass_plan_fleet (P, 3): criteria at the plan as drawn (m = 1, utilization as drawn)
        price_mult (P, 3, G): breakeven multiplier per criterion and generation (clipped to [m_min, m_max])
        censored_low / censored_high (P, 3, G)
        utilization (P, 3): breakeven fleet utilization; util_censored_low / _high (P, 3)
        breakeven_vs_cloud_gpu_hours, breakeven_vs_cloud_months (P, G): at the plan as drawn; +inf where owning
            never saves, NaN where the generation has no cloud price
    """
    import jax.numpy as jnp

    fn = make_eval_fn(model, dtype)
    G = model.G
    K = len(CRITERIA)
    seed_arr = jnp.uint32(seed)

    def call(idx, mult, util):
        """Evaluate rows in fixed-size chunks (one compilation)."""
        n = len(idx)
        outs = [[], [], [], []]
        for s in range(0, n, chunk):
            e = min(s + chunk, n)
            pad = chunk - (e - s)
            ii = np.concatenate([idx[s:e], np.zeros(pad, idx.dtype)])
            mm = np.concatenate([mult[s:e], np.ones((pad, G))])
            uu = np.concatenate([util[s:e], -np.ones(pad)])
            got = fn(seed_arr, jnp.asarray(ii, jnp.uint32), jnp.asarray(mm, dtype), jnp.asarray(uu, dtype))
            for o, x in zip(outs, got):
                o.append(np.asarray(x)[: e - s])
        return [np.concatenate(o) for o in outs]

    paths = np.arange(n_paths, dtype=np.uint32)
    ones = np.ones((n_paths, G))
    flags, fleet, p0, be_cloud = call(paths, ones, -np.ones(n_paths))

    # price: rows = (path, generation, criterion); each row scales one generation and reads one criterion
    R = n_paths * G * K
    rows_p = np.repeat(paths, G * K)
    rows_g = np.tile(np.repeat(np.arange(G), K), n_paths)
    rows_k = np.tile(np.arange(K), n_paths * G)
    r_idx = np.arange(R)

    def eval_price(logm):  # (R,) -> pass (R,)
        mult = np.ones((R, G))
        mult[r_idx, rows_g] = np.exp(logm)
        f, _, _, _ = call(rows_p, mult, -np.ones(R))
        return f[r_idx, rows_k, rows_g]

    lo = np.full(R, np.log(m_min))
    hi = np.full(R, np.log(m_max))
    pass_lo = eval_price(lo)
    pass_hi = eval_price(hi)
    for it in range(iterations):
        mid = 0.5 * (lo + hi)
        ok = eval_price(mid)
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
        if progress:
            progress(it + 1, 2 * iterations)
    be = np.where(pass_lo, np.log(m_min), np.where(~pass_hi, np.log(m_max), hi))
    price_mult = np.exp(be).reshape(n_paths, G, K).transpose(0, 2, 1)
    cens_lo = pass_lo.reshape(n_paths, G, K).transpose(0, 2, 1)
    cens_hi = (~pass_hi).reshape(n_paths, G, K).transpose(0, 2, 1)

    # utilization (fleet-wide): rows = (path, criterion)
    Ru = n_paths * K
    u_p = np.repeat(paths, K)
    u_k = np.tile(np.arange(K), n_paths)

    def eval_util(u):  # (Ru,) -> pass (Ru,)
        _, fl, _, _ = call(u_p, np.ones((Ru, G)), u)
        return fl[np.arange(Ru), u_k]

    ulo = np.full(Ru, u_min)
    uhi = np.full(Ru, u_max)
    upass_lo = eval_util(ulo)
    upass_hi = eval_util(uhi)
    for it in range(iterations):
        mid = 0.5 * (ulo + uhi)
        ok = eval_util(mid)
        uhi = np.where(ok, mid, uhi)
        ulo = np.where(ok, ulo, mid)
        if progress:
            progress(iterations + it + 1, 2 * iterations)
    util = np.where(upass_lo, u_min, np.where(~upass_hi, u_max, uhi)).reshape(n_paths, K)
    upass_lo = upass_lo.reshape(n_paths, K)
    upass_hi = upass_hi.reshape(n_paths, K)
    return dict(
        p0_usd_per_gpu_hour=p0.astype(np.float64), pass_plan=flags, pass_plan_fleet=fleet, price_mult=price_mult,
        censored_low=cens_lo, censored_high=cens_hi, utilization=util, util_censored_low=upass_lo, util_censored_high=~upass_hi,
        breakeven_vs_cloud_gpu_hours=be_cloud[:, 0].astype(np.float64), breakeven_vs_cloud_months=be_cloud[:, 1].astype(np.float64),
        cloud_price_usd_per_gpu_hour=_generation_pools(model)[2],
    )
