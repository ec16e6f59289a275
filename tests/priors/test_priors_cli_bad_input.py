"""Bad input to `rackrisk backtest` and `rackrisk fit` (the priors commands): one message naming the
option and what is allowed, exit 2, nothing written, and no sampling started (each test runs in a
few seconds: the checks read the observation tables only)."""

import pytest

def test_backtest_cli_refuses_persistent_noise_for_the_panel_model(tmp_path, capsys):
    # The "Third attempt" option is defined for the model without the panel; since session 7 the shipped
    # model has it, so the CLI must refuse before sampling: one message, exit 2, nothing written.
    from engine.cli import main

    out = tmp_path / "bt"
    rc = main(["backtest", "--as-of", "2024-06", "--horizon", "2", "--median-noise", "persistent", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and not out.exists()
    assert err.count("rackrisk: error:") == 1 and "--median-noise" in err and "independent" in err
    from priors import backtest as bt
    from priors.models.price.config import PriceModelConfig

    assert bt.check_median_noise(None) == "independent"
    assert bt.check_median_noise("persistent", PriceModelConfig(provider_panel=False)) == "persistent"
    with pytest.raises(ValueError, match="median_noise must be one of"):
        bt.check_median_noise("sticky")



@pytest.mark.parametrize("command", ["backtest", "fit"])
def test_as_of_before_any_data_is_refused_before_anything_is_written(tmp_path, capsys, command):
    # priors/observations/rental_prices.csv: the first dated median or quote is 2022-08, so an as-of of
    # 1999-01 leaves the price model nothing to fit (it used to end in a traceback after creating the
    # backtest's output folder)
    from engine.cli import main

    out = tmp_path / "out"
    argv = (["backtest", "--as-of", "2024-06", "--as-of", "1999-01", "--horizon", "2", "--out", str(out)] if command == "backtest"
            else ["fit", "failures", "price_dynamics", "--as-of", "1999-01", "--out-dir", str(out)])
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and not out.exists()
    assert err.count("rackrisk: error:") == 1 and "1999-01" in err and "--as-of must be 2022-08 or later" in err


@pytest.mark.parametrize("horizon", ["0", "-1", "241"])
def test_backtest_horizon_outside_1_to_240_is_refused(tmp_path, capsys, horizon):
    # 240 months is a scenario's longest horizon (run.horizon_months <= 240); a horizon of 100,000 used
    # to be accepted and would have asked for a forecast array of 4,000 x 4 x 100,000 doubles (12.8 GB)
    from engine.cli import main

    out = tmp_path / "out"
    rc = main(["backtest", "--as-of", "2024-06", "--horizon", horizon, "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and not out.exists()
    assert err.count("rackrisk: error:") == 1 and "--horizon must be a number of months from 1 to 240" in err


@pytest.mark.parametrize("command", ["backtest", "fit"])
@pytest.mark.parametrize("seed", ["-1", str(2**31)])
def test_sampler_seed_outside_0_to_2_pow_31_is_refused(tmp_path, capsys, command, seed):
    from engine.cli import main

    out = tmp_path / "out"
    argv = (["backtest", "--as-of", "2024-06", "--seed", seed, "--out", str(out)] if command == "backtest"
            else ["fit", "failures", "--seed", seed, "--out-dir", str(out)])
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and not out.exists()
    assert err.count("rackrisk: error:") == 1 and "--seed must be in [0, 2^31)" in err
