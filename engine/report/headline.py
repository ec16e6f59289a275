"""The headline table: each row one figure of summary.json, tied to its key, never recomputed.

A row holds the label shown, the value and SE *as stored in summary.json* (``value``/``se`` of a
``{"value", "se"}`` object, or a month string without SE), the format kind (engine/report/fmt.py)
and the key path into summary.json (a list of keys). The HTML page, the PNG-free CSV
(``report/headline.csv``) and the tests all read these rows, so a number shown is the number stored.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from engine.report import fmt

STANDARD_LABEL = {"asc360": "ASC 360", "ias36": "IAS 36"}


@dataclass(frozen=True)
class Row:
    """One figure: ``key`` is the path into summary.json of a ``{"value", "se"}`` object (or of a month string)."""

    section: str
    label: str
    kind: str
    key: tuple[str, ...]
    value: float | str | None
    se: float | None

    @property
    def text(self) -> str:
        return fmt.value(self.value, self.kind)

    @property
    def se_text(self) -> str:
        return fmt.se(self.se, self.kind)

    @property
    def key_json(self) -> str:
        return json.dumps(list(self.key))


def lookup(summary: dict, key) -> object:
    """The object at ``key`` (a sequence of keys) in summary.json; KeyError when absent."""
    node = summary
    for k in key:
        node = node[k]
    return node


def stat_row(summary: dict, section: str, label: str, kind: str, *key: str) -> Row | None:
    """A row for the ``{"value", "se"}`` object (or month string) at ``key``; None if summary.json lacks it."""
    try:
        obj = lookup(summary, key)
    except (KeyError, TypeError):
        return None
    if isinstance(obj, dict) and "value" in obj:
        return Row(section, label, kind, tuple(key), obj["value"], obj.get("se"))
    if isinstance(obj, str) and kind == "month":
        return Row(section, label, kind, tuple(key), obj, None)
    return None


def any_loss_counts(summary: dict) -> str:
    """What P(impaired) counts, in words: any loss, at any test, by the horizon's last month, in any asset group of the policy."""
    run = summary["run"]
    group = next((x.split(":", 1)[1].strip() for x in summary.get("accounting_policy", {}).get("in_words", []) if x.startswith("asset group:")), "as in the policy")
    return (f"counts a loss of any size (material or not) recognised at any impairment test from {run['start_month']} to {_horizon_end(run)} "
            f"({run['horizon_months']} months), in any asset group (asset group: {group}); the fleet figure is any cohort of the fleet")


