"""One XLA host device per core (the default), so that a chunk's shards run on separate cores.

``engine.sharding`` splits each chunk over every local device with ``shard_map`` and gives the same
numbers, bit for bit, on one device or several (tests/test_multi_device.py,
tests/test_host_devices.py), so asking XLA for one host device per core lets the CPU run the shards
in parallel (docs/performance.md).

Why one device per core is the default (the measurements): docs/decisions/0010.

``use_all_cores()`` is called by ``rackrisk run`` before JAX starts. The count is, in order:

* the user's own ``--xla_force_host_platform_device_count`` in ``XLA_FLAGS``: left alone;
* ``RACKRISK_HOST_DEVICES``: a positive integer, or ``auto`` (the default: the cores this process
  may run on, ``os.sched_getaffinity``); ``1`` keeps JAX's single host device;
* nothing is changed once JAX's backends are initialised (a library caller that already ran JAX).
  On a GPU machine the extra CPU devices are unused: ``engine.sharding`` shards over the default
  backend's devices (the GPUs).

It sets JAX's ``jax_num_cpu_devices`` option (this process only; no environment variable is
changed, so subprocesses and Dask workers are not affected).
"""

from __future__ import annotations

import os

ENV = "RACKRISK_HOST_DEVICES"
FLAG = "xla_force_host_platform_device_count"


def wanted_host_devices(environ=None) -> int | None:
    """The host-device count to ask for, or ``None`` to leave JAX's default (pure Python, no JAX).

    Raises ValueError for a malformed ``RACKRISK_HOST_DEVICES`` (the CLI reports it, exit 2).
    """
    env = os.environ if environ is None else environ
    raw = env.get(ENV, "auto").strip().lower()
    if raw in ("", "auto"):
        try:
            n = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):  # not Linux
            n = os.cpu_count() or 1
    else:
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n < 1:  # checked first: a malformed setting is an error even where XLA_FLAGS decides
            raise ValueError(f"environment variable {ENV} must be 'auto' or a positive integer, got {raw!r}")
    if FLAG in env.get("XLA_FLAGS", ""):
        return None
    return n if n > 1 else None


def use_all_cores() -> int | None:
    """Ask JAX for ``wanted_host_devices()`` CPU devices if it is not started yet; returns the count set (or None)."""
    n = wanted_host_devices()
    if n is None:
        return None
    import jax

    try:
        jax.config.update("jax_num_cpu_devices", n)
    except (RuntimeError, AttributeError, KeyError, ValueError):  # backends already initialised, or an older JAX
        return None
    return n
