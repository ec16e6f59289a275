"""rackrisk's Python API: what the ``rackrisk`` command does, as functions returning xarray Datasets.

    from engine import Scenario, simulate, summarize
    s = Scenario.from_toml("scenarios/baseline.toml").with_overrides({"market.H100.decline_rate_per_month": 0.03})
    ds = simulate(s, paths=20_000, seed=1)      # per-path results (results.nc's Dataset)
    summarize(ds).value.sel(entity="fleet", standard="asc360")

docs/api.md documents each function.
"""

from engine.api.analyses import capex_check, compare_lives, sensitivity, stress
from engine.api.configure import configure
from engine.api.results import simulate, summarize, summary_dict, write
from engine.api.scenario import Scenario

__all__ = ["Scenario", "simulate", "summarize", "summary_dict", "write", "configure", "stress", "sensitivity", "compare_lives", "capex_check"]
