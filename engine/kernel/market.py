"""The market in month t: next-generation launches, the price walk and utilization (JAX, pure).

Shapes: L launches, G generations. Prices in USD per GPU-hour; utilization and cuts as fractions;
months as float counts from the run start (month t covers (t - 1, t]).

    log x_g(t) = mu t + W_g(t) + sum_l [t >= ship_l] log(1 - undercut_lg) (+ stress offsets)
    price_g(t) = P0_g x_g(t)
    util_g(t)  = clip(u0_g exp(sum_l [t >= ship_l] log(1 - cut_lg) - eps_g (log x_g(t) - mu t)), 0, ceiling)

(docs/methodology.md §2-3). ``W`` is the random walk's sum of sigma z; ``mu`` = -decline rate.
"""

from __future__ import annotations

import jax.numpy as jnp


def small_dot(v, m, *, elementwise: bool):
    """``v @ m`` for a short (L,) vector: a dot, or (``elementwise``) explicit products and adds, which keep a
    month's body elementwise for XLA:GPU's fusion (the same sum, rounded in a fixed order)."""
    if not elementwise:
        return v @ m
    total = v[0] * m[0]
    for l in range(1, v.shape[0]):
        total = total + v[l] * m[l]
    return total


def launch_table(th, A: dict, L: int, dtype):
    """When each launch ships and what it cuts, from one path's inputs ``th`` (N,).

    Returns ``ship`` (L,) in months from the start (inf where a launch is not set; explicit launches
    never before the previous one, cadence launches a drawn interval after it) and the log factors
    ``log(1 - undercut)`` of prices and ``log(1 - cut)`` of utilization, (L, G) (0 where a launch
    does not apply; cuts clipped to [0, 1 - 1e-6])."""
    raw = th[A["ship_idx"]]
    ships = []
    prev = jnp.asarray(0.0, dtype)
    for l in range(max(L, 1)):
        s_l = jnp.where(A["is_cadence"][l] > 0, prev + raw[l], jnp.maximum(prev, raw[l]))
        ships.append(s_l)
        prev = s_l
    ship = jnp.where(A["launch_mask"] > 0, jnp.stack(ships), jnp.inf)
    take = lambda idx: jnp.where(idx >= 0, jnp.clip(th[jnp.maximum(idx, 0)], 0.0, 1.0 - 1e-6), 0.0)  # noqa: E731
    return ship, jnp.log1p(-take(A["undercut_idx"])), jnp.log1p(-take(A["utilcut_idx"]))


def market_month(t, W, p_off, sh, *, P0, mu, u0, eps, post, log1m_uc, log1m_ut, util_ceiling, stressed: bool, elementwise: bool,
                 two_levels=None):
    """Price and utilization by generation at the end of month ``t``.

    Args: ``W`` (G,) the walk so far; ``p_off`` (G,) the log-price offset a stress path table left;
    ``sh`` the month's stress arrays (read only when ``stressed``, a static flag: without a non-neutral
    stress array the arithmetic is left out, which gives the same numbers); ``post`` (L,) 1.0 for
    launches shipped by t; ``two_levels`` (static choice) ``(util before, util after)`` the launch, (G,)
    each, where utilization has no other move (a fixed zero elasticity, at most one launch: the same
    numbers as the formula, whose exponent is then 0 or the launch's cut exactly).
    Returns ``(price (G,), util (G,), log_x (G,), p_off (G,))``.
    """
    log_mp = small_dot(post, log1m_uc, elementwise=elementwise)  # (G,)
    log_mu = small_dot(post, log1m_ut, elementwise=elementwise)
    if stressed:  # engine/stress/compile_stress.py: price level shocks, a path table's price index, utilization overrides
        log_sp = jnp.log(sh["price_mult"])
        has_ix = ~jnp.isnan(sh["price_index"])
        p_off = jnp.where(has_ix, jnp.log(jnp.where(has_ix, sh["price_index"], 1.0)) - (mu * t + W + log_mp + log_sp), p_off)
        log_st = log_sp + p_off
        log_x = mu * t + W + log_mp + log_st
        util = jnp.clip(u0 * jnp.exp(log_mu - eps * (W + log_mp + log_st)), 0.0, util_ceiling)
        has_uo = ~jnp.isnan(sh["util"])
        util = jnp.where(has_uo, jnp.where(has_uo, sh["util"], 0.0), util)
    else:
        log_x = mu * t + W + log_mp
        if two_levels is not None:
            util = jnp.where(post[0] > 0, two_levels[1], two_levels[0])
        else:
            util = jnp.clip(u0 * jnp.exp(log_mu - eps * (W + log_mp)), 0.0, util_ceiling)
    return P0 * jnp.exp(log_x), util, log_x, p_off
