"""The two-step persistent median noise (docs/priors.md, "Backtest": persistent median noise).

Fast: no sampling. The persistence estimator (provider_spread.composition_persistence) on hand-built
panels whose answer is worked out below, its as-of cut, its bad input; the conditional noise
(price_dynamics.persistent_median_noise) against its closed form, seeded, with tolerances of
5 standard errors (stated at each check); and forecast_log_ratio's lag mapping on a fake posterior.
"""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

from priors.models import price_dynamics as pdm
from priors.models.price import data as pdata
from priors.models.price import noise as pnoise
from priors.models.price.forecast import forecast_log_ratio
from priors.models.provider_spread import composition_persistence

GENS = ["A100", "H100", "H200", "B200"]


def _panel(rows):
    """rows: (YYYY-MM, generation, provider, log price) -> tidy provider_restated rows."""
    df = pd.DataFrame(rows, columns=["date", "generation", "entity", "lv"])
    df["value_low"] = np.exp(df.pop("lv"))
    df["value_high"] = df["value_low"]
    df["series"] = "provider_restated"
    df["when"] = pd.to_datetime(df["date"] + "-15")
    df["dated"] = True
    return df


# Panel 1: providers a and b in 2024-01 and 2024-02, only a in 2024-03; b = a + 0.2 every month while
# the market moves (a: 0.7, 0.75, 0.72). The two-way fit is exact, so a provider's deviation from its
# month's level is its constant offset; centred over the 5 rows: a -0.08 (3 rows), b +0.12 (2 rows).
# phi_h = 1 at every lag (each provider's deviation is constant). Overlap fractions
# |K_t & K_t+h| / sqrt(|K_t| |K_t+h|): lag 1: (01, 02) 2 / sqrt(2 * 2) = 1, (02, 03) 1 / sqrt(2 * 1)
# = 0.70711, mean J_1 = 0.85355; lag 2: (01, 03) 1 / sqrt(2) = 0.70711. rho = J * phi.
PANEL_OVERLAP = [("2024-01", "A100", "a", 0.70), ("2024-01", "A100", "b", 0.90),
                 ("2024-02", "A100", "a", 0.75), ("2024-02", "A100", "b", 0.95),
                 ("2024-03", "A100", "a", 0.72)]


def test_rho_is_the_overlap_when_offsets_are_constant():
    res = composition_persistence(_panel(PANEL_OVERLAP), GENS, "2024-03", max_lag=3, min_pairs=1)
    assert res.offset_corr[:2] == pytest.approx([1.0, 1.0], abs=1e-9)
    assert res.overlap_frac[:2] == pytest.approx([(1 + 1 / np.sqrt(2)) / 2, 1 / np.sqrt(2)], abs=1e-9)
    assert res.rho[:2] == pytest.approx([0.853553, 0.707107], abs=1e-6)
    # lag 3: no pair of months three apart -> rho 0 (the fit's independent noise)
    assert res.n_month_pairs.tolist() == [2, 1, 0] and res.n_provider_pairs.tolist() == [3, 1, 0]
    assert res.rho[2] == 0.0


def test_rho_is_the_offset_correlation_when_the_panel_is_stable():
    # Panel 2: a and b in all three months, spread b - a = 0.2, 0.4, 0.2. The month level is their
    # mean, so a's deviation is -0.1, -0.2, -0.1 and b's +0.1, +0.2, +0.1 (generation mean 0). J = 1.
    # lag 1: pairs (-.1,-.2), (-.2,-.1), (.1,.2), (.2,.1): sum xy = 4 * 0.02 = 0.08, sum x^2 = sum y^2
    # = 2 * (0.01 + 0.04) = 0.1 -> phi_1 = 0.8; lag 2: (-.1,-.1), (.1,.1) -> phi_2 = 1.
    rows = [(m, "H100", "a", 1.0) for m in ("2024-01", "2024-02", "2024-03")]
    rows += [(m, "H100", "b", 1.0 + d) for m, d in (("2024-01", 0.2), ("2024-02", 0.4), ("2024-03", 0.2))]
    res = composition_persistence(_panel(rows), GENS, "2024-03", max_lag=2, min_pairs=1)
    assert res.overlap_frac == pytest.approx([1.0, 1.0], abs=1e-12)
    assert res.offset_corr == pytest.approx([0.8, 1.0], abs=1e-9)
    assert res.rho == pytest.approx([0.8, 1.0], abs=1e-9)


