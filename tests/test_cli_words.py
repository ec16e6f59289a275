"""What the CLI prints, word by word, where a reader would stumble."""

from __future__ import annotations

from engine.cli import main


def test_validate_counts_cohorts_in_words(capsys):
    # the bench reference has one cohort, the baseline four (scenarios/*.toml)
    assert main(["validate", "scenarios/bench/reference.toml", "scenarios/baseline.toml"]) == 0
    out = capsys.readouterr().out
    assert "(1 cohort, 72 months" in out and "(4 cohorts, 60 months" in out
