"""results.nc written chunk by chunk during the run: per-path results in bounded memory.

A ``rackrisk run`` with ``store = "paths"`` or ``"full"`` (and no ``[financing]``) gives the runner a
``PathsFile`` as its ``sink``: each chunk's per-path arrays are written to results.nc as they arrive,
instead of being kept until the end. Memory is O(rows of one HDF5 chunk + one run chunk), whatever the
number of paths; disk holds the per-path arrays once (plus a scratch file of the fleet's per-path
values, removed at the end).

The file is the one ``Dataset.to_netcdf(engine="h5netcdf")`` writes from ``engine.results.build_dataset``
(same variables in the same order, dims, coordinates, dtypes, attributes and values): the layout is
made by xarray's own netCDF encoder from ``build_dataset``'s Dataset with placeholders of the final
shapes (``layout_only``), before the first rows are written; the per-path variables are filled with
``path_variables`` applied to blocks of rows (one rule for both routes); at the end the same encoder
writes the other variables (P(impaired by month), fans) and the run's attributes. The only difference
is the storage layout: per-path variables are chunked along ``path`` (``chunk_rows`` rows of up to
``CHUNK_BYTES``), so reading them back lazily (``xr.open_dataset(..., chunks={})``) goes a chunk at a time.

summary.json's statistics are the exact ones (``engine.stats``, ``ExactReduction`` over the same
per-path columns as a gathered run), evaluated from the file a batch of columns at a time
(``COLUMN_BUDGET_BYTES``); the fleet's per-path values (``engine.stats.exact.with_fleet_paths``) are
derived block by block (a per-path rule: the same numbers as over the whole run) into the scratch file.

Nothing is half-written: everything goes to a temporary sibling of the output folder, renamed into
place by ``commit`` (engine/outdir.py); on error (``__exit__`` with an exception) it is removed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from engine.outdir import check_out_dir, swap_in, temp_sibling
from engine.results import build_dataset, netcdf_store, path_variables, placeholder, reported_standards, write_texts

CHUNK_BYTES = 4 * 2**20  # bytes of the largest per-path variable in one HDF5 chunk
MAX_CHUNK_ROWS = 65_536  # paths in one HDF5 chunk at most
COLUMN_BUDGET_BYTES = 128 * 2**20  # per-path columns held at once while summary.json's statistics are evaluated
READ_SLAB_BYTES = 32 * 2**20  # bytes read from a variable at a time when columns are extracted
SCRATCH = ".fleet_paths.h5"  # the fleet's per-path values (removed before the folder is renamed into place)


def streams_to_file(model, store: str) -> bool:
    """Whether a written run of ``model`` in ``store`` mode writes its per-path results during the run.

    ``[financing]`` scenarios are gathered in memory (the credit block reads every path's debt results)."""
    return store in ("paths", "full") and not model.facilities


def chunk_rows(row_bytes: int, n_paths: int) -> int:
    """Paths in one HDF5 chunk: a power of two with ``row_bytes`` x rows <= CHUNK_BYTES (at least 1, at most MAX_CHUNK_ROWS or n_paths)."""
    rows = 1
    while rows * 2 * max(row_bytes, 1) <= CHUNK_BYTES and rows * 2 <= MAX_CHUNK_ROWS:
        rows *= 2
    return max(1, min(rows, n_paths))


class _SkipWriter:
    """xarray's ArrayWriter, except that the variables named in ``skip`` are created but not written."""

    def __init__(self, skip: set[str]):
        self.skip = skip

    def add(self, source, target, region=None):
        if target.variable_name in self.skip:
            return
        target[...] = source


class _Columns:
    """``cols[(slice(None),) + index]`` -> a loaded (P,) column: the arrays of ``ExactReduction`` for one batch."""

    def __init__(self, cols: dict):
        self.cols = cols

    def __getitem__(self, key):
        return self.cols[tuple(key[1:])]


class _Evaluated:
    """A reduction whose leaves were evaluated already: ``getattr(r, op)(source, arg)`` -> the recorded value."""

    def __init__(self, values: dict):
        self.values = values

    def __getattr__(self, op):
        from engine.stats.declarations import Leaf

        return lambda source, arg=None: self.values[Leaf(op, source, arg)]


def _leaves(plan):
    from engine.stats.declarations import Leaf

    if isinstance(plan, Leaf):
        yield plan
    else:
        for v in plan.values():
            yield from _leaves(v)


def _given(leaf):
    """The Source a ``*_given`` leaf selects paths by, or None."""
    if leaf.op == "mean_given":
        return leaf.arg
    if leaf.op == "quantile_given":
        return leaf.arg[0]
    return None


class PathsFile:
    """results.nc of ``out`` written block by block (the runner's ``sink``), then committed with the run's folder.

    Use as a context manager: on an exception the temporary folder (and the partial file) is removed.
    ``put(start, rows, ...)`` takes rows [start, start + rows) of one category: ``scalars`` (name ->
    (≥rows, ...)), ``inputs`` ((≥rows, N) every input), ``posterior_index`` ((≥rows, F)), ``monthly``
    (name -> (≥rows, T, ...); ``store = "full"``). Each category's blocks come in path order.
    """

    layout_only = False

    def __init__(self, out: Path, model, *, store: str, n_paths: int, fan_paths: int, force: bool):
        if not streams_to_file(model, store):
            raise ValueError(f"store {store!r} with this scenario is written at the end, not during the run")
        self.out = Path(out)
        check_out_dir(self.out, force)
        self.model, self.store, self.n_paths = model, store, int(n_paths)
        self.n_fan = min(int(fan_paths), self.n_paths)
        self.tmp = temp_sibling(self.out)
        self.path = self.tmp / "results.nc"
        self.categories = ("scalars", "inputs", "posterior_index") + (("monthly",) if store == "full" else ())
        self.pending: dict[str, list] = {c: [] for c in self.categories}  # (start, rows, values) in path order
        self.staged = dict.fromkeys(self.categories, 0)  # rows received of each category
        self.written = 0  # rows written to the file
        self.scalar_names: tuple[str, ...] = ()
        self.var_specs: dict = {}  # per-path variable -> (dims, trailing shape, dtype, attrs)
        self.fleet_specs: dict = {}
        self.rows = 0  # rows of an HDF5 chunk (set when the file is made)
        self.nc = None  # xarray's H5NetCDFStore of results.nc, open between the first write and commit
        self.scratch = None  # h5py.File of the fleet's per-path values

    # -- context manager -------------------------------------------------------------------------
    def __enter__(self) -> "PathsFile":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _close(self) -> None:
        if self.nc is not None:
            self.nc.close()
            self.nc = None
        if self.scratch is not None:
            self.scratch.close()
            self.scratch = None

    # -- writing -------------------------------------------------------------------------------
    def put(self, start: int, rows: int, **blocks) -> None:
        """Rows [start, start + rows) of the categories given (the rest of each block is padding)."""
        for cat, values in blocks.items():
            if rows <= 0:  # a block of padding paths only (the last chunk's last devices)
                continue
            if start != self.staged[cat]:
                raise RuntimeError(f"results file: {cat} rows from {start}, expected {self.staged[cat]} (blocks must come in path order)")
            if isinstance(values, dict):
                block = {k: np.ascontiguousarray(np.asarray(v)[:rows]) for k, v in values.items()}
                if cat == "scalars" and not self.scalar_names:
                    self.scalar_names = tuple(block)
            else:
                block = np.ascontiguousarray(np.asarray(values)[:rows])
            self.pending[cat].append((start, rows, block))
            self.staged[cat] = start + rows
        self._flush(final=False)

    def finish(self) -> None:
        """Write the rows still held (after the last chunk); every category must have all ``n_paths`` rows."""
        missing = {c: n for c, n in self.staged.items() if n != self.n_paths}
        if missing:
            raise RuntimeError(f"results file: rows received {missing}, expected {self.n_paths} of each")
        self._flush(final=True)

    def _take(self, cat: str, upto: int):
        """Rows [written, upto) of category ``cat`` from its pending blocks (dropping what is consumed)."""
        parts, keep = [], []
        for start, rows, block in self.pending[cat]:
            a, b = max(start, self.written), min(start + rows, upto)
            if a < b:
                sl = slice(a - start, b - start)
                parts.append({k: v[sl] for k, v in block.items()} if isinstance(block, dict) else block[sl])
            if start + rows > upto:
                keep.append((start, rows, block))
        self.pending[cat] = keep
        if isinstance(parts[0], dict):
            return {k: (parts[0][k] if len(parts) == 1 else np.concatenate([p[k] for p in parts])) for k in parts[0]}
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _flush(self, final: bool) -> None:
        avail = min(self.staged.values())
        if avail <= self.written:
            return
        if self.nc is None:
            self._create()
        upto = avail if final else self.written + (avail - self.written) // self.rows * self.rows
        if upto <= self.written:
            return
        data = {cat: self._take(cat, upto) for cat in self.categories}
        self._write_rows(data, self.written, upto)
        self.written = upto

    def _block_variables(self, data: dict) -> dict:
        return path_variables(self.model, self.store, scalar_names=self.scalar_names, scalars=data["scalars"], inputs=data["inputs"],
                              posterior_index=data["posterior_index"], monthly=data.get("monthly"))

    def _write_rows(self, data: dict, a: int, b: int) -> None:
        from engine.stats.exact import with_fleet_paths

        ds = self.nc.ds
        for name, (_, values, _) in self._block_variables(data).items():
            ds.variables[name][a:b] = values
        ds.variables["path"][a:b] = np.arange(a, b, dtype=np.int64)
        scalars = data["scalars"]
        fleet = {k: v for k, v in with_fleet_paths(self.model, scalars).items() if k not in scalars}
        for k, v in fleet.items():
            self.scratch[k][a:b] = v

    def _create(self) -> None:
        """Make results.nc's layout (and the scratch file) from the first block of each category."""
        import h5py

        from engine.stats.exact import with_fleet_paths

        first = {cat: self.pending[cat][0][2] for cat in self.categories}
        one = {cat: ({k: v[:1] for k, v in blk.items()} if isinstance(blk, dict) else blk[:1]) for cat, blk in first.items()}
        P = self.n_paths
        variables = self._block_variables(one)
        self.var_specs = {k: (dims, np.asarray(v).shape[1:], np.asarray(v).dtype, attrs) for k, (dims, v, attrs) in variables.items()}
        fleet = {k: np.asarray(v) for k, v in with_fleet_paths(self.model, one["scalars"]).items() if k not in one["scalars"]}
        self.fleet_specs = {k: (v.shape[1:], v.dtype) for k, v in fleet.items()}
        row_bytes = max([int(np.prod(s, dtype=np.int64)) * d.itemsize for _, s, d, _ in self.var_specs.values()]
                        + [int(np.prod(s, dtype=np.int64)) * d.itemsize for s, d in self.fleet_specs.values()])
        self.rows = chunk_rows(row_bytes, P)
        self.nc = netcdf_store(self.path)  # kept open until commit
        self._dump(build_dataset(self.model, self._stub_run(), store=self.store, prov={}, resolved_toml="", paths=_Layout(self)), attrs=False)
        self.scratch = h5py.File(self.tmp / SCRATCH, "w")
        for k, (shape, dtype) in self.fleet_specs.items():
            self.scratch.create_dataset(k, shape=(P,) + shape, dtype=dtype, chunks=(self.rows,) + shape)

    def _stub_run(self):
        from engine.chunk_fns import InputColumns, RunOutput

        return RunOutput(scalars={}, input_columns=InputColumns(np.zeros((0, 0)), np.zeros(0, np.int64), np.zeros(0)),
                         posterior_index=np.zeros((0, 0), np.int64), monthly={}, n_paths=self.n_paths, n_fan=self.n_fan, seconds=0.0, compile_seconds=0.0)

    def _dump(self, dataset, *, attrs: bool) -> None:
        """Write ``dataset`` with xarray's netCDF encoder (``Dataset.to_netcdf``'s ``dump_to_store``) into the
        open results.nc: variables are created (or found) with their attributes and written, except the
        per-path ones and ``path`` (``put`` writes them); the Dataset's attributes only with ``attrs``."""
        from xarray.backends.writers import dump_to_store

        if not attrs:
            dataset = dataset.copy()
            dataset.attrs = {}
        skip = set(self.var_specs) | {"path"}
        encoding = {k: {"chunksizes": (self.rows,) + tuple(shape)} for k, (_, shape, _, _) in self.var_specs.items()}
        dump_to_store(dataset, self.nc, _SkipWriter(skip), encoding=encoding)

    # -- the layout's and the final Dataset's per-path variables (``build_dataset``'s ``paths``) -------
    def variables(self) -> dict:
        return {k: (dims, placeholder((self.n_paths,) + tuple(shape), dtype), attrs) for k, (dims, shape, dtype, attrs) in self.var_specs.items()}

    def path_coordinate(self) -> np.ndarray:
        return placeholder((self.n_paths,), np.int64)

    # -- reading back ------------------------------------------------------------------------------
    def _source(self, key: str):
        """(dataset, map of a Source index to the dataset's index) of per-path key ``key``."""
        if key in self.fleet_specs:
            return self.scratch[key], lambda idx: idx
        var = self.nc.ds.variables[key]
        dims = self.var_specs[key][0]
        if len(dims) > 1 and dims[1] == "standard":  # the file holds the reported standards only
            _, s_idx = reported_standards(self.model)
            return var, lambda idx: (s_idx.index(idx[0]),) + tuple(idx[1:])
        return var, lambda idx: idx

    def columns(self, key: str, indexes: list[tuple]) -> list[np.ndarray]:
        """(P,) columns ``key[:, *index]`` for each index (the path function's standard axis), read a slab of rows at a time."""
        dset, to_file = self._source(key)
        idx = [to_file(tuple(i)) for i in indexes]
        shape = tuple(dset.shape[1:])
        row_bytes = max(1, int(np.prod(shape, dtype=np.int64)) * np.dtype(dset.dtype).itemsize)
        step = max(1, READ_SLAB_BYTES // row_bytes)
        out = [np.empty(self.n_paths, dset.dtype) for _ in idx]
        for a in range(0, self.n_paths, step):
            slab = dset[a : a + step]
            for o, i in zip(out, idx):
                o[a : a + step] = slab[(slice(None),) + i]
        return out

    def impaired_by_month(self, T: int):
        """P(impaired by each month) and its SE, per cohort (T, S, C) and for the fleet (T, S), column by column."""
        from engine.summary import impaired_by_month

        _, s_idx = reported_standards(self.model)
        C = len(self.model.cohorts)
        p, se = np.empty((T, len(s_idx), C)), np.empty((T, len(s_idx), C))
        pf, sef = np.empty((T, len(s_idx))), np.empty((T, len(s_idx)))
        for j, s in enumerate(s_idx):
            idx = [(s, c) for c in range(C)]
            per = max(1, COLUMN_BUDGET_BYTES // (self.n_paths * 4))
            for b in range(0, C, per):
                for (_, c), col in zip(idx[b : b + per], self.columns("first_impairment_month", idx[b : b + per])):
                    p[:, j, c], se[:, j, c] = (x[:, 0] for x in impaired_by_month(col[:, None], T))
            (col,) = self.columns("fleet_first_impairment_month", [(s,)])
            pf[:, j], sef[:, j] = (x[:, 0] for x in impaired_by_month(col[:, None], T))
        return (p, se), (pf, sef)

    def summarize(self, *, standards: tuple[str, ...]) -> dict:
        """summary.json's ``fleet`` and ``cohorts``: ``engine.stats``' plan evaluated exactly (``ExactReduction``)
        over the file's columns, each key's columns in batches of at most COLUMN_BUDGET_BYTES."""
        from engine.stats.declarations import evaluate, summary_plan
        from engine.stats.exact import ExactReduction

        plan = summary_plan(self.model, standards)
        by_key: dict[str, list] = {}
        for leaf in dict.fromkeys(_leaves(plan)):
            by_key.setdefault(leaf.source.key, []).append(leaf)
        values: dict = {}
        given_cache: dict = {}
        for key, leaves in by_key.items():
            idxs = list(dict.fromkeys(leaf.source.index for leaf in leaves))
            dset, _ = self._source(key)
            per = max(1, COLUMN_BUDGET_BYTES // (self.n_paths * np.dtype(dset.dtype).itemsize))
            for b in range(0, len(idxs), per):
                batch = idxs[b : b + per]
                cols = dict(zip(batch, self.columns(key, batch)))
                for leaf in leaves:
                    if leaf.source.index not in cols:
                        continue
                    arrays = {key: _Columns(cols)}
                    g = _given(leaf)
                    if g is not None:
                        if (g.key, g.index) not in given_cache:
                            given_cache.clear()  # one given column at a time (they are used by consecutive leaves)
                            given_cache[(g.key, g.index)] = self.columns(g.key, [g.index])[0]
                        gcols = cols if g.key == key else {}
                        arrays[g.key] = _Columns({**gcols, g.index: given_cache[(g.key, g.index)]})
                    values[leaf] = getattr(ExactReduction(arrays), leaf.op)(leaf.source, leaf.arg)
                del cols
        return evaluate(plan, _Evaluated(values))

    # -- the end ---------------------------------------------------------------------------------
    def commit(self, run, *, summary: dict, prov: dict, resolved_toml: str, resolved_text: str) -> Path:
        """Write the other variables and the attributes, summary.json and scenario.resolved.toml
        (``resolved_text``), drop the scratch file, and rename the folder into place; return results.nc's final path."""
        ds = build_dataset(self.model, run, store=self.store, prov=prov, resolved_toml=resolved_toml, paths=self)
        self._dump(ds, attrs=True)
        self._close()
        (self.tmp / SCRATCH).unlink()
        write_texts(self.tmp, summary=summary, resolved_toml=resolved_text)
        swap_in(self.tmp, self.out)
        return self.out / "results.nc"


class _Layout:
    """``build_dataset``'s ``paths`` for the file's layout: every variable a placeholder."""

    layout_only = True

    def __init__(self, f: PathsFile):
        self.f = f

    def variables(self) -> dict:
        return self.f.variables()

    def path_coordinate(self) -> np.ndarray:
        return self.f.path_coordinate()
