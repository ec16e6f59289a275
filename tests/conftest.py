"""Test-session settings: one process state for the whole suite, the same whether one test runs or all.

* **Host devices: 4.** ``rackrisk run`` asks JAX for ``RACKRISK_HOST_DEVICES`` host devices and sizes XLA's
  thread pools (``PJRT_NPROC``) to the cores free when it starts (engine/host_devices.py); the prior fits ask
  for 4 host devices for their chains (priors/inference.py ``request_parallel_chains``) when imported before
  JAX, which collecting tests/priors does. The suite sets that count itself (a user's ``XLA_FLAGS`` device
  count wins over ``RACKRISK_HOST_DEVICES``), so a test run alone sees the devices it sees in the full suite:
  in-process runs split each chunk over 4 devices. XLA's pool is every usable core (in-process CLI tests
  would otherwise size it from the load of the moment, and the first one would fix it for the worker's life).
* **JAX's 64-bit mode: on.** Several test modules check float64 arithmetic (and a float64 run switches it on
  for the process); it is switched on here, before any test, so that no result depends on which test ran
  first. Float32 scenarios keep float32 arrays (explicit dtypes), but their programs are traced under 64-bit
  mode; the CLI's float32 programs (64-bit mode off) run in the subprocess tests (tests/test_outputs.py,
  tests/test_multi_device.py, tests/test_host_devices.py, tests/test_bad_input.py).

Numbers are the same at any device or thread count (tests/test_multi_device.py); tests/test_host_devices.py
checks the thread and device sizing in subprocesses.
"""

import os

os.environ.setdefault("RACKRISK_HOST_DEVICES", "1")
os.environ.setdefault("PJRT_NPROC", str(len(os.sched_getaffinity(0))))
if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4").strip()

import jax  # noqa: E402  (after XLA_FLAGS: the backends read it when they start)

jax.config.update("jax_enable_x64", True)
