"""Rental price dynamics by GPU generation (issue 3, item 2): the engine's decline, volatility, undercut.

Data (``priors/observations/rental_prices.csv`` and ``launches.csv``; rules in README_market.md):
dated rows of trust A-C for A100, H100, H200 and B200 of two kinds,

* ``market_median``: the GIX raw monthly medians of on-demand, reserved and spot list quotes (one
  value per generation, basis and month; the unadjusted market price series);
* ``quote``: single-provider (or single-article) quotes. Repeated scrapes are aggregated to one
  observation per generation, basis, provider class, provider and month (geometric mean of the
  distinct product/price pairs that month); quotes given as a bound or a range stay one interval
  observation each.

**The shipped model (since session 7) is the provider-panel version with a Normal product-mix noise**
(``PROVIDER_PANEL = True``, ``MIX_NOISE = "normal"``: the "Fifth attempt" of docs/priors.md, adopted
there under "Adopted: the fifth attempt"); the equations below are the common core, the panel terms
are described after them. The restated GIX provider series (``provider_restated``) enter through the
panel; the on-demand medians are then conditioned on it, so the same quotes are not counted twice.
``index_restated`` is not used. ``build_model(obs, provider_panel=False)`` is the model shipped before
(the medians and quotes alone, Student-t noise).
Undated rows cannot be placed on the monthly grid and are not used either (they stay in the table).

Model, on a monthly grid t = 0..T-1 ending at the cutoff month (the last data month without one):

    m[g,t] = m[g,t-1] - r[g] + log(1 - f) (S[g,t] - S[g,t-1]) + sigma[g] eps[g,t],  eps ~ N(0, 1)
             for t0[g] < t <= t1[g] (the generation's first and last data month), m[g,t0] ~ N(log 3, 1)
    a[g]   = m[g,t1] - r[g] gap + log(1 - f) (S[g,T-1] - S[g,t1]) + sigma[g] sqrt(gap) z[g]   (gap = T-1-t1)
             (a generation without data: a[g] ~ N(log 3, 1))
    y_i    = m[g_i,t_i] + beta[b_i] + gamma[c_i] + delta[g_i,b_i] + [quote] (q[g_i] + e[k_i]) + eps_i
    eps_i  ~ StudentT(nu[grp_i], 0, s_i),  s_i^2 = s[kind_i]^2 + s_comp^2 n_i^(-kappa)   (point
             observations; n_i = distinct providers behind a median, the composition term is 0 for
             single-provider quotes; grp = median or quote)
    P(lo_i <= y_i <= hi_i) under N(mu_i, s[quote])                  (interval observations, log bounds)

m[g,t] is the log on-demand market price (the median series) of generation g; a[g] its level at the
cutoff; r[g] the monthly decline (drift = -r); sigma[g] the sd of the monthly log shocks (the
engine's volatility); S[g,t] the number of successor launches (volume shipments) whose undercut has
phased in by month t, each cut phasing in linearly over RAMP_MONTHS after the ship month, so the
price falls by the fraction f per successor launch; beta/gamma the pricing-basis and provider-class
offsets (on-demand and neocloud are the references; the marketplace basis only occurs with the
marketplace class, whose offset carries it); delta[g,b] the generation-specific part of the
reserved and spot discounts; q[g] the mean level of a generation's single-provider quotes relative to
its market median; e[k] a provider effect. The walk is centred (the increments are the parameters):
most months are pinned by several observations, where this samples without divergences.
Age since launch is not a covariate of the shipped model: each generation's data cover a different
age span (A100 2.2-5.1 years, H100 -0.4 to 2.9, H200 0.4-1.0, B200 0.3-1.4), so within the data age is
calendar time within a generation and generation across them; ``build_model(obs, age_slope=True)``
adds r[g,t] = r[g] + b_age (age - 2 years) for the experiment in priors/experiments/age_since_launch.py
(result in docs/priors.md). Two more experiments, off by default and scored in the rolling backtest
(priors/experiments/backtest_variants.py; docs/priors.md, "Second attempt"): ``median_tail=
"order_statistic"`` gives a median of n providers the dof nu_1 * ceil(n / 2) (``median_noise_dof``)
and ``vol_trend=True`` a shared log-linear volatility trend, sigma[g,t] = sigma[g] exp(eta (t - T + 1) / 12).
A third, ``provider_panel=True`` ("Fourth attempt"), puts the ``provider_restated`` panel (as of the
cutoff) in the likelihood, y[k,g,t] = m[g,t] + a[k,g] + w[k,g,t] (sum-to-zero offsets, a per-provider
AR(1) w; ``price_panel.panel_terms``), scores an on-demand median whose month has panel rows on its product-mix
part log M - median_k y[k,g,t] only (so m is not informed twice by the same providers), and forecasts
the target median as m + median over its providers of (a + w) + mix (``price_panel.panel_median_noise``).
With the panel, ``mix_noise="normal"`` ("Fifth attempt") gives the product-mix part a Normal noise
(likelihood of every on-demand median and the forecast's draw of it) instead of the Student-t.

Priors (weakly informative, on the monthly log scale):
    r[g] = mu_r + tau_r zr[g], mu_r ~ N(0.01, 0.02), tau_r ~ HalfNormal(0.01), zr ~ N(0, 1)
    log sigma[g] = lmu_s + tau_s zs[g], lmu_s ~ N(log 0.06, 0.5), tau_s ~ HalfNormal(0.3)
    f ~ Beta(2, 8)  (mean 0.2)
    beta_reserved ~ N(log 0.65, 0.3), beta_spot ~ N(log 0.5, 0.4)
    gamma_hyperscaler ~ N(log 1.5, 0.5), gamma_marketplace ~ N(0, 0.5)
    delta[g,b] = s_delta zd[g,b], s_delta ~ HalfNormal(0.15);  e[k] = s_e ze[k], s_e ~ HalfNormal(0.5)
    q[g] ~ N(0, 0.3)
    s[kind] ~ Gamma(2, 40) for the on-demand median's floor (its noise as the provider count grows),
    Gamma(2, 10) for the others (zero-avoiding);
    s_comp ~ Gamma(2, 5), kappa ~ LogNormal(log 2, 0.75) (kappa = 1: sampling-like 1/n; a median of
    1-2 providers' list prices is worse than a sample, so steeper decay is allowed)
    nu[grp] ~ Gamma(2, 0.1) (Juarez and Steel 2010)

ENGINE_VARS (posterior group, Deterministics): decline_rate_per_month[generation] = r[g] (the
forward-looking drift without launch steps; a generation with little data gets its partially pooled
draw), volatility_per_month[generation] = sigma[g], undercut_frac = f.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from priors.models import price_drift as pdr  # the drift="ar1" option (docs/priors.md, "Sixth attempt")
from priors.models import price_panel as ppn  # the provider-panel option (circular: used at call time)
from priors.models._likelihoods import normal_logcdf
from priors.observations_io import read_table

# numpyro runs chains in parallel only on as many XLA host devices as chains; set before jax loads.
if "jax" not in sys.modules and "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4").strip()

NAME = "price_dynamics"
TABLES = ["rental_prices", "launches"]
GENERATIONS = ["A100", "H100", "H200", "B200"]
BASES = ["on_demand", "reserved", "spot", "marketplace"]
CLASSES = ["neocloud", "hyperscaler", "marketplace"]
KINDS = ["median_on_demand", "median_reserved", "median_spot", "quote"]
RAMP_MONTHS = 6
# Student-t measurement noise on point observations with its degrees of freedom estimated, one for
# the market medians and one for the single-provider quotes. A median of a few providers' sticky
# list prices mostly does not move and now and then jumps when the provider mix changes (2024: the
# median month-on-month |log change| of the on-demand medians is 0.025 while their sd is 0.145; a
# normal has median |x| = 0.67 sd): the tail weight is a property of the data, not a constant. A
# fixed nu = 4 forced one scale to cover both the calm months and the jumps, which widened every
# forecast interval (see docs/priors.md, "Backtest"). Prior nu ~ Gamma(2, 0.1) (Juarez and Steel
# 2010; mean 20, P(nu < 1) = 0.5 %).
NU_GROUPS = ["median", "quote"]
OD_FLOOR_PRIOR_RATE = 40.0  # obs_sd[median_on_demand] ~ Gamma(2, 40): see build_model
NU_PRIOR = (2.0, 0.1)
# How the on-demand (and reserved, spot) median's t tail depends on the providers behind it:
# "constant": one dof noise_dof[median] for every provider count (the shipped model);
# "order_statistic": noise_dof[median] is the dof nu_1 of ONE provider's price and a median of n
# providers has nu_eff(n) = nu_1 * median_tail_order(n) (see median_tail_order). An experiment
# (docs/priors.md, "Backtest"), off by default; the fitted file records it (posterior attribute
# "median_tail") and forecast_log_ratio / finalize follow the file.
MEDIAN_TAILS = ("constant", "order_statistic")
MEDIAN_TAIL = "constant"
# Volatility that changes over time (experiment, off by default): ``build_model(obs, vol_trend=True)``
# gives the monthly shock sd a shared log-linear trend in calendar time,
#   sigma[g,t] = sigma[g] exp(eta (t - (T-1)) / 12),  eta ~ N(0, VOL_TREND_PRIOR_SD) (log change a year),
# so sigma[g] (volatility_per_month) is the volatility AT THE CUTOFF, which the forecast (and the
# engine) carry forward; eta < 0 is a market calming down (2023 was a shortage market).
VOL_TREND_PRIOR_SD = 0.5  # +-1 sd: the volatility may halve or nearly double (x e^0.5) within a year
OPTIONAL_GATE_VARS = ["volatility_trend_per_year",  # gated when the fitted model has them
                      "provider_offset_sd", "provider_offset", "provider_noise_sd", "provider_noise_persistence",
                      "provider_deviation_last",
                      "median_mix_offset", "decline_persistence"]
# The provider panel in the likelihood (docs/priors.md, "Fourth attempt"; the shipped model since
# session 7, "Adopted: the fifth attempt"): ``build_model(obs, provider_panel=False)`` gives the model
# shipped before (the medians alone, Student-t); the panel's code and priors are in price_panel.py.
PROVIDER_PANEL = True
# The product-mix noise of the on-demand medians on the panel path (docs/priors.md, "Fifth attempt"):
# "student_t" (the fourth attempt: the medians' dof noise_dof[median]) or "normal" (same scale
# sqrt(floor^2 + s_comp^2 n^-kappa); exp of it has finite moments, so the price ratio's CRPS is finite).
# The default applies to the panel path; without the panel the medians are always Student-t.
MIX_NOISES = ("student_t", "normal")
MIX_NOISE = "normal"
# What a fitted file without a "mix_noise" attribute was made with (files written before session 7
# recorded the attribute only for "normal"): read by price_panel.mix_noise_of.
LEGACY_MIX_NOISE = "student_t"
# The decline (docs/priors.md, "Sixth attempt"): "constant" (r[g] = mu_r + tau_r zr[g], the shipped
# model) or "ar1" (a monthly decline mu_r + u[g,t], u a stationary AR(1) with sd tau_r and persistence
# decline_persistence, integrated out; the forecast forgets the recent decline geometrically towards
# mu_r). Code and priors in price_drift.py; off by default.
DRIFT = "constant"
# "centred": the monthly increments are the parameters (the data pin most months, where a centred
# walk mixes well and has no divergences); "noncentred": standardised shocks (kept for comparison:
# measured slower here, with divergences, because the cumulated shocks are strongly correlated).
RW_PARAM = "centred"
# A volume launch of the key undercuts the previous architecture's generations (H200 is a Hopper
# refresh that undercut the H100; Blackwell undercut both Hoppers).
UNDERCUTS = {"H100": ["A100"], "H200": ["H100"], "B200": ["H100", "H200"]}

GATE_VARS = [
    "decline_rate_mean", "decline_rate_sd", "decline_rate_per_month",
    "volatility_log_mean", "volatility_log_sd", "volatility_per_month",
    "undercut_frac", "basis_offset", "class_offset", "basis_gen_sd", "provider_sd", "obs_sd", "composition_sd", "composition_exponent", "noise_dof", "quote_offset",
    "log_level_end",
]
ENGINE_VARS = {
    "decline_rate_per_month": "posterior",
    "volatility_per_month": "posterior",
    "undercut_frac": "posterior",
}
# The fifth attempt's settings (its backtest fits passed the gate with them at every origin, 2024-06
# ... 2024-12): 2000 tuning steps and target_accept 0.98 (the panel's AR(1) persistence and offsets
# need a small step), 4 x 2000 draws. Measured on all data, 2 cores (session 7, the shipped seed
# 20261126): 0 divergences, max R-hat 1.007, min bulk ESS 950, 130.5 s with compilation. (The model shipped before, without the
# panel, used 4 x 2000 draws, 1000 tuning steps and target_accept 0.9: 91 s.)
SAMPLE = dict(draws=2000, tune=2000, chains=4, target_accept=0.98)


def _month_index(ts: pd.Series | pd.Timestamp):
    return ts.year * 12 + ts.month - 1


def _label(mi: int) -> str:
    return f"{mi // 12:04d}-{mi % 12 + 1:02d}"


@dataclass
class PriceObs:
    """The model's data: monthly grid, point and interval observations, launch ramps."""

    months: list[str]
    gen_has_data: np.ndarray  # (G,) bool
    ramp: np.ndarray  # (G, T + horizon_pad) successor-launch ramp S[g, t], t from the grid start
    entities: list[str]
    point: pd.DataFrame  # columns g, t, b, c, k (entity idx or -1), kind, y (log price)
    interval: pd.DataFrame  # columns g, t, b, c, k, lo, hi (log; -inf / inf when open)
    market: pd.DataFrame  # the on-demand market median series used for scoring: generation, month, price
    as_of: str | None
    launches: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the provider panel (``provider_restated``, used only by build_model(provider_panel=True)): one
    # row per provider x generation x month on the grid, columns g, t, pair (index into panel_pairs),
    # y (log restated price, $/GPU-hour); panel_pairs: "GEN/provider" labels
    panel: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["g", "t", "pair", "y"]))
    panel_pairs: list[str] = field(default_factory=list)

    @property
    def T(self) -> int:
        return len(self.months)

    def segments(self) -> dict[int, tuple[int, int]]:
        """generation index -> (first, last) month index with an observation of that generation."""
        ts = pd.concat([self.point[["g", "t"]], self.interval[["g", "t"]]])
        return {int(g): (int(v.t.min()), int(v.t.max())) for g, v in ts.groupby("g")}


