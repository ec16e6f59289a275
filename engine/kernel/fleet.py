"""The fleet in month t: failures, GPUs in service, revenue, operating cost and cash (JAX, pure).

Shapes: C cohorts (per-cohort values (C,)). Money in USD for the month, hours in GPU-hours.

    failed_c  = Binomial(alive_c, q_c) * active_c              (engine/failures.py)
    alive_c'  = alive_c - failed_c (1 - replace)
    rev_c     = n_c H [share_c P_c + (1 - share_c) u_c p_c s_c]
    opex_c    = n_c v_c + active_c f_c + failed_c r_c
    cash_c    = rev_c - opex_c + [last month] n_c D_c

(docs/methodology.md §4-5: take-or-pay contracts at the contract price, the rest sold at utilization x
market price with the spot mix; replacement spend r per failed GPU; end-of-life disposal D).
"""

from __future__ import annotations

import jax.numpy as jnp

from engine.failures import failure_counts


def failures_month(alive, q_t, zf, act, *, replace, write_off, exact: bool, gather: bool = False):
    """This month's failures by cohort.

    Args: ``alive`` (C,) GPUs at the start; ``q_t`` (C,) monthly failure probability; ``zf`` (C,) the
    failure stream's scores; ``act`` (C,) 1.0 in service; ``replace``, ``write_off`` the failures
    policy (1.0 or 0.0; ``None`` where the policy is statically off, which leaves its arithmetic out
    and gives the same numbers); ``exact`` (static) the count rule; ``gather`` (static) the exact search on the
    paths that need it only (engine/failures.py). Returns ``(failed, alive_after,
    fail_frac)``, ``fail_frac`` the share of the cohort's book written off (``None`` without ``write_off``).
    """
    failed = failure_counts(alive, q_t, zf, exact=exact, gather=gather) * act
    alive_new = alive - failed if replace is None else alive - failed * (1.0 - replace)
    fail_frac = None if write_off is None else jnp.where(alive > 0, failed / jnp.where(alive > 0, alive, 1.0), 0.0) * write_off
    return failed, alive_new, fail_frac


def cash_month(n_live, failed, act, pc, uc, *, share, cprice, hours, spot, var_cost, fixed_cost, repl_unit, disposal_unit, last):
    """Revenue, cost and cash of month t by cohort.

    Args (C,) unless said: ``n_live`` GPUs in service; ``failed`` this month's failures; ``act`` in
    service (1.0/0.0); ``pc``, ``uc`` the cohort's market price (USD per GPU-hour) and utilization;
    ``share`` the contracted share (``None``: no contracts, statically; the same numbers without the arithmetic); ``cprice`` the contract (or renewal) price; ``hours`` hours in the
    month (); ``spot`` the spot-mix factor; ``var_cost`` USD per GPU in service; ``fixed_cost`` USD;
    ``repl_unit`` USD per failed GPU (``None``: no replacement, statically);
    ``disposal_unit`` end-of-life proceeds per GPU; ``last`` 1.0 in the cohort's last month of life. Returns a dict: ``h_con``, ``h_mkt`` (GPU-hours sold under
    contract / at market), ``revenue``, ``opex``, ``disposal`` (cash), ``cash``.
    """
    if share is None:
        h_con = jnp.zeros_like(n_live)
        h_mkt = n_live * uc * hours
        revenue = h_mkt * pc * spot
    else:
        h_con = n_live * share * hours
        h_mkt = n_live * (1.0 - share) * uc * hours
        revenue = h_con * cprice + h_mkt * pc * spot
    opex = n_live * var_cost + act * fixed_cost
    if repl_unit is not None:
        opex = opex + failed * repl_unit
    disposal = last * n_live * disposal_unit
    return dict(h_con=h_con, h_mkt=h_mkt, revenue=revenue, opex=opex, disposal=disposal, cash=revenue - opex + disposal)
