"""Paths sharded over 2 CPU host devices give the same summary as one device, bit for bit.

The 2-device runs are a subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count=2`` (the
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
out = []
for exact_max, scenario, paths, chunk in json.loads(sys.argv[1]):
    R.EXACT_MAX_PATHS = exact_max
    r = run_scenario(scenario, paths=paths, seed=11, store="summary", chunk_paths=chunk, write=False)
    s = {k: v for k, v in r.summary.items() if k not in ("run", "provenance")}  # how it was made (devices, commit) apart
    h = hashlib.sha256()
    for k in sorted(r.run.scalars):
        h.update(k.encode()); h.update(r.run.scalars[k].tobytes())
    h.update(r.run.inputs.tobytes()); h.update(r.run.posterior_index.tobytes())  # the per-path inputs and posterior samples too
    out.append({"n_devices_run": r.run.n_devices, "summary": json.dumps(s, sort_keys=True, default=float), "paths_sha256": h.hexdigest()})
print(json.dumps({"devices": len(jax.local_devices()), "runs": out}))
"""
REF = "scenarios/bench/reference.toml"
BASELINE = "scenarios/baseline.toml"
GATHERED, STREAMED = 10**9, 0  # engine.reduce.EXACT_MAX_PATHS: per-path results gathered to the host, or reduced on the device
JOBS = [
    (STREAMED, REF, 1500, 512),  # one cohort (the calendar-specialised step), streamed
    (STREAMED, BASELINE, 1000, 1024),  # four cohorts streamed (reductions on the device)
    (GATHERED, BASELINE, 2500, 1000),  # four cohorts gathered: a chunk of 1000 is 500 per device; 2,500 paths end in a half-padded chunk
]


def _run(devices: int) -> dict:
    """Every job of ``JOBS`` in one process with ``devices`` CPU host devices (one start-up and import for all)."""
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={devices}").strip()
    env["JAX_PLATFORMS"] = "cpu"
    out = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(JOBS)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_two_devices_equal_one_device():
    """The same summary, byte for byte, on each job; and on the gathered baseline every per-path result, input
    and posterior sample index identical. (Before the block sums were taken pairwise in a fixed order,
    engine.reduce._block_sum, XLA summed a block of the streamed baseline's fleet impairment loss in another
    order with 512 paths per device than with 1,024, and its mean differed in the last bits.)"""
    one, two = _run(1), _run(2)
    assert one["devices"] == 1 and two["devices"] == 2
    for job, a, b in zip(JOBS, one["runs"], two["runs"]):
        assert a["n_devices_run"] == 1 and b["n_devices_run"] == 2, job
        assert a["summary"] == b["summary"], job
    assert one["runs"][2]["paths_sha256"] == two["runs"][2]["paths_sha256"]