PAD = 60  # months of launch ramp kept beyond the grid end, for forecasts


def build_ramp(launches: pd.DataFrame, start_mi: int, n: int) -> np.ndarray:
    """S[g, t]: successor launches phased in by month t (t = 0 is ``start_mi``)."""
    S = np.zeros((len(GENERATIONS), n))
    t_abs = start_mi + np.arange(n)
    for _, row in launches.iterrows():
        new = row["generation"]
        if new not in UNDERCUTS:
            continue
        y, m = map(int, str(row["volume_month"]).split("-"))
        first = y * 12 + m - 1 + 1  # the cut starts the month after the ship month
        phase = np.clip((t_abs - first + 1) / RAMP_MONTHS, 0.0, 1.0)
        for old in UNDERCUTS[new]:
            S[GENERATIONS.index(old)] += phase
    return S


def _fit_rows(prices: pd.DataFrame) -> pd.DataFrame:
    """The rows the model fits: dated medians and quotes of GENERATIONS (the panel is read separately)."""
    return prices[prices["dated"] & prices["generation"].isin(GENERATIONS) & prices["series"].isin(["quote", "market_median"])]


class NoObservationsError(ValueError):
    """No dated rental-price observation at or before the as-of month: nothing to fit."""


def prepare(prices: pd.DataFrame, launches: pd.DataFrame, as_of: str | None) -> PriceObs:
    """Tidy rows (as read by ``read_table``) -> PriceObs. Used by load_observations and the tests.
    Raises NoObservationsError when no dated median or quote of GENERATIONS is left."""
    df = _fit_rows(prices).copy()
    if df.empty:
        raise NoObservationsError(f"price_dynamics: no dated rental-price observation (median or quote) at or before "
                                  f"{as_of or 'the end of the data'}; nothing to fit")
    df["mi"] = _month_index(df["when"].dt)
    if as_of is not None:
        y, m = map(int, as_of.split("-"))
        end_mi = y * 12 + m - 1
    else:
        end_mi = int(df["mi"].max())
    start_mi = int(df["mi"].min())
    months = [_label(i) for i in range(start_mi, end_mi + 1)]
    df["t"] = df["mi"] - start_mi
    df["g"] = df["generation"].map(GENERATIONS.index)
    df["b"] = df["basis"].map(BASES.index)
    df["c"] = df["provider_class"].map(CLASSES.index)
    lo = pd.to_numeric(df["value_low"], errors="coerce")
    hi = pd.to_numeric(df["value_high"], errors="coerce")
    df["lo"], df["hi"] = lo, hi
    is_point = lo.notna() & hi.notna() & (lo == hi)

    quotes = df[df["series"] == "quote"]
    entities = sorted(quotes["entity"].unique())
    rows = []
    med = df[(df["series"] == "market_median") & is_point]
    # distinct providers behind a median (n_providers, else n_quotes): its composition noise shrinks
    # with it. Providers, not quotes: one provider's several SKUs move together, and the median of
    # 18 quotes from 2 providers (A100, 2023-01) is still two providers' lists
    n_prov = pd.to_numeric(df.get("n_providers", pd.Series(np.nan, index=df.index)), errors="coerce")
    n_prov = n_prov.fillna(pd.to_numeric(df.get("n_quotes", pd.Series(np.nan, index=df.index)), errors="coerce"))
    for i, r in med.iterrows():
        n = n_prov.get(i, np.nan)
        rows.append(dict(g=r.g, t=r.t, b=r.b, c=r.c, k=-1, kind=KINDS.index(f"median_{r.basis}"), y=np.log(r.lo),
                         inv_n=1.0 / n if n > 0 else 0.0))
    qp = quotes[is_point[quotes.index]]
    for (g, t, b, c, ent), cell in qp.groupby(["g", "t", "b", "c", "entity"]):
        vals = cell.drop_duplicates(["product", "lo"])["lo"].to_numpy(float)
        rows.append(dict(g=g, t=t, b=b, c=c, k=entities.index(ent), kind=KINDS.index("quote"), y=float(np.mean(np.log(vals))), inv_n=0.0))
    point = pd.DataFrame(rows, columns=["g", "t", "b", "c", "k", "kind", "y", "inv_n"]).astype({"g": int, "t": int, "b": int, "c": int, "k": int, "kind": int})
    qi = quotes[~is_point[quotes.index]]
    with np.errstate(divide="ignore"):  # an open lower bound is log(0) = -inf
        lo_log = np.log(qi["lo"].fillna(0.0).to_numpy(float).clip(min=0))
    interval = pd.DataFrame(dict(
        g=qi["g"].astype(int), t=qi["t"].astype(int), b=qi["b"].astype(int), c=qi["c"].astype(int),
        k=qi["entity"].map(entities.index).astype(int),
        lo=lo_log, hi=np.log(qi["hi"].fillna(np.inf).to_numpy(float)),
    )).reset_index(drop=True)
    market = med[med["basis"] == "on_demand"][["generation", "mi", "lo"]].rename(columns={"lo": "price"})
    market["n_providers"] = n_prov.reindex(market.index)
    market["month"] = market["mi"].map(_label)
    market = market.drop(columns="mi").sort_values(["generation", "month"]).reset_index(drop=True)
    has = np.array([(point["g"] == g).any() or (interval["g"] == g).any() for g in range(len(GENERATIONS))])
    ramp = build_ramp(launches, start_mi, len(months) + PAD)
    panel, pairs = ppn.provider_panel_rows(prices, start_mi, end_mi)
    point["panel_med"] = ppn.panel_median_of_cells(panel, point)
    return PriceObs(months=months, gen_has_data=has, ramp=ramp, entities=entities, point=point, interval=interval,
                    market=market, as_of=as_of, launches=launches, panel=panel, panel_pairs=pairs)


