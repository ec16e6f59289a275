"""``rackrisk new --template neocloud|lender|buyer``: commented starting scenarios that validate.

Each template ``extends`` the shipped scenarios/baseline.toml (market, launches, demand, failures,
costs, accounting and TCO, every number cited there) and gives its own fleet (``replace =
["fleet", ...]``: not merged with the baseline's cohorts). Comments say what each key means, its
unit and where the value (or the schema default left in place) comes from. The ``extends`` path is
written relative to the output file; ``template_text`` validates the text before returning it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

SHIPPED_BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.toml"

_HEADER = """\
# Files cited below are under /work/shared/data (copies in priors/observations/), abbreviated as in
# scenarios/baseline.toml: SPP = market/secondary_and_purchase_prices.csv, RIM = market/rental_index_monthly.csv,
# LT = market/launch_timing.csv, NF = financials/neocloud_financials.csv, DP = seed/depreciation_policies.csv,
# HW:n = line n of seed/hardware_and_ops.csv, DOMAIN = shared/DOMAIN.md.
# Units are in the key names: _usd (US dollars), _months, _frac (a fraction: 0.10 = 10 %), _kw (kilowatts).
# Everything not written here is the base file's (run `rackrisk validate` after each edit; docs/scenarios.md
# lists every key). Change a value for one run without editing: rackrisk run FILE --set KEY=VALUE.
"""

_COHORT_KEYS = """\
# Each [[fleet.cohort]] is GPUs of one generation bought in one month:
#   name               unique label; --set fleet.cohort.<name>.units=... addresses it
#   generation         A100, H100, H200, B200, GB200, B300, GB300, Rubin, ... (needs a [market.<generation>]; the base prices A100-B200)
#   purchase_month     "YYYY-MM": bought and placed in service (first earning month)
#   units              GPUs bought
#   capex_usd_per_gpu  all-in cost per GPU: GPU price x 1.305 server/network uplift (SPP: GB200 NVL72 rack $3.1M / 72 over a $33k GPU)
#   useful_life_months depreciable life: 48 / 60 / 72 are Nebius / Lambda / CoreWeave policies (DP, NF)
#   salvage_frac       book salvage as a share of cost; 0.10 from the SPP used-price (GLRI) residual curve
#   kw_per_gpu         rated power per GPU with its server share: 8-GPU system kW / 8 (HW:424 DGX H100 10.2 kW)
#   site               data centre label; impairment is tested per site by default ([accounting] asset_group)
"""

TEMPLATES: dict[str, str] = {
    "neocloud": _HEADER + """\
#
# NEOCLOUD: a GPU cloud operator's fleet, valued from the base file's start month (2026-01) over its
# horizon (60 months). Replace the cohorts with the company's (or build them from a table with
# `rackrisk import-fleet FLEET.csv`); contract terms are per generation in [market.<generation>].

title = "Neocloud: my fleet on the baseline market"
extends = "@BASELINE@"
replace = ["fleet"]   # these cohorts are the whole fleet (the base file's are not merged in)

[run]
paths = 20000         # Monte Carlo paths (base: 100,000); more paths, smaller standard errors (reported with every figure)

""" + _COHORT_KEYS + """
[[fleet.cohort]]
name = "H100_2024"
generation = "H100"
purchase_month = "2024-03"
units = 2048
capex_usd_per_gpu = 42400     # H100 SXM $25-40k, mid $32.5k (SPP 2025-01-01) x 1.305
useful_life_months = 60       # mid-point of the 4/5/6-year neocloud policies (DP)
salvage_frac = 0.10           # SPP residual curve (scenarios/baseline.toml)
kw_per_gpu = 1.275            # HW:424 DGX H100 10.2 kW / 8
site = "dc_1"

[[fleet.cohort]]
name = "B200_2025"
generation = "B200"
purchase_month = "2025-09"
units = 1024
capex_usd_per_gpu = 48300     # B200 $30-35k (SPP 2025-06-01, HSBC) and $40-43k retail (SPP 2026-03-31), mid $37k x 1.305
useful_life_months = 60
salvage_frac = 0.10
kw_per_gpu = 1.7875           # DGX B200 14.3 kW / 8 (NVIDIA datasheet; not in the data)
site = "dc_1"

# Contract terms per generation (the rest of [market.H100] is the base file's: price, decline, volatility):
[market.H100]
contracted_frac = 0.5                   # share of each H100 cohort's GPUs under take-or-pay contracts (assumption; base 0.5)
contract_price_usd_per_gpu_hour = 3.37  # USD per GPU-hour: RIM H100 reserved median, 2023-07..12 (base)
contract_term_months = 36               # months from purchase (GRP: Vultr 36-month prepaid; base)
""",
    "lender": _HEADER + """\
#
# LENDER: a GPU-backed loan on a borrower's fleet. The credit block of summary.json gives the
# probability of a covenant breach and of default by quarter, DSCR and LTV fans and the expected loss
# (docs/credit.md). Put the borrower's cohorts and the facility's terms below.

title = "Lender: a GPU-backed term loan on a neocloud's H200/B200 fleet"
extends = "@BASELINE@"
replace = ["fleet", "financing"]   # the cohorts and the facilities below are the whole fleet and financing

[run]
paths = 20000         # a financed run keeps every path for the credit statistics (memory: paths x months)

