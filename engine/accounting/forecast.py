"""Cash-flow forecasts made at a test date from what is known then (no look-ahead).

At a test at the end of month t the forecast uses only: the cohort's state at t (alive GPUs,
utilization, market price, contract status) and the scenario's expectations (the mean decline
rate and mean failure rate of its input distributions). The path's own future never enters.

Per forecast month k = 1..n (n = remaining life of the primary asset after t):

    A_k    = A_t a^k                               alive GPUs (a = expected monthly survival)
    p_k    = p_t rho^k                             market price (rho = exp(-E[decline]))
    rev_k  = A_k H [ (1 - c_k) u_t p_k s  +  c_k P_k ]
    cost_k = A_k v + f
    CF_k   = rev_k - cost_k

with ``c_k`` the contracted share (known schedule: during the term the contract share, after it
either 0 (re-priced at market) or the share at the renewal price), ``s`` the spot-mix factor,
``v`` the per-GPU variable cost, ``f`` the fixed monthly cost. ``flat`` sets rho = a = 1.
Present values use geometric sums, so each forecast is O(1):

    G(x; m0, m1) = sum_{k=m0+1..m1} x^k
"""

from __future__ import annotations

import jax.numpy as jnp


def geometric_sum(log_x, m0, m1):
    """sum_{k=m0+1}^{m1} x^k with x = exp(log_x); 0 when m1 <= m0.

    x^(m0+1) (x^m - 1) / (x - 1) with m = m1 - m0, written as expm1(m log_x) / expm1(log_x),
    which keeps full relative accuracy for x near 1 (log_x -> 0 gives m).
    """
    m = jnp.maximum(m1 - m0, 0.0)
    zero = log_x == 0
    safe = jnp.where(zero, 1.0, log_x)
    ratio = jnp.where(zero, m, jnp.expm1(safe * m) / jnp.expm1(safe))
    return jnp.exp(log_x * (m0 + 1.0)) * ratio


def forecast_value(*, log_d, alive, util, price_eff, contract_share, contract_price, renewal_price, share_after, m_contract, n, log_rho, log_a, var_cost, fixed_cost, hours, disposal):
    """Sum of forecast cash flows discounted by d^k (log_d = 0: undiscounted), plus disposal d^n.

    Args (broadcastable arrays):
        log_d: log of the monthly discount factor.
        alive: GPUs alive at t. util: utilization at t (frac). price_eff: market price at t times
            the spot-mix factor, USD per GPU-hour.
        contract_share: contracted share during the remaining term; share_after: contracted share
            after the term (0 when re-priced at market, contract_share when renewed).
        contract_price, renewal_price: USD per GPU-hour during / after the term.
        m_contract: months of term left (<= n). n: months of life left.
        log_rho, log_a: log of the expected monthly price factor and survival (0 for flat).
        var_cost: USD per alive GPU per month. fixed_cost: USD per month.
        hours: hours per month. disposal: disposal proceeds at the end of the life, USD (at t's
            alive count, scaled by a^n here).
    """
    g_market_1 = geometric_sum(log_rho + log_a + log_d, 0.0, m_contract)
    g_market_2 = geometric_sum(log_rho + log_a + log_d, m_contract, n)
    g_alive_1 = geometric_sum(log_a + log_d, 0.0, m_contract)
    g_alive_2 = geometric_sum(log_a + log_d, m_contract, n)
    g_fixed = geometric_sum(log_d, 0.0, n)
    market = alive * hours * util * price_eff * ((1.0 - contract_share) * g_market_1 + (1.0 - share_after) * g_market_2)
    contract = alive * hours * (contract_share * contract_price * g_alive_1 + share_after * renewal_price * g_alive_2)
    costs = alive * var_cost * (g_alive_1 + g_alive_2) + fixed_cost * g_fixed
    end = disposal * jnp.exp((log_a + log_d) * n)
    return market + contract - costs + end
