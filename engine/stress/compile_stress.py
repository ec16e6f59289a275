"""``[stress]`` -> what the simulation consumes (host, NumPy), called from engine.compile.

* ``apply_launch_shocks``: a ``launch`` shock becomes a fixed explicit launch in the scenario
  (ship time = the shock's month, undercut = its size for the named generations), so the launch
  machinery of the engine (undercuts, utilization cuts, the launch trigger) is reused unchanged.
* ``apply_bands``: percentile bands wrap the input's distribution (engine/inputs/band.py); a
  posterior input is banded by keeping only the posterior samples whose value lies between the
  p and q quantiles of its draws (every input of that file keeps the joint sample).
* ``shock_arrays``: monthly arrays with neutral defaults, applied in the scan step:

    shock_price_mult        (T, G)  multiplies the market price level (1 = none)
    shock_price_index       (T, G)  price / start price imposed by a path table (NaN = none)
    shock_util_override     (T, G)  utilization of non-contracted hours (NaN = none)
    shock_afr_mult          (T, G)  multiplies the monthly failure hazard (1 = none)
    shock_electricity_mult  (T,)    multiplies the electricity price (1 = none)
    sofr_shock_annual_frac  (T,)    added to SOFR by the credit engine (0 = none)

Row t - 1 holds month t. A shock starting in calendar month m covers rows m - start ..
m - start + duration - 1 (to the horizon's end when duration_months = 0).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.errors import ScenarioError
from engine.generations import RANK
from engine.scenario import schema as S
from engine.scenario.dists import Fixed


def neutral_arrays(T: int, G: int) -> dict[str, np.ndarray]:
    return {
        "shock_price_mult": np.ones((T, G)),
        "shock_price_index": np.full((T, G), np.nan),
        "shock_util_override": np.full((T, G), np.nan),
        "shock_afr_mult": np.ones((T, G)),
        "shock_electricity_mult": np.ones(T),
        "sofr_shock_annual_frac": np.zeros(T),
    }


def apply_launch_shocks(s: S.Scenario) -> S.Scenario:
    """The scenario with every ``launch`` shock turned into a fixed explicit launch."""
    if s.stress is None or not any(sh.kind == "launch" for sh in s.stress.shock):
        return s
    start = S.month_index(s.run.start_month)
    fleet_gens = {c.generation for c in s.fleet.cohort}
    launches = list(s.next_gen.launch)
    for sh in s.stress.shock:
        if sh.kind != "launch":
            continue
        lg = sh.generation
        # months t >= ship are affected and the launch ships in (t - 1, t]: ship = t of the month
        ship = Fixed(value=float(sh.first_month_abs() - start + 1))
        cut = Fixed(value=float(sh.undercut_frac))
        named = list(sh.generations)
        existing = next((i for i, x in enumerate(launches) if x.generation == lg), None)
        if existing is not None:
            old = launches[existing]
            uc = {"default": cut} if not named else {**old.undercut_frac, **{g: cut for g in named}}
            ut = dict(old.utilization_cut_frac)
            if sh.utilization_cut_frac is not None:
                ut = {"default": Fixed(value=float(sh.utilization_cut_frac))}
            launches[existing] = old.model_copy(update={"ship_months_from_start": ship, "undercut_frac": uc, "utilization_cut_frac": ut})
        else:
            older = [g for g in fleet_gens if RANK[g] < RANK[lg]]
            uc = {"default": cut} if not named or set(named) >= set(older) else {"default": Fixed(value=0.0), **{g: cut for g in named}}
            ut = {"default": Fixed(value=float(sh.utilization_cut_frac or 0.0))}
            launches.append(S.Launch(generation=lg, ship_months_from_start=ship, undercut_frac=uc, utilization_cut_frac=ut))
            launches.sort(key=lambda x: RANK[x.generation])
    return s.model_copy(update={"next_gen": s.next_gen.model_copy(update={"launch": launches})})


def apply_bands(s: S.Scenario, specs: list, fname: str) -> list:
    """``specs`` (engine.compile.InputSpec list) with each banded input's distribution restricted."""
    if s.stress is None or not s.stress.band:
        return specs
    from engine.inputs.band import banded

    specs = list(specs)
    index = {sp.name: j for j, sp in enumerate(specs)}
    for i, b in enumerate(s.stress.band):
        j = index[b.input]
        sp = specs[j]
        if sp.posterior_draws is None:
            specs[j] = replace(sp, dist=banded(sp.dist, b.p, b.q))
            continue
        x = np.asarray(sp.posterior_draws, np.float64)
        lo, hi = np.quantile(x, [b.p, b.q])
        keep = (x >= lo) & (x <= hi)
        if keep.sum() < 2:
            raise ScenarioError(fname, f"stress.band[{i}]", f"the band keeps {int(keep.sum())} of {x.size} posterior samples of {b.input}; widen it")
        for k, other in enumerate(specs):
            if other.posterior_file == sp.posterior_file and other.posterior_draws is not None:
                specs[k] = replace(other, posterior_draws=np.asarray(other.posterior_draws)[keep])
    return specs


def _rows(sh: S.Shock, start: int, T: int) -> slice:
    t0 = sh.first_month_abs() - start
    return slice(t0, T if sh.duration_months == 0 else min(T, t0 + sh.duration_months))


def shock_arrays(s: S.Scenario, *, fname: str, T: int, start: int, gens: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The monthly shock arrays of the module docstring for scenario ``s`` (neutral when no stress)."""
    G = len(gens)
    a = neutral_arrays(T, G)
    if s.stress is None:
        return a
    gidx = {g: i for i, g in enumerate(gens)}
    for sh in s.stress.shock:
        rows = _rows(sh, start, T)
        cols = [gidx[g] for g in sh.generations] if sh.generations else list(range(G))
        if sh.kind == "price_drop":
            a["shock_price_mult"][rows, cols] *= 1.0 - sh.drop_frac
        elif sh.kind == "utilization_hold":
            a["shock_util_override"][rows, cols] = sh.utilization_frac
        elif sh.kind == "failure_spike":
            a["shock_afr_mult"][rows, cols] *= sh.afr_mult
        elif sh.kind == "power_spike":
            a["shock_electricity_mult"][rows] *= sh.electricity_mult
        elif sh.kind == "sofr":
            a["sofr_shock_annual_frac"][rows] += sh.sofr_shock_annual_frac
    if s.stress.path_table is not None:
        from engine.stress.path_table import read_path_table

        tab = read_path_table(s.stress.path_table, scenario_file=fname, field="stress.path_table", start_abs=start, T=T, generations=gens)
        a["shock_price_index"] = tab.price_index
        a["shock_util_override"] = np.where(np.isnan(tab.utilization_frac), a["shock_util_override"], tab.utilization_frac)
        a["shock_electricity_mult"] = a["shock_electricity_mult"] * np.where(np.isnan(tab.electricity_mult), 1.0, tab.electricity_mult)
        a["sofr_shock_annual_frac"] = a["sofr_shock_annual_frac"] + np.nan_to_num(tab.sofr_shock_annual_frac)
    return a
