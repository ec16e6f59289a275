"""Fits that support a modelling choice written in docs/priors.md; not part of `rackrisk fit`."""
