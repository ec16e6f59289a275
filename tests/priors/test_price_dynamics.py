"""price_dynamics (issue 3, item 2) and its backtest (item 5): build, recovery, as-of, forecast file.

Small draws/tune and 2 chains with pinned seeds; the cost of a fit is mostly its compilation, so the file
samples two models only (the recovery fit and one backtest fit, whose posterior the other checks share).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pymc")

from priors.models import price_dynamics as pdm  # noqa: E402  (sets the XLA device count first)
from priors.models.price import data as pdata  # noqa: E402
from priors.models.price.forecast import forecast_log_ratio  # noqa: E402
from priors.observations_io import month_end, read_table  # noqa: E402
from tests.priors._synthetic_posterior import forecast_posterior  # noqa: E402

QS = [0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975]


def _sample(obs, draws, tune, seed, target_accept=0.9):
    import pymc as pm

    with pdm.build_model(obs):
        return pm.sample(draws=draws, tune=tune, chains=2, target_accept=target_accept, random_seed=seed,
                         nuts_sampler="numpyro", progressbar=False)


def _tidy(rows: list[dict]) -> pd.DataFrame:
    """Rows in the shape read_table returns (dated/when columns added)."""
    df = pd.DataFrame(rows)
    for col, default in (("provider_class", "neocloud"), ("entity", "gix"), ("product", "x"), ("n_providers", np.nan),
                         ("n_quotes", np.nan), ("trust", "B"), ("source", "synthetic")):
        df[col] = df[col].fillna(default) if col in df else default
    df["when"] = pd.to_datetime(df["date"] + "-15")
    df["dated"] = True
    return df


def _launches(rows):
    return pd.DataFrame([{"generation": g, "volume_month": m, "date": m + "-15"} for g, m in rows])


PANEL_OFFSETS = (0.10, 0.03, -0.05, -0.08)  # four providers' log offsets from the market level (sum 0)
PANEL_PHI, PANEL_INNOV_SD, MIX_MEAN, MIX_SD = 0.9, 0.03, -0.05, 0.02


def _simulate(decline, vol, undercut, *, seed=0, months=36, start="2022-01", n_quotes=30, panel=False):
    """Monthly on-demand medians for A100 and H100 from the model's own equations (no quotes).

    H100 ships in volume at month 11 (A100 undercut phases in from month 12), H200 at month 23
    (H100 undercut from month 24); the medians have small noise (30 quotes behind each).
    ``panel=True``: the shipped model's data instead (docs/priors.md, "Fourth attempt"): four providers
    per generation and month quote y_k = m + a_k + w_k (``provider_restated`` rows; offsets
    PANEL_OFFSETS summing to 0, w_k a stationary AR(1) with persistence PANEL_PHI and innovation sd
    PANEL_INNOV_SD), and the published median is exp(median_k y_k + x), x ~ N(MIX_MEAN, MIX_SD) its
    product-mix part, with n_providers = 4.
    """
    rng = np.random.default_rng(seed)
    y0, m0 = map(int, start.split("-"))
    mi0 = y0 * 12 + m0 - 1
    labels = [f"{(mi0 + t) // 12:04d}-{(mi0 + t) % 12 + 1:02d}" for t in range(months)]
    launches = _launches([("H100", labels[11]), ("H200", labels[23])])
    S = pdata.build_ramp(launches, mi0, months)
    rows = []
    a = np.asarray(PANEL_OFFSETS)
    for g, gen in enumerate(["A100", "H100"]):
        logp = np.log(2.0 + g)
        w = rng.normal(0.0, PANEL_INNOV_SD / np.sqrt(1 - PANEL_PHI**2), len(a))  # stationary start
        for t in range(months):
            if t:
                logp += -decline[gen] + np.log1p(-undercut) * (S[g, t] - S[g, t - 1]) + vol[gen] * rng.standard_normal()
                w = PANEL_PHI * w + PANEL_INNOV_SD * rng.standard_normal(len(a))
            if panel:
                y = logp + a + w
                rows += [{"date": labels[t], "generation": gen, "basis": "on_demand", "series": "provider_restated",
                          "entity": f"p{k}", "value_low": np.exp(v), "value_high": np.exp(v)} for k, v in enumerate(y)]
                noisy = np.median(y) + rng.normal(MIX_MEAN, MIX_SD)
                rows.append({"date": labels[t], "generation": gen, "basis": "on_demand", "series": "market_median",
                             "value_low": np.exp(noisy), "value_high": np.exp(noisy), "n_providers": len(a)})
            else:
                noisy = logp + 0.02 * rng.standard_normal()
                rows.append({"date": labels[t], "generation": gen, "basis": "on_demand", "series": "market_median",
                             "value_low": np.exp(noisy), "value_high": np.exp(noisy), "n_quotes": n_quotes})
    return _tidy(rows), launches


def _tiny_obs():
    """Six months of H100 medians (on-demand and spot) with a two-provider panel, one A100 quote and
    one one-sided H100 quote (an interval row), an H200 launch without prices: the sparse corner."""
    rows = [{"date": f"2024-{m:02d}", "generation": "H100", "basis": b, "series": "market_median",
             "value_low": v * f, "value_high": v * f, "n_quotes": 5, "n_providers": 2}
            for m, v in zip(range(1, 7), [3.5, 3.4, 3.4, 3.3, 3.2, 3.2]) for b, f in (("on_demand", 1.0), ("spot", 0.6))]
    # the two providers behind the on-demand medians (the shipped model's provider panel)
    rows += [{"date": f"2024-{m:02d}", "generation": "H100", "basis": "on_demand", "series": "provider_restated",
              "entity": k, "value_low": v * f, "value_high": v * f}
             for m, v in zip(range(1, 7), [3.6, 3.5, 3.5, 3.4, 3.3, 3.3]) for k, f in (("p", 0.95), ("q", 1.05))]
    rows += [{"date": "2024-03", "generation": "A100", "basis": "on_demand", "series": "quote", "entity": "lambda",
              "value_low": 1.29, "value_high": 1.29},
             {"date": "2024-04", "generation": "H100", "basis": "on_demand", "series": "quote", "entity": "aws",
              "provider_class": "hyperscaler", "value_low": 7.0, "value_high": np.nan}]  # one-sided bound
    return pdata.prepare(_tidy(rows), _launches([("H200", "2024-03")]), "2024-06")


def assert_samplable_at_the_start(model, seed: int) -> None:
    """The model's log density and its gradient, in the JAX graph NUTS (numpyro) runs, are finite at the
    initial point and at a jittered one (pm.sample's start: uniform(-1, 1) added to each transformed
    value), the check pm.sample makes before its first step (it raises SamplingError otherwise).
    Sampling itself is checked once per model by the fits below (its cost is the compilation)."""
    import jax
    from pymc.sampling.jax import get_jaxified_logp

    logp = jax.jit(jax.value_and_grad(get_jaxified_logp(model, negative_logp=False)))
    start = model.initial_point(random_seed=seed)
    rng = np.random.default_rng(seed)
    for jitter in (0.0, 1.0):
        x = [np.asarray(start[v.name]) + jitter * rng.uniform(-1, 1, np.shape(start[v.name])) for v in model.value_vars]
        value, grad = logp(x)
        assert np.isfinite(float(value)), jitter
        assert all(np.isfinite(np.asarray(g)).all() for g in grad), jitter


def test_builds_on_a_tiny_data_set_and_can_start_sampling():
    obs = _tiny_obs()
    assert len(obs.interval) == 1 and obs.months[-1] == "2024-06" and len(obs.panel) == 12
    model = pdm.build_model(obs)
    names = set(model.named_vars)
    assert {"provider_noise_persistence", "median_mix_offset"} <= names  # the panel path was built
    assert set(pdm.ENGINE_VARS) <= names
    assert list(model.coords["generation"]) == ["A100", "H100", "H200", "B200"]
    assert_samplable_at_the_start(model, seed=1)


@pytest.fixture(scope="module")
def backtest_2025_03(tmp_path_factory):
    """One backtest as of 2025-03 over 3 months (the shipped model sampled once, 2 x 150 draws): its result,
    output folder, and the fit it made (idata, model, observations), kept for the posterior checks."""
    from priors import backtest as bt

    out = tmp_path_factory.mktemp("backtest") / "a"
    fit_as_of, fits = bt.fit_as_of, []

    def keep_fit(obs, *args, **kw):
        fits.append((obs, *fit_as_of(obs, *args, **kw)))
        return fits[-1][1:]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bt, "fit_as_of", keep_fit)
        res = bt.backtest("2025-03", 3, out, seed=2, sample_kw=dict(draws=150, tune=200, chains=2))
    assert len(fits) == 1
    obs, idata, _seconds, model = fits[0]
    return res, out, idata, model, obs


def test_sampled_posterior_has_the_engine_variables_and_finalizes(backtest_2025_03):
    # the shipped model sampled (numpyro NUTS) on the data as of 2025-03: what `rackrisk fit` hands on
    _, _, idata, model, obs = backtest_2025_03
    post = idata.posterior
    assert "provider_noise_persistence" in post and "median_mix_offset" in post  # the panel path was built
    for var in pdm.ENGINE_VARS:
        assert var in post
    assert list(post["decline_rate_per_month"].coords["generation"].values) == ["A100", "H100", "H200", "B200"]
    assert (post["volatility_per_month"].values >= 0).all()
    f = post["undercut_frac"].values
    assert ((f >= 0) & (f < 1)).all()
    pdm.finalize(idata, obs, model, seed=1)
    assert idata.posterior_predictive["y"].shape[-1] == len(obs.point)
    assert idata.posterior_predictive["market_price_ratio"].sizes["horizon"] == 12


@pytest.mark.slow
def test_recovers_decline_volatility_and_undercut():
    # the shipped (default) model: the provider panel in the likelihood, Normal product-mix noise
    truth_decline = {"A100": 0.010, "H100": 0.020}
    truth_vol = {"A100": 0.04, "H100": 0.04}
    truth_cut = 0.20
    prices, launches = _simulate(truth_decline, truth_vol, truth_cut, seed=3, panel=True)
    obs = pdata.prepare(prices, launches, None)
    assert len(obs.panel) == 2 * 36 * 4 and np.isfinite(obs.point["panel_med"]).all()
    # 2 x 400 draws: enough for stable 95 % interval ends (ESS of a few hundred each)
    idata = _sample(obs, draws=400, tune=500, seed=5, target_accept=0.95)
    post = idata.posterior

    def interval(name, **sel):
        x = post[name].sel(**sel).values.ravel()
        return np.quantile(x, [0.025, 0.975])

    # Tolerance = the posterior's own central 95 % interval: with 36 months of a random walk
    # (monthly sd 0.04) the drift is known to about +-0.04/sqrt(35) ~ 0.007 per month, the
    # volatility to about +-25 %, and the undercut (two events, 6-month ramps) to about +-0.07;
    # a wider fixed tolerance would test nothing, a narrower one would fail by chance.
    for gen in ("A100", "H100"):
        lo, hi = interval("decline_rate_per_month", generation=gen)
        assert lo <= truth_decline[gen] <= hi, (gen, lo, hi)
        lo, hi = interval("volatility_per_month", generation=gen)
        assert lo <= truth_vol[gen] <= hi, (gen, lo, hi)
    lo, hi = interval("undercut_frac")
    assert lo <= truth_cut <= hi, (lo, hi)
    # and the interval is informative (the prior Beta(2, 8) 95 % interval is 0.03-0.48)
    assert hi - lo < 0.35
    # the panel's own parameters: the AR(1) persistence and the raw median's product-mix mean
    lo, hi = interval("provider_noise_persistence")
    assert lo <= PANEL_PHI <= hi, (lo, hi)
    for gen in ("A100", "H100"):
        lo, hi = interval("median_mix_offset", generation=gen)
        assert lo <= MIX_MEAN <= hi, (gen, lo, hi)


def test_as_of_excludes_later_and_undated_rows():
    full = read_table("rental_prices")
    assert (~full["dated"]).any(), "the table keeps undated rows (marked by an empty date)"
    assert (full["when"] > month_end("2024-06")).any()
    cut = read_table("rental_prices", as_of="2024-06")
    assert cut["dated"].all()
    assert (cut["when"] <= month_end("2024-06")).all()
    assert len(cut) < len(full)
    obs = pdm.load_observations("2024-06")
    assert obs.months[-1] == "2024-06"
    assert obs.point["t"].max() <= obs.T - 1 and obs.interval["t"].max() <= obs.T - 1
    assert obs.market["month"].max() <= "2024-06"
    # the B200 launch (2024-12) is not known as of 2024-06: no H200 undercut ramp yet
    assert set(obs.launches["generation"]) >= {"H100", "H200"} and "B200" not in set(obs.launches["generation"])
    assert obs.ramp[pdata.GENERATIONS.index("H200")].max() == 0.0
    # trust D never enters
    assert (read_table("rental_prices", keep_suspect=True)["trust"] == "D").any()
    assert not (full["trust"] == "D").any()


def test_forecast_quantiles_file(backtest_2025_03):
    from priors import backtest as bt

    # as of 2025-03 with 3 months: later medians exist (scored); a 2025-06 origin has none (file still written)
    res, out = backtest_2025_03[:2]
    fq = pd.read_csv(out / "forecast_quantiles.csv", dtype={"target_month": str})
    assert list(fq.columns) == ["generation", "target_month", "q", "price_ratio"]
    assert set(fq["generation"]) == set(pdata.GENERATIONS)
    assert sorted(fq["target_month"].unique()) == ["2025-04", "2025-05", "2025-06"]
    for _, grp in fq.groupby(["generation", "target_month"]):
        assert np.allclose(sorted(grp["q"]), QS)
        v = grp.sort_values("q")["price_ratio"].to_numpy()
        assert (np.diff(v) >= 0).all() and (v > 0).all()
    assert res["n_obs"] > 0
    for name in ("scores.csv", "summary.csv", "summary.json", "fan_chart.png"):
        assert (out / name).exists()
    assert 0.0 <= res["coverage_model"]["80"] <= 1.0 and res["crps_model"] > 0
    # each later median is scored with the noise of its own published provider count; the issued
    # forecast states the count it assumed (the last median's at the cutoff)
    sc = pd.read_csv(out / "scores.csv", dtype={"target_month": str})
    table = bt.market_series(read_table("rental_prices")).set_index(["generation", "month"])["n_providers"]
    for _, r in sc.iterrows():
        assert r["n_providers_target"] == table[(r["generation"], r["target_month"])]
        assert r["n_providers_cutoff"] == table[(r["generation"], "2025-03")]
    assert res["forecast_quantiles_noise"]["providers_assumed"]["H100"] == table[("H100", "2025-03")]
    assert "gate_passed" in res["diagnostics"]


def test_rescoring_with_other_provider_counts_keeps_the_draws():
    # forecast_log_ratio draws the same paths whatever the provider counts: only the noise scale
    # changes, so a bigger count gives a narrower predictive with the same median path (synthetic
    # posterior, no sampling)
    obs = pdm.load_observations("2024-06")
    rng = np.random.default_rng(0)
    S, G = 400, len(pdata.GENERATIONS)
    post = forecast_posterior(S, decline=0.01, volatility=0.05, undercut=0.1, obs_sd=0.02, composition_sd=0.6,
                              level=rng.normal(1.0, 0.01, (1, S, G)), dof=1e6)

    class _Idata:
        posterior = post

    few = forecast_log_ratio(_Idata, obs, 3, seed=4, n_providers=np.full(G, 2.0))
    many = forecast_log_ratio(_Idata, obs, 3, seed=4, n_providers=np.full((G, 3), 8.0))
    # noise sd sqrt(0.02^2 + 0.6^2 / n^2): 0.300 at n = 2, 0.078 at n = 8 -> the spread shrinks
    assert np.std(many[:, 0, 0]) < np.std(few[:, 0, 0])
    # same draws (walk shock 0.05 and the same t draw scaled by 0.300 or 0.078, nu ~ inf): the
    # correlation of the two one-month samples is (0.05^2 + 0.300 * 0.078) / sqrt((0.05^2 + 0.300^2)
    # (0.05^2 + 0.078^2)) = 0.92, against 0.05^2 / 0.0282 = 0.09 with independent draws; SE with
    # 400 samples ~ (1 - r^2) / sqrt(400) = 0.008 at 0.92: the threshold 0.8 is 15 SE below the one
    # and far above the other
    assert np.corrcoef(few[:, 0, 0], many[:, 0, 0])[0, 1] > 0.8


def test_crps_sample_estimator_matches_closed_form():
    # CRPS of N(0,1) at y=0 is (sqrt(2) - 1)/sqrt(pi) = 0.2337; 20k samples give ~+-0.003
    x = np.random.default_rng(0).standard_normal(20000)
    from priors.backtest import crps_samples

    assert abs(crps_samples(x, 0.0) - (np.sqrt(2) - 1) / np.sqrt(np.pi)) < 0.01


def test_derive_market_recreates_the_tables(tmp_path):
    from priors.observations import derive_market
    from priors.observations_io import OBS_DIR

    derive_market.main(["--out", str(tmp_path)])
    for name in ("rental_prices.csv", "launches.csv"):
        assert (tmp_path / name).read_bytes() == (OBS_DIR / name).read_bytes()


def test_launch_age_is_months_since_volume_launch_in_years():
    obs = pdm.load_observations("2024-06")
    age = pdata.launch_age_years(obs) + pdata.AGE_REF_YEARS
    t = obs.months.index("2024-06")
    # H100 volume shipments 2023-06 (launches.csv): 12 months later = 1.0 year; A100 launched 2020-05: 49 months
    assert age[pdata.GENERATIONS.index("H100"), t] == pytest.approx(1.0)
    assert age[pdata.GENERATIONS.index("A100"), t] == pytest.approx(49 / 12)
    # B200 (volume 2024-12) is not known as of 2024-06: no age, 0 after centring
    assert (pdata.launch_age_years(obs)[pdata.GENERATIONS.index("B200")] == 0).all()


def test_composition_noise_counts_providers_not_quotes():
    # the A100 median of 2023-01 rests on 18 quotes from 2 providers (rental_prices.csv): precision of 2
    obs = pdm.load_observations("2023-03")
    P = obs.point
    row = P[(P.g == pdata.GENERATIONS.index("A100")) & (P.kind == pdata.KINDS.index("median_on_demand"))
            & (P.t == obs.months.index("2023-01"))]
    assert len(row) == 1 and row.inv_n.iloc[0] == pytest.approx(1 / 2)


def test_coverage_uncertainty_resamples_whole_trajectories():
    from priors.backtest import coverage_uncertainty

    # trajectory A: 3 later observations inside the 80 % interval; trajectory B: 1 outside -> 3/4
    rows = pd.DataFrame({"as_of": ["2024-06"] * 4, "generation": ["A100"] * 3 + ["H100"],
                         **{f"model_in{k}": [True, True, True, False] for k in (50, 80, 95)}})
    u = coverage_uncertainty(rows, "model", n_boot=4000, seed=0)
    assert u["n_obs"] == 4 and u["n_trajectories"] == 2
    c = u["80"]
    assert c["coverage"] == 0.75
    # resampling 2 trajectories: BB (coverage 0) and AA (coverage 1) each have probability 1/4 > 5 %,
    # so the 5 % and 95 % bootstrap quantiles are exactly 0 and 1
    assert c["trajectory_bootstrap90"] == [0.0, 1.0]
    # Wilson 90 % interval for 3 of 4 by hand: z = 1.6449, z^2 = 2.7057; centre (0.75 + z^2/8) /
    # (1 + z^2/4) = 1.0882 / 1.6764 = 0.6491; half-width z sqrt(0.75*0.25/4 + z^2/64) / (1 + z^2/4)
    # = 1.6449 * sqrt(0.046875 + 0.042277) / 1.6764 = 0.2930
    lo, hi = c["wilson90_independent"]
    assert lo == pytest.approx(0.6491 - 0.2930, abs=2e-4) and hi == pytest.approx(0.6491 + 0.2930, abs=2e-4)