def test_rows_after_the_as_of_are_ignored():
    later = [("2024-04", "A100", "a", 3.0), ("2024-04", "A100", "c", -2.0), ("2024-05", "A100", "b", 0.0)]
    undated = _panel([("2024-02", "A100", "d", 5.0)]).assign(dated=False, when=pd.NaT)
    with_later = pd.concat([_panel(PANEL_OVERLAP + later), undated], ignore_index=True)
    a = composition_persistence(_panel(PANEL_OVERLAP), GENS, "2024-03", max_lag=3, min_pairs=1)
    b = composition_persistence(with_later, GENS, "2024-03", max_lag=3, min_pairs=1)
    assert b.to_dict() == a.to_dict()
    # and the later rows do count once the as-of reaches them
    c = composition_persistence(with_later, GENS, "2024-05", max_lag=3, min_pairs=1)
    assert c.n_month_pairs[0] > a.n_month_pairs[0]


def test_too_few_pairs_give_the_independent_noise():
    res = composition_persistence(_panel(PANEL_OVERLAP), GENS, "2024-03", max_lag=2)  # MIN_PAIRS = 5 > 3
    assert res.rho.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("as_of, max_lag, msg", [("2024-13", 2, "YYYY-MM"), ("june", 2, "YYYY-MM"), ("2024-03", 0, "max_lag")])
def test_bad_input_is_one_clear_message(as_of, max_lag, msg):
    with pytest.raises(ValueError, match=msg):
        composition_persistence(_panel(PANEL_OVERLAP), GENS, as_of, max_lag=max_lag)


N = 200_000


def test_conditional_noise_gaussian_closed_form():
    # nu = inf (normal noise): e_t | e_c ~ N(rho s_t / s_c e_c, s_t^2 (1 - rho^2)).
    # e_c = 0.1, s_c = 0.2, s_t = 0.15, rho = 0.6: mean 0.6 * 0.75 * 0.1 = 0.045, sd 0.15 * 0.8 = 0.12.
    # SE of the mean 0.12 / sqrt(N) = 2.7e-4; of the variance 0.0144 sqrt(2 / (N - 1)) = 4.6e-5; 5 SE each.
    xi = np.random.default_rng(11).standard_normal(N)
    e = pnoise.persistent_median_noise(0.1, 0.2, np.inf, 0.15, np.inf, 0.6, xi)
    assert abs(e.mean() - 0.045) < 5 * 0.12 / np.sqrt(N)
    assert abs(e.var(ddof=1) - 0.0144) < 5 * 0.0144 * np.sqrt(2 / (N - 1))
    # rho = 0: the independent noise, exactly s_t xi; rho = 1: e_t = (s_t / s_c) e_c, no new noise
    assert np.allclose(pnoise.persistent_median_noise(0.1, 0.2, np.inf, 0.15, np.inf, 0.0, xi[:100]), 0.15 * xi[:100], atol=1e-12)
    assert np.allclose(pnoise.persistent_median_noise(0.1, 0.2, np.inf, 0.15, np.inf, 1.0, xi[:100]), 0.075, atol=1e-12)


def test_conditional_noise_keeps_the_t_marginal_and_the_copula_correlation():
    # e_c ~ t(5) x 0.2; e_t drawn with nu_t = 8, s_t = 0.1, rho = 0.7. The copula keeps e_t's marginal:
    # Var = s_t^2 nu / (nu - 2) = 0.01 * 8 / 6; SE of a sample variance sigma^2 sqrt((2 + excess kurtosis)
    # / N), excess kurtosis of t(8) = 6 / (8 - 4) = 1.5. The normal scores correlate at rho; SE of a
    # correlation (1 - rho^2) / sqrt(N). 5 SE each.
    rng = np.random.default_rng(12)
    e_c = 0.2 * rng.standard_t(5, N)
    xi = rng.standard_normal(N)
    e_t = pnoise.persistent_median_noise(e_c, 0.2, 5.0, 0.1, 8.0, 0.7, xi)
    var = 0.01 * 8 / 6
    assert abs(e_t.var(ddof=1) - var) < 5 * var * np.sqrt(3.5 / N)
    from scipy.stats import norm, t

    z_c, z_t = norm.ppf(t.cdf(e_c / 0.2, 5)), norm.ppf(t.cdf(e_t / 0.1, 8))
    assert abs(np.corrcoef(z_c, z_t)[0, 1] - 0.7) < 5 * (1 - 0.49) / np.sqrt(N)


