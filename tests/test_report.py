"""The analyst's report (issue 7; docs/report.md): ``rackrisk run --report`` and ``rackrisk report DIR``.

Two real runs, kept small so the suite stays fast: the baseline (2,000 paths, with a 2,000-path
stress comparison and a 200-path tornado beside it) and the CoreWeave-like credit scenario (1,000
paths). The checks:

* the page and its files are written; the page fetches nothing (no http(s) URL, no script);
* every number the page shows for a summary.json figure is that figure: each such cell carries
  ``data-key`` (the key path), ``data-value``/``data-se`` (repr of the stored floats), compared with
  summary.json *exactly*, and its displayed text equals the formatting rule applied to the stored
  value; the same for report/headline.csv;
* the page opens in headless Chromium (the system package) without console errors or failed
  requests, every image decodes, and a screenshot of the first screen is written to tmp_path;
* bad input: one line on stderr naming the file, exit 2, nothing written.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import struct
from html.parser import HTMLParser
from pathlib import Path

import pytest

from engine.cli import main
from engine.report import fmt

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


# --------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    """Baseline run with --report; then a stress comparison and a tornado in its stress/ and sensitivity/ subfolders and the report rebuilt."""
    d = tmp_path_factory.mktemp("report") / "baseline"
    assert main(["run", str(REPO / "scenarios/baseline.toml"), "--paths", "2000", "--out", str(d), "--quiet", "--report", "--policy-range-paths", "300"]) == 0
    assert (d / "report.html").is_file() and (d / "report" / "headline.csv").is_file()
    first = (d / "report.html").read_text()
    assert 'id="stress"' not in first  # nothing to compare yet
    # same seed and path count as the run: the comparison's baseline is this run (CRN; docs/stress.md)
    assert main(["stress", str(REPO / "scenarios/stress/price_war_2025_style.toml"), "--against", str(REPO / "scenarios/baseline.toml"),
                 "--paths", "2000", "--out", str(d / "stress")]) == 0
    assert main(["sensitivity", str(REPO / "scenarios/baseline.toml"), "--methods", "tornado", "--paths", "200", "--out", str(d / "sensitivity")]) == 0
    assert main(["report", str(d)]) == 0
    return d


@pytest.fixture(scope="module")
def credit(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("report") / "credit"
    assert main(["run", str(REPO / "scenarios/coreweave_like.toml"), "--paths", "1000", "--out", str(d), "--quiet", "--policy-range-paths", "0"]) == 0
    assert main(["report", str(d)]) == 0
    return d


@pytest.fixture(params=["baseline", "credit"])
def run_dir(request) -> Path:
    return request.getfixturevalue(request.param)


# --------------------------------------------------------------------------------------- parsing
class _Cells(HTMLParser):
    """Every element with ``data-key``: its attributes and the text of its ``value`` span."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict] = []
        self._stack: list[tuple[str, dict | None, bool]] = []  # (tag, cell opened here, is value span)
        self._open: list[dict] = []
        self._value_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cell = None
        if "data-key" in a:
            cell = {"key": json.loads(a["data-key"]), "value": a["data-value"], "se": a["data-se"], "format": a["data-format"], "text": "", "se_text": ""}
            self.cells.append(cell)
            self._open.append(cell)
        cls = (a.get("class") or "").split()
        is_value = "value" in cls and bool(self._open)
        is_se = "se" in cls and bool(self._open)
        self._stack.append((tag, cell, "value" if is_value else "se" if is_se else ""))

    def handle_endtag(self, tag):
        while self._stack:
            t, cell, _ = self._stack.pop()
            if cell is not None:
                self._open.remove(cell)
            if t == tag:
                break

    def handle_data(self, data):
        roles = [r for _, _, r in self._stack if r]
        if self._open and roles:
            self._open[-1]["text" if roles[-1] == "value" else "se_text"] += data


def _lookup(summary: dict, key: list[str]):
    node = summary
    for k in key:
        node = node[k]
    return node


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


