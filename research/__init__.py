"""The price model's experiments: the variants tried and scored in docs/priors.md (appendix), with their
results under research/results/. Not part of the installed package (pyproject.toml lists engine and
priors only); run from a clone's root, e.g. ``python -m research.backtest_variants NAME``. They use the
price model's options (``priors.models.price.config.PriceModelConfig``) and the shipped backtest."""
