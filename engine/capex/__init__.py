"""Capex cross-check (``rackrisk capex-check PLAN.toml``): what has to be true for a planned programme.

``plan`` reads and validates a plan file and builds the scenario it implies (the base scenario's
market, launches, demand, costs and accounting; the plan's tranches as cohorts; its funding as one
facility per tranche). ``breakeven`` finds, path by path, the rental-price multiplier per generation
and the fleet utilization at which the programme (a) has no ASC 360 impairment, (b) passes every
DSCR covenant test without default, (c) has NPV >= 0, by vectorized bisection with every other input
held at the path's draw. ``report`` turns them into one table (terminal, JSON, CSV). docs/credit.md §8.
"""
