"""Utilization as booking rate (issue 16, part 5): the measure classification of utilization.csv,
the booking-rate-only fit, and the shipped posterior against the data.

No MCMC here (the model samples in test_fleet_models.py and test_reproduce.py): the shipped
posterior is compared with an exact quadrature of the same model on the same rows, so the whole
file runs in a few seconds.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from priors.models import utilization
from priors.observations_io import OBS_DIR, read_table

ROOT = Path(__file__).resolve().parents[2]
FITTED = ROOT / "priors" / "fitted" / "utilization.nc"


def _derive_module():
    spec = importlib.util.spec_from_file_location("derive_fleet", OBS_DIR / "derive_fleet.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _raw() -> pd.DataFrame:
    return pd.read_csv(OBS_DIR / "utilization.csv", dtype={"date": str})


# ------------------------------------------------------------------------------ classification
def test_every_row_has_exactly_one_known_measure():
    raw, measures = _raw(), _derive_module().MEASURES
    assert "metric" not in raw  # one classification column, not two that could disagree
    assert raw["measure"].notna().all() and raw["measure"].isin(list(measures)).all(), set(raw["measure"]) - set(measures)
    # exactly one per source fact: no shared-data row is classed under two measures
    by_origin = raw.assign(origin=raw["origin"].str.split("; ")).explode("origin").groupby("origin")["measure"].nunique()
    assert (by_origin == 1).all(), by_origin[by_origin > 1]
    assert utilization.FITTED_MEASURE == "booking_rate" and utilization.FITTED_MEASURE in measures


def test_classification_rule_on_the_known_rows():
    raw = _raw().set_index("subject")["measure"]
    # the rule of README_fleet.md, row by row for the reports the issue names
    assert raw["CoreWeave A100 (2020 cohort) fully booked"] == "booking_rate"  # a provider's hours sold
    assert raw["CoreWeave Q1 2025 revenue / (GPUs x hours x H100 price)"] == "booking_rate"
    assert raw["self-hosted GPU off-peak/early-stage (painful)"] == "enterprise_cluster_utilization"
    assert raw["self-hosted GPU acceptable band"] == "enterprise_cluster_utilization"
    assert raw["Google TPUs 7-8 years old"] == "gpu_busy_time"  # own fleet in use, not hours sold
    assert raw["standard AI workload"] == "gpu_busy_time"
    assert raw["H100 optimized GEMM"] == "compute_utilization_mfu"
    # every 'mfu' row of the seed file is in the table, as compute_utilization_mfu
    hw = pd.read_csv(_derive_module().DATA / "seed" / "hardware_and_ops.csv", dtype=str, keep_default_na=False)
    mfu_lines = {f"seed/hardware_and_ops.csv:{i + 2}" for i in hw.index[hw["quantity"] == "mfu"]}
    t = _raw()
    kept = set(t.loc[t["measure"] == "compute_utilization_mfu", "origin"].str.split("; ").explode())
    assert mfu_lines and mfu_lines <= kept


def test_revenue_check_arithmetic():
    """The derived booking row recomputed from the shared files: revenue / (GPUs x hours x price)."""
    data = _derive_module().DATA
    fin = pd.read_csv(data / "financials" / "neocloud_financials.csv", dtype=str, keep_default_na=False)
    cw = fin[fin["entity"] == "CoreWeave"]
    rev = float(cw[(cw["metric"] == "revenue") & (cw["period"] == "Q1 2025")]["value"].iloc[0]) * 1e6
    gpus = float(cw[(cw["metric"] == "GPUs_deployed") & (cw["date"] == "2024-12-31")]["value"].iloc[0])
    rim = pd.read_csv(data / "market" / "rental_index_monthly.csv")
    px = rim[(rim["index_code"] == "GIX-H100") & rim["period"].isin(["2025-01", "2025-02", "2025-03"])]
    per_hour = rev / (gpus * 90 * 24)  # Q1 2025: 31 + 28 + 31 days
    row = _raw().set_index("subject").loc["CoreWeave Q1 2025 revenue / (GPUs x hours x H100 price)"]
    # the table rounds to 4 decimals: 5e-5 is half of its last digit
    assert abs(row["value_low"] - per_hour / px["raw_on_demand_median"].mean()) <= 5e-5
    assert abs(row["value_high"] - per_hour / px["reserved_raw_median"].mean()) <= 5e-5


# ------------------------------------------------------------------------ MFU never in the fit
def test_loader_fits_booking_rate_rows_only():
    table = read_table("utilization")
    obs = utilization.load_observations(None)
    seen = pd.concat([obs["intervals"], obs["points"]])
    assert len(seen) == int((table["measure"] == "booking_rate").sum()) >= 2
    assert (seen["measure"] == "booking_rate").all()
    not_booking = set(table.loc[table["measure"] != "booking_rate", "subject"])
    assert (table["measure"] == "compute_utilization_mfu").any() and not (set(seen["label"]) & not_booking)


def test_an_mfu_row_in_the_table_does_not_enter_the_fit(monkeypatch):
    """Inject an MFU row (and a busy-time row) into the table the loader reads: neither is fitted.
    Fails if select_fitted let another measure through or load_observations bypassed it."""
    import priors.observations_io as io

    real = io.read_table

    def with_decoys(name, **kw):
        df = real(name, **kw)
        decoys = pd.DataFrame([dict(subject="DECOY mfu", measure="compute_utilization_mfu", value_low=0.41, value_high=0.48),
                               dict(subject="DECOY busy", measure="gpu_busy_time", value_low=0.6, value_high=0.7)])
        return pd.concat([df, decoys], ignore_index=True)

    monkeypatch.setattr(io, "read_table", with_decoys)
    obs = utilization.load_observations(None)
    labels = set(obs["intervals"]["label"]) | set(obs["points"]["label"])
    assert labels and not any(lbl.startswith("DECOY") for lbl in labels)
    with pytest.raises(ValueError, match="measure"):
        utilization.select_fitted(pd.DataFrame({"subject": ["x"], "metric": ["fleet_utilization"], "value_low": [0.5], "value_high": [0.6]}))


# ------------------------------------------------------------------ the shipped posterior vs data
def _quadrature_posterior_mean(obs: dict) -> float:
    """E[mu | booking rows] for the model's prior and interval likelihood, by quadrature on a
    (mu, log kappa) grid: Beta_CDF(hi) - Beta_CDF(lo) per interval, Beta density per point."""
    from scipy import special, stats

    mu = np.linspace(0.0005, 0.9995, 1000)
    log_k = np.linspace(np.log(0.05), np.log(400.0), 800)  # Gamma(2, 0.1) mass outside < 1e-10
    m, lk = np.meshgrid(mu, log_k, indexing="ij")
    k = np.exp(lk)
    a, b = m * k, (1 - m) * k
    logp = stats.beta.logpdf(m, *utilization.MU_PRIOR) + stats.gamma.logpdf(k, utilization.KAPPA_PRIOR[0], scale=1 / utilization.KAPPA_PRIOR[1]) + lk
    eps = utilization.EPS
    for lo, hi in zip(obs["intervals"]["value_low"], obs["intervals"]["value_high"]):
        lo, hi = np.clip([float(lo), float(hi)], eps, 1 - eps)
        logp += np.log(np.clip(special.betainc(a, b, hi) - special.betainc(a, b, lo), 1e-300, None))
    for v in obs["points"]["value_low"]:
        logp += stats.beta.logpdf(np.clip(float(v), eps, 1 - eps), a, b)
    w = np.exp(logp - logp.max()).sum(axis=1)
    return float((w * mu).sum() / w.sum())


@pytest.fixture(scope="module")
def shipped():
    az = pytest.importorskip("arviz")
    idata = az.from_netcdf(FITTED)
    s = az.summary(idata, var_names=["utilization_mean"], kind="all", round_to="none").loc["utilization_mean"]
    return idata, s


def test_shipped_posterior_is_the_booking_rate_fit(shipped):
    """The shipped mean of mu equals the exact posterior mean given the booking rows within 4.5
    MCSE (false alarm ~7e-6 under the MCMC CLT), the rows selected here by measure. A shipped file
    fitted with an MFU or self-hosted row would miss it by far more than 4.5 MCSE (about 0.008)."""
    _, s = shipped
    table = read_table("utilization")
    booking = table.loc[table["measure"] == "booking_rate", ["value_low", "value_high"]]  # selected here, not by the loader
    exact = _quadrature_posterior_mean(utilization.make_observations(booking))
    assert abs(s["mean"] - exact) <= 4.5 * s["mcse_mean"], (s["mean"], exact, s["mcse_mean"])
    # the quadrature itself, on a case with a closed form: no data -> the prior mean alpha / (alpha + beta)
    empty = utilization.make_observations(pd.DataFrame({"value_low": [], "value_high": []}))
    a0, b0 = utilization.MU_PRIOR
    assert abs(_quadrature_posterior_mean(empty) - a0 / (a0 + b0)) <= 1e-3  # grid step 1e-3


def test_shipped_posterior_mean_is_near_the_booking_data(shipped):
    """Posterior mean of mu within 2 standard errors of the mean of the booking rows.

    Each row is read as Uniform(lo, hi) (variance (hi - lo)^2 / 12); the SE of the mean of n rows
    is sqrt((s^2 of the midpoints + mean within-row variance) / n). With n = 2 this SE is wide
    (about 0.12): the check guards against a fit on other measures (MFU rows average about 0.5,
    self-hosted bands 0.5), the quadrature test above is the exact one.
    """
    _, s = shipped
    rows = utilization.select_fitted(read_table("utilization"))
    lo, hi = rows["value_low"].astype(float), rows["value_high"].astype(float)
    mid = (lo + hi) / 2
    n = len(rows)
    se = np.sqrt((mid.var(ddof=1) + ((hi - lo) ** 2 / 12).mean()) / n)
    assert abs(s["mean"] - mid.mean()) <= 2 * se, (s["mean"], mid.mean(), se)
    # and the prior pulls toward its mean 2/3, never past it: the posterior mean lies between
    prior_mean = utilization.MU_PRIOR[0] / sum(utilization.MU_PRIOR)
    assert min(prior_mean, mid.mean()) <= s["mean"] <= max(prior_mean, mid.mean())


def test_shipped_file_records_seed_and_diagnostics(shipped):
    idata, _ = shipped
    assert int(idata.attrs["seed"]) == 20261126 and int(idata.attrs["rackrisk_gate_passed"]) == 1
    assert int(idata.sample_stats["diverging"].sum()) == 0


def test_documented_prior_interval():
    """The module docstring and docs/priors.md state Beta(4, 2): mean 0.667, 94 % 0.30-0.94."""
    from scipy import stats

    d = stats.beta(*utilization.MU_PRIOR)
    assert round(d.mean(), 3) == 0.667
    assert [round(float(q), 2) for q in d.ppf([0.03, 0.97])] == [0.30, 0.94]
