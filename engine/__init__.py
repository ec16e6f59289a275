"""rackrisk: Monte Carlo risk and valuation engine for GPU fleets.

The package is split into small modules with one job each (see docs/architecture.md):

* ``engine.scenario``   TOML scenario files -> validated ``Scenario`` (pydantic), TOML writer, docs generator
* ``engine.inputs``     uncertain inputs: registry of names, quantile functions, copula, posterior files
* ``engine.compile``    ``Scenario`` -> ``Model``: static NumPy arrays the simulation consumes
* ``engine.random``     the only place keys are made: streams keyed by name and path index
* ``engine.accounting`` depreciation, forecasts at a test date, ASC 360 and IAS 36 (pure, key-free)
* ``engine.tco``        capital charges and cost per GPU-hour / delivered GPU-hour / million tokens
* ``engine.kernel.path``   one path: ``lax.scan`` over months (JAX), vmapped over paths by the runner
* ``engine.runner``     chunking, jit, host-side collection of per-path results
* ``engine.summary``    statistics with Monte Carlo standard errors
* ``engine.results``    xarray Dataset, summary.json, provenance, atomic writes
* ``engine.app``        the ``run`` job as a function; ``engine.table`` the terminal summary
* ``engine.cli``        the ``rackrisk`` command (argparse only, lazy imports)

Importing ``engine`` is cheap: nothing heavy (jax, xarray) is imported here.
"""

from engine.version import __version__

_API = ("Scenario", "simulate", "summarize", "summary_dict", "write", "configure", "stress", "sensitivity", "compare_lives", "capex_check")


def __getattr__(name: str):
    """``from engine import Scenario, simulate, summarize``: the Python API (engine/api), imported on first use."""
    if name in _API:
        import engine.api

        return getattr(engine.api, name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
