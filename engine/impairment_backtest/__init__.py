"""`rackrisk impairment-backtest`: the impairment engine's 12-month probabilities scored against what happened.

One job per module (docs/impairment_backtest.md):

* ``asof``        the preset's fleet as it stood at a valuation date, as a scenario the engine runs
* ``launches``    next-generation launches known (announced, not yet shipped) at a date
* ``posteriors``  posterior files fitted as of a date (priors/fitted/asof/<YYYY-MM>/)
* ``statistic``   the one accessor of P(material impairment in the first 12 months) from a run
* ``outcomes``    the observed outcome of a company-year, from the filings table
* ``scoring``     Brier score and the probability given to what was observed
* ``command``     the command: checks, runs, the table, provenance, atomic output

Nothing here imports pymc: the as-of posteriors are shipped in the repository.
"""
