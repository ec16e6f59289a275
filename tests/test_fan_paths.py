"""The fan paths are simulated once: their chunks run the monthly chunk function, whose per-path results
are the packed function's bit for bit, so no per-path result depends on how many fan paths a run keeps.

engine/runner.py runs the first ``fan_paths`` paths (rounded up to whole chunks) through the monthly
function and the rest through the packed one; ``store = "full"`` runs every chunk through the monthly one.
Exact equality is the contract (the two functions are the one step of engine/kernel/path.py, with the
months reported or not), so the tolerance is zero.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("scenario", ["bench/reference.toml", "baseline.toml"])
def test_per_path_results_do_not_depend_on_the_fan_paths(scenario):
    """700 paths in chunks of 256: no fan paths (packed chunks only); 256 fan paths (one monthly chunk, then
    packed chunks from path 256); and store = "full" (monthly chunks only): identical per-path results,
    inputs and posterior samples, and the fan paths' months are the full run's first 256 rows."""
    from engine.compile import compile_model
    from engine.runner import simulate_paths
    from engine.scenario.load import load_scenario

    model = compile_model(load_scenario(ROOT / "scenarios" / scenario))
    kw = dict(n_paths=700, seed=5, chunk_paths=256)
    none = simulate_paths(model, fan_paths=0, **kw)
    fans = simulate_paths(model, fan_paths=256, **kw)
    full = simulate_paths(model, fan_paths=256, store_full=True, **kw)
    assert none.monthly == {} and fans.first_chunk_paths == 256
    for run in (fans, full):
        assert set(run.scalars) == set(none.scalars)
        for k, v in none.scalars.items():
            np.testing.assert_array_equal(run.scalars[k], v, err_msg=k)
        np.testing.assert_array_equal(run.inputs, none.inputs)
        np.testing.assert_array_equal(run.posterior_index, none.posterior_index)
    assert set(fans.monthly) == set(full.monthly) and len(fans.monthly) > 5
    for k, v in fans.monthly.items():
        assert v.shape[0] == 256 and full.monthly[k].shape[0] == 700, k
        np.testing.assert_array_equal(v, full.monthly[k][:256], err_msg=k)
