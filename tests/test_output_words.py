"""What the terminal tables and charts say beside their numbers (issue 20, "Outputs that cannot be misread"):
capex-check's censored breakevens and its SE, the credit table's definitions, default causes and zero
LGD, the sensitivity formats and Sobol sample warnings, the report's spelled-out sources. Hand-built
inputs run through the real functions; each expected text is derived beside it.
"""

from __future__ import annotations

import ast
import math
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def _console():
    from rich.console import Console

    return Console(width=400, record=True)


# ------------------------------------------------------------------------------------------ capex-check
def _capex_report(util: list[float], u_min=0.01, u_max=0.95, m_min=0.05, m_max=5.0):
    """A one-generation report from 4 paths whose fleet breakeven utilization is ``util`` (criteria as drawn)."""
    from engine.capex.report import build_report

    P, G = len(util), 1
    u = np.array(util)
    be = {
        "p0_usd_per_gpu_hour": np.full((P, G), 2.0),
        "price_mult": np.array([[[0.8]], [[1.0]], [[m_max]], [[m_max]]]).repeat(3, axis=1),
        "pass_plan": np.ones((P, 3, G), bool),
        "censored_low": np.zeros((P, 3, G), bool),
        "censored_high": np.array([[[False]], [[False]], [[True]], [[True]]]).repeat(3, axis=1),
        "cloud_price_usd_per_gpu_hour": np.full(G, np.nan),
        "utilization": np.stack([u] * 3, axis=1),
        "pass_plan_fleet": np.ones((P, 3), bool),
        "util_censored_low": np.stack([u <= u_min] * 3, axis=1),
        "util_censored_high": np.stack([u >= u_max] * 3, axis=1),
    }
    model = SimpleNamespace(generations=("H100",))
    return build_report(model, be, plan_path="plan.toml", sha256="0" * 64, seed=1, n_paths=P, has_debt=False, u_max=u_max,
                        u_min=u_min, m_min=m_min, m_max=m_max)


def test_capex_censored_breakevens_print_as_bounds(monkeypatch):
    # 3 of 4 paths at the utilization ceiling 0.95: the p50 and p95 (numpy linear quantiles of
    # [0.6, 0.95, 0.95, 0.95]) sit on the ceiling and print as "≥ 95%" (before: "95%"), the p05
    # (0.6 + 0.15 x 0.35 = 0.6525) as a value; the price multiplier is at its ceiling 5 on paths 3 and 4,
    # so the price p95 (x 2.00 = 10.00) prints as "≥ 10.00"
    import engine.capex.report as cr

    rep = _capex_report([0.6, 0.95, 0.95, 0.95])
    assert rep["fleet_utilization"]["no_impairment"]["paths_censored_high"] == 3
    con = _console()
    monkeypatch.setattr("rich.console.Console", lambda *a, **k: con)
    cr.print_report(rep)
    out = con.export_text()
    assert "65% / ≥ 95% / ≥ 95%" in out
    assert "≥ 10.00" in out
    assert "fleet utilization (a) no ASC 360 impairment: 3 at the ceiling of 4 paths" in out
    # the SE of P(clears): at most 0.5 / sqrt(4) = 25.0 points; ±1 point needs 0.25 / 0.01^2 = 2,500 paths
    assert "at most ±25.0 points" in out and "±1 point needs 2,500 paths" in out


def test_paths_for_se():
    from engine.capex.report import max_prob_se, paths_for_se

    assert max_prob_se(400) == pytest.approx(0.025)  # 0.5 / 20
    assert paths_for_se(0.01) == 2500 and paths_for_se(0.025) == 400


# ---------------------------------------------------------------------------------------------- credit
def test_credit_table_has_no_import_circle_with_engine_table():
    tree = ast.parse((REPO / "engine/credit/table.py").read_text())
    mods = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "engine.table" not in mods


def _credit_summary(loss: list[float], cause: list[int]):
    """A one-facility credit block from 4 paths: defaults in month 3 where ``cause`` > 0, EAD 1,000,000."""
    from types import SimpleNamespace

    from engine.credit.summary import CREDIT_RISK_STATISTICS, FACILITY, credit_entity, credit_paths

    c = np.array(cause, float)
    d = c > 0
    loss_ = np.array(loss, float)
    col = lambda x: np.asarray(x, float)[:, None]  # noqa: E731  (P, F) = (4, 1)
    scalars = {"credit_first_breach_month": col(np.where(c == 2, 3.0, 0.0)), "credit_default_month": col(np.where(d, 3.0, 0.0)),
               "credit_loss_usd": col(loss_), "credit_ead_usd": col(np.where(d, 1e6, 0.0)), "credit_lgd_frac": col(np.where(d, loss_ / 1e6, np.nan)),
               "credit_default_cause": col(c)}
    model = SimpleNamespace(month_labels=("2026-01", "2026-02", "2026-03"))
    e = credit_entity(model, credit_paths(scalars), FACILITY, 0, stats=CREDIT_RISK_STATISTICS)
    e.update(min_tested_dscr={}, max_tested_ltv_frac={})
    return {"credit": {"quarters": ["2026Q1"], "facilities": {"L": e}, "portfolio": e}}


