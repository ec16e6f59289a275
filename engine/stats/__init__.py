"""summary.json's statistics, each declared once (engine/stats/declarations.py), with two backends.

* ``summarize_exact(model, scalars, standards=)``: from per-path results gathered on the host
  (engine/stats/exact.py);
* ``summarize_streamed(model, cols, n_paths, standards=)``: from the streamed reductions of a run
  too large to gather (engine/stats/streamed.py, engine/reduce.py).

Both evaluate ``summary_plan(model, standards)``: the same keys in the same order. The fleet's per-path
values both reduce are defined once in engine/stats/fleet.py; the estimators with their standard
errors are in engine/stats/estimators.py. Importing this package imports nothing else.
"""

from __future__ import annotations


def summarize_exact(model, scalars: dict, *, standards: tuple[str, ...], stats=None) -> dict:
    """{"fleet": ..., "cohorts": {name: ...}} from per-path results ``scalars`` (name -> (P, ...) arrays).

    ``stats``: the statistics to report (default: all of ``declarations.STATISTICS``)."""
    from engine.stats.declarations import evaluate, summary_plan
    from engine.stats.exact import ExactReduction, with_fleet_paths

    return evaluate(summary_plan(model, standards, stats), ExactReduction(with_fleet_paths(model, scalars)))


def summarize_streamed(model, cols: dict, n_paths: int, *, standards: tuple[str, ...], stats=None) -> dict:
    """The same statistics from accumulated columns (name -> engine.reduce.Column) of ``n_paths`` paths."""
    from engine.stats.declarations import evaluate, summary_plan
    from engine.stats.streamed import StreamedReduction

    return evaluate(summary_plan(model, standards, stats), StreamedReduction(cols, n_paths))
