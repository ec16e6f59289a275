"""The drift="ar1" option of the price model (docs/priors.md, "Sixth attempt": a drift that forgets).

Fast: no sampling. The option is off by default and leaves the default model's variables as they
were; it builds, and its random-walk potential equals the multivariate normal of the increments
with the AR(1) decline integrated out (checked against scipy at a point); the conditional law of the
last deviation against the joint Gaussian by brute force; the forecast's deviation in its
deterministic limit (phi^(gap+h) u_last) and, in a fake posterior, the forecast's expected decline
reverting from the generation's recent decline towards the pooled mean as the horizon grows
(closed form, seeded, tolerance 5 standard errors).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pymc")

from priors.models.price import drift as pdr  # noqa: E402
from priors.models import price_dynamics as pdm  # noqa: E402  (sets the XLA device count first)
from priors.models.price import data as pdata  # noqa: E402
from priors.models.price.config import SHIPPED, PriceModelConfig  # noqa: E402
from priors.models.price.forecast import forecast_log_ratio  # noqa: E402
from tests.priors._synthetic_posterior import forecast_posterior  # noqa: E402
from tests.priors.test_provider_panel import _tiny_panel_obs  # noqa: E402


def test_drift_option_is_off_by_default():
    assert SHIPPED.drift == "constant"
    obs = _tiny_panel_obs()
    model = pdm.build_model(obs)
    assert model.price_config.drift == "constant"
    assert "decline_rate_z" in model.named_vars and pdr.PERSISTENCE_VAR not in model.named_vars
    with pytest.raises(ValueError, match="drift"):
        pdm.build_model(obs, PriceModelConfig(drift="local_linear"))
    with pytest.raises(ValueError, match="vol_trend"):
        pdm.build_model(obs, PriceModelConfig(drift="ar1", vol_trend=True))


@pytest.mark.parametrize("panel", [False, True])
def test_ar1_model_builds_and_its_walk_is_the_integrated_mvnormal(panel):
    from scipy import stats

    obs = _tiny_panel_obs()
    kw = {"provider_panel": True, "mix_noise": "normal"} if panel else {"provider_panel": False}
    model = pdm.build_model(obs, PriceModelConfig(drift="ar1", **kw))
    assert model.price_config.drift == "ar1"
    assert pdr.PERSISTENCE_VAR in model.named_vars and "decline_rate_z" not in model.named_vars
    assert pdr.PERSISTENCE_VAR in pdm.OPTIONAL_GATE_VARS
    pt0 = model.initial_point()
    G, T = len(pdata.GENERATIONS), obs.T
    rng = np.random.default_rng(5)
    pt0["rw_increment"] = rng.normal(-0.01, 0.05, (G, T))
    pt0[f"{pdr.PERSISTENCE_VAR}_logodds__"] = np.array(1.2)
    pt0["decline_rate_sd_log__"] = np.array(np.log(0.02))
    assert np.isfinite(model.compile_logp()(pt0))
    outs = model.replace_rvs_by_values([model["random_walk"], model["volatility_per_month"], model["undercut_frac"],
                                        model["decline_rate_mean"], model["decline_rate_per_month"]])
    pot, sig, f, mu, r = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore",
                                          point_fn=False)(**pt0)
    assert np.allclose(r, mu)  # the engine's decline is the pooled mean in every generation
    tau, phi = 0.02, 1.0 / (1.0 + np.exp(-1.2))
    active, _, _ = pdata.active_mask(obs, panel)
    S = obs.ramp[:, :T]
    dS = np.diff(S, axis=1, prepend=S[:, :1]) * active
    want = 0.0
    for g in range(G):
        on = active[g] > 0
        want += stats.norm.logpdf(pt0["rw_increment"][g, ~on]).sum()
        idx = np.flatnonzero(on)
        if idx.size:
            cov = tau**2 * phi ** np.abs(np.subtract.outer(idx, idx)) + sig[g] ** 2 * np.eye(idx.size)
            want += stats.multivariate_normal(-mu + np.log1p(-f) * dS[g, idx], cov).logpdf(pt0["rw_increment"][g, idx])
    assert active.sum() >= 3
    assert float(pot) == pytest.approx(want, rel=1e-9)


def test_conditional_last_deviation_is_the_joint_gaussian_conditional():
    rng = np.random.default_rng(0)
    n = 6
    e = rng.normal(0, 0.05, (3, n))
    sig, tau, phi = np.array([0.03, 0.05, 0.04]), np.array([0.01, 0.02, 0.015]), np.array([0.3, 0.8, 0.95])
    mean, sd = pdr.conditional_last(e, sig, tau, phi)
    for s in range(3):
        K = tau[s] ** 2 * phi[s] ** np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
        joint = np.block([[K, -K], [-K, K + sig[s] ** 2 * np.eye(n)]])  # (u, e), e = -u + sig eps
        a, B = joint[n - 1, n:], joint[n:, n:]
        assert mean[s] == pytest.approx(a @ np.linalg.solve(B, e[s]), rel=1e-9)
        assert sd[s] ** 2 == pytest.approx(K[-1, -1] - a @ np.linalg.solve(B, a), rel=1e-9)
    m0, s0 = pdr.conditional_last(np.zeros((2, 0)), sig[:2], tau[:2], phi[:2])
    assert m0.tolist() == [0.0, 0.0] and s0.tolist() == tau[:2].tolist()


def test_drift_path_forgets_geometrically():
    u_last, phi, tau = np.array([0.02, -0.01]), np.array([0.5, 0.9]), np.array([0.01, 0.01])
    got = pdr.drift_path(u_last, phi, tau, gap=2, horizon=4, xi=np.zeros((2, 6)))
    want = u_last[:, None] * phi[:, None] ** (2 + np.arange(1, 5))[None, :]
    assert got == pytest.approx(want, rel=1e-12)


def _ar1_idata(S, obs, u_recent, mu, tau, phi):
    """A fake drift="ar1" posterior (no panel): pooled decline mu, every active increment of A100
    -(mu + u_recent) (a run of cuts), walk sd 1e-4 (so the increments pin u_last = u_recent), no
    undercut, no median noise."""
    G, T = len(pdata.GENERATIONS), obs.T
    active, _, _ = pdata.active_mask(obs, False)
    inc = np.where(active > 0, -(mu + u_recent), 0.0)
    post = forecast_posterior(
        S, decline=mu, volatility=1e-4, obs_sd=1e-12, dof=30.0,
        decline_rate_mean=(("chain", "draw"), np.full((1, S), mu)),
        decline_rate_sd=(("chain", "draw"), np.full((1, S), tau)),
        **{pdr.PERSISTENCE_VAR: (("chain", "draw"), np.full((1, S), phi))},
        rw_increment=(("chain", "draw", "generation", "month"), np.broadcast_to(inc, (1, S, G, T)).copy()),
    )

    class _Idata:
        posterior = post

    return _Idata


def test_forecast_decline_reverts_to_the_pooled_mean():
    # A100's increments say its recent decline is mu + u = 0.005 + 0.02 a month; with phi = 0.6 the
    # expected decline h months ahead is mu + phi^h u (0.017, 0.0122, ... -> 0.005), so the expected
    # log ratio is -(mu h + u (phi + ... + phi^h)) (closed form). The draws around it: u_last's
    # conditional sd (~1e-4 here) and the AR(1) innovations; tolerance 5 SE of the mean over S draws.
    # The constant-drift model would give -0.025 h.
    obs = pdm.load_observations("2024-06")
    S, mu, u, tau, phi, H = 4000, 0.005, 0.02, 0.01, 0.6, 12
    lr = forecast_log_ratio(_ar1_idata(S, obs, u, mu, tau, phi), obs, H, seed=4)[:, 0, :]
    h = np.arange(1, H + 1)
    want = -(mu * h + u * np.cumsum(phi**h))
    se = lr.std(axis=0, ddof=1) / np.sqrt(S)
    assert np.all(np.abs(lr.mean(axis=0) - want) < 5 * se + 1e-6)
    decline = -np.diff(np.r_[0.0, want])  # expected decline in month h
    assert decline[0] == pytest.approx(mu + phi * u) and decline[-1] == pytest.approx(mu, abs=1e-4)
    assert np.all(np.diff(decline) < 0)  # forgets monotonely towards the pooled mean
    # the same seed gives the same draws; the drift's draws leave the base's random numbers alone
    again = forecast_log_ratio(_ar1_idata(S, obs, u, mu, tau, phi), obs, H, seed=4)[:, 0, :]
    assert np.array_equal(lr, again)
