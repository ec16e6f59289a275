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
import hashlib, json, sys
import jax
import engine.reduce as R
from engine.app import run_scenario
R.EXACT_MAX_PATHS = int(sys.argv[1])
r = run_scenario(sys.argv[2], paths=int(sys.argv[3]), seed=11, store="summary", chunk_paths=int(sys.argv[4]), write=False)
s = {k: v for k, v in r.summary.items() if k != "run"}
h = hashlib.sha256()
for k in sorted(r.run.scalars):
    h.update(k.encode()); h.update(r.run.scalars[k].tobytes())
h.update(r.run.inputs.tobytes()); h.update(r.run.posterior_index.tobytes())  # the per-path inputs and posterior samples too
print(json.dumps({"devices": len(jax.local_devices()), "n_devices_run": r.run.n_devices, "summary": s, "paths_sha256": h.hexdigest()}, sort_keys=True, default=float))
"""
REF = "scenarios/bench/reference.toml"
BASELINE = "scenarios/baseline.toml"


def _run(devices: int, exact_max: int, scenario: str = REF, paths: int = 1500, chunk: int = 512) -> dict:
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={devices}").strip()
    env["JAX_PLATFORMS"] = "cpu"
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(exact_max), scenario, str(paths), str(chunk)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_two_devices_equal_one_device_gathered_and_streamed():
    for exact_max in (10**9, 0):  # gathered, then streamed
        one, two = _run(1, exact_max), _run(2, exact_max)
        assert one["devices"] == 1 and two["devices"] == 2 and two["n_devices_run"] == 2
        assert json.dumps(one["summary"], sort_keys=True) == json.dumps(two["summary"], sort_keys=True), exact_max


def test_two_devices_equal_one_device_on_the_streamed_baseline():
    """Four cohorts streamed (reductions on the device): the same summary, byte for byte. Before the block
    sums were taken pairwise in a fixed order (engine.reduce._block_sum), XLA summed a block of the fleet
    impairment loss in another order with 512 paths per device than with 1,024, and its mean differed
    in the last bits."""
    one, two = _run(1, 0, BASELINE, 1000, 1024), _run(2, 0, BASELINE, 1000, 1024)
    assert two["n_devices_run"] == 2
    assert json.dumps(one["summary"], sort_keys=True) == json.dumps(two["summary"], sort_keys=True)


def test_two_devices_equal_one_device_on_the_baseline_path_by_path():
    """Four cohorts, both standards: every per-path result, input and posterior sample index identical
    (a chunk of 1000 is 500 per device; 2,500 paths end in a half-padded chunk)."""
    one, two = _run(1, 10**9, BASELINE, 2500, 1000), _run(2, 10**9, BASELINE, 2500, 1000)
    assert two["n_devices_run"] == 2
    assert one["paths_sha256"] == two["paths_sha256"]
    assert json.dumps(one["summary"], sort_keys=True) == json.dumps(two["summary"], sort_keys=True)
