"""Write a run folder's tables (engine/export/tables.py) as ``tables.xlsx`` (one sheet a table, openpyxl)
and/or one CSV a table, into an output folder written atomically (engine/outdir.py: all or nothing).

``export_run(run_dir, out=None, xlsx=True, csv=False, force=False, stress=None, sensitivity=None)``
reads the run folder with engine/report/load.py (the same checks as ``rackrisk report``: bad input
raises ``ScenarioError`` naming the file before anything is written) and returns the folder written,
by default ``<run_dir>/export``. Parquet is not offered: pyarrow is not a dependency.
"""

from __future__ import annotations

from pathlib import Path

EXCEL_MAX_ROWS = 1_048_576  # rows of one worksheet, header included
EXCEL_MAX_COLS = 16_384


def _write_xlsx(path: Path, tables: dict) -> None:
    import pandas as pd

    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, df in tables.items():
            df.to_excel(xw, sheet_name=name[:31], index=False)
            ws = xw.sheets[name[:31]]
            ws.freeze_panes = "A2"
            for col in ws.iter_cols(min_row=1, max_row=1):  # header width: the name, up to 60 characters
                ws.column_dimensions[col[0].column_letter].width = min(60, max(10, len(str(col[0].value)) + 2))


def export_run(run_dir, *, out=None, xlsx: bool = True, csv: bool = False, force: bool = False, stress=None, sensitivity=None) -> Path:
    from engine.errors import ScenarioError
    from engine.export.tables import run_tables
    from engine.outdir import atomic_dir, check_out_dir
    from engine.report.load import load_run

    if not (xlsx or csv):
        raise ScenarioError("(command line)", "--xlsx / --csv", "choose at least one format: --xlsx, --csv or both")
    run_dir = Path(run_dir)
    out = Path(out) if out is not None else run_dir / "export"
    check_out_dir(out, force)
    run = load_run(run_dir, stress=stress, sensitivity=sensitivity)
    tables = run_tables(run)
    if xlsx:
        for name, df in tables.items():
            if len(df) + 1 > EXCEL_MAX_ROWS or df.shape[1] > EXCEL_MAX_COLS:
                raise ScenarioError(str(run_dir / "results.nc"), name, f"{len(df):,} rows x {df.shape[1]:,} columns do not fit one worksheet "
                                    f"({EXCEL_MAX_ROWS - 1:,} rows x {EXCEL_MAX_COLS:,} columns); export it with --csv instead")
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_dir(out, force=force) as tmp:
        if xlsx:
            _write_xlsx(tmp / "tables.xlsx", tables)
        if csv:
            for name, df in tables.items():
                df.to_csv(tmp / f"{name}.csv", index=False)
    return out