# --------------------------------------------------------------------------------------- the numbers
def test_formatting_rules_by_hand() -> None:
    """docs/report.md formatting rules on hand-picked values (half away from zero on the decimal form)."""
    assert fmt.usd_m(1_234_550_000.0) == "$1,234.6m"  # 1,234.55 -> 1,234.6
    assert fmt.usd_m(-82_504_022.2) == "-$82.5m"
    assert fmt.usd_m(-1.0) == "$0.0m"  # no "-$0.0m"
    assert fmt.pct(0.9215) == "92.2%" and fmt.pct(0.0255) == "2.6%"  # binary 2.55 is 2.5499..., the decimal form rounds up
    assert fmt.pct(1.0) == "100.0%"
    assert fmt.se(0.0003, "pct") == "± <0.1%" and fmt.se(0.0, "pct") == "± 0.0%" and fmt.se(1_963_158.6, "usd_m") == "± $2.0m"
    assert fmt.usd_per_hour(1.675) == "$1.68" and fmt.se(0.004, "usd_per_hour") == "± <$0.01"
    assert fmt.ratio(1.255) == "1.26x" and fmt.count(26000) == "26,000"
    assert fmt.value(None, "pct") == "n/a" and fmt.value(float("nan"), "usd_m") == "n/a"
    assert fmt.pct_given(0.0625) == "6.25%" and fmt.pct_given(0.13) == "13.0%"


def _check_cell(summary: dict, c: dict, where: str) -> None:
    obj = _lookup(summary, c["key"])
    if c["format"] == "month":
        assert c["value"] == obj and c["text"] == obj, (where, c)
        return
    v, s = obj["value"], obj["se"]
    if v is None:
        assert c["value"] == "" and c["text"] == "n/a", (where, c)
    else:
        assert float(c["value"]) == v, (where, c["key"], c["value"], v)  # repr round-trips: exact equality
        assert c["text"] == fmt.value(v, c["format"]), (where, c)
    if s is not None:
        assert float(c["se"]) == s, (where, c["key"])
        if c["se_text"]:
            assert c["se_text"] == fmt.se(s, c["format"]), (where, c)


