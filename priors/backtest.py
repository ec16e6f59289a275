"""Rolling-origin backtest of the rental price model (issue 3, item 5). Functions only, no CLI.

``backtest(as_of, horizon, out_dir, seed)`` fits ``price_dynamics`` on the data dated up to the
cutoff (``load_observations(as_of)``: later and undated rows dropped), forecasts each generation's
on-demand market price 1..H months ahead from the posterior predictive (parameter and process
uncertainty: drift, volatility, undercut ramps of launches known at the cutoff, and the median's
measurement noise), and scores the forecast against the observations after the cutoff.

* Target: the on-demand market price = the GIX raw on-demand median (``series == market_median``,
  ``basis == on_demand`` in ``rental_prices.csv``), read from the full table (no as-of).
* ``forecast_quantiles.csv``: ``generation, target_month, q, price_ratio`` with price_ratio = the
  market price in the target month over the model's level at the cutoff (the posterior latent
  level), for every generation, written even when no later observation exists.
* Scores, for each generation with a median at or before the cutoff and later medians within the
  horizon: coverage of the central 50/80/95 % intervals and the sample-based CRPS of the price
  relative to the last observed median before the cutoff (a scale-free CRPS, comparable across
  generations), for the model and for a naive baseline: a log random walk from the last observed
  median with zero drift and the sd of the generation's monthly log changes before the cutoff
  (pooled across generations when it has fewer than 3 changes). Model, baseline and observation
  share that one denominator; the model's predictive is its price draws (latent level at the
  cutoff x forecast ratio) over it. The scored predictive carries the measurement noise of the
  provider count published with each later median; the issued forecast (forecast_quantiles.csv)
  assumes the count of the last median at the cutoff (stated in summary.json), with the same draws.
* ``median_noise`` (default ``MEDIAN_NOISE``, "independent"): "persistent" draws the target month's
  median noise jointly with the noise of the last median at the cutoff (rho_h of the median's
  composition error from the provider panel dated at or before the cutoff; ``noise_persistence``),
  in the issued and the scored forecast alike, with the same draws; summary.json records rho_h.
* Files in ``out_dir``: ``forecast_quantiles.csv``, ``scores.csv`` (one row per scored
  observation), ``summary.csv`` and ``summary.json``, ``fan_chart.png``.

``rolling(origins, horizon, out_dir, seed)`` runs ``backtest`` per origin into ``out_dir/<origin>``
and pools the scored observations: ``rolling_summary.csv`` / ``.json`` say whether the model's 80 %
intervals cover 70-90 % of the later observations and whether its CRPS beats the random walk.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from priors.inference import draw_posterior, gate_summary
from priors.models import price_dynamics as pdm  # asks for the XLA host devices before jax loads
from priors.models.price import panel as ppn
from priors.models.price.config import SHIPPED, PriceModelConfig
from priors.models.price.data import GENERATIONS, cutoff_providers
from priors.models.price.forecast import forecast_log_ratio
from priors.observations_io import read_table

QUANTILES = [0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975]
LEVELS = [0.5, 0.8, 0.95]
TARGET_80 = (0.70, 0.90)
# The backtest samples with the fit's settings (4 x 2000 draws after 2000 tuning steps, target_accept
# 0.98). Each origin's summary records whether its fit passed the gate (``diagnostics.gate_passed``).
BACKTEST_SAMPLE = dict(pdm.SAMPLE)
RW_MIN_CHANGES = 3
# How the target month's median noise relates to the noise of the last median at the cutoff:
# "independent": independent draws (what the fit assumes); "persistent": drawn jointly with the
# cutoff median's noise, with the lag-h persistence rho_h of the median's composition error measured
# on the provider panel dated at or before the cutoff (provider_spread.composition_persistence; a
# two-step approximation: the fit is unchanged, the persistence enters the predictive only).
# docs/priors.md, "Backtest", says which is the default and why.
MEDIAN_NOISES = ("independent", "persistent")
MEDIAN_NOISE = "independent"


def _mi(label: str) -> int:
    y, m = map(int, label.split("-"))
    return y * 12 + m - 1


def crps_samples(x: np.ndarray, y: float) -> float:
    """Sample CRPS: E|X - y| - E|X - X'| / 2, with the O(n log n) sorted-sample form of E|X - X'|."""
    x = np.sort(np.asarray(x, float))
    n = x.size
    e1 = np.mean(np.abs(x - y))
    e2 = 2.0 * np.sum((2 * np.arange(1, n + 1) - n - 1) * x) / (n * n)
    return float(e1 - 0.5 * e2)


def market_series(df: pd.DataFrame) -> pd.DataFrame:
    """The on-demand market median per generation and month from a tidy rental_prices table."""
    m = df[(df["series"] == "market_median") & (df["basis"] == "on_demand") & df["dated"]
           & df["generation"].isin(GENERATIONS)].copy()
    m["price"] = pd.to_numeric(m["value_low"], errors="coerce")
    m["month"] = m["when"].dt.strftime("%Y-%m")
    m["n_providers"] = pd.to_numeric(m["n_providers"], errors="coerce") if "n_providers" in m else np.nan
    m = m.dropna(subset=["price"]).groupby(["generation", "month"], as_index=False).agg(price=("price", "median"), n_providers=("n_providers", "max"))
    return m.sort_values(["generation", "month"]).reset_index(drop=True)


def rw_volatility(pre: pd.DataFrame) -> dict[str, float]:
    """sd of consecutive-month log changes of each generation's median before the cutoff."""
    changes = {}
    for gen, sub in pre.groupby("generation"):
        mi = sub["month"].map(_mi).to_numpy()
        lp = np.log(sub["price"].to_numpy())
        ok = np.diff(mi) == 1
        changes[gen] = np.diff(lp)[ok]
    pooled = np.concatenate([v for v in changes.values()]) if changes else np.array([])
    pooled_sd = float(np.std(pooled, ddof=1)) if pooled.size >= 2 else 0.1
    return {g: (float(np.std(changes[g], ddof=1)) if g in changes and changes[g].size >= RW_MIN_CHANGES else pooled_sd)
            for g in GENERATIONS}


