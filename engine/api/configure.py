"""``configure()``: the process-wide runtime settings, in one call, before the first simulation."""

from __future__ import annotations

import os
import warnings


def configure(*, threads: int | None = None, host_devices: int | None = None, compilation_cache: str | None = None,
              float64: bool = False) -> dict:
    """Set the runtime settings a ``rackrisk`` command sets, for a notebook or a script.

    Call it before the first ``simulate`` (JAX reads the thread and device settings once, when its
    backends start; a later call changes neither and warns if one was asked for):

    * ``threads``: CPU threads of XLA's pools and XLA host devices (a positive integer; default: the
      user's ``PJRT_NPROC``, else the cores free now: cores − 1-minute load average;
      engine/host_devices.py). The ``rackrisk`` commands take it from ``--threads`` or the
      scenario's ``[run] threads``; in Python it is set here, once per process. Results do not
      depend on it.
    * ``host_devices``: CPU devices to split paths over (default: ``RACKRISK_HOST_DEVICES``, else one
      per thread). Results do not depend on it.
    * ``compilation_cache``: directory of JAX's persistent compilation cache, ``"off"`` to disable
      (default: ``RACKRISK_JAX_CACHE``, else ``~/.cache/rackrisk/jax``).
    * ``float64``: enable 64-bit arrays (needed for ``[run] dtype = "float64"``; process-wide).

    Also limits glibc malloc arenas (engine/malloc_tuning.py) when JAX has not started yet.
    Returns the settings in force: ``threads`` (``None`` when JAX had already started), ``host_devices``
    (JAX's CPU device count), ``compilation_cache``, ``float64``, ``backend``. Raises ``ValueError``
    on an invalid thread or device count.
    """
    from engine.host_devices import ENV, apply_plan, plan_threads
    from engine.malloc_tuning import limit_malloc_arenas

    if host_devices is not None:
        if isinstance(host_devices, bool) or not isinstance(host_devices, int) or host_devices < 1:
            raise ValueError(f"host_devices must be a positive integer, got {host_devices!r}")
        os.environ[ENV] = str(host_devices)
    plan = plan_threads(threads, source="configure(threads=)")  # checks threads before anything is changed
    if compilation_cache is not None:
        os.environ["RACKRISK_JAX_CACHE"] = compilation_cache
    limit_malloc_arenas()
    applied = apply_plan(plan)
    if not applied and (threads is not None or host_devices is not None):
        warnings.warn("configure(): JAX has already started in this process, so threads and host devices stay as they are; "
                      "call configure() before the first simulate (or restart the kernel)", stacklevel=2)
    elif plan.warning:
        warnings.warn(plan.warning, stacklevel=2)
    import jax

    if float64:
        jax.config.update("jax_enable_x64", True)
    return {"threads": plan.threads if applied else None, "host_devices": len(jax.devices("cpu")),
            "compilation_cache": os.environ.get("RACKRISK_JAX_CACHE", "~/.cache/rackrisk/jax"),
            "float64": bool(jax.config.jax_enable_x64), "backend": jax.default_backend()}


def default_runtime() -> None:
    """Before the first simulation of a process that did not call ``configure()``: ``configure()`` with its
    defaults, the runtime a ``rackrisk`` command sets itself. Nothing once JAX has started (then JAX's
    settings stay, whoever made them)."""
    from engine.host_devices import jax_started

    if not jax_started():
        configure()
