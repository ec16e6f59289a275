"""The experiments CLI's origin selection (no sampling): the default stays the three earlier origins."""

import pytest

from research import backtest_variants as bv


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


def test_every_variant_states_its_model_and_sampler_in_full():
    # each recorded variant must keep meaning the run docs/priors.md reports under its name, whatever the
    # shipped defaults become: its options are compared here with every field spelled out
    from priors import backtest as bt
    from priors.models.price.config import SHIPPED, PriceModelConfig

    assert set(bv.VARIANTS) == set(bv.BACKTEST_KW)
    for name, config in bv.VARIANTS.items():
        assert isinstance(config, PriceModelConfig), name
        assert set(bv.BACKTEST_KW[name]["sample_kw"]) == {"draws", "tune", "chains", "target_accept"}, name
    full = dict(mix_noise="student_t", median_tail="constant", vol_trend=False, drift="constant", age_slope=False, rw_param="centred")
    assert bv.VARIANTS["constant"].as_dict() == {"provider_panel": False, **full}
    assert bv.BACKTEST_KW["constant"]["sample_kw"] == {"draws": 1500, "tune": 1000, "chains": 4, "target_accept": 0.95}
    # the adopted model (the fifth attempt with its declared sampling fix) is what the backtest runs
    assert bv.BACKTEST_KW["provider_panel_normal_mix_fix"]["sample_kw"] == bt.BACKTEST_SAMPLE
    assert bv.VARIANTS["provider_panel_normal_mix_fix"].as_dict() == {"provider_panel": True, **full, "mix_noise": "normal"}
    assert bv.VARIANTS["provider_panel_normal_mix_fix"] == SHIPPED
