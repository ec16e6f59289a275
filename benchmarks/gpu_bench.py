"""GPU benchmark steps, one process, each step guarded (run by benchmarks/gpu_check.sh).

    python benchmarks/gpu_bench.py --out DIR [--budget-s 240] [--max-paths 1e8]

Steps (results appended to DIR/gpu_results.json and DIR/gpu_results.md after every step, so a
failure or the time budget still leaves what was measured):

1. environment: JAX version, devices;
2. NumPy reference at 1e6 paths (on the host CPU, for the ratio);
3. layouts (engine/backend_tuning.py: impairment test by branch or by select, months per loop
   iteration, histogram copies), each the streamed runner's chunk function alone on the device (no
   host work) at ``--chunk`` paths: device-only rate, compile time, fusions in the compiled HLO; the
   simulation alone (no reduction) for the best; the best at half the chunk;
4. engine, reference workload, streamed (reductions on the device, no per-path copy to the host),
   float32, end to end through ``run_scenario`` (summary included) with the fastest layout of step 3:
   1e6 (compiles), 1e7, 1e8, 1e9;
5. the same at 1e8 with the CPU layout (before / after on the same GPU);
6. engine, baseline (general step), streamed: 1e6.

A step is skipped when the time left in ``--budget-s`` is less than its estimate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
REF = str(ROOT / "scenarios" / "bench" / "reference.toml")
BASELINE = str(ROOT / "scenarios" / "baseline.toml")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--budget-s", type=float, default=240.0)
    p.add_argument("--max-paths", type=float, default=1e9)
    p.add_argument("--chunk", type=int, default=2**22)
    p.add_argument("--skip-numpy", action="store_true", help="skip step 2 (a second process on the same machine)")
    p.add_argument("--e2e-only", action="store_true", help="skip the layout sweep (step 3) and the CPU-layout comparison (step 5)")
    p.add_argument("--sizes", default="1e6,1e7,1e8,1e9", help="path counts of step 4, comma-separated")
    p.add_argument("--rate-guess", type=float, default=1e8, help="paths/s assumed for step 4's time estimates before one is measured")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    report = {"steps": [], "created_unix": time.time(), "python": platform.python_version(), "chunk_paths": args.chunk}

    def left() -> float:
        return args.budget_s - (time.perf_counter() - t_start)

    def save():
        (out / "gpu_results.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
        (out / "gpu_results.md").write_text(markdown(report))

    def step(name, fn, estimate_s=0.0):
        if left() < estimate_s:
            report["steps"].append({"step": name, "skipped": f"time left {left():.0f} s < estimate {estimate_s:.0f} s"})
            save()
            return None
        print(f"[gpu_bench] {name} (time left {left():.0f} s)", flush=True)
        t = time.perf_counter()
        try:
            res = fn()
            row = {"step": name, "ok": True, "wall_s": time.perf_counter() - t, **(res or {})}
        except Exception as exc:  # one failure must not lose the other results
            row = {"step": name, "ok": False, "wall_s": time.perf_counter() - t, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-2000:]}
            res = None
        report["steps"].append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "traceback"}, default=str), flush=True)
        save()
        return res

    # 1. environment
    def env():
        import jax

        devs = jax.devices()
        return {"jax": jax.__version__, "backend": jax.default_backend(), "devices": [f"{d.platform}:{getattr(d, 'device_kind', '')}" for d in devs], "n_devices": len(devs)}

    info = step("environment", env) or {}
    report["device"] = (info.get("devices") or ["unknown"])[0]
    report["n_devices"] = info.get("n_devices")

    # 2. NumPy reference
    def numpy_ref():
        import numpy_reference as ref

        r = ref.run(1_000_000, 0, chunk=100_000)
        return {"paths": 1_000_000, "paths_per_s": r["timing"]["paths_per_s"], "npv_mean_usd": r["summary"]["npv_mean_usd"]["value"]}

    np_res = None if args.skip_numpy else step("numpy_reference_1e6_host_cpu", numpy_ref, estimate_s=10)

    # 3. layouts (engine/backend_tuning.py), device only: the streamed runner's chunk function (simulate +
    #    reduce, histogram accumulated in place on the device), no host work, one compile per layout
    try:
        import engine.reduce as R

        R.EXACT_MAX_PATHS = 0  # stream at every size: reductions on the device
    except Exception as exc:  # the engine cannot even import: record it, steps below will fail one by one
        report["steps"].append({"step": "import engine", "ok": False, "error": f"{type(exc).__name__}: {exc}"})
        save()

    def set_layout(select, unroll, replicas):
        os.environ["RACKRISK_FAST_SELECT"] = str(int(select))
        os.environ["RACKRISK_FAST_UNROLL"] = str(unroll)
        os.environ["RACKRISK_HIST_REPLICAS"] = str(replicas)

    def device_only(select, unroll, replicas, B, mode="reduce"):
        def f():
            import jax
            import jax.numpy as jnp
            import numpy as np

            from engine.compile import compile_model
            from engine.reduce import BINS, PILOT_PATHS, packed_width, plan_arrays, plan_from_pilot, reduce_chunk_packed
            from engine.runner import _configure_jax
            from engine.scenario.load import load_scenario
            from engine.sharding import compile_sharded, per_device_zeros
            from engine.stream_runner import _per_path_fn

            set_layout(select, unroll, replicas)
            _configure_jax("float32")
            model = compile_model(load_scenario(REF))
            per_path = _per_path_fn(model, jnp.float32)
            pilot = jax.tree.map(np.asarray, jax.jit(per_path)(jnp.uint32(0), jnp.arange(PILOT_PATHS, dtype=jnp.uint32)))
            arrays = jax.tree.map(lambda a: jnp.asarray(a, jnp.float32), plan_arrays(plan_from_pilot(pilot)))
            E = packed_width(arrays)
            hist = per_device_zeros(((replicas,) if replicas > 1 else ()) + (E, BINS + 3), jnp.int32)

            if mode == "reduce":
                def fn_(s, idx, arr, h):
                    return reduce_chunk_packed(per_path(s, idx), idx < np.uint32(2**31), arr, jnp.float32, h)
            else:  # simulation alone: every per-path result summed over the chunk (no histogram, no blocks)
                def fn_(s, idx, arr, h):
                    res = per_path(s, idx)
                    tot = sum(jnp.sum(v.astype(jnp.float32)) for v in res.values())
                    return tot[None], h

            tc = time.perf_counter()
            fn = compile_sharded(fn_, B, jnp.uint32(0), np.uint32(0), arrays, hist, per_device=(1,), donate=(1,))
            out = fn(jnp.uint32(0), np.uint32(0), arrays, hist)
            jax.block_until_ready(out)
            compile_s = time.perf_counter() - tc
            hlo = ""
            try:
                hlo = jax.jit(fn_).lower(jnp.uint32(0), jnp.arange(B, dtype=jnp.uint32), arrays, hist).compile().as_text()
            except Exception:  # the kernel count is a note, not a measurement
                pass
            reps = 5
            t = time.perf_counter()
            for r in range(reps):
                out = fn(jnp.uint32(0), np.uint32(r * B), arrays, out[-1])
            jax.block_until_ready(out)
            dt = (time.perf_counter() - t) / reps
            return {"layout": {"select": select, "unroll": unroll, "hist_replicas": replicas}, "mode": mode, "paths_per_chunk": B,
                    "seconds_per_chunk": dt, "paths_per_s_device": B / dt, "compile_s": compile_s,
                    "hlo_fusions": hlo.count(" fusion("), "hlo_while": hlo.count(" while("), "hlo_conditional": hlo.count(" conditional(")}

        return f

    B = args.chunk
    layouts = [] if args.e2e_only else [(False, 1, 1), (True, 1, 1), (True, 1, 32), (True, 4, 32), (True, 2, 32), (True, 8, 32)]
    best = None
    for sel, un, rep in layouts:
        res = step(f"device_only_select{int(sel)}_unroll{un}_hist{rep}", device_only(sel, un, rep, B), estimate_s=25)
        if res and (best is None or res["seconds_per_chunk"] < best["seconds_per_chunk"]):
            best = res
    if best:
        sel, un = best["layout"]["select"], best["layout"]["unroll"]
        step(f"device_only_sim_alone_select{int(sel)}_unroll{un}", device_only(sel, un, 1, B, mode="sim"), estimate_s=25)
        for rep in (8, 128):
            res = step(f"device_only_select{int(sel)}_unroll{un}_hist{rep}", device_only(sel, un, rep, B), estimate_s=60)
            if res and res["seconds_per_chunk"] < best["seconds_per_chunk"]:
                best = res
        lay = best["layout"]
        step(f"device_only_best_chunk{B // 2}", device_only(lay["select"], lay["unroll"], lay["hist_replicas"], B // 2), estimate_s=60)
        report["best_layout"] = lay
        set_layout(lay["select"], lay["unroll"], lay["hist_replicas"])
    else:
        for var in ("RACKRISK_FAST_SELECT", "RACKRISK_FAST_UNROLL", "RACKRISK_HIST_REPLICAS"):
            os.environ.pop(var, None)  # the engine's defaults
    save()

    # 4. engine, reference, end to end (run_scenario: fans, pilot, chunks, summary) with the best layout
    def engine_run(path, n):
        def f():
            from engine.app import run_scenario
            from engine.backend_tuning import settings

            t = time.perf_counter()
            r = run_scenario(path, paths=int(n), seed=0, store="summary", chunk_paths=min(args.chunk, int(n)), write=False)
            wall = time.perf_counter() - t
            run = r.run
            rest = int(n) - run.first_chunk_paths  # the first chunk's time is counted as compile
            steady = rest / max(run.steady_seconds, 1e-9) if rest > 0 else None
            row = {
                "paths": int(n), "paths_per_s_end_to_end": int(n) / wall, "paths_per_s_steady": steady, "compile_s": run.compile_seconds,
                "fan_s": run.fan_seconds, "streamed": run.reduced is not None, "n_devices": run.n_devices, "layout": settings(),
                "npv_mean_usd": r.summary["fleet"]["npv_usd"]["mean"]["value"],
                "p_impaired_asc360": r.summary["fleet"]["p_impairment_asc360"]["horizon"]["value"],
            }
            if np_res and path == REF:
                row["vs_numpy_end_to_end"] = row["paths_per_s_end_to_end"] / np_res["paths_per_s"]
            return row

        return f

    # time estimates: the first run compiles (~25 s on an H100 with an empty cache); the rate is the
    # device-only one of step 3, then the last measured steady rate
    rate = best["paths_per_s_device"] if best else args.rate_guess
    first = True
    for n in (float(x) for x in args.sizes.split(",")):
        if n > args.max_paths:
            continue
        est = (25.0 if first else 5.0) + 1.3 * n / rate
        res = step(f"engine_reference_{n:.0e}", engine_run(REF, n), estimate_s=est)
        first = False
        if res and res.get("paths_per_s_steady"):
            rate = res["paths_per_s_steady"]
    if args.e2e_only:
        report["total_s"] = time.perf_counter() - t_start
        save()
        print(markdown(report), flush=True)
        return 0

    # 5. the CPU layout end to end at 1e8 on the same GPU (before / after, same run)
    set_layout(False, 1, 1)
    n_cmp = min(1e8, args.max_paths)
    step(f"engine_reference_{n_cmp:.0e}_cpu_layout", engine_run(REF, n_cmp), estimate_s=40)
    for var in ("RACKRISK_FAST_SELECT", "RACKRISK_FAST_UNROLL", "RACKRISK_HIST_REPLICAS"):
        os.environ.pop(var, None)  # the engine's defaults from here on

    # 6. baseline (general step), 1e6
    step("engine_baseline_1e+06", engine_run(BASELINE, 1e6), estimate_s=40)
    report["total_s"] = time.perf_counter() - t_start
    save()
    print(markdown(report), flush=True)
    return 0


def markdown(report: dict) -> str:
    lines = [f"# rackrisk GPU benchmark: {report.get('device', '?')} x{report.get('n_devices', '?')}", "", "| step | paths | paths/s end to end | paths/s steady | vs NumPy | compile s | note |", "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for s in report["steps"]:
        if "skipped" in s:
            lines.append(f"| {s['step']} | | | | | | skipped: {s['skipped']} |")
            continue
        if not s.get("ok"):
            lines.append(f"| {s['step']} | | | | | | error: {s.get('error', '')[:120]} |")
            continue
        pe = s.get("paths_per_s_end_to_end", s.get("paths_per_s", s.get("paths_per_s_device")))
        note = ""
        if "hlo_fusions" in s:
            note = f"device only ({s['mode']}): {s['seconds_per_chunk'] * 1e3:.1f} ms/chunk; HLO fusions {s['hlo_fusions']}, conditionals {s['hlo_conditional']}"
        elif "layout" in s:
            note = "layout " + json.dumps(s["layout"])
        lines.append(
            f"| {s['step']} | {s.get('paths', s.get('paths_per_chunk', '')):,} | {pe:,.0f} | {s.get('paths_per_s_steady') or 0:,.0f} | {s.get('vs_numpy_end_to_end', 0):.1f} | {s.get('compile_s', 0):.1f} | {note} |"
            if pe is not None and "paths" in s or "paths_per_chunk" in s
            else f"| {s['step']} | | | | | | {json.dumps({k: v for k, v in s.items() if k not in ('step', 'ok', 'traceback')}, default=str)[:200]} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
