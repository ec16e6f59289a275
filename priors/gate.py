"""Convergence diagnostics and the gate a posterior must pass before it is saved.

Gate (issue 3): every scalar element of the gated parameters has R-hat <= 1.01 and bulk ESS >=
400, and the sampler reported no divergence. Uses arviz only (imported by `rackrisk fit`).
"""

from __future__ import annotations

from dataclasses import dataclass

RHAT_MAX = 1.01
ESS_BULK_MIN = 400


@dataclass
class Diagnostics:
    rows: list[dict]  # one per scalar parameter element: name, mean, sd, r_hat, ess_bulk, ess_tail
    divergences: int

    @property
    def failures(self) -> list[str]:
        out = []
        for r in self.rows:
            if not r["r_hat"] <= RHAT_MAX:
                out.append(f"{r['name']}: R-hat {r['r_hat']:.3f} > {RHAT_MAX}")
            if not r["ess_bulk"] >= ESS_BULK_MIN:
                out.append(f"{r['name']}: bulk ESS {r['ess_bulk']:.0f} < {ESS_BULK_MIN}")
        if self.divergences > 0:
            out.append(f"{self.divergences} divergent transition(s)")
        return out

    @property
    def passed(self) -> bool:
        return not self.failures


def diagnose(idata, var_names: list[str]) -> Diagnostics:
    import arviz as az

    summ = az.summary(idata, var_names=var_names, kind="all", round_to="none")
    rows = [
        {"name": str(name), "mean": float(r["mean"]), "sd": float(r["sd"]), "r_hat": float(r["r_hat"]), "ess_bulk": float(r["ess_bulk"]), "ess_tail": float(r["ess_tail"])}
        for name, r in summ.iterrows()
    ]
    div = 0
    if hasattr(idata, "sample_stats") and "diverging" in idata.sample_stats:
        div = int(idata.sample_stats["diverging"].values.sum())
    return Diagnostics(rows=rows, divergences=div)
