"""The provider-panel option of the price model (docs/priors.md, "Fourth attempt", "Fifth attempt").

Fast: no sampling. The panel's rows and the as-of cut, the median of a month's panel, the AR(1)
bookkeeping, the sum-to-zero offsets, the composition inputs worked out by hand on a small panel,
the composition draw in its deterministic limit and against its closed form (seeded, tolerance
5 standard errors, stated at the check), and the model's logp: the on-demand median no longer
depends on the latent level where the panel has its month (no double counting). "Fifth attempt"
(mix_noise="normal"): the option's guards, its Normal likelihood checked against scipy at the
initial point, and the forecast's product-mix draws against a standard normal (seeded, 5 SE).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from priors.models import price_dynamics as pdm
from priors.models.price import data as pdata
from priors.models.price.config import SHIPPED, PriceModelConfig
from priors.models.price.forecast import forecast_log_ratio
from priors.models.price import panel as ppn
from tests.priors._synthetic_posterior import forecast_posterior


def _rows(rows):
    """(YYYY-MM or '', generation, provider, price $/GPU-h) -> tidy provider_restated rows."""
    df = pd.DataFrame(rows, columns=["date", "generation", "entity", "value_low"])
    df["value_high"] = df["value_low"]
    df["series"] = "provider_restated"
    df["when"] = pd.to_datetime(df["date"].where(df["date"] != "", None) + "-15")
    df["dated"] = df["when"].notna()
    return df


def _mi(label):
    y, m = map(int, label.split("-"))
    return y * 12 + m - 1


def test_panel_rows_keep_the_grid_and_drop_undated_and_later_rows():
    rows = _rows([("2024-01", "A100", "a", 2.0), ("2024-01", "A100", "a", 8.0),  # duplicate: log mean = log 4
                  ("2024-02", "A100", "b", 1.0), ("2024-03", "A100", "a", 3.0),  # after the end month
                  ("", "A100", "c", 5.0), ("2024-02", "MI300X", "d", 1.0)])       # undated; not a generation
    panel, pairs = pdata.provider_panel_rows(rows, _mi("2023-12"), _mi("2024-02"))
    assert pairs == ["A100/a", "A100/b"]
    assert panel[["g", "t", "pair"]].values.tolist() == [[0, 1, 0], [0, 2, 1]]
    assert panel["y"].tolist() == pytest.approx([np.log(4.0), 0.0])


def test_panel_median_of_a_month_is_the_median_of_its_log_prices():
    panel = pd.DataFrame({"g": [0, 0, 0, 1, 1], "t": [3, 3, 3, 3, 3], "pair": [0, 1, 2, 3, 4],
                          "y": [0.1, 0.5, 0.3, 1.0, 2.0]})
    od, res = pdata.KINDS.index("median_on_demand"), pdata.KINDS.index("median_reserved")
    point = pd.DataFrame({"g": [0, 1, 0, 0], "t": [3, 3, 3, 4], "kind": [od, od, res, od]})
    got = pdata.panel_median_of_cells(panel, point)
    # A100: median of (0.1, 0.5, 0.3) = 0.3; H100: the mean of two = 1.5; reserved and a month without
    # panel rows: nan
    assert got[:2].tolist() == pytest.approx([0.3, 1.5])
    assert np.isnan(got[2:]).all()


def test_previous_row_and_lag_of_each_provider():
    panel = pd.DataFrame({"pair": [0, 0, 0, 1, 1], "t": [2, 3, 6, 0, 1]})
    prev, lag = ppn.panel_previous(panel)
    assert prev.tolist() == [-1, 0, 1, -1, 3]
    assert lag.tolist() == [0, 1, 3, 0, 1]
    with pytest.raises(ValueError, match="sorted"):
        ppn.panel_previous(panel.iloc[::-1])


def test_sum_to_zero_offsets_have_unit_sd_and_sum_to_zero():
    obs = pdata.PriceObs(months=["2024-01"], gen_has_data=np.ones(4, bool), ramp=np.zeros((4, 1)), entities=[],
                       point=pd.DataFrame(), interval=pd.DataFrame(), market=pd.DataFrame(), as_of=None,
                       panel_pairs=["A100/a", "A100/b", "A100/c", "H100/a"])
    C = ppn.sum_to_zero_matrix(obs)
    # a = C z, z ~ N(0, I): Cov(a) = C C^T. Within A100 (K = 3): unit variances, correlation -1/(K-1)
    # = -0.5, rows of C sum to 0 over the generation; H100 has one pair: a = 0.
    cov = C @ C.T
    assert np.diag(cov).tolist() == pytest.approx([1.0, 1.0, 1.0, 0.0])
    assert cov[0, 1] == pytest.approx(-0.5)
    assert C[:3, :3].sum(axis=0) == pytest.approx(np.zeros(3))


def _obs_with_panel(panel_rows, months):
    """A PriceObs whose only content is a panel: rows (month label, generation, provider, log price)."""
    start = _mi(months[0])
    pairs = sorted({f"{g}/{k}" for _, g, k, _ in panel_rows})
    panel = pd.DataFrame([{"g": pdata.GENERATIONS.index(g), "t": _mi(m) - start, "pair": pairs.index(f"{g}/{k}"), "y": y}
                          for m, g, k, y in panel_rows]).sort_values(["pair", "t"]).reset_index(drop=True)
    return pdata.PriceObs(months=months, gen_has_data=np.ones(4, bool), ramp=np.zeros((4, len(months) + 12)),
                        entities=[], point=pd.DataFrame(), interval=pd.DataFrame(), market=pd.DataFrame(),
                        as_of=months[-1], panel=panel, panel_pairs=pairs)


# A100 panel over 2024-01..2024-04 (the cutoff): a in every month; b in 01, 02, 04; c enters in 03.
# Retention at lag 1: months (01->02): {a,b} -> {a,b}: 2 of 2; (02->03): {a,b} -> {a,c}: 1 of 2;
# (03->04): {a,c} -> {a,b}: 1 of 2; pooled 4 / 6. Lag 2: (01->03) 1 of 2, (02->04) 2 of 2: 3 / 4.
# Lag 3: (01->04) 2 of 2: 1. Entry rate: c's first month (03) is after A100's first (01) and inside
# the 12-month window: 1 entry over 8 provider-months = 0.125. Pool weights: a 4, b 3, c 1.
SMALL = [("2024-01", "A100", "a", 0.0), ("2024-02", "A100", "a", 0.0), ("2024-03", "A100", "a", 0.0),
         ("2024-04", "A100", "a", 0.0), ("2024-01", "A100", "b", 0.2), ("2024-02", "A100", "b", 0.2),
         ("2024-04", "A100", "b", 0.2), ("2024-03", "A100", "c", -0.3)]
MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04"]


def test_composition_inputs_by_hand():
    comp = ppn.panel_composition(_obs_with_panel(SMALL, MONTHS), max_lag=4)
    assert comp.retention.tolist() == pytest.approx([4 / 6, 3 / 4, 1.0, 0.0])
    assert comp.entry_rate == pytest.approx(1 / 8)
    assert comp.current[0].tolist() == [0, 1]  # a and b quoted in 2024-04
    assert dict(zip(comp.pools[0].tolist(), comp.weights[0].tolist())) == {0: 4.0, 1: 3.0, 2: 1.0}
    assert comp.pair_lag.tolist() == [0, 0, 1]
    assert comp.p_keep(2)[0].tolist() == pytest.approx([4 / 6, 3 / 4])
    assert comp.p_new(2)[0].tolist() == pytest.approx([1 / 8, 1 - (7 / 8) ** 2])
    assert comp.p_new(1)[1].tolist() == [1.0]  # H100 has no pool: every slot is a new provider


def _draws(S, pairs, a, d, tau_a, s_w, phi):
    return {"provider_offset": np.tile(a, (S, 1)), "provider_deviation_last": np.tile(d, (S, 1)),
            "provider_offset_sd": np.full(S, tau_a), "provider_noise_sd": np.full(S, s_w),
            "provider_noise_persistence": np.full(S, phi)}


def test_composition_draw_in_its_deterministic_limit():
    # Every provider comes back every month (retention 1), no entrant, no innovation noise (s_w ~ 0):
    # the median of n = 3 is the median of the three providers' AR(1) continuations
    # a + phi^h (d - a): a = (0, 0.1, -0.1), d = (0.4, 0.1, -0.5), phi = 0.5 ->
    # h = 1: (0.2, 0.1, -0.3), median 0.1; h = 2: (0.1, 0.1, -0.2), median 0.1 (by hand).
    rows = [(m, "A100", k, 0.0) for m in MONTHS for k in ("a", "b", "c")]
    obs = _obs_with_panel(rows, MONTHS)
    comp = ppn.panel_composition(obs, max_lag=3)
    assert comp.retention.tolist() == [1.0, 1.0, 1.0] and comp.entry_rate == 0.0
    S = 50
    dr = _draws(S, 3, np.array([0.0, 0.1, -0.1]), np.array([0.4, 0.1, -0.5]), 0.0, 1e-12, 0.5)
    n = np.full((4, 2), 3.0)
    got = ppn.panel_composition_noise(obs, dr, n, np.random.default_rng(0))
    assert got[:, 0, 0] == pytest.approx(np.full(S, 0.1))
    assert got[:, 0, 1] == pytest.approx(np.full(S, 0.1))
    # one provider: one of the three continuations; the same seed gives the same kept order whatever n
    one = ppn.panel_composition_noise(obs, dr, np.full((4, 2), 1.0), np.random.default_rng(0))[:, 0, 0]
    assert set(np.round(one, 9)) <= {0.2, 0.1, -0.3}  # s_w = 1e-12: noise below 1e-9
    again = ppn.panel_composition_noise(obs, dr, np.full((4, 2), 1.0), np.random.default_rng(0))[:, 0, 0]
    assert (one == again).all()


def test_new_providers_have_the_offset_and_stationary_spread():
    # H100 has no panel: one new provider, a ~ N(0, tau_a) plus a stationary w with sd
    # s_w / sqrt(1 - phi^2): total sd sqrt(0.2^2 + 0.06^2 / (1 - 0.8^2)) = sqrt(0.04 + 0.01) = 0.22361.
    # With S = 20000 normal draws the sample sd has SE sd / sqrt(2 S) = 0.00112; tolerance 5 SE = 0.0056.
    obs = _obs_with_panel(SMALL, MONTHS)
    S = 20000
    dr = _draws(S, 3, np.zeros(3), np.zeros(3), 0.2, 0.06, 0.8)
    got = ppn.panel_composition_noise(obs, dr, np.full((4, 1), 1.0), np.random.default_rng(7))[:, 1, 0]
    assert np.std(got) == pytest.approx(np.sqrt(0.05), abs=5 * np.sqrt(0.05) / np.sqrt(2 * S))
    with pytest.raises(ValueError, match="PANEL_MAX_PROVIDERS"):
        ppn.panel_composition_noise(obs, dr, np.full((4, 1), 99.0), np.random.default_rng(7))


def test_the_median_does_not_count_the_panel_twice():
    # Tiny data: H100 on-demand medians and the panel behind them. With the panel option the medians'
    # log-likelihood must not change when the latent level moves (it is conditional on the panel);
    # without it, it must.
    pytest.importorskip("pymc")
    import pymc as pm

    from tests.priors.test_price_dynamics import _launches, _tidy

    rows = [{"date": f"2024-{m:02d}", "generation": "H100", "basis": "on_demand", "series": "market_median",
             "value_low": v, "value_high": v, "n_providers": 2} for m, v in zip(range(1, 5), [3.5, 3.4, 3.4, 3.3])]
    rows += [{"date": f"2024-{m:02d}", "generation": "H100", "basis": "on_demand", "series": "provider_restated",
              "entity": k, "value_low": v * f, "value_high": v * f}
             for m, v in zip(range(1, 5), [3.6, 3.6, 3.5, 3.5]) for k, f in (("p", 1.0), ("q", 1.2))]
    obs = pdata.prepare(_tidy(rows), _launches([]), "2024-04")
    assert len(obs.panel) == 8 and np.isfinite(obs.point["panel_med"]).all()
    for panel, should_move in ((True, False), (False, True)):
        # the fourth attempt's Student-t medians (the Normal ones: test_normal_mix_likelihood_...)
        model = pdm.build_model(obs, PriceModelConfig(provider_panel=panel, mix_noise="student_t"))
        logp_y = model.compile_logp(vars=[model["y"]])
        pt0 = model.initial_point()
        pt1 = dict(pt0)
        pt1["log_level_start"] = pt0["log_level_start"] + 0.3
        moved = not np.isclose(logp_y(pt0), logp_y(pt1))
        assert moved == should_move, panel
    assert {"panel_loglik", "provider_deviation_last"} <= set(pdm.build_model(obs, PriceModelConfig(provider_panel=True)).named_vars)


def test_forecast_of_a_panel_fit_is_level_path_plus_composition_plus_mix():
    # A fake panel posterior in the deterministic limit of test_composition_draw_in_its_deterministic_limit
    # (composition median 0.1 at h = 1 and 2), no walk (sigma 1e-12, no drift, no undercut) and a mix
    # term with mean mu_x = -0.05 and scale ~1e-12: the log ratio must be 0.1 - 0.05 = 0.05 in every draw.
    rows = [(m, "A100", k, 0.0) for m in MONTHS for k in ("a", "b", "c")]
    obs = _obs_with_panel(rows, MONTHS)
    S, G = 40, len(pdata.GENERATIONS)
    dr = _draws(S, 3, np.array([0.0, 0.1, -0.1]), np.array([0.4, 0.1, -0.5]), 0.0, 1e-12, 0.5)
    post = forecast_posterior(
        S, volatility=1e-12, obs_sd=1e-12, dof=30.0,
        median_mix_offset=(("chain", "draw", "generation"), np.full((1, S, G), -0.05)),
        **{k: (("chain", "draw", "provider_pair") if v.ndim == 2 else ("chain", "draw"), v[None]) for k, v in dr.items()},
    )
    post.attrs["provider_panel"] = 1

    class _Idata:
        posterior = post

    lr = forecast_log_ratio(_Idata, obs, 2, seed=1, n_providers=np.full(G, 3.0))
    assert lr[:, 0, :] == pytest.approx(np.full((S, 2), 0.05), abs=1e-9)
    with pytest.raises(ValueError, match="provider-panel"):
        forecast_log_ratio(_Idata, obs, 2, seed=1, n_providers=np.full(G, 3.0), noise_persistence=[0.5])


# ---- "Fifth attempt": a Normal product-mix noise on the panel path (mix_noise="normal") ----

def _tiny_panel_obs(extra_rows=()):
    """H100 on-demand medians of 2024-01..04 and the two providers behind them (as in
    test_the_median_does_not_count_the_panel_twice), plus ``extra_rows``."""
    from tests.priors.test_price_dynamics import _launches, _tidy

    rows = [{"date": f"2024-{m:02d}", "generation": "H100", "basis": "on_demand", "series": "market_median",
             "value_low": v, "value_high": v, "n_providers": 2} for m, v in zip(range(1, 5), [3.5, 3.4, 3.4, 3.3])]
    rows += [{"date": f"2024-{m:02d}", "generation": "H100", "basis": "on_demand", "series": "provider_restated",
              "entity": k, "value_low": v * f, "value_high": v * f}
             for m, v in zip(range(1, 5), [3.6, 3.6, 3.5, 3.5]) for k, f in (("p", 1.0), ("q", 1.2))]
    return pdata.prepare(_tidy(rows + list(extra_rows)), _launches([]), "2024-04")


def test_normal_mix_panel_model_is_the_default_and_the_mix_option_is_panel_only():
    # session 7 (docs/priors.md, "Adopted: the fifth attempt"): the shipped model is the panel model
    # with a Normal product-mix noise; without the panel the medians stay Student-t (the model before)
    assert SHIPPED.mix_noise == "normal" and SHIPPED.provider_panel is True
    obs = _tiny_panel_obs()
    default = pdm.build_model(obs)
    assert default.price_config.provider_panel and default.price_config.mix_noise == "normal" and "y_mix" in default.named_vars
    before = pdm.build_model(obs, PriceModelConfig(provider_panel=False))
    assert not before.price_config.provider_panel and before.price_config.mix_noise == "student_t" and "y" in before.named_vars
    assert "panel_loglik" not in before.named_vars
    with pytest.raises(ValueError, match="provider-panel"):
        pdm.build_model(obs, PriceModelConfig(provider_panel=False, mix_noise="normal"))
    with pytest.raises(ValueError, match="mix_noise"):
        pdm.build_model(obs, PriceModelConfig(provider_panel=True, mix_noise="laplace"))


def test_normal_mix_likelihood_is_normal_and_still_conditional_on_the_panel():
    pytest.importorskip("pymc")
    from scipy.stats import norm

    # one reserved median as well, so that both likelihood parts exist: it keeps its Student-t
    res = [{"date": "2024-03", "generation": "H100", "basis": "reserved", "series": "market_median",
            "value_low": 2.4, "value_high": 2.4, "n_providers": 2}]
    obs = _tiny_panel_obs(res)
    model = pdm.build_model(obs, PriceModelConfig(provider_panel=True, mix_noise="normal"))
    assert type(model["y_mix"].owner.op).__name__ == "NormalRV"
    assert type(model["y_t"].owner.op).__name__ == "StudentTRV"
    assert "y" not in model.named_vars
    od = obs.point.kind.values == pdata.KINDS.index("median_on_demand")
    assert len(model.coords["obs_mix"]) == od.sum() == 4 and len(model.coords["obs_t"]) == 1
    # the Normal's log density at the initial point, by hand: residual log M - panel median - mu_x,
    # scale sqrt(floor^2 + s_comp^2 n^-kappa) with n = 2 (the rows' provider count)
    pt0 = model.initial_point()
    logp_mix = model.compile_logp(vars=[model["y_mix"]])
    floor = np.exp(pt0["obs_sd_log__"])[pdata.KINDS.index("median_on_demand")]
    s_comp, kappa = np.exp(pt0["composition_sd_log__"]), np.exp(pt0["composition_exponent_log__"])
    sd = np.sqrt(floor**2 + s_comp**2 * 2.0 ** (-kappa))
    P = obs.point[od]
    resid = P.y.values - P.panel_med.values - pt0["median_mix_offset"][P.g.values]
    assert logp_mix(pt0) == pytest.approx(norm.logpdf(resid, 0.0, sd).sum(), rel=1e-6)
    # as in the Student-t version: the medians' likelihood does not move with the latent level
    pt1 = dict(pt0)
    pt1["log_level_start"] = pt0["log_level_start"] + 0.3
    assert logp_mix(pt0) == pytest.approx(logp_mix(pt1), rel=1e-12)


def _fake_panel_idata(S, nu, mix_noise=None):
    """A fake panel posterior: the deterministic composition limit of
    test_composition_draw_in_its_deterministic_limit (median 0.1 at h = 1), no walk, mix mean -0.05,
    the on-demand floor 0.1 and no composition term (so the mix noise's scale is 0.1)."""
    rows = [(m, "A100", k, 0.0) for m in MONTHS for k in ("a", "b", "c")]
    obs = _obs_with_panel(rows, MONTHS)
    G = len(pdata.GENERATIONS)
    dr = _draws(S, 3, np.array([0.0, 0.1, -0.1]), np.array([0.4, 0.1, -0.5]), 0.0, 1e-12, 0.5)
    post = forecast_posterior(
        S, volatility=1e-12, obs_sd=0.1, dof=nu,
        median_mix_offset=(("chain", "draw", "generation"), np.full((1, S, G), -0.05)),
        **{k: (("chain", "draw", "provider_pair") if v.ndim == 2 else ("chain", "draw"), v[None]) for k, v in dr.items()},
    )
    post.attrs["provider_panel"] = 1
    if mix_noise is not None:
        post.attrs["mix_noise"] = mix_noise

    class _Idata:
        posterior = post

    return _Idata, obs


def test_forecast_mix_noise_is_normal_whatever_the_median_dof():
    from scipy.stats import kurtosis, norm

    # The median dof is 1.5 (a t with no variance): with mix_noise="normal" the forecast must not use
    # it. z = (log ratio - 0.1 + 0.05) / 0.1 must be standard normal (S = 20000 seeded draws):
    #   mean: SE 1 / sqrt(S) = 0.0071, tolerance 5 SE = 0.035
    #   sd: SE 1 / sqrt(2 S) = 0.0050, tolerance 5 SE = 0.025
    #   excess kurtosis: SE sqrt(24 / S) = 0.035, tolerance 5 SE = 0.17
    #   10 % and 90 % quantiles (-/+1.2816): SE sqrt(p (1 - p) / S) / phi(1.2816) = 0.0121, tol. 5 SE = 0.060
    S = 20000
    idata, obs = _fake_panel_idata(S, nu=1.5, mix_noise="normal")
    G = len(pdata.GENERATIONS)
    lr = forecast_log_ratio(idata, obs, 2, seed=3, n_providers=np.full(G, 3.0))
    z = (lr[:, 0, 0] - 0.1 + 0.05) / 0.1
    assert z.mean() == pytest.approx(0.0, abs=5 / np.sqrt(S))
    assert z.std() == pytest.approx(1.0, abs=5 / np.sqrt(2 * S))
    assert kurtosis(z) == pytest.approx(0.0, abs=5 * np.sqrt(24 / S))
    q_se = np.sqrt(0.09 / S) / norm.pdf(norm.ppf(0.9))
    assert np.quantile(z, [0.1, 0.9]) == pytest.approx(norm.ppf([0.1, 0.9]), abs=5 * q_se)
    # the same fake fit without the "mix_noise" attribute, as files written before session 7 are (read as
    # price_dynamics.LEGACY_MIX_NOISE, the fourth attempt's Student-t, here with nu = 1.5): the same seed
    # gives draws whose largest |z| is far beyond any normal sample of this size (P(|z| > 10) ~ 1e-23)
    idata_t, _ = _fake_panel_idata(S, nu=1.5)
    z_t = (forecast_log_ratio(idata_t, obs, 2, seed=3, n_providers=np.full(G, 3.0))[:, 0, 0] - 0.05) / 0.1
    assert np.abs(z_t).max() > 10 and np.abs(z).max() < 6


def test_no_panel_rows_at_the_cutoff_falls_back_to_the_model_without_the_panel():
    # As of 2022-08 ... 2022-12 the data have quotes but no provider_restated row (the panel starts
    # 2023-01): the default (panel) model has nothing to identify there and its forecast nothing to draw
    # from, so build_model gives the model without the panel and says so (a `rackrisk fit --as-of 2022-08`
    # used to fail in the forecast with a KeyError on provider_deviation_last).
    from tests.priors.test_price_dynamics import _launches, _tidy

    rows = [{"date": f"2024-{m:02d}", "generation": "H100", "basis": "on_demand", "series": "market_median",
             "value_low": v, "value_high": v, "n_providers": 2} for m, v in zip(range(1, 5), [3.5, 3.4, 3.4, 3.3])]
    obs = pdata.prepare(_tidy(rows), _launches([]), "2024-04")
    assert len(obs.panel) == 0
    model = pdm.build_model(obs)
    assert model.price_config.provider_panel is False and model.provider_panel_fallback is True and model.price_config.mix_noise == "student_t"
    assert "y" in model.named_vars and "panel_loglik" not in model.named_vars and "y_mix" not in model.named_vars
    with_panel = pdm.build_model(_tiny_panel_obs())
    assert with_panel.price_config.provider_panel and not with_panel.provider_panel_fallback
