"""``rackrisk reconcile``: a scenario's past periods, modelled deterministically, against the filings.

One job per module:

* ``periods``  -- a filing's period text ("FY2024", "Q1 2025", "point", ...) as calendar months.
* ``filings``  -- rows of priors/observations/neocloud_financials.csv and what each metric measures.
* ``prices``   -- the observed monthly market rental price of each generation (past months).
* ``means``    -- the scenario's expected value of each uncertain input (posterior means included).
* ``fleet``    -- the fleet history by month: GPUs in service, revenue, carrying amounts, power, capex.
* ``debt``     -- facility balances and interest at past month ends (engine/credit/schedule.py rules).
* ``compare``  -- modelled vs reported figure by figure, with tolerances.
* ``table``    -- the printed (Markdown) table.
* ``app``      -- the command: load, check input, compare, print.

Equations and tolerances: docs/reconcile.md.
"""
