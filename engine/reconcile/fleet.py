"""The fleet history a scenario describes, month by month on the host (NumPy, float64, no Monte Carlo).

For cohort c with purchase month P_c (its first earning month), units N_c, all-in capex K_c per GPU and
calendar month m (age a = m - P_c, in service while 0 <= a < life_c):

    revenue_usd[m, c]  = N_c * H * ( f_c(m) * Pc_g
                                     + (1 - f_c(m)) * u * p_g(m) * (1 - s_g * d_g) )
        H = costs.hours_per_month; f_c(m) = E[contracted_frac_g] while a < contract_term_months_g
        (after it: renew -> the contract share at renewal_price_frac * Pc_g, market -> 0);
        u = min(E[demand.utilization_frac], utilization_ceiling_frac); p_g(m) the observed market price
        (prices.py); s_g, d_g the spot share and discount (expected values).
    carrying_usd[m, c] = the straight-line carrying amount at the end of month m after a + 1 months of
        depreciation (engine/accounting/depreciation.straight_line_schedule, per component), 0 once
        the cohort's life has ended (derecognized, as engine/compile.py does)
    gpus[m, c]         = N_c while in service
    it_kw[m, c]        = N_c * kw_per_gpu_c while in service (rated IT power; times E[pue] for facility)
    capex_usd[m, c]    = N_c * K_c in month P_c - L (L = reconcile.construction_lead_months, default 0)
    cip_usd[m, c]      = N_c * K_c while P_c - L <= m < P_c: construction in progress, part of PP&E
    contracted_usd[m, c] = N_c * H * f_c(m) * Pc_g (the contracted part of revenue_usd; a month after
        the valuation date counts as backlog)

No failures: the reconciliation compares against reported fleets in which failed GPUs are replaced
under warranty; the simulation's write-offs are a forward-looking risk (docs/reconcile.md).
No launch cuts: launches in a scenario are dated from ``run.start_month`` on, after every past period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.accounting.depreciation import straight_line_schedule
from engine.errors import ScenarioError
from engine.reconcile.prices import observed_series, price_path_usd_per_gpu_hour
from engine.scenario import schema as S
from engine.scenario.load import LoadedScenario


@dataclass(frozen=True)
class FleetHistory:
    """Arrays over ``months_abs`` (M,) and ``cohorts`` (C,); units in the names."""

    months_abs: np.ndarray
    cohorts: tuple[str, ...]
    revenue_usd: np.ndarray       # (M, C) revenue earned in the month
    contracted_usd: np.ndarray    # (M, C) contracted part of revenue_usd
    carrying_usd: np.ndarray      # (M, C) carrying amount at the month's end
    gpus: np.ndarray              # (M, C) GPUs in service in the month
    it_kw: np.ndarray             # (M, C) rated IT power in service, kW
    capex_usd: np.ndarray         # (M, C) capex paid in the month (lead months before service)
    cip_usd: np.ndarray           # (M, C) construction in progress at the month's end (paid, not in service)
    pue_mean: float               # E[costs.pue]
    price_usd_per_gpu_hour: dict[str, np.ndarray]  # generation -> (M,) market price used

    def row(self, month_abs: int) -> int:
        return int(month_abs - self.months_abs[0])


def _life_months(c: S.Cohort) -> tuple[int, int | None, int | None]:
    """(total primary life, 1-based month of a life change or None, new life or None)."""
    P = S.month_index(c.purchase_month)
    if c.life_change is None:
        return c.useful_life_months, None, None
    eff = S.month_index(c.life_change.effective_month)
    if eff >= P + c.useful_life_months:  # the change comes after the life has ended
        return c.useful_life_months, None, None
    return c.life_change.useful_life_months, eff - P + 1, c.life_change.useful_life_months


def _carrying_by_age(c: S.Cohort, file: str, i: int) -> np.ndarray:
    """Carrying amount (USD) of the whole cohort at the end of its k-th month in service, k = 1..life."""
    life, change_at, new_life = _life_months(c)
    cost = c.units * c.capex_usd_per_gpu
    if c.component and c.life_change is not None:
        raise ScenarioError(file, f"fleet.cohort[{i}].life_change", "rackrisk reconcile does not model a life change of a cohort with components; remove one of them")
    rows = [(x.capex_frac, x.useful_life_months, x.salvage_frac) for x in c.component] or [(1.0, c.useful_life_months, c.salvage_frac)]
    out = np.zeros(life)
    for frac, comp_life, salv in rows:
        sched = straight_line_schedule(cost * frac, cost * frac * salv, comp_life, change_at, new_life)
        full = np.full(life, cost * frac * salv)  # a component that ends before the primary stays at salvage
        n = min(len(sched), life)
        full[:n] = sched[:n]
        out += full
    return out


def fleet_history(loaded: LoadedScenario, means: dict[str, float], months_abs: np.ndarray) -> FleetHistory:
    """The history over ``months_abs`` (consecutive absolute months). ``means``: input name -> expected value."""
    s = loaded.scenario
    file = str(loaded.path)
    M = len(months_abs)
    C = len(s.fleet.cohort)
    start = S.month_index(s.run.start_month)
    H = s.costs.hours_per_month
    u = min(means["demand.utilization_frac"], s.demand.utilization_ceiling_frac)
    obs = observed_series()
    prices = {g: price_path_usd_per_gpu_hour(obs.get(g, {}), months_abs, start, means[f"market.{g}.price_usd_per_gpu_hour"]) for g in s.market}
    lead = s.reconcile.construction_lead_months if s.reconcile else 0
    rev, con, cv, gpus, kw, capex, cip = (np.zeros((M, C)) for _ in range(7))
    for i, c in enumerate(s.fleet.cohort):
        mk = s.market[c.generation]
        P = S.month_index(c.purchase_month)
        life, _, _ = _life_months(c)
        age = months_abs - P
        alive = (age >= 0) & (age < life)
        f = means[f"market.{c.generation}.contracted_frac"]
        in_term = alive & (age < mk.contract_term_months)
        if mk.contract_expiry == "renew":
            f_m = np.where(alive, f, 0.0)
            pc_m = np.where(in_term, mk.contract_price_usd_per_gpu_hour, mk.contract_price_usd_per_gpu_hour * mk.renewal_price_frac)
        else:
            f_m = np.where(in_term, f, 0.0)
            pc_m = np.full(M, mk.contract_price_usd_per_gpu_hour)
        spot = 1.0 - means[f"market.{c.generation}.spot_frac"] * means[f"market.{c.generation}.spot_discount_frac"]
        con[:, i] = np.where(alive, c.units * H * f_m * pc_m, 0.0)
        rev[:, i] = con[:, i] + np.where(alive, c.units * H * (1.0 - f_m) * u * prices[c.generation] * spot, 0.0)
        by_age = _carrying_by_age(c, file, i)
        cv[:, i] = np.where(alive, by_age[np.clip(age, 0, life - 1)], 0.0)
        gpus[:, i] = np.where(alive, c.units, 0.0)
        kw[:, i] = np.where(alive, c.units * c.kw_per_gpu, 0.0)
        capex[:, i] = np.where(age == -lead, c.units * c.capex_usd_per_gpu, 0.0)
        cip[:, i] = np.where((age >= -lead) & (age < 0), c.units * c.capex_usd_per_gpu, 0.0)
    return FleetHistory(months_abs, tuple(c.name for c in s.fleet.cohort), rev, con, cv, gpus, kw, capex, cip, means["costs.pue"], prices)
