"""Threads and XLA host devices of a simulating process (engine/host_devices.py, engine/cli/runtime.py): the rules,
the bad values, and that the numbers do not depend on them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest

from engine.host_devices import MAX_THREADS, _cgroup_cpu_limit, free_cores, parse_threads, plan_threads, wanted_host_devices

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "scenarios" / "bench" / "reference.toml"
# the child reports what the process ran with: JAX's CPU devices, PJRT_NPROC, and the threads XLA's intra-op pool started
SCRIPT = """
import json, os, sys
from engine.cli import main
rc = main(["run", sys.argv[1], "--paths", "1500", "--seed", "5", "--out", sys.argv[2], "--quiet", "--chunk-paths", "512", "--policy-range-paths", "0", *sys.argv[3:]])
import jax
pool = sum(open(f"/proc/self/task/{t}/comm").read().strip() == "tf_XLAEigen" for t in os.listdir("/proc/self/task"))
print(json.dumps({"rc": rc, "devices": len(jax.local_devices()), "nproc": os.environ.get("PJRT_NPROC"), "pool": pool}))
"""
NO_USER_SETTINGS = ("RACKRISK_HOST_DEVICES", "XLA_FLAGS", "PJRT_NPROC", "NPROC")


def test_free_cores_rule():
    # cores - 1-minute load, rounded halves up, from 1 to cores (docs/performance.md): hand arithmetic beside each
    assert free_cores(4, 0.0) == 4  # idle machine: every core
    assert free_cores(4, 1.2) == 3  # 2.8 -> 3
    assert free_cores(4, 1.6) == 2  # 2.4 -> 2
    assert free_cores(2, 0.5) == 2  # 1.5 -> 2 (halves up)
    assert free_cores(2, 2.19) == 1  # -0.19 -> at least one thread
    assert free_cores(2, 9.0) == 1
    assert free_cores(8, -1.0) == 8  # a load is never negative; at most the cores


def test_plan_sources_and_host_devices():
    idle = {"environ": {}, "cores": 4, "load": 0.0}
    p = plan_threads(None, **idle)
    assert (p.threads, p.host_devices, p.source, p.load, p.warning) == (4, 4, "auto", 0.0, None)
    p = plan_threads(None, environ={}, cores=4, load=2.6)
    # 1.4 -> 1 thread; the devices stay one per core (a load change must not change the compiled functions)
    assert (p.threads, p.host_devices, p.source) == (1, 4, "auto")
    # an explicit count wins over the load and over the user's PJRT_NPROC; the user's PJRT_NPROC over auto
    assert plan_threads(2, environ={"PJRT_NPROC": "3"}, cores=4, load=0.0).threads == 2
    p = plan_threads(None, environ={"PJRT_NPROC": "3"}, cores=4, load=0.0)
    assert (p.threads, p.source, p.load) == (3, "PJRT_NPROC", None)
    assert plan_threads(None, environ={"NPROC": "2"}, cores=4, load=0.0).threads == 2  # XLA's fallback name
    # host devices: one per thread where a count is set, RACKRISK_HOST_DEVICES a set number, the user's XLA flag untouched
    assert plan_threads(3, environ={"RACKRISK_HOST_DEVICES": "2"}, cores=4).host_devices == 2
    assert plan_threads(3, environ={"RACKRISK_HOST_DEVICES": "auto"}, cores=4).host_devices == 3
    assert plan_threads(3, environ={"XLA_FLAGS": "--xla_force_host_platform_device_count=5"}, cores=4).host_devices is None
    assert wanted_host_devices(1, {}) is None
    for bad in ("0", "-2", "two", "1.5"):
        with pytest.raises(ValueError, match="RACKRISK_HOST_DEVICES must be 'auto' or a positive integer"):
            plan_threads(2, environ={"RACKRISK_HOST_DEVICES": bad, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}, cores=4)
    # more threads than cores: allowed, with one warning line naming the source and the cores
    p = plan_threads(8, source="--threads", environ={}, cores=2)
    assert p.threads == 8 and p.warning == "--threads 8 is more than the 2 cores this process may run on: its threads will share them"


def test_bad_thread_counts_are_one_clear_error():
    assert parse_threads("4") == 4 and parse_threads(" 12 ") == 12 and parse_threads(MAX_THREADS) == MAX_THREADS
    for bad in ("0", "-1", "abc", "1.5", "", "1e3", 0, -3, True, 2.0, str(MAX_THREADS + 1)):
        with pytest.raises(ValueError) as exc:
            parse_threads(bad)
        assert str(exc.value) == f"--threads must be a whole number of threads from 1 to {MAX_THREADS}, got {bad!r}"


def test_cgroup_quota(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert _cgroup_cpu_limit(str(tmp_path)) == 2  # 1.5 CPUs of quota -> 2 threads' worth, rounded up
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert _cgroup_cpu_limit(str(tmp_path)) is None  # no quota
    assert _cgroup_cpu_limit(str(tmp_path / "absent")) is None


@pytest.mark.parametrize("argv", [
    ["run", str(REF), "--paths", "64", "--threads", "0"],
    ["run", str(REF), "--paths", "64", "--threads", "-1"],
    ["run", str(REF), "--paths", "64", "--threads", "abc"],
    ["stress", str(ROOT / "scenarios/stress/rubin_early.toml"), "--against", str(REF), "--threads", "0"],
    ["reverse-stress", str(REF), "--vary", "x", "--threshold", "0.5", "--threads", "two"],
    ["sensitivity", str(REF), "--threads", "1.5"],
    ["capex-check", str(ROOT / "scenarios/plans/neocloud_2026.toml"), "--threads", "0"],
    ["compare-lives", str(REF), "--threads", "-1"],
    ["sweep", str(ROOT / "grids/reference_grid.toml"), "--threads", "0"],
])
def test_bad_threads_flag_exits_2_with_one_line(argv, tmp_path, capsys):
    from engine.cli import main

    out = tmp_path / "o"
    rc = main([*argv, "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and err[0].startswith("rackrisk: error: --threads must be a whole number of threads from 1 to 1024, got "), err
    assert not out.exists()


def test_bad_run_threads_in_the_scenario_exits_2(tmp_path, capsys):
    from engine.cli import main

    rc = main(["run", str(REF), "--paths", "64", "--set", "run.threads=0", "--out", str(tmp_path / "o"), "--quiet"])
    assert rc == 2
    assert "field 'run.threads': Input should be greater than 0" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_bad_host_device_setting_exits_2(tmp_path, capsys, monkeypatch):
    from engine.cli import main

    monkeypatch.setenv("RACKRISK_HOST_DEVICES", "many")
    # an earlier in-process `rackrisk fit` test may have put a device count in XLA_FLAGS: still an error
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=4")
    rc = main(["run", str(REF), "--paths", "64", "--out", str(tmp_path / "o"), "--quiet"])
    assert rc == 2
    assert "RACKRISK_HOST_DEVICES must be 'auto' or a positive integer, got 'many'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_sweep_workers_share_the_free_cores(monkeypatch):
    """`rackrisk sweep`: each local worker inherits PJRT_NPROC = the free cores over the workers (at least 1), or --threads."""
    import engine.host_devices as hd
    from engine.cli.runtime import prepare_workers

    monkeypatch.setattr(hd, "usable_cores", lambda: 4)
    monkeypatch.setattr(hd, "_load_average", lambda: 0.0)
    for var in ("PJRT_NPROC", "NPROC"):  # set, then removed: the session's own value comes back after the test
        monkeypatch.setenv(var, "1")
        monkeypatch.delenv(var)
    assert prepare_workers(Namespace(threads=None, set=[]), None, 2) is None
    assert os.environ["PJRT_NPROC"] == "2"  # 4 free cores / 2 workers
    monkeypatch.delenv("PJRT_NPROC")
    assert prepare_workers(Namespace(threads=None, set=[]), None, 8) is None
    assert os.environ["PJRT_NPROC"] == "1"  # 4 / 8 -> at least one
    assert prepare_workers(Namespace(threads="3", set=[]), None, 2) is None
    assert os.environ["PJRT_NPROC"] == "3"  # --threads: each worker's count
    assert prepare_workers(Namespace(threads="0", set=[]), None, 2).startswith("--threads must be")


def test_configure_checks_threads_and_warns_once_jax_started():
    import jax

    from engine.api import configure

    with pytest.raises(ValueError, match="configure\\(threads=\\) must be a whole number of threads"):
        configure(threads=0)
    jax.devices()  # JAX started (as after a first simulate): the settings can no longer change
    with pytest.warns(UserWarning, match="JAX has already started"):
        got = configure(threads=2)
    assert got["threads"] is None and got["host_devices"] == len(jax.devices("cpu"))


def _cli(tmp_path: Path, name: str, *flags: str) -> tuple[dict, dict, str]:
    env = {k: v for k, v in os.environ.items() if k not in NO_USER_SETTINGS}
    env["JAX_PLATFORMS"] = "cpu"
    out = tmp_path / name
    p = subprocess.run([sys.executable, "-c", SCRIPT, str(REF), str(out), *flags], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    info = json.loads(p.stdout.strip().splitlines()[-1])
    assert info["rc"] == 0
    return info, json.loads((out / "summary.json").read_text()), p.stderr


def test_threads_size_the_pool_and_devices_with_the_same_numbers(tmp_path):
    one_info, one, _ = _cli(tmp_path, "one", "--threads", "1")
    two_info, two, _ = _cli(tmp_path, "two", "--threads", "2")
    assert (one_info["devices"], one_info["nproc"], one_info["pool"]) == (1, "1", 1)
    assert (two_info["devices"], two_info["nproc"], two_info["pool"]) == (2, "2", 2)
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)  # summary.json identical, every key
    # [run] threads in the scenario (here through --set) when no --threads is given; 3 is more than a 2-core machine has
    three_info, three, err = _cli(tmp_path, "three", "--set", "run.threads=3")
    assert (three_info["devices"], three_info["nproc"], three_info["pool"]) == (3, "3", 3)
    cores = len(os.sched_getaffinity(0))
    assert ("[run] threads 3 is more than the" in err) == (cores < 3)
    # the scenario text (and so its sha256 and the overrides in provenance) differs; every number is the same
    assert {k: v for k, v in three.items() if k != "provenance"} == {k: v for k, v in one.items() if k != "provenance"}


API_SCRIPT = """
import json, sys
from engine import Scenario, simulate
ds = simulate(Scenario.from_toml(sys.argv[1]), paths=300, seed=5, store="summary")
import jax
print(json.dumps({"devices": len(jax.local_devices())}))
"""


def test_api_without_configure_sets_the_runtime_as_a_command_does():
    """A first ``simulate`` in a process that did not call ``configure()`` applies the command's defaults before
    JAX starts (engine.api.configure.default_runtime): here 3 host devices from ``RACKRISK_HOST_DEVICES``, where
    JAX alone would start one CPU device."""
    env = {k: v for k, v in os.environ.items() if k not in NO_USER_SETTINGS}
    env.update(JAX_PLATFORMS="cpu", RACKRISK_HOST_DEVICES="3")
    p = subprocess.run([sys.executable, "-c", API_SCRIPT, str(REF)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    assert json.loads(p.stdout.strip().splitlines()[-1]) == {"devices": 3}


def test_a_command_raises_the_garbage_collector_threshold(tmp_path):
    """``engine.cli.main`` sets ``GC_THRESHOLDS`` before the command runs (engine/cli/runtime.py). The test
    starts from CPython's default (700, 10, 10) and gives the process its own thresholds back after."""
    import gc

    from engine.cli import main
    from engine.cli.runtime import GC_THRESHOLDS

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        assert main(["validate", str(REF)]) == 0
        assert gc.get_threshold() == GC_THRESHOLDS != (700, 10, 10)
    finally:
        gc.set_threshold(*before)
