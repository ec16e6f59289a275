"""The calibration layer: observations in, fitted posteriors out (PyMC, the optional ``[fit]`` extra;
imported only by `rackrisk fit`, `rackrisk backtest` and `impairment-backtest --fit-missing`).

* ``priors/observations/``  tidy CSV tables derived from ../shared/data (``derive_*.py`` re-create them)
* ``priors.models.<name>``  one model per module, each a ``priors.models.PriorModel``; the price model's
                            parts are in ``priors.models.price``
* ``priors.inference``      the one NUTS call and the gate summary (used by fit and backtest)
* ``priors.fit``            sampling, convergence gate, provenance, ``priors/fitted/<name>.nc``
* ``priors.backtest``       rolling-origin forecasts of rental prices scored against later data

The experiments behind the price model are in ``research/`` (not installed).
"""
