"""The price model's options, in one frozen object (``PriceModelConfig``); ``SHIPPED`` is the fitted model.

``build_model(obs, config)`` builds the PyMC model the config names; the fit records the options as
posterior attributes (``record``) and the forecast follows the file (``PriceModelConfig.of_posterior``),
so a file is always forecast with the model it was fitted with. Every option other than the shipped
value is an experiment scored in docs/priors.md (Appendix A; research/backtest_variants.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

MEDIAN_TAILS = ("constant", "order_statistic")
MIX_NOISES = ("student_t", "normal")
DRIFTS = ("constant", "ar1")
RW_PARAMS = ("centred", "noncentred")
# the product-mix noise of a panel fit whose file has no "mix_noise" attribute (written before the
# attribute was always recorded): the Student-t of the medians' dof
LEGACY_MIX_NOISE = "student_t"


@dataclass(frozen=True)
class PriceModelConfig:
    """Options of the rental-price model (all on the monthly natural-log price scale).

    provider_panel: the ``provider_restated`` panel in the likelihood, y[k,g,t] = m[g,t] + a[k,g] +
        w[k,g,t] (``panel.panel_terms``); an on-demand median with panel rows in its month is scored on
        its product-mix part only. False: medians and quotes alone (Student-t noise).
    mix_noise: the on-demand medians' noise on the panel path, "normal" or "student_t" (dof
        noise_dof[median]); None resolves to "normal" with the panel and "student_t" without it
        (without the panel only "student_t" is defined).
    median_tail: "constant" (one dof for every median) or "order_statistic" (a median of n providers
        has nu_1 * ceil(n / 2) dof, ``noise.median_noise_dof``); the latter without the panel only.
    vol_trend: the shock sd has a shared log-linear calendar trend, sigma[g] exp(eta (t - T + 1) / 12).
    drift: "constant" (r[g] pooled across generations) or "ar1" (a monthly decline mu_r + u[g,t], u a
        stationary AR(1) integrated out; ``drift.py``); "ar1" needs the centred walk, no age slope and
        no volatility trend.
    age_slope: the decline changes with age since launch, r[g] + b_age (age[g,t] - 2 years).
    rw_param: "centred" (the walk's monthly increments are the parameters) or "noncentred"
        (standardised shocks).
    Invalid values or combinations raise ValueError naming the option and the allowed values.
    """

    provider_panel: bool = True
    mix_noise: str | None = None
    median_tail: str = "constant"
    vol_trend: bool = False
    drift: str = "constant"
    age_slope: bool = False
    rw_param: str = "centred"

    def __post_init__(self) -> None:
        if self.median_tail not in MEDIAN_TAILS:
            raise ValueError(f"median_tail must be one of {MEDIAN_TAILS}, got {self.median_tail!r}")
        if self.provider_panel and self.median_tail != "constant":
            raise ValueError("provider_panel=True is specified with the constant median tail only")
        mix = self.mix_noise
        if mix is None:
            object.__setattr__(self, "mix_noise", "normal" if self.provider_panel else "student_t")
        elif mix not in MIX_NOISES:
            raise ValueError(f"mix_noise must be one of {MIX_NOISES}, got {mix!r}")
        elif mix != "student_t" and not self.provider_panel:
            raise ValueError("mix_noise is an option of the provider-panel model (provider_panel=True) only")
        if self.drift not in DRIFTS:
            raise ValueError(f"drift must be one of {DRIFTS}, got {self.drift!r}")
        if self.rw_param not in RW_PARAMS:
            raise ValueError(f"rw_param must be one of {RW_PARAMS}, got {self.rw_param!r}")
        if self.drift == "ar1" and (self.age_slope or self.vol_trend or self.rw_param != "centred"):
            raise ValueError("drift='ar1' is specified with the centred walk, without age_slope and vol_trend")

    def without_panel(self) -> PriceModelConfig:
        """The same options without the provider panel (medians and quotes, Student-t noise)."""
        return replace(self, provider_panel=False, mix_noise="student_t")

    def as_dict(self) -> dict:
        return asdict(self)

    def record(self, idata, *, panel_fallback: bool = False) -> None:
        """Write the options the forecast depends on as posterior attributes of ``idata``."""
        attrs = idata.posterior.attrs
        attrs["median_tail"] = self.median_tail
        attrs["volatility_trend"] = int(self.vol_trend)
        attrs["provider_panel"] = int(self.provider_panel)
        attrs["mix_noise"] = self.mix_noise
        attrs["provider_panel_fallback"] = int(panel_fallback)

    @classmethod
    def of_posterior(cls, idata) -> PriceModelConfig:
        """The options a fitted file was made with, from its posterior attributes and variables; a file
        without the attributes (written before they existed) reads as the model of that time: no panel,
        constant tail (and ``LEGACY_MIX_NOISE`` for a panel file without "mix_noise")."""
        from priors.models.price.drift import PERSISTENCE_VAR

        attrs = getattr(idata.posterior, "attrs", {})
        panel = bool(int(attrs.get("provider_panel", 0)))
        return cls(provider_panel=panel,
                   mix_noise=str(attrs.get("mix_noise", LEGACY_MIX_NOISE)) if panel else "student_t",
                   median_tail=str(attrs.get("median_tail", "constant")),
                   vol_trend="volatility_trend_per_year" in idata.posterior,
                   drift="ar1" if PERSISTENCE_VAR in idata.posterior else "constant")


SHIPPED = PriceModelConfig()  # the fitted model (docs/priors.md, "The shipped model")
