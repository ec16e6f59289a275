"""Posterior files fitted as of a valuation date (no look-ahead), shipped under ``priors/fitted/asof/``.

``priors/fitted/asof/<YYYY-MM>/<model>.nc`` is what ``rackrisk fit <model> --as-of <YYYY-MM>
--out-dir priors/fitted/asof/<YYYY-MM>`` writes (seed 20261126, the fit's default): the model fitted
on observations dated up to the end of that month. A scenario input that reads
``priors/fitted/<model>.nc`` (fitted on all data) is pointed at the as-of file when one exists.

Which models have as-of files (docs/impairment_backtest.md): ``price_dynamics`` (rental prices and
launches, dated from 2022-08) at every documented date. ``failures``, ``utilization`` and
``elasticity`` have no observation dated on or before 2023-12 (failures from 2024-07, utilization
from 2025-06 or undated, elasticity from 2025-12), so they cannot be fitted as of the early dates;
the full-data files are used and each row of the output says so (a stated look-ahead of hardware
reliability and demand structure, not of the market path).

Reads netCDF attributes with h5netcdf only (no pymc, no arviz).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FITTED = REPO / "priors" / "fitted"
ASOF = FITTED / "asof"
REQUIRED = ("price_dynamics",)  # models that must have an as-of file (the market path)


@dataclass(frozen=True)
class PosteriorChoice:
    """Where one model's posterior comes from at a valuation date.

    Attributes:
        model: model name (the file stem, e.g. price_dynamics).
        path: the file used (absolute).
        fitted_as_of: the file's own ``as_of`` attribute ("2023-12", or "all data").
    """

    model: str
    path: Path
    fitted_as_of: str


def fit_command(model: str, as_of: str) -> str:
    """The command that writes the as-of file of ``model`` (imports pymc; minutes). A shipped file's
    own seed is used (the fit's default seed failed the convergence gate at 2023-12: the seed of
    each shipped file is in its ``seed`` attribute and in docs/impairment_backtest.md)."""
    path = ASOF / as_of / f"{model}.nc"
    seed = ""
    if path.exists():
        import h5netcdf

        with h5netcdf.File(path, "r") as f:
            seed = f" --seed {int(f.attrs['seed'])}" if "seed" in f.attrs else ""
    return f"rackrisk fit {model} --as-of {as_of}{seed} --out-dir priors/fitted/asof/{as_of}"


def file_as_of(path: Path) -> str:
    """The ``as_of`` root attribute recorded by ``rackrisk fit`` ("all data" when absent)."""
    import h5netcdf

    with h5netcdf.File(path, "r") as f:
        v = f.attrs.get("as_of", "all data")
    return v.decode() if isinstance(v, bytes) else str(v)


def choose(path: str | Path, as_of: str) -> PosteriorChoice:
    """The file to use at ``as_of`` for a scenario's posterior ``path``: the as-of file of the same
    model when it exists (its ``as_of`` attribute must equal ``as_of``), else ``path`` itself.

    Raises:
        ValueError: a required model (REQUIRED) has no as-of file, or an as-of file records another date.
    """
    path = Path(path).resolve()
    model = path.stem
    cand = ASOF / as_of / path.name
    if path.parent == FITTED.resolve() and cand.exists():
        got = file_as_of(cand)
        if got != as_of:
            raise ValueError(f"{cand} records as_of = {got!r}, not {as_of}; refit it: {fit_command(model, as_of)}")
        return PosteriorChoice(model=model, path=cand, fitted_as_of=got)
    if model in REQUIRED:
        raise ValueError(f"no posterior of {model} fitted as of {as_of} ({cand} not found); dates shipped: "
                         f"{', '.join(shipped_dates()) or 'none'}; fit it with `{fit_command(model, as_of)}` (imports pymc; an MCMC fit)")
    return PosteriorChoice(model=model, path=path, fitted_as_of=file_as_of(path))


def shipped_dates() -> list[str]:
    """Valuation dates with an as-of price_dynamics posterior in the repository."""
    if not ASOF.exists():
        return []
    return sorted(p.name for p in ASOF.iterdir() if (p / "price_dynamics.nc").exists())
