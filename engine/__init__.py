"""rackrisk: Monte Carlo risk and valuation engine for GPU fleets.

The package is split into small modules with one job each (see docs/architecture.md):

* ``engine.scenario``   TOML scenario files -> validated ``Scenario`` (pydantic), docs generator
* ``engine.inputs``     uncertain inputs: distributions, copula, posterior files -> per-path draws
* ``engine.compile``    ``Scenario`` -> static arrays the simulation consumes (``ModelArrays``)
* ``engine.accounting`` depreciation, ASC 360 and IAS 36 tests, forecasts (pure, key-free)
* ``engine.tco``        cost per GPU-hour, per delivered GPU-hour, per million tokens
* ``engine.simulate``   one path: ``lax.scan`` over months (JAX); vmapped over paths
* ``engine.runner``     chunking, keys, host-side collection
* ``engine.summary``    statistics with Monte Carlo standard errors
* ``engine.results``    xarray Dataset, summary.json, atomic writes
* ``engine.cli``        the ``rackrisk`` command (argparse only, lazy imports)

Importing ``engine`` is cheap: nothing heavy (jax, xarray) is imported here.
"""

__version__ = "0.1.0"