def fit_as_of(obs, seed: int, sample_kw: dict | None = None, config: PriceModelConfig = SHIPPED):
    """The price model of ``config`` sampled on ``obs`` (``inference.draw_posterior`` with BACKTEST_SAMPLE
    updated by ``sample_kw``), its options recorded for the forecast. Returns (idata, seconds, model)."""
    model = pdm.build_model(obs, config)
    idata, seconds = draw_posterior(model, seed=seed, sample_kw={**BACKTEST_SAMPLE, **(sample_kw or {})})
    pdm.record_options(idata, model)  # forecast_log_ratio follows the fit's options
    return idata, seconds, model


def _coverage(rows: pd.DataFrame, who: str) -> dict[str, float]:
    return {f"{int(lv * 100)}": float(rows[f"{who}_in{int(lv * 100)}"].mean()) if len(rows) else float("nan") for lv in LEVELS}


def coverage_uncertainty(rows: pd.DataFrame, who: str = "model", n_boot: int = 4000, seed: int = 0) -> dict:
    """How well the scored sample pins a coverage down. The later observations of one generation
    from one origin share one forecast path and move together, so they are not independent: the
    honest unit is the trajectory (origin x generation). Returns, per level, the Wilson 90 %
    interval as if all observations were independent (optimistic) and a 90 % percentile interval
    from resampling whole trajectories (n_boot resamples, seeded)."""
    out = {"n_obs": int(len(rows)), "n_trajectories": 0}
    if not len(rows):
        return out
    keys = rows["as_of"].astype(str) + "/" + rows["generation"].astype(str)
    groups = [g.index.to_numpy() for _, g in rows.groupby(keys)]
    out["n_trajectories"] = len(groups)
    rng = np.random.default_rng(seed)
    z = 1.6449  # two-sided 90 %
    for lv in LEVELS:
        col = rows[f"{who}_in{int(lv * 100)}"].to_numpy(float)
        n, p = col.size, col.mean()
        c = (p + z * z / (2 * n)) / (1 + z * z / n)
        h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        sums = np.array([col[g].sum() for g in groups])
        cnts = np.array([g.size for g in groups])
        pick = rng.integers(0, len(groups), size=(n_boot, len(groups)))
        boot = sums[pick].sum(1) / cnts[pick].sum(1)
        out[f"{int(lv * 100)}"] = {"coverage": float(p), "wilson90_independent": [float(c - h), float(c + h)],
                                   "trajectory_bootstrap90": [float(np.quantile(boot, 0.05)), float(np.quantile(boot, 0.95))]}
    return out


