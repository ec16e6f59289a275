"""A per-path function that, over a chunk of paths, runs only on the paths that need it (JAX).

``due_rows_only(fn, due, neutral)`` returns ``g`` with ``g(p) == fn(p)`` for one path (``p`` a pytree of
arrays). Under ``vmap`` over B paths, ``g`` evaluates ``due(p)`` (a scalar bool per path) and runs ``fn``
on the due paths only, gathered in blocks of M = B/8 rows (whole 64-path SIMD groups, engine/sharding.py
``PATH_LANES``): a loop over ceil(due paths / M) blocks, a trip count that is one number for the chunk;
every other path gets ``neutral(p)``. One block program is compiled whatever the month's count.

Contract (the caller's): for a path that is not due, ``fn(p)`` equals ``neutral(p)`` exactly, so no
result depends on the block (the impairment test: an untested month books exact zeros and leaves the
book as it was, engine/kernel/impairment_month.py). XLA compiles the block apart from the rest of the
step, so a due path's float32 values can differ in the last bits from an ungathered step's (decisions/0017);
a path's values do not depend on the block it lands in (blocks are whole SIMD groups; tests/test_fan_paths.py,
tests/test_invariance.py, tests/test_multi_device.py compare runs path by path).

Not differentiable (``jax.custom_batching.custom_vmap``): the sensitivity evaluator builds its step
without it (``path_fn(..., specialise=False)``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

LANES = 64  # rows of a block are whole SIMD groups (engine/sharding.py PATH_LANES)
BLOCK_FRACTION = 8  # a block holds B/8 paths


def _block(axis_size: int, frac: int) -> int:
    return -(-(-(-axis_size // frac)) // LANES) * LANES


def due_rows_only(fn, due, neutral):
    """``g(p)``: ``fn(p)`` per path, computed only for due paths under ``vmap`` (module docstring)."""
    g = jax.custom_batching.custom_vmap(fn)

    @g.def_vmap
    def rule(axis_size, in_batched, p):
        axes = jax.tree.map(lambda b: 0 if b else None, in_batched[0])
        run = lambda q: jax.vmap(fn, in_axes=(axes,))(q)  # noqa: E731
        if not _any(axes):  # the same inputs on every path: compute once per path as vmap would
            out = jax.vmap(fn, in_axes=(axes,), axis_size=axis_size)(p)
            return out, jax.tree.map(lambda _: True, out)
        is_due = jax.vmap(due, in_axes=(axes,))(p)  # (B,) bool
        # gathered at every chunk size, even where one block holds the whole chunk: a due path's values then
        # come from the block program whatever the chunk size or device count (tests/test_invariance.py)
        m = _block(axis_size, BLOCK_FRACTION)
        n_max = -(-axis_size // m)
        order = jnp.nonzero(is_due, size=n_max * m, fill_value=axis_size)[0]  # the due rows first; then out-of-range fillers

        def block(i, acc):
            idx = jax.lax.dynamic_slice(order, (i * m,), (m,))
            sub = jax.tree.map(lambda a, x: x if a is None else jnp.take(x, idx, axis=0, mode="clip"), axes, p, is_leaf=_is_none)
            return jax.tree.map(lambda whole, rows: whole.at[idx].set(rows, mode="drop"), acc, run(sub))

        n_blocks = (is_due.sum() + (m - 1)) // m
        out = jax.lax.fori_loop(0, n_blocks, block, jax.vmap(neutral, in_axes=(axes,))(p))
        return out, jax.tree.map(lambda _: True, out)

    return g


def _is_none(x) -> bool:
    return x is None


def _any(axes) -> bool:
    return any(a is not None for a in jax.tree.leaves(axes, is_leaf=_is_none))
