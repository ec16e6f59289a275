"""Credit variables of results.nc (host): dims ``facility`` and ``quarter`` (and ``fan_path``).

Written for every store: P(covenant breach) and P(default) by quarter end with SEs, DSCR and LTV
quantile fans by quarter end. With ``store = paths``: the per-path credit scalars (dims path,
facility; added by engine/results.py through ``SCALAR_DIMS``) and DSCR / LTV by fan path and
quarter. With ``store = full``: every path's monthly credit arrays (dims path, month, facility).
"""

from __future__ import annotations

import warnings

import numpy as np

from engine.credit.summary import quarter_ends
from engine.summary import QUANTILES, impaired_by_month

SCALAR_DIMS = {
    k: ("facility",)
    for k in (
        "credit_first_breach_month", "credit_default_month", "credit_default_cause", "credit_ead_usd", "credit_recovery_usd", "credit_loss_usd",
        "credit_lgd_frac", "credit_cures_used", "credit_equity_cure_usd", "credit_interest_paid_usd",
        "credit_principal_paid_usd", "credit_prepaid_usd", "credit_fees_usd", "credit_balance_end_usd",
        "credit_min_tested_dscr", "credit_max_tested_ltv_frac", "credit_covenant_tests",
    )
}
MONTHLY_DIMS = {
    k: ("facility",)
    for k in (
        "credit_balance_usd", "credit_debt_service_usd", "credit_cfads_usd", "credit_dscr", "credit_ltv_frac",
        "credit_collateral_value_usd", "credit_covenant_tested", "credit_rate_annual_frac",
    )
}
VAR_META = {
    "credit_first_breach_month": ("month index (1 = start_month; 0 = never)", "month of the first failed covenant test (before any cure)"),
    "credit_default_month": ("month index (1 = start_month; 0 = never)", "month of default (payment shortfall or uncured covenant breach)"),
    "credit_default_cause": ("code (0 = no default, 1 = payment shortfall, 2 = covenant breach without a cure left)", "cause of the default"),
    "credit_ead_usd": ("USD", "exposure at default (0 without default)"),
    "credit_recovery_usd": ("USD", "recovery at default: collateral net of the haircut plus borrower cash, capped at EAD"),
    "credit_loss_usd": ("USD", "credit loss EAD - recovery (0 without default)"),
    "credit_lgd_frac": ("1", "loss given default (EAD - recovery) / EAD (NaN without default)"),
    "credit_cures_used": ("count", "equity cures used"),
    "credit_equity_cure_usd": ("USD", "equity contributed by cures"),
    "credit_interest_paid_usd": ("USD", "interest paid over the horizon"),
    "credit_principal_paid_usd": ("USD", "principal repaid (scheduled, swept, cured) over the horizon"),
    "credit_prepaid_usd": ("USD", "principal prepaid by the cash sweep, disposal proceeds and LTV cures"),
    "credit_fees_usd": ("USD", "upfront and commitment fees"),
    "credit_balance_end_usd": ("USD", "balance outstanding at the horizon (0 after default)"),
    "credit_min_tested_dscr": ("1", "lowest DSCR at a covenant test (NaN if never tested)"),
    "credit_max_tested_ltv_frac": ("1", "highest LTV at a covenant test (NaN if never tested)"),
    "credit_covenant_tests": ("count", "covenant tests performed"),
    "credit_balance_usd": ("USD", "balance at month end"),
    "credit_debt_service_usd": ("USD", "debt service due in the month (interest and commitment fee accrued since the last payment date, scheduled principal; 0 between payment dates)"),
    "credit_cfads_usd": ("USD", "cash flow available for debt service of the pledged cohorts in the month"),
    "credit_dscr": ("1", "DSCR over the covenant window ending in the month, on payment dates (NaN between them, when no debt service or after default)"),
    "credit_ltv_frac": ("1", "balance / (collateral market value x (1 - haircut)) at month end (NaN without balance)"),
    "credit_collateral_value_usd": ("USD", "used-GPU market value of the pledged cohorts' surviving GPUs"),
    "credit_covenant_tested": ("1", "1 when a covenant test was performed in the month"),
    "credit_rate_annual_frac": ("1", "the facility's nominal annual rate in the month"),
}


def _quantiles(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(x, QUANTILES, axis=0), np.nanmean(x, axis=0)


def add_credit_variables(ds, model, run, store: str):
    """Add the credit variables to the results Dataset ``ds`` (no-op without [financing])."""
    if not model.facilities:
        return ds
    q_t, q_labels = quarter_ends(model.month_labels)
    qi = [t - 1 for t in q_t]
    ds = ds.assign_coords(facility=("facility", list(model.facilities)), quarter=("quarter", q_labels, {"long_name": "calendar quarter (values at its last month)"}))
    T = model.T
    for key, name, what in (
        ("credit_first_breach_month", "credit_p_covenant_breach_by_quarter", "probability of a failed covenant test by the quarter end"),
        ("credit_default_month", "credit_p_default_by_quarter", "probability of default by the quarter end"),
    ):
        p, se = impaired_by_month(run.scalars[key].astype(np.int64), T)  # (T, F): P(month <= t)
        ds[name] = (("quarter", "facility"), p[qi], {"units": "1", "long_name": what})
        ds[f"{name}_se"] = (("quarter", "facility"), se[qi], {"units": "1", "long_name": f"Monte Carlo standard error of {name}"})
    m = run.monthly
    n_fan = run.n_fan
    for key in ("credit_dscr", "credit_ltv_frac", "credit_balance_usd"):
        x = np.asarray(m[key][:n_fan], np.float64)[:, qi, :]
        q, mu = _quantiles(x)
        units, long_name = VAR_META[key]
        ds[f"{key}_fan"] = (("quantile", "quarter", "facility"), q, {"units": units, "long_name": long_name + f" at quarter ends (quantiles over the defined paths among the first {n_fan})"})
        ds[f"{key}_mean"] = (("quarter", "facility"), mu, {"units": units, "long_name": long_name + f" at quarter ends (mean over the defined paths among the first {n_fan})"})
        if store == "paths":
            ds[f"{key}_by_quarter"] = (("fan_path", "quarter", "facility"), x, {"units": units, "long_name": long_name + f" at quarter ends, the first {n_fan} paths"})
    if store == "paths":
        ds = ds.assign_coords(fan_path=("fan_path", np.arange(n_fan), {"long_name": "path index of the first fan_paths paths"}))
    return ds
