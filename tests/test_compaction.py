"""engine/compaction.py: under vmap, the function runs on the due rows only, in blocks of B/8, and
every row's result equals the plain vmap's (exact: integer-valued float arithmetic here, so the
tolerance is zero)."""

from __future__ import annotations

import numpy as np
import pytest


def _fns():
    import jax.numpy as jnp

    def fn(p):  # "book" changes only where due; the per-row work uses a batched and an unbatched input
        gain = jnp.where(p["due"], p["x"] * p["scale"] + 1.0, 0.0)
        return {"book": p["book"] + gain, "gain": gain}

    def neutral(p):
        return {"book": p["book"], "gain": jnp.zeros_like(p["x"])}

    return fn, (lambda p: p["due"]), neutral


@pytest.mark.parametrize("n, due_frac", [(1024, 0.0), (1024, 0.05), (1024, 0.3), (1024, 1.0), (1000, 0.5), (64, 0.5)])
def test_due_rows_only_equals_plain_vmap(n, due_frac):
    import jax
    import jax.numpy as jnp

    from engine.compaction import due_rows_only

    fn, due, neutral = _fns()
    rng = np.random.default_rng(n + int(due_frac * 100))
    p = {"x": jnp.asarray(rng.integers(0, 100, n), jnp.float32), "book": jnp.asarray(rng.integers(0, 1000, n), jnp.float32),
         "due": jnp.asarray(rng.random(n) < due_frac), "scale": jnp.float32(3.0)}
    axes = ({"x": 0, "book": 0, "due": 0, "scale": None},)
    want = jax.vmap(fn, in_axes=axes)(p)
    got = jax.jit(jax.vmap(due_rows_only(fn, due, neutral), in_axes=axes))(p)
    for k in want:
        np.testing.assert_array_equal(np.asarray(got[k]), np.asarray(want[k]), err_msg=k)
    # hand check of one due row: book + 3 x + 1
    rows = np.nonzero(np.asarray(p["due"]))[0]
    if len(rows):
        i = rows[-1]
        assert float(got["book"][i]) == float(p["book"][i]) + 3.0 * float(p["x"][i]) + 1.0


def test_inside_a_scan_under_vmap():
    """The kernel's use: the month's function inside lax.scan, vmapped over paths (the rule runs per month)."""
    import jax
    import jax.numpy as jnp

    from engine.compaction import due_rows_only

    fn, due, neutral = _fns()
    g = due_rows_only(fn, due, neutral)

    def path(x, with_rule):
        def step(book, t):
            p = {"x": x + t, "book": book, "due": (x + t) % 7 == 0, "scale": jnp.float32(2.0)}
            return (g if with_rule else fn)(p)["book"], None
        return jax.lax.scan(step, jnp.float32(0.0), jnp.arange(12, dtype=jnp.float32))[0]

    xs = jnp.arange(512, dtype=jnp.float32)
    np.testing.assert_array_equal(np.asarray(jax.jit(jax.vmap(lambda x: path(x, True)))(xs)), np.asarray(jax.vmap(lambda x: path(x, False))(xs)))