def test_every_number_shown_is_summary_json(run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    p = _Cells()
    p.feed((run_dir / "report.html").read_text())
    assert len(p.cells) > 40, "the page shows too few summary figures"
    for c in p.cells:
        _check_cell(summary, c, "report.html")
    keys = {tuple(c["key"]) for c in p.cells}
    for std in summary["run"]["standards"]:  # the mission's questions are all on the page
        assert ("fleet", f"p_impairment_{std}", "horizon") in keys
        assert ("fleet", f"expected_impairment_loss_usd_{std}") in keys
        assert ("fleet", f"first_impairment_month_{std}", "p50") in keys
    assert ("fleet", "tco_usd_per_delivered_gpu_hour", "mean") in keys
    if "credit" in summary:
        assert ("credit", "portfolio", "p_covenant_breach", "horizon") in keys and ("credit", "portfolio", "p_default", "horizon") in keys
        for f in summary["credit"]["facilities"]:
            assert ("credit", "facilities", f, "p_default", "horizon") in keys


def test_headline_csv_equals_summary_json(run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    rows = list(csv.DictReader((run_dir / "report" / "headline.csv").open()))
    assert len(rows) >= 15
    html_rows = [c for c in (lambda p: (p.feed((run_dir / "report.html").read_text()), p.cells)[1])(_Cells())]
    headline_keys = [tuple(json.loads(r["summary_key"])) for r in rows]
    for r in rows:
        c = {"key": json.loads(r["summary_key"]), "value": r["value"], "se": r["se"], "format": r["format"], "text": r["value_text"], "se_text": r["se_text"]}
        _check_cell(summary, c, "headline.csv")
    # the CSV is the page's headline table, row for row
    page_keys = [tuple(c["key"]) for c in html_rows]
    assert all(k in page_keys for k in headline_keys)
    assert ("credit", "portfolio", "p_default", "horizon") in headline_keys if "credit" in summary else True


def test_files_written_and_self_contained(run_dir: Path) -> None:
    html = (run_dir / "report.html").read_text()
    low = html.lower()
    assert "<script" not in low and "http://" not in low and "https://" not in low and "@import" not in low
    assert "default-src 'none'" in html  # the CSP forbids any fetch
    pngs = sorted((run_dir / "report").glob("*.png"))
    names = {p.name for p in pngs}
    for n in ("impairment_by_quarter.png", "loss_distribution.png", "book_vs_value_in_use.png", "rental_prices.png", "tco.png"):
        assert n in names
    for p in pngs:
        w, h = _png_size(p.read_bytes())
        assert w > 300 and h > 200, p
    assert html.count("data:image/png;base64,") == len(pngs)  # every figure is on the page, embedded
    summary = json.loads((run_dir / "summary.json").read_text())
    if "credit" in summary:
        assert {"credit_dscr_ltv.png", "credit_breach.png"} <= names and 'id="credit"' in html
    else:
        assert "credit_breach.png" not in names and 'id="credit"' not in html
    for section in ("glance", "headline", "cohorts", "impairment", "loss", "book", "prices", "tco", "scenario", "provenance"):
        assert f'id="{section}"' in html


def test_stress_and_sensitivity_included(baseline: Path) -> None:
    html = (baseline / "report.html").read_text()
    assert 'id="stress"' in html and 'id="sensitivity"' in html and 'id="tornado-table"' in html
    assert 'class="warn"' not in html  # the comparison was run against this very run (same scenario sha256)
    names = {p.name for p in (baseline / "report").glob("*.png")}
    assert "stress_comparison_p_impairment_asc360.png" in names and "sensitivity_tornado.png" in names
    # common random numbers: the comparison's baseline column is this run's summary.json figure
    summary = json.loads((baseline / "summary.json").read_text())
    rows = list(csv.DictReader((baseline / "stress" / "comparison.csv").open()))
    base = next(r for r in rows if r["metric"] == "p_impairment_asc360")
    assert float(base["base"]) == summary["fleet"]["p_impairment_asc360"]["horizon"]["value"]
    assert fmt.pct(float(base["base"])) in html


def test_priors_and_sources_in_words(baseline: Path) -> None:
    html = (baseline / "report.html").read_text()
    summary = json.loads((baseline / "summary.json").read_text())
    assert 'id="priors-table"' in html
    for p in summary["provenance"]["posterior_files"]:
        assert Path(p).name in html
    assert "price_dynamics" in html and "as used by the run" in html
    # a source comment of scenarios/baseline.toml ("HW:116 ships H2 2026 (month 6)"), shown beside its assumption with
    # the shorthand spelled out: the data file and its line, and the public source that line cites
    assert "shared/data/seed/hardware_and_ops.csv line 116 (en.wikipedia.org/wiki/High_Bandwidth_Memory) ships H2 2026 (month 6)" in html
    assert "HW:116" not in html and "brief:" not in html
    assert summary["provenance"]["scenario_sha256"] in html


# --------------------------------------------------------------------------------------- the browser
def test_opens_in_headless_chromium(run_dir: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install the Debian package `chromium` (.ci/run and the README's test line do: "
                    "apt-get install -y --no-install-recommends chromium); the report's browser test needs it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the `playwright` package is missing: pip install -c constraints.txt -e '.[test]'")
    errors: list[str] = []
    requests: list[str] = []
    shot = tmp_path / f"{run_dir.name}_first_screen.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
            page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto((run_dir / "report.html").resolve().as_uri(), wait_until="load")
            broken = page.evaluate("Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).length")
            n_images = page.evaluate("document.images.length")
            title = page.title()
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    assert errors == [], errors
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    assert n_images >= 5 and broken == 0
    assert title.startswith("rackrisk report")
    assert _png_size(shot.read_bytes()) == (1280, 900)


# --------------------------------------------------------------------------------------- bad input
def _copy_run(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for n in ("results.nc", "summary.json", "scenario.resolved.toml"):
        shutil.copy(src / n, dst / n)
    return dst


def _no_report(d: Path) -> None:
    if d.is_dir():
        assert not (d / "report.html").exists() and not (d / "report").exists()
        assert not [p for p in d.iterdir() if p.name.startswith(".report")], "a temporary file was left behind"


def _corrupt(name: str, data: bytes):
    def f(d: Path) -> None:
        (d / name).write_bytes(data)
    return f


def _drop(name: str):
    def f(d: Path) -> None:
        (d / name).unlink()
    return f


def _summary_without(key: str):
    def f(d: Path) -> None:
        s = json.loads((d / "summary.json").read_text())
        del s[key]
        (d / "summary.json").write_text(json.dumps(s))
    return f


def _bad_stress(d: Path) -> None:
    (d / "stress").mkdir()
    (d / "stress" / "comparison.json").write_text("{}")  # comparison.csv missing


BAD = [
    ("missing summary.json", _drop("summary.json"), "summary.json", "missing"),
    ("missing results.nc", _drop("results.nc"), "results.nc", "missing"),
    ("corrupt summary.json", _corrupt("summary.json", b'{"provenance": {'), "summary.json", "not valid JSON"),
    ("summary.json without fleet", _summary_without("fleet"), "summary.json", "'fleet'"),
    ("corrupt results.nc", _corrupt("results.nc", b"\x00\x01 not netCDF \xff" * 50), "results.nc", "not a readable netCDF"),
    ("corrupt scenario.resolved.toml", _corrupt("scenario.resolved.toml", b"title = [unclosed"), "scenario.resolved.toml", "not a readable TOML"),
    ("stress folder without comparison.csv", _bad_stress, "comparison.csv", "not a stress folder"),
]


@pytest.mark.parametrize("case", BAD, ids=[b[0] for b in BAD])
def test_bad_run_folder(case, baseline: Path, tmp_path: Path, capsys) -> None:
    _, setup, file_word, rule_word = case
    d = _copy_run(baseline, tmp_path / "run")
    setup(d)
    assert main(["report", str(d)]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rackrisk: error: "), err
    assert file_word in lines[0] and rule_word in lines[0], lines[0]
    assert "Traceback" not in err
    _no_report(d)


def test_missing_and_not_a_folder(tmp_path: Path, capsys) -> None:
    assert main(["report", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "not found" in err and len(err.strip().splitlines()) == 1
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert main(["report", str(f)]) == 2
    err = capsys.readouterr().err
    assert "file.txt" in err and "not a folder" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(empty)]) == 2
    err = capsys.readouterr().err
    assert "summary.json" in err and "not a run folder" in err
    _no_report(empty)


def test_rebuild_replaces_the_previous_report(baseline: Path, tmp_path: Path, capsys) -> None:
    """A second build replaces report.html and report/ whole; a failed one leaves the previous report untouched."""
    d = _copy_run(baseline, tmp_path / "run")
    assert main(["report", str(d)]) == 0
    before = (d / "report.html").read_bytes()
    (d / "report" / "stale.png").write_bytes(b"old")
    assert main(["report", str(d)]) == 0
    assert not (d / "report" / "stale.png").exists()
    (d / "summary.json").write_text("{")
    assert main(["report", str(d)]) == 2
    capsys.readouterr()
    assert (d / "report.html").read_bytes()[:200] == before[:200] and (d / "report" / "headline.csv").is_file()


def test_report_imports_neither_pymc_nor_arviz(baseline: Path, tmp_path: Path) -> None:
    """In a fresh interpreter, `rackrisk report` (which reads the posterior files' attributes) leaves pymc, pytensor, arviz unimported;
    importing the CLI pulls in neither matplotlib nor xarray (the report's modules load lazily)."""
    import subprocess
    import sys

    d = _copy_run(baseline, tmp_path / "run")
    code = (
        "import sys\n"
        "from engine.cli import main, _parser\n"
        "lazy = sorted(m for m in ('matplotlib', 'xarray', 'engine.report.build') if m in sys.modules)\n"
        f"rc = main(['report', {str(d)!r}])\n"
        "heavy = sorted(m for m in ('pymc', 'pytensor', 'arviz', 'numpyro') if m in sys.modules)\n"
        "print('LAZY', lazy, 'HEAVY', heavy)\n"
        "sys.exit(rc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "LAZY [] HEAVY []" in out.stdout, out.stdout


def test_strings_from_the_run_are_escaped(baseline: Path, tmp_path: Path) -> None:
    """A scenario title with markup is shown as text: the page gets no script and no new element from it."""
    d = _copy_run(baseline, tmp_path / "run")
    toml = d / "scenario.resolved.toml"
    text = toml.read_text()
    title = next(line for line in text.splitlines() if line.startswith("title = "))
    toml.write_text(text.replace(title, 'title = "<script>alert(1)</script><img src=x onerror=alert(2)>"'))
    assert main(["report", str(d)]) == 0
    html = (d / "report.html").read_text()
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_one_standard_no_priors_store_summary(tmp_path: Path, capsys) -> None:
    """The small one-cohort test scenario (tests/_util.py: ASC 360 only, no launch, no posterior file) with
    store = "summary": the report still builds, says the loss histogram needs per-path results, shows no
    IAS 36 figure and no priors table, and every figure it shows is summary.json's."""
    from tests._util import write_scenario

    path = write_scenario(tmp_path, dtype="float32", decline="{ dist = \"normal\", mean = 0.02, sd = 0.01 }")
    d = tmp_path / "run"
    assert main(["run", str(path), "--paths", "500", "--store", "summary", "--out", str(d), "--quiet", "--report"]) == 0
    capsys.readouterr()
    html = (d / "report.html").read_text()
    assert "store = &quot;summary&quot;" in html and "loss_distribution.png" not in {p.name for p in (d / "report").glob("*.png")}
    assert "No fitted priors" in html and "not financed" in html and "not run" in html
    summary = json.loads((d / "summary.json").read_text())
    p = _Cells()
    p.feed(html)
    assert len(p.cells) > 15
    for c in p.cells:
        _check_cell(summary, c, "report.html")
    assert not [c for c in p.cells if any("ias36" in k for k in c["key"])]  # only the standard asked for
