"""The price model's check plots (matplotlib, Agg): the posterior predictive check and the forward fans."""

from __future__ import annotations

import numpy as np

from priors.models.price.data import GENERATIONS, KINDS, PriceObs


def plot(idata, obs: PriceObs, out_dir) -> list:
    """PPC (observed vs replicated points) and the 12-month forward fans, as PNG files in out_dir."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    P = obs.point
    if len(P) and "y" in idata.posterior_predictive:
        yrep = idata.posterior_predictive["y"].stack(s=("chain", "draw")).values  # (obs, S)
        lo, mid, hi = np.quantile(yrep, [0.05, 0.5, 0.95], axis=1)
        fig, axes = plt.subplots(len(GENERATIONS), 1, figsize=(10, 11), sharex=True)
        for g, ax in enumerate(axes):
            sel = (P.g == g).values
            for kind, col in zip(KINDS, ["k", "tab:blue", "tab:green", "tab:orange"]):
                s2 = sel & (P.kind == KINDS.index(kind)).values
                if not s2.any():
                    continue
                t = P.t.values[s2]
                ax.errorbar(t, np.exp(mid[s2]), yerr=[np.exp(mid[s2]) - np.exp(lo[s2]), np.exp(hi[s2]) - np.exp(mid[s2])],
                            fmt="none", ecolor=col, alpha=0.35)
                ax.plot(t, np.exp(P.y.values[s2]), "o", ms=3, color=col, label=kind)
            ax.set_yscale("log")
            ax.set_ylabel(f"{GENERATIONS[g]} $/GPU-h")
            if g == 0:
                ax.legend(fontsize=7, ncol=4)
        ticks = np.arange(0, obs.T, 6)
        axes[-1].set_xticks(ticks, [obs.months[i] for i in ticks], rotation=45)
        fig.suptitle("price_dynamics: observations (dots) and 90% posterior predictive intervals")
        fig.tight_layout()
        p = out_dir / "price_dynamics_ppc.png"
        fig.savefig(p, dpi=90)
        plt.close(fig)
        files.append(p)
    if "market_price_ratio" in idata.posterior_predictive:
        q = idata.posterior_predictive["market_price_ratio"].quantile([0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975], dim=("chain", "draw")).values
        fig, axes = plt.subplots(1, len(GENERATIONS), figsize=(13, 3.4), sharey=True)
        h = np.arange(1, q.shape[-1] + 1)
        for g, ax in enumerate(axes):
            ax.fill_between(h, q[0, g], q[6, g], alpha=0.2, color="tab:blue")
            ax.fill_between(h, q[1, g], q[5, g], alpha=0.3, color="tab:blue")
            ax.fill_between(h, q[2, g], q[4, g], alpha=0.4, color="tab:blue")
            ax.plot(h, q[3, g], color="tab:blue")
            ax.axhline(1.0, color="k", lw=0.5)
            ax.set_title(GENERATIONS[g])
            ax.set_xlabel(f"months after {obs.months[-1]}")
        axes[0].set_ylabel("on-demand price / level at end")
        fig.tight_layout()
        p = out_dir / "price_dynamics_fan.png"
        fig.savefig(p, dpi=90)
        plt.close(fig)
        files.append(p)
    return files