def _summary(rows: pd.DataFrame) -> dict:
    return {
        "n_obs": int(len(rows)),
        "coverage_model": _coverage(rows, "model"),
        "coverage_rw": _coverage(rows, "rw"),
        "crps_model": float(rows["crps_model"].mean()) if len(rows) else float("nan"),
        "crps_rw": float(rows["crps_rw"].mean()) if len(rows) else float("nan"),
    }


def noise_persistence(obs, as_of: str, horizon: int):
    """rho_h of the median's composition error from the provider panel dated at or before ``as_of``,
    for lags 1..horizon + the largest gap between a generation's last on-demand median and the
    cutoff (``provider_spread.composition_persistence``)."""
    from priors.models.provider_spread import composition_persistence

    gap = max((obs.T - 1 - obs.months.index(m) for m in obs.market.groupby("generation")["month"].max()), default=0)
    return composition_persistence(read_table("rental_prices", as_of=as_of), GENERATIONS, as_of, horizon + gap)


def check_median_noise(median_noise: str | None, config: PriceModelConfig = SHIPPED) -> str:
    """The median-noise option resolved (None -> MEDIAN_NOISE), or ValueError with the allowed values.
    "persistent" is defined for the price model without the provider panel only: a panel fit draws
    the target month's median from the panel itself."""
    median_noise = MEDIAN_NOISE if median_noise is None else median_noise
    if median_noise not in MEDIAN_NOISES:
        raise ValueError(f"median_noise must be one of {MEDIAN_NOISES}, got {median_noise!r}")
    if median_noise == "persistent" and config.provider_panel:
        raise ValueError("--median-noise persistent applies to the price model without the provider panel only "
                         "(docs/priors.md, appendix \"Third attempt\"); the shipped model draws the target month's "
                         "median from the provider panel: use --median-noise independent (the default)")
    return median_noise