def load_observations(as_of: str | None = None) -> PriceObs:
    """The observations dated at or before ``as_of`` (YYYY-MM; None: all). NoObservationsError, naming
    the earliest month that has data, when the cutoff leaves none."""
    prices = read_table("rental_prices", as_of=as_of)
    launches = read_table("launches", as_of=as_of)
    launches = launches[launches["dated"]]
    try:
        return prepare(prices, launches, as_of)
    except NoObservationsError:
        first = _fit_rows(read_table("rental_prices"))["when"].min().strftime("%Y-%m")
        raise NoObservationsError(f"price_dynamics: no dated rental-price observation at or before {as_of} in "
                                  f"priors/observations/rental_prices.csv; --as-of must be {first} or later") from None


def launch_age_years(obs: PriceObs) -> np.ndarray:
    """(G, T) age since each generation's volume launch, in years, centred at 2 years (AGE_REF_YEARS);
    from launches.csv (the launch rows known at the cutoff; a generation without one gets 0)."""
    start_mi = _month_index(pd.Timestamp(obs.months[0] + "-01"))
    t_abs = start_mi + np.arange(obs.T)
    out = np.zeros((len(GENERATIONS), obs.T))
    for g, gen in enumerate(GENERATIONS):
        rows = obs.launches[obs.launches["generation"] == gen] if len(obs.launches) else []
        if len(rows):
            y, m = map(int, str(rows.iloc[0]["volume_month"]).split("-"))
            out[g] = (t_abs - (y * 12 + m - 1)) / 12.0 - AGE_REF_YEARS
    return out


