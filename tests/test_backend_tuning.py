"""engine/backend_tuning.py: per-backend layout settings, their overrides, and a bad override's message.

The settings change speed only (tests/test_kernel_specialisation.py and tests/test_streaming.py compare the
layouts' results); here: the defaults each backend gets, that an override is read, and that a bad one
stops ``rackrisk run`` with one line naming the variable and its allowed values, exit 2, nothing written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.backend_tuning import DEFAULTS, settings
from engine.cli import main
from engine.errors import ScenarioError

REF = Path(__file__).resolve().parents[1] / "scenarios" / "bench" / "reference.toml"


def test_defaults_by_backend():
    assert settings({}, "cpu") == {"select": False, "unroll": 1, "hist_replicas": 1}
    assert settings({}, "gpu") == DEFAULTS["gpu"]
    assert DEFAULTS["gpu"]["select"] is True  # the fused (branch-free) month on a GPU
    assert settings({}, "tpu") == settings({}, "cpu")  # unmeasured backends take the CPU's


def test_overrides_are_read():
    env = {"RACKRISK_FAST_SELECT": "1", "RACKRISK_FAST_UNROLL": " 8 ", "RACKRISK_HIST_REPLICAS": "16"}
    assert settings(env, "cpu") == {"select": True, "unroll": 8, "hist_replicas": 16}
    assert settings({"RACKRISK_FAST_SELECT": "0", "RACKRISK_FAST_UNROLL": ""}, "gpu")["select"] is False
    assert settings({"RACKRISK_FAST_UNROLL": ""}, "gpu")["unroll"] == DEFAULTS["gpu"]["unroll"]  # empty: the default


@pytest.mark.parametrize(("var", "val", "allowed"), [
    ("RACKRISK_FAST_SELECT", "2", "from 0 to 1"),
    ("RACKRISK_FAST_UNROLL", "0", "from 1 to 72"),
    ("RACKRISK_FAST_UNROLL", "four", "from 1 to 72"),
    ("RACKRISK_HIST_REPLICAS", "1000", "from 1 to 256"),
])
def test_bad_override_names_the_variable_and_the_range(var, val, allowed):
    with pytest.raises(ScenarioError) as err:
        settings({var: val}, "cpu")
    msg = str(err.value)
    assert var in msg and allowed in msg and repr(val) in msg


def test_bad_override_stops_run_before_anything_is_written(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RACKRISK_FAST_UNROLL", "0")
    out = tmp_path / "out"
    assert main(["run", str(REF), "--paths", "64", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "RACKRISK_FAST_UNROLL" in err[0] and "from 1 to 72" in err[0]
    assert not out.exists()


def test_chunk_paths_default_by_backend_and_step(tmp_path):
    """``[run] chunk_paths`` left unset: 32,768 on a CPU; on a GPU 4,194,304 for a single-asset scenario (the
    reference: a small per-path state) and 1,048,576 otherwise (baseline: several cohorts). Set in the file or by
    ``--chunk-paths``: that value on any backend. A ``--paths`` override leaves it unset."""
    from engine.backend_tuning import CHUNK_PATHS, chunk_paths_for
    from engine.compile import compile_model
    from engine.scenario.load import load_scenario

    ref = load_scenario(REF)
    base = load_scenario(REF.parents[1] / "baseline.toml")
    ref_model, base_model = compile_model(ref), compile_model(base)
    assert chunk_paths_for(ref.scenario.run, ref_model, backend="cpu") == CHUNK_PATHS["cpu"] == 32_768
    assert chunk_paths_for(ref.scenario.run, ref_model, backend="gpu") == 4_194_304
    assert chunk_paths_for(base.scenario.run, base_model, backend="gpu") == 1_048_576
    assert chunk_paths_for(ref.scenario.run, ref_model, override=1000, backend="gpu") == 1000
    over = ref.with_run_overrides(paths=5000)
    assert over.scenario.run.paths == 5000 and chunk_paths_for(over.scenario.run, ref_model, backend="gpu") == 4_194_304
    text = REF.read_text().replace("[run]\n", "[run]\nchunk_paths = 2048\n", 1)
    p = tmp_path / "chunked.toml"
    p.write_text(text)
    set_in_file = load_scenario(p)
    assert chunk_paths_for(set_in_file.scenario.run, ref_model, backend="gpu") == 2048
    assert chunk_paths_for(set_in_file.with_run_overrides(seed=3).scenario.run, ref_model, backend="gpu") == 2048