def backtest(as_of: str, horizon: int, out_dir: Path, seed: int, *, sample_kw: dict | None = None,
             max_samples: int = 4000, config: PriceModelConfig = SHIPPED, median_noise: str | None = None) -> dict:
    """Fit as of ``as_of`` (YYYY-MM), forecast 1..``horizon`` months, score, and write the files.
    ``config``: the price model's options (default the shipped model; the same for every origin); the
    summary records the config built (``model_options``). ``median_noise`` (default MEDIAN_NOISE): "independent"
    or "persistent" (the target median's noise drawn jointly with the cutoff median's, rho_h from the
    provider panel as of the cutoff; the issued and the scored forecast both, with the same draws)."""
    median_noise = check_median_noise(median_noise, config)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    obs = pdm.load_observations(as_of)
    pers = noise_persistence(obs, as_of, horizon) if median_noise == "persistent" else None
    rho = None if pers is None else pers.rho
    idata, seconds, model = fit_as_of(obs, seed, sample_kw, config)
    diag = gate_summary(idata, pdm.gate_vars(idata))
    # the issued forecast: the noise of a median with as many providers as the last one at the cutoff
    lr, level = forecast_log_ratio(idata, obs, horizon, seed=seed, max_samples=max_samples, return_level=True,
                                       noise_persistence=rho)
    ratio = np.exp(lr)  # (S, G, H)
    cut = _mi(as_of)
    months = [f"{(cut + h) // 12:04d}-{(cut + h) % 12 + 1:02d}" for h in range(1, horizon + 1)]
    full = market_series(read_table("rental_prices"))
    full["mi"] = full["month"].map(_mi)
    # the scored predictive: the same draws (same seed) with the noise of the providers actually behind
    # each later median (the count is part of the published observation's description, not a price)
    n_issue = cutoff_providers(obs)
    n_target = np.repeat(n_issue[:, None], horizon, axis=1)
    for g, gen in enumerate(GENERATIONS):
        for h in range(horizon):
            hit = full[(full["generation"] == gen) & (full["mi"] == cut + h + 1)]["n_providers"].dropna()
            if len(hit):
                n_target[g, h] = float(hit.iloc[0])
    lr_score, _ = forecast_log_ratio(idata, obs, horizon, seed=seed, max_samples=max_samples, return_level=True,
                                         n_providers=n_target, noise_persistence=rho)

    # forecast quantiles: price over the latent level at the cutoff
    qv = np.quantile(ratio, QUANTILES, axis=0)  # (Q, G, H)
    fq = pd.DataFrame([
        {"generation": gen, "target_month": months[h], "q": q, "price_ratio": float(qv[i, g, h])}
        for g, gen in enumerate(GENERATIONS) for h in range(horizon) for i, q in enumerate(QUANTILES)
    ])
    fq.to_csv(out_dir / "forecast_quantiles.csv", index=False, float_format="%.6g")

    # scoring against the full table
    pre = full[full["mi"] <= cut]
    post = full[(full["mi"] > cut) & (full["mi"] <= cut + horizon)]
    vol = rw_volatility(pre)
    rng = np.random.default_rng(seed + 17)
    rows = []
    for g, gen in enumerate(GENERATIONS):
        p_g, q_g = pre[pre["generation"] == gen], post[post["generation"] == gen]
        if p_g.empty or q_g.empty:
            continue
        last = p_g.iloc[-1]
        p_last, mi_last = float(last["price"]), int(last["mi"])
        for _, o in q_g.iterrows():
            h = int(o["mi"]) - cut
            x_model = np.exp(level[:, g] + lr_score[:, g, h - 1]) / p_last
            steps = int(o["mi"]) - mi_last
            x_rw = np.exp(vol[gen] * np.sqrt(steps) * rng.standard_normal(x_model.size))
            y = float(o["price"]) / p_last
            row = {"as_of": as_of, "generation": gen, "target_month": o["month"], "horizon": h,
                   "observed_price": float(o["price"]), "last_price_at_cutoff": p_last, "last_month": last["month"],
                   "observed_ratio": y, "model_median_ratio": float(np.median(x_model)), "rw_volatility": vol[gen],
                   "n_providers_target": float(n_target[g, h - 1]), "n_providers_cutoff": float(n_issue[g])}
            for who, x in (("model", x_model), ("rw", x_rw)):
                for lv in LEVELS:
                    lo, hi = np.quantile(x, [(1 - lv) / 2, (1 + lv) / 2])
                    row[f"{who}_in{int(lv * 100)}"] = bool(lo <= y <= hi)
                row[f"crps_{who}"] = crps_samples(x, y)
            rows.append(row)
    scores = pd.DataFrame(rows)
    scores.to_csv(out_dir / "scores.csv", index=False, float_format="%.6g")

    summ = {"as_of": as_of, "horizon": horizon, "seed": seed, "sampling_seconds": round(seconds, 1),
            "model_options": model.price_config.as_dict(),
            "grid": f"{obs.months[0]}..{obs.months[-1]}", "n_model_points": int(len(obs.point)),
            "forecast_quantiles_noise": {"providers_assumed": dict(zip(GENERATIONS, n_issue.tolist())),
                                         "rule": "median noise of the provider count of each generation's last on-demand median at the cutoff; "
                                                 "scores use the count published with each later median"},
            "median_noise": {"mode": median_noise, **({"persistence": pers.to_dict()} if pers is not None else {})},
            "n_model_intervals": int(len(obs.interval)), "diagnostics": diag, **_summary(scores),
            "by_generation": {gen: _summary(scores[scores["generation"] == gen]) for gen in sorted(scores["generation"].unique())} if len(scores) else {},
            "posterior_means": {
                "decline_rate_per_month": dict(zip(GENERATIONS, idata.posterior["decline_rate_per_month"].mean(("chain", "draw")).values.round(4).tolist())),
                "volatility_per_month": dict(zip(GENERATIONS, idata.posterior["volatility_per_month"].mean(("chain", "draw")).values.round(4).tolist())),
                "undercut_frac": round(float(idata.posterior["undercut_frac"].mean()), 4),
                "median_floor_sd": round(float(idata.posterior["obs_sd"].sel(kind="median_on_demand").mean()), 4),
                "composition_sd": round(float(idata.posterior["composition_sd"].mean()), 4),
                "composition_exponent": round(float(idata.posterior["composition_exponent"].mean()), 3),
                "noise_dof_median": round(float(idata.posterior["noise_dof"].sel(noise_group="median").mean()), 2),
                **({"volatility_trend_per_year": round(float(idata.posterior["volatility_trend_per_year"].mean()), 3)}
                   if "volatility_trend_per_year" in idata.posterior else {}),
                **({v: round(float(idata.posterior[v].mean()), 4) for v in ("decline_rate_mean", "decline_rate_sd", "decline_persistence")}
                   if "decline_persistence" in idata.posterior else {}),  # drift="ar1"
                **_panel_means(idata)},
            **({"panel_composition": _panel_composition_summary(obs)} if model.price_config.provider_panel else {})}
    (out_dir / "summary.json").write_text(json.dumps(summ, indent=2))
    _flat_summary([summ]).to_csv(out_dir / "summary.csv", index=False, float_format="%.4g")
    _fan_chart(out_dir / "fan_chart.png", as_of, months, full, level, lr, vol)
    summ["files"] = [str(out_dir / n) for n in ("forecast_quantiles.csv", "scores.csv", "summary.csv", "summary.json", "fan_chart.png")]
    return summ