AGE_REF_YEARS = 2.0
AGE_SLOPE_PRIOR_SD = 0.01  # per month per year of age: +-0.01 lets the decline change by 1 %/month a year


def median_tail_order(n_providers) -> np.ndarray:
    """k(n) = ceil(n / 2): how many of a median's n providers must be extreme for the median to be.

    Derivation (iid provider prices X_1..X_n with a regularly varying tail, P(X > x) ~ c x^-nu_1,
    as a Student-t with nu_1 dof has): for odd n the median is the order statistic X_((n+1)/2), which
    exceeds a large x only if at least k = (n+1)/2 of the n prices do, so
    P(median > x) ~ C(n, k) P(X > x)^k ~ c' x^-(k nu_1). For even n the median is
    (X_(n/2) + X_(n/2+1)) / 2; it exceeds a large x once the top n/2 prices do (X_(n/2+1) > x with
    the one below it bounded), so k = n/2 (n = 2: the mean of two, whose tail is one draw's). Both
    cases: k = ceil(n / 2) (1, 1, 2, 2, 3, 3, ... for n = 1, 2, 3, 4, 5, 6), and the median's tail
    index is nu_1 k(n); the same holds for the lower tail. (The brief's ceil((n+1)/2) agrees for odd
    n and overcounts by one for even n.) Unknown or non-positive counts -> 1 (the heaviest tail).
    """
    n = np.asarray(n_providers, float)
    ok = np.isfinite(n) & (n >= 1)
    return np.where(ok, np.ceil(np.where(ok, n, 1.0) / 2.0), 1.0)


def median_noise_dof(nu_1, n_providers) -> np.ndarray:
    """nu_eff(n) = nu_1 * ceil(n / 2): the t dof of a median of n providers whose single-provider
    prices have nu_1 dof (``median_tail_order``). Broadcasts nu_1 against n_providers."""
    return np.asarray(nu_1, float) * median_tail_order(n_providers)


def _median_tail(idata) -> str:
    return str(getattr(idata.posterior, "attrs", {}).get("median_tail", "constant"))


def gate_vars(idata) -> list[str]:
    """GATE_VARS plus the optional experiment parameters present in this posterior."""
    return list(GATE_VARS) + [v for v in OPTIONAL_GATE_VARS if v in idata.posterior]