""" + _COHORT_KEYS + """
[[fleet.cohort]]
name = "H200_2025"
generation = "H200"
purchase_month = "2025-03"
units = 4000
capex_usd_per_gpu = 45700     # H200 $30-40k, mid $35k (HW:361-362) x 1.305
useful_life_months = 60
salvage_frac = 0.10
kw_per_gpu = 1.275            # DGX H200 10.2 kW / 8

[[fleet.cohort]]
name = "B200_2025"
generation = "B200"
purchase_month = "2025-09"
units = 4000
capex_usd_per_gpu = 48300     # mid $37k (SPP) x 1.305
useful_life_months = 60
salvage_frac = 0.10
kw_per_gpu = 1.7875

# SOFR (nominal annual): the level drawn once per path. Mean 4.0 %, sd 0.75 pp as scenarios/coreweave_like.toml.
[financing.sofr]
level_annual_frac = { dist = "truncnormal", mean = 0.040, sd = 0.0075, low = 0.0, high = 0.10 }

[[financing.facility]]
name = "GPU_term_loan"
principal_usd = 263200000     # 70 % of the cohorts' capex: 0.70 x (4,000 x 45,700 + 4,000 x 48,300); DOMAIN 1.4: GPU loans at 50-80 % loan-to-value
first_draw_month = "2025-03"  # "YYYY-MM" of the single draw (or give [[financing.facility.draw]] tables: month, amount_usd)
tenor_months = 48             # months from the first draw to the last payment (NF: ~4-year contracts); or maturity_month = "YYYY-MM"
amortization = "level_payment" # straight_line, level_payment (annuity) or contracted (follows contracted revenue)
payment_every_months = 3      # quarterly debt service (DOMAIN 1.4: DDTLs pay quarterly)
rate_type = "floating"        # SOFR + spread; or "fixed" with fixed_rate_annual_frac
spread_annual_frac = 0.045    # NF 2026-05-18 DDTL 5.0: SOFR + 4.50 % (non-investment-grade customers)
sofr_floor_annual_frac = 0.0  # NF 2025-09-29: 0 % floor
collateral_cohorts = ["H200_2025", "B200_2025"]  # cohorts pledged: their cash flow is the CFADS
reserve_months = 3            # debt service reserve, months of debt service (assumption: one quarterly payment)
liquidation_haircut_frac = 0.30  # haircut to the used-GPU value in LTV and recovery; DOMAIN 1.4: 10-30 %, upper end for a forced sale
[financing.facility.covenants]
min_dscr = 1.25               # DOMAIN 1.4: lenders typically want DSCR >= 1.25x
test_every_months = 3         # tested at quarter ends
equity_cures = 1              # failed tests the sponsor may cure with equity (assumption)

[market.H200]
contracted_frac = 0.6                   # assumption (base 0.6)
contract_price_usd_per_gpu_hour = 2.45  # RIM H200 reserved median 2024-11..2025-01 (base)
contract_term_months = 36
[market.B200]
contracted_frac = 0.7                   # assumption (base 0.7)
contract_price_usd_per_gpu_hour = 3.84  # RIM B200 reserved 2025-04 (base)
contract_term_months = 48               # NF 2025-12-31: average contract ~4 years
""",
    "buyer": _HEADER + """\
#
# BUYER: one purchase at the valuation date, against renting the same GPUs. summary.json's tco block
# gives the cost per GPU-hour and per million tokens, the breakeven utilization against the cloud price
# and the NPV of owning (docs/methodology.md section 11). Change the generation, units and price.

title = "Buyer: 512 B200 bought at the start month, own or rent"
extends = "@BASELINE@"
replace = ["fleet"]   # the purchase below is the whole fleet

[run]
paths = 20000

""" + _COHORT_KEYS + """
[[fleet.cohort]]
name = "B200_purchase"
generation = "B200"
purchase_month = "2026-01"    # the base file's start month: bought at the valuation date
units = 512                   # 64 eight-GPU servers
capex_usd_per_gpu = 48300     # mid $37k (SPP) x 1.305 server/network uplift
useful_life_months = 60       # the Lambda policy, mid-point of 4/5/6 years (DP)
salvage_frac = 0.10
kw_per_gpu = 1.7875           # DGX B200 14.3 kW / 8

[tco]
cost_of_capital_annual_frac = 0.13  # the buyer's hurdle rate, effective annual (base: GPU-backed debt rates 11-15 %, NF)
[tco.cloud_price_usd_per_gpu_hour]
B200 = 5.75                   # renting the same GPU: the B200 market median at 2026-01 (RIM via the base file)
""",
}


def template_text(name: str, *, out: str | Path | None = None) -> tuple[str, Any]:
    """The template ``name`` with ``extends`` written relative to ``out``'s folder (default: the current
    folder), validated; returns (text, LoadedScenario). KeyError-free: an unknown name is a ScenarioError."""
    from engine.errors import ScenarioError
    from engine.scenario.load import load_scenario_text

    if name not in TEMPLATES:
        raise ScenarioError("", "--template", f"unknown template {name!r}; allowed: {', '.join(TEMPLATES)}")
    out_dir = Path(out).resolve().parent if out else Path.cwd()
    rel = os.path.relpath(SHIPPED_BASELINE, out_dir).replace(os.sep, "/")
    text = TEMPLATES[name].replace("@BASELINE@", rel)
    loaded = load_scenario_text(text, name=str(out or f"{name} template"), base_dir=out_dir)
    return text, loaded
