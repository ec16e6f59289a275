"""Pathwise gradients (JAX autodiff) of smooth metrics, reported as elasticities.

Every input is scaled pathwise, theta_ij -> theta_ij (1 + h_j), and the metric's Monte Carlo mean

    M(h) = (1/P) sum_i m(theta_i (1 + h), z_i)          (the same paths and noise z_i for every h)

is differentiated at h = 0 by reverse-mode autodiff through the whole path (lax.scan over
months). dM/dh_j = dM/d ln theta_j, so the elasticity (% change of the metric per % change of the
input) is

    e_j = (dM/dh_j) / M(0).

Scaling moves a draw in proportion to itself, so for an input whose draws straddle 0 (a decline
rate drawn from a posterior that allows rising prices) positive and negative draws move in
opposite directions and e_j is hard to read. Each row therefore also has the additive,
uncertainty-scaled derivative dM/dk_j for theta_ij -> theta_ij + k_j sd_j (sd_j the input's spread
over the paths): the change of the metric per one-standard-deviation shift of the input, which
ranks inputs the way the tornado and Sobol indices do (by what their uncertainty does).

Standard errors: the paths are split into K batches, each gives a gradient; SE = sd / sqrt(K).

Smooth metrics (continuous in theta almost everywhere on a path):
    expected_impairment_loss_usd_ias36   IAS 36 loss = max(carrying - recoverable, 0): continuous
    expected_npv_usd                     discounted cash flows: continuous except failure rounding
    p_impairment_ias36_smoothed          E[1 - exp(-L / tau)], L the path's IAS 36 loss, tau =
                                         0.1 % of the fleet's cost: the indicator 1[L > 0] smoothed.
                                         Bias: E[1 - exp(-L/tau)] - P(L > 0) = -E[exp(-L/tau); L > 0]
                                         <= 0, measured on the same paths and reported.
The ASC 360 loss jumps at recognition (step 1 is an indicator), so it is not offered.

Where pathwise derivatives are biased (the derivative of the mean is not the mean of the
derivatives): failure counts are rounded (their pathwise derivative in the failure rate is 0:
the AFR elasticities come out ~0), and test triggers (price drop, utilization) and launch timing
switch tests on and off discontinuously. docs/stress.md lists these; the CRN finite differences of
``fd_elasticity`` do not have this bias and are the check (tests/test_sensitivity.py).
"""

from __future__ import annotations

import math

import numpy as np

SMOOTH_METRICS = ("expected_impairment_loss_usd_ias36", "expected_npv_usd", "p_impairment_ias36_smoothed")
TAU_FRAC = 1e-3


def tau_usd(model) -> float:
    return TAU_FRAC * float(np.asarray(model.a["cost"]).sum())


def smooth_metric_values(scalars: dict, tau: float, xp=np):
    """Per-path values of SMOOTH_METRICS from per-path scalars (NumPy or jax.numpy via ``xp``)."""
    loss_i = scalars["impairment_loss_usd"][..., 1, :].sum(-1)
    npv = scalars["npv_usd"].sum(-1)
    return {"expected_impairment_loss_usd_ias36": loss_i, "expected_npv_usd": npv, "p_impairment_ias36_smoothed": 1.0 - xp.exp(-loss_i / tau)}


