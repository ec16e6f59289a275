"""A command whose optional dependencies are not installed (pyproject.toml extras ``fit`` and ``cluster``)
prints one line naming the extra to install and exits 2, before it reads or writes anything; and
`rackrisk run`'s import path needs neither extra.

The missing modules are simulated in a fresh interpreter: ``sys.modules[name] = None`` makes both
``import name`` and ``importlib.util.find_spec(name)`` fail as if the package were not installed."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run_blocked(blocked: list[str], argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    code = (f"import sys\nfor m in {blocked!r}: sys.modules[m] = None\n"
            f"from engine.cli import main\nsys.exit(main({argv!r}))\n")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "JAX_PLATFORMS": "cpu"})


@pytest.mark.parametrize("argv, blocked, extra", [
    (["fit", "failures", "--out-dir", "OUT"], ["pymc"], "fit"),
    (["backtest", "--as-of", "2024-06", "--horizon", "2", "--out", "OUT"], ["arviz"], "fit"),
    (["sweep", str(REPO / "grids" / "reference_grid.toml"), "--out", "OUT"], ["dask", "distributed"], "cluster"),
])
def test_missing_extra_is_one_line_naming_it(tmp_path, argv, blocked, extra):
    out = tmp_path / "out"
    argv = [str(out) if a == "OUT" else a for a in argv]
    p = _run_blocked(blocked, argv, tmp_path)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2, p.stderr
    assert len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    assert f"pip install 'rackrisk[{extra}]'" in lines[0] and blocked[0] in lines[0]
    assert not out.exists()


def test_run_imports_neither_extra(tmp_path):
    # `rackrisk validate` loads a scenario and its posterior inputs along `rackrisk run`'s import path;
    # with every module of both extras blocked it must still succeed
    blocked = ["pymc", "arviz", "numpyro", "pytensor", "dask", "distributed", "zarr"]
    p = _run_blocked(blocked, ["validate", str(REPO / "scenarios" / "baseline.toml")], tmp_path)
    assert p.returncode == 0, p.stderr
