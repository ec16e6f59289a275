"""rackrisk: Monte Carlo risk and valuation engine for GPU fleets.

The Python API (docs/api.md), imported on first use::

    from engine import Scenario, simulate, summarize
    ds = simulate(Scenario.from_toml("scenarios/baseline.toml"), paths=20_000)
    summarize(ds)

``Scenario``, ``simulate``, ``summarize``, ``summary_dict``, ``write``, ``configure`` and the analyses
``stress``, ``sensitivity``, ``compare_lives``, ``capex_check`` (engine/api). The layers and the module
map are in docs/architecture.md. Importing ``engine`` is cheap: nothing heavy (jax, xarray) is
imported until a function is used.
"""

from engine.version import __version__

_API = ("Scenario", "simulate", "summarize", "summary_dict", "write", "configure", "stress", "sensitivity", "compare_lives", "capex_check")


def __getattr__(name: str):
    """``from engine import Scenario, simulate, summarize``: the Python API (engine/api), imported on first use."""
    if name in _API:
        import engine.api

        return getattr(engine.api, name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
