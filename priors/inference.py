"""Sampling and the convergence gate, used by both `rackrisk fit` (``priors.fit``) and `rackrisk backtest`
(``priors.backtest``): one NUTS call and one gate for every posterior this package writes.

* ``draw_posterior(model, seed, sample_kw)``: NUTS through numpyro (PyMC's own sampler when numpyro is
  not installed), no progress bar; returns the InferenceData and the seconds it took.
* ``gate_summary(idata, var_names)``: ``priors.gate.diagnose`` reduced to divergences, max R-hat, min
  bulk ESS and whether the gate passed.
* ``request_parallel_chains()``: numpyro runs its chains in parallel only on as many XLA host devices
  as chains; this asks for them through XLA_FLAGS, which only works before jax is imported.

PyMC is imported inside ``draw_posterior`` only (the `[fit]` extra).
"""

from __future__ import annotations

import os
import sys
import time

from priors.gate import ESS_BULK_MIN, RHAT_MAX, diagnose

DEFAULT_SAMPLE = dict(draws=1000, tune=1000, chains=4, target_accept=0.9)
HOST_DEVICES_FOR_CHAINS = 4


def request_parallel_chains(n: int = HOST_DEVICES_FOR_CHAINS) -> None:
    """Ask XLA for ``n`` host devices unless jax is already imported or the flag is already set."""
    if "jax" not in sys.modules and "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={n}").strip()


def sampler_name() -> str:
    """"numpyro" when it is installed, else "pymc"."""
    try:
        import numpyro  # noqa: F401

        return "numpyro"
    except ImportError:  # pragma: no cover
        return "pymc"


def draw_posterior(model, *, seed: int, sample_kw: dict | None = None):
    """NUTS draws of ``model`` (a pm.Model) with ``DEFAULT_SAMPLE`` updated by ``sample_kw`` (draws, tune,
    chains, target_accept). Returns (idata, seconds)."""
    import pymc as pm

    kw = dict(DEFAULT_SAMPLE)
    kw.update(sample_kw or {})
    t0 = time.perf_counter()
    with model:
        idata = pm.sample(nuts_sampler=sampler_name(), random_seed=seed, progressbar=False, **kw)
    return idata, time.perf_counter() - t0


def gate_summary(idata, var_names: list[str]) -> dict:
    """{"divergences", "max_r_hat", "min_ess_bulk", "gate_passed"} over every scalar element of
    ``var_names`` (the gate of ``priors.gate``: R-hat <= RHAT_MAX, bulk ESS >= ESS_BULK_MIN, no divergence)."""
    diag = diagnose(idata, var_names)
    import numpy as np

    out = {"divergences": int(diag.divergences),
           "max_r_hat": float(np.nanmax([r["r_hat"] for r in diag.rows])),
           "min_ess_bulk": float(np.nanmin([r["ess_bulk"] for r in diag.rows]))}
    out["gate_passed"] = bool(out["divergences"] == 0 and out["max_r_hat"] <= RHAT_MAX and out["min_ess_bulk"] >= ESS_BULK_MIN)
    return out
