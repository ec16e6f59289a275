"""Posterior predictive check plots (PNG, matplotlib Agg), written next to the fitted files.

``ppc_plot(idata, path)``: for every observed variable of the model, each observation against the
5-95 % and 25-75 % intervals of its posterior predictive distribution. Models whose likelihood is
an interval or censored term (a ``pm.Potential``) have no predictive draws for it; their modules
may add their own check with ``plot_checks(idata, obs, path)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def ppc_plot(idata, path: Path, title: str) -> Path | None:
    if "posterior_predictive" not in idata.groups() or "observed_data" not in idata.groups():
        return None
    names = [v for v in idata.observed_data.data_vars if v in idata.posterior_predictive]
    if not names:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(names), 1, figsize=(9, 2.8 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        obs = np.asarray(idata.observed_data[name]).reshape(-1)
        pp = np.asarray(idata.posterior_predictive[name])
        pp = pp.reshape(-1, obs.size)
        q05, q25, q50, q75, q95 = np.quantile(pp, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
        x = np.arange(obs.size)
        ax.vlines(x, q05, q95, color="#9ecae1", lw=6, label="predictive 5-95 %")
        ax.vlines(x, q25, q75, color="#3182bd", lw=6, label="predictive 25-75 %")
        ax.plot(x, q50, "_", color="#08519c", ms=12)
        ax.plot(x, obs, "o", color="#d62728", ms=5, label="observed")
        inside = float(np.mean((obs >= q05) & (obs <= q95)))
        ax.set_title(f"{name}: {obs.size} observations, {100 * inside:.0f} % inside the 90 % interval", fontsize=10)
        var = idata.observed_data[name]
        if var.ndim == 1 and var.dims[0] in var.coords and obs.size <= 40:
            ax.set_xticks(x, [str(v) for v in var.coords[var.dims[0]].values], rotation=30, ha="right", fontsize=7)
        else:
            ax.set_xlabel("observation")
        ax.legend(fontsize=8, loc="best")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
