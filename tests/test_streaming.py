"""Streamed runs (engine/reduce.py): the same summary as a gathered run, for any chunk size.

Streaming is switched on for small runs by lowering ``engine.reduce.EXACT_MAX_PATHS`` so the
comparison with the exact gathered summary stays cheap. Bounds, from engine/reduce.py:
probabilities and month quantiles exact; means equal to 1e-4 of an SE (pairwise float32 block sums:
at most 5e-7 sd per block); value quantiles within one histogram bin (``quantile_error_bound``).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import engine.reduce as R
from engine.app import run_scenario

BASELINE = "scenarios/baseline.toml"
REF = "scenarios/bench/reference.toml"


def _run(path, monkeypatch, *, stream, **kw):
    monkeypatch.setattr(R, "EXACT_MAX_PATHS", 0 if stream else 10**9)
    return run_scenario(path, store="summary", write=False, **kw)


def _leaves(d, prefix=()):
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _leaves(v, prefix + (k,))
    else:
        yield prefix, d


# the baseline under the pessimistic corner of policy (quarterly tests of each cohort alone, income-approach
# fair value, book-salvage proceeds, contracts to spot): most paths impaired, many materially, so every
# impairment statistic (months, probabilities, losses, fiscal-year flags) is exercised, not only zeros
PESSIMISTIC = """
extends = "{base}"
[accounting]
test_every_months = 3
asset_group = "cohort"
fair_value_method = "dcf"
disposal_proceeds = "book_salvage"
[market.H100]
contract_expiry = "market"
[market.H200]
contract_expiry = "market"
[market.B200]
contract_expiry = "market"
"""


@pytest.fixture(scope="module")
def baseline_pair(tmp_path_factory):
    from pathlib import Path

    scen = tmp_path_factory.mktemp("streaming") / "pessimistic.toml"
    scen.write_text(PESSIMISTIC.format(base=Path(BASELINE).resolve()))
    mp = pytest.MonkeyPatch()
    try:
        gathered = _run(scen, mp, stream=False, paths=2000, seed=3)
        streamed = _run(scen, mp, stream=True, paths=2000, seed=3)
    finally:
        mp.undo()
    return gathered, streamed


def test_streamed_summary_has_the_same_keys_and_agrees(baseline_pair):
    gathered, streamed = baseline_pair
    g = {k: v for k, v in gathered.summary.items() if k != "run"}
    s = {k: v for k, v in streamed.summary.items() if k != "run"}
    assert [p for p, _ in _leaves(g)] == [p for p, _ in _leaves(s)]
    bounds = streamed.summary["run"]["reduction"]["quantile_error_bound"]
    assert streamed.summary["run"]["paths"] == 2000
    widest = max(max(v) if isinstance(v, list) else v for v in bounds.values())
    sl = dict(_leaves(s))
    n_quantiles = 0
    for path, gv in _leaves(g):
        sv = sl[path]
        if not isinstance(gv, float):
            assert gv == sv, path  # month labels, counts and texts: exact
            continue
        if math.isnan(gv) or math.isnan(sv):
            assert math.isnan(gv) and math.isnan(sv), path  # e.g. a loss given impairment where none occurred
            continue
        stat = path[-2]
        if stat[0] == "p" and stat[1:].isdigit():
            # a value quantile (or its SE): within one bin (the SE, a difference of two quantiles, within two)
            n_quantiles += 1
            assert abs(sv - gv) <= 2 * widest + 1e-9 * abs(gv), path
        elif any(part.startswith("p_") for part in path):
            assert sv == pytest.approx(gv, rel=1e-12, abs=1e-15), path  # probabilities: exact counts
        else:
            assert sv == pytest.approx(gv, rel=1e-5, abs=1e-6), path  # means and SEs
    assert n_quantiles > 50


def test_streamed_months_and_probabilities_are_exact(baseline_pair):
    gathered, streamed = baseline_pair
    for std in ("asc360", "ias36"):
        assert 0.05 < gathered.summary["fleet"][f"p_material_impairment_{std}"]["horizon"]["value"] < 0.95  # the keys are exercised
        assert gathered.summary["fleet"][f"p_material_impairment_{std}"] == streamed.summary["fleet"][f"p_material_impairment_{std}"]
        assert gathered.summary["fleet"][f"first_impairment_month_{std}"] == streamed.summary["fleet"][f"first_impairment_month_{std}"]
        assert gathered.summary["fleet"][f"p_impairment_{std}"] == streamed.summary["fleet"][f"p_impairment_{std}"]


@pytest.fixture(scope="module")
def ref_256():
    """The reference scenario streamed, 1,500 paths (seed 5) in chunks of 256 with the default settings: the
    run the chunk-size, histogram-flush and layout tests below compare with (read only)."""
    with pytest.MonkeyPatch.context() as mp:
        return _run(REF, mp, stream=True, paths=1500, seed=5, chunk_paths=256)


def test_streamed_summary_does_not_depend_on_the_chunk_size(monkeypatch, ref_256):
    runs = [ref_256] + [_run(REF, monkeypatch, stream=True, paths=1500, seed=5, chunk_paths=c) for c in (700, 4096)]
    dumps = [json.dumps({k: v for k, v in r.summary.items()}, sort_keys=True, default=float) for r in runs]
    assert dumps[0] == dumps[1] == dumps[2]


def test_histogram_emptied_to_the_host_midway_gives_the_same_summary(monkeypatch, ref_256):
    """The device histogram is int32: the runner empties it to the host every HIST_FLUSH_PATHS paths a
    device (2^31 - 1 by default, i.e. never in tests). Forcing a flush every two chunks of 256 paths
    changes nothing: integer counts add the same in any grouping."""
    import engine.stream_runner as S

    base = ref_256
    monkeypatch.setattr(S, "HIST_FLUSH_PATHS", 600)  # 256 paths a chunk on one device: flushed after chunks 2, 4, 6
    flushed = _run(REF, monkeypatch, stream=True, paths=1500, seed=5, chunk_paths=256)
    dump = lambda r: json.dumps(r.summary, sort_keys=True, default=float)  # noqa: E731
    assert dump(base) == dump(flushed)
    for k, col in base.run.reduced.items():
        assert np.array_equal(col.hist, flushed.run.reduced[k].hist), k
        assert np.array_equal(col.hist.sum(axis=1), col.n)  # every finite value counted once, none lost in a flush
    assert base.run.reduced["npv_usd"].n[0] == 1500


def test_gpu_layout_on_the_cpu_gives_the_same_streamed_summary(monkeypatch, ref_256):
    """The GPU layout forced on the CPU through its overrides (engine/backend_tuning.py: impairment test by
    ``where``, 4 months per iteration, 8 histogram copies): the reference's streamed summary equals the CPU
    layout's to float32 rounding, and only the recorded layout differs.

    Not bit for bit: the model's numbers are arguments of the compiled step (engine/compiled.py), so the
    two layouts' fusions contract different ``a * b + c`` into fused multiply-adds (docs/decisions/0005);
    each amount may move by a few float32 ulps. Tolerance 1e-5 relative: a few roundings of 6e-8 on
    each of 72 monthly additions (the specialised step's comparison of the layouts, tests/test_kernel_specialisation.py).
    Histogram counts: the same total per column, and at most 0.5 % of the counts in another bin (a value
    one rounding across a bin edge; the same bound as the layouts' near-ties in tests/test_kernel_specialisation.py)."""
    base = ref_256
    for var, val in (("RACKRISK_FAST_SELECT", "1"), ("RACKRISK_FAST_UNROLL", "4"), ("RACKRISK_HIST_REPLICAS", "8")):
        monkeypatch.setenv(var, val)
    gpu = _run(REF, monkeypatch, stream=True, paths=1500, seed=5, chunk_paths=256)
    assert gpu.summary["provenance"]["chunk_layout"] == {"select": True, "unroll": 4, "hist_replicas": 8}
    assert base.summary["provenance"]["chunk_layout"] == {"select": False, "unroll": 1, "hist_replicas": 1}

    def leaves(x, path=""):
        if isinstance(x, dict):
            for k, v in x.items():
                if k != "provenance":
                    yield from leaves(v, f"{path}/{k}")
        elif isinstance(x, list):
            for i, v in enumerate(x):
                yield from leaves(v, f"{path}[{i}]")
        else:
            yield path, x

    a, b = dict(leaves(base.summary)), dict(leaves(gpu.summary))
    assert a.keys() == b.keys()
    for k, va in a.items():
        vb = b[k]
        if isinstance(va, float) and isinstance(vb, float):
            assert (np.isnan(va) and np.isnan(vb)) or abs(va - vb) <= 1e-5 * max(abs(va), abs(vb)) + 1e-9, (k, va, vb)
        else:
            assert va == vb, (k, va, vb)
    for k, col in base.run.reduced.items():
        other = gpu.run.reduced[k]
        assert np.array_equal(col.hist.sum(axis=1), other.hist.sum(axis=1)), k
        assert np.abs(col.hist - other.hist).sum() <= 2 * 0.005 * col.hist.sum(), k


def test_packed_reduction_column_by_column():
    """reduce_chunk_packed (the streamed runner's layout, histogram accumulated in place) on one chunk: each
    key's columns in sorted key order, counts, sums and extrema equal NumPy's over the finite values of the
    valid paths (float32 inputs summed in float32 blocks of 256: rel 1e-6 is ~17 float32 ulps of a pairwise
    sum of 256 terms, whose bound is log2(256) x 6e-8 = 4.8e-7), and every finite value counted once in
    the histogram; padding and the NaN are counted nowhere."""
    import jax.numpy as jnp

    rng = np.random.default_rng(1)
    B = 512
    res = {"b_usd": rng.normal(5.0, 2.0, size=(B, 2, 3)).astype(np.float32), "a_month": rng.integers(0, 60, size=(B,)).astype(np.float32)}
    res["b_usd"][7, 1, 2] = np.nan  # a non-finite value is counted nowhere
    plans = R.plan_from_pilot(res)
    arrays = R.plan_arrays(plans)
    valid = jnp.arange(B) < 500  # the last 12 paths are padding
    E = R.packed_width(arrays)
    assert E == 6 + 1
    hist0 = jnp.zeros((1, E, R.BINS + 3), jnp.int32)
    blocks, counts, extrema, hist = R.reduce_chunk_packed({k: jnp.asarray(v) for k, v in res.items()}, valid, arrays, jnp.float32, hist0)
    assert blocks.shape == (2, 2 * E) and counts.shape == (2, E) and extrema.shape == (1, 2 * E)
    acc = R.Accumulator(plans)
    acc.add_packed(np.asarray(blocks), np.asarray(counts), np.asarray(extrema))
    acc.add_hist(np.asarray(hist))
    for k in res:
        col = acc.cols[k]
        x = res[k][:500].reshape(500, -1).astype(np.float64)
        for j in range(x.shape[1]):
            v = x[:, j][np.isfinite(x[:, j])]
            assert col.n[j] == v.size and col.hist[j].sum() == v.size
            assert (col.min[j], col.max[j]) == (v.min(), v.max())
            assert col.raw_sums(j)[1] == pytest.approx(v.sum(), rel=1e-6)
    assert acc.cols["b_usd"].n[R.flat_index((2, 3), 1, 2)] == 499  # 500 valid paths, one NaN
    assert acc.cols["a_month"].hist.sum() == 500
    # R = 3 copies of the histogram (the GPU layout, engine.backend_tuning): path i adds to copy i mod 3;
    # the copies' sum is the single histogram, and each copy holds its own paths' values only
    hist3 = jnp.zeros((1, 3, E, R.BINS + 3), jnp.int32)
    *_, hist3 = R.reduce_chunk_packed({k: jnp.asarray(v) for k, v in res.items()}, valid, arrays, jnp.float32, hist3)
    hist3 = np.asarray(hist3)
    assert np.array_equal(hist3.sum(axis=1), np.asarray(hist))
    assert hist3[0, 1, 0, : R.BINS + 2].sum() == len(range(1, 500, 3))  # a_month (column 0, sorted keys): valid paths 1, 4, ..., 499
    acc3 = R.Accumulator(plans)
    acc3.add_hist(hist3)
    for k in res:
        assert np.array_equal(acc3.cols[k].hist, acc.cols[k].hist), k


def test_reducer_is_generic_and_exact_on_integers():
    """Any key with any trailing shape flows through; integer columns give exact counts and quantiles."""
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    n = 1000
    months = rng.integers(0, 73, size=(n, 2, 3)).astype(np.float32)
    money = rng.normal(1e6, 2e5, size=(n,)).astype(np.float32)
    res = {"some_new_month_output": months, "some_new_amount_usd": money}
    plans = R.plan_from_pilot({k: v[:512] for k, v in res.items()})
    acc = R.Accumulator(plans)
    arrays = R.plan_arrays(plans)
    hist = jnp.zeros((1, R.packed_width(arrays), R.BINS + 3), jnp.int32)  # carried from chunk to chunk, as on the device
    B = 768  # 3 blocks; the second chunk is padded
    for start in range(0, n, B):
        chunk = {k: np.zeros((B,) + v.shape[1:], np.float32) for k, v in res.items()}
        for k in res:
            part = res[k][start : start + B]
            chunk[k][: part.shape[0]] = part
        valid = jnp.arange(start, start + B) < n
        blocks, counts, extrema, hist = R.reduce_chunk_packed({k: jnp.asarray(v) for k, v in chunk.items()}, valid, arrays, jnp.float32, hist)
        acc.add_packed(np.asarray(blocks), np.asarray(counts), np.asarray(extrema))
    acc.add_hist(np.asarray(hist))
    col = acc.cols["some_new_month_output"]
    j = R.flat_index((2, 3), 1, 2)
    x = months[:, 1, 2].astype(np.float64)
    assert col.n[j] == n
    assert np.array_equal(col.int_counts(j)[:73], np.bincount(x.astype(int), minlength=73))
    for q in (0.05, 0.5, 0.95):
        assert col.quantile(j, q)["value"] == np.quantile(x, q)  # exact for integer columns
    m = acc.cols["some_new_amount_usd"]
    ref = money.astype(np.float64)
    assert m.mean(0)["value"] == pytest.approx(ref.mean(), rel=1e-9, abs=0.0)
    assert m.mean(0)["se"] == pytest.approx(ref.std(ddof=1) / math.sqrt(n), rel=1e-6)
    for q in (0.05, 0.5, 0.95):
        assert abs(m.quantile(0, q)["value"] - np.quantile(ref, q)) <= m.quantile_error_bound(0)


def test_streamed_run_writes_results_with_exact_monthly_probabilities(tmp_path, monkeypatch):
    """results.nc of a streamed run: P(impaired by month) from exact counts equals the gathered run's."""
    import xarray as xr

    monkeypatch.setattr(R, "EXACT_MAX_PATHS", 0)
    run_scenario(REF, paths=1200, seed=9, store="summary", out=tmp_path / "s", write=True)
    monkeypatch.setattr(R, "EXACT_MAX_PATHS", 10**9)
    run_scenario(REF, paths=1200, seed=9, store="summary", out=tmp_path / "g", write=True)
    s = xr.load_dataset(tmp_path / "s" / "results.nc", engine="h5netcdf")
    g = xr.load_dataset(tmp_path / "g" / "results.nc", engine="h5netcdf")
    for name in ("p_impaired_by_month", "p_impaired_by_month_se", "fleet_p_impaired_by_month", "npv_usd_fan" if "npv_usd_fan" in g else "cash_flow_usd_fan"):
        assert np.array_equal(s[name].values, g[name].values), name
    streamed = json.loads((tmp_path / "s" / "summary.json").read_text())
    assert streamed["run"]["reduction"]["quantile_error_bound"]["first_impairment_month"] == [0.0, 0.0]
