"""Peak resident memory of ``rackrisk run`` under each store mode (issue 19: < 1.5 GB at 1e7 paths).

    .venv/bin/python benchmarks/peak_memory.py [--paths 1e7] [--full-paths N] [--modes summary paths full]
                                               [--scenario scenarios/baseline.toml] [--run SCENARIO,MODE,PATHS ...] [--out DIR]

Each run is one ``rackrisk run SCENARIO --paths N --store MODE --policy-range-paths 0`` (default: the
baseline at 1e7 paths under each mode; ``--run`` lists other runs instead) in a fresh child process; its peak RSS is ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` read by a
wrapper process that has no other child (RUSAGE_CHILDREN is the largest of all waited children, so
each run gets its own wrapper). Also recorded: wall seconds and the size of results.nc. The output
folders go to a temporary directory (deleted at the end).

``store = "full"`` writes every path's months (about 17 kB a path for the baseline: 1e7 paths would
be 170 GB of disk): it runs at ``--full-paths`` (default: ``--paths``), and is skipped, with the
reason in the table, when the free disk is under 1.2 times its estimated file size.

``results.json`` and ``results.md`` go to ``--out`` (default benchmarks/results/peak-memory-<UTC date>);
the Markdown is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
BYTES_PER_PATH = {"summary": 0, "paths": 900, "full": 17_100}  # results.nc of the baseline (measured at 3,000 paths: 850 B and 17.0 kB)

_WRAPPER = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
print(json.dumps({"rc": p.returncode, "seconds": wall, "peak_rss_kib": peak, "stderr_tail": p.stderr[-2000:], "stdout_tail": p.stdout[-300:]}))
"""


def measure(scenario: str, mode: str, paths: int, tmp: Path) -> dict:
    out = tmp / f"run-{mode}"
    cmd = [PY, "-m", "engine.cli", "run", scenario, "--paths", str(paths), "--store", mode,
           "--policy-range-paths", "0", "--quiet", "--out", str(out), "--force"]
    need = BYTES_PER_PATH[mode] * paths
    free = shutil.disk_usage(tmp).free
    if need * 1.2 > free:
        return {"scenario": scenario, "mode": mode, "paths": paths, "skipped": f"needs about {need / 1e9:.0f} GB of disk for results.nc, {free / 1e9:.0f} GB free"}
    p = subprocess.run([PY, "-c", _WRAPPER, *cmd], cwd=ROOT, capture_output=True, text=True, check=True)
    row = {"scenario": scenario, "mode": mode, "paths": paths, **json.loads(p.stdout)}
    nc = out / "results.nc"
    row["results_nc_bytes"] = nc.stat().st_size if nc.exists() else None
    shutil.rmtree(out, ignore_errors=True)
    return row


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        f"Peak RSS of `rackrisk run SCENARIO --paths N --store MODE --policy-range-paths 0`, one fresh process each "
        f"({meta['date']}, {meta['machine']}, load average at start {meta['load_at_start']}).",
        "",
        "| scenario | store | paths | peak RSS (GiB) | wall (s) | results.nc (GB) | note |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['scenario']} | {r['mode']} | {r['paths']:.0e} | | | | skipped: {r['skipped']} |")
            continue
        size = f"{r['results_nc_bytes'] / 1e9:.2f}" if r.get("results_nc_bytes") else ""
        note = "" if r["rc"] == 0 else f"exit {r['rc']}: {r['stderr_tail'][-200:]}"
        lines.append(f"| {r['scenario']} | {r['mode']} | {r['paths']:.0e} | {r['peak_rss_kib'] / 2**20:.2f} | {r['seconds']:.0f} | {size} | {note} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--paths", type=float, default=1e7)
    ap.add_argument("--full-paths", type=float, default=None, help="paths of the store = full run (default: --paths)")
    ap.add_argument("--modes", nargs="+", default=["summary", "paths", "full"], choices=["summary", "paths", "full"])
    ap.add_argument("--scenario", default="scenarios/baseline.toml")
    ap.add_argument("--run", action="append", default=[], metavar="SCENARIO,MODE,PATHS", help="a run to measure (repeatable; replaces the default plan)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    plan = [(sc, mode, int(float(n))) for sc, mode, n in (r.split(",") for r in args.run)] or [
        (args.scenario, mode, int(args.full_paths if (mode == "full" and args.full_paths) else args.paths)) for mode in args.modes]
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / f"peak-memory-{date}"
    meta = {"date": date, "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "load_at_start": ", ".join(f"{x:.1f}" for x in os.getloadavg())}
    rows = []
    with tempfile.TemporaryDirectory(prefix="peak-memory-", dir=ROOT / "outputs" if (ROOT / "outputs").is_dir() else None) as tmp:
        for scenario, mode, n in plan:
            rows.append(measure(scenario, mode, n, Path(tmp)))
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "stderr_tail"}), flush=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    md = markdown(rows, meta)
    (out / "results.md").write_text(md)
    print(md)
    return 0 if all(r.get("rc", 0) == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