def headline_rows(summary: dict) -> list[Row]:
    """The headline figures, fleet level (and portfolio credit when present), in reading order."""
    run = summary["run"]
    stds = list(run["standards"])
    years = list(run.get("year_ends", []))
    end = _horizon_end(run)
    spec: list[tuple] = []
    fys = list((summary["fleet"].get(f"p_material_impairment_{stds[0]}") or {}).get("by_fiscal_year", {}))
    for s in stds:
        L = STANDARD_LABEL.get(s, s)
        sec = f"Material impairment under {L} (a month's loss of at least the materiality share of the fleet's book)"
        spec += [
            (sec, "P(recognised in the next 12 months)", "pct", "fleet", f"p_material_impairment_{s}", "first_12_months"),
            *[(sec, f"P(recognised in {y})", "pct", "fleet", f"p_material_impairment_{s}", "by_fiscal_year", y) for y in fys],
            (sec, f"P(recognised by {end})", "pct", "fleet", f"p_material_impairment_{s}", "horizon"),
            (sec, "Expected material loss", "usd_m", "fleet", f"expected_material_impairment_loss_usd_{s}"),
            (sec, "Expected immaterial losses (reported apart)", "usd_m", "fleet", f"expected_immaterial_impairment_loss_usd_{s}"),
            (sec, "P(a test at the valuation date would already fail)", "pct", "fleet", f"p_opening_book_unrecoverable_{s}"),
        ]
        sec = f"Same paths under other defensible policies ({L}, P(material) by {end})"
        spec += [(sec, f"{name.replace('_', ' ')}", "pct", "policy_range", "policies", name, s, "horizon") for name in (summary.get("policy_range") or {}).get("policies", {})]
    for s in stds:
        L = STANDARD_LABEL.get(s, s)
        sec = f"Any impairment loss under {L} (fleet: any cohort, any size, any test)"
        spec += [
            (sec, f"P(impaired by {end}): any loss, any test", "pct", "fleet", f"p_impairment_{s}", "horizon"),
            (sec, f"beside it, P(material impairment by {end})", "pct", "fleet", f"p_material_impairment_{s}", "horizon"),
            *[(sec, f"P(impaired by Dec {y})", "pct", "fleet", f"p_impairment_{s}", "by_year_end", y) for y in years[:1]],
            (sec, "First impairment, median month (impaired paths)", "month", "fleet", f"first_impairment_month_{s}", "p50"),
            (sec, "Expected impairment loss", "usd_m", "fleet", f"expected_impairment_loss_usd_{s}"),
            (sec, "Impairment loss, 95th percentile", "usd_m", "fleet", f"impairment_loss_quantiles_usd_{s}", "p95"),
            (sec, "Impairment loss, 99th percentile", "usd_m", "fleet", f"impairment_loss_quantiles_usd_{s}", "p99"),
            (sec, "Expected loss given impairment", "usd_m", "fleet", f"expected_loss_given_impairment_usd_{s}"),
        ]
    sec = "Where the standards differ"
    spec += [
        (sec, "P(impaired under ASC 360 only)", "pct", "fleet", "p_impaired_asc360_not_ias36"),
        (sec, "P(impaired under IAS 36 only)", "pct", "fleet", "p_impaired_ias36_not_asc360"),
        (sec, "Expected IAS 36 reversal", "usd_m", "fleet", "expected_reversal_usd_ias36"),
    ]
    sec = "Cost of a GPU-hour (fleet, mean over paths)"
    spec += [
        (sec, "TCO per available GPU-hour (straight line)", "usd_per_hour", "fleet", "tco_usd_per_gpu_hour", "mean"),
        (sec, "TCO per delivered GPU-hour (straight line)", "usd_per_hour", "fleet", "tco_usd_per_delivered_gpu_hour", "mean"),
        (sec, "TCO per delivered GPU-hour (annuity)", "usd_per_hour", "fleet", "tco_annuity_usd_per_delivered_gpu_hour", "mean"),
        (sec, "TCO per delivered GPU-hour, 95th percentile", "usd_per_hour", "fleet", "tco_usd_per_delivered_gpu_hour", "p95"),
    ]
    sec = "Value (NPV at the cost of capital)"
    spec += [
        (sec, "NPV, mean", "usd_m", "fleet", "npv_usd", "mean"),
        (sec, "NPV, 5th percentile", "usd_m", "fleet", "npv_usd", "p05"),
        (sec, "NPV, median", "usd_m", "fleet", "npv_usd", "p50"),
    ]
    if "credit" in summary:
        sec = "Credit (portfolio: any facility)"
        spec += [
            (sec, f"P(covenant breach by {end})", "pct", "credit", "portfolio", "p_covenant_breach", "horizon"),
            (sec, f"P(default by {end})", "pct", "credit", "portfolio", "p_default", "horizon"),
            (sec, "Expected credit loss", "usd_m", "credit", "portfolio", "expected_credit_loss_usd"),
            (sec, "Credit loss, 99th percentile", "usd_m", "credit", "portfolio", "credit_loss_quantiles_usd", "p99"),
        ]
    rows = [stat_row(summary, sec_, label, kind, *key) for sec_, label, kind, *key in spec]
    return [r for r in rows if r is not None]


def _horizon_end(run: dict) -> str:
    """The horizon's last month, ``YYYY-MM``."""
    y, m = (int(x) for x in str(run["start_month"]).split("-"))
    k = y * 12 + (m - 1) + int(run["horizon_months"]) - 1
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def cohort_rows(summary: dict) -> list[tuple[str, list[Row]]]:
    """Per cohort: P(impaired by the horizon) and expected loss per standard, median first month, TCO per delivered GPU-hour, NPV."""
    out = []
    stds = list(summary["run"]["standards"])
    for c in summary["run"]["cohorts"]:
        cells = []
        for s in stds:
            L = STANDARD_LABEL.get(s, s)
            cells += [stat_row(summary, "cohort", f"P(impaired) {L}", "pct", "cohorts", c, f"p_impairment_{s}", "horizon"),
                      stat_row(summary, "cohort", f"E[loss] {L}", "usd_m", "cohorts", c, f"expected_impairment_loss_usd_{s}"),
                      stat_row(summary, "cohort", f"median first impairment {L}", "month", "cohorts", c, f"first_impairment_month_{s}", "p50")]
        cells += [stat_row(summary, "cohort", "TCO per delivered GPU-hour", "usd_per_hour", "cohorts", c, "tco_usd_per_delivered_gpu_hour", "mean"),
                  stat_row(summary, "cohort", "NPV, mean", "usd_m", "cohorts", c, "npv_usd", "mean")]
        out.append((c, cells))
    return out


def csv_text(rows: list[Row]) -> str:
    """report/headline.csv: section, label, value, se, unit kind, the formatted texts and the summary.json key (JSON list).

    ``value`` and ``se`` are written with ``repr`` (every digit of the float in summary.json)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "figure", "value", "se", "format", "value_text", "se_text", "summary_key"])
    for r in rows:
        w.writerow([r.section, r.label, "" if r.value is None else (r.value if isinstance(r.value, str) else repr(float(r.value))),
                    "" if r.se is None else repr(float(r.se)), r.kind, r.text, r.se_text, r.key_json])
    return buf.getvalue()
