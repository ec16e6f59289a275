"""Credit statistics with Monte Carlo standard errors (host, NumPy, float64): the ``credit`` block of summary.json.

Per facility and for the portfolio (any facility): P(covenant breach) and P(default) by quarter end
and over the horizon, expected credit loss, EAD and LGD given default, the loss and LGD quantiles,
and DSCR / LTV quantile fans by quarter end (over the fan paths). Every statistic is ``{value, se}``
(engine/summary.py for the SE formulas). docs/credit.md defines each one.
"""

from __future__ import annotations

import numpy as np

from engine.summary import QUANTILES, distribution, mean, prob, quantile

LGD_QUANTILES = (0.5, 0.95, 0.99)
LOSS_QUANTILES = (0.95, 0.99)


def quarter_ends(month_labels: tuple[str, ...]) -> tuple[list[int], list[str]]:
    """Month indices t (1-based) that end a calendar quarter inside the run, and labels like 2026Q1."""
    ts, labels = [], []
    for t, lab in enumerate(month_labels, start=1):
        y, m = int(lab[:4]), int(lab[5:7])
        if m % 3 == 0:
            ts.append(t)
            labels.append(f"{y}Q{m // 3}")
    return ts, labels


def _nan_stat() -> dict:
    return {"value": float("nan"), "se": float("nan")}


def by_quarter(first: np.ndarray, q_t: list[int], q_labels: list[str]) -> dict:
    """P(event month <= quarter end) for each quarter; ``first`` (P,) with 0 = never."""
    return {lab: prob((first > 0) & (first <= t)) for t, lab in zip(q_t, q_labels)}


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


def entity_credit(*, breach_month: np.ndarray, default_month: np.ndarray, loss: np.ndarray, ead: np.ndarray, lgd: np.ndarray, q_t, q_labels,
                  default_cause: np.ndarray | None = None) -> dict:
    """Statistics of one facility (or of the portfolio); arrays (P,), months 0 = never, lgd NaN without default.

    ``default_cause`` (P,): engine/credit/path.py DEFAULT_CAUSES codes (1 payment shortfall, 2 covenant);
    given, P(default) is also split by cause (``p_default_payment``, ``p_default_covenant``: they add up to it)."""
    d = default_month > 0
    out = {
        "p_covenant_breach": {"by_quarter": by_quarter(breach_month, q_t, q_labels), "horizon": prob(breach_month > 0)},
        "p_default": {"by_quarter": by_quarter(default_month, q_t, q_labels), "horizon": prob(d)},
        "expected_credit_loss_usd": mean(loss),
        "credit_loss_quantiles_usd": {f"p{round(q * 100):02d}": quantile(loss, q) for q in LOSS_QUANTILES},
        "ead_given_default_usd": mean(ead[d]) if d.any() else _nan_stat(),
        "lgd_given_default_frac": mean(lgd[d]) if d.any() else _nan_stat(),
        "lgd_quantiles_frac": {f"p{round(q * 100):02d}": (quantile(lgd[d], q) if d.any() else _nan_stat()) for q in LGD_QUANTILES},
    }
    if default_cause is not None:
        from engine.credit.path import DEFAULT_CAUSES

        for code, cause in DEFAULT_CAUSES.items():
            out[f"p_default_{cause}"] = {"horizon": prob(d & (default_cause == code))}
        # a zero LGD is a default whose recovery (collateral net of the haircut plus borrower cash) covers the EAD
        out["p_default_fully_recovered"] = {"horizon": prob(d & (loss <= 0))}
    pd_ = out["p_default"]["horizon"]["value"]
    lg, ea = out["lgd_given_default_frac"]["value"], out["ead_given_default_usd"]["value"]
    # PD x LGD x EAD with the conditional means: equals the expected loss when LGD and EAD are uncorrelated given default
    out["pd_x_lgd_x_ead_usd"] = float(pd_ * lg * ea) if d.any() else 0.0
    return out


def credit_summary(model, run) -> dict:
    """The ``credit`` block of summary.json (only for scenarios with [financing])."""
    s = run.scalars
    q_t, q_labels = quarter_ends(model.month_labels)
    first = s["credit_first_breach_month"].astype(np.float64)  # (P, F)
    dflt = s["credit_default_month"].astype(np.float64)
    loss = s["credit_loss_usd"].astype(np.float64)
    ead = s["credit_ead_usd"].astype(np.float64)
    lgd = s["credit_lgd_frac"].astype(np.float64)
    cause = np.rint(s["credit_default_cause"]).astype(np.int64)
    m = run.monthly
    n_fan = run.n_fan
    facilities = {}
    for j, name in enumerate(model.facilities):
        e = entity_credit(breach_month=first[:, j], default_month=dflt[:, j], loss=loss[:, j], ead=ead[:, j], lgd=lgd[:, j], q_t=q_t, q_labels=q_labels,
                          default_cause=cause[:, j])
        e["p_equity_cure_used"] = prob(s["credit_cures_used"][:, j] > 0)
        e["equity_cure_usd"] = mean(s["credit_equity_cure_usd"][:, j])
        e["min_tested_dscr"] = distribution(s["credit_min_tested_dscr"][:, j])
        e["max_tested_ltv_frac"] = distribution(s["credit_max_tested_ltv_frac"][:, j])
        e["interest_paid_usd"] = mean(s["credit_interest_paid_usd"][:, j])
        e["balance_end_usd"] = mean(s["credit_balance_end_usd"][:, j])
        e["dscr_fan_by_quarter"] = fan_by_quarter(m["credit_dscr"][:n_fan, :, j], q_t)
        e["ltv_fan_by_quarter"] = fan_by_quarter(m["credit_ltv_frac"][:n_fan, :, j], q_t)
        facilities[name] = e

    def first_of(x):
        big = np.where(x > 0, x, np.inf).min(axis=1)
        return np.where(np.isfinite(big), big, 0.0)

    any_default = (dflt > 0).any(axis=1)
    port_ead = ead.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        port_lgd = np.where(port_ead > 0, loss.sum(axis=1) / np.where(port_ead > 0, port_ead, 1.0), np.nan)
    # the portfolio's cause: that of its first default (a payment shortfall when one falls in the same month)
    first_d = first_of(dflt)
    at_first = (dflt > 0) & (dflt == first_d[:, None])
    port_cause = np.where(~any_default, 0, np.where((at_first & (cause == 1)).any(axis=1), 1, 2))
    portfolio = entity_credit(
        breach_month=first_of(first), default_month=first_d, loss=loss.sum(axis=1), ead=port_ead,
        lgd=np.where(any_default, port_lgd, np.nan), q_t=q_t, q_labels=q_labels, default_cause=port_cause,
    )
    return {
        "quarters": q_labels,
        "facilities": facilities,
        "portfolio": portfolio,
        "fan_paths": int(n_fan),
    }
