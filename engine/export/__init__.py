"""``rackrisk export``: a run folder's tables as a spreadsheet (xlsx) and CSV files (engine/export/tables.py, write.py)."""
