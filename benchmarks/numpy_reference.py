"""Vectorized NumPy (float64) reference for the benchmark workload, version 2.

The workload is defined in ``/work/shared/bench/SPEC.md`` ("Reference simulation, version 2"):
one cohort of 1,000 GPUs bought at month 0 for $30 M, simulated monthly for 72 months per
Monte Carlo path (log-price random walk with an uncertain drift, a next-generation launch that
cuts price and utilization, failures by a rounded normal approximation to the Binomial), with
a quarterly ASC 360 impairment test that uses only what is known at the test date (flat
run-rate forecast), plus NPV at 10 %/yr and TCO per GPU-hour sold.

This file is a standalone script (no package import needed)::

    .venv/bin/python benchmarks/numpy_reference.py --paths 1000000 --seed 0

API
---
``draws(n_paths, seed)``     the SPEC's random inputs for ``n_paths`` paths.
``simulate(draws)``          per-path outputs (impaired, first, loss, npv, tco).
``summarize(outputs)``       the SPEC's summary quantities with Monte Carlo standard errors.
``run(n_paths, seed, chunk)`` draws and simulates chunk by chunk, then summarizes.

Conventions: arrays are indexed by path first; month ``t = 1..72`` lives at column ``t - 1``.
Money is in US dollars (not millions), time in months, prices in $ per GPU-hour.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Mapping

import numpy as np

# --------------------------------------------------------------------------------------------
# Constants (SPEC "Constants" table)
# --------------------------------------------------------------------------------------------
T_MONTHS = 72  # horizon and useful life
N0_GPUS = 1000.0  # GPUs bought at t = 0
P0_USD_PER_GPU_H = 2.50  # rental price at t = 0
SIGMA_LOG_PER_MONTH = 0.05  # monthly log-return volatility
HOURS_PER_MONTH = 730.0
# 0.7 kW * 0.76 load * 1.3 PUE * 0.08 $/kWh. The SPEC states the value 0.055328; the product
# evaluated in float64 is 0.05532799999999999 (1 ulp lower), so the stated literal is used.
ENERGY_USD_PER_GPU_H = 0.055328
FIXED_OPEX_USD_PER_MONTH = 20_000.0
CAPEX_USD_PER_GPU = 30_000.0
C0_USD = CAPEX_USD_PER_GPU * N0_GPUS  # $30 M, paid at t = 0

# Per-path uncertain parameters (SPEC "Random inputs per path")
MU_MEAN_PER_MONTH, MU_SD_PER_MONTH = -0.02, 0.01  # mu = -0.02 + 0.01 * Z_mu
LAUNCH_MIN_MONTHS, LAUNCH_EXP_MEAN_MONTHS = 12.0, 12.0  # tau = 12 + Exp(mean 12)
JUMP_LOW, JUMP_WIDTH = 0.6, 0.3  # J = 0.6 + 0.3 * U_J
AFR_LOW, AFR_WIDTH = 0.03, 0.06  # AFR = 0.03 + 0.06 * U_afr
UTIL_BETA_A, UTIL_BETA_B = 14.0, 6.0  # u_base ~ Beta(14, 6): mean 0.7, concentration 20
POST_LAUNCH_UTIL_FACTOR = 0.9  # utilization is 10 % lower from the launch on

# Discounting: d = 1.10 ** (-1/12); D_t = d ** t for t = 1..72 (index t - 1);
# A_n = sum_{k=1..n} d ** k for n = 0..72 (index n, A_0 = 0), summed in ascending k.
DISCOUNT_PER_MONTH = 1.10 ** (-1.0 / 12.0)
DISCOUNT_FACTORS = DISCOUNT_PER_MONTH ** np.arange(1, T_MONTHS + 1, dtype=np.float64)
ANNUITY_FACTORS = np.concatenate(([0.0], np.cumsum(DISCOUNT_FACTORS)))

# Quarterly impairment test dates 3, 6, ..., 69 (23 dates; 72 is left out, CV_72 = 0)
TEST_MONTHS = np.arange(3, T_MONTHS, 3)

# Order in which ``draws`` consumes the generator (per chunk, one call each, in this order).
DRAW_ORDER = ("Z_mu", "Z", "ZF", "U_tau", "U_J", "U_afr", "u_base")

# Summary quantile levels
NPV_QUANTILES = (0.05, 0.25, 0.50, 0.75, 0.95)
MONTH_QUANTILES = (0.05, 0.25, 0.50, 0.75, 0.95)
FIRST_BY_MONTHS = (12, 24, 36)


# --------------------------------------------------------------------------------------------
# Draws
# --------------------------------------------------------------------------------------------
def draws_from_generator(rng: np.random.Generator, n_paths: int) -> dict[str, np.ndarray]:
    """Draw the SPEC's random inputs for ``n_paths`` paths from an existing generator.

    The generator is consumed in ``DRAW_ORDER``, one vectorized call per array:

    * ``Z_mu``   (n,)     N(0, 1), ``rng.standard_normal(n)``
    * ``Z``      (n, 72)  N(0, 1), price log-return shocks, row-major (path i's 72 months
      are consecutive in the stream); column ``t - 1`` is month ``t``
    * ``ZF``     (n, 72)  N(0, 1), failure-count shocks, same layout
    * ``U_tau``  (n,)     U[0, 1), ``rng.random(n)``
    * ``U_J``    (n,)     U[0, 1)
    * ``U_afr``  (n,)     U[0, 1)
    * ``u_base`` (n,)     Beta(14, 6), ``rng.beta(14, 6, n)``

    All arrays are float64. 149 random numbers per path.
    """
    n = int(n_paths)
    return {
        "Z_mu": rng.standard_normal(n),
        "Z": rng.standard_normal((n, T_MONTHS)),
        "ZF": rng.standard_normal((n, T_MONTHS)),
        "U_tau": rng.random(n),
        "U_J": rng.random(n),
        "U_afr": rng.random(n),
        "u_base": rng.beta(UTIL_BETA_A, UTIL_BETA_B, n),
    }


def draws(n_paths: int, seed: int) -> dict[str, np.ndarray]:
    """The SPEC's draws for ``n_paths`` paths from ``np.random.default_rng(seed)`` (PCG64).

    See ``draws_from_generator`` for the keys, shapes and generator order.
    ``simulate(draws(n, s))`` equals ``run(n, s, chunk=n)`` path by path.
    """
    return draws_from_generator(np.random.default_rng(seed), n_paths)


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------
def simulate(draws: Mapping[str, np.ndarray], *, return_tests: bool = False) -> dict[str, np.ndarray]:
    """Run the SPEC's per-month recursion and v2 impairment test for every path.

    Parameters
    ----------
    draws
        Mapping with the keys of ``draws_from_generator``: ``Z_mu``, ``U_tau``, ``U_J``,
        ``U_afr``, ``u_base`` of shape (n,) and ``Z``, ``ZF`` of shape (n, 72), month ``t`` at
        column ``t - 1``.
    return_tests
        If True, also return ``test_impaired`` (n, 23) bool: the step-1 outcome
        ``R_t < CV_t`` at each test date in ``TEST_MONTHS``, evaluated at every date (the
        recorded impairment is still only the first one). Used for the no-look-ahead check.

    Returns
    -------
    dict of per-path arrays, shape (n,):
        ``impaired`` bool; ``first`` int64, month of the first impairment or -1;
        ``loss`` float64 $, impairment loss at the first impairment (0 if none);
        ``npv`` float64 $, ``-C0 + sum_t CF_t * d**t``;
        ``tco`` float64 $ per GPU-hour sold, ``(C0 + sum_t opex_t) / sum_t H_t``.

    The recursion runs over months with vectors over paths; memory is O(n) on top of the
    inputs (the (n, 72) shock arrays are transposed once to month-major copies).
    """
    z_mu = np.asarray(draws["Z_mu"], dtype=np.float64)
    n = z_mu.shape[0]
    # month-major contiguous copies: row t - 1 holds month t for all paths
    z_price = np.ascontiguousarray(np.asarray(draws["Z"], dtype=np.float64).T)
    z_fail = np.ascontiguousarray(np.asarray(draws["ZF"], dtype=np.float64).T)
    if z_price.shape != (T_MONTHS, n) or z_fail.shape != (T_MONTHS, n):
        raise ValueError(f"Z and ZF must have shape ({n}, {T_MONTHS})")

    mu_per_month = MU_MEAN_PER_MONTH + MU_SD_PER_MONTH * z_mu
    launch_month = LAUNCH_MIN_MONTHS - LAUNCH_EXP_MEAN_MONTHS * np.log1p(
        -np.asarray(draws["U_tau"], dtype=np.float64)
    )
    jump = JUMP_LOW + JUMP_WIDTH * np.asarray(draws["U_J"], dtype=np.float64)
    afr_per_year = AFR_LOW + AFR_WIDTH * np.asarray(draws["U_afr"], dtype=np.float64)
    util_base = np.asarray(draws["u_base"], dtype=np.float64)
    q_fail_per_month = 1.0 - (1.0 - afr_per_year) ** (1.0 / 12.0)
    one_minus_q = 1.0 - q_fail_per_month

    log_price = np.zeros(n)  # L_t
    alive = np.full(n, N0_GPUS)  # alive_t (integer-valued float64)
    pv_cash_usd = np.zeros(n)  # sum_t CF_t * D_t
    opex_total_usd = np.zeros(n)  # sum_t opex_t
    hours_sold_total = np.zeros(n)  # sum_t H_t

    first = np.full(n, -1, dtype=np.int64)
    loss_usd = np.zeros(n)
    test_impaired = np.zeros((n, TEST_MONTHS.size), dtype=bool) if return_tests else None

    for t in range(1, T_MONTHS + 1):
        log_price += mu_per_month + SIGMA_LOG_PER_MONTH * z_price[t - 1]
        post_launch = float(t) >= launch_month
        price = P0_USD_PER_GPU_H * np.exp(log_price) * np.where(post_launch, jump, 1.0)
        util = util_base * np.where(post_launch, POST_LAUNCH_UTIL_FACTOR, 1.0)

        # failures: Binomial(alive, q) by its normal approximation, rounded and clipped
        mean_fail = alive * q_fail_per_month
        sd_fail = np.sqrt(mean_fail * one_minus_q)
        failed = np.clip(np.floor(mean_fail + sd_fail * z_fail[t - 1] + 0.5), 0.0, alive)
        alive = alive - failed

        hours_sold = alive * util * HOURS_PER_MONTH
        revenue_usd = hours_sold * price
        opex_usd = alive * HOURS_PER_MONTH * ENERGY_USD_PER_GPU_H + FIXED_OPEX_USD_PER_MONTH
        cash_flow_usd = revenue_usd - opex_usd

        pv_cash_usd += cash_flow_usd * DISCOUNT_FACTORS[t - 1]
        opex_total_usd += opex_usd
        hours_sold_total += hours_sold

        if t % 3 == 0 and t < T_MONTHS:  # quarterly test dates 3..69
            remaining = T_MONTHS - t
            recoverable_usd = remaining * cash_flow_usd  # R_t, flat run-rate forecast
            carrying_usd = C0_USD * remaining / T_MONTHS  # CV_t
            fails_step1 = recoverable_usd < carrying_usd
            if test_impaired is not None:
                test_impaired[:, t // 3 - 1] = fails_step1
            new = fails_step1 & (first < 0)
            if new.any():
                fair_value_usd = cash_flow_usd[new] * ANNUITY_FACTORS[remaining]  # PVhat_t
                first[new] = t
                loss_usd[new] = np.maximum(carrying_usd - fair_value_usd, 0.0)

    out = {
        "impaired": first >= 0,
        "first": first,
        "loss": loss_usd,
        "npv": -C0_USD + pv_cash_usd,
        "tco": (C0_USD + opex_total_usd) / hours_sold_total,
    }
    if test_impaired is not None:
        out["test_impaired"] = test_impaired
    return out


# --------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------
def _mean_se(x: np.ndarray) -> dict[str, float]:
    """Sample mean and its standard error sd / sqrt(n) (sd with ddof = 1)."""
    n = x.size
    if n == 0:
        return {"value": math.nan, "se": math.nan}
    sd = float(np.std(x, ddof=1)) if n > 1 else math.nan
    return {"value": float(np.mean(x)), "se": sd / math.sqrt(n)}


def _prob_se(flags: np.ndarray) -> dict[str, float]:
    """Proportion p and its standard error sqrt(p (1 - p) / n)."""
    n = flags.size
    p = float(np.mean(flags))
    return {"value": p, "se": math.sqrt(p * (1.0 - p) / n)}


def _quantiles_se(x: np.ndarray, levels: tuple[float, ...]) -> dict[str, dict[str, float]]:
    """Sample quantiles (NumPy's default 'linear' method) with the SPEC's standard error.

    SE of the p-quantile = half the distance between the sample quantiles at
    p - sqrt(p (1 - p) / n) and p + sqrt(p (1 - p) / n) (levels clipped to [0, 1]).
    """
    n = x.size
    xs = np.sort(x)
    out = {}
    for p in levels:
        half_width = math.sqrt(p * (1.0 - p) / n)
        lo, mid, hi = np.quantile(
            xs, [max(p - half_width, 0.0), p, min(p + half_width, 1.0)]
        )
        out[f"{round(100 * p)}"] = {"value": float(mid), "se": float(hi - lo) / 2.0}
    return out


def summarize(outputs: Mapping[str, np.ndarray]) -> dict:
    """The SPEC's summaries over paths, each as ``{"value": ..., "se": ...}``.

    Parameters
    ----------
    outputs
        Per-path arrays from ``simulate`` (shape (n,)): ``impaired``, ``first``, ``loss``,
        ``npv``, ``tco``.

    Returns
    -------
    dict with
        ``n_paths``;
        ``p_impaired`` (probability, SE sqrt(p(1-p)/n));
        ``loss_mean_usd`` (all paths) and ``loss_mean_impaired_usd`` (impaired paths),
        SE sd/sqrt(n) with n the paths averaged over;
        ``first_month_quantiles`` {"5","25","50","75","95"}: first-impairment month over
        impaired paths, SE by the quantile rule;
        ``p_first_by_month`` {"12","24","36"}: P(first impairment at or before that month)
        over ALL paths (unimpaired paths count as "not by then"), binomial SE;
        ``p_first_by_month_given_impaired``: the same over impaired paths only;
        ``npv_mean_usd`` and ``npv_quantiles_usd`` {"5",...,"95"};
        ``tco_mean_usd_per_gpu_h``.
    """
    impaired = np.asarray(outputs["impaired"], dtype=bool)
    first = np.asarray(outputs["first"])
    loss = np.asarray(outputs["loss"], dtype=np.float64)
    npv = np.asarray(outputs["npv"], dtype=np.float64)
    tco = np.asarray(outputs["tco"], dtype=np.float64)
    first_impaired = first[impaired].astype(np.float64)

    by_month = {}
    by_month_given = {}
    for m in FIRST_BY_MONTHS:
        hit = impaired & (first <= m)
        by_month[str(m)] = _prob_se(hit)
        by_month_given[str(m)] = _prob_se(hit[impaired]) if impaired.any() else None

    return {
        "n_paths": int(impaired.size),
        "p_impaired": _prob_se(impaired),
        "loss_mean_usd": _mean_se(loss),
        "loss_mean_impaired_usd": _mean_se(loss[impaired]),
        "first_month_quantiles": (
            _quantiles_se(first_impaired, MONTH_QUANTILES) if first_impaired.size else None
        ),
        "p_first_by_month": by_month,
        "p_first_by_month_given_impaired": by_month_given,
        "npv_mean_usd": _mean_se(npv),
        "npv_quantiles_usd": _quantiles_se(npv, NPV_QUANTILES),
        "tco_mean_usd_per_gpu_h": _mean_se(tco),
    }


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------
def run(n_paths: int, seed: int, chunk: int = 100_000) -> dict:
    """Draw, simulate and summarize ``n_paths`` paths in chunks of at most ``chunk`` paths.

    One generator ``np.random.default_rng(seed)`` is created; each chunk draws its inputs
    from it with ``draws_from_generator`` (so the stream is consumed chunk after chunk, in
    ``DRAW_ORDER`` within a chunk). Results therefore depend on ``chunk``; with
    ``chunk >= n_paths`` they equal ``simulate(draws(n_paths, seed))``. Peak memory is about
    ``chunk * 72 * 8 B * 4`` for the shocks plus the (n,) per-path outputs.

    Returns
    -------
    dict with ``summary`` (see ``summarize``), ``outputs`` (per-path arrays, shape (n,)),
    ``timing`` (seconds spent drawing, simulating, summarizing, total, and paths per second
    for draw + simulate) and ``config`` (n_paths, seed, chunk).
    """
    n_paths, chunk = int(n_paths), int(chunk)
    if n_paths <= 0 or chunk <= 0:
        raise ValueError("n_paths and chunk must be positive")
    rng = np.random.default_rng(seed)
    outputs = {
        "impaired": np.empty(n_paths, dtype=bool),
        "first": np.empty(n_paths, dtype=np.int64),
        "loss": np.empty(n_paths),
        "npv": np.empty(n_paths),
        "tco": np.empty(n_paths),
    }
    s_draw = s_sim = 0.0
    start = 0
    while start < n_paths:
        stop = min(start + chunk, n_paths)
        t0 = time.perf_counter()
        chunk_draws = draws_from_generator(rng, stop - start)
        t1 = time.perf_counter()
        chunk_out = simulate(chunk_draws)
        t2 = time.perf_counter()
        for key, arr in outputs.items():
            arr[start:stop] = chunk_out[key]
        s_draw += t1 - t0
        s_sim += t2 - t1
        start = stop
    t3 = time.perf_counter()
    summary = summarize(outputs)
    s_sum = time.perf_counter() - t3
    return {
        "summary": summary,
        "outputs": outputs,
        "timing": {
            "seconds_draws": s_draw,
            "seconds_simulate": s_sim,
            "seconds_summarize": s_sum,
            "seconds_total": s_draw + s_sim + s_sum,
            "paths_per_s": n_paths / (s_draw + s_sim),
            "paths_per_s_simulate_only": n_paths / s_sim,
        },
        "config": {"n_paths": n_paths, "seed": int(seed), "chunk": chunk},
    }


def main(argv: list[str] | None = None) -> None:
    """CLI: ``--paths N --seed S [--chunk C]``; prints summary and timing as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=1_000_000, help="number of paths")
    parser.add_argument("--seed", type=int, default=0, help="PCG64 seed")
    parser.add_argument("--chunk", type=int, default=100_000, help="paths per chunk")
    args = parser.parse_args(argv)
    result = run(args.paths, args.seed, chunk=args.chunk)
    report = {"config": result["config"], "summary": result["summary"], "timing": result["timing"]}
    print(json.dumps(report, indent=2))
    print(f"throughput: {result['timing']['paths_per_s']:,.0f} paths/s "
          f"(draws + simulate, {args.paths:,} paths)")


if __name__ == "__main__":
    main()
