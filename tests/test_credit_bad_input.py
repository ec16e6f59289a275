"""Bad [financing] input: one line naming the file, the field and the allowed values; exit 2; nothing written.

Each case is the reference scenario of tests/test_bad_input.py plus a small [financing] section with
one edit; both ``rackrisk validate`` and ``rackrisk run`` must refuse it before compiling (fast).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main
from tests.test_bad_input import REF, Case, assert_rejected_cleanly

FIN = """
[financing.sofr]
level_annual_frac = 0.043
[[financing.facility]]
name = "DDTL"
principal_usd = 20000000
first_draw_month = "2026-01"
tenor_months = 48
amortization = "straight_line"
rate_type = "floating"
spread_annual_frac = 0.065
collateral_cohorts = ["H100"]
[financing.facility.covenants]
min_dscr = 1.25
max_ltv_frac = 0.8
"""
GOOD = REF + FIN


def fin(*pairs: str) -> str:
    text = GOOD
    for old, new in zip(pairs[::2], pairs[1::2]):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


SECOND = '\n[[financing.facility]]\nname = "DDTL2"\nprincipal_usd = 1000000\nfirst_draw_month = "2026-06"\ntenor_months = 12\nfixed_rate_annual_frac = 0.1\ncollateral_cohorts = ["H100"]\n'

CASES = [
    Case("unknown-collateral-cohort", fin('collateral_cohorts = ["H100"]', 'collateral_cohorts = ["H200"]'),
         "financing.facility[0].collateral_cohorts[0]", ("'H200' is not a cohort", "cohorts: H100")),
    Case("cohort-pledged-twice", GOOD + SECOND, "financing.facility[1].collateral_cohorts[0]", ("already pledged", "DDTL", "at most one")),
    Case("unknown-amortization", fin('amortization = "straight_line"', 'amortization = "bullet"'),
         "financing.facility[0].amortization", ("straight_line", "level_payment", "contracted", "bullet")),
    Case("maturity-and-tenor", fin("tenor_months = 48", 'tenor_months = 48\nmaturity_month = "2030-01"'),
         "financing.facility[0].maturity_month", ("maturity_month or tenor_months", "exactly one")),
    Case("draws-do-not-sum", fin('first_draw_month = "2026-01"\n', "") + '[[financing.facility.draw]]\nmonth = "2026-01"\namount_usd = 5000000\n',
         "financing.facility[0].draw", ("draw amounts must sum to principal_usd", "2e+07", "got 5e+06")),
    Case("contracted-without-contracts", fin('amortization = "straight_line"', 'amortization = "contracted"'),
         "financing.facility[0].amortization", ("contracted cash flows", "straight_line, level_payment")),
    Case("pledged-contracts-without-contracts", fin('collateral_cohorts = ["H100"]', 'collateral_cohorts = ["H100"]\npledged_cash_flow = "contracted"'),
         "financing.facility[0].pledged_cash_flow", ("needs contracts", "allowed: all")),
    Case("pledged-cash-flow-unknown", fin('collateral_cohorts = ["H100"]', 'collateral_cohorts = ["H100"]\npledged_cash_flow = "spot"'),
         "financing.facility[0].pledged_cash_flow", ("'all'", "'contracted'", "spot")),
    Case("floating-with-fixed-rate", fin("spread_annual_frac = 0.065", "spread_annual_frac = 0.065\nfixed_rate_annual_frac = 0.1"),
         "financing.facility[0].fixed_rate_annual_frac", ("floating-rate", "spread_annual_frac")),
    Case("dscr-basis-unknown", fin("min_dscr = 1.25", 'min_dscr = 1.25\ndscr_basis = "ltm"'),
         "financing.facility[0].covenants.dscr_basis", ("point_in_time", "trailing_4q", "ltm")),
    Case("test-frequency-unknown", fin("min_dscr = 1.25", "min_dscr = 1.25\ntest_every_months = 2"),
         "financing.facility[0].covenants.test_every_months", ("1", "3", "6", "12")),
    Case("negative-principal", fin("principal_usd = 20000000", "principal_usd = -1"), "financing.facility[0].principal_usd", ("greater than 0",)),
    # a haircut of 1 (nothing recovered, LTV undefined) is refused with the allowed range
    Case("haircut-one", fin('collateral_cohorts = ["H100"]', 'collateral_cohorts = ["H100"]\nliquidation_haircut_frac = 1.0'),
         "financing.facility[0].liquidation_haircut_frac", ("less than 1",)),
    Case("matured-before-start", fin('first_draw_month = "2026-01"', 'first_draw_month = "2020-01"'),
         "financing.facility[0].maturity_month", ("matured", "before the run starts", "remove it")),
    Case("first-draw-after-horizon", fin('first_draw_month = "2026-01"', 'first_draw_month = "2040-01"'),
         "financing.facility[0].first_draw_month", ("after the horizon", "2031-12")),
    Case("opening-balance-for-new-facility", fin("tenor_months = 48", "tenor_months = 48\nopening_balance_usd = 1000"),
         "financing.facility[0].opening_balance_usd", ("only for a facility drawn before the run start",)),
    Case("cash-trap-below-min-dscr", fin("min_dscr = 1.25", "min_dscr = 1.25\ncash_trap_dscr = 1.1"),
         "financing.facility[0].covenants.cash_trap_dscr", ("cash-trap level", "at or above min_dscr")),
    Case("sofr-normal-unbounded", fin("level_annual_frac = 0.043", 'level_annual_frac = { dist = "normal", mean = 0.043, sd = 0.01 }'),
         "financing.sofr.level_annual_frac", ("support", "[-0.05, 0.5]", "bounded")),
    Case("unknown-facility-key", fin("tenor_months = 48", "tenor_months = 48\ninterest_rate = 0.1"),
         "financing.facility[0].interest_rate", ("unknown key", "fixed_rate_annual_frac", "spread_annual_frac")),
    Case("duplicate-facility-names", GOOD + SECOND.replace('"DDTL2"', '"DDTL"').replace('collateral_cohorts = ["H100"]', 'collateral_cohorts = ["H100"]'),
         "financing.facility", ("unique", "DDTL")),
]

@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_financing(case: Case, tmp_path: Path, capsys) -> None:
    assert_rejected_cleanly(case, tmp_path, capsys)


def test_reference_financing_is_valid(tmp_path: Path, capsys) -> None:
    # The base every case edits validates, so each case fails for its one edit only.
    path = tmp_path / "ref.toml"
    path.write_text(GOOD)
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "ok" in out and err == ""
