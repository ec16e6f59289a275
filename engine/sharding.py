"""Paths sharded over all local devices (jax.sharding): same numbers on one device or many.

A chunk of B paths, path indices ``idx`` (B,) uint32 = start + [0, B), is split over a 1-D mesh
``paths`` of the D local devices of JAX's default backend (GPUs, or the XLA host devices that
engine/host_devices.py asks for) with ``jax.shard_map``: device d runs the one-device chunk program
on the B / D paths start + d * B / D + [0, B / D). B must be a multiple of ``chunk_multiple()``.

Guarantee: per-path values depend on the path index only (engine.random); per-block sums
(engine.reduce) are taken within a device because a chunk is a whole number of blocks per device;
per-device extrema and histogram counts are combined exactly on the host. The results therefore
equal a one-device run bit for bit, for any D (tests/test_multi_device.py).
"""

from __future__ import annotations

from functools import lru_cache


# Paths per device in a chunk are a multiple of this, so that no device's share ends in a partial
# SIMD vector: XLA:CPU computes such a tail with scalar code, whose last bit can differ from the
# vector code's. 64 paths covers every vector width and unroll (docs/decisions/0012).
PATH_LANES = 64


@lru_cache(maxsize=1)
def _mesh():
    import jax
    import numpy as np
    from jax.sharding import Mesh

    return Mesh(np.array(jax.local_devices()), ("paths",))


def n_devices() -> int:
    """D: the local devices of JAX's default backend (initialises JAX's backends if they are not yet)."""
    import jax

    return len(jax.local_devices())


def chunk_multiple(block_paths: int = PATH_LANES) -> int:
    """Chunk sizes are rounded up to a multiple of this: whole blocks (and whole SIMD vectors) on every device."""
    b = int(block_paths)
    b = -(-b // PATH_LANES) * PATH_LANES
    return n_devices() * b


def _indexed(fn, chunk_paths: int):
    """``g(seed, start, *rest) = fn(seed, idx, *rest)`` with this device's share of the chunk's path indices.

    The chunk is paths [start, start + chunk_paths); with D devices, device d takes
    idx = start + d * chunk_paths / D + [0, chunk_paths / D) (uint32), built on the device: no index
    array is copied from the host per chunk. ``fn`` is jitted inside (a nested call), on one device as
    on several, so every device compiles the same per-device program.
    """
    import jax
    import jax.numpy as jnp

    D = n_devices()
    if chunk_paths % D:
        raise ValueError(f"chunk of {chunk_paths} paths is not a whole number of shards over {D} devices")
    per_device = chunk_paths // D
    inner = jax.jit(fn)

    def g(seed, start, *rest):
        d = jax.lax.axis_index("paths") if D > 1 else 0
        offset = jnp.asarray(d, jnp.uint32) * jnp.uint32(per_device)
        idx = jnp.asarray(start, jnp.uint32) + offset + jnp.arange(per_device, dtype=jnp.uint32)
        return inner(seed, idx, *rest)

    return g


def shard_paths(fn, chunk_paths: int, compiler_options=None, out_specs=None):
    """``call(seed, start, *rest)``: ``fn(seed, idx, *rest)`` on the chunk ``idx = start + [0, chunk_paths)``,
    jitted, with the chunk's paths split over the devices.

    ``jax.shard_map``: every device runs the very program a one-device run would run on its share
    of the paths (B / D of them), so per-path values do not depend on the device count
    (docs/decisions/0012 says why not SPMD auto-partitioning). Each device builds its own indices (``_indexed``); ``start`` is a scalar, so dispatching a chunk copies
    nothing to the devices. ``compiler_options``: XLA options (engine/xla_options.py). By default
    every output has a leading axis to concatenate over devices: per-path values, per-block
    sums, and a length-1 axis for per-device extrema and histograms (engine.reduce);
    ``out_specs`` (a pytree prefix of ``PartitionSpec``) says otherwise, e.g. ``P(None, "paths")``
    for an output whose paths are its second axis (engine/packing.py).
    """
    import jax

    g = _indexed(fn, chunk_paths)
    if n_devices() == 1:
        return jax.jit(g, compiler_options=compiler_options)
    from jax.sharding import PartitionSpec as P

    mesh = _mesh()
    compiled = {}

    def sharded(seed, start, *rest):
        k = len(rest)
        if k not in compiled:
            in_specs = (P(), P()) + (P(),) * k
            outs = P("paths") if out_specs is None else out_specs
            compiled[k] = jax.jit(jax.shard_map(g, mesh=mesh, in_specs=in_specs, out_specs=outs, check_vma=False),
                                  compiler_options=compiler_options)
        return compiled[k](seed, start, *rest)

    # executables compiled so far, as a jitted function reports them (tests/test_compile_once.py)
    sharded._cache_size = lambda: sum(f._cache_size() for f in compiled.values())
    return sharded


def compile_sharded(fn, chunk_paths: int, seed, start, *rest, compiler_options=None, per_device=(), donate=()):
    """``shard_paths(fn, chunk_paths)`` compiled now (ahead of time) for the shapes of these example arguments.

    Returns ``call(seed, start, *rest)`` with the same results as ``shard_paths(fn, chunk_paths)``; the
    compilation happens in this call, so its transient memory is freed before the caller allocates
    anything else (the streamed runner's use).

    ``per_device``: positions in ``rest`` of arguments with one row per device (leading axis D, split
    over the devices like the outputs; see ``per_device_zeros``) instead of the same value on every
    device; ``donate``: positions in ``rest`` whose buffers the call may reuse for its outputs (an
    accumulator carried from chunk to chunk is updated in place).
    """
    import jax

    g = _indexed(fn, chunk_paths)
    donate_argnums = tuple(2 + i for i in donate)
    if n_devices() == 1:
        return jax.jit(g, compiler_options=compiler_options, donate_argnums=donate_argnums).lower(seed, start, *rest).compile()
    from jax.sharding import PartitionSpec as P

    in_specs = (P(), P()) + tuple(P("paths") if i in per_device else P() for i in range(len(rest)))
    jitted = jax.jit(jax.shard_map(g, mesh=_mesh(), in_specs=in_specs, out_specs=P("paths"), check_vma=False),
                     compiler_options=compiler_options, donate_argnums=donate_argnums)
    return jitted.lower(seed, start, *rest).compile()


def per_device_zeros(shape: tuple[int, ...], dtype):
    """Zeros of global shape (D, *shape) with row d on device d (an argument listed in ``per_device``)."""
    import jax
    import jax.numpy as jnp

    D = n_devices()
    if D == 1:
        return jnp.zeros((1,) + tuple(shape), dtype)
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    return jax.jit(lambda: jnp.zeros((D,) + tuple(shape), dtype), out_shardings=NamedSharding(_mesh(), P("paths")))()
