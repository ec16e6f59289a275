"""Benchmark: engine vs the NumPy reference, compile time, cold start and peak memory.

    .venv/bin/python benchmarks/run.py [--quick] [--out DIR] [--sizes 1e4 1e5 ...] [--no-baseline]

Every measurement runs in its own subprocess (``--worker``), so peak resident memory
(``ru_maxrss`` of that process) and cold-start times are clean. One invocation measures:

* the NumPy float64 reference (``benchmarks/numpy_reference.py``) at each size;
* the engine on ``scenarios/bench/reference.toml`` and ``scenarios/baseline.toml`` at each size,
  float32, ``store = "summary"`` (runs above ``EXACT_MAX_PATHS`` stream: reductions on the device),
  with paths/s end to end (compile included) and steady state (compile excluded), compile time,
  peak RSS, device kind and count;
* cold start: ``rackrisk --help``, ``rackrisk validate scenarios/baseline.toml``, and a first
  ``rackrisk run`` of the reference at 1e4 paths with an empty compilation cache, then again
  with the cache warm (JAX's persistent compilation cache, ``RACKRISK_JAX_CACHE``).

The ratio engine / NumPy is taken between rows of the same size measured in this invocation.
Results: ``results.json`` and ``results.md`` in ``--out`` (default benchmarks/results/<UTC time>),
and the Markdown on stdout. Sizes: 1e4..1e7 (``--quick``: 1e4..1e6). GPU rows appear when JAX
sees a GPU (the same command; the device is named in every row).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REF = "scenarios/bench/reference.toml"
BASELINE = "scenarios/baseline.toml"


# ------------------------------------------------------------------------------------------
# worker side (one measurement per process)
# ------------------------------------------------------------------------------------------
def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kb / 1024.0


def worker(args) -> dict:
    t0 = time.perf_counter()
    if args.kind == "numpy":
        sys.path.insert(0, str(ROOT / "benchmarks"))
        import numpy_reference as ref

        r = ref.run(args.paths, 0, chunk=min(100_000, args.paths))
        sim_s = r["timing"]["seconds_draws"] + r["timing"]["seconds_simulate"]
        return {
            "paths_per_s": args.paths / sim_s,
            "seconds": time.perf_counter() - t0,
            "peak_rss_mb": _peak_rss_mb(),
            "npv_mean_usd": r["summary"]["npv_mean_usd"]["value"],
        }
    from engine.host_devices import use_threads
    from engine.malloc_tuning import limit_malloc_arenas

    limit_malloc_arenas()  # as `rackrisk run` (engine/malloc_tuning.py)
    use_threads()  # as `rackrisk run`: the free cores' threads and host devices, unless PJRT_NPROC / RACKRISK_HOST_DEVICES say otherwise
    import jax

    import engine.reduce as R
    from engine.app import run_scenario

    if args.force_stream:
        R.EXACT_MAX_PATHS = 0

    t1 = time.perf_counter()
    res = run_scenario(args.scenario, paths=args.paths, seed=0, store="summary", chunk_paths=args.chunk, write=False)
    wall = time.perf_counter() - t1
    run = res.run
    fleet = res.summary["fleet"]
    dev = jax.devices()[0]
    return {
        "paths_per_s": args.paths / wall,
        # steady: the chunks after the first (whose time is counted as compile), timed from the first chunk's
        # results to the last's (engine.runner.RunOutput.steady_seconds); None with one chunk
        "paths_per_s_steady": (args.paths - run.first_chunk_paths) / max(run.steady_seconds, 1e-9) if args.paths > run.first_chunk_paths else None,
        "fan_seconds": run.fan_seconds,
        "seconds": wall,
        "compile_seconds": run.compile_seconds,
        "import_seconds": t1 - t0,
        "peak_rss_mb": _peak_rss_mb(),
        "streamed": run.reduced is not None,
        "device": f"{dev.platform}:{getattr(dev, 'device_kind', '')}",
        "n_devices": run.n_devices,
        "npv_mean_usd": fleet["npv_usd"]["mean"]["value"],
    }


# ------------------------------------------------------------------------------------------
# driver side
# ------------------------------------------------------------------------------------------
def _sub(argv: list[str], env: dict, timeout: float) -> dict:
    t = time.perf_counter()
    if "--host-devices" in argv:  # one worker on a given number of host devices (engine/host_devices.py)
        env = {**env, "RACKRISK_HOST_DEVICES": argv[argv.index("--host-devices") + 1]}
    out = subprocess.run([sys.executable, __file__, "--worker", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}", "wall_seconds": time.perf_counter() - t}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _timed(cmd: list[str], env: dict, timeout: float = 600) -> dict:
    t = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    return {"seconds": time.perf_counter() - t, "returncode": out.returncode}


def _rackrisk() -> list[str]:
    exe = Path(sys.executable).with_name("rackrisk")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "engine.cli"]


def cold_start(env: dict, tmp: Path) -> dict:
    rr = _rackrisk()
    out = {}
    out["help_seconds"] = min(_timed([*rr, "--help"], env)["seconds"] for _ in range(3))
    out["validate_seconds"] = min(_timed([*rr, "validate", BASELINE], env)["seconds"] for _ in range(3))
    cache = tmp / "jax-cache"
    shutil.rmtree(cache, ignore_errors=True)
    e = {**env, "RACKRISK_JAX_CACHE": str(cache)}
    first = _timed([*rr, "run", REF, "--paths", "10000", "--quiet", "--force", "--out", str(tmp / "cold")], e)
    second = _timed([*rr, "run", REF, "--paths", "10000", "--quiet", "--force", "--out", str(tmp / "warm")], e)
    out["first_run_empty_cache_seconds"] = first["seconds"]
    out["second_run_warm_cache_seconds"] = second["seconds"]
    out["run_returncodes"] = [first["returncode"], second["returncode"]]
    out["cache_files"] = sum(1 for _ in cache.rglob("*")) if cache.exists() else 0
    return out


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _fmt(x, unit=""):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if abs(x) >= 1e5:
        return f"{x:,.0f}{unit}"
    return f"{x:,.2f}{unit}" if abs(x) < 100 else f"{x:,.0f}{unit}"


def _medians(report: dict, np_rows: dict) -> list[str]:
    """With several rounds: per workload and size, the median paths/s and the median and range of the
    per-round engine/NumPy ratios (each round's engine row over that round's NumPy row)."""
    import numpy as np  # here, not at the top: engine workers set up malloc and JAX before anything starts threads

    rounds = {r.get("round", 0) for r in report["rows"]}
    if len(rounds) < 2:
        return []
    out = ["", f"Medians over {len(rounds)} rounds (ratios: each round's engine row over the same round's NumPy row):", "",
           "| workload | paths | rounds | median paths/s (steady) | median paths/s (end to end) | engine / NumPy steady: median (min-max) | e2e: median |",
           "| --- | ---: | ---: | ---: | ---: | --- | ---: |"]
    groups: dict = {}
    for r in report["rows"]:
        if "error" in r or r["workload"].startswith("warm_up"):
            continue
        groups.setdefault((r["workload"], r["paths"]), []).append(r)
    for (name, n), rows in groups.items():
        steady = [r["paths_per_s_steady"] for r in rows if r.get("paths_per_s_steady")]
        e2e = [r["paths_per_s"] for r in rows]
        ratios = [r["paths_per_s_steady"] / np_rows[(n, r.get("round", 0))]["paths_per_s"] for r in rows
                  if name.startswith("engine_reference") and r.get("paths_per_s_steady") and (n, r.get("round", 0)) in np_rows]
        ratios_e2e = [r["paths_per_s"] / np_rows[(n, r.get("round", 0))]["paths_per_s"] for r in rows
                      if name.startswith("engine_reference") and (n, r.get("round", 0)) in np_rows]
        med = lambda xs: float(np.median(xs)) if xs else None  # noqa: E731
        rr = f"{med(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})" if ratios else "-"
        out.append(f"| {name} | {n:,} | {len(rows)} | {_fmt(med(steady))} | {_fmt(med(e2e))} | {rr} | {f'{med(ratios_e2e):.2f}x' if ratios_e2e else '-'} |")
    return out


def _source_version() -> str:
    """The checkout's commit, with ``+dirty`` when tracked files differ from it ("unknown" outside git)."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head + ("+dirty" if dirty else "")) if head else "unknown"


