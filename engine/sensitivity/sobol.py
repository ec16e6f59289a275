"""Variance-based (Sobol) sensitivity indices: Saltelli design, Saltelli (2010) first-order and
Jansen (1999) total-order estimators, bootstrap confidence intervals.

Design. A and B are two independent samples of N rows of the inputs; A_B^(g) is A with the
columns of input group g taken from B. With f evaluated on all of them and V = Var[f] (pooled
over f(A) and f(B)):

    S_g  = mean( f(B) (f(A_B^(g)) - f(A)) ) / V                 first order   (Saltelli et al. 2010)
    ST_g = mean( (f(A) - f(A_B^(g)))^2 ) / (2 V)                total order   (Jansen 1999)

Confidence intervals: percentile bootstrap over the N rows (resampling rows of A, B and every
A_B^(g) together), ``n_boot`` resamples.

For the engine (``engine_design``), a row is a path: A's rows are paths 0..N-1 with their drawn
inputs and monthly noise, B's are paths N..2N-1, and A_B^(g) keeps A's noise. The monthly noise
(price shocks, failure scores) is therefore part of every row and never swapped: the indices are
shares of the variance of the per-path metric, and 1 - sum_g ST_g (roughly) is what the noise
alone explains. Inputs that are drawn jointly form one group (all variables of a posterior file;
all copula-correlated inputs), because the estimators assume independent groups.
"""

from __future__ import annotations

import numpy as np


def indices(fA: np.ndarray, fB: np.ndarray, fAB: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First-order and total indices from f(A) (N,), f(B) (N,), f(A_B^(g)) (k, N)."""
    V = np.var(np.concatenate([fA, fB]), ddof=1)
    if not V > 0:  # a metric that does not vary (or too few rows): undefined indices, no 0/0 RuntimeWarning
        return np.full(fAB.shape[0], np.nan), np.full(fAB.shape[0], np.nan)
    s1 = np.mean(fB[None, :] * (fAB - fA[None, :]), axis=1) / V
    st = 0.5 * np.mean((fA[None, :] - fAB) ** 2, axis=1) / V
    return s1, st


def sobol(fA: np.ndarray, fB: np.ndarray, fAB: np.ndarray, *, n_boot: int = 500, seed: int = 0, level: float = 0.95) -> dict:
    """Indices with bootstrap standard errors and percentile intervals."""
    fA, fB, fAB = (np.asarray(x, np.float64) for x in (fA, fB, fAB))
    s1, st = indices(fA, fB, fAB)
    rng = np.random.default_rng(seed)
    N = fA.size
    b1, bt = [], []
    for _ in range(n_boot):
        r = rng.integers(0, N, N)
        x1, xt = indices(fA[r], fB[r], fAB[:, r])
        b1.append(x1)
        bt.append(xt)
    b1, bt = np.array(b1), np.array(bt)
    a = (1 - level) / 2
    import warnings

    with warnings.catch_warnings():  # resamples without variance give NaN indices: left out of the SE and interval
        warnings.simplefilter("ignore", RuntimeWarning)
        out = {
            "S1": s1, "S1_se": np.nanstd(b1, axis=0, ddof=1), "S1_ci": _nanquantile(b1, [a, 1 - a]),
            "ST": st, "ST_se": np.nanstd(bt, axis=0, ddof=1), "ST_ci": _nanquantile(bt, [a, 1 - a]),
            "variance": float(np.var(np.concatenate([fA, fB]), ddof=1)) if N > 1 else float("nan"), "N": int(N), "n_boot": n_boot,
        }
    from engine.sensitivity.text import sobol_warnings

    out["warnings"] = sobol_warnings({k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in out.items()})
    return out


def _nanquantile(b: np.ndarray, qs: list[float]) -> np.ndarray:
    """(k, 2) percentile interval of each column of the bootstrap indices ``b`` (n_boot, k), NaN resamples left out
    (an all-NaN column, a metric without variance, gives NaN; called under a RuntimeWarning filter)."""
    return np.nanquantile(b, qs, axis=0).T


def input_groups(model) -> list[tuple[str, list[int]]]:
    """(group name, input indices) of the random inputs: one group per posterior file, one for the
    copula-correlated inputs, one per other random input."""
    groups: dict[str, list[int]] = {}
    for j, sp in enumerate(model.inputs):
        if not sp.is_random:
            continue
        if sp.posterior_file is not None:
            from pathlib import Path

            key = f"posterior:{Path(sp.posterior_file).name}"
        elif sp.name in model.correlated:
            key = "copula:" + "+".join(model.correlated)
        else:
            key = sp.name
        groups.setdefault(key, []).append(j)
    return list(groups.items())


def engine_design(ev, metrics: dict, *, seed: int, N: int, n_boot: int = 500) -> dict:
    """Sobol indices of each metric (name -> per-path function) for the groups of ``ev.model``."""
    paths_A = np.arange(N)
    paths_B = np.arange(N, 2 * N)
    run_A = ev.evaluate(seed=seed, paths=paths_A)
    run_B = ev.evaluate(seed=seed, paths=paths_B)
    groups = input_groups(ev.model)
    full = np.ones(ev.N)
    fA = {k: f(run_A) for k, f in metrics.items()}
    fB = {k: f(run_B) for k, f in metrics.items()}
    fAB = {k: [] for k in metrics}
    for _, cols in groups:
        theta = run_A.inputs.copy()
        theta[:, cols] = run_B.inputs[:, cols]
        r = ev.evaluate(seed=seed, paths=paths_A, theta_over=theta, mask=full)
        for k, f in metrics.items():
            fAB[k].append(f(r))
    out = {"groups": [{"name": g, "inputs": [ev.model.inputs[j].name for j in cols]} for g, cols in groups], "N": N,
           "paths_evaluated": N * (len(groups) + 2), "metrics": {}}
    for k in metrics:
        A, B, AB = fA[k], fB[k], np.array(fAB[k])
        ok = np.isfinite(A) & np.isfinite(B) & np.all(np.isfinite(AB), axis=0)
        res = sobol(A[ok], B[ok], AB[:, ok], n_boot=n_boot, seed=seed)
        out["metrics"][k] = {key: (v.tolist() if isinstance(v, np.ndarray) else v) for key, v in res.items()}
    return out
