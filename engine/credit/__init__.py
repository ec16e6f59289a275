"""Credit on the simulated fleet: debt schedules, DSCR, LTV, covenants, cures, default, LGD/EAD.

Host side (NumPy): ``checks`` (cross-field validation of ``[financing]``), ``schedule`` (draws,
amortization fractions, test calendar, opening balances: deterministic), ``compile`` (the ``fin_*``
arrays of ``Model.a``). Device side (JAX, pure, no keys): ``rates`` (the SOFR path), ``ratios``
(DSCR, LTV, amortization fractions, recovery), ``path`` (the monthly debt scan of one path on the
(T, C) cash flows and collateral values the fleet scan produces). Host statistics: ``summary``,
``results``. docs/credit.md gives every equation.
"""
