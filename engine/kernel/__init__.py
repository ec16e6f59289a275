"""The simulation kernel: one Monte Carlo path as a ``lax.scan`` over months (``engine.kernel.path``)."""
