"""The provider sampling noise behind an on-demand median (priors/models/provider_spread.py).

Fast: no sampling. The fixed-effects residuals are checked against a 2 x 2 case done by hand, the
median factor against the exact order-statistic variance, and the as-of cut against the table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from priors.models.provider_spread import median_sd_factor, provider_residuals
from priors.observations_io import month_end, read_table

GENS = ["A100", "H100", "H200", "B200"]


def _rows(rows):
    df = pd.DataFrame(rows)
    df["series"] = df["series"].fillna("provider_restated") if "series" in df else "provider_restated"
    df["value_high"] = df["value_low"]
    df["when"] = pd.to_datetime(df["date"] + "-15")
    df["dated"] = True
    return df


def test_two_by_two_residuals_by_hand():
    # two providers x two months of one generation, log prices
    #   lambda: log 2, log 2;  runpod: log 3, log 3 + 0.2
    # additive fit (month + provider): the interaction contrast is 0.2, each of the 4 residuals is
    # +-0.2 / 4 = +-0.05, RSS = 4 * 0.05^2 = 0.01; rank of the design = 2 + 2 - 1 = 3, df = 4 - 3 = 1
    df = _rows([
        {"date": "2024-01", "generation": "A100", "entity": "lambda", "value_low": 2.0},
        {"date": "2024-02", "generation": "A100", "entity": "lambda", "value_low": 2.0},
        {"date": "2024-01", "generation": "A100", "entity": "runpod", "value_low": 3.0},
        {"date": "2024-02", "generation": "A100", "entity": "runpod", "value_low": 3.0 * np.exp(0.2)},
        # not a provider-level row: ignored
        {"date": "2024-02", "generation": "A100", "entity": "gix", "value_low": 9.0, "series": "market_median"},
    ])
    res = provider_residuals(df, GENS)
    assert res.n_rows == 4 and res.df == 1
    assert res.rss == pytest.approx(0.01, abs=1e-12)
    assert res.sd == pytest.approx(0.1, abs=1e-12)


def test_a_provider_that_moves_with_the_market_leaves_no_residual():
    # both providers cut by the same 10 %: the month effect takes it all, RSS = 0
    df = _rows([{"date": d, "generation": "H100", "entity": e, "value_low": v * f}
                for e, v in (("a", 2.0), ("b", 3.0)) for d, f in (("2024-01", 1.0), ("2024-02", 0.9), ("2024-03", 0.9))])
    res = provider_residuals(df, GENS)
    assert res.df == 6 - 4 and res.rss == pytest.approx(0.0, abs=1e-20)


def test_no_provider_rows_gives_no_degrees_of_freedom():
    res = provider_residuals(_rows([{"date": "2024-01", "generation": "A100", "entity": "gix", "value_low": 2.0,
                                     "series": "market_median"}]), GENS)
    assert res.df == 0 and np.isnan(res.sd)


def test_median_factor_matches_the_order_statistic_variance():
    from scipy import integrate, stats

    # n = 1 and 2: the median is the mean, sd 1/sqrt(n); n <= 0: no median noise
    assert median_sd_factor([1, 2, 0]) == pytest.approx([1.0, 2 ** -0.5, 0.0])
    # n = 3: the median is the 2nd order statistic, density 6 phi(x) Phi(x) (1 - Phi(x)); its
    # variance by quadrature (0.4487). MC: 400,000 medians, SE of the sd ~ 0.67 / sqrt(2 * 4e5) * 1.1
    # ~ 0.0008 (the median of 3 is close to normal); tolerance 5 SE = 0.004
    var3, _ = integrate.quad(lambda x: x * x * 6 * stats.norm.pdf(x) * stats.norm.cdf(x) * stats.norm.sf(x), -10, 10)
    assert median_sd_factor(3) == pytest.approx(np.sqrt(var3), abs=0.004)
    # large n: sqrt(pi / 2) / sqrt(n) (asymptotic efficiency of the median); its error is O(1/n), under 1 %
    # at n = 41, and the MC error 0.1 %: tolerance 2 %
    assert median_sd_factor(41) == pytest.approx(np.sqrt(np.pi / 2 / 41), rel=0.02)
    # more providers, less noise
    f = median_sd_factor(np.arange(1, 10))
    assert (np.diff(f) < 0).all()


def test_as_of_uses_only_provider_rows_known_at_the_cutoff():
    full = read_table("rental_prices")
    known = full[(full["series"] == "provider_restated") & full["dated"] & full["generation"].isin(GENS)
                 & (full["when"] <= month_end("2024-06"))]
    assert len(known) < ((full["series"] == "provider_restated") & full["dated"]).sum()
    res = provider_residuals(read_table("rental_prices", as_of="2024-06"), GENS)
    assert res.n_rows == len(known) > 0
    assert res.df > 0


def test_sku_mix_offset_of_a_median_by_hand():
    from priors.models.provider_spread import sku_mix_offsets

    # A100, 2023-01 (rental_prices.csv): raw GIX median $4.085 (2 providers); restated provider
    # prices fluidstack $4.358, lambda $1.733 -> median of the two logs = log sqrt(4.358 * 1.733) =
    # log 2.7482; offset = log(4.085 / 2.7482) = 0.3964
    x = sku_mix_offsets(read_table("rental_prices", as_of="2023-01"), GENS)
    row = x[(x["generation"] == "A100") & (x["month"] == "2023-01")]
    assert len(row) == 1 and row["n_providers"].iloc[0] == 2
    assert row["offset_log"].iloc[0] == pytest.approx(np.log(4.085 / np.sqrt(4.358 * 1.733)), abs=1e-9)
    assert row["offset_log"].iloc[0] == pytest.approx(0.3964, abs=5e-5)
    # as of 2023-01 nothing later is measured
    assert (x["month"] <= "2023-01").all()
