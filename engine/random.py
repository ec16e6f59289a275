"""Random streams, keyed by structure so that a path's draws never depend on chunking.

    root            = key(seed)
    stream key      = fold_in(root, STREAM)                     STREAM in {INPUTS, PRICE, FAILURE, POSTERIOR}
    per-name key    = fold_in(stream key, stable_id(name))      input name, generation, cohort, or a
                                                                posterior file's sha256 (machine-independent)
    per-path key    = fold_in(per-name key, path_index)

So path i gets the same numbers whether it runs in a chunk of 1,000 or 100,000, whatever the
number of paths, and an input keeps its draws when other inputs change (common random numbers
across scenarios, used by stress tests). This is the only module that creates keys.
"""

from __future__ import annotations

from enum import IntEnum

import jax
import jax.numpy as jnp

from engine.compile import Model, stable_id
from engine.inputs.distributions import quantile


class Stream(IntEnum):
    INPUTS = 1
    PRICE = 2
    FAILURE = 3
    POSTERIOR = 4


def root_key(seed):
    return jax.random.key(seed)


def _named(root, stream: Stream, name: str):
    return jax.random.fold_in(jax.random.fold_in(root, int(stream)), stable_id(name))


def draw_inputs(model: Model, root, path_index, dtype):
    """Every scalar input for one path: (N,) values and the posterior sample index per file (F,)."""
    z = {}
    for spec in model.inputs:
        if spec.is_random and spec.posterior_draws is None:
            k = jax.random.fold_in(_named(root, Stream.INPUTS, spec.name), path_index)
            z[spec.name] = jax.random.normal(k, (), dtype)
    if model.copula_chol is not None:
        zc = jnp.stack([z[n] for n in model.correlated])
        zc = jnp.asarray(model.copula_chol, dtype) @ zc
        for j, n in enumerate(model.correlated):
            z[n] = zc[j]
    post_index = []
    for f in model.posterior_files:
        n_samples = next(sp.posterior_draws.size for sp in model.inputs if sp.posterior_file == f)
        k = jax.random.fold_in(_named(root, Stream.POSTERIOR, model.posterior_sha256[f]), path_index)
        post_index.append(jax.random.randint(k, (), 0, n_samples))
    values = []
    for spec in model.inputs:
        if spec.posterior_draws is not None:
            i = post_index[model.posterior_files.index(spec.posterior_file)]
            values.append(jnp.asarray(spec.posterior_draws, dtype)[i])
        elif spec.is_random:
            values.append(quantile(spec.dist, z[spec.name]))
        else:
            values.append(jnp.asarray(spec.dist.value, dtype))
    pidx = jnp.stack(post_index) if post_index else jnp.zeros((0,), jnp.int32)
    return jnp.stack(values), pidx


def draw_noise(model: Model, root, path_index, dtype):
    """Monthly shocks for one path: price (T, G) by generation and failures (T, C) by cohort."""
    zp = [jax.random.normal(jax.random.fold_in(_named(root, Stream.PRICE, g), path_index), (model.T,), dtype) for g in model.generations]
    zf = [jax.random.normal(jax.random.fold_in(_named(root, Stream.FAILURE, c), path_index), (model.T,), dtype) for c in model.cohorts]
    return jnp.stack(zp, axis=1), jnp.stack(zf, axis=1)
