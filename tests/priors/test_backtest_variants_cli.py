"""The experiments CLI's origin selection (no sampling): the default stays the three earlier origins."""

import pytest

from priors.experiments import backtest_variants as bv


def test_default_origins_are_the_earlier_three():
    name, out, origins = bv.parse_args(["constant"])
    assert name == "constant" and str(out) == "/tmp/rackrisk_constant"
    assert origins == ["2024-06", "2024-09", "2024-12"] == bv.ORIGINS


def test_origins_option_both_spellings():
    monthly = ",".join(bv.MONTHLY_ORIGINS)
    assert bv.parse_args(["constant", "/tmp/o", "--origins", monthly])[2] == bv.MONTHLY_ORIGINS
    assert bv.parse_args(["--origins=2024-07,2024-08", "constant", "/tmp/o"])[1:] == (bv.Path("/tmp/o"), ["2024-07", "2024-08"])
    assert len(bv.MONTHLY_ORIGINS) == 7 and bv.MONTHLY_ORIGINS[0] == "2024-06" and bv.MONTHLY_ORIGINS[-1] == "2024-12"


@pytest.mark.parametrize("argv", [["constant", "--origins", "2024-13"], ["constant", "--origins", "2024-06,2024-06"],
                                  ["constant", "--origins"], ["nope"], ["constant", "/a", "/b"]])
def test_bad_arguments_exit(argv):
    with pytest.raises(SystemExit):
        bv.parse_args(argv)
