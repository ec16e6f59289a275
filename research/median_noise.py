"""What the provider-level quotes say about the noise of the on-demand median (docs/priors.md, "Backtest").

No sampling; seconds. Run: ``python -m research.median_noise [--as-of YYYY-MM]``.
Uses the ``provider_restated`` rows of rental_prices.csv (one value per provider, generation and
month: the GIX per-provider series behind the raw medians; the provider counts agree with the
medians' ``n_providers`` in every month) and the raw on-demand medians, cut at ``--as-of``.

Prints:
1. the cross-sectional sd s of the providers' log prices in a month and the sd of a median of n
   independent draws from that spread (``median_sd_factor(n) * s``): what the median's noise would
   be if each month's providers were a fresh sample;
2. month-on-month log changes of one provider's own price (same provider, consecutive months): how
   much the market moves under a fixed panel;
3. month-on-month log changes of the raw medians, by the providers behind them (min of the two);
4. the provider-month residual sd of the two-way fixed effects (``provider_residuals``);
5. the product-mix offset of each raw median from the same providers' restated prices
   (``sku_mix_offsets``), by provider count;
6. a leave-one-out check of whether persistent provider positions (provider effects estimated from
   the medians' changes, ridge) predict the medians' month-on-month changes.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from priors.models.provider_spread import SERIES, median_sd_factor, provider_residuals, sku_mix_offsets
from priors.observations_io import read_table

GENS = ["A100", "H100", "H200", "B200"]
RIDGE = 1.0  # (residual sd / prior sd of a provider effect)^2 with both ~0.25 on the log scale


def _mi(label: str) -> int:
    return int(label[:4]) * 12 + int(label[5:7]) - 1


def _frames(as_of: str | None):
    df = read_table("rental_prices", as_of=as_of)
    df = df[df["dated"] & df["generation"].isin(GENS)].copy()
    df["month"] = df["when"].dt.strftime("%Y-%m")
    df["lv"] = np.log(pd.to_numeric(df["value_low"], errors="coerce"))
    prov = df[df["series"] == SERIES]
    med = df[(df["series"] == "market_median") & (df["basis"] == "on_demand")].copy()
    med["n"] = pd.to_numeric(med["n_providers"], errors="coerce")
    return df, prov, med


def cross_section(prov: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (g, m), c in prov.groupby(["generation", "month"]):
        if len(c) >= 2:
            s = float(np.std(c["lv"], ddof=1))
            rows.append({"generation": g, "month": m, "n": len(c), "spread_sd": s, "iid_median_sd": float(median_sd_factor(len(c))) * s})
    return pd.DataFrame(rows)


def own_changes(prov: pd.DataFrame) -> np.ndarray:
    out = []
    for _, c in prov.groupby(["generation", "entity"]):
        c = c.sort_values("month")
        mi = c["month"].map(_mi).to_numpy()
        ok = np.diff(mi) == 1
        out.append(np.diff(c["lv"].to_numpy())[ok])
    return np.concatenate(out) if out else np.array([])


def median_changes(med: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for g, c in med.sort_values("month").groupby("generation"):
        mi = c["month"].map(_mi).to_numpy()
        lv, n = c["lv"].to_numpy(), c["n"].to_numpy()
        for i in range(1, len(c)):
            if mi[i] - mi[i - 1] == 1:
                rows.append({"generation": g, "month": c["month"].iloc[i], "n_min": min(n[i], n[i - 1]), "change": lv[i] - lv[i - 1]})
    return pd.DataFrame(rows)


def panel_effect_loo(prov: pd.DataFrame, med: pd.DataFrame) -> dict:
    """Leave-one-out: change of the median ~ change of the mean provider effect of its panel."""
    ents = sorted(prov["entity"].unique())
    col = {e: i for i, e in enumerate(ents)}
    panels = {k: list(c["entity"]) for k, c in prov.groupby(["generation", "month"])}
    X, y, nmin = [], [], []
    for _, r in median_changes(med).iterrows():
        prev = f"{(_mi(r['month']) - 1) // 12:04d}-{(_mi(r['month']) - 1) % 12 + 1:02d}"
        a, b = panels.get((r["generation"], prev)), panels.get((r["generation"], r["month"]))
        if not a or not b:
            continue
        x = np.zeros(len(ents))
        for e in b:
            x[col[e]] += 1 / len(b)
        for e in a:
            x[col[e]] -= 1 / len(a)
        X.append(x), y.append(r["change"]), nmin.append(r["n_min"])
    if len(y) < 3:
        return {}
    X, y, nmin = np.array(X), np.array(y), np.array(nmin)
    loo = np.empty(len(y))
    for i in range(len(y)):
        k = np.arange(len(y)) != i
        u = np.linalg.solve(X[k].T @ X[k] + RIDGE * np.eye(len(ents)), X[k].T @ y[k])
        loo[i] = y[i] - X[i] @ u
    sel = nmin >= 3
    return {"pairs": int(len(y)), "pairs_n3plus": int(sel.sum()), "sd_change_n3plus": float(np.std(y[sel], ddof=1)),
            "sd_loo_residual_n3plus": float(np.std(loo[sel], ddof=1))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--as-of", default=None)
    args = ap.parse_args(argv)
    df, prov, med = _frames(args.as_of)
    pd.set_option("display.width", 160)
    print(f"as of {args.as_of or 'all data'}: {len(prov)} provider-month quotes, {len(med)} on-demand medians\n")
    cs = cross_section(prov)
    if len(cs):
        print("1. cross-sectional spread and the iid median sd it implies, by providers in the month")
        print(cs.assign(n=cs["n"].clip(upper=5)).groupby("n")[["spread_sd", "iid_median_sd"]].agg(["count", "median"]).round(3), "\n")
    ch = own_changes(prov)
    if ch.size:
        print(f"2. a provider's own month-on-month log change: {ch.size} changes, sd {np.std(ch, ddof=1):.3f}, "
              f"share exactly 0 {np.mean(np.abs(ch) < 1e-9):.2f}\n")
    mc = median_changes(med)
    if len(mc):
        mc["n_bin"] = mc["n_min"].clip(upper=5)
        print("3. month-on-month log change of the raw on-demand medians, by providers (min of the two months; 5 = 5+)")
        print(mc.groupby("n_bin")["change"].agg(count="count", sd="std", mad=lambda x: float(np.median(np.abs(x)))).round(3), "\n")
    pr = provider_residuals(df, GENS)
    print(f"4. provider-month residual sd (two-way fixed effects): {pr.sd:.3f} (RSS {pr.rss:.3f}, df {pr.df})\n")
    sk = sku_mix_offsets(df, GENS)
    if len(sk):
        print("5. product-mix offset of the raw median from the same providers' restated prices, by providers")
        print(sk.assign(n=sk["n_providers"].clip(upper=5)).groupby("n")["offset_log"].agg(["count", "mean", "std"]).round(3), "\n")
    loo = panel_effect_loo(prov, med)
    if loo:
        print(f"6. provider effects as predictors of the medians' changes (ridge {RIDGE}, leave-one-out), n >= 3: "
              f"sd of the changes {loo['sd_change_n3plus']:.3f}, of the LOO residuals {loo['sd_loo_residual_n3plus']:.3f} "
              f"({loo['pairs_n3plus']} pairs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
