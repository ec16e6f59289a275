"""Credit statistics with Monte Carlo standard errors (host, NumPy, float64): the ``credit`` block of summary.json.

Per facility and for the portfolio (any facility): P(covenant breach) and P(default) by quarter end
and over the horizon, expected credit loss, EAD and LGD given default, the loss and LGD quantiles,
and DSCR / LTV quantile fans by quarter end (over the fan paths). Every statistic is ``{value, se}``
(engine/stats/estimators.py for the SE formulas). docs/credit.md defines each one.

The statistics over paths are declared once in ``CREDIT_STATISTICS`` (the kinds of
engine/stats/declarations.py: the portfolio is the total, a facility a member) and evaluated exactly
over the gathered paths (engine/stats/exact.py); the portfolio's per-path values are
``portfolio_paths``. A scenario with [financing] is always gathered (engine/app.py).
"""

from __future__ import annotations

import numpy as np

from engine.stats.declarations import MEMBER, TOTAL, Statistic, entity_plan, evaluate, quarter_ends
from engine.stats.estimators import QUANTILES
from engine.stats.exact import ExactReduction
from engine.stats.fleet import first_month, sum_cohorts_float64

LGD_QUANTILES = (0.5, 0.95, 0.99)
LOSS_QUANTILES = (0.95, 0.99)
FACILITY, PORTFOLIO = MEMBER, TOTAL

# a facility's per-path results (P, F) and the portfolio's per-path values (P,) (``portfolio_paths``)
_DEFAULT = dict(given="credit_default_month", total_given="portfolio_default_month")
CREDIT_RISK_STATISTICS: tuple[Statistic, ...] = (
    Statistic("p_covenant_breach", "by_quarter_end", "credit_first_breach_month", "portfolio_first_breach_month", "fraction of paths"),
    Statistic("p_default", "by_quarter_end", "credit_default_month", "portfolio_default_month", "fraction of paths"),
    # P(default) by cause (engine/credit/path.py DEFAULT_CAUSES; they add up to p_default), and defaults
    # whose recovery covers the EAD (a zero LGD): the default month on those paths, 0 elsewhere (``cause_paths``)
    Statistic("p_default_payment", "by_quarter_end", "credit_default_month_payment", "portfolio_default_month_payment", "fraction of paths"),
    Statistic("p_default_covenant", "by_quarter_end", "credit_default_month_covenant", "portfolio_default_month_covenant", "fraction of paths"),
    Statistic("p_default_fully_recovered", "by_quarter_end", "credit_default_month_fully_recovered", "portfolio_default_month_fully_recovered", "fraction of paths"),
    Statistic("expected_credit_loss_usd", "mean", "credit_loss_usd", "portfolio_credit_loss_usd", "USD"),
    Statistic("credit_loss_quantiles_usd", "quantiles", "credit_loss_usd", "portfolio_credit_loss_usd", "USD", qs=LOSS_QUANTILES),
    Statistic("ead_given_default_usd", "mean_given", "credit_ead_usd", "portfolio_ead_usd", "USD", **_DEFAULT),
    Statistic("lgd_given_default_frac", "mean_given", "credit_lgd_frac", "portfolio_lgd_frac", "fraction of EAD", **_DEFAULT),
    Statistic("lgd_quantiles_frac", "quantiles_given", "credit_lgd_frac", "portfolio_lgd_frac", "fraction of EAD", qs=LGD_QUANTILES, **_DEFAULT),
)
FACILITY_STATISTICS: tuple[Statistic, ...] = (
    Statistic("p_equity_cure_used", "probability", "credit_cures_used", None, "fraction of paths"),
    Statistic("equity_cure_usd", "mean", "credit_equity_cure_usd", None, "USD"),
    Statistic("min_tested_dscr", "distribution", "credit_min_tested_dscr", None, "ratio"),
    Statistic("max_tested_ltv_frac", "distribution", "credit_max_tested_ltv_frac", None, "fraction of collateral value"),
    Statistic("interest_paid_usd", "mean", "credit_interest_paid_usd", None, "USD"),
    Statistic("balance_end_usd", "mean", "credit_balance_end_usd", None, "USD"),
)
CREDIT_STATISTICS = CREDIT_RISK_STATISTICS + FACILITY_STATISTICS


def portfolio_paths(scalars: dict) -> dict:
    """The portfolio's per-path values (any facility) from the facilities' (P, F) results: name -> (P,).

    ``portfolio_first_breach_month`` and ``portfolio_default_month``: the first over the facilities (0 =
    never); ``portfolio_credit_loss_usd`` and ``portfolio_ead_usd``: sums over them (float64);
    ``portfolio_lgd_frac``: loss / EAD over the facilities, NaN on paths without a default (or EAD 0).
    """
    first = np.asarray(scalars["credit_first_breach_month"], np.float64)
    dflt = np.asarray(scalars["credit_default_month"], np.float64)
    loss = sum_cohorts_float64(scalars["credit_loss_usd"])
    ead = sum_cohorts_float64(scalars["credit_ead_usd"])
    with np.errstate(invalid="ignore", divide="ignore"):
        lgd = np.where(ead > 0, loss / np.where(ead > 0, ead, 1.0), np.nan)
    return {
        "portfolio_first_breach_month": first_month(first),
        "portfolio_default_month": first_month(dflt),
        "portfolio_credit_loss_usd": loss,
        "portfolio_ead_usd": ead,
        "portfolio_lgd_frac": np.where((dflt > 0).any(axis=1), lgd, np.nan),
    }