def build_model(obs: PriceObs, age_slope: bool = False, median_tail: str | None = None, vol_trend: bool = False,
                provider_panel: bool | None = None, mix_noise: str | None = None, drift: str | None = None):
    """The PyMC model. ``age_slope=True`` adds a decline that changes with age since launch,
    r[g,t] = r[g] + b_age (age[g,t] - 2 years), b_age ~ N(0, AGE_SLOPE_PRIOR_SD): an experiment
    (priors/experiments/age_since_launch.py), not the shipped model (docs/priors.md says why).
    ``median_tail`` (default MEDIAN_TAIL): "constant" gives every median's noise the dof
    noise_dof[median]; "order_statistic" reads noise_dof[median] as one provider's dof nu_1 and gives
    a median of n providers nu_1 * ceil(n / 2) (``median_noise_dof``; unknown n -> nu_1).
    ``vol_trend=True``: the monthly shock sd sigma[g] exp(eta (t - (T-1)) / 12) with a shared trend
    eta = volatility_trend_per_year ~ N(0, VOL_TREND_PRIOR_SD); sigma[g] is the cutoff's volatility.
    ``provider_panel`` (default PROVIDER_PANEL = True since session 7; docs/priors.md, "Fourth attempt"
    and "Adopted: the fifth attempt"; False gives the model shipped before): the provider panel
    ``obs.panel`` enters the likelihood, y[k,g,t] = m[g,t] + a[k,g] + w[k,g,t], and an on-demand median
    whose month has panel rows is scored only on its product-mix part, log M - median_k y[k,g,t]
    (``price_panel.panel_terms``; the median of the same providers is not counted a second time for m).
    ``mix_noise`` (panel only; default MIX_NOISE = "normal" with the panel, "student_t" without it;
    docs/priors.md, "Fifth attempt"):
    "normal" gives every on-demand median a Normal noise with the same scale (observed as ``y_mix``,
    the other point observations as ``y_t``; reserved/spot medians and quotes stay Student-t).
    ``drift`` (default DRIFT = "constant"; docs/priors.md, "Sixth attempt"): "ar1" replaces the constant
    decline r[g] by mu_r + u[g,t], u a stationary AR(1) (sd tau_r, persistence decline_persistence ~
    Beta(price_drift.PERSISTENCE_PRIOR)) integrated out of the centred walk's increments
    (``price_drift.increments_loglik``); decline_rate_per_month is then mu_r for every generation."""
    import pymc as pm
    import pytensor.tensor as pt

    median_tail = MEDIAN_TAIL if median_tail is None else median_tail
    if median_tail not in MEDIAN_TAILS:
        raise ValueError(f"median_tail must be one of {MEDIAN_TAILS}, got {median_tail!r}")
    provider_panel = PROVIDER_PANEL if provider_panel is None else bool(provider_panel)
    if provider_panel and median_tail != "constant":
        raise ValueError("provider_panel=True is specified with the constant median tail only")
    if mix_noise is None:
        mix_noise = MIX_NOISE if provider_panel else "student_t"
    if mix_noise not in MIX_NOISES:
        raise ValueError(f"mix_noise must be one of {MIX_NOISES}, got {mix_noise!r}")
    if mix_noise != "student_t" and not provider_panel:
        raise ValueError("mix_noise is an option of the provider-panel model (provider_panel=True) only")
    # No provider_restated row at or before the cutoff (the panel starts 2023-01; quotes 2022-08): the
    # panel has nothing to identify and its forecast nothing to draw from, so the model is the one
    # without the panel (medians and quotes, Student-t noise). The fit records it
    # (posterior attribute provider_panel_fallback = 1; `rackrisk fit` says so).
    panel_fallback = bool(provider_panel and len(obs.panel) == 0)
    if panel_fallback:
        provider_panel, mix_noise = False, "student_t"
    drift_mode = DRIFT if drift is None else drift
    if drift_mode not in pdr.DRIFTS:
        raise ValueError(f"drift must be one of {pdr.DRIFTS}, got {drift_mode!r}")
    if drift_mode == "ar1" and (age_slope or vol_trend or RW_PARAM != "centred"):
        raise ValueError("drift='ar1' is specified with the centred walk, without age_slope and vol_trend")

    G, T = len(GENERATIONS), obs.T
    coords = {
        "generation": GENERATIONS, "month": obs.months,
        "basis": BASES, "provider_class": CLASSES, "priced_basis": ["reserved", "spot"],
        "other_class": ["hyperscaler", "marketplace"], "provider": obs.entities or ["none"], "kind": KINDS, "noise_group": NU_GROUPS,
        "obs": np.arange(len(obs.point)), "interval_obs": np.arange(len(obs.interval)),
    }
    P, I = obs.point, obs.interval
    S = obs.ramp[:, :T]
    with pm.Model(coords=coords) as model:
        mu_r = pm.Normal("decline_rate_mean", 0.01, 0.02)
        tau_r = pm.HalfNormal("decline_rate_sd", 0.01)
        if drift_mode == "ar1":
            phi_d = pm.Beta(pdr.PERSISTENCE_VAR, *pdr.PERSISTENCE_PRIOR)
            r = pm.Deterministic("decline_rate_per_month", mu_r * pt.ones(G), dims="generation")
        else:
            zr = pm.Normal("decline_rate_z", 0.0, 1.0, dims="generation")
            r = pm.Deterministic("decline_rate_per_month", mu_r + tau_r * zr, dims="generation")

        lmu_s = pm.Normal("volatility_log_mean", np.log(0.06), 0.5)
        tau_s = pm.HalfNormal("volatility_log_sd", 0.3)
        zs = pm.Normal("volatility_z", 0.0, 1.0, dims="generation")
        sigma = pm.Deterministic("volatility_per_month", pt.exp(lmu_s + tau_s * zs), dims="generation")

        f = pm.Beta("undercut_frac", 2.0, 8.0)
        # Random walk on each generation's own data span [t0, t1] (months outside it carry no shock;
        # the level at the cutoff carries the walk on from t1). Vectorised over the (G, T) grid.
        seg = ppn.panel_segments(obs, provider_panel)
        t0 = np.array([seg.get(g, (T - 1, T - 1))[0] for g in range(G)])
        t1 = np.array([seg.get(g, (T - 1, T - 1))[1] for g in range(G)])
        tg = np.arange(T)[None, :]
        active = ((tg > t0[:, None]) & (tg <= t1[:, None])).astype(float)  # month t has an increment from t-1
        dS = np.diff(S, axis=1, prepend=S[:, :1]) * active
        logf = pt.log1p(-f)
        if age_slope:
            b_age = pm.Normal("decline_age_slope", 0.0, AGE_SLOPE_PRIOR_SD)
            drift = -(r[:, None] + b_age * launch_age_years(obs)) * active + logf * dS
        else:
            drift = -r[:, None] * active + logf * dS
        start = pm.Normal("log_level_start", np.log(3.0), 1.0, dims="generation")
        if vol_trend:
            eta = pm.Normal("volatility_trend_per_year", 0.0, VOL_TREND_PRIOR_SD)
            sig_t = sigma[:, None] * pt.exp(eta * (np.arange(T)[None, :] - (T - 1)) / 12.0)  # (G, T)
        else:
            sig_t = sigma[:, None]
        if RW_PARAM == "centred":
            inc = pm.Flat("rw_increment", dims=("generation", "month"), initval=np.zeros((G, T)))
            # increments ~ N(drift, sigma) where active; N(0, 1) placeholders elsewhere (unused)
            sd_inc = sig_t * active + (1.0 - active)
            if drift_mode == "ar1":  # the decline's AR(1) deviation integrated out (price_drift.py)
                pm.Potential("random_walk", pdr.increments_loglik(inc, drift, sig_t, active, tau_r, phi_d))
            else:
                pm.Potential("random_walk", pm.logp(pm.Normal.dist(drift, sd_inc), inc).sum())
            inc_used = inc * active
        else:
            z = pm.Normal("rw_z", 0.0, 1.0, dims=("generation", "month"))
            inc_used = drift + sig_t * z * active
        cum = pt.cumsum(inc_used, axis=1)
        base = cum - cum[np.arange(G), t0][:, None]  # 0 at t0
        m = start[:, None] + base
        # level at the cutoff: the walk carried on from t1 (sqrt(gap) shock); no data -> start ~ N(log 3, 1)
        gap = (T - 1 - t1).astype(float)
        zgap = pm.Normal("level_gap_z", 0.0, 1.0, dims="generation")
        a_end = (m[np.arange(G), t1] - r * gap + logf * (S[:, T - 1] - S[np.arange(G), t1])
                 + sigma * np.sqrt(gap) * zgap)
        a = pm.Deterministic("log_level_end", a_end, dims="generation")
        m = pt.set_subtensor(m[:, T - 1], a)
        pm.Deterministic("log_market_price", m, dims=("generation", "month"))

        beta_free = pm.Normal("basis_offset", np.array([np.log(0.65), np.log(0.5)]), np.array([0.3, 0.4]), dims="priced_basis")
        gamma_free = pm.Normal("class_offset", np.array([np.log(1.5), 0.0]), np.array([0.5, 0.5]), dims="other_class")
        beta = pt.concatenate([pt.zeros(1), beta_free, pt.zeros(1)])  # on_demand, reserved, spot, marketplace
        gamma = pt.concatenate([pt.zeros(1), gamma_free])  # neocloud, hyperscaler, marketplace
        s_d = pm.HalfNormal("basis_gen_sd", 0.15)
        zd = pm.Normal("basis_gen_z", 0.0, 1.0, dims=("generation", "priced_basis"))
        delta = pt.concatenate([pt.zeros((G, 1)), s_d * zd, pt.zeros((G, 1))], axis=1)
        s_e = pm.HalfNormal("provider_sd", 0.5)
        ze = pm.Normal("provider_z", 0.0, 1.0, dims="provider")
        e = pt.concatenate([s_e * ze, pt.zeros(1)])  # index -1 -> the medians' reference 0
        # quotes of a generation sit at their own mean level relative to its market median (the
        # scraped providers and products are not the median's mix)
        q_off = pm.Normal("quote_offset", 0.0, 0.3, dims="generation")
        # zero-avoiding Gamma(2, .) priors on the noise scales: a noise sd pushed to 0 makes a funnel
        # with the random walk. For the on-demand median, obs_sd is the floor its noise tends to as
        # the number of providers grows (the composition term carries the few-provider noise):
        # Gamma(2, 40), mean 0.05. The former Gamma(2, 20) (mean 0.1) put the floor alone at the size
        # of the whole month-on-month variation of the medians of 4+ providers (sd of log changes
        # 0.03-0.06), and with ~10 such medians before 2024 the data could not pull it down: every
        # forecast then carried ~0.1 of noise the medians do not show (docs/priors.md, "Backtest").
        sd = pm.Gamma("obs_sd", alpha=2.0, beta=np.array([OD_FLOOR_PRIOR_RATE, 10.0, 10.0, 10.0]), dims="kind")
        s_comp = pm.Gamma("composition_sd", alpha=2.0, beta=5.0)
        # variance ~ n^-kappa; kappa = 1 is sampling-like 1/n, and a median of 1-2 providers' lists is
        # worse than a sample (one provider's list is not the market): the prior allows steep decay
        nu = pm.Gamma("noise_dof", alpha=NU_PRIOR[0], beta=NU_PRIOR[1], dims="noise_group")
        k_comp = pm.LogNormal("composition_exponent", mu=np.log(2.0), sigma=0.75)
        pm.Deterministic("log_level_offset", beta[None, :, None] + gamma[None, None, :] + delta[:, :, None],
                         dims=("generation", "basis", "provider_class"))

        if provider_panel:
            mix_mu = ppn.panel_terms(obs, m)  # the panel likelihood; the medians' product-mix mean by generation
        if len(P):
            is_q = (P.k.values >= 0).astype(float)
            mu = (m[P.g.values, P.t.values] + beta[P.b.values] + gamma[P.c.values] + delta[P.g.values, P.b.values]
                  + e[P.k.values] + q_off[P.g.values] * is_q)
            if provider_panel:
                # an on-demand median is log M = median_k y[k,g,t] + mix: where the panel has its month, the
                # panel median (data) replaces m + offsets, so the median informs the mix terms only;
                # without panel rows it stays on m (its providers are not in the likelihood otherwise)
                pmed = P["panel_med"].to_numpy(float) if "panel_med" in P else np.full(len(P), np.nan)
                is_od = (P.kind.values == KINDS.index("median_on_demand")).astype(float)
                mu = pt.where(np.isfinite(pmed), np.nan_to_num(pmed), mu) + mix_mu[P.g.values] * is_od
            inv_n = P.inv_n.values
            comp_i = pt.where(inv_n > 0, s_comp**2 * pt.power(np.where(inv_n > 0, inv_n, 1.0), k_comp), 0.0)
            sd_i = pt.sqrt(sd[P.kind.values] ** 2 + comp_i)
            nu_i = nu[(P.kind.values == KINDS.index("quote")).astype(int)]
            if median_tail == "order_statistic":
                is_med = P.kind.values != KINDS.index("quote")
                n_i = np.where(inv_n > 0, 1.0 / np.where(inv_n > 0, inv_n, 1.0), np.nan)
                nu_i = nu_i * np.where(is_med, median_tail_order(n_i), 1.0)
            if mix_noise == "normal":
                # the on-demand medians' product-mix part: Normal; everything else keeps its Student-t
                od = P.kind.values == KINDS.index("median_on_demand")
                i_mix, i_t = np.flatnonzero(od), np.flatnonzero(~od)
                model.add_coords({"obs_mix": i_mix, "obs_t": i_t})
                pm.Normal("y_mix", mu=mu[i_mix], sigma=sd_i[i_mix], observed=P.y.values[i_mix], dims="obs_mix")
                pm.StudentT("y_t", nu=nu_i[i_t], mu=mu[i_t], sigma=sd_i[i_t], observed=P.y.values[i_t], dims="obs_t")
            else:
                pm.StudentT("y", nu=nu_i, mu=mu, sigma=sd_i, observed=P.y.values, dims="obs")
        if len(I):
            mu_i = (m[I.g.values, I.t.values] + beta[I.b.values] + gamma[I.c.values] + delta[I.g.values, I.b.values]
                    + e[I.k.values] + q_off[I.g.values])
            s_q = sd[KINDS.index("quote")]
            lo, hi = I.lo.values, I.hi.values
            fin_lo, fin_hi = np.isfinite(lo), np.isfinite(hi)
            z_hi = (np.where(fin_hi, hi, 0.0) - mu_i) / s_q
            z_lo = (np.where(fin_lo, lo, 0.0) - mu_i) / s_q
            # log(Phi(z_hi) - Phi(z_lo)) for a range; log Phi(z_hi) below a bound; log Phi(-z_lo) above one
            lp_both = pm.math.logdiffexp(normal_logcdf(z_hi), normal_logcdf(z_lo))
            lp = pt.where(fin_hi & fin_lo, lp_both, pt.where(fin_hi, normal_logcdf(z_hi), normal_logcdf(-z_lo)))
            pm.Potential("interval_loglik", lp.sum())
    model.vol_trend = bool(vol_trend)
    model.median_tail = median_tail  # read by priors/fit.py and priors/backtest.py to label the file
    model.provider_panel = provider_panel
    model.provider_panel_fallback = panel_fallback
    model.mix_noise = mix_noise
    model.drift = drift_mode
    return model


