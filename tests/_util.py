"""Small helpers shared by the tests: write a scenario, run it, get per-path arrays."""

from __future__ import annotations

import textwrap
from pathlib import Path

ONE_COHORT = """
title = "test: one cohort"
[run]
start_month = "2026-01"
horizon_months = {horizon}
paths = 1000
seed = 7
dtype = "{dtype}"
store = "paths"
fan_paths = 200

[[fleet.cohort]]
name = "c1"
generation = "H100"
purchase_month = "2026-01"
units = {units}
capex_usd_per_gpu = {capex}
useful_life_months = {life}
salvage_frac = 0.0
kw_per_gpu = 0.7
fixed_opex_usd_per_month = 0

[market.H100]
price_usd_per_gpu_hour = {price}
decline_rate_per_month = {decline}
volatility_per_month = {vol}

[demand]
utilization_frac = {util}

[failures]
annual_failure_rate_frac = {{ default = {afr} }}
policy = "retain_book"

[costs]
power_draw_frac = 0.0
pue = 1.0
electricity_usd_per_kwh = 0.0
hours_per_month = {hours}

[accounting]
standards = {standards}
test_every_months = {test_every}
trigger_on_launch = {trigger_on_launch}
forecast = "flat"
# the policy these hand cases were computed under (the schema's practice defaults differ: methodology §0)
asset_group = "cohort"
fair_value_method = "dcf"
disposal_proceeds = "book_salvage"
trigger_launch_undercut_min_frac = 0
trigger_price_drop_frac = 0
trigger_utilization_below_frac = 0
discount_rate_annual_frac = {viu_rate}
fair_value_discount_rate_annual_frac = {fv_rate}
"""


# one floating-rate facility on cohort c1 of ONE_COHORT (tests of the credit outputs and the export)
ONE_FACILITY = """
[financing.sofr]
level_annual_frac = { dist = "uniform", low = 0.03, high = 0.05 }
[[financing.facility]]
name = "L"
principal_usd = 1400000
first_draw_month = "2026-01"
tenor_months = 24
rate_type = "floating"
spread_annual_frac = 0.06
collateral_cohorts = ["c1"]
liquidation_haircut_frac = 0.2
[financing.facility.covenants]
min_dscr = 1.3
max_ltv_frac = 0.9
equity_cures = 1
"""

DEFAULTS = dict(
    horizon=24, dtype="float64", units=100, capex=28032.0, life=24, price=2.0, decline=0.01, vol=0.05, util=1.0,
    afr=0.0, hours=730.0, standards='["asc360"]', test_every=12, trigger_on_launch="false", viu_rate=0.10, fv_rate=0.10,
)


def write_scenario(tmp_path: Path, name: str = "s.toml", extra: str = "", **kw) -> Path:
    """Write the one-cohort test scenario with fields overridden by ``kw`` and ``extra`` TOML appended."""
    values = {**DEFAULTS, **kw}
    text = textwrap.dedent(ONE_COHORT.format(**values)) + textwrap.dedent(extra)
    path = Path(tmp_path) / name
    path.write_text(text)
    return path


def run(path: Path, **kw):
    from engine.app import run_scenario

    return run_scenario(path, write=False, **kw)


REFERENCE = Path(__file__).resolve().parents[1] / "scenarios" / "bench" / "reference.toml"


def reference_variant(tmp_path: Path, name: str, subs) -> Path:
    """The bench reference scenario with each ``(old, new)`` of ``subs`` replaced (each ``old`` must occur),
    written to ``tmp_path / name``."""
    text = REFERENCE.read_text()
    for old, new in subs:
        assert old in text, old
        text = text.replace(old, new)
    p = tmp_path / name
    p.write_text(text)
    return p
