"""The monthly step's throughput: core time a path-month, with nothing to compile, load or write.

    .venv/bin/python benchmarks/step_throughput.py [--scenario scenarios/baseline.toml ...] [--paths 65536]
                                                   [--chunks 4096 8192 32768] [--repeats 3] [--out DIR]

One process, set up as ``rackrisk run`` sets itself up (threads and host devices for the free cores). For
each scenario and chunk size: one warm-up call of ``engine.runner.simulate_paths`` (compiles, or reads the
program back), then ``--repeats`` calls of ``--paths`` paths without fan paths (the packed function only:
per-path results gathered to the host, no summary, no file). Reported: the fastest call's wall seconds and
process CPU seconds, and the CPU time a path-month (CPU seconds / (paths x months)), the step's cost that a
faster kernel must cut. The chunk count is ``ceil(paths / chunk)``; paths are padded to whole chunks, so pick
``--paths`` a multiple of every chunk size. Results never depend on the chunk size (tests/test_invariance.py).

``results.json`` and ``results.md`` go to ``--out`` (default benchmarks/results/step-throughput-<UTC time>);
the Markdown is printed. Compare rows of one invocation: the development VM's speed drifts between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", nargs="+", default=["scenarios/baseline.toml", "scenarios/bench/reference.toml"])
    ap.add_argument("--paths", type=int, default=65_536)
    ap.add_argument("--chunks", type=int, nargs="+", default=[4_096, 8_192, 32_768])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)

    os.chdir(ROOT)
    from engine.cli.runtime import relax_gc
    from engine.host_devices import use_threads

    relax_gc()
    use_threads(None)  # the command's threads and host devices, so the compiled functions are the CLI's
    import jax

    from engine.compile import compile_model
    from engine.runner import simulate_paths
    from engine.scenario.load import load_scenario

    rows = []
    for scen in args.scenario:
        model = compile_model(load_scenario(scen))
        for chunk in args.chunks:
            simulate_paths(model, n_paths=min(chunk, args.paths), seed=1, chunk_paths=chunk, fan_paths=0)  # compile or read back
            best = None
            for _ in range(args.repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                simulate_paths(model, n_paths=args.paths, seed=1, chunk_paths=chunk, fan_paths=0)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                best = (wall, cpu) if best is None or wall < best[0] else best
            wall, cpu = best
            rows.append({"scenario": scen, "chunk_paths": chunk, "paths": args.paths, "months": model.T, "cohorts": model.C,
                         "wall_s": wall, "cpu_s": cpu, "cpu_us_per_path_month": cpu / (args.paths * model.T) * 1e6})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    meta = {"utc": stamp, "machine": platform.node(), "cores": os.cpu_count(), "devices": len(jax.local_devices()),
            "load_average": os.getloadavg(), "python": platform.python_version(), "jax": jax.__version__}
    md = [f"Step throughput, {stamp} ({meta['cores']} cores, {meta['devices']} host devices, load {meta['load_average'][0]:.2f}):", "",
          "| scenario | chunk paths | paths x months | wall (s) | CPU (s) | CPU µs a path-month |", "|---|---:|---:|---:|---:|---:|"]
    md += [f"| {r['scenario']} | {r['chunk_paths']:,} | {r['paths']:,} x {r['months']} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | "
           f"{r['cpu_us_per_path_month']:.3f} |" for r in rows]
    text = "\n".join(md) + "\n"
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / f"step-throughput-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    (out / "results.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
