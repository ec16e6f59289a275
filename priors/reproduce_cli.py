"""``rackrisk fit --check``: refit models into a temporary folder and compare with the shipped files.

Exit status 0 when every model reproduces (priors/reproduce.py: same data hash, refit gate passed,
every compared mean within 4.5 combined MCSE), 1 otherwise; nothing is written to the fitted folder.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
from pathlib import Path


def check_models(names: list[str], fitted_dir: Path, console) -> int:
    import xarray as xr

    from priors.fit import GateError, fit
    from priors.models import MODELS
    from priors.reproduce import K_MCSE, check_vars, compare

    status = 0
    for name in names:
        shipped = Path(fitted_dir) / f"{name}.nc"
        if not shipped.exists():
            print(f"rackrisk: {shipped}: no shipped file to check against", file=sys.stderr)
            status = 1
            continue
        with xr.open_dataset(shipped, engine="h5netcdf") as root:
            seed, as_of = int(root.attrs["seed"]), str(root.attrs["as_of"])
        mod = importlib.import_module(MODELS[name])
        with tempfile.TemporaryDirectory(prefix=f"rackrisk-check-{name}-") as tmp:
            try:
                res = fit(name, as_of=None if as_of == "all data" else as_of, seed=seed, allow_unconverged=True, out_dir=Path(tmp))
            except GateError as exc:  # pragma: no cover - allow_unconverged saves anyway
                print(f"rackrisk: {exc}", file=sys.stderr)
                status = 1
                continue
            cmp = compare(name, shipped, res.path, check_vars(mod))
        worst = max(cmp.rows, key=lambda r: abs(r["shipped_mean"] - r["refit_mean"]) / max(r["tolerance"], 1e-300))
        ratio = abs(worst["shipped_mean"] - worst["refit_mean"]) / max(worst["tolerance"], 1e-300) * K_MCSE
        verdict = "reproduced" if cmp.passed else "NOT reproduced"
        console.print(f"{name}: {verdict} (seed {seed}, {len(cmp.rows)} parameters, {res.seconds:.1f} s; "
                      f"largest |diff| = {ratio:.2f} combined MCSE at {worst['parameter']}; data hash "
                      f"{'same' if cmp.same_data else 'DIFFERENT'}; refit gate {'passed' if cmp.refit_gate_passed else 'FAILED'})")
        for line in cmp.failures:
            console.print(f"[red]check: {line}[/red]")
        status = status or (0 if cmp.passed else 1)
    return status
