"""Two jobs on one machine: `rackrisk stress` alone, then two at once, under each thread sizing.

    .venv/bin/python benchmarks/concurrent_runs.py [--paths 10000] [--modes before,auto,split] [--out DIR] [--no-warm-up]

The job is ``rackrisk stress scenarios/stress/*.toml --against scenarios/baseline.toml --paths N``
(a fresh process each time: imports, loading, compilation-cache loads, the runs, writing). For each
sizing mode it times one run alone, then two started together, and reports each concurrent run's
wall time over the solo wall time (the ratio; 2.0 is a fair share of a machine both runs could fill
alone, and a collapse from oversubscribed threads shows as a ratio far above 2) and the children's
CPU seconds. Modes (engine/host_devices.py):

* ``before``: the sizing stress had before ``--threads`` existed: XLA's pools as wide as the cores
  (``--threads <cores>``) on one host device (``RACKRISK_HOST_DEVICES=1``);
* ``auto``: no flag: the cores free when each process starts (cores − 1-minute load average), one
  host device per thread; the plan each process made is recomputed here at launch and printed;
* ``split``: the cores shared out explicitly: ``--threads <cores>`` alone, ``--threads <cores/2>``
  (at least 1) for each of the pair.

Before the timed runs, one untimed run per host-device count the modes use fills JAX's persistent
compilation cache, so every timed run loads its compiled functions instead of compiling them.
Results (``results.json``, and the printed table as ``results.md``) go to ``--out`` (default
benchmarks/results/concurrent-<UTC date>).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.host_devices import plan_threads, usable_cores  # noqa: E402  (pure Python: no JAX)


def _stress_cmd(paths: int, out: Path, threads: int | None) -> list[str]:
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "scenarios" / "stress").glob("*.toml"))
    cmd = [sys.executable, "-m", "engine.cli", "stress", *files, "--against", "scenarios/baseline.toml", "--paths", str(paths),
           "--out", str(out), "--force"]
    return cmd + (["--threads", str(threads)] if threads is not None else [])


def _env(host_devices: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PJRT_NPROC", "NPROC", "RACKRISK_HOST_DEVICES")}
    if host_devices is not None:
        env["RACKRISK_HOST_DEVICES"] = host_devices
    return env


def _launch(cmd: list[str], env: dict) -> tuple[subprocess.Popen, float, dict]:
    plan = plan_threads(None) if "--threads" not in cmd else None  # what an `auto` process decides now
    load = os.getloadavg()[0]
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    info = {"load_1min_at_start": round(load, 2)}
    if plan is not None:
        info["auto_plan"] = {"threads": plan.threads, "host_devices": plan.host_devices or 1, "cores": plan.cores, "load": plan.load}
    return p, time.perf_counter(), info


def _finish(p: subprocess.Popen, t0: float) -> float:
    _, err = p.communicate()
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"stress run failed (exit {p.returncode}):\n{err[-2000:]}")
    return wall


def _finish_all(started: list[tuple[subprocess.Popen, float, dict]]) -> list[float]:
    """Wall seconds of each process, each taken when that process ends (one waiting thread per process)."""
    import threading

    walls: list[float | None] = [None] * len(started)

    def wait(i: int, p: subprocess.Popen, t0: float) -> None:
        try:
            walls[i] = _finish(p, t0)
        except SystemExit as exc:  # a thread cannot end the script: report, and fail below
            print(exc, file=sys.stderr)

    threads = [threading.Thread(target=wait, args=(i, p, t0)) for i, (p, t0, _) in enumerate(started)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if any(w is None for w in walls):
        raise SystemExit("a stress run failed (see above)")
    return walls


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_mode(name: str, solo_threads: int | None, pair_threads: int | None, host_devices: str | None, paths: int, tmp: Path) -> dict:
    env = _env(host_devices)
    cpu0 = _cpu_children()
    p, t0, solo_info = _launch(_stress_cmd(paths, tmp / f"{name}-solo", solo_threads), env)
    solo = _finish(p, t0)
    cpu1 = _cpu_children()
    started = [_launch(_stress_cmd(paths, tmp / f"{name}-pair{i}", pair_threads), env) for i in range(2)]
    walls = _finish_all(started)
    cpu2 = _cpu_children()
    return {
        "mode": name, "solo_threads": solo_threads, "pair_threads": pair_threads, "host_devices_env": host_devices,
        "solo_s": round(solo, 1), "pair_s": [round(w, 1) for w in walls], "ratio": [round(w / solo, 2) for w in walls],
        "solo_cpu_s": round(cpu1 - cpu0, 1), "pair_cpu_s_total": round(cpu2 - cpu1, 1),
        "solo_start": solo_info, "pair_start": [i for _, _, i in started],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=10_000)
    ap.add_argument("--modes", default="before,auto,split", help="comma-separated subset of before, auto, split")
    ap.add_argument("--out", help="results folder (default benchmarks/results/concurrent-<UTC date>)")
    ap.add_argument("--no-warm-up", action="store_true", help="skip the untimed runs that fill the compilation cache (it is warm already)")
    args = ap.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    bad = [m for m in modes if m not in ("before", "auto", "split")]
    if bad:
        raise SystemExit(f"--modes: unknown mode(s) {bad}; allowed: before, auto, split")
    cores = usable_cores()
    half = max(1, cores // 2)
    spec = {  # mode -> (solo --threads, pair --threads, RACKRISK_HOST_DEVICES)
        "before": (cores, cores, "1"),
        "auto": (None, None, None),
        "split": (cores, half, None),
    }
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / f"concurrent-{datetime.now(timezone.utc):%Y-%m-%d}"
    out.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows, warm = [], {}
    with tempfile.TemporaryDirectory(prefix="rackrisk-concurrent-") as d:
        tmp = Path(d)
        # fill the compilation cache for each host-device count the timed runs will use (1, and `cores` or `half`)
        for n in [] if args.no_warm_up else sorted({1, cores, half}):
            p, t0, _ = _launch(_stress_cmd(args.paths, tmp / f"warm{n}", n), _env(None))
            warm[n] = round(_finish(p, t0), 1)
            print(f"warm-up --threads {n}: {warm[n]} s", flush=True)
        for m in modes:
            solo_t, pair_t, hd = spec[m]
            rows.append(run_mode(m, solo_t, pair_t, hd, args.paths, tmp))
            print(json.dumps(rows[-1]), flush=True)
    doc = {"started_utc": started, "paths": args.paths, "cores": cores, "cpu": _cpu_name(), "warm_up_s": warm, "rows": rows}
    (out / "results.json").write_text(json.dumps(doc, indent=2) + "\n")
    lines = [f"Two `rackrisk stress scenarios/stress/*.toml --paths {args.paths}` at once vs one alone; {cores} cores ({doc['cpu']}), {started}.", "",
             "| sizing | solo --threads | pair --threads | solo (s) | each of the pair (s) | ratio to solo | CPU s: solo / pair total |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        solo_t = r["solo_threads"] if r["solo_threads"] is not None else f"auto ({r['solo_start']['auto_plan']['threads']})"
        pair_t = r["pair_threads"] if r["pair_threads"] is not None else "auto (" + ", ".join(str(i["auto_plan"]["threads"]) for i in r["pair_start"]) + ")"
        lines.append(f"| {r['mode']} | {solo_t} | {pair_t} | {r['solo_s']} | {' / '.join(map(str, r['pair_s']))} | "
                     f"{' / '.join(f'{x:.2f}x' for x in r['ratio'])} | {r['solo_cpu_s']} / {r['pair_cpu_s_total']} |")
    text = "\n".join(lines) + "\n"
    (out / "results.md").write_text(text)
    print(text)
    return 0


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
