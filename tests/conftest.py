"""Test-session settings.

``rackrisk run`` asks JAX for ``RACKRISK_HOST_DEVICES`` host devices and sizes XLA's thread pools
(``PJRT_NPROC``) to the cores free when it starts (engine/host_devices.py). In-process CLI tests would otherwise
switch the whole pytest process to whatever the first test that starts JAX picked, from the load of the moment:
with two pytest workers each would see the other's load and take one thread for its whole life, and a worker
left alone at the end of the session would run on one core. The suite pins one host device and XLA's default
pool (every usable core, as before the sizing existed); numbers are the same either way
(tests/test_multi_device.py), and tests/test_host_devices.py checks the thread and device sizing in subprocesses.

JAX's persistent compilation cache (``RACKRISK_JAX_CACHE``; the engine's default is ``~/.cache/rackrisk/jax``)
is a fresh temporary folder for the session, unless the variable is set already: the process that loads this file
first (pytest itself, or xdist's controller) makes it, the xdist workers and every subprocess a test starts
inherit it, so a kernel compiled once in the session is read back by the other processes (as CI's empty cache
would fill during its run), nothing is read from or written to the user's cache, and the folder is removed when
that first process exits.
"""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("RACKRISK_HOST_DEVICES", "1")
os.environ.setdefault("PJRT_NPROC", str(len(os.sched_getaffinity(0))))

if "RACKRISK_JAX_CACHE" not in os.environ:
    _SESSION_JAX_CACHE = tempfile.mkdtemp(prefix="rackrisk-test-jax-")
    os.environ["RACKRISK_JAX_CACHE"] = _SESSION_JAX_CACHE
    atexit.register(shutil.rmtree, _SESSION_JAX_CACHE, ignore_errors=True)