def test_credit_default_split_by_cause_and_zero_lgd_explained():
    from engine.credit.table import print_credit

    # paths: no default, payment default, covenant default, covenant default; every default fully recovered
    s = _credit_summary([0.0, 0.0, 0.0, 0.0], [0, 1, 2, 2])
    e = s["credit"]["facilities"]["L"]
    assert e["p_default"]["horizon"]["value"] == 0.75  # 3 of 4
    assert e["p_default_payment"]["horizon"]["value"] == 0.25 and e["p_default_covenant"]["horizon"]["value"] == 0.5
    assert e["p_default_fully_recovered"]["horizon"]["value"] == 0.75
    con = _console()
    print_credit(con, s)
    out = con.export_text()
    assert "by payment" in out and "by covenant" in out
    assert "A cured breach is no default" in out and "Recovery = collateral market value x (1 - haircut)" in out
    assert "L: LGD 0% and expected loss $0.0 M although it defaults on 75.0% ±21.7 of paths" in out  # SE sqrt(0.75 x 0.25 / 4) = 0.2165
    # a loss on one default: no zero-LGD sentence
    con = _console()
    print_credit(con, _credit_summary([0.0, 300000.0, 0.0, 0.0], [0, 1, 2, 2]))
    assert "LGD 0%" not in con.export_text()


def test_credit_table_cells_do_not_wrap():
    # 80 columns: a cell such as "294.6 ±2.4" stays on one line (no_wrap); before, wide cells wrapped onto two
    from rich.console import Console

    from engine.credit.table import print_credit

    con = Console(width=80, record=True)
    print_credit(con, _credit_summary([0.0, 0.0, 0.0, 0.0], [0, 1, 2, 2]))
    out = con.export_text()
    assert "75.0% ±21.7" in out


# --------------------------------------------------------------------------------------- sensitivity
def test_sensitivity_prints_money_not_exponents(capsys):
    from engine.sensitivity.text import print_rankings

    m = "expected_impairment_loss_usd_ias36"
    doc = {"tornado": {"base": {m: 1.778e8}, "rows": [{"input": "x", "metrics": {m: {"at_p10": 1.778e8, "at_p90": 2.5e8, "swing": 0.722e8}}}]}}
    print_rankings(doc, m)
    out = capsys.readouterr().out
    assert "e+08" not in out and "base $177.8m" in out and "$250.0m" in out  # 1.778e8 USD = $177.8m (engine/report/fmt.py usd_m)
    assert "swing $72.2m" in out


def test_sensitivity_chart_ticks_in_money():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from engine.sensitivity.text import money_axis

    fig, ax = plt.subplots()
    ax.barh([0], [0.72e8], left=1.778e8)
    money_axis(ax, "expected_impairment_loss_usd_ias36")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    plt.close(fig)
    assert ax.xaxis.get_offset_text().get_text() == ""  # no "1e8" offset
    assert all(lab.startswith("$") and lab.endswith("m") for lab in labels if lab)


def _saltelli(N: int, seed: int, f):
    rng = np.random.default_rng(seed)
    A, B = rng.uniform(size=(N, 2)), rng.uniform(size=(N, 2))
    AB = []
    for g in range(2):
        x = A.copy()
        x[:, g] = B[:, g]
        AB.append(f(x))
    return f(A), f(B), np.array(AB)


def test_sobol_small_sample_warns_in_words_not_numpy():
    from engine.sensitivity.sobol import sobol

    # f = x1 + 2 x2 on U(0,1)^2: S1 = ST = (1, 4) / 5 exactly; N = 16 rows cannot resolve that
    fA, fB, fAB = _saltelli(16, 3, lambda x: x[:, 0] + 2 * x[:, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # before: no words; a constant metric raised NumPy's 0/0 RuntimeWarning
        res = sobol(fA, fB, fAB, n_boot=200, seed=1)
        flat = sobol(np.ones(16), np.ones(16), np.ones((2, 16)), n_boot=50, seed=1)
    text = " ".join(res["warnings"])
    assert "N = 16 rows is a small Sobol sample" in text and "--sobol-paths" in text
    assert "paths evaluated" in text
    assert flat["warnings"] and "does not vary" in flat["warnings"][0] and all(math.isnan(v) for v in flat["S1"])
    # a large sample of the same function: the largest SE is below 0.05 and nothing is said
    fA, fB, fAB = _saltelli(20000, 3, lambda x: x[:, 0] + 2 * x[:, 1])
    big = sobol(fA, fB, fAB, n_boot=100, seed=1)
    assert big["ST"] == pytest.approx([0.2, 0.8], abs=5 * max(big["ST_se"]))  # closed form, 5 bootstrap SE
    assert not [w for w in big["warnings"] if "small" in w or "--sobol-paths" in w]


# ----------------------------------------------------------------------------------------- sources
def test_sources_spell_out_shorthand(tmp_path):
    from engine.report.sources import scenario_sources

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "hw.csv").write_text('quantity,value,source_url\npue,1.3,https://example.org/pue\n"tdp, rated",700,\n')
    s = tmp_path / "s.toml"
    s.write_text('# HW = data/hw.csv (HW:n = line n)\n[run]\nstart_month = "2026-01"  # brief: valuation date\n'
                 "[costs]\npue = 1.3  # HW:2 AI DC target\npower_draw_frac = 0.7  # HW:3 (no URL on that line); see HW\n")
    src = scenario_sources([str(s)])
    # before: "brief: valuation date", "HW:2 AI DC target"
    assert src["run.start_month"] == "scenario design choice (no external source): valuation date"
    assert src["costs.pue"] == f"{tmp_path.resolve() / 'data' / 'hw.csv'} line 2 (example.org/pue) AI DC target"
    assert src["costs.power_draw_frac"].startswith(f"{tmp_path.resolve() / 'data' / 'hw.csv'} line 3 (no URL")
    assert src["costs.power_draw_frac"].endswith(f"see {tmp_path.resolve() / 'data' / 'hw.csv'}")
