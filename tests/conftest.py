"""Test-session settings.

``rackrisk run`` asks JAX for ``RACKRISK_HOST_DEVICES`` host devices and sizes XLA's thread pools
(``PJRT_NPROC``) to the cores free when it starts (engine/host_devices.py). In-process CLI tests would otherwise
switch the whole pytest process to whatever the first test that starts JAX picked, from the load of the moment:
with two pytest workers each would see the other's load and take one thread for its whole life, and a worker
left alone at the end of the session would run on one core. The suite pins one host device and XLA's default
pool (every usable core, as before the sizing existed); numbers are the same either way
(tests/test_multi_device.py), and tests/test_host_devices.py checks the thread and device sizing in subprocesses.
"""

import os

os.environ.setdefault("RACKRISK_HOST_DEVICES", "1")
os.environ.setdefault("PJRT_NPROC", str(len(os.sched_getaffinity(0))))
