"""Optional parts of the install: which commands need which extra, and the one-line message when it is missing.

``pip install rackrisk`` installs what `rackrisk run` (and validate, report, stress, reconcile, ...) needs.
Two extras are optional (pyproject.toml, ``[project.optional-dependencies]``):

* ``fit``: pymc, arviz, numpyro — `rackrisk fit`, `rackrisk backtest`, `rackrisk impairment-backtest --fit-missing`;
* ``cluster``: dask[distributed], zarr — `rackrisk sweep`.

``missing_extra(extra)`` looks the modules up without importing them (``importlib.util.find_spec``), so
the check costs nothing and the command itself imports them later as before.
"""

from __future__ import annotations

import importlib.util

EXTRAS: dict[str, tuple[str, ...]] = {
    "fit": ("pymc", "arviz", "numpyro"),
    "cluster": ("dask", "distributed", "zarr"),
}


def _absent(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):  # ValueError: sys.modules[module] is None (an import blocked on purpose)
        return True


def missing_extra(extra: str, command: str) -> str | None:
    """None when every module of ``extra`` is importable; else the one-line message naming the extra
    to install, e.g. "rackrisk fit needs the optional 'fit' dependencies (pymc not installed): pip install 'rackrisk[fit]'"."""
    missing = [m for m in EXTRAS[extra] if _absent(m)]
    if not missing:
        return None
    return (f"{command} needs the optional '{extra}' dependencies ({', '.join(missing)} not installed): "
            f"pip install 'rackrisk[{extra}]' (from a clone: pip install -c constraints.txt -e '.[{extra}]')")
