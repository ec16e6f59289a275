"""Credit against closed forms: breach and default probabilities in a lognormal case, and cure rights.

Lognormal case: one cohort of 100 GPUs whose price is drawn once per path from a lognormal
(median $2.00, sigma_log 0.2) and then held (no drift, no volatility, utilization 1, no failures, no
operating cost), so CFADS is 73,000 x price every month. A $1.2m straight-line loan over 12 months at
1 %/month has debt service 112,000, 111,000, ..., falling every month, so the monthly point-in-time
DSCR rises and the month-1 test decides everything:

    P(default)  = P(73,000 x price / 112,000 < 1.25) = Phi(ln(1.25 x 112,000 / 73,000 / 2.0) / 0.2)
                  (below 1.25 the test fails with no cure; below 1.00 the payment itself fails)
    P(covenant breach) = Phi(z_1.25) - Phi(z_1.00)   (a payment default comes before the test)
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from tests._util import run, write_scenario

SL_12 = """
[[financing.facility]]
name = "L"
principal_usd = 1200000
first_draw_month = "2026-01"
tenor_months = 12
amortization = "straight_line"
fixed_rate_annual_frac = 0.12
collateral_cohorts = ["c1"]
[financing.facility.covenants]
min_dscr = 1.25
test_every_months = 1
"""


def test_breach_and_default_probability_lognormal_closed_form(tmp_path):
    n = 4000
    p = write_scenario(
        tmp_path, horizon=12, life=60, capex=30000.0, units=100, price='{ dist = "lognormal", median = 2.0, sigma_log = 0.2 }',
        decline=0.0, vol=0.0, util=1.0, afr=0.0, extra=SL_12,
    )
    r = run(p, paths=n, seed=11)
    z = lambda k: math.log(k * 112000 / 73000 / 2.0) / 0.2  # noqa: E731
    p_default = norm.cdf(z(1.25))  # 0.4169
    p_breach = norm.cdf(z(1.25)) - norm.cdf(z(1.0))  # 0.3244
    c = r.summary["credit"]["facilities"]["L"]
    for got, want in ((c["p_default"]["horizon"], p_default), (c["p_covenant_breach"]["horizon"], p_breach)):
        se = math.sqrt(want * (1 - want) / n)  # binomial SE at the true p: ~0.0078 and ~0.0074
        assert abs(got["value"] - want) < 4.5 * se, (got, want, se)  # 4.5 SE: a false failure ~1 in 150,000
    # every default and breach is at the first test (month 1): the quarter table is flat after 2026Q1
    q = c["p_default"]["by_quarter"]
    assert q["2026Q1"]["value"] == q["2026Q4"]["value"] == c["p_default"]["horizon"]["value"]
    # path by path: default exactly when DSCR_1 = 73,000 x price / 112,000 < 1.25 (the price is an input)
    price = r.run.inputs[:, r.model.index("market.H100.price_usd_per_gpu_hour")]
    dflt = r.run.scalars["credit_default_month"][:, 0] > 0
    assert np.array_equal(dflt, 73000 * price / 112000 < 1.25)


@pytest.fixture(scope="module")
def cure_model(tmp_path_factory):
    """A compiled one-facility model (DSCR >= 1.2 tested monthly, point in time) and its JAX arrays."""
    from engine.compile import compile_model
    from engine.runner import _configure_jax
    from engine.scenario.load import load_scenario

    _configure_jax("float64")
    import jax.numpy as jnp

    from engine.kernel.path import consts as _consts

    d = tmp_path_factory.mktemp("cure")
    out = {}
    for cures in (0, 1):
        p = write_scenario(d, name=f"cure{cures}.toml", horizon=12, life=60, capex=30000.0, decline=0.0, vol=0.0, util=1.0, afr=0.0,
                           extra=SL_12.replace("min_dscr = 1.25", f"min_dscr = 1.2\nequity_cures = {cures}"))
        model = compile_model(load_scenario(p))
        out[cures] = (model, _consts(model, jnp.float64))
    return out


def _credit(cure_model, cures, cfads):
    import jax.numpy as jnp

    from engine.credit.path import credit_path

    model, A = cure_model[cures]
    T = model.T
    theta = jnp.zeros(len(model.inputs), jnp.float64)
    cf = jnp.asarray(np.asarray(cfads, float)[:, None])
    coll = jnp.full((T, 1), 500000.0)
    res, months = credit_path(A, theta, cf, jnp.zeros((T, 1)), coll)
    return {k: float(v[0]) for k, v in res.items()}


def test_cure_right_prevents_the_default_it_should(cure_model):
    # Month 4 CFADS 120,000 against debt service 109,000 (principal 100,000 + 1 % of 900,000): DSCR
    # 1.1009 < 1.2, but the payment is made. With one equity cure the sponsor puts in
    # 1.2 x 109,000 - 120,000 = 10,800.00 and there is no default; with none it is a covenant default:
    # EAD = balance after the month-4 payment 800,000.00; recovery = collateral 500,000 x (1 - 0.2) +
    # the month's cash left 11,000 = 411,000.00; loss 389,000.00; LGD 0.48625.
    cf = [146000.0] * 12
    cf[3] = 120000.0
    with_cure = _credit(cure_model, 1, cf)
    assert with_cure["credit_first_breach_month"] == 4
    assert with_cure["credit_default_month"] == 0
    assert with_cure["credit_cures_used"] == 1
    assert abs(with_cure["credit_equity_cure_usd"] - 10800.0) < 0.005
    assert abs(with_cure["credit_principal_paid_usd"] - 1200000.0) < 0.005  # repaid in full
    no_cure = _credit(cure_model, 0, cf)
    assert no_cure["credit_first_breach_month"] == 4 and no_cure["credit_default_month"] == 4
    assert abs(no_cure["credit_ead_usd"] - 800000.0) < 0.005
    assert abs(no_cure["credit_recovery_usd"] - 411000.0) < 0.005
    assert abs(no_cure["credit_loss_usd"] - 389000.0) < 0.005
    assert no_cure["credit_lgd_frac"] == pytest.approx(389000 / 800000, rel=1e-12)


def test_cures_run_out(cure_model):
    # Two failed tests (months 4 and 8) and one cure: the first is cured, the second defaults.
    # Month 8 debt service 100,000 + 1 % x 500,000 = 105,000; EAD = 400,000 after the payment.
    cf = [146000.0] * 12
    cf[3] = cf[7] = 120000.0
    res = _credit(cure_model, 1, cf)
    assert res["credit_first_breach_month"] == 4 and res["credit_default_month"] == 8
    assert res["credit_cures_used"] == 1
    assert abs(res["credit_ead_usd"] - 400000.0) < 0.005


def test_pledged_contracted_cash_flow_only(cure_model):
    # A facility that pledges only the contracts' cash flow sees the contracted CFADS: with the whole
    # cash flow at 146,000 but the contracted part at 110,000 in month 4 (debt service 109,000), the
    # DSCR test at 1.2 fails on the contracted basis (110,000 / 109,000 = 1.009) and not on the whole.
    import jax.numpy as jnp

    from engine.credit.path import credit_path

    model, A = cure_model[0]
    T = model.T
    theta = jnp.zeros(len(model.inputs), jnp.float64)
    whole = jnp.full((T, 1), 146000.0)
    con = np.full((T, 1), 146000.0)
    con[3, 0] = 110000.0
    coll = jnp.full((T, 1), 500000.0)
    zero = jnp.zeros((T, 1))
    res_all, _ = credit_path(A, theta, whole, zero, coll, jnp.asarray(con))
    assert float(res_all["credit_first_breach_month"][0]) == 0  # pledged_cash_flow = "all": the whole cash flow
    A_con = dict(A, fin_cfads_contracted=jnp.ones(1))
    res_con, _ = credit_path(A_con, theta, whole, zero, coll, jnp.asarray(con))
    assert float(res_con["credit_first_breach_month"][0]) == 4 and float(res_con["credit_default_month"][0]) == 4
    assert float(res_con["credit_min_tested_dscr"][0]) == pytest.approx(110000 / 109000, rel=1e-12)
