"""Per-path fleet metrics for comparisons, reverse stress tests and sensitivities (host, NumPy).

Each metric is a function ``run -> (P,)`` float64 array whose mean over paths is the headline
figure (a probability is the mean of a 0/1 indicator), so a difference between two scenarios run
with common random numbers is a mean of per-path differences with standard error
sd(d) / sqrt(P). ``METRICS`` maps a name to (label, function, summary.json location). A credit
metric joins by adding one entry here (its per-path indicator from ``run.scalars``); summary
metrics without an entry are still compared by ``engine.stress.compare`` with the independent-runs
standard error only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.summary import first_month_fleet


def _first(run) -> np.ndarray:
    return first_month_fleet(np.asarray(run.scalars["first_impairment_month"]))  # (P, S)


def _impaired(std: int) -> Callable:
    return lambda run: (_first(run)[:, std] > 0).astype(np.float64)


def _impaired_by(std: int, t: int) -> Callable:
    def f(run):
        first = _first(run)[:, std]
        return ((first > 0) & (first <= t)).astype(np.float64)

    return f


def _loss(std: int) -> Callable:
    return lambda run: np.asarray(run.scalars["impairment_loss_usd"], np.float64)[:, std, :].sum(axis=1)


def _npv(run) -> np.ndarray:
    return np.asarray(run.scalars["npv_usd"], np.float64).sum(axis=1)


def _cohort_impaired(std: int, c: int) -> Callable:
    return lambda run: (np.asarray(run.scalars["first_impairment_month"])[:, std, c] > 0).astype(np.float64)


def _any_facility(key: str) -> Callable:
    """P(any facility has the event within the horizon): the per-path indicator of a (P, F) month array."""
    return lambda run: (np.asarray(run.scalars[key]) > 0).any(axis=1).astype(np.float64)


def _credit_loss(run) -> np.ndarray:
    return np.asarray(run.scalars["credit_loss_usd"], np.float64).sum(axis=1)


def metric_table(model) -> dict[str, tuple[str, Callable, str]]:
    """name -> (label, per-path function, where it is in summary.json) for ``model``."""
    out: dict[str, tuple[str, Callable, str]] = {}
    for s_i, std in enumerate(("asc360", "ias36")):
        if std not in model.standards:
            continue
        out[f"p_impairment_{std}"] = (f"P(impairment) {std}, horizon", _impaired(s_i), f"fleet.p_impairment_{std}.horizon")
        if model.year_end_t:
            t, lab = model.year_end_t[0], model.year_end_labels[0]
            out[f"p_impairment_{std}_by_{lab}"] = (f"P(impairment) {std} by {lab}-12", _impaired_by(s_i, t), f"fleet.p_impairment_{std}.by_year_end.{lab}")
        out[f"expected_impairment_loss_usd_{std}"] = (f"E[impairment loss] {std}, USD", _loss(s_i), f"fleet.expected_impairment_loss_usd_{std}")
    out["expected_npv_usd"] = ("E[NPV], USD", _npv, "fleet.npv_usd.mean")
    if getattr(model, "facilities", ()):  # credit (docs/credit.md): the portfolio = any facility
        out["p_covenant_breach"] = ("P(covenant breach), any facility", _any_facility("credit_first_breach_month"), "credit.portfolio.p_covenant_breach.horizon")
        out["p_default"] = ("P(default), any facility", _any_facility("credit_default_month"), "credit.portfolio.p_default.horizon")
        out["expected_credit_loss_usd"] = ("E[credit loss], USD", _credit_loss, "credit.portfolio.expected_credit_loss_usd")
    return out


def cohort_metric(model, name: str) -> tuple[str, Callable] | None:
    """``p_impairment_<std>[_by_<YYYY>].<cohort>``: P(the cohort is impaired within the horizon, or
    by the end of year YYYY)."""
    base, _, cohort = name.partition(".")
    if not cohort or cohort not in model.cohorts:
        return None
    std, _, year = base.removeprefix("p_impairment_").partition("_by_")
    if not base.startswith("p_impairment_") or std not in ("asc360", "ias36") or std not in model.standards:
        return None
    s_i, c = (0 if std == "asc360" else 1), model.cohorts.index(cohort)
    if not year:
        return f"P(impairment) {std} of {cohort}", _cohort_impaired(s_i, c)
    if year not in model.year_end_labels:
        return None
    t = model.year_end_t[model.year_end_labels.index(year)]

    def f(run):
        first = np.asarray(run.scalars["first_impairment_month"])[:, s_i, c]
        return ((first > 0) & (first <= t)).astype(np.float64)

    return f"P(impairment) {std} of {cohort} by {year}-12", f


def resolve(model, name: str) -> tuple[str, Callable]:
    """(label, per-path function) of a metric name; ``KeyError`` with the allowed names."""
    table = metric_table(model)
    if name in table:
        return table[name][0], table[name][1]
    c = cohort_metric(model, name)
    if c is not None:
        return c
    allowed = list(table) + [f"p_impairment_<asc360|ias36>[_by_<year>].<cohort> (cohorts: {', '.join(model.cohorts)}; years: {', '.join(model.year_end_labels)})"]
    raise KeyError(f"unknown metric {name!r}; allowed: {', '.join(allowed)}")
