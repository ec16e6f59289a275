"""``rackrisk fit``'s gate covers a model's optional parameters when the fitted model has them.

price_dynamics has options (a volatility trend, the provider panel) whose parameters are not in its
``GATE_VARS``; ``price_dynamics.gate_vars(idata)`` adds those present. Here ``priors.fit.sample`` is
replaced by a synthetic posterior (no sampling): every GATE_VARS parameter well mixed (4 chains x 500
independent N(0, 1) draws: R-hat ~1.00, bulk ESS ~2000) and ``volatility_trend_per_year`` with its
chains centred 0, 0, 3, 3 sd apart (R-hat far above 1.01). The fit must refuse to save and name it.
"""

from __future__ import annotations

import numpy as np
import pytest


def _posterior(names, bad=None):
    import arviz as az

    rng = np.random.default_rng(0)
    post = {n: rng.standard_normal((4, 500)) for n in names}
    if bad:
        post[bad] = rng.standard_normal((4, 500)) + np.array([0.0, 0.0, 3.0, 3.0])[:, None]
    return az.from_dict(posterior=post, sample_stats={"diverging": np.zeros((4, 500), bool)})


def test_optional_parameter_failing_the_gate_is_named(monkeypatch, tmp_path):
    import priors.fit as F
    from priors.models import price_dynamics as pdm

    idata = _posterior(pdm.GATE_VARS, bad="volatility_trend_per_year")
    monkeypatch.setattr(F, "sample", lambda mod, **kw: (idata, None))
    with pytest.raises(F.GateError, match="volatility_trend_per_year"):
        F.fit("price_dynamics", out_dir=tmp_path)
    assert not list(tmp_path.iterdir())  # nothing saved
    assert "volatility_trend_per_year" in pdm.gate_vars(idata) and "volatility_trend_per_year" not in pdm.GATE_VARS
