"""Paths sharded over all local devices (jax.sharding): same numbers on one device or many.

A chunk's path indices ``idx`` (B,) are placed with ``NamedSharding(mesh, P("paths"))`` on a 1-D mesh
of every local device (GPUs, or CPU host devices under
``XLA_FLAGS=--xla_force_host_platform_device_count=N``); the jitted chunk function then runs each
device's share of the paths where the indices live (computation follows data) and XLA inserts
the cross-device reductions (integer histogram counts, min, max: exact in any order). Per-path
values depend on the path index only (engine.random), and per-block sums (engine.reduce) are taken
within a device because a chunk is a whole number of blocks per device (``chunk_multiple``), so
the results equal a one-device run bit for bit (tests/test_multi_device.py).
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _mesh():
    import jax
    import numpy as np
    from jax.sharding import Mesh

    return Mesh(np.array(jax.local_devices()), ("paths",))


def n_devices() -> int:
    import jax

    return len(jax.local_devices())


def chunk_multiple(block_paths: int) -> int:
    """Chunk sizes are rounded up to a multiple of this: whole blocks on every device."""
    return n_devices() * int(block_paths)


def shard_paths(fn):
    """Wrap ``fn(seed, idx, *rest)`` so that ``idx`` is split over the devices along the paths."""
    if n_devices() == 1:
        return fn
    import jax
    from jax.sharding import NamedSharding, PartitionSpec

    sharding = NamedSharding(_mesh(), PartitionSpec("paths"))

    def sharded(seed, idx, *rest):
        return fn(seed, jax.device_put(idx, sharding), *rest)

    return sharded
