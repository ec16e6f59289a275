"""``configure()``: the process-wide runtime settings, in one call, before the first simulation."""

from __future__ import annotations

import os


def configure(*, host_devices: int | None = None, compilation_cache: str | None = None, float64: bool = False) -> dict:
    """Set the runtime settings a ``rackrisk`` command sets, for a notebook or a script.

    Call it before the first ``simulate`` (JAX reads most of these once, when it starts):

    * ``host_devices``: CPU devices to split paths over (default: ``RACKRISK_HOST_DEVICES``, else one
      per core; engine/host_devices.py). Results do not depend on it.
    * ``compilation_cache``: directory of JAX's persistent compilation cache, ``"off"`` to disable
      (default: ``RACKRISK_JAX_CACHE``, else ``~/.cache/rackrisk/jax``).
    * ``float64``: enable 64-bit arrays (needed for ``[run] dtype = "float64"``; process-wide).

    Also limits glibc malloc arenas (engine/malloc_tuning.py) when JAX has not started yet.
    Returns the settings in force. Raises ``ValueError`` on an invalid device count.
    """
    from engine.host_devices import use_all_cores
    from engine.malloc_tuning import limit_malloc_arenas

    if host_devices is not None:
        if host_devices < 1:
            raise ValueError(f"host_devices must be a positive integer, got {host_devices}")
        os.environ["RACKRISK_HOST_DEVICES"] = str(host_devices)
    if compilation_cache is not None:
        os.environ["RACKRISK_JAX_CACHE"] = compilation_cache
    limit_malloc_arenas()
    devices = use_all_cores()
    import jax

    if float64:
        jax.config.update("jax_enable_x64", True)
    return {"host_devices": devices, "compilation_cache": os.environ.get("RACKRISK_JAX_CACHE", "~/.cache/rackrisk/jax"),
            "float64": bool(jax.config.jax_enable_x64), "backend": jax.default_backend()}
