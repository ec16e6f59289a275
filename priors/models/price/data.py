"""The price model's data: observation tables -> ``PriceObs`` on a monthly grid (no PyMC).

Tables (``priors/observations/rental_prices.csv`` and ``launches.csv``; rules in README_market.md):
dated rows of trust A-C for GENERATIONS of three series,

* ``market_median``: the GIX raw monthly medians of on-demand, reserved and spot list quotes (one value
  per generation, basis and month), with the number of providers behind each;
* ``quote``: single-provider (or single-article) quotes, aggregated to one point observation per
  generation, basis, provider class, provider and month (geometric mean of the distinct product/price
  pairs that month); a quote given as a bound or a range stays one interval observation;
* ``provider_restated``: the provider panel, one row per provider x generation x month.

Undated rows cannot be placed on the grid and are not used (they stay in the table); ``index_restated``
is not used. All prices are $/GPU-hour; the model works with their natural logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from priors.observations_io import read_table

GENERATIONS = ["A100", "H100", "H200", "B200"]
BASES = ["on_demand", "reserved", "spot", "marketplace"]
CLASSES = ["neocloud", "hyperscaler", "marketplace"]
KINDS = ["median_on_demand", "median_reserved", "median_spot", "quote"]
NU_GROUPS = ["median", "quote"]  # the Student-t dof groups: medians (any basis) and single-provider quotes
RAMP_MONTHS = 6  # a successor's undercut phases in linearly over this many months after its ship month
# A volume launch of the key undercuts the previous architecture's generations (H200 is a Hopper
# refresh that undercut the H100; Blackwell undercut both Hoppers).
UNDERCUTS = {"H100": ["A100"], "H200": ["H100"], "B200": ["H100", "H200"]}
PAD = 60  # months of launch ramp kept beyond the grid end, for forecasts
AGE_REF_YEARS = 2.0  # launch_age_years is centred here
PANEL_SERIES = "provider_restated"


def month_index(ts):
    """Months since year 0 (year * 12 + month - 1) of a Timestamp or a Series' ``.dt``."""
    return ts.year * 12 + ts.month - 1


def month_label(mi: int) -> str:
    """"YYYY-MM" of a month index (``month_index``)."""
    return f"{mi // 12:04d}-{mi % 12 + 1:02d}"


@dataclass
class PriceObs:
    """The model's data on a monthly grid t = 0..T-1 (``months``, "YYYY-MM") ending at the as-of month
    (or the last data month). g indexes GENERATIONS, b BASES, c CLASSES, k ``entities`` (the quoting
    providers; -1 for a median), kind KINDS; y and the bounds are natural logs of $/GPU-hour."""

    months: list[str]
    gen_has_data: np.ndarray  # (G,) bool
    ramp: np.ndarray  # (G, T + horizon_pad) successor-launch ramp S[g, t], t from the grid start
    entities: list[str]
    point: pd.DataFrame  # columns g, t, b, c, k (entity idx or -1), kind, y (log price), inv_n (1 / providers
    #                      behind a median, 0 for a quote or an unknown count), panel_med (panel median, log; nan)
    interval: pd.DataFrame  # columns g, t, b, c, k, lo, hi (log; -inf / inf when open)
    market: pd.DataFrame  # the on-demand market medians: generation, month, price ($/GPU-hour), n_providers
    as_of: str | None
    launches: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the provider panel (``provider_restated``, in the likelihood when config.provider_panel): one
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


def fit_rows(prices: pd.DataFrame) -> pd.DataFrame:
    """The rows the model fits: dated medians and quotes of GENERATIONS (the panel is read separately)."""
    return prices[prices["dated"] & prices["generation"].isin(GENERATIONS) & prices["series"].isin(["quote", "market_median"])]


class NoObservationsError(ValueError):
    """No dated rental-price observation at or before the as-of month: nothing to fit."""


def prepare(prices: pd.DataFrame, launches: pd.DataFrame, as_of: str | None) -> PriceObs:
    """Tidy rows (as read by ``read_table``) -> PriceObs. Used by load_observations and the tests.
    Raises NoObservationsError when no dated median or quote of GENERATIONS is left."""
    df = fit_rows(prices).copy()
    if df.empty:
        raise NoObservationsError(f"price_dynamics: no dated rental-price observation (median or quote) at or before "
                                  f"{as_of or 'the end of the data'}; nothing to fit")
    df["mi"] = month_index(df["when"].dt)
    if as_of is not None:
        y, m = map(int, as_of.split("-"))
        end_mi = y * 12 + m - 1
    else:
        end_mi = int(df["mi"].max())
    start_mi = int(df["mi"].min())
    months = [month_label(i) for i in range(start_mi, end_mi + 1)]
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
    market["month"] = market["mi"].map(month_label)
    market = market.drop(columns="mi").sort_values(["generation", "month"]).reset_index(drop=True)
    has = np.array([(point["g"] == g).any() or (interval["g"] == g).any() for g in range(len(GENERATIONS))])
    ramp = build_ramp(launches, start_mi, len(months) + PAD)
    panel, pairs = provider_panel_rows(prices, start_mi, end_mi)
    point["panel_med"] = panel_median_of_cells(panel, point)
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
        first = fit_rows(read_table("rental_prices"))["when"].min().strftime("%Y-%m")
        raise NoObservationsError(f"price_dynamics: no dated rental-price observation at or before {as_of} in "
                                  f"priors/observations/rental_prices.csv; --as-of must be {first} or later") from None


