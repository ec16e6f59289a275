"""Paths sharded over 2 CPU host devices give the same summary as one device, bit for bit.

The 2-device run is a subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count=2`` (the
flag must be set before JAX starts); both the gathered and the streamed paths are checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import json, sys
import jax
import engine.reduce as R
from engine.app import run_scenario
R.EXACT_MAX_PATHS = int(sys.argv[1])
r = run_scenario("scenarios/bench/reference.toml", paths=1500, seed=11, store="summary", chunk_paths=512, write=False)
s = {k: v for k, v in r.summary.items() if k != "run"}
print(json.dumps({"devices": len(jax.local_devices()), "n_devices_run": r.run.n_devices, "summary": s}, sort_keys=True, default=float))
"""


def _run(devices: int, exact_max: int) -> dict:
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={devices}").strip()
    env["JAX_PLATFORMS"] = "cpu"
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(exact_max)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_two_devices_equal_one_device_gathered_and_streamed():
    for exact_max in (10**9, 0):  # gathered, then streamed
        one, two = _run(1, exact_max), _run(2, exact_max)
        assert one["devices"] == 1 and two["devices"] == 2 and two["n_devices_run"] == 2
        assert json.dumps(one["summary"], sort_keys=True) == json.dumps(two["summary"], sort_keys=True), exact_max
