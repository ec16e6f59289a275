"""How many CPU threads and XLA host devices a simulating process uses: the cores actually free, or a set number.

One setting, ``threads`` (a positive integer), sizes both, once per process, before JAX
initialises its backends. That happens at the first device query or computation (in a run:
``engine.backend_tuning``'s backend lookup, ``engine.xla_options.chunk_compiler_options``, the first
chunk); after it XLA has made its thread pools and devices, and nothing here changes them:

* XLA:CPU's thread pools: the environment variable ``PJRT_NPROC``, which XLA reads when JAX
  creates its CPU client (``xla::DefaultThreadPoolSize``; the intra-op pool ``XLAEigen`` and the
  client's dispatch pool). The variable stays set in this process's environment, so worker
  processes it starts (``rackrisk sweep``'s local cluster) inherit it.
* XLA host devices: JAX's ``jax_num_cpu_devices`` (see below), so that
  ``engine.sharding`` splits a chunk's paths over that many devices (results are the same bit for
  bit on any device count: tests/test_multi_device.py, tests/test_host_devices.py).

Where the count comes from, first match wins (``plan_threads``):

1. an explicit value: ``--threads N`` on a command, ``configure(threads=N)``, else ``[run] threads``
   of the scenario the command runs;
2. the user's own ``PJRT_NPROC`` (or ``NPROC``) in the environment: left alone and used;
3. ``auto``: the free cores, ``cores - load`` rounded (halves up), at least 1, where ``cores`` is
   the number of CPUs this process may run on (``os.sched_getaffinity``, capped by a cgroup v2
   ``cpu.max`` quota) and ``load`` is the 1-minute load average (``os.getloadavg``). The load average lags: a job that
   started seconds ago is not counted yet, so jobs started together should be given ``--threads``.

The host-device count is the thread count where a count is set (1 and 2 above), and the cores
(not the free cores) under ``auto``: the compiled chunk functions are sharded per device count, so a
count that followed the load would miss the compilation cache whenever the load moved; the devices
then share the free cores' threads. ``RACKRISK_HOST_DEVICES`` (a positive integer) or the user's
``XLA_FLAGS`` with ``--xla_force_host_platform_device_count`` (theirs, untouched) set it apart. XLA's LLVM compile pool is sized by the affinity alone (``tsl::port::MaxParallelism``);
``taskset`` bounds it.

On a GPU machine the CPU settings apply to the CPU client only; ``engine.sharding`` shards over the
default backend's devices (the GPUs).
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass

ENV = "RACKRISK_HOST_DEVICES"
FLAG = "xla_force_host_platform_device_count"
NPROC = "PJRT_NPROC"  # read by XLA when the CPU client is created; NPROC is its fallback name
MAX_THREADS = 1024  # a sanity bound on an explicit count (more than the machine has is allowed, with a warning)


@dataclass(frozen=True)
class ThreadPlan:
    """The threads and host devices for this process, and why.

    ``threads``: XLA:CPU pool size (``PJRT_NPROC``); ``host_devices``: CPU devices to ask JAX for,
    ``None`` to leave JAX's count (one, or the user's ``XLA_FLAGS``); ``source``: where ``threads``
    came from (``--threads``, ``[run] threads``, ``configure(threads=)``, ``PJRT_NPROC``, ``auto``);
    ``cores``: CPUs this process may run on; ``load``: the 1-minute load average that ``auto`` used
    (``None`` otherwise); ``warning``: one line when ``threads`` exceeds ``cores``, else ``None``.
    """

    threads: int
    host_devices: int | None
    source: str
    cores: int
    load: float | None = None
    warning: str | None = None


def parse_threads(value, what: str = "--threads") -> int:
    """A thread count from user input (``"4"``, ``4``) -> ``int`` in [1, MAX_THREADS].

    Raises ``ValueError`` with one line naming ``what`` and the allowed values otherwise
    (``0``, ``-1``, ``abc``, ``1.5``, ``True``).
    """
    text = value.strip() if isinstance(value, str) else value
    n = None
    if isinstance(text, str) and text.isdigit():
        n = int(text)
    elif isinstance(text, int) and not isinstance(text, bool):
        n = text
    if n is None or not 1 <= n <= MAX_THREADS:
        raise ValueError(f"{what} must be a whole number of threads from 1 to {MAX_THREADS}, got {value!r}")
    return n


def _cgroup_cpu_limit(root: str = "/sys/fs/cgroup") -> int | None:
    """CPUs allowed by this process's cgroup v2 ``cpu.max`` quota, rounded up; ``None`` when unlimited or unreadable."""
    rel = ""
    try:
        with open("/proc/self/cgroup", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("0::"):
                    rel = line[3:].strip().lstrip("/")
    except OSError:
        pass
    for d in dict.fromkeys([os.path.join(root, rel), root]):
        try:
            with open(os.path.join(d, "cpu.max"), encoding="ascii") as fh:
                quota, period = fh.read().split()[:2]
        except (OSError, ValueError):
            continue
        if quota == "max":
            return None
        try:
            return max(1, math.ceil(int(quota) / int(period)))
        except (ValueError, ZeroDivisionError):
            return None
    return None


def usable_cores() -> int:
    """CPUs this process may run on: its affinity set (``os.cpu_count`` where there is none), capped by a cgroup quota."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        n = os.cpu_count() or 1
    quota = _cgroup_cpu_limit()
    return max(1, min(n, quota) if quota else n)


def free_cores(cores: int, load: float) -> int:
    """The cores not taken by the machine's 1-minute ``load``: ``cores - load`` rounded (halves up), from 1 to ``cores``."""
    return max(1, min(cores, math.floor(cores - max(0.0, load) + 0.5)))


def _load_average() -> float:
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):  # no load average (not Unix): assume an idle machine
        return 0.0


