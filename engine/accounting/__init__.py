"""Accounting rules as pure array functions (no keys, no I/O): depreciation, forecasts, impairment.

Every function works on NumPy or JAX arrays alike (it uses the array module of its inputs through
``jax.numpy``-compatible operations), so the tests check them by hand to the cent in float64.
"""
