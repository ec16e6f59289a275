"""Stress testing: shocks at a date, percentile bands, path tables (compiled into Model arrays),
scenario comparisons under common random numbers, and reverse stress tests (docs/stress.md)."""
