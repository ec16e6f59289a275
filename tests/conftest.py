"""Test-session settings.

``rackrisk run`` asks JAX for ``RACKRISK_HOST_DEVICES`` host devices (engine/host_devices.py). In-process CLI tests
would otherwise, if a user had set it, switch the whole pytest process to that many devices, depending on which test
happens to start JAX first; the suite pins one host device (numbers are the same either way:
tests/test_multi_device.py) and tests/test_host_devices.py checks the thread and device sizing in subprocesses.
"""

import os

os.environ.setdefault("RACKRISK_HOST_DEVICES", "1")
