# Sourced by the GPU scripts (gpu_check.sh, gpu_e2e.sh, gpu_cli.sh) after they set OUT: the shared set-up.
# Moves to the repository root, uses the checkout's code (PYTHONPATH), lets JAX allocate GPU memory as needed,
# and installs the wheels a bare GPU box lacks from benchmarks/wheels/ when that folder exists (no network).
# PY: the interpreter ($PYTHON or python3). PIP_LOG: where pip's output goes (default /dev/null).
export PYTHONUNBUFFERED=1
PY="${PYTHON:-python3}"
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export XLA_PYTHON_CLIENT_PREALLOCATE=false
if [ -d benchmarks/wheels ]; then
  "$PY" -m pip install --no-index --find-links benchmarks/wheels benchmarks/wheels/*.whl > "${PIP_LOG:-/dev/null}" 2>&1 || true
fi
