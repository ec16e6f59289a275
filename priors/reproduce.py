"""Does a refit reproduce a shipped posterior? (issue 3, "done when": same data hash, parameters within
Monte Carlo error, gate passed). Used by ``rackrisk fit --check`` and tests/priors/test_reproduce.py.

``compare(shipped, refit, var_names)`` checks, for every scalar element of ``var_names`` (the
model's gated parameters and the variables the engine reads):

* the two files saw the same observation tables (``data_sha256`` attributes equal) and the refit
  passed its gate;
* |mean_shipped - mean_refit| <= K_MCSE * sqrt(mcse_shipped^2 + mcse_refit^2), with ArviZ's MCSE of
  the mean (ESS-based) of each file. Two independent Monte Carlo estimates of the same posterior mean
  differ by a normal error with that combined sd; K_MCSE = 4.5 keeps the chance of a false alarm
  below 1e-5 per element (two-sided normal tail at 4.5 sd is 6.8e-6), so the dozens of elements of
  a model together stay below ~1e-3. (numpyro with the same seed on the same machine usually gives
  identical draws; across CPUs and thread schedules it need not, hence the MCSE tolerance.)

Imports arviz (fit-time only, never from ``rackrisk run``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

K_MCSE = 4.5


@dataclass
class Comparison:
    name: str  # model name
    same_data: bool
    refit_gate_passed: bool
    rows: list[dict]  # parameter, shipped_mean, refit_mean, tolerance, ok

    @property
    def failures(self) -> list[str]:
        out = []
        if not self.same_data:
            out.append("the refit read different observation tables (data_sha256 differs)")
        if not self.refit_gate_passed:
            out.append("the refit failed the convergence gate")
        out += [f"{r['parameter']}: shipped mean {r['shipped_mean']:.5g}, refit {r['refit_mean']:.5g}, "
                f"|diff| {abs(r['shipped_mean'] - r['refit_mean']):.3g} > {r['tolerance']:.3g} ({K_MCSE} x combined MCSE)"
                for r in self.rows if not r["ok"]]
        return out

    @property
    def passed(self) -> bool:
        return not self.failures


def _root_attrs(path: Path) -> dict:
    import h5netcdf

    with h5netcdf.File(path, "r") as f:
        return {k: f.attrs[k] for k in f.attrs}


def _means_and_mcse(idata, var_names: list[str]) -> dict[str, tuple[float, float]]:
    import arviz as az

    summ = az.summary(idata, var_names=var_names, kind="all", round_to="none")
    return {str(name): (float(r["mean"]), float(r["mcse_mean"])) for name, r in summ.iterrows()}


def compare(name: str, shipped: Path, refit: Path, var_names: list[str]) -> Comparison:
    """Compare a refit file with the shipped one (see the module docstring for the rule)."""
    import arviz as az

    a_attrs, b_attrs = _root_attrs(Path(shipped)), _root_attrs(Path(refit))
    same_data = json.loads(a_attrs["data_sha256"]) == json.loads(b_attrs["data_sha256"])
    gate = int(b_attrs.get("rackrisk_gate_passed", 0)) == 1
    a = _means_and_mcse(az.from_netcdf(shipped), var_names)
    b = _means_and_mcse(az.from_netcdf(refit), var_names)
    rows = []
    for key in a:
        ma, sa = a[key]
        mb, sb = b.get(key, (float("nan"), float("nan")))
        tol = K_MCSE * math.sqrt(sa**2 + sb**2)
        rows.append({"parameter": key, "shipped_mean": ma, "refit_mean": mb, "tolerance": tol,
                     "ok": bool(abs(ma - mb) <= tol)})
    return Comparison(name=name, same_data=same_data, refit_gate_passed=gate, rows=rows)


def check_vars(mod) -> list[str]:
    """The parameters compared for a model module: its gated parameters and its engine variables
    that live in the posterior group (those in posterior_predictive are replicates, not parameters)."""
    names = list(mod.GATE_VARS)
    names += [v for v, g in mod.ENGINE_VARS.items() if g == "posterior" and v not in names]
    return names
