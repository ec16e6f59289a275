"""The price model's options (``PriceModelConfig``) and the model interface (``PriorModel``); no sampling."""

import dataclasses
import importlib
import types
from pathlib import Path

import pytest
import xarray as xr

from priors.models import MODELS, PriorModel
from priors.models.price.config import SHIPPED, PriceModelConfig

FITTED = Path(__file__).resolve().parents[2] / "priors" / "fitted"


def test_every_registered_model_is_a_prior_model_and_a_module_without_finalize_is_not():
    for name, path in MODELS.items():
        assert isinstance(importlib.import_module(path), PriorModel), name
    mod = importlib.import_module(MODELS["failures"])
    partial = types.SimpleNamespace(**{k: getattr(mod, k) for k in ("NAME", "TABLES", "GATE_VARS", "ENGINE_VARS", "SAMPLE",
                                                                     "load_observations", "build_model")})
    assert not isinstance(partial, PriorModel)


def test_config_is_frozen_and_resolves_the_mix_noise_from_the_panel():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SHIPPED.provider_panel = False
    assert (SHIPPED.provider_panel, SHIPPED.mix_noise, SHIPPED.median_tail, SHIPPED.drift) == (True, "normal", "constant", "constant")
    assert PriceModelConfig(provider_panel=False).mix_noise == "student_t"
    assert SHIPPED.without_panel() == PriceModelConfig(provider_panel=False)


@pytest.mark.parametrize("kw, needle", [
    (dict(median_tail="heavy"), "median_tail must be one of"),
    (dict(median_tail="order_statistic"), "constant median tail only"),  # with the panel (the default)
    (dict(provider_panel=False, mix_noise="normal"), "provider-panel model"),
    (dict(mix_noise="laplace"), "mix_noise must be one of"),
    (dict(drift="local_linear"), "drift must be one of"),
    (dict(drift="ar1", vol_trend=True), "drift='ar1'"),
    (dict(rw_param="sideways"), "rw_param must be one of"),
])
def test_bad_options_name_the_option(kw, needle):
    with pytest.raises(ValueError, match=needle):
        PriceModelConfig(**kw)


class _Post(dict):
    """A posterior stand-in: variables by name (``in``) and ``attrs``."""

    def __init__(self, names=()):
        super().__init__({n: None for n in names})
        self.attrs = {}


@pytest.mark.parametrize("config, names", [
    (SHIPPED, ()),
    (PriceModelConfig(provider_panel=True, mix_noise="student_t"), ()),
    (PriceModelConfig(provider_panel=False, median_tail="order_statistic", vol_trend=True), ("volatility_trend_per_year",)),
    (PriceModelConfig(drift="ar1"), ("decline_persistence",)),
])
def test_recorded_options_read_back(config, names):
    # what a fit writes (record) the forecast reads back (of_posterior); age_slope and rw_param do not
    # change the forecast and are not recorded
    idata = types.SimpleNamespace(posterior=_Post(names))
    config.record(idata)
    assert PriceModelConfig.of_posterior(idata) == config


def test_a_file_without_the_attributes_reads_as_the_model_without_the_panel():
    assert PriceModelConfig.of_posterior(types.SimpleNamespace(posterior=_Post())) == PriceModelConfig(provider_panel=False)
    legacy_panel = types.SimpleNamespace(posterior=_Post())
    legacy_panel.posterior.attrs["provider_panel"] = 1  # a panel file written before "mix_noise" was recorded
    assert PriceModelConfig.of_posterior(legacy_panel).mix_noise == "student_t"


def test_the_shipped_file_reads_as_the_shipped_model():
    with xr.open_dataset(FITTED / "price_dynamics.nc", group="posterior", engine="h5netcdf") as post:
        assert PriceModelConfig.of_posterior(types.SimpleNamespace(posterior=post)) == SHIPPED