def launch_age_years(obs: PriceObs) -> np.ndarray:
    """(G, T) age since each generation's volume launch, in years, centred at 2 years (AGE_REF_YEARS);
    from launches.csv (the launch rows known at the cutoff; a generation without one gets 0)."""
    start_mi = month_index(pd.Timestamp(obs.months[0] + "-01"))
    t_abs = start_mi + np.arange(obs.T)
    out = np.zeros((len(GENERATIONS), obs.T))
    for g, gen in enumerate(GENERATIONS):
        rows = obs.launches[obs.launches["generation"] == gen] if len(obs.launches) else []
        if len(rows):
            y, m = map(int, str(rows.iloc[0]["volume_month"]).split("-"))
            out[g] = (t_abs - (y * 12 + m - 1)) / 12.0 - AGE_REF_YEARS
    return out


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



def provider_panel_rows(prices: pd.DataFrame, start_mi: int, end_mi: int) -> tuple[pd.DataFrame, list[str]]:
    """The provider panel on the grid: dated ``provider_restated`` point rows (value_low == value_high
    > 0) of GENERATIONS with month index in [start_mi, end_mi] (so the as-of cutoff holds here too:
    later rows are dropped, and undated rows never enter). One row per provider x generation x month
    (the log mean of duplicates). Returns (DataFrame g, t, pair, y (log $/GPU-hour), sorted by pair
    then t; pair labels "GEN/provider", sorted)."""
    cols = ["g", "t", "pair", "y"]
    if "series" not in prices:
        return pd.DataFrame(columns=cols), []
    d = prices[(prices["series"] == PANEL_SERIES) & prices["dated"] & prices["generation"].isin(GENERATIONS)].copy()
    lo = pd.to_numeric(d["value_low"], errors="coerce")
    hi = pd.to_numeric(d["value_high"], errors="coerce")
    d = d[(lo > 0) & (lo == hi)]
    d["mi"] = month_index(d["when"].dt)
    d = d[(d["mi"] >= start_mi) & (d["mi"] <= end_mi)]
    if d.empty:
        return pd.DataFrame(columns=cols), []
    d["label"] = d["generation"] + "/" + d["entity"].astype(str)
    d["y"] = np.log(pd.to_numeric(d["value_low"]))
    d = d.groupby(["label", "generation", "mi"], as_index=False)["y"].mean()
    pairs = sorted(d["label"].unique())
    out = pd.DataFrame({"g": d["generation"].map(GENERATIONS.index).astype(int), "t": (d["mi"] - start_mi).astype(int),
                        "pair": d["label"].map(pairs.index).astype(int), "y": d["y"].astype(float)})
    return out.sort_values(["pair", "t"]).reset_index(drop=True)[cols], pairs


def panel_median_of_cells(panel: pd.DataFrame, point: pd.DataFrame) -> np.ndarray:
    """For each point observation that is an on-demand median, the median of the panel's log prices in
    its generation and month (np.median: the mean of the middle two for an even count); nan for other
    rows and for medians without panel rows. Shape (len(point),), log $/GPU-hour."""
    out = np.full(len(point), np.nan)
    if not len(panel) or not len(point):
        return out
    med = panel.groupby(["g", "t"])["y"].median()
    is_od = (point["kind"] == KINDS.index("median_on_demand")).to_numpy()
    for i, (g, t) in enumerate(zip(point["g"].to_numpy(), point["t"].to_numpy())):
        if is_od[i] and (g, t) in med.index:
            out[i] = float(med.loc[(g, t)])
    return out


def panel_segments(obs: PriceObs, provider_panel: bool) -> dict[int, tuple[int, int]]:
    """obs.segments(), widened to the panel's months when the panel is in the likelihood."""
    seg = obs.segments()
    if provider_panel and len(obs.panel):
        for g, v in obs.panel.groupby("g"):
            t0, t1 = seg.get(int(g), (int(v.t.min()), int(v.t.max())))
            seg[int(g)] = (min(t0, int(v.t.min())), max(t1, int(v.t.max())))
    return seg


def active_mask(obs, provider_panel: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(active (G, T) float, t0 (G,), t1 (G,)) the random walk's active months: month t has an
    increment from t-1 when t0[g] < t <= t1[g] (the generation's data span, widened to the panel's
    months with the panel)."""
    G, T = len(GENERATIONS), obs.T
    seg = panel_segments(obs, provider_panel)
    t0 = np.array([seg.get(g, (T - 1, T - 1))[0] for g in range(G)])
    t1 = np.array([seg.get(g, (T - 1, T - 1))[1] for g in range(G)])
    tg = np.arange(T)[None, :]
    active = ((tg > t0[:, None]) & (tg <= t1[:, None])).astype(float)
    return active, t0, t1