def _panel_means(idata) -> dict:
    """Posterior means of the provider-panel parameters (empty without them)."""
    post = idata.posterior
    if "provider_offset_sd" not in post:
        return {}
    out = {v: round(float(post[v].mean()), 4) for v in ("provider_offset_sd", "provider_noise_sd", "provider_noise_persistence")}
    out["median_mix_offset"] = dict(zip(GENERATIONS, post["median_mix_offset"].mean(("chain", "draw")).values.round(4).tolist()))
    return out


def _panel_composition_summary(obs) -> dict:
    """What the composition draw of a provider-panel forecast reads from the panel as of the cutoff."""
    c = ppn.panel_composition(obs)
    return {"entry_rate_per_provider_month": round(c.entry_rate, 4), "lag_months": dict(zip(GENERATIONS, c.lag.tolist())),
            "pool": {gen: {obs.panel_pairs[k].split("/", 1)[1]: float(w) for k, w in zip(c.pools[g], c.weights[g])}
                     for g, gen in enumerate(GENERATIONS)},
            "n_panel_rows": int(len(obs.panel))}


def _flat_summary(summs: list[dict]) -> pd.DataFrame:
    out = []
    for s in summs:
        out.append({"as_of": s["as_of"], "horizon": s["horizon"], "n_obs": s["n_obs"],
                    **{f"cov{k}_model": v for k, v in s["coverage_model"].items()},
                    **{f"cov{k}_rw": v for k, v in s["coverage_rw"].items()},
                    "crps_model": s["crps_model"], "crps_rw": s["crps_rw"],
                    "divergences": s.get("diagnostics", {}).get("divergences"),
                    "sampling_seconds": s.get("sampling_seconds")})
    return pd.DataFrame(out)


