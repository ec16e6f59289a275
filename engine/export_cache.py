"""Chunk functions kept across processes as exported programs (``jax.export``), so that a new process
neither traces nor lowers a scenario shape it has run before.

``served(call, key, example_args, compiler_options=, side=)`` returns ``(run, side)``: ``run(*args)``
computes what ``call(*args)`` computes (``call`` a function of JAX arrays and ``ModelArgs``, e.g. a
``engine.sharding.shard_paths`` chunk function). The first process to serve a ``key`` traces ``call``
once (``jax.export``), writes the serialized program and the picklable ``side()`` value (made during
that trace, e.g. the packed layout of engine/packing.py) to
``<RACKRISK_JAX_CACHE>/export/<sha256>.bin``, and runs the exported program; a later process reads
the file and runs it without tracing. XLA's compilation of the program is served by JAX's persistent
compilation cache (engine/runner.py ``_configure_jax``). The exported program is the traced
function's own StableHLO, so the numbers are the same either way (tests/test_export_cache.py).

The file name is a digest of: ``key`` (the caller's compile key: the model's static part, chunk size,
devices, XLA options, backend layout), the argument shapes and dtypes, the JAX and jaxlib versions, the
JAX backend, and the bytes of every engine source file: a changed engine, JAX or shape never runs an old
program. ``RACKRISK_JAX_CACHE=off`` (or an empty value) turns it off with the compilation cache; any
failure to read, deserialize or write falls back to tracing (a file that cannot be used is ignored).
"""

from __future__ import annotations

import hashlib
import os
import pickle
from functools import lru_cache
from pathlib import Path

FORMAT = 1  # the file layout below: pickle of {"format", "exported" (bytes), "side"}


def jax_cache_dir() -> str | None:
    """``RACKRISK_JAX_CACHE`` (default ``~/.cache/rackrisk/jax``), or None when it is ``off`` or empty: the
    folder of JAX's persistent compilation cache (engine/runner.py) and of the exported programs."""
    cache = os.environ.get("RACKRISK_JAX_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "rackrisk", "jax"))
    return None if not cache or cache == "off" else cache


def cache_root() -> Path | None:
    """``<RACKRISK_JAX_CACHE>/export``, or None when the cache is off."""
    cache = jax_cache_dir()
    return None if cache is None else Path(cache) / "export"


@lru_cache(maxsize=1)
def engine_digest() -> str:
    """sha256 over the engine package's source files (relative path and bytes, in sorted order)."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


@lru_cache(maxsize=1)
def _register_model_args() -> None:
    """Let ``jax.export`` serialize ``ModelArgs`` argument trees (no auxiliary data)."""
    from jax import export

    from engine.compiled import ModelArgs

    export.register_pytree_node_serialization(ModelArgs, serialized_name="rackrisk.ModelArgs",
                                              serialize_auxdata=lambda aux: b"", deserialize_auxdata=lambda b: None)


def file_for(key: tuple, example_args: tuple) -> Path | None:
    """The cache file of ``key`` for arguments shaped like ``example_args`` (None when the cache is off)."""
    root = cache_root()
    if root is None:
        return None
    import jax
    import jaxlib

    avals = jax.tree.map(lambda x: (tuple(jax.numpy.shape(x)), str(jax.numpy.result_type(x))), example_args)
    text = repr((FORMAT, key, jax.tree.structure(example_args), avals, jax.__version__, jaxlib.__version__,
                 jax.default_backend(), engine_digest()))
    return root / (hashlib.sha256(text.encode()).hexdigest() + ".bin")


def _read(path: Path):
    """``(Exported, side)`` from ``path``, or None (missing, unreadable, or another format)."""
    from jax import export

    try:
        with open(path, "rb") as fh:
            blob = pickle.load(fh)
        if blob.get("format") != FORMAT:
            return None
        return export.deserialize(bytearray(blob["exported"])), blob["side"]
    except Exception:  # a cache file that cannot be used is ignored (it is rewritten below)
        return None


def _write(path: Path, exported, side) -> None:
    """Write atomically (a temporary file in the same folder, then a rename); errors are ignored."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump({"format": FORMAT, "exported": bytes(exported.serialize()), "side": side}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except Exception:  # the cache is an optimisation only
        try:
            tmp.unlink(missing_ok=True)
        except Exception:
            pass


def served(call, key: tuple, example_args: tuple, *, compiler_options=None, side=lambda: None):
    """``(run, side_value)``: ``run(*args)`` equals ``call(*args)`` for arguments shaped like ``example_args``.

    ``side()`` is read after ``call`` has been traced (on a cache miss) and stored with the program; on a
    hit it is the stored value and ``call`` is never traced. ``compiler_options``: XLA options of the
    compilation (``jax.jit``'s). Without a cache (off, or an unusable folder) ``run`` is ``call`` jitted."""
    import jax

    path = file_for(key, example_args)
    if path is not None:
        _register_model_args()
        got = _read(path) if path.exists() else None
        if got is None:
            try:
                exported = jax.export.export(jax.jit(call))(*example_args)
            except Exception:  # not exportable here: trace as usual
                exported = None
            if exported is not None:
                got = exported, side()
                _write(path, exported, got[1])
        if got is not None:
            exported, side_value = got
            return _jit_exported(exported, compiler_options), side_value
    return jax.jit(call, compiler_options=compiler_options), side()


def _jit_exported(exported, compiler_options):
    """``exported.call`` jitted; a program exported for D > 1 devices is called with its inputs replicated
    over the engine's mesh of the D local devices (engine/sharding.py), as JAX requires."""
    import jax

    if exported.nr_devices == 1:
        return jax.jit(exported.call, compiler_options=compiler_options)
    from engine.sharding import _mesh

    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    # every input of a chunk function is replicated (engine/sharding.py: in_specs P()); the outputs keep
    # the shardings the program was exported with
    return jax.jit(exported.call, in_shardings=NamedSharding(_mesh(), P()), compiler_options=compiler_options)
