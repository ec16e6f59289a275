#!/usr/bin/env bash
# One GPU check for rackrisk: run from the repository root on an NVIDIA box (JAX with its CUDA plugin).
#   OUT=/some/dir bash benchmarks/gpu_check.sh
# Writes $OUT/gpu_results.json, $OUT/gpu_results.md, logs and nvidia-smi output; finishes in < 7 min
# (the Python steps run under a 330 s budget and a 380 s hard timeout). No network is used: wheels
# the box lacks (see benchmarks/README.md) are installed from benchmarks/wheels/ if that folder exists.
set -x
OUT="${OUT:-$PWD/gpu-check-out}"
mkdir -p "$OUT"
{ date -u; uname -a; nvidia-smi; } > "$OUT/nvidia-smi.txt" 2>&1 || true
"${PYTHON:-python3}" -m pip list > "$OUT/pip-list.txt" 2>&1 || true
PIP_LOG="$OUT/pip-install.txt" source "$(dirname "$0")/gpu_env.sh"
"$PY" --version > "$OUT/python.txt" 2>&1 || true
# a fresh compilation cache in $OUT (its size shows what was compiled)
export RACKRISK_JAX_CACHE="$OUT/jax-cache"
"$PY" - > "$OUT/imports.txt" 2>&1 <<'PYEOF' || true
import importlib
for m in ("jax", "numpy", "scipy", "xarray", "pydantic", "pydantic_core", "h5netcdf", "h5py"):
    try:
        mod = importlib.import_module(m)
        print(m, getattr(mod, "__version__", "?"))
    except Exception as exc:
        print(m, "MISSING", exc)
import jax
print(jax.devices())
PYEOF

timeout 380 "$PY" benchmarks/gpu_bench.py --out "$OUT" --budget-s "${GPU_BUDGET_S:-330}" > "$OUT/gpu_bench.log" 2>&1
echo "gpu_bench exit status $?" >> "$OUT/gpu_bench.log"
du -sh "$OUT/jax-cache" >> "$OUT/gpu_bench.log" 2>&1 || true
rm -rf "$OUT/jax-cache"
cat "$OUT/gpu_results.md" 2>/dev/null || tail -50 "$OUT/gpu_bench.log"
exit 0
