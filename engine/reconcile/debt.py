"""Facility balances and interest at past month ends, from the scenario's ``[financing]`` schedule.

The balance at the end of calendar month m is the *scheduled* balance (draws, amortization, no
prepayments) that engine/credit/schedule.facility_schedule computes as the opening balance of a run
starting in month m + 1 with no ``opening_balance_usd`` (the same rules as the simulation: straight
line, level payment at the expected rate, or contract-matched):

    balance_usd(fac, m) = facility_schedule(fac without opening balance, run.start_month = m + 1)

Interest of month m = (balance at the end of m - 1 + draw in m) * r / 12, with r the expected rate:
the fixed rate, or max(SOFR curve year 1 + E[SOFR level], floor) + spread (as engine/credit/compile.py).
"""

from __future__ import annotations

from engine.credit.compile import sofr_curve_by_month
from engine.credit.schedule import facility_schedule
from engine.scenario import schema as S


def expected_rate_annual_frac(fac: S.Facility, s: S.Scenario, means: dict[str, float]) -> float:
    """Nominal annual rate of the facility at the scenario's expected SOFR."""
    if fac.rate_type == "fixed":
        return fac.fixed_rate_annual_frac
    curve0 = float(sofr_curve_by_month(s.financing.sofr, 1)[0])
    return max(curve0 + means["financing.sofr.level_annual_frac"], fac.sofr_floor_annual_frac) + fac.spread_annual_frac


def balance_usd(fac: S.Facility, s: S.Scenario, means: dict[str, float], month_abs: int) -> float:
    """Scheduled balance of ``fac`` at the end of absolute month ``month_abs`` (USD)."""
    run = s.run.model_copy(update={"start_month": S.month_label(month_abs + 1), "horizon_months": 1})
    s1 = s.model_copy(update={"run": run})
    fac1 = fac.model_copy(update={"opening_balance_usd": None})
    sch = facility_schedule(fac1, s1, lambda n: means[n], expected_rate_annual_frac(fac, s, means))
    return float(sch["opening_balance_usd"])


def draw_usd(fac: S.Facility, month_abs: int) -> float:
    """Amount drawn in absolute month ``month_abs``."""
    if fac.draw:
        return sum(d.amount_usd for d in fac.draw if S.month_index(d.month) == month_abs)
    return fac.principal_usd if S.month_index(fac.first_draw_month) == month_abs else 0.0


def interest_usd(fac: S.Facility, s: S.Scenario, means: dict[str, float], first_abs: int, last_abs: int) -> float:
    """Interest accrued over absolute months ``first_abs..last_abs`` at the expected rate (USD)."""
    r_m = expected_rate_annual_frac(fac, s, means) / 12.0
    total = 0.0
    for m in range(first_abs, last_abs + 1):
        total += (balance_usd(fac, s, means, m - 1) + draw_usd(fac, m)) * r_m
    return total