def pathwise_elasticities(model, *, seed: int, paths: np.ndarray, dtype: str = "float32", batches: int = 16) -> dict:
    """Gradients of SMOOTH_METRICS with respect to every input (scaled pathwise), with SEs."""
    from engine.sensitivity.override import configure

    configure(dtype)
    import jax
    import jax.numpy as jnp

    from engine.random import draw_inputs, draw_noise, root_key
    from engine.kernel.path import make_path_fn

    jd = jnp.float64 if dtype == "float64" else jnp.float32
    path = make_path_fn(model, jd, monthly=False)
    tau = tau_usd(model)
    N = len(model.inputs)

    paths = np.asarray(paths)
    draws = jax.jit(jax.vmap(lambda i: draw_inputs(model, root_key(jnp.uint32(seed)), i, jd)[0]))
    sd = np.asarray(draws(jnp.asarray(paths, jnp.uint32))).std(axis=0, ddof=1)  # (N,) spread of each input over the paths

    def batch_mean(hk, seed_, idx):
        h, k = hk[:N], hk[N:]
        root = root_key(seed_)

        def one(i):
            theta, _ = draw_inputs(model, root, i, jd)
            zp, zf = draw_noise(model, root, i, jd)
            res, _ = path(theta * (1.0 + h) + k * jnp.asarray(sd, jd), zp, zf)
            v = smooth_metric_values(res, tau, jnp)
            return jnp.stack([v[k_] for k_ in SMOOTH_METRICS])

        return jax.vmap(one)(idx).mean(axis=0)  # (M,)

    jac = jax.jit(jax.jacrev(batch_mean))
    val = jax.jit(batch_mean)
    groups = np.array_split(paths, batches)
    h0 = jnp.zeros(2 * N, jd)
    both = np.stack([np.asarray(jac(h0, jnp.uint32(seed), jnp.asarray(g, jnp.uint32))) for g in groups])  # (K, M, 2N)
    vals = np.stack([np.asarray(val(h0, jnp.uint32(seed), jnp.asarray(g, jnp.uint32))) for g in groups])  # (K, M)
    grads, grads_sd = both[..., :N], both[..., N:]
    w = np.array([g.size for g in groups], np.float64) / paths.size
    g_mean = np.einsum("k,kmn->mn", w, grads)
    gsd_mean = np.einsum("k,kmn->mn", w, grads_sd)
    v_mean = w @ vals
    g_se = grads.std(axis=0, ddof=1) / math.sqrt(batches)
    gsd_se = grads_sd.std(axis=0, ddof=1) / math.sqrt(batches)
    out = {"tau_usd": tau, "n_paths": int(paths.size), "batches": batches, "metrics": {}}
    for m, name in enumerate(SMOOTH_METRICS):
        rows = []
        for j, sp in enumerate(model.inputs):
            e = g_mean[m, j] / v_mean[m] if v_mean[m] != 0 else float("nan")
            rows.append({"input": sp.name, "random": sp.is_random, "dM_dlog_input": float(g_mean[m, j]), "se": float(g_se[m, j]),
                         "input_sd": float(sd[j]), "dM_per_sd": float(gsd_mean[m, j]), "dM_per_sd_se": float(gsd_se[m, j]),
                         "elasticity": float(e), "elasticity_se": float(g_se[m, j] / abs(v_mean[m])) if v_mean[m] != 0 else float("nan")})
        rows.sort(key=lambda r: -abs(r["elasticity"]) if r["elasticity"] == r["elasticity"] else 0.0)
        out["metrics"][name] = {"value": float(v_mean[m]), "rows": rows}
    return out


def fd_elasticity(ev, metric_fn, j: int, *, seed: int, paths: np.ndarray, delta: float = 0.01) -> dict:
    """CRN central finite difference of the metric in ln theta_j: (M(1 + d) - M(1 - d)) / (2 d), with
    theta_ij scaled path by path on the same paths, and its SE from the per-path differences."""
    base = ev.evaluate(seed=seed, paths=paths)
    theta = base.inputs
    mask = np.zeros(ev.N)
    mask[j] = 1.0
    vals = {}
    for s in (+1, -1):
        over = theta.copy()
        over[:, j] = theta[:, j] * (1.0 + s * delta)
        vals[s] = metric_fn(ev.evaluate(seed=seed, paths=paths, theta_over=over, mask=mask))
    d = (vals[1] - vals[-1]) / (2 * delta)
    m0 = metric_fn(base)
    return {"dM_dlog_input": float(d.mean()), "se": float(d.std(ddof=1) / math.sqrt(d.size)), "value": float(m0.mean()),
            "elasticity": float(d.mean() / m0.mean())}


def fd_per_sd(ev, metric_fn, j: int, sd: float, *, seed: int, paths: np.ndarray, delta: float = 0.05) -> dict:
    """CRN central finite difference of the metric per one-sd additive shift of input j:
    (M(theta_j + delta sd) - M(theta_j - delta sd)) / (2 delta), same paths, with its SE."""
    base = ev.evaluate(seed=seed, paths=paths)
    mask = np.zeros(ev.N)
    mask[j] = 1.0
    vals = {}
    for s in (+1, -1):
        over = base.inputs.copy()
        over[:, j] = base.inputs[:, j] + s * delta * sd
        vals[s] = metric_fn(ev.evaluate(seed=seed, paths=paths, theta_over=over, mask=mask))
    d = (vals[1] - vals[-1]) / (2 * delta)
    return {"dM_per_sd": float(d.mean()), "se": float(d.std(ddof=1) / math.sqrt(d.size))}
