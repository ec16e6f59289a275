"""The analyst's report: one self-contained HTML page per run folder (``rackrisk report DIR``).

Modules, one job each: ``fmt`` (number formatting rules), ``load`` (read a run folder and the
optional stress / sensitivity folders), ``sources`` (the inline source comments of the scenario
files), ``words`` (the scenario in words), ``headline`` (the headline table rows, each tied to its
summary.json key), ``figures`` (matplotlib Agg figures as PNG bytes), ``html`` (the page), ``build``
(``build_report``: everything built in memory, then written atomically). docs/report.md.
"""
