"""The statistics of summary.json ``fleet`` and ``cohorts``, each declared once.

``STATISTICS`` is the table: per statistic its summary.json key, its kind (how it reduces the paths),
the per-path source it reduces (a key of the path function's results, or of the fleet's per-path
values, engine/stats/fleet.py), its unit, and when it is reported. ``summary_plan(model, standards)``
expands the table into the key tree of summary.json whose leaves are ``Leaf`` reductions of one
per-path column; a backend evaluates the leaves:

* ``engine.stats.exact.ExactReduction``: from per-path arrays gathered on the host (exact);
* ``engine.stats.streamed.StreamedReduction``: from the streamed reductions (engine/reduce.py;
  its approximations are stated there).

Both routes evaluate the same plan, so they have the same keys in the same order by construction; a
statistic added to ``STATISTICS`` appears in both (tests/test_stats_declarations.py).

Kinds (what a statistic of one entity, the fleet or a cohort, is):

=========================  ==============================================================================
``mean``                   mean over paths with its SE: ``{value, se}``
``quantiles``              value quantiles ``qs``: ``{"p50": {value, se}, ...}``
``distribution``           mean and the quantiles QUANTILES: ``{"mean": ..., "p05": ..., ...}``
``probability``            P(source > 0) for a 0/1 flag: ``{value, se}``
``probability_not_finite`` P(source is not finite), e.g. never breaks even (+inf)
``mean_given``             mean of the source over the paths where ``given > 0``; the source must be 0 or
                           not finite on the other paths (the streamed route divides the sum over all paths)
``month_quantiles``        QUANTILES of the month (1-based, 0 = never) over the paths with an event, as
                           month labels: ``{"p05": "2027-03", ...}`` ({} when none)
``by_year_end``            P(0 < month <= each calendar year end) and P(month > 0) over the horizon:
                           ``{"by_year_end": {"2026": ...}, "horizon": ...}``
``by_quarter_end``         the same by each calendar quarter end: ``{"by_quarter": {"2026Q1": ...}, "horizon": ...}``
``by_fiscal_year``         P(material impairment) in the first 12 months, in each fiscal year (flag
                           ``given``), by each fiscal year end, and by the horizon (month ``source``)
``quantiles_given``        value quantiles ``qs`` over the paths where ``given > 0`` (NaN when none); the
                           source must not be finite on the other paths (for the streamed route)
=========================  ==============================================================================

An entity is a total (``TOTAL``: the fleet, or a debt portfolio) or one of its members (``MEMBER``: a
cohort, or a facility); a member's column is its source's column at the member's index (the last).
The credit block's statistics (engine/credit/summary.py) are declared in the same way.

Primitive leaves (the reduction interface): ``mean``, ``quantile``, ``p_within`` (0 < x <= t),
``p_positive`` (x > 0), ``p_not_finite``, ``mean_given``, ``quantile_given``, ``month_quantiles``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.stats.estimators import LOSS_QUANTILES, QUANTILES, STANDARD_NAMES, quantile_key

TOTAL, MEMBER = "total", "member"
FLEET, COHORT = TOTAL, MEMBER  # summary.json fleet and cohorts


@dataclass(frozen=True)
class Source:
    """One per-path column: results key and index into its trailing shape (e.g. (s, c))."""

    key: str
    index: tuple[int, ...] = ()


@dataclass(frozen=True)
class Leaf:
    """One primitive reduction of one column: ``op`` with argument ``arg`` (a quantile, a month, labels,
    the ``given`` Source, or (given Source, quantile))."""

    op: str
    source: Source
    arg: object = None


def _always(model, c) -> bool:
    return True


@dataclass(frozen=True)
class Statistic:
    """One summary.json statistic.

    Attributes:
        key: summary.json key; ``{std}`` is replaced by each standard (asc360, ias36) in ``standards``.
        kind: how it reduces the paths (the module docstring's table).
        source: per-path results key of a member (trailing shape ([S,] [index,] C)); cohort c's column
            is ``(s,) + index + (c,)``; None: not reported for the members.
        total_source: the total's per-path key (trailing shape ([S,] [index])), e.g. one of
            engine/stats/fleet.py's; None: not reported for the total.
        unit: the unit of the values (probabilities: "fraction of paths").
        index: fixed index into the source after the standard (e.g. which flag of a pair).
        given: for ``mean_given`` and ``quantiles_given``, the member's key whose > 0 selects the paths (its
            total's key is ``total_given``); for ``by_fiscal_year``, the per-fiscal-year flag key.
        total_given: the total's key for ``given``.
        qs: the quantiles of ``quantiles`` and ``quantiles_given``.
        requires: standards that must all be reported.
        when: ``(model, c) -> bool``, for members only: reported for member c (e.g. when it has a cloud price).
    """

    key: str
    kind: str
    source: str | None
    total_source: str | None
    unit: str
    index: tuple[int, ...] = ()
    given: str | None = None
    total_given: str | None = None
    qs: tuple[float, ...] = ()
    requires: tuple[str, ...] = ()
    when: Callable = _always

    @property
    def per_standard(self) -> bool:
        return "{std}" in self.key

    def source_of(self, entity: str) -> str | None:
        """The per-path key this statistic reduces for ``entity`` (TOTAL or MEMBER); None: not reported."""
        return self.total_source if entity == TOTAL else self.source


def _has_tokens(model, c) -> bool:
    return bool(np.isfinite(model.a["tokens_per_s"][c]))


def _has_cloud_price(model, c) -> bool:
    return bool(np.isfinite(model.a["cloud_price"][c]))


def _distribution(name: str, unit: str) -> Statistic:
    """A cohort distribution whose fleet counterpart is engine/stats/fleet.py's ``fleet_<name>``."""
    return Statistic(name, "distribution", name, f"fleet_{name}", unit)


# The table, in summary.json order. Statistics with ``{std}`` in consecutive rows are grouped by standard
# (all of asc360's, then all of ias36's), as summary.json lists them.
STATISTICS: tuple[Statistic, ...] = (
    Statistic("p_impairment_{std}", "by_year_end", "first_impairment_month", "fleet_first_impairment_month", "fraction of paths"),
    Statistic("expected_impairment_loss_usd_{std}", "mean", "impairment_loss_usd", "fleet_impairment_loss_usd", "USD"),
    Statistic("impairment_loss_quantiles_usd_{std}", "quantiles", "impairment_loss_usd", "fleet_impairment_loss_usd", "USD", qs=LOSS_QUANTILES),
    # the loss is 0 on the paths without an impairment (the streamed route's contract for mean_given)
    Statistic("expected_loss_given_impairment_usd_{std}", "mean_given", "impairment_loss_usd", "fleet_impairment_loss_usd", "USD",
              given="first_impairment_month", total_given="fleet_first_impairment_month"),
    Statistic("first_impairment_month_{std}", "month_quantiles", "first_impairment_month", "fleet_first_impairment_month", "month label"),
    Statistic("p_impaired_asc360_not_ias36", "probability", "impaired_one_standard_only", "fleet_impaired_one_standard_only", "fraction of paths",
              index=(0,), requires=("asc360", "ias36")),
    Statistic("p_impaired_ias36_not_asc360", "probability", "impaired_one_standard_only", "fleet_impaired_one_standard_only", "fraction of paths",
              index=(1,), requires=("asc360", "ias36")),
    Statistic("expected_reversal_usd_ias36", "mean", "impairment_reversal_usd", "fleet_impairment_reversal_usd", "USD", requires=("ias36",)),
    _distribution("npv_usd", "USD"),
    _distribution("tco_usd_per_gpu_hour", "USD per GPU-hour available"),
    _distribution("tco_usd_per_delivered_gpu_hour", "USD per GPU-hour sold"),
    _distribution("tco_annuity_usd_per_delivered_gpu_hour", "USD per GPU-hour sold"),
    Statistic("tco_usd_per_million_tokens", "distribution", "tco_usd_per_million_tokens", None, "USD per million tokens", when=_has_tokens),
    Statistic("breakeven_utilization_frac", "distribution", "breakeven_utilization_frac", None, "fraction", when=_has_cloud_price),
    # over the paths where owning saves (finite values); the share where it never does below
    Statistic("breakeven_vs_cloud_gpu_hours", "distribution", "breakeven_vs_cloud_gpu_hours", None, "GPU-hour", when=_has_cloud_price),
    Statistic("breakeven_vs_cloud_months", "distribution", "breakeven_vs_cloud_months", None, "month", when=_has_cloud_price),
    Statistic("p_breakeven_vs_cloud_never", "probability_not_finite", "breakeven_vs_cloud_months", None, "fraction of paths", when=_has_cloud_price),
    # "material" = a month whose recognised loss is at least accounting.materiality_frac of the fleet's
    # carrying amount before it (docs/methodology.md §0): a fleet quantity
    Statistic("p_material_impairment_{std}", "by_fiscal_year", None, "material_impairment_month", "fraction of paths",
              total_given="material_impairment_in_fiscal_year"),
    Statistic("expected_material_impairment_loss_usd_{std}", "mean", None, "material_impairment_loss_usd", "USD"),
    Statistic("expected_immaterial_impairment_loss_usd_{std}", "mean", None, "immaterial_impairment_loss_usd", "USD"),
    Statistic("p_opening_book_unrecoverable_{std}", "probability", None, "opening_book_unrecoverable", "fraction of paths"),
)


def quarter_ends(month_labels: tuple[str, ...]) -> tuple[list[int], list[str]]:
    """Month indices t (1-based) that end a calendar quarter inside the run, and labels like 2026Q1."""
    ts, labels = [], []
    for t, lab in enumerate(month_labels, start=1):
        y, m = int(lab[:4]), int(lab[5:7])
        if m % 3 == 0:
            ts.append(t)
            labels.append(f"{y}Q{m // 3}")
    return ts, labels


def _expand(stat: Statistic, model, src: Source, given: Source | None):
    """One statistic of one entity -> its summary.json value with ``Leaf`` reductions as leaves."""
    kind = stat.kind
    if kind == "mean":
        return Leaf("mean", src)
    if kind == "quantiles":
        return {quantile_key(q): Leaf("quantile", src, q) for q in stat.qs}
    if kind == "distribution":
        return {"mean": Leaf("mean", src), **{quantile_key(q): Leaf("quantile", src, q) for q in QUANTILES}}
    if kind == "probability":
        return Leaf("p_positive", src)
    if kind == "probability_not_finite":
        return Leaf("p_not_finite", src)
    if kind == "mean_given":
        return Leaf("mean_given", src, given)
    if kind == "month_quantiles":
        return Leaf("month_quantiles", src, tuple(model.month_labels))
    if kind == "quantiles_given":
        return {quantile_key(q): Leaf("quantile_given", src, (given, q)) for q in stat.qs}
    if kind == "by_year_end":
        return {"by_year_end": {lab: Leaf("p_within", src, t) for t, lab in zip(model.year_end_t, model.year_end_labels)}, "horizon": Leaf("p_positive", src)}
    if kind == "by_quarter_end":
        q_t, q_labels = quarter_ends(model.month_labels)
        return {"by_quarter": {lab: Leaf("p_within", src, t) for t, lab in zip(q_t, q_labels)}, "horizon": Leaf("p_positive", src)}
    if kind == "by_fiscal_year":
        fy = list(zip(model.fiscal_year_labels, model.fiscal_year_end_t))
        return {
            "first_12_months": Leaf("p_within", src, min(12, model.T)),
            "by_fiscal_year": {lab: Leaf("p_positive", Source(given.key, given.index + (y,))) for y, (lab, _) in enumerate(fy)},
            "cumulative_by_fiscal_year_end": {lab: Leaf("p_within", src, t) for lab, t in fy},
            "horizon": Leaf("p_within", src, model.T),
        }
    raise ValueError(f"statistic {stat.key!r}: unknown kind {kind!r}")


def _groups(stats: tuple[Statistic, ...]):
    """Consecutive per-standard statistics as one group (repeated for each standard), others alone."""
    group: list[Statistic] = []
    for s in stats:
        if s.per_standard:
            group.append(s)
            continue
        if group:
            yield True, group
            group = []
        yield False, [s]
    if group:
        yield True, group


def entity_plan(model, standards: tuple[str, ...], entity: str, c: int | None = None, stats: tuple[Statistic, ...] | None = None) -> dict:
    """The plan of the total (``entity = TOTAL``: the fleet) or of member ``c`` (``MEMBER``: a cohort):
    key -> value with Leaf leaves. ``stats`` default: ``STATISTICS``."""
    stats = STATISTICS if stats is None else stats
    out: dict = {}
    for per_standard, group in _groups(stats):
        for s_i, std in (enumerate(STANDARD_NAMES) if per_standard else [(None, None)]):
            if per_standard and std not in standards:
                continue
            for stat in group:
                key = stat.source_of(entity)
                if key is None or not all(r in standards for r in stat.requires):
                    continue
                if entity == MEMBER and not stat.when(model, c):
                    continue
                lead = (s_i,) if per_standard else ()
                tail = (c,) if entity == MEMBER else ()
                given = stat.total_given if entity == TOTAL else stat.given
                src = Source(key, lead + stat.index + tail)
                gsrc = Source(given, lead + tail) if given is not None else None
                out[stat.key.format(std=std)] = _expand(stat, model, src, gsrc)
    return out


def summary_plan(model, standards: tuple[str, ...], stats: tuple[Statistic, ...] | None = None) -> dict:
    """The plan of summary.json's ``fleet`` and ``cohorts``: {"fleet": plan, "cohorts": {name: plan}}."""
    return {
        "fleet": entity_plan(model, standards, FLEET, stats=stats),
        "cohorts": {name: entity_plan(model, standards, COHORT, c, stats=stats) for c, name in enumerate(model.cohorts)},
    }


def evaluate(plan, reduction):
    """Replace every Leaf of ``plan`` by ``getattr(reduction, leaf.op)(leaf.source, leaf.arg)``."""
    if isinstance(plan, Leaf):
        return getattr(reduction, plan.op)(plan.source, plan.arg)
    return {k: evaluate(v, reduction) for k, v in plan.items()}