def _fake(S=50_000, gap=1):
    """A posterior with no drift, almost no volatility and normal-like noise (dof 1e6), and one
    A100 median of 4 providers `gap` months before the 3-month grid's cutoff, 0.1 above the latent path."""
    import xarray as xr

    G, T = len(GENS), 3
    z = np.zeros((1, S, G))
    c = dict(chain=[0], draw=np.arange(S), generation=GENS)
    post = xr.Dataset({
        "decline_rate_per_month": (("chain", "draw", "generation"), z), "volatility_per_month": (("chain", "draw", "generation"), z + 1e-9),
        "undercut_frac": (("chain", "draw"), np.zeros((1, S))),
        "obs_sd": (("chain", "draw", "kind"), np.full((1, S, len(pdata.KINDS)), 0.03)),
        "composition_sd": (("chain", "draw"), np.full((1, S), 0.4)), "composition_exponent": (("chain", "draw"), np.full((1, S), 2.0)),
        "log_level_end": (("chain", "draw", "generation"), z + 1.0),
        "noise_dof": (("chain", "draw", "noise_group"), np.full((1, S, 2), 1e6)),
        "log_market_price": (("chain", "draw", "generation", "month"), np.zeros((1, S, G, T)) + 1.0),
    }, coords={**c, "kind": pdata.KINDS, "noise_group": pdata.NU_GROUPS, "month": ["2024-01", "2024-02", "2024-03"]})
    months = ["2024-01", "2024-02", "2024-03"]
    market = pd.DataFrame({"generation": ["A100"], "price": [np.exp(1.1)], "n_providers": [4.0], "month": [months[T - 1 - gap]]})
    obs = types.SimpleNamespace(months=months, T=T, market=market, ramp=np.zeros((G, T + 12)))
    return types.SimpleNamespace(posterior=post), obs


def test_forecast_uses_the_lag_from_the_last_median():
    # noise sd at 4 providers: s = sqrt(0.03^2 + 0.4^2 / 4^2) = sqrt(0.0009 + 0.01) = 0.104403 for both
    # months (same count), e_c = 0.1 for every draw. Last median one month before the cutoff, so the
    # target h = 1 is lag 2: mean rho_2 e_c = 0.5 * 0.1 = 0.05, sd s sqrt(1 - 0.25) = 0.090416; h = 2 is
    # lag 3, beyond the array: rho 0, mean 0, sd s. SE of the mean sd / sqrt(S); 5 SE.
    idata, obs = _fake()
    S = idata.posterior.sizes["draw"]
    lr = forecast_log_ratio(idata, obs, 2, seed=3, n_providers=np.full(len(GENS), 4.0), noise_persistence=[0.9, 0.5])
    s = np.sqrt(0.0009 + 0.01)
    a = lr[:, GENS.index("A100")]
    assert abs(a[:, 0].mean() - 0.05) < 5 * s * np.sqrt(0.75) / np.sqrt(S)
    assert a[:, 0].std() == pytest.approx(s * np.sqrt(0.75), rel=5 * np.sqrt(0.5 / S))
    assert abs(a[:, 1].mean()) < 5 * s / np.sqrt(S)
    assert a[:, 1].std() == pytest.approx(s, rel=5 * np.sqrt(0.5 / S))


def test_issued_and_scored_forecasts_share_their_draws():
    # the same seed: the scored forecast (other provider counts) moves only the noise's scale, so with
    # the same counts both are identical, and the walk part never changes
    idata, obs = _fake(S=2000)
    a = forecast_log_ratio(idata, obs, 2, seed=5, noise_persistence=[0.9, 0.5])
    b = forecast_log_ratio(idata, obs, 2, seed=5, n_providers=pdata.cutoff_providers(obs), noise_persistence=[0.9, 0.5])
    assert np.array_equal(a, b)
    c = forecast_log_ratio(idata, obs, 2, seed=5, n_providers=np.full(len(GENS), 9.0), noise_persistence=[0.9, 0.5])
    assert not np.array_equal(a, c) and np.array_equal(np.sign(a[:, 1:, 1]), np.sign(c[:, 1:, 1]))


def test_persistence_needs_the_latent_path():
    idata, obs = _fake(S=10)
    idata.posterior = idata.posterior.drop_vars("log_market_price")
    with pytest.raises(ValueError, match="log_market_price"):
        forecast_log_ratio(idata, obs, 2, noise_persistence=[0.5])