def _post(idata, name):
    return idata.posterior[name].stack(sample=("chain", "draw")).transpose("sample", ...).values


def forecast_log_ratio(idata, obs: PriceObs, horizon: int, seed: int = 0, max_samples: int | None = None,
                       return_level: bool = False, n_providers=None, noise_persistence=None):
    """Posterior predictive log(price_{T-1+h} / level_{T-1}) of the on-demand market median, h = 1..H.

    Per posterior sample: the latent path continues from its cutoff level with the sample's drift,
    volatility and the undercut ramps of launches known at the cutoff; the median's observation noise
    is added in the target month (a Student-t with the file's median dof, or nu_eff(n) for a fit with
    ``median_tail="order_statistic"``), with the noise of a median of ``n_providers`` providers: (G,) or
    (G, H); default the count behind each generation's last median at the cutoff
    (``cutoff_providers``). The same seed gives the same draws whatever the counts (only the noise
    scale changes), so a forecast and its rescoring with other counts share their paths. Returns
    (samples, generation, horizon); with ``return_level`` also the matching samples of the log level
    at the cutoff, (samples, generation).

    ``noise_persistence`` (optional; rho at lags 1, 2, ... months, e.g. ``provider_spread.
    composition_persistence(...).rho``): the two-step persistent-noise predictive. The target month's
    median noise is drawn jointly with the noise of each generation's last on-demand median at or
    before the cutoff, draw by draw: e_c = log(that median) - latent log price of its month (the
    posterior path ``log_market_price``, so the fit must keep it), and e_t | e_c by the Gaussian
    copula of ``persistent_median_noise`` at lag = months from that median to the target month
    (rho = 0 beyond the array, and for a generation without a median). The noise is then drawn by
    inverse CDF from standard normals (same seed, same draws whatever the counts). None: the
    independent noise of the fit (the draws of the shipped forecast, unchanged).
    """
    rng = np.random.default_rng(seed)
    r = _post(idata, "decline_rate_per_month")
    sig = _post(idata, "volatility_per_month")
    f = _post(idata, "undercut_frac")
    floor = _post(idata, "obs_sd")[:, KINDS.index("median_on_demand")]
    comp = _post(idata, "composition_sd")
    kexp = _post(idata, "composition_exponent")
    level = _post(idata, "log_level_end")
    nu_med = _post(idata, "noise_dof")[:, NU_GROUPS.index("median")]
    n = r.shape[0]
    if max_samples is not None and n > max_samples:
        idx = np.sort(rng.choice(n, max_samples, replace=False))
        r, sig, f, floor, comp, kexp, level = r[idx], sig[idx], f[idx], floor[idx], comp[idx], kexp[idx], level[idx]
        nu_med = nu_med[idx]
        n = max_samples
    else:
        idx = slice(None)
    T, G = obs.T, len(GENERATIONS)
    h = np.arange(1, horizon + 1)
    n_prov = np.asarray(cutoff_providers(obs) if n_providers is None else n_providers, float)
    n_prov = np.broadcast_to(n_prov.reshape(G, -1), (G, horizon))  # (G, H)
    sd_od = np.sqrt(floor[:, None, None] ** 2
                    + comp[:, None, None] ** 2 * n_prov[None] ** (-kexp[:, None, None]))  # (samples, G, H)
    dS = obs.ramp[:, T - 1 + h] - obs.ramp[:, [T - 1]]  # (G, H)
    shocks = np.cumsum(rng.standard_normal((n, G, horizon)), axis=2) * sig[:, :, None]
    lr = -r[:, :, None] * h[None, None, :] + np.log1p(-f)[:, None, None] * dS[None] + shocks
    if pdr.drift_of(idata) == "ar1":  # docs/priors.md, "Sixth attempt": r = mu_r; the deviation forgets
        u = pdr.forecast_deviation(idata, obs, idx, horizon, seed, ppn.is_provider_panel(idata))
        lr = lr - np.cumsum(u, axis=2)
    if ppn.is_provider_panel(idata):
        if noise_persistence is not None:
            raise ValueError("noise_persistence is not defined for a provider-panel fit")
        comp_t, mix_t = ppn.panel_median_noise(idata, obs, idx, sd_od, n_prov, rng)  # composition, product mix
        lr = lr + comp_t + mix_t
        return (lr, level) if return_level else lr
    if noise_persistence is not None:
        m_path = _post(idata, "log_market_price")[idx] if "log_market_price" in idata.posterior else None
        if m_path is None:
            raise ValueError("noise_persistence needs the latent path log_market_price in the posterior "
                             "(the shipped files drop it; use a fresh fit, as the backtest does)")
        order = _median_tail(idata) == "order_statistic"
        nu_t = median_noise_dof(nu_med[:, None, None], n_prov[None]) if order else np.broadcast_to(nu_med[:, None, None], sd_od.shape)
        e_c, s_c, nu_c, rho = _cutoff_noise(obs, m_path, floor, comp, kexp, nu_med, order, horizon, noise_persistence)
        xi = rng.standard_normal((n, G, horizon))
        lr = lr + persistent_median_noise(e_c[:, :, None], s_c[:, :, None], nu_c[:, :, None], sd_od, nu_t, rho[None], xi)
        return (lr, level) if return_level else lr
    if _median_tail(idata) == "order_statistic":
        # nu_eff(n) of the target median's provider count; drawn by inverse CDF from uniforms so that
        # the same seed gives the same draws whatever the counts (only the noise's shape and scale move)
        from scipy.stats import t as student_t

        u = rng.uniform(size=(n, G, horizon))
        lr = lr + sd_od * student_t.ppf(u, median_noise_dof(nu_med[:, None, None], n_prov[None]))
    else:
        lr = lr + sd_od * rng.standard_t(nu_med[:, None, None], (n, G, horizon))
    return (lr, level) if return_level else lr


