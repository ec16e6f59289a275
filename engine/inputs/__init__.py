"""Uncertain inputs: naming (registry), sampling (distributions, copula), posterior files."""
