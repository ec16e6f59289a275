"""Bad input never gives a traceback: one line on stderr naming file, field and rule; exit 2; nothing written.

Every malformed scenario below is written as a small TOML file into pytest's ``tmp_path`` and put
through both ``rackrisk validate`` and ``rackrisk run``; both fail before anything is compiled, so
these cases are fast. Only two tests actually simulate (``--paths 64``): replacing an existing
output directory with ``--force`` and the atomic-write failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main

REPO = Path(__file__).resolve().parents[1]

# A tiny valid scenario (one cohort, one launch); every bad case below is a small edit of it.
REF = """\
title = "ref"
[run]
start_month = "2026-01"
horizon_months = 72
paths = 20000
seed = 0
store = "summary"
[[fleet.cohort]]
name = "H100"
generation = "H100"
purchase_month = "2026-01"
units = 1000
capex_usd_per_gpu = 30000
useful_life_months = 72
salvage_frac = 0
kw_per_gpu = 0.7
fixed_opex_usd_per_month = 20000
[market.H100]
price_usd_per_gpu_hour = 2.5
decline_rate_per_month = { dist = "normal", mean = 0.02, sd = 0.01 }
volatility_per_month = 0.05
[[next_gen.launch]]
generation = "B200"
ship_months_from_start = { dist = "exponential", mean = 12, loc = 12 }
undercut_frac = { default = { dist = "uniform", low = 0.1, high = 0.4 } }
utilization_cut_frac = { default = 0.1 }
[demand]
utilization_frac = { dist = "beta", mean = 0.7, concentration = 20 }
[failures]
annual_failure_rate_frac = { default = { dist = "uniform", low = 0.03, high = 0.09 } }
policy = "retain_book"
[costs]
power_draw_frac = 0.76
pue = 1.3
electricity_usd_per_kwh = 0.08
[accounting]
standards = ["asc360"]
test_every_months = 3
trigger_on_launch = false
forecast = "flat"
"""

DECLINE = 'decline_rate_per_month = { dist = "normal", mean = 0.02, sd = 0.01 }'
UTIL = 'utilization_frac = { dist = "beta", mean = 0.7, concentration = 20 }'
SHIP = 'ship_months_from_start = { dist = "exponential", mean = 12, loc = 12 }'
UNDERCUT = 'undercut_frac = { default = { dist = "uniform", low = 0.1, high = 0.4 } }'
AFR = 'annual_failure_rate_frac = { default = { dist = "uniform", low = 0.03, high = 0.09 } }'
COHORT = REF[REF.index("[[fleet.cohort]]") : REF.index("[market.H100]")]


def edit(*pairs: str, text: str = REF) -> str:
    """REF with each (old, new) pair replaced; each ``old`` must occur exactly once."""
    assert len(pairs) % 2 == 0
    for old, new in zip(pairs[::2], pairs[1::2]):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def decline(table: str) -> str:
    """REF with market.H100.decline_rate_per_month replaced by ``table`` (a posterior input)."""
    return edit(DECLINE, f"decline_rate_per_month = {table}")


# --------------------------------------------------------------------------------------- posterior files
def _write_posterior(path: Path, *, gate: int = 1, variables=("decline",)) -> None:
    """A small valid posterior netCDF: root attrs, group ``posterior`` with (chain, draw) variables."""
    import xarray as xr

    xr.Dataset(attrs={"rackrisk_gate_passed": gate, "created_by": "test_bad_input"}).to_netcdf(path, engine="h5netcdf")
    rng = np.random.default_rng(0)
    post = xr.Dataset({v: (("chain", "draw"), 0.02 + 0.005 * rng.standard_normal((2, 50))) for v in variables})
    post.to_netcdf(path, engine="h5netcdf", group="posterior", mode="a")


def _post_missing(d: Path) -> None:
    pass  # the file named by the scenario is simply not there


def _post_garbage(d: Path) -> None:
    (d / "post.nc").write_bytes(b"\x00\x01 this is not netCDF \xff\xfe" * 64)


def _post_no_variable(d: Path) -> None:
    _write_posterior(d / "post.nc", variables=("other_var",))


def _post_gate_failed(d: Path) -> None:
    _write_posterior(d / "post.nc", gate=0)


POSTERIOR = decline('{ dist = "posterior", file = "post.nc", variable = "decline" }')


# --------------------------------------------------------------------------------------- extends
def _extends_cycle(d: Path) -> None:
    (d / "b.toml").write_text('extends = "bad.toml"\ntitle = "b"\n')


def _extends_ok_base(d: Path) -> None:
    (d / "base.toml").write_text(REF)


@dataclass
class Case:
    """One malformed scenario: the text of ``bad.toml``, files beside it, the field and rule words expected."""

    id: str
    text: str
    field: str  # the dotted field path the message must name ("" when the location is a line number)
    words: tuple[str, ...]  # words of the rule, all of which must appear in the message
    setup: object = None  # callable(dir) writing other files next to bad.toml
    extra: tuple[str, ...] = field(default=())  # more strings that must appear (e.g. a posterior file name)


CASES = [
    # TOML that does not parse: the message says so and gives the line.
    Case("toml-syntax", edit("units = 1000", "units = 1,000"), "", ("TOML syntax", "line 12")),
    # Unknown keys at every level; the message lists the allowed keys.
    Case("unknown-key-top", edit('title = "ref"', 'title = "ref"\ncolour = "red"'), "colour", ("unknown key", "allowed", "title")),
    Case("unknown-key-section", edit("horizon_months = 72", "horizon_months = 72\nhorizon = 72"), "run.horizon", ("unknown key", "horizon_months")),
    Case("paths-kept-over-1e8", edit("paths = 20000", "paths = 100000001", 'store = "summary"', 'store = "full"'), "run.paths", ("100,000,000", 'store = "full"')),
    Case("paths-over-4e9", edit("paths = 20000", "paths = 4000000001"), "run.paths", ("4000000000",)),
    Case("unknown-key-cohort", edit("units = 1000", "units = 1000\nunit = 1000"), "fleet.cohort[0].unit", ("unknown key", "units")),
    Case("unknown-key-dist", edit(DECLINE, 'decline_rate_per_month = { dist = "normal", mean = 0.02, sd = 0.01, sigma = 1 }'),
         "market.H100.decline_rate_per_month", ("unknown parameter", "sigma", "mean, sd")),
    # Wrong types: a string where a number is expected (as text, and as a quoted number), a table
    # where a number is expected, a string where an uncertain input is expected.
    Case("wrong-type-units", edit("units = 1000", 'units = "many"'), "fleet.cohort[0].units", ("integer", "many")),
    Case("wrong-type-quoted-number", edit("capex_usd_per_gpu = 30000", 'capex_usd_per_gpu = "30000"'), "fleet.cohort[0].capex_usd_per_gpu", ("number",)),
    Case("wrong-type-uncertain", edit("price_usd_per_gpu_hour = 2.5", 'price_usd_per_gpu_hour = "cheap"'), "market.H100.price_usd_per_gpu_hour", ("expected a number",)),
    Case("wrong-type-dist-name", edit(UTIL, 'utilization_frac = { dist = ["beta"], mean = 0.7, concentration = 20 }'), "demand.utilization_frac", ("unknown distribution", "beta")),
    # Out-of-range values.
    Case("utilization-above-1", edit(UTIL, "utilization_frac = 1.2"), "demand.utilization_frac", ("outside the allowed range", "[0, 1]")),
    Case("utilization-normal-support", edit(UTIL, 'utilization_frac = { dist = "normal", mean = 0.7, sd = 0.1 }'), "demand.utilization_frac", ("support", "[0, 1]", "bounded")),
    Case("negative-price", edit("price_usd_per_gpu_hour = 2.5", "price_usd_per_gpu_hour = -2.5"), "market.H100.price_usd_per_gpu_hour", ("outside the allowed range", "(0, ")),
    Case("negative-capex", edit("capex_usd_per_gpu = 30000", "capex_usd_per_gpu = -30000"), "fleet.cohort[0].capex_usd_per_gpu", ("greater than 0",)),
    Case("infinite-capex", edit("capex_usd_per_gpu = 30000", "capex_usd_per_gpu = inf"), "fleet.cohort[0].capex_usd_per_gpu", ("finite",)),
    Case("zero-useful-life", edit("useful_life_months = 72", "useful_life_months = 0"), "fleet.cohort[0].useful_life_months", ("greater than 0",)),
    Case("negative-useful-life", edit("useful_life_months = 72", "useful_life_months = -12"), "fleet.cohort[0].useful_life_months", ("greater than 0",)),
    Case("negative-units", edit("units = 1000", "units = -5"), "fleet.cohort[0].units", ("greater than 0",)),
    Case("undercut-above-1", edit(UNDERCUT, "undercut_frac = { default = 1.2 }"), "next_gen.launch[0].undercut_frac.default", ("outside the allowed range", "[0, 1]")),
    # A purchase after the horizon (start 2026-01 + 72 months ends 2031-12).
    Case("purchase-after-horizon", edit('purchase_month = "2026-01"', 'purchase_month = "2032-01"'), "fleet.cohort[0].purchase_month", ("after the horizon", "2031-12")),
    # Missing required fields.
    Case("missing-start-month", edit('start_month = "2026-01"\n', ""), "run.start_month", ("required", "missing")),
    Case("missing-capex", edit("capex_usd_per_gpu = 30000\n", ""), "fleet.cohort[0].capex_usd_per_gpu", ("required", "missing")),
    # Distributions: unknown name, nonsense parameters, missing and unknown parameters.
    Case("dist-key-missing", edit(UTIL, "utilization_frac = { mean = 0.7, concentration = 20 }"), "demand.utilization_frac", ("no dist key", "beta")),
    Case("unknown-dist", edit(DECLINE, 'decline_rate_per_month = { dist = "gaussian", mean = 0.02, sd = 0.01 }'), "market.H100.decline_rate_per_month", ("unknown distribution", "gaussian", "normal")),
    Case("normal-sd-zero", edit(DECLINE, 'decline_rate_per_month = { dist = "normal", mean = 0.02, sd = 0 }'), "market.H100.decline_rate_per_month", ("sd", "greater than 0")),
    Case("normal-sd-negative", edit(DECLINE, 'decline_rate_per_month = { dist = "normal", mean = 0.02, sd = -0.01 }'), "market.H100.decline_rate_per_month", ("sd", "greater than 0")),
    Case("normal-mean-nan", edit(DECLINE, 'decline_rate_per_month = { dist = "normal", mean = nan, sd = 0.01 }'), "market.H100.decline_rate_per_month", ("mean", "finite")),
    Case("uniform-low-above-high", edit(AFR, 'annual_failure_rate_frac = { default = { dist = "uniform", low = 0.09, high = 0.03 } }'), "failures.annual_failure_rate_frac.default", ("low", "below high")),
    Case("uniform-low-equals-high", edit(UNDERCUT, 'undercut_frac = { default = { dist = "uniform", low = 0.2, high = 0.2 } }'), "next_gen.launch[0].undercut_frac.default", ("low", "below high")),
    Case("triangular-mode-outside", edit(SHIP, 'ship_months_from_start = { dist = "triangular", low = 6, mode = 30, high = 24 }'), "next_gen.launch[0].ship_months_from_start", ("low <= mode <= high",)),
    Case("beta-mean-above-1", edit(UTIL, 'utilization_frac = { dist = "beta", mean = 1.2, concentration = 20 }'), "demand.utilization_frac", ("beta", "mean", "less than 1")),
    Case("beta-mean-zero", edit(UTIL, 'utilization_frac = { dist = "beta", mean = 0, concentration = 20 }'), "demand.utilization_frac", ("beta", "mean", "greater than 0")),
    Case("discrete-weights-length", edit("volatility_per_month = 0.05", 'volatility_per_month = { dist = "discrete", values = [0.03, 0.05], weights = [1] }'), "market.H100.volatility_per_month", ("weights", "values")),
    Case("missing-dist-parameter", edit(DECLINE, 'decline_rate_per_month = { dist = "normal", mean = 0.02 }'), "market.H100.decline_rate_per_month", ("missing parameter", "sd")),
    Case("unknown-dist-parameter", edit(UNDERCUT, 'undercut_frac = { default = { dist = "uniform", low = 0.1, high = 0.4, mode = 0.2 } }'), "next_gen.launch[0].undercut_frac.default", ("unknown parameter", "mode", "low, high")),
    # Posterior inputs: missing file, not netCDF, no such variable, failed convergence gate.
    Case("posterior-missing-file", POSTERIOR, "market.H100.decline_rate_per_month", ("not found",), _post_missing, ("post.nc",)),
    Case("posterior-not-netcdf", POSTERIOR, "market.H100.decline_rate_per_month", ("not a readable posterior netCDF",), _post_garbage, ("post.nc",)),
    Case("posterior-no-variable", POSTERIOR, "market.H100.decline_rate_per_month", ("variable 'decline' not in", "other_var"), _post_no_variable, ("post.nc",)),
    Case("posterior-gate-failed", POSTERIOR, "market.H100.decline_rate_per_month", ("convergence gate", "--allow-unconverged"), _post_gate_failed, ("post.nc",)),
    # extends: a cycle (bad.toml -> b.toml -> bad.toml) and a missing base file.
    Case("extends-cycle", 'extends = "b.toml"\ntitle = "a"\n', "extends", ("cyclic", "b.toml"), _extends_cycle),
    Case("extends-missing", 'extends = "nowhere.toml"\ntitle = "a"\n', "extends", ("not found", "nowhere.toml")),
    # A bad value in a file that extends a good one still names the file and the field.
    Case("extends-bad-child", 'extends = "base.toml"\n[[fleet.cohort]]\nname = "H100"\nunits = -5\n', "fleet.cohort[0].units", ("greater than 0",), _extends_ok_base),
    # Months, generations and names.
    Case("bad-month", edit('start_month = "2026-01"', 'start_month = "2026-13"'), "run.start_month", ("YYYY-MM", "2026-13")),
    Case("cohort-generation-without-market", edit('generation = "H100"', 'generation = "H200"'), "fleet.cohort[0].generation", ("no [market.H200] section",)),
    Case("unknown-generation", edit('generation = "H100"', 'generation = "H300"'), "fleet.cohort[0].generation", ("unknown", "H300", "allowed", "A100")),
    Case("unknown-generation-market", edit("[market.H100]", "[market.H300]\nprice_usd_per_gpu_hour = 2.5\ndecline_rate_per_month = 0.02\nvolatility_per_month = 0.05\n[market.H100]"), "market.H300", ("unknown generation", "allowed")),
    Case("duplicate-cohort-names", edit("[market.H100]", COHORT + "[market.H100]"), "fleet.cohort", ("unique", "H100")),
    Case("correlation-unknown-input", REF + '[[correlations.pair]]\na = "market.H100.decline_rate_per_month"\nb = "demand.utilisation_frac"\nrank = 0.3\n',
         "correlations.pair[0].b", ("not an uncertain input", "demand.utilisation_frac", "demand.utilization_frac")),
]


def _write_case(case: Case, d: Path) -> Path:
    path = d / "bad.toml"
    path.write_text(case.text)
    if case.setup is not None:
        case.setup(d)
    return path


def _check_one_error(capsys, case: Case, path: Path, rc: int) -> str:
    """rc 2, nothing on stdout, one stderr line 'rackrisk: error: ...' naming file, field and rule."""
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert rc == 2, (out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("rackrisk: error: ")
    assert path.name in line
    if case.field:
        assert f"field '{case.field}'" in line, line
    for word in (*case.words, *case.extra):
        assert word in line, (word, line)
    return line


def assert_rejected_cleanly(case: Case, tmp_path: Path, capsys) -> None:
    """`validate` and `run` both exit 2 with one clear line (file, field, rule), no traceback, and
    `run` leaves no output directory (nor any temporary sibling). Shared by the credit and stress
    bad-input tests."""
    path = _write_case(case, tmp_path)
    before = set(os.listdir(tmp_path))
    _check_one_error(capsys, case, path, main(["validate", str(path)]))
    out_dir = tmp_path / "out"
    _check_one_error(capsys, case, path, main(["run", str(path), "--paths", "64", "--out", str(out_dir), "--quiet"]))
    assert not out_dir.exists()
    assert set(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_scenario(case: Case, tmp_path: Path, capsys) -> None:
    # Each malformed scenario is rejected cleanly (see assert_rejected_cleanly).
    assert_rejected_cleanly(case, tmp_path, capsys)


def test_reference_scenario_is_valid(tmp_path: Path, capsys) -> None:
    # The base every bad case is edited from validates (so each case fails for its one edit only).
    path = tmp_path / "ref.toml"
    path.write_text(REF)
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "ok" in out and err == ""


def test_validate_reports_every_bad_file(tmp_path: Path, capsys) -> None:
    # `validate a b c` checks every file: one line per bad file, an ok line for the good one, exit 2.
    good = tmp_path / "good.toml"
    good.write_text(REF)
    bad1 = tmp_path / "bad1.toml"
    bad1.write_text(edit("units = 1000", "units = -5"))
    bad2 = tmp_path / "bad2.toml"
    bad2.write_text(edit(UTIL, "utilization_frac = 1.2"))
    assert main(["validate", str(bad1), str(good), str(bad2)]) == 2
    out, err = capsys.readouterr()
    assert "good.toml: ok" in out
    lines = err.splitlines()
    assert len(lines) == 2 and "bad1.toml" in lines[0] and "bad2.toml" in lines[1]
    assert all(line.startswith("rackrisk: error: ") for line in lines)


def test_missing_scenario_file(tmp_path: Path, capsys) -> None:
    # A scenario path that does not exist: exit 2, one line naming the file, nothing written.
    path = tmp_path / "nowhere.toml"
    out_dir = tmp_path / "out"
    for argv in (["validate", str(path)], ["run", str(path), "--paths", "64", "--out", str(out_dir), "--quiet"]):
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err and len(err.splitlines()) == 1
        assert err.startswith("rackrisk: error: ") and "nowhere.toml" in err and "not found" in err
    assert not out_dir.exists()


def test_allow_unconverged_accepts_gate_failed_posterior(tmp_path: Path, capsys) -> None:
    # --allow-unconverged lets a posterior file that failed its gate through loading: the run then
    # stops at the next check (the existing output directory), not at the gate. No simulation runs.
    _post_gate_failed(tmp_path)
    path = tmp_path / "post.toml"
    path.write_text(POSTERIOR)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    rc = main(["run", str(path), "--paths", "64", "--out", str(out_dir), "--quiet", "--allow-unconverged"])
    out, err = capsys.readouterr()
    assert rc == 2 and "Traceback" not in out + err
    assert "convergence gate" not in err, err
    assert "exists" in err and "--force" in err
    assert list(out_dir.iterdir()) == []


def test_subprocess_exit_status(tmp_path: Path) -> None:
    # The real process (console script when installed, else `python -m engine.cli`) exits 2 with one
    # line on stderr and no traceback, and writes nothing.
    path = tmp_path / "bad.toml"
    path.write_text(edit("units = 1000", 'units = "many"'))
    out_dir = tmp_path / "out"
    script = Path(sys.executable).parent / "rackrisk"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "engine.cli"]
    proc = subprocess.run(
        [*cmd, "run", str(path), "--paths", "64", "--out", str(out_dir), "--quiet"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2, proc
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr.startswith("rackrisk: error: ") and len(proc.stderr.splitlines()) == 1
    assert "fleet.cohort[0].units" in proc.stderr
    assert not out_dir.exists()


# --------------------------------------------------------------------------------------- CLI flags
@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--paths", "0"], ("--paths", "positive")),
        (["--paths", "-5"], ("--paths", "positive")),
        (["--seed", "-1"], ("--seed", "2^32")),
        (["--seed", str(2**32)], ("--seed", "2^32")),
        (["--chunk-paths", "0"], ("--chunk-paths", "positive")),
        # the file's [run] rules hold for flags too: 32-bit path indices (4e9), chunk size, and
        # more than 1e8 paths only when no per-path array is kept (docs/scenarios.md)
        (["--paths", "4000000001"], ("run.paths", "--paths", "4000000000")),
        (["--chunk-paths", "4194305"], ("run.chunk_paths", "--chunk-paths", "4194304")),
        (["--paths", "100000001", "--store", "paths"], ("run.paths", "100,000,000", 'store = "paths"')),
    ],
    ids=["paths-0", "paths-negative", "seed-negative", "seed-too-big", "chunk-paths-0", "paths-over-2^32-range", "chunk-too-big", "paths-kept-over-1e8"],
)
def test_bad_flag_values(flags: list[str], words: tuple[str, ...], tmp_path: Path, capsys) -> None:
    # Bad numeric flags on a valid scenario: exit 2, one line naming the flag and the rule, nothing written.
    path = tmp_path / "ref.toml"
    path.write_text(REF)
    out_dir = tmp_path / "out"
    rc = main(["run", str(path), "--out", str(out_dir), "--quiet", *flags])
    out, err = capsys.readouterr()
    assert rc == 2 and "Traceback" not in out + err
    assert len(err.splitlines()) == 1 and err.startswith("rackrisk: error: ")
    for word in words:
        assert word in err, (word, err)
    assert not out_dir.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "{ref}", "--paths", "many"],
        ["run", "{ref}", "--store", "everything"],
        ["run", "{ref}", "--no-such-flag"],
        ["run"],
        ["frobnicate", "{ref}"],
    ],
    ids=["paths-not-int", "store-choice", "unknown-flag", "no-scenario", "unknown-command"],
)
def test_argparse_errors(argv: list[str], tmp_path: Path, capsys) -> None:
    # argparse's own errors (not an int, a bad choice, an unknown flag or command) also exit 2 with usage, no traceback.
    path = tmp_path / "ref.toml"
    path.write_text(REF)
    with pytest.raises(SystemExit) as exc:
        main([a.replace("{ref}", str(path)) for a in argv])
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "error:" in err
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------- output directory
def test_existing_output_directory(tmp_path: Path, capsys) -> None:
    # Without --force an existing output directory is refused (exit 2) and left as it was; with
    # --force it is replaced by the results (simulation 1 of 2 in this file).
    path = tmp_path / "ref.toml"
    path.write_text(REF)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("precious")
    argv = ["run", str(path), "--paths", "64", "--out", str(out_dir), "--quiet"]

    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and len(err.splitlines()) == 1
    assert err.startswith("rackrisk: error: ") and str(out_dir) in err and "--force" in err
    assert sorted(os.listdir(out_dir)) == ["keep.txt"]
    assert (out_dir / "keep.txt").read_text() == "precious"

    assert main([*argv, "--force"]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert sorted(os.listdir(out_dir)) == ["results.nc", "scenario.resolved.toml", "summary.json"]
    assert sorted(os.listdir(tmp_path)) == ["out", "ref.toml"]  # no temporary or .old siblings left


def _fail_after_results_nc(monkeypatch, parent: Path) -> list[list[str]]:
    """Make write_results fail at summary.json, after results.nc is in the temporary directory.

    ``engine.results.json_text`` is only called by write_results, for summary.json (patching
    ``json.dumps`` itself would already fail in build_dataset, before any writing starts). Returns
    a list that receives, at the moment of failure, the files in each temporary sibling of ``out``.
    """
    import engine.results

    seen: list[list[str]] = []

    def boom(obj):
        seen.extend(sorted(os.listdir(parent / d)) for d in os.listdir(parent) if d.startswith("."))
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(engine.results, "json_text", boom)
    return seen


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    # A failure half-way through writing (results.nc written, summary.json not) leaves neither the
    # output directory nor a temporary sibling (simulation 2 of 2 in this file).
    path = tmp_path / "ref.toml"
    path.write_text(REF)
    out_dir = tmp_path / "out"
    seen = _fail_after_results_nc(monkeypatch, tmp_path)
    with pytest.raises(RuntimeError, match="simulated"):
        main(["run", str(path), "--paths", "64", "--out", str(out_dir), "--quiet"])
    assert seen == [["results.nc"]]  # the failure really came half-way, in a temporary directory
    assert not out_dir.exists()
    assert sorted(os.listdir(tmp_path)) == ["ref.toml"]


def test_failed_forced_write_keeps_old_results(tmp_path: Path, monkeypatch) -> None:
    # With --force, a write that fails half-way keeps the existing directory as it was and leaves no
    # temporary sibling (write_results called directly with a tiny dataset: no simulation).
    import xarray as xr

    from engine.results import write_results

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("precious")
    seen = _fail_after_results_nc(monkeypatch, tmp_path)
    ds = xr.Dataset({"x": ("i", np.arange(3.0))})
    with pytest.raises(RuntimeError, match="simulated"):
        write_results(out_dir, dataset=ds, summary={"a": 1}, resolved_toml="", force=True)
    assert seen == [["results.nc"]]
    assert sorted(os.listdir(out_dir)) == ["keep.txt"]
    assert (out_dir / "keep.txt").read_text() == "precious"
    assert sorted(os.listdir(tmp_path)) == ["out"]
