"""Simulate paths with some inputs replaced: the engine behind reverse stress tests, tornado,
Sobol indices and gradients.

``Evaluator(model)`` compiles once a function of

    seed, path indices (B,), theta_over (B, N), mask (N,)

that draws every path's inputs as ``rackrisk run`` does (engine.random.draw_inputs: same keys,
so common random numbers with a plain run of the same seed), replaces the inputs where ``mask``
is 1 by ``theta_over``, draws the monthly noise of the same path index, and runs the path
function. ``evaluate`` runs it in fixed-size chunks (padded, as engine.runner) and returns the
per-path scalars, so the metric functions of engine/stress/metrics.py apply unchanged.
Overriding nothing reproduces ``simulate_paths`` path by path (tested).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from engine.compile import Model


def configure(dtype: str) -> None:
    from engine.runner import _configure_jax

    _configure_jax(dtype)


class Evaluator:
    """One compilation of the override function for ``model``; see the module docstring."""

    def __init__(self, model: Model, *, dtype: str = "float32", chunk_paths: int = 8192):
        configure(dtype)
        import jax
        import jax.numpy as jnp

        from engine.random import draw_inputs, draw_noise, root_key
        from engine.kernel.path import make_path_fn

        self.model = model
        self.dtype = dtype
        self.jdtype = jnp.float64 if dtype == "float64" else jnp.float32
        self.chunk = chunk_paths
        self.N = len(model.inputs)
        # replaced inputs may be ones the model fixes at zero: no specialisation may rest on their values
        path = make_path_fn(model, self.jdtype, monthly=False, specialise=False)
        jd = self.jdtype

        def one(root, i, over, mask):
            theta, _ = draw_inputs(model, root, i, jd)
            theta = jnp.where(mask > 0, over, theta)
            zp, zf = draw_noise(model, root, i, jd)
            res, _ = path(theta, zp, zf)
            return res, theta

        def chunk(seed, idx, over, mask):
            root = root_key(seed)
            return jax.vmap(lambda i, o: one(root, i, o, mask))(idx, over)

        self._fn = jax.jit(chunk)

    def index(self, name: str) -> int:
        for j, sp in enumerate(self.model.inputs):
            if sp.name == name:
                return j
        raise KeyError(name)

    def evaluate(self, *, seed: int, paths: np.ndarray, theta_over: np.ndarray | None = None, mask: np.ndarray | None = None):
        """Per-path scalars for path indices ``paths`` (P,), inputs replaced where ``mask`` (N,) is 1
        by ``theta_over`` ((P, N) or (N,), broadcast). Returns SimpleNamespace(scalars, inputs)."""
        import jax
        import jax.numpy as jnp

        paths = np.asarray(paths, np.int64)
        P, N, B = paths.size, self.N, int(min(self.chunk, max(paths.size, 1)))
        mask_ = np.zeros(N) if mask is None else np.asarray(mask, np.float64)
        over = np.zeros((P, N)) if theta_over is None else np.broadcast_to(np.asarray(theta_over, np.float64), (P, N))
        parts, thetas = [], []
        for s0 in range(0, P, B):
            keep = min(B, P - s0)
            idx = np.empty(B, np.int64)
            idx[:keep] = paths[s0 : s0 + keep]
            idx[keep:] = paths[s0 + keep - 1]  # padding: a repeated path, dropped below
            ov = np.zeros((B, N))
            ov[:keep] = over[s0 : s0 + keep]
            ov[keep:] = over[s0 + keep - 1]
            res, theta = self._fn(jnp.uint32(seed), jnp.asarray(idx, jnp.uint32), jnp.asarray(ov, self.jdtype), jnp.asarray(mask_, self.jdtype))
            res = jax.tree.map(np.asarray, res)
            parts.append({k: v[:keep] for k, v in res.items()})
            thetas.append(np.asarray(theta)[:keep])
        scalars = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        return SimpleNamespace(scalars=scalars, inputs=np.concatenate(thetas), n_paths=P)

    def metric_at(self, fn, *, seed: int, paths: np.ndarray, j: int | None = None, value: float | None = None) -> np.ndarray:
        """Per-path metric (P,) with input ``j`` set to ``value`` on every path (or nothing replaced)."""
        if j is None:
            return fn(self.evaluate(seed=seed, paths=paths))
        over = np.zeros(self.N)
        over[j] = value
        mask = np.zeros(self.N)
        mask[j] = 1.0
        return fn(self.evaluate(seed=seed, paths=paths, theta_over=over, mask=mask))