def markdown(report: dict) -> str:
    lines = [f"# rackrisk benchmark ({report['created_utc']})", "", f"Machine: {report['machine']}", ""]
    if report.get("source"):
        lines += [f"Source: commit {report['source']}; arguments: {' '.join(report.get('argv', []))}", ""]
    lines += ["| workload | paths | device | paths/s (end to end) | paths/s (steady) | vs NumPy (steady) | compile s | fan s | peak RSS MB | mode | load 1 min |", "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"]
    np_rows = {(r["paths"], r.get("round", 0)): r for r in report["rows"] if r["workload"] == "numpy_reference" and "error" not in r}
    for r in report["rows"]:
        if r["workload"].startswith("warm_up"):
            lines.append(f"| {r['workload']} (compiles; cold-compile peak) | {r['paths']:,} | {r.get('device', '')} x{r.get('n_devices', 1)} | | | | {_fmt(r.get('compile_seconds'))} | {_fmt(r.get('fan_seconds'))} | {_fmt(r.get('peak_rss_mb'))} | streamed | {_fmt(r.get('load_average_1min_after'))} |")
            continue
        if "error" in r:
            lines.append(f"| {r['workload']} | {r['paths']:,} | - | error: {r['error']} | | | | | | | |")
            continue
        ratio = "-"
        key = (r["paths"], r.get("round", 0))
        if r["workload"].startswith("engine_reference") and key in np_rows and r.get("paths_per_s_steady"):
            ratio = f"{r['paths_per_s_steady'] / np_rows[key]['paths_per_s']:.2f}x"
            ratio += f" (e2e {r['paths_per_s'] / np_rows[key]['paths_per_s']:.2f}x)"
        mode = "-" if r["workload"] == "numpy_reference" else ("streamed" if r.get("streamed") else "gathered")
        lines.append(
            f"| {r['workload']} | {r['paths']:,} | {r.get('device', 'cpu:numpy')} x{r.get('n_devices', 1)} | {_fmt(r['paths_per_s'])} | {_fmt(r.get('paths_per_s_steady'))} | {ratio} | {_fmt(r.get('compile_seconds'))} | {_fmt(r.get('fan_seconds'))} | {_fmt(r['peak_rss_mb'])} | {mode} | {_fmt(r.get('load_average_1min_after'))} |"
        )
    lines += _medians(report, np_rows)
    cs = report.get("cold_start")
    if cs:
        lines += ["", "| cold start | seconds |", "| --- | ---: |"]
        for k in ("help_seconds", "validate_seconds", "first_run_empty_cache_seconds", "second_run_warm_cache_seconds"):
            lines.append(f"| {k.removesuffix('_seconds').replace('_', ' ')} | {cs[k]:.2f} |")
    lines += ["", "Ratios are steady-state engine paths/s over NumPy paths/s (draws + simulation) at the same size, measured in this invocation."]
    if report.get("note"):
        lines += ["", report["note"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--kind", choices=["numpy", "engine"], help=argparse.SUPPRESS)
    p.add_argument("--scenario", help=argparse.SUPPRESS)
    p.add_argument("--paths", type=int, help=argparse.SUPPRESS)
    p.add_argument("--chunk", type=int, default=32_768, help="engine paths per chunk, gathered runs (default 32768)")
    p.add_argument("--stream-chunk", type=int, default=8192, help="engine paths per chunk, streamed runs (above 1e6 paths; default 8192: memory)")
    p.add_argument("--force-stream", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--host-devices", help=argparse.SUPPRESS)
    p.add_argument("--quick", action="store_true", help="sizes 1e4..1e6 only")
    p.add_argument("--sizes", nargs="+", type=float, help="path counts (default 1e4 1e5 1e6 1e7)")
    p.add_argument("--no-baseline", action="store_true", help="skip scenarios/baseline.toml")
    p.add_argument("--no-cold-start", action="store_true", help="skip the cold-start measurements")
    p.add_argument("--out", help="output directory (default benchmarks/results/<UTC time>)")
    p.add_argument("--note", default="", help="free text recorded with the results (e.g. machine load)")
    p.add_argument("--repeat", type=int, default=1, help="rounds of every row (default 1); with more, results.md adds medians and the per-round ratios")
    p.add_argument("--no-one-device", action="store_true", help="skip the reference rows on a single host device (RACKRISK_HOST_DEVICES=1; the default is one per core)")
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args)))
        return 0

    sizes = [int(s) for s in (args.sizes or ([1e4, 1e5, 1e6] if args.quick else [1e4, 1e5, 1e6, 1e7]))]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out_dir = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="rackrisk-bench-"))
    cache = tmp / "jax-cache-bench"
    env_engine = {**env, "RACKRISK_JAX_CACHE": str(cache)}
    report = {
        "created_utc": stamp,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load average at start {os.getloadavg()[0]:.2f}",
        "chunk_paths": args.chunk,
        "source": _source_version(),
        "argv": sys.argv[1:],
        "note": args.note,
        "rows": [],
    }

    def save():
        (out_dir / "results.json").write_text(json.dumps(report, indent=2) + "\n")
        (out_dir / "results.md").write_text(markdown(report))

    from engine.reduce import EXACT_MAX_PATHS

    warmed = False
    for n in sizes:
        chunk = args.chunk if n <= EXACT_MAX_PATHS else args.stream_chunk
        jobs = [("numpy_reference", ["--kind", "numpy", "--paths", str(n)]), ("engine_reference", ["--kind", "engine", "--scenario", REF, "--paths", str(n), "--chunk", str(chunk)])]
        if n <= EXACT_MAX_PATHS:
            # the same run again: JAX's persistent compilation cache is now warm (a user's second run)
            jobs.append(("engine_reference_warm_cache", ["--kind", "engine", "--scenario", REF, "--paths", str(n), "--chunk", str(chunk)]))
        if not args.no_one_device and n <= EXACT_MAX_PATHS and _cores() > 1:
            # the same engine on a single XLA host device (RACKRISK_HOST_DEVICES=1), beside the default one per core,
            # with the same paths per device (a chunk is split over the devices: --chunk / cores here)
            jobs.append(("engine_reference_1_device", ["--kind", "engine", "--scenario", REF, "--paths", str(n), "--chunk", str(max(chunk // _cores(), 64)), "--host-devices", "1"]))
        if not args.no_baseline:
            jobs.append(("engine_baseline", ["--kind", "engine", "--scenario", BASELINE, "--paths", str(n), "--chunk", str(chunk)]))
        if n > EXACT_MAX_PATHS and not warmed:
            # first streamed size: compile the streamed functions once (a small streamed run per
            # scenario, recorded: its peak RSS is the cold-compile peak), so the large rows measure warm runs
            warm = [(f"warm_up_streamed_{w}", ["--kind", "engine", "--scenario", sc, "--paths", "20000", "--chunk", str(chunk), "--force-stream"]) for w, sc in (("reference", REF), ("baseline", BASELINE))]
            jobs = (warm if not args.no_baseline else warm[:1]) + jobs
            warmed = True
        for rnd in range(args.repeat):  # rounds of every job in turn: a slow spell of a shared machine hits all rows alike
            for name, argv_ in jobs:
                if rnd > 0 and name.startswith("warm_up"):
                    continue
                print(f"[bench] {name} {n:,} paths (round {rnd + 1} of {args.repeat}) ...", file=sys.stderr, flush=True)
                try:
                    row = _sub(argv_, env_engine, timeout=3600)
                except subprocess.TimeoutExpired:
                    row = {"error": "timeout"}
                row["load_average_1min_after"] = round(os.getloadavg()[0], 2)  # the machine may be shared: say how busy it was
                report["rows"].append({"workload": name, "paths": int(argv_[argv_.index("--paths") + 1]), "round": rnd,
                                       "chunk_paths": int(argv_[argv_.index("--chunk") + 1]) if "--chunk" in argv_ else None, **row})
                save()
    if not args.no_cold_start:
        print("[bench] cold start ...", file=sys.stderr, flush=True)
        report["cold_start"] = cold_start(env, tmp)
    report["load_average_end"] = os.getloadavg()[0]
    save()
    shutil.rmtree(tmp, ignore_errors=True)
    sys.stdout.write(markdown(report))
    print(f"\nwritten: {out_dir / 'results.json'}, {out_dir / 'results.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
