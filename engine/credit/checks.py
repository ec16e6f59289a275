"""Cross-field checks of ``[financing]`` against the rest of the scenario (host, at load time).

Every failure is a ``ScenarioError`` naming the file, the field path and what is allowed.
"""

from __future__ import annotations

from engine.errors import ScenarioError
from engine.scenario import schema as S


def check_financing(s: S.Scenario, f: str) -> None:
    """Collateral names, one facility per cohort, dates inside sensible windows, contracted amortization, tests on payment dates."""
    fin = s.financing
    assert fin is not None
    cohorts = {c.name: c for c in s.fleet.cohort}
    start = S.month_index(s.run.start_month)
    end = start + s.run.horizon_months - 1
    owner: dict[str, str] = {}
    for i, fac in enumerate(fin.facility):
        where = f"financing.facility[{i}]"
        for j, name in enumerate(fac.collateral_cohorts):
            if name not in cohorts:
                raise ScenarioError(f, f"{where}.collateral_cohorts[{j}]", f"{name!r} is not a cohort; cohorts: {', '.join(cohorts)}")
            if name in owner:
                raise ScenarioError(f, f"{where}.collateral_cohorts[{j}]", f"cohort {name!r} is already pledged to facility {owner[name]!r}; a cohort is pledged to at most one facility")
            owner[name] = fac.name
        first = S.month_index(fac.first_draw())
        mat = fac.maturity()
        if mat < first:
            raise ScenarioError(f, f"{where}.maturity_month", f"maturity ({S.month_label(mat)}) is before the first draw ({S.month_label(first)})")
        if fac.draw and S.month_index(fac.draw[-1].month) > mat:
            raise ScenarioError(f, f"{where}.draw", f"a draw ({fac.draw[-1].month}) falls after maturity ({S.month_label(mat)})")
        if mat < start:
            raise ScenarioError(f, f"{where}.maturity_month", f"the facility matured ({S.month_label(mat)}) before the run starts ({s.run.start_month}); remove it")
        if first > end:
            raise ScenarioError(f, f"{where}.first_draw_month", f"the first draw ({S.month_label(first)}) is after the horizon (the run ends {S.month_label(end)})")
        if fac.opening_balance_usd is not None:
            if first >= start:
                raise ScenarioError(f, f"{where}.opening_balance_usd", f"only for a facility drawn before the run start ({s.run.start_month}); this one first draws {S.month_label(first)}")
            if fac.opening_balance_usd > fac.principal_usd:
                raise ScenarioError(f, f"{where}.opening_balance_usd", f"must not exceed principal_usd ({fac.principal_usd:g})")
        if fac.rate_type == "floating" and fac.fixed_rate_annual_frac > 0:
            raise ScenarioError(f, f"{where}.fixed_rate_annual_frac", "a floating-rate facility takes spread_annual_frac (and SOFR from [financing.sofr]), not fixed_rate_annual_frac")
        if fac.amortization == "contracted":
            gens = {cohorts[n].generation for n in fac.collateral_cohorts}
            has = [g for g in gens if s.market[g].contract_term_months > 0 and s.market[g].contract_price_usd_per_gpu_hour > 0]
            if not has:
                raise ScenarioError(
                    f, f"{where}.amortization",
                    "'contracted' needs contracted cash flows: none of the pledged cohorts' generations has contract_price_usd_per_gpu_hour and contract_term_months; allowed: straight_line, level_payment, or pledge contracted cohorts",
                )
        if fac.pledged_cash_flow == "contracted":
            gens = {cohorts[n].generation for n in fac.collateral_cohorts}
            if not any(s.market[g].contract_term_months > 0 and s.market[g].contract_price_usd_per_gpu_hour > 0 for g in gens):
                raise ScenarioError(f, f"{where}.pledged_cash_flow", "'contracted' needs contracts: none of the pledged cohorts' generations has contract_price_usd_per_gpu_hour and contract_term_months; allowed: all, or pledge contracted cohorts")
        cov = fac.covenants
        if cov.test_every_months is not None and cov.test_every_months % fac.payment_every_months != 0:
            raise ScenarioError(
                f, f"{where}.covenants.test_every_months",
                f"tests fall on payment dates: with payment_every_months = {fac.payment_every_months} allowed: "
                + ", ".join(str(k) for k in (1, 3, 6, 12) if k % fac.payment_every_months == 0) + " (or omit it: every payment date, at least quarterly)",
            )
        if cov.cash_trap_dscr is not None and cov.min_dscr is not None and cov.cash_trap_dscr < cov.min_dscr:
            raise ScenarioError(f, f"{where}.covenants.cash_trap_dscr", f"the cash-trap level ({cov.cash_trap_dscr:g}) must be at or above min_dscr ({cov.min_dscr:g})")
