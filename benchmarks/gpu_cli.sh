#!/usr/bin/env bash
# The CLI on a GPU with every default (no --chunk-paths): the chunk size and layout the engine picks there.
#   OUT=/some/dir bash benchmarks/gpu_cli.sh
# 1. `rackrisk run scenarios/bench/reference.toml --paths 1000000000` twice (empty, then warm compilation cache);
# 2. `rackrisk run scenarios/baseline.toml --paths 2000000 --store summary` (the general step, streamed).
# Each: wall time, the summary's run line, the chunk size and layout recorded in results.nc. Under 3 minutes on an H100.
OUT="${OUT:-$PWD/gpu-cli-out}"
mkdir -p "$OUT"
source "$(dirname "$0")/gpu_env.sh"
export RACKRISK_JAX_CACHE="$(mktemp -d)"
TIMEFORMAT="wall %R s"
i=0
for args in "scenarios/bench/reference.toml --paths 1000000000" "scenarios/bench/reference.toml --paths 1000000000" \
            "scenarios/baseline.toml --paths 2000000 --store summary"; do
  i=$((i + 1))
  dir="$(mktemp -d)/run$i"
  echo "== rackrisk run $args" | tee -a "$OUT/cli_runs.txt"
  { time timeout 200 "$PY" -c "import sys; from engine.cli import main; sys.exit(main(sys.argv[1:]))" run $args --quiet --out "$dir" ; } >> "$OUT/cli_runs.txt" 2>&1
  echo "exit $?" >> "$OUT/cli_runs.txt"
  "$PY" - "$dir" >> "$OUT/cli_runs.txt" 2>&1 <<'PYEOF'
import json, sys
import xarray as xr
d = sys.argv[1]
s = json.load(open(f"{d}/summary.json"))
a = xr.open_dataset(f"{d}/results.nc", engine="h5netcdf").attrs
print("paths", s["run"]["paths"], "backend", a.get("jax_backend"), "chunk_paths", a.get("chunk_paths"), "layout", a.get("chunk_layout"))
f = s["fleet"]
print("npv mean", f["npv_usd"]["mean"], "p_impaired asc360", f["p_impairment_asc360"]["horizon"])
PYEOF
  tail -4 "$OUT/cli_runs.txt"
done
exit 0
