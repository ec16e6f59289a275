"""Scenario files: schema (pydantic), loading with ``extends``, and the generated reference doc."""
