"""Rolling backtest of the price-model variants tried for calibration (docs/priors.md, "Backtest").

Runs the rolling backtest (origins 2024-06, 2024-09, 2024-12, horizon 6, seed 20261126) with
``price_dynamics.build_model(obs, VARIANTS[name])`` (a ``PriceModelConfig``) and the sampler settings of ``BACKTEST_KW[name]``.
Every variant states its model options and sampler settings in full (``PRE_S7`` and ``PRE_S7_SAMPLE``:
the shipped model and backtest settings before session 7, when the defaults changed to the fifth
attempt), so each name keeps meaning the run recorded under it in docs/priors.md:

* ``constant``: the model shipped before session 7 (its per-origin summaries give the median dof at
  each origin);
* ``order_statistic``: the noise of a median of n providers is Student-t with
  nu_eff(n) = nu_1 * ceil(n / 2) dof, nu_1 one provider's dof (``median_tail="order_statistic"``);
* ``vol_trend``: the monthly shock sd has a shared log-linear trend in calendar time and the forecast
  carries the volatility at the cutoff forward (``vol_trend=True``);
* ``both``: the two together;
* ``persistent_noise``: the shipped fit, with the target month's median noise drawn jointly with the
  cutoff median's (``backtest(..., median_noise="persistent")``: rho_h of the composition error from
  the provider panel as of each cutoff, ``provider_spread.composition_persistence``).
* ``provider_panel``: the provider panel (``provider_restated`` as of each cutoff) in the likelihood,
  y[k,g,t] = m[g,t] + a[k,g] + w[k,g,t] with w a per-provider AR(1), the on-demand medians scored on
  their product-mix part only, and the target median's noise the median over its providers
  (``PriceModelConfig(provider_panel=True)``; docs/priors.md, "Fourth attempt").
* ``provider_panel_tuned``: the same model with the sampler's fix for the gate (2000 tuning steps,
  target_accept 0.98 instead of ``BACKTEST_SAMPLE``'s 1000 and 0.95), every origin.
* ``provider_panel_normal_mix``: ``provider_panel_tuned`` with a Normal product-mix noise of the
  on-demand medians, in the likelihood and the forecast (``mix_noise="normal"``; docs/priors.md,
  "Fifth attempt"); the same sampler settings as ``provider_panel_tuned``.
* ``provider_panel_normal_mix_fix``: the same model with the sampling fix declared after its fit as of
  2024-06 failed the gate on R-hat (1.0101): 4 x 2000 draws (the shipped fit's draws a chain) instead
  of 4 x 1500, tuning and target_accept as ``provider_panel_tuned``; every origin.
  **The shipped model since session 7** (docs/priors.md, "Adopted: the fifth attempt"): its run is what
  ``rackrisk backtest`` now does by default.
* ``constant_draws2000``: the shipped model with the sampling fix declared in session 6 after its
  fit as of 2024-07 (monthly origins) failed the gate: 4 x 2000 draws instead of 4 x 1500, nothing
  else; every origin; reported as a separate, labelled run.
* ``provider_panel_normal_mix_ar1_drift``: ``provider_panel_normal_mix_fix`` (same sampler settings)
  with the decline an AR(1) around the pooled mean, integrated out in the fit and forgotten
  geometrically in the forecast (``drift="ar1"``, ``priors/models/price/drift.py``; docs/priors.md, "Sixth attempt").

Every parameter is estimated from the data before each cutoff, with the same code, priors and
settings for every origin; nothing is chosen from the months after a cutoff. Writes the usual
backtest files into OUT/<origin>/ and OUT/rolling_summary.*, and prints the pooled scores with each
origin's single-provider dof, volatility trend and gate.

Run: ``.venv/bin/python -m research.backtest_variants NAME [OUT] [--origins YYYY-MM,...]``
(default OUT /tmp/rackrisk_<NAME>; default origins ``ORIGINS``, the three of the earlier results;
about 2 minutes an origin on 2 cores). ``rolling`` seeds origin i of the list with SEED + i, so an
origin's seed depends on its place in the list. The monthly origins of docs/priors.md, "Monthly
origins (session 6)": ``--origins`` with ``MONTHLY_ORIGINS`` (2024-06 ... 2024-12).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from priors import backtest as bt
from priors.models.price.config import PriceModelConfig

ORIGINS = ["2024-06", "2024-09", "2024-12"]
MONTHLY_ORIGINS = [f"2024-{m:02d}" for m in range(6, 13)]  # session 6: rule fixed before scoring
HORIZON = 6
SEED = 20261126
# The shipped model and backtest sampler settings before session 7 (priors.backtest.BACKTEST_SAMPLE then)
PRE_S7 = PriceModelConfig(provider_panel=False)
PRE_S7_SAMPLE = {"draws": 1500, "tune": 1000, "chains": 4, "target_accept": 0.95}
VARIANTS = {
    "constant": PRE_S7,  # the model shipped before session 7 (its rolling_summary then)
    "order_statistic": PriceModelConfig(provider_panel=False, median_tail="order_statistic"),
    "vol_trend": PriceModelConfig(provider_panel=False, vol_trend=True),
    "both": PriceModelConfig(provider_panel=False, median_tail="order_statistic", vol_trend=True),
    "persistent_noise": PRE_S7,
    "provider_panel": PriceModelConfig(provider_panel=True, mix_noise="student_t"),
    "provider_panel_tuned": PriceModelConfig(provider_panel=True, mix_noise="student_t"),
    "provider_panel_normal_mix": PriceModelConfig(provider_panel=True, mix_noise="normal"),
    # the shipped model since session 7 (docs/priors.md, "Adopted: the fifth attempt")
    "provider_panel_normal_mix_fix": PriceModelConfig(provider_panel=True, mix_noise="normal"),
    "constant_draws2000": PRE_S7,  # the model shipped before; session 6's declared sampling fix (below)
    # docs/priors.md, "Sixth attempt": provider_panel_normal_mix_fix with the decline an AR(1) around the pooled mean
    "provider_panel_normal_mix_ar1_drift": PriceModelConfig(provider_panel=True, mix_noise="normal", drift="ar1"),
}
BACKTEST_KW = {"constant": {"sample_kw": dict(PRE_S7_SAMPLE)},
               "order_statistic": {"sample_kw": dict(PRE_S7_SAMPLE)},
               "vol_trend": {"sample_kw": dict(PRE_S7_SAMPLE)},
               "both": {"sample_kw": dict(PRE_S7_SAMPLE)},
               "persistent_noise": {"median_noise": "persistent", "sample_kw": dict(PRE_S7_SAMPLE)},  # an option of backtest() itself
               "provider_panel": {"sample_kw": dict(PRE_S7_SAMPLE)},
               # the sampling fix after the provider_panel fit as of 2024-09 failed the gate (2 divergences,
               # min bulk ESS 396): longer tuning and a smaller step, the same for every origin; nothing else
               "provider_panel_tuned": {"sample_kw": {**PRE_S7_SAMPLE, "tune": 2000, "target_accept": 0.98}},
               # "Fifth attempt": exactly provider_panel_tuned's settings (declared before scoring)
               "provider_panel_normal_mix": {"sample_kw": {**PRE_S7_SAMPLE, "tune": 2000, "target_accept": 0.98}},
               # its sampling fix after the 2024-06 fit's max R-hat 1.0101 failed the gate: more draws, nothing
               # else (= priors.backtest.BACKTEST_SAMPLE since session 7)
               "provider_panel_normal_mix_fix": {"sample_kw": {**PRE_S7_SAMPLE, "draws": 2000, "tune": 2000, "target_accept": 0.98}},
               # session 6 (monthly origins): declared after the shipped model's fit as of 2024-07 failed the
               # gate (max R-hat 1.016, min bulk ESS 321) and before this run: 4 x 2000 draws (the shipped
               # fit's SAMPLE draws) instead of BACKTEST_SAMPLE's 1500, nothing else; every origin; a
               # separate, labelled run (the pre-registered scores are the constant run's)
               "constant_draws2000": {"sample_kw": {**PRE_S7_SAMPLE, "draws": 2000}},
               # "Sixth attempt" (declared before scoring): exactly provider_panel_normal_mix_fix's settings
               "provider_panel_normal_mix_ar1_drift": {"sample_kw": {**PRE_S7_SAMPLE, "draws": 2000, "tune": 2000, "target_accept": 0.98}}}


def main(name: str, out: Path, origins: list[str] | None = None) -> dict:
    origins = list(ORIGINS if origins is None else origins)
    config = VARIANTS[name]
    res = bt.rolling(origins, HORIZON, out, SEED, config=config, **BACKTEST_KW.get(name, {}))
    per = {}
    for origin in origins:
        s = json.loads((out / origin / "summary.json").read_text())
        per[origin] = {"coverage_model": s["coverage_model"], "crps_model": s["crps_model"], "crps_rw": s["crps_rw"],
                       "posterior_means": s["posterior_means"], "diagnostics": s["diagnostics"],
                       "sampling_seconds": s["sampling_seconds"], "median_noise": s.get("median_noise")}
    return {"variant": name, "origins": origins, "model_options": config.as_dict(), "backtest_kw": BACKTEST_KW.get(name, {}), "pooled": res["pooled"], "calibrated_80": res["calibrated_80"],
            "crps_model_not_worse_than_rw": res["crps_model_not_worse_than_rw"], "per_origin": per}


def parse_args(argv: list[str]) -> tuple[str, Path, list[str]]:
    """NAME [OUT] [--origins YYYY-MM,YYYY-MM,...] (also --origins=...); origins default ``ORIGINS``."""
    import re

    pos, origins, i = [], list(ORIGINS), 0
    while i < len(argv):
        a = argv[i]
        if a == "--origins" or a.startswith("--origins="):
            if "=" in a:
                val = a.split("=", 1)[1]
            elif i + 1 < len(argv):
                val, i = argv[i + 1], i + 1
            else:
                sys.exit("--origins needs a comma-separated list of YYYY-MM")
            origins = [o.strip() for o in val.split(",") if o.strip()]
            bad = [o for o in origins if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", o)]
            if bad or not origins or len(set(origins)) != len(origins):
                sys.exit(f"--origins: distinct YYYY-MM months expected, got {val!r}")
        else:
            pos.append(a)
        i += 1
    if len(pos) > 2:
        sys.exit(f"unexpected arguments {pos[2:]!r}")
    name = pos[0] if pos else "order_statistic"
    if name not in VARIANTS:
        sys.exit(f"unknown variant {name!r}; one of: {', '.join(VARIANTS)}")
    out = Path(pos[1]) if len(pos) > 1 else Path(f"/tmp/rackrisk_{name}")
    return name, out, origins


if __name__ == "__main__":
    name, out, origins = parse_args(sys.argv[1:])
    print(json.dumps(main(name, out, origins), indent=2))
