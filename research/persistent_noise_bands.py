"""Diagnostic for docs/priors.md, "Third attempt" (not a variant to adopt; no option of the code).

Fits price_dynamics once per origin (2024-06, 2024-09, 2024-12; the rolling backtest's seeds and
sampler settings, so the fits are the shipped backtest's), then scores the same forecast draws with
the target month's median noise (a) independent (the shipped backtest), (b) persistent with the
panel's rho_h (``backtest(..., median_noise="persistent")``) and (c) rho = 1 at every lag, the bound
of a noise that never changes (not an estimate: shown only to say how much any persistence could
narrow the bands). Prints, per origin and scored generation, the 80 % band of the scored predictive
over the last median before the cutoff at h = 1 and 6 (and the band of the random walk alone, with
the posterior median volatility), and pooled and per-origin coverage and CRPS for each.

Run: ``python -m research.persistent_noise_bands`` (about 4-6 minutes on 2 cores); the
output of 2026-11-26 is results/backtest_persistent_noise/bands.json.
"""
import json
import numpy as np
import pandas as pd
from priors import backtest as bt
from priors.models import price_dynamics as pdm
from priors.models.price import data as pdata
from priors.models.price.config import PriceModelConfig
from priors.models.price.draws import posterior_draws
from priors.models.price.forecast import forecast_log_ratio
from priors.observations_io import read_table
from research.backtest_variants import PRE_S7_SAMPLE

ORIGINS = ["2024-06", "2024-09", "2024-12"]
H = 6
SEED = 20261126


def main() -> None:
    full = bt.market_series(read_table("rental_prices"))
    full["mi"] = full["month"].map(bt._mi)
    out = {}
    for i, o in enumerate(ORIGINS):
        seed = SEED + i
        obs = pdm.load_observations(o)
        idata, _, _ = bt.fit_as_of(obs, seed, PRE_S7_SAMPLE, PriceModelConfig(provider_panel=False))  # as run then: the model without the panel
        pers = bt.noise_persistence(obs, o, H)
        cut = bt._mi(o)
        n_issue = pdata.cutoff_providers(obs)
        n_target = np.repeat(n_issue[:, None], H, axis=1)
        for g, gen in enumerate(pdata.GENERATIONS):
            for h in range(H):
                hit = full[(full["generation"] == gen) & (full["mi"] == cut + h + 1)]["n_providers"].dropna()
                if len(hit): n_target[g, h] = float(hit.iloc[0])
        sig = posterior_draws(idata, "volatility_per_month")
        for mode, rho in (("independent", None), ("panel", pers.rho), ("rho=1", np.ones_like(pers.rho))):
            lr, level = forecast_log_ratio(idata, obs, H, seed=seed, max_samples=4000, return_level=True, n_providers=n_target, noise_persistence=rho)
            pre = full[full["mi"] <= cut]; post = full[(full["mi"] > cut) & (full["mi"] <= cut + H)]
            rows = []
            for g, gen in enumerate(pdata.GENERATIONS):
                p_g, q_g = pre[pre["generation"] == gen], post[post["generation"] == gen]
                if p_g.empty or q_g.empty: continue
                p_last = float(p_g.iloc[-1]["price"])
                for hh in (1, 6):
                    x = np.exp(level[:, g] + lr[:, g, hh - 1]) / p_last
                    lo, hi = np.quantile(x, [0.1, 0.9])
                    walk = 1.2816 * np.median(sig[:, g]) * np.sqrt(hh)
                    out.setdefault(f"{o} {gen} h={hh}", {})[mode] = f"{lo:.3f}-{hi:.3f}"
                    out[f"{o} {gen} h={hh}"]["walk only (median sigma)"] = f"{np.exp(-walk):.3f}-{np.exp(walk):.3f}"
                for _, ob in q_g.iterrows():
                    hh = int(ob["mi"]) - cut
                    x = np.exp(level[:, g] + lr[:, g, hh - 1]) / p_last; y = float(ob["price"]) / p_last
                    rows.append({lv: bool(np.quantile(x, (1 - lv) / 2) <= y <= np.quantile(x, (1 + lv) / 2)) for lv in (0.5, 0.8, 0.95)} | {"crps": bt.crps_samples(x, y)})
            df = pd.DataFrame(rows)
            out.setdefault("coverage", {}).setdefault(mode, []).append(df)
    res = {k: v for k, v in out.items() if k != "coverage"}
    for mode, dfs in out["coverage"].items():
        d = pd.concat(dfs)
        res[f"pooled {mode}"] = {"cov50/80/95": [round(d[l].mean(), 3) for l in (0.5, 0.8, 0.95)], "inside80": int(d[0.8].sum()), "crps": round(d["crps"].mean(), 4),
                                 "per origin 80": [round(x[0.8].mean(), 3) for x in dfs], "per origin crps": [round(x["crps"].mean(), 4) for x in dfs]}
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
