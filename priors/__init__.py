"""The calibration layer: observations in, fitted posteriors out (PyMC; imported only by `rackrisk fit`).

* ``priors/observations/``  tidy CSV tables derived from ../shared/data (``derive.py`` re-creates them)
* ``priors.models.<name>``  one PyMC model per file: ``load_observations``, ``build_model``
* ``priors.fit``            sampling, convergence gate, provenance, ``priors/fitted/<name>.nc``
* ``priors.backtest``       rolling-origin forecasts of rental prices scored against later data
"""