Z_CLIP = 8.0  # normal scores beyond +-8 (tail probability 6e-16) are clipped: no infinite draws


def _z_from_t(x, nu):
    """Normal score of a Student-t variate: Phi^-1(F_nu(x)), computed on the lower tail for accuracy."""
    from scipy.special import ndtri, stdtr

    x = np.asarray(x, float)
    z = -ndtri(stdtr(nu, -np.abs(x)))
    return np.clip(np.sign(x) * z, -Z_CLIP, Z_CLIP)


def _t_from_z(z, nu):
    """F_nu^-1(Phi(z)): the Student-t (nu dof, nu = inf: normal) variate with normal score z."""
    from scipy.special import ndtr, stdtrit

    z = np.asarray(z, float)
    return np.sign(z) * -stdtrit(nu, ndtr(-np.abs(z)))


def persistent_median_noise(e_c, s_c, nu_c, s_t, nu_t, rho, xi):
    """The target month's median noise drawn jointly with the cutoff median's (Gaussian copula).

    e_c: the cutoff median's noise (log; per draw), s_c / nu_c its t scale and dof; s_t / nu_t the
    target median's; rho the correlation of the two noises' normal scores (lag-h persistence); xi
    standard normals (the new part). All broadcast together; returns e_t of the broadcast shape:
        z_c = Phi^-1(F_nu_c(e_c / s_c)),  z_t = rho z_c + sqrt(1 - rho^2) xi,  e_t = s_t F_nu_t^-1(Phi(z_t)).
    With nu = inf (normal noise) this is e_t | e_c ~ N(rho (s_t / s_c) e_c, s_t^2 (1 - rho^2)); if e_c is
    t(nu_c, s_c), e_t is t(nu_t, s_t), so the marginal noise of the fit is kept. rho = 0: independent."""
    rho = np.clip(np.asarray(rho, float), 0.0, 1.0)
    z_c = _z_from_t(np.asarray(e_c, float) / np.asarray(s_c, float), nu_c)
    z_t = rho * z_c + np.sqrt(1.0 - rho**2) * np.asarray(xi, float)
    return np.asarray(s_t, float) * _t_from_z(z_t, nu_t)


def _cutoff_noise(obs: PriceObs, m_path, floor, comp, kexp, nu_med, order: bool, horizon: int, persistence):
    """Per draw and generation, the noise of the last on-demand median at or before the cutoff and
    the persistence at each target lag. m_path (S, G, T) latent log prices; floor, comp, kexp, nu_med
    (S,) noise parameters. Returns e_c (S, G), s_c (S, G), nu_c (S, G), rho (G, H): rho[g, h-1] =
    persistence[lag - 1], lag = h + months from that median to the cutoff; 0 beyond the array and for
    a generation without a median (its e_c, s_c are set to 0, 1)."""
    S, G = m_path.shape[0], len(GENERATIONS)
    pers = np.asarray(persistence, float).ravel()
    e_c, s_c = np.zeros((S, G)), np.ones((S, G))
    nu_c = np.broadcast_to(nu_med[:, None], (S, G)).copy()
    rho = np.zeros((G, horizon))
    fallback = cutoff_providers(obs)
    for g, gen in enumerate(GENERATIONS):
        sub = obs.market[obs.market["generation"] == gen]
        if sub.empty:
            continue
        last = sub.iloc[-1]
        t_last = obs.months.index(last["month"])
        n_c = float(last["n_providers"]) if np.isfinite(last["n_providers"]) and last["n_providers"] > 0 else fallback[g]
        e_c[:, g] = np.log(float(last["price"])) - m_path[:, g, t_last]
        s_c[:, g] = np.sqrt(floor**2 + comp**2 * n_c ** (-kexp))
        if order:
            nu_c[:, g] = median_noise_dof(nu_med, n_c)
        lags = np.arange(1, horizon + 1) + (obs.T - 1 - t_last)
        if pers.size:
            rho[g] = np.where(lags <= pers.size, pers[np.minimum(lags, pers.size) - 1], 0.0)
    return e_c, s_c, nu_c, rho


def cutoff_providers(obs: PriceObs) -> np.ndarray:
    """Providers behind each generation's last on-demand median at the cutoff (the forecast's
    measurement precision); the median over all medians where a generation has none."""
    mk = obs.market.dropna(subset=["n_providers"])
    default = float(mk["n_providers"].median()) if len(mk) else 3.0
    out = np.full(len(GENERATIONS), default)
    for g, gen in enumerate(GENERATIONS):
        sub = mk[mk["generation"] == gen]
        if len(sub):
            out[g] = float(sub["n_providers"].iloc[-1])
    return out


def record_options(idata, model) -> None:
    """The model's options as posterior attributes, which forecast_log_ratio and the checks follow
    (``model`` None: the defaults of a file written before the options existed)."""
    attrs = idata.posterior.attrs
    attrs["median_tail"] = getattr(model, "median_tail", "constant")
    attrs["volatility_trend"] = int(getattr(model, "vol_trend", False))
    attrs["provider_panel"] = int(getattr(model, "provider_panel", False))
    attrs["mix_noise"] = getattr(model, "mix_noise", LEGACY_MIX_NOISE)
    attrs["provider_panel_fallback"] = int(getattr(model, "provider_panel_fallback", False))


