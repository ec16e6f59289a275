"""Sensitivity analysis: tornado, pathwise gradients (elasticities), Sobol indices (docs/stress.md)."""
