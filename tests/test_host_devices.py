"""``rackrisk run`` on one XLA host device per core (the default, ``RACKRISK_HOST_DEVICES=auto``) or a set number (engine/host_devices.py), with the same numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.host_devices import wanted_host_devices

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "scenarios" / "bench" / "reference.toml"
SCRIPT = """
import json, sys
from engine.cli import main
rc = main(["run", sys.argv[1], "--paths", "1500", "--seed", "5", "--out", sys.argv[2], "--quiet", "--chunk-paths", "512"])
import jax
print(json.dumps({"rc": rc, "devices": len(jax.local_devices())}))
"""


def test_wanted_host_devices_rules():
    assert wanted_host_devices({"RACKRISK_HOST_DEVICES": "3"}) == 3
    assert wanted_host_devices({"RACKRISK_HOST_DEVICES": "1"}) is None  # JAX's default single device
    # the user's own XLA flag wins over ours
    assert wanted_host_devices({"RACKRISK_HOST_DEVICES": "3", "XLA_FLAGS": "--xla_force_host_platform_device_count=5"}) is None
    auto = wanted_host_devices({"RACKRISK_HOST_DEVICES": "auto"})
    cores = len(os.sched_getaffinity(0))
    assert auto == (cores if cores > 1 else None)
    assert wanted_host_devices({}) == auto  # the default: one host device per core (docs/performance.md)
    for bad in ("0", "-2", "two", "1.5"):
        with pytest.raises(ValueError, match="RACKRISK_HOST_DEVICES must be 'auto' or a positive integer"):
            wanted_host_devices({"RACKRISK_HOST_DEVICES": bad})


def _cli(tmp_path: Path, name: str, host_devices: str | None) -> tuple[dict, dict]:
    env = {k: v for k, v in os.environ.items() if k not in ("RACKRISK_HOST_DEVICES", "XLA_FLAGS")}
    env["JAX_PLATFORMS"] = "cpu"
    if host_devices is not None:
        env["RACKRISK_HOST_DEVICES"] = host_devices
    out = tmp_path / name
    p = subprocess.run([sys.executable, "-c", SCRIPT, str(REF), str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    info = json.loads(p.stdout.strip().splitlines()[-1])
    assert info["rc"] == 0
    return info, json.loads((out / "summary.json").read_text())


def test_run_uses_every_core_with_the_same_numbers(tmp_path):
    one_info, one = _cli(tmp_path, "one", "1")
    default_info, default = _cli(tmp_path, "default", None)  # no setting: one device per core
    assert one_info["devices"] == 1
    assert default_info["devices"] == max(len(os.sched_getaffinity(0)), 1)
    assert json.dumps(one, sort_keys=True) == json.dumps(default, sort_keys=True)
    if default_info["devices"] != 2:  # the default did not already run two devices (CI has 2 cores): run them
        two_info, two = _cli(tmp_path, "two", "2")
        assert two_info["devices"] == 2
        assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)


def test_bad_host_device_setting_exits_2(tmp_path, capsys, monkeypatch):
    from engine.cli import main

    monkeypatch.setenv("RACKRISK_HOST_DEVICES", "many")
    # an earlier in-process `rackrisk fit` test may have put a device count in XLA_FLAGS: still an error
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=4")
    rc = main(["run", str(REF), "--paths", "64", "--out", str(tmp_path / "o"), "--quiet"])
    assert rc == 2
    assert "RACKRISK_HOST_DEVICES must be 'auto' or a positive integer, got 'many'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_malloc_arena_limit_rules():
    """engine/malloc_tuning.py: the user's MALLOC_ARENA_MAX and RACKRISK_MALLOC_ARENAS=0 leave glibc alone; a malformed
    value is ignored (an optimisation only, never an error); the default asks glibc for one arena."""
    from engine.malloc_tuning import limit_malloc_arenas

    assert limit_malloc_arenas({"MALLOC_ARENA_MAX": "4"}) is None
    assert limit_malloc_arenas({"RACKRISK_MALLOC_ARENAS": "0"}) is None
    assert limit_malloc_arenas({"RACKRISK_MALLOC_ARENAS": "lots"}) is None
    assert limit_malloc_arenas({}) in (1, None)  # None only where glibc is absent
