"""``[financing]`` -> the ``fin_*`` arrays of ``Model.a`` (host, NumPy).

Dims: T months, F facilities, C cohorts. Arrays (F,) unless stated:

    fin_draw, fin_active, fin_pay, fin_n_left, fin_amortizing, fin_phi, fin_undrawn, fin_test   (T, F)
                        (fin_pay: 1 on payment dates; fin_n_left: payment dates left)
    fin_pay_every       months between payment dates (payment_every_months: 1, 3, 6)
    fin_pledge          (F, C)  1 where the cohort is pledged to the facility
    fin_opening         opening balance at the run start, USD
    fin_is_floating, fin_fixed_rate, fin_spread, fin_floor   rates (nominal annual)
    fin_is_level        1 for level-payment amortization
    fin_cfads_contracted 1 when only the contracted cash flow is pledged
    fin_cfee            commitment fee (annual) on the undrawn amount
    fin_sweep           cash-sweep share; fin_reserve_months; fin_haircut
    fin_min_dscr        (0 = no DSCR covenant); fin_max_ltv (inf = none); fin_trap_dscr (0 = none)
    fin_window          months in the DSCR window (test period, or 12 for trailing_4q): whole payment
                        periods, since tests fall on payment dates (engine/credit/checks.py)
    fin_cures           equity cures allowed
    fin_sofr_curve      (T,) SOFR curve by month (0 when none is given); i_sofr_level: input index
"""

from __future__ import annotations

import numpy as np

from engine.credit.schedule import facility_schedule
from engine.scenario import schema as S


def sofr_curve_by_month(sofr: S.Sofr, T: int) -> np.ndarray:
    """The SOFR curve of [financing.sofr] by run month (year y covers months 12(y-1)+1..12y; last value held)."""
    if not sofr.curve_annual_frac:
        return np.zeros(T)
    c = np.asarray(sofr.curve_annual_frac, float)
    years = np.minimum(np.arange(T) // 12, len(c) - 1)
    return c[years]


def financing_arrays(s: S.Scenario, cohorts: tuple[str, ...], mean_of, idx) -> tuple[tuple[str, ...], dict[str, np.ndarray]]:
    """Facility names and the ``fin_*`` arrays; ((), {}) when the scenario has no [financing]."""
    fin = s.financing
    if fin is None:
        return (), {}
    T = s.run.horizon_months
    F = len(fin.facility)
    C = len(cohorts)
    sofr_level_mean = mean_of("financing.sofr.level_annual_frac")
    curve = sofr_curve_by_month(fin.sofr, T)
    a: dict[str, np.ndarray] = {}
    keys = ("draw_usd", "active", "pay", "n_left", "amortizing", "phi", "undrawn_usd", "test")
    cols = {k: np.zeros((T, F)) for k in keys}
    pledge = np.zeros((F, C))
    opening = np.zeros(F)
    for j, fac in enumerate(fin.facility):
        if fac.rate_type == "floating":
            exp_rate = max(curve[0] + sofr_level_mean, fac.sofr_floor_annual_frac) + fac.spread_annual_frac
        else:
            exp_rate = fac.fixed_rate_annual_frac
        sch = facility_schedule(fac, s, mean_of, exp_rate)
        for k in keys:
            cols[k][:, j] = sch[k]
        opening[j] = sch["opening_balance_usd"]
        for name in fac.collateral_cohorts:
            pledge[j, cohorts.index(name)] = 1.0
    a["fin_draw"], a["fin_active"], a["fin_n_left"] = cols["draw_usd"], cols["active"], cols["n_left"]
    a["fin_pay"] = cols["pay"]
    a["fin_amortizing"], a["fin_phi"], a["fin_undrawn"], a["fin_test"] = cols["amortizing"], cols["phi"], cols["undrawn_usd"], cols["test"]
    a["fin_pledge"] = pledge
    a["fin_opening"] = opening
    fs = fin.facility
    a["fin_is_floating"] = np.array([f.rate_type == "floating" for f in fs], float)
    a["fin_fixed_rate"] = np.array([f.fixed_rate_annual_frac for f in fs])
    a["fin_spread"] = np.array([f.spread_annual_frac for f in fs])
    a["fin_floor"] = np.array([f.sofr_floor_annual_frac for f in fs])
    a["fin_pay_every"] = np.array([float(f.payment_every_months) for f in fs])
    a["fin_is_level"] = np.array([f.amortization == "level_payment" for f in fs], float)
    a["fin_cfads_contracted"] = np.array([f.pledged_cash_flow == "contracted" for f in fs], float)
    a["fin_cfee"] = np.array([f.commitment_fee_annual_frac for f in fs])
    a["fin_upfront_fee"] = np.array([f.upfront_fee_frac for f in fs])
    a["fin_sweep"] = np.array([f.cash_sweep_frac for f in fs])
    a["fin_reserve_months"] = np.array([f.reserve_months for f in fs])
    a["fin_haircut"] = np.array([f.liquidation_haircut_frac for f in fs])
    a["fin_min_dscr"] = np.array([f.covenants.min_dscr or 0.0 for f in fs])
    a["fin_max_ltv"] = np.array([f.covenants.max_ltv_frac if f.covenants.max_ltv_frac is not None else np.inf for f in fs])
    a["fin_trap_dscr"] = np.array([f.covenants.cash_trap_dscr or 0.0 for f in fs])
    a["fin_window"] = np.array([12.0 if f.covenants.dscr_basis == "trailing_4q" else float(f.test_every()) for f in fs])
    a["fin_cures"] = np.array([float(f.covenants.equity_cures) for f in fs])
    a["fin_sofr_curve"] = curve
    a["i_sofr_level"] = np.int32(idx("financing.sofr.level_annual_frac"))
    return tuple(f.name for f in fs), a
