"""The GPU generations the engine knows, in launch order (older first).

A launch of generation ``g`` undercuts every generation that comes before ``g`` in this list.
Sources for the dates: ../shared/data/market/launch_timing.csv (A100 2020-05, H100 2022-09 full
production, H200 and B200 volume shipments 2024-2025); Rubin and Rubin Ultra are Nvidia's
announced 2026 and 2027 parts.
"""

from __future__ import annotations

GENERATIONS: tuple[str, ...] = (
    "A100",
    "H100",
    "H200",
    "B200",
    "GB200",
    "B300",
    "GB300",
    "Rubin",
    "RubinUltra",
    "Feynman",
)

RANK: dict[str, int] = {g: i for i, g in enumerate(GENERATIONS)}

# Generations whose used-GPU prices are observed (ASC 820 / IFRS 13 Level 2 inputs for fair value):
# the used_market and residual_curve rows of priors/observations/residual_value.csv are A100 and H100
# quotes (market/secondary_and_purchase_prices.csv rows 178-196); H200 and newer have none yet.
USED_MARKET_GENERATIONS: tuple[str, ...] = ("A100", "H100")