def credit_paths(scalars: dict) -> dict:
    """What the credit statistics read: the facilities' per-path results, the portfolio's per-path
    values (``portfolio_paths``) and the default months by cause (``cause_paths``)."""
    portfolio = portfolio_paths(scalars)
    return {**scalars, **portfolio, **cause_paths(scalars, portfolio)}


def cause_paths(scalars: dict, portfolio: dict) -> dict:
    """Per-path default months split by cause: name -> (P, F) for the facilities and (P,) for the portfolio.

    ``*_payment`` / ``*_covenant``: the default month where the default was a payment shortfall /
    a covenant failure with no cure left (engine/credit/path.py ``DEFAULT_CAUSES``), else 0; the
    portfolio's cause is that of its first default (payment when both fall in one month).
    ``*_fully_recovered``: the default month where the loss is 0 (recovery covers the EAD), else 0.
    ``portfolio``: ``portfolio_paths(scalars)``."""
    from engine.credit.path import DEFAULT_CAUSES

    dflt = np.asarray(scalars["credit_default_month"], np.float64)
    cause = np.rint(np.asarray(scalars["credit_default_cause"], np.float64)).astype(np.int64)
    loss = np.asarray(scalars["credit_loss_usd"], np.float64)
    p_month = portfolio["portfolio_default_month"]
    at_first = (dflt > 0) & (dflt == p_month[:, None])
    payment, covenant = ({v: k for k, v in DEFAULT_CAUSES.items()}[n] for n in ("payment", "covenant"))
    p_cause = np.where(p_month <= 0, 0, np.where((at_first & (cause == payment)).any(axis=1), payment, covenant))
    out = {}
    for code, name in DEFAULT_CAUSES.items():
        out[f"credit_default_month_{name}"] = np.where(cause == code, dflt, 0.0)
        out[f"portfolio_default_month_{name}"] = np.where(p_cause == code, p_month, 0.0)
    out["credit_default_month_fully_recovered"] = np.where(loss <= 0, dflt, 0.0)
    out["portfolio_default_month_fully_recovered"] = np.where(portfolio["portfolio_credit_loss_usd"] <= 0, p_month, 0.0)
    return out


def fan_by_quarter(values: np.ndarray, q_t: list[int]) -> dict:
    """(P_fan, T) monthly values (NaN = not defined) -> quantiles at quarter ends over the defined paths."""
    x = np.asarray(values, np.float64)[:, [t - 1 for t in q_t]]
    out = {}
    with np.errstate(invalid="ignore"), _quiet():
        for q in QUANTILES:
            out[f"p{round(q * 100):02d}"] = [None if not np.isfinite(v) else float(v) for v in np.nanquantile(x, q, axis=0)]
        out["n_paths_defined"] = [int(v) for v in np.isfinite(x).sum(axis=0)]
    return out


class _quiet:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def credit_entity(model, arrays: dict, entity: str, j: int | None = None, stats: tuple[Statistic, ...] = CREDIT_STATISTICS) -> dict:
    """The statistics of facility ``j`` (``entity = FACILITY``) or of the portfolio (``PORTFOLIO``).

    ``arrays``: name -> (P, ...) per-path values (the facilities' (P, F) results, the portfolio's (P,)
    values); ``model.month_labels`` gives the quarter ends. Besides ``stats``: ``pd_x_lgd_x_ead_usd`` =
    PD x LGD x EAD with the conditional means (USD; 0 without a default): it equals the expected loss
    when LGD and EAD are uncorrelated given default.
    """
    stats_ = evaluate(entity_plan(model, (), entity, j, stats), ExactReduction(arrays))
    out: dict = {}
    for key, value in stats_.items():
        out[key] = value
        if key == "lgd_quantiles_frac":
            pd_ = stats_["p_default"]["horizon"]["value"]
            lg, ea = stats_["lgd_given_default_frac"]["value"], stats_["ead_given_default_usd"]["value"]
            out["pd_x_lgd_x_ead_usd"] = float(pd_ * lg * ea) if pd_ > 0 else 0.0
    return out


def credit_summary(model, run) -> dict:
    """The ``credit`` block of summary.json (only for scenarios with [financing])."""
    s = run.scalars
    q_t, q_labels = quarter_ends(model.month_labels)
    arrays = credit_paths(s)
    m = run.monthly
    n_fan = run.n_fan
    facilities = {}
    for j, name in enumerate(model.facilities):
        e = credit_entity(model, arrays, FACILITY, j)
        e["dscr_fan_by_quarter"] = fan_by_quarter(m["credit_dscr"][:n_fan, :, j], q_t)
        e["ltv_fan_by_quarter"] = fan_by_quarter(m["credit_ltv_frac"][:n_fan, :, j], q_t)
        facilities[name] = e
    return {
        "quarters": q_labels,
        "facilities": facilities,
        "portfolio": credit_entity(model, arrays, PORTFOLIO),
        "fan_paths": int(n_fan),
    }