def _fan_chart(path: Path, as_of: str, months: list[str], full: pd.DataFrame, level, lr, vol) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cut = _mi(as_of)
    H = len(months)
    fig, axes = plt.subplots(1, len(GENERATIONS), figsize=(15, 3.8))
    for g, (gen, ax) in enumerate(zip(GENERATIONS, axes)):
        hist = full[(full["generation"] == gen) & (full["mi"] > cut - 18) & (full["mi"] <= cut)]
        later = full[(full["generation"] == gen) & (full["mi"] > cut) & (full["mi"] <= cut + H)]
        xh = np.arange(1, H + 1)
        price = np.exp(level[:, g, None] + lr[:, g, :])  # $ per GPU-hour
        q = np.quantile(price, [0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975], axis=0)
        ax.fill_between(xh, q[0], q[6], color="tab:blue", alpha=0.15, label="model 95%")
        ax.fill_between(xh, q[1], q[5], color="tab:blue", alpha=0.25, label="model 80%")
        ax.fill_between(xh, q[2], q[4], color="tab:blue", alpha=0.35, label="model 50%")
        ax.plot(xh, q[3], color="tab:blue", lw=1)
        if len(hist):
            last = hist.iloc[-1]
            steps = xh + cut - int(last["mi"])
            lo = float(last["price"]) * np.exp(-1.2816 * vol[gen] * np.sqrt(steps))
            hi = float(last["price"]) * np.exp(1.2816 * vol[gen] * np.sqrt(steps))
            ax.plot(xh, lo, "k--", lw=0.8, label="random walk 80%")
            ax.plot(xh, hi, "k--", lw=0.8)
            ax.plot(hist["mi"] - cut, hist["price"], "o-", color="0.4", ms=3, lw=0.8, label="observed (to cutoff)")
        if len(later):
            ax.plot(later["mi"] - cut, later["price"], "o", color="tab:red", ms=4, label="observed (after)")
        ax.axvline(0, color="k", lw=0.5)
        ax.set_title(gen + ("" if len(hist) else " (no data by cutoff: prior level)"), fontsize=9)
        ax.set_xlabel(f"months after {as_of}")
        if g == 0:
            ax.set_ylabel("on-demand median, $/GPU-h")
            ax.legend(fontsize=6)
    fig.suptitle(f"price_dynamics backtest as of {as_of}: forecast fan vs later observations", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def rolling(origins: list[str], horizon: int, out_dir: Path, seed: int, **kw) -> dict:
    """``backtest`` from each origin into out_dir/<origin>; pooled coverage and CRPS vs random walk."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    per, all_rows = [], []
    for i, origin in enumerate(origins):
        s = backtest(origin, horizon, out_dir / origin, seed + i, **kw)
        per.append(s)
        sc = out_dir / origin / "scores.csv"
        if sc.exists() and sc.stat().st_size > 1:
            try:
                all_rows.append(pd.read_csv(sc))
            except pd.errors.EmptyDataError:
                pass
    rows = pd.concat(all_rows, ignore_index=True) if all_rows else pd.DataFrame()
    pooled = _summary(rows) if len(rows) else {"n_obs": 0}
    cov80 = pooled.get("coverage_model", {}).get("80", float("nan"))
    res = {
        "origins": origins, "horizon": horizon, "seed": seed,
        "pooled": pooled,
        "calibrated_80": bool(TARGET_80[0] <= cov80 <= TARGET_80[1]),
        "target_80": list(TARGET_80),
        "crps_model_not_worse_than_rw": bool(len(rows) and pooled["crps_model"] <= pooled["crps_rw"]),
        "coverage_uncertainty_model": coverage_uncertainty(rows, "model", seed=seed) if len(rows) else {},
        "per_origin": [{k: s[k] for k in ("as_of", "n_obs", "coverage_model", "coverage_rw", "crps_model", "crps_rw", "diagnostics", "sampling_seconds", "median_noise")} for s in per],
    }
    (out_dir / "rolling_summary.json").write_text(json.dumps(res, indent=2))
    flat = _flat_summary(per)
    if len(rows):
        flat = pd.concat([flat, _flat_summary([{"as_of": "pooled", "horizon": horizon, **pooled}])], ignore_index=True)
    flat.to_csv(out_dir / "rolling_summary.csv", index=False, float_format="%.4g")
    return res