def fit_notes(idata, as_of: str | None) -> tuple[str, ...]:
    """What `rackrisk fit` should tell the user about how this posterior was fitted."""
    if int(idata.posterior.attrs.get("provider_panel_fallback", 0)):
        return (f"{NAME}: no provider-panel rows as of {as_of}: fitted the price model without the panel "
                "(medians and quotes, Student-t noise; docs/priors.md)",)
    return ()


def finalize(idata, obs: PriceObs, model, seed: int) -> None:
    """Adds posterior_predictive: replicated point observations (PPC) and a 12-month price-ratio fan."""
    import xarray as xr

    rng = np.random.default_rng(seed + 1)
    record_options(idata, model)
    post = idata.posterior
    nc, nd = post.sizes["chain"], post.sizes["draw"]
    P = obs.point
    groups = {}
    if len(P):
        m = post["log_market_price"].values  # (c, d, G, T)
        off = post["log_level_offset"].values  # (c, d, G, B, C)
        inv_n = np.where(P.inv_n.values > 0, P.inv_n.values, 1.0)
        comp = (post["composition_sd"].values[:, :, None] ** 2
                * inv_n ** post["composition_exponent"].values[:, :, None]) * (P.inv_n.values > 0)
        sd = np.sqrt(post["obs_sd"].values[:, :, P.kind.values] ** 2 + comp)  # (c, d, obs)
        if len(obs.entities):
            ze = post["provider_z"].values * post["provider_sd"].values[..., None]
            e = np.concatenate([ze, np.zeros((nc, nd, 1))], axis=-1)
        else:
            e = np.zeros((nc, nd, 1))
        qo = post["quote_offset"].values[:, :, P.g.values] * (P.k.values >= 0)
        mu = m[:, :, P.g.values, P.t.values] + off[:, :, P.g.values, P.b.values, P.c.values] + e[:, :, P.k.values] + qo
        if ppn.is_provider_panel(idata):  # an on-demand median: panel median (where the month has one) + mix offset
            pmed = P["panel_med"].to_numpy(float)
            is_od = P.kind.values == KINDS.index("median_on_demand")
            mu = np.where(np.isfinite(pmed), np.nan_to_num(pmed), mu) + post["median_mix_offset"].values[:, :, P.g.values] * is_od
        nu = post["noise_dof"].values[:, :, (P.kind.values == KINDS.index("quote")).astype(int)]  # (c, d, obs)
        if _median_tail(idata) == "order_statistic":
            n_i = np.where(P.inv_n.values > 0, 1.0 / inv_n, np.nan)
            nu = nu * np.where(P.kind.values != KINDS.index("quote"), median_tail_order(n_i), 1.0)
        eps = rng.standard_t(nu, mu.shape)
        if ppn.mix_noise_of(idata) == "normal":  # the on-demand medians' noise is Normal
            eps = np.where(P.kind.values == KINDS.index("median_on_demand"), rng.standard_normal(mu.shape), eps)
        groups["y"] = (("chain", "draw", "obs"), mu + sd * eps)
    H = 12
    # stack(sample=(chain, draw)) is chain-major: reshape back accordingly
    lr = forecast_log_ratio(idata, obs, H, seed=seed + 2).reshape(nc, nd, len(GENERATIONS), H)
    groups["market_price_ratio"] = (("chain", "draw", "generation", "horizon"), np.exp(lr))
    ds = xr.Dataset(groups, coords={"chain": post["chain"].values, "draw": post["draw"].values,
                                    "obs": np.arange(len(P)), "generation": GENERATIONS, "horizon": np.arange(1, H + 1)})
    if "posterior_predictive" in idata.groups():
        idata.posterior_predictive = idata.posterior_predictive.assign(ds)
    else:
        idata.add_groups(posterior_predictive=ds)
    idata.posterior.attrs["price_dynamics_grid"] = f"{obs.months[0]}..{obs.months[-1]}"
    idata.posterior.attrs["undercut_ramp_months"] = RAMP_MONTHS


def plot(idata, obs: PriceObs, out_dir) -> list:
    """PPC (observed vs replicated points) and the 12-month forward fans, as PNG files in out_dir."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    P = obs.point
    if len(P) and "y" in idata.posterior_predictive:
        yrep = idata.posterior_predictive["y"].stack(s=("chain", "draw")).values  # (obs, S)
        lo, mid, hi = np.quantile(yrep, [0.05, 0.5, 0.95], axis=1)
        fig, axes = plt.subplots(len(GENERATIONS), 1, figsize=(10, 11), sharex=True)
        for g, ax in enumerate(axes):
            sel = (P.g == g).values
            for kind, col in zip(KINDS, ["k", "tab:blue", "tab:green", "tab:orange"]):
                s2 = sel & (P.kind == KINDS.index(kind)).values
                if not s2.any():
                    continue
                t = P.t.values[s2]
                ax.errorbar(t, np.exp(mid[s2]), yerr=[np.exp(mid[s2]) - np.exp(lo[s2]), np.exp(hi[s2]) - np.exp(mid[s2])],
                            fmt="none", ecolor=col, alpha=0.35)
                ax.plot(t, np.exp(P.y.values[s2]), "o", ms=3, color=col, label=kind)
            ax.set_yscale("log")
            ax.set_ylabel(f"{GENERATIONS[g]} $/GPU-h")
            if g == 0:
                ax.legend(fontsize=7, ncol=4)
        ticks = np.arange(0, obs.T, 6)
        axes[-1].set_xticks(ticks, [obs.months[i] for i in ticks], rotation=45)
        fig.suptitle("price_dynamics: observations (dots) and 90% posterior predictive intervals")
        fig.tight_layout()
        p = out_dir / "price_dynamics_ppc.png"
        fig.savefig(p, dpi=90)
        plt.close(fig)
        files.append(p)
    if "market_price_ratio" in idata.posterior_predictive:
        q = idata.posterior_predictive["market_price_ratio"].quantile([0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975], dim=("chain", "draw")).values
        fig, axes = plt.subplots(1, len(GENERATIONS), figsize=(13, 3.4), sharey=True)
        h = np.arange(1, q.shape[-1] + 1)
        for g, ax in enumerate(axes):
            ax.fill_between(h, q[0, g], q[6, g], alpha=0.2, color="tab:blue")
            ax.fill_between(h, q[1, g], q[5, g], alpha=0.3, color="tab:blue")
            ax.fill_between(h, q[2, g], q[4, g], alpha=0.4, color="tab:blue")
            ax.plot(h, q[3, g], color="tab:blue")
            ax.axhline(1.0, color="k", lw=0.5)
            ax.set_title(GENERATIONS[g])
            ax.set_xlabel(f"months after {obs.months[-1]}")
        axes[0].set_ylabel("on-demand price / level at end")
        fig.tight_layout()
        p = out_dir / "price_dynamics_fan.png"
        fig.savefig(p, dpi=90)
        plt.close(fig)
        files.append(p)
    return files