def wanted_host_devices(threads: int, environ=None) -> int | None:
    """The host-device count to ask JAX for with ``threads`` threads, or ``None`` to leave JAX's (pure Python, no JAX).

    ``RACKRISK_HOST_DEVICES``: ``auto`` (the default: one device per thread) or a positive integer;
    the user's ``--xla_force_host_platform_device_count`` in ``XLA_FLAGS`` wins (``None``); a count
    of 1 is JAX's default (``None``). Raises ``ValueError`` for a malformed ``RACKRISK_HOST_DEVICES``
    (checked first: an error even where ``XLA_FLAGS`` decides).
    """
    env = os.environ if environ is None else environ
    raw = env.get(ENV, "auto").strip().lower()
    if raw in ("", "auto"):
        n = threads
    else:
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"environment variable {ENV} must be 'auto' or a positive integer, got {raw!r}")
    if FLAG in env.get("XLA_FLAGS", ""):
        return None
    return n if n > 1 else None


def plan_threads(threads: int | None = None, *, source: str = "--threads", environ=None, cores: int | None = None,
                 load: float | None = None) -> ThreadPlan:
    """The ``ThreadPlan`` for an explicit ``threads`` (from ``source``) or, when ``None``, the user's
    ``PJRT_NPROC``/``NPROC`` or the free cores (module docstring). Pure: reads the environment
    (``environ``), the affinity and the load average (``cores``/``load`` given: those instead).

    Raises ``ValueError`` for a ``threads`` outside [1, MAX_THREADS] or a malformed ``RACKRISK_HOST_DEVICES``.
    """
    env = os.environ if environ is None else environ
    cores = usable_cores() if cores is None else int(cores)
    used_load = None
    if threads is not None:
        n = parse_threads(threads, source)
    else:
        user = next((env[k] for k in (NPROC, "NPROC") if env.get(k, "").strip().isdigit() and int(env[k]) > 0), None)
        if user is not None:
            n, source = int(user), NPROC
        else:
            used_load = _load_average() if load is None else float(load)
            n, source = free_cores(cores, used_load), "auto"
    warning = None
    if n > cores:
        warning = f"{source} {n} is more than the {cores} core{'s' if cores != 1 else ''} this process may run on: its threads will share them"
    # auto: the devices follow the cores, not the load, so that a load change does not change the compiled
    # functions (sharded per device count) and miss the compilation cache; a set count sizes both
    devices = cores if source == "auto" else n
    return ThreadPlan(threads=n, host_devices=wanted_host_devices(devices, env), source=source, cores=cores, load=used_load, warning=warning)


def jax_started() -> bool:
    """Whether JAX's backends are initialised in this process (XLA's pools and devices then exist)."""
    if "jax" not in sys.modules:
        return False
    try:
        from jax._src import xla_bridge

        return bool(xla_bridge.backends_are_initialized())
    except (ImportError, AttributeError):  # another JAX: assume started (nothing is changed)
        return True


def apply_plan(plan: ThreadPlan) -> bool:
    """Set ``PJRT_NPROC`` and ask JAX for ``plan.host_devices`` CPU devices; ``False`` (nothing changed)
    when JAX's backends are already initialised."""
    if jax_started():
        return False
    os.environ[NPROC] = str(plan.threads)
    if plan.host_devices is not None:
        import jax

        try:
            jax.config.update("jax_num_cpu_devices", plan.host_devices)
        except (RuntimeError, AttributeError, KeyError, ValueError):  # started meanwhile, or an older JAX
            return False
    return True


def use_threads(threads: int | None = None, *, source: str = "--threads") -> ThreadPlan | None:
    """``plan_threads`` applied to this process; the plan in force, or ``None`` when JAX had already
    started (nothing changed). Raises ``ValueError`` as ``plan_threads``."""
    plan = plan_threads(threads, source=source)
    return plan if apply_plan(plan) else None
