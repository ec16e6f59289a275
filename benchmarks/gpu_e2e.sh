#!/usr/bin/env bash
# End to end on a GPU with the engine's default layout (engine/backend_tuning.py), cold and warm cache:
#   OUT=/some/dir bash benchmarks/gpu_e2e.sh
# 1. a fresh process, empty JAX compilation cache: reference at 1e6 (compiles), 1e7, 1e8, 1e9 paths;
# 2. a second process on the same cache (what a user's second run sees): 1e8 and 1e9;
# 3. the CLI itself, `rackrisk run ... --paths 1e8 --chunk-paths 4194304 --out DIR`, timed with results written.
# Results: $OUT/cold/, $OUT/warm/ (gpu_results.json/.md, log) and $OUT/cli.txt. Under 4 minutes on an H100.
set -x
OUT="${OUT:-$PWD/gpu-e2e-out}"
mkdir -p "$OUT/cold" "$OUT/warm"
source "$(dirname "$0")/gpu_env.sh"
export RACKRISK_JAX_CACHE="$(mktemp -d)"
timeout 150 "$PY" benchmarks/gpu_bench.py --out "$OUT/cold" --e2e-only --budget-s 120 > "$OUT/cold/gpu_bench.log" 2>&1
timeout 80 "$PY" benchmarks/gpu_bench.py --out "$OUT/warm" --e2e-only --budget-s 60 --skip-numpy --sizes 1e8,1e9 > "$OUT/warm/gpu_bench.log" 2>&1
TIMEFORMAT="cli wall %R s, user %U s, sys %S s"
{ time "$PY" -c "import sys; from engine.cli import main; sys.exit(main(sys.argv[1:]))" \
    run scenarios/bench/reference.toml --paths 100000000 --chunk-paths 4194304 --out "$(mktemp -d)/ref1e8" ; } > "$OUT/cli.txt" 2>&1
echo "cli exit status $?" >> "$OUT/cli.txt"
cat "$OUT/cold/gpu_results.md" "$OUT/warm/gpu_results.md"; tail -8 "$OUT/cli.txt"
exit 0
