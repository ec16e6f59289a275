"""Paths sharded over all local devices (jax.sharding): same numbers on one device or many.

A chunk's path indices ``idx`` (B,) are split over a 1-D mesh ``paths`` of every local device
(GPUs, or CPU host devices under ``XLA_FLAGS=--xla_force_host_platform_device_count=N``) with
``jax.shard_map``: each device runs the one-device chunk program on its B / D paths. Per-path
values depend on the path index only (engine.random), per-block sums (engine.reduce) are taken
within a device because a chunk is a whole number of blocks per device (``chunk_multiple``), and
per-device extrema and histogram counts are combined exactly on the host, so the results equal a
one-device run bit for bit (tests/test_multi_device.py).
"""

from __future__ import annotations

from functools import lru_cache


# Paths per device in a chunk are a multiple of this. XLA:CPU computes the tail of a loop that is
# not a whole number of SIMD vectors with scalar code, whose last bit can differ (measured: 2 of
# 1,000 baseline paths' revenue in a chunk of 250); 64 paths covers every vector width and unroll.
PATH_LANES = 64


@lru_cache(maxsize=1)
def _mesh():
    import jax
    import numpy as np
    from jax.sharding import Mesh

    return Mesh(np.array(jax.local_devices()), ("paths",))


def n_devices() -> int:
    import jax

    return len(jax.local_devices())


def chunk_multiple(block_paths: int = PATH_LANES) -> int:
    """Chunk sizes are rounded up to a multiple of this: whole blocks (and whole SIMD vectors) on every device."""
    b = int(block_paths)
    b = -(-b // PATH_LANES) * PATH_LANES
    return n_devices() * b


def shard_paths(fn, compiler_options=None):
    """Jit ``fn(seed, idx, *rest)`` with ``idx`` split over the devices along the paths.

    ``jax.shard_map``: every device runs the very program a one-device run would run on its share
    of the paths (B / D of them), so per-path values do not depend on the device count (SPMD
    auto-partitioning was tried first and changed the last bits of some per-path sums).
    ``compiler_options``: XLA options for the multi-device program (engine/xla_options.py). Every
    output must have a leading axis to concatenate over devices: per-path values, per-block
    sums, and a length-1 axis for per-device extrema and histograms (engine.reduce).
    """
    import jax

    if n_devices() == 1:
        return jax.jit(fn, compiler_options=compiler_options)
    from jax.sharding import NamedSharding, PartitionSpec as P

    mesh = _mesh()
    sharding = NamedSharding(mesh, P("paths"))
    compiled = {}
    inner = jax.jit(fn)

    def sharded(seed, idx, *rest):
        k = len(rest)
        if k not in compiled:
            in_specs = (P(), P("paths")) + (P(),) * k
            # fn jitted inside the shard_map, as in a one-device run: inlined un-jitted, XLA fused the
            # general step differently and the last bits of per-path sums changed (tests/test_multi_device.py)
            compiled[k] = jax.jit(jax.shard_map(inner, mesh=mesh, in_specs=in_specs, out_specs=P("paths"), check_vma=False),
                                  compiler_options=compiler_options)
        return compiled[k](seed, jax.device_put(idx, sharding), *rest)

    return sharded


def compile_sharded(fn, seed, idx, *rest, compiler_options=None):
    """``shard_paths(fn)`` compiled now (ahead of time) for the shapes of these example arguments.

    Returns ``call(seed, idx, *rest)`` with the same results as ``shard_paths(fn)``. Used by the
    streamed runner to compile its reducing function before anything else is in memory (the XLA
    compile's transient memory is the peak of a cold run: docs/performance.md).
    """
    import jax

    if n_devices() == 1:
        return jax.jit(fn, compiler_options=compiler_options).lower(seed, idx, *rest).compile()
    from jax.sharding import NamedSharding, PartitionSpec as P

    mesh = _mesh()
    sharding = NamedSharding(mesh, P("paths"))
    in_specs = (P(), P("paths")) + (P(),) * len(rest)
    jitted = jax.jit(jax.shard_map(fn, mesh=mesh, in_specs=in_specs, out_specs=P("paths"), check_vma=False),
                     compiler_options=compiler_options)
    compiled = jitted.lower(seed, jax.device_put(idx, sharding), *rest).compile()

    def call(seed_, idx_, *rest_):
        return compiled(seed_, jax.device_put(idx_, sharding), *rest_)

    return call
