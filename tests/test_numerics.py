"""float32 (the default) against float64 on the baseline: summaries agree within Monte Carlo error.

Both runs use the same 32-bit draws (engine/random.py), so they differ only by arithmetic
precision: rounding of the drawn inputs, of the failure counts at the floor(m + s z + 1/2)
boundary (a one-GPU flip then carries through the path) and of the monthly sums. Sums over paths
are float64 in both (host side; engine/reduce.py for streamed runs), so float32 loses nothing there.
"""

from __future__ import annotations

import math

import numpy as np

from engine.app import run_scenario

ROOT_BASELINE = "scenarios/baseline.toml"
N = 4000


def test_float32_and_float64_baseline_agree_within_mc_error(tmp_path):
    import pathlib

    f64 = tmp_path / "baseline64.toml"
    f64.write_text(f'extends = "{pathlib.Path(ROOT_BASELINE).resolve()}"\n[run]\ndtype = "float64"\n')
    a = run_scenario(ROOT_BASELINE, paths=N, seed=8, store="paths", write=False)
    b = run_scenario(f64, paths=N, seed=8, store="paths", write=False)
    assert a.summary["run"]["dtype"] == "float32" and b.summary["run"]["dtype"] == "float64"
    fa, fb = a.summary["fleet"], b.summary["fleet"]
    checks = [
        fa["npv_usd"]["mean"], fb["npv_usd"]["mean"],
        fa["expected_impairment_loss_usd_asc360"], fb["expected_impairment_loss_usd_asc360"],
        fa["expected_impairment_loss_usd_ias36"], fb["expected_impairment_loss_usd_ias36"],
        fa["p_impairment_asc360"]["horizon"], fb["p_impairment_asc360"]["horizon"],
        fa["tco_usd_per_delivered_gpu_hour"]["mean"], fb["tco_usd_per_delivered_gpu_hour"]["mean"],
        fa["npv_usd"]["p05"], fb["npv_usd"]["p05"],
        fa["npv_usd"]["p95"], fb["npv_usd"]["p95"],
    ]
    for x, y in zip(checks[::2], checks[1::2]):
        # the rule for two independent estimates: 4 combined SEs
        assert abs(x["value"] - y["value"]) <= 4 * math.sqrt(x["se"] ** 2 + y["se"] ** 2), (x, y)
    # on the same draws they agree far more closely: path by path, the NPV difference averages below
    # 5 % of one SE of the mean (sd / sqrt(N)), so precision is never what limits an answer
    npv32 = a.run.scalars["npv_usd"].astype(np.float64).sum(axis=1)
    npv64 = b.run.scalars["npv_usd"].sum(axis=1)
    se = npv64.std(ddof=1) / math.sqrt(N)
    assert np.mean(np.abs(npv32 - npv64)) < 0.05 * se
    # and the impairment decisions (first month, both standards, every cohort) on 99 % of the paths or more
    same = np.all(a.run.scalars["first_impairment_month"] == b.run.scalars["first_impairment_month"], axis=(1, 2))
    assert same.mean() >= 0.99
