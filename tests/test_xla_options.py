"""engine/xla_options.py: when 512-bit vectors are asked for, and that they change no number of a single-asset scenario (one cohort, component and generation).

The option is per compilation (``jax.jit(..., compiler_options=...)``), so both compiles run in this
process. On a CPU without AVX-512 LLVM cannot emit 512-bit vectors and the comparison is still valid
(it then compares two equivalent programs); the option's selection rule is tested separately.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from engine.compile import compile_model
from engine.runner import _chunk_fn
from engine.scenario.load import load_scenario
from engine.xla_options import ENV, OPTION, chunk_compiler_options, cpu_has_avx512

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "scenarios" / "bench" / "reference.toml"
BASE = ROOT / "scenarios" / "baseline.toml"


def test_option_only_for_single_asset_scenarios_on_an_avx512_cpu_and_never_against_the_user():
    ref = compile_model(load_scenario(REF))
    base = compile_model(load_scenario(BASE))
    want = {OPTION: 512} if cpu_has_avx512() else {}
    assert chunk_compiler_options(ref, environ={}) == want
    assert chunk_compiler_options(base, environ={}) == {}  # several cohorts: sums over them change with the width
    assert chunk_compiler_options(ref, environ={ENV: "0"}) == {}
    assert chunk_compiler_options(ref, environ={"XLA_FLAGS": f"--{OPTION}=256"}) == {}


def test_wide_vectors_change_no_per_path_result_of_a_single_asset_scenario():
    """4,096 reference paths (64 whole 64-path blocks), float32, compiled with and without the option:
    every per-path result and input equal bit for bit."""
    model = compile_model(load_scenario(REF))
    chunk = _chunk_fn(model, jnp.float32, monthly=False)
    idx = jnp.arange(4096, dtype=jnp.uint32)
    seed = jnp.uint32(11)
    narrow = jax.jit(chunk).lower(seed, idx).compile()(seed, idx)
    wide = jax.jit(chunk, compiler_options={OPTION: 512}).lower(seed, idx).compile()(seed, idx)
    res_n, _, theta_n, _ = narrow
    res_w, _, theta_w, _ = wide
    assert np.array_equal(np.asarray(theta_n), np.asarray(theta_w))
    for k in res_n:
        assert np.array_equal(np.asarray(res_n[k]), np.asarray(res_w[k]), equal_nan=True), k
    assert (np.asarray(res_n["first_impairment_month"]) > 0).mean() > 0.5  # not vacuous: the reference impairs most paths
