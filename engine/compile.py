"""Scenario -> the static arrays the simulation consumes (``Model``).

Everything here is deterministic and runs on the host with NumPy: month schedules (remaining
life, contract terms, test calendar), opening carrying amounts of cohorts bought before the run
start, discount factors, capital charges for TCO, and the layout of the uncertain-input vector.

Dims: G fleet generations (sorted oldest first), C cohorts, K components (padded), L launches,
T months (t = 1..T), N inputs.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from engine.errors import ScenarioError
from engine.generations import RANK
from engine.inputs.posterior import file_sha256, load_draws
from engine.inputs.registry import iter_inputs
from engine.scenario import schema as S
from engine.scenario.dists import Dist, Fixed, Posterior
from engine.scenario.load import LoadedScenario
from engine.stress.compile_stress import apply_bands, apply_launch_shocks, shock_arrays
from engine.tco import annuity_charge_per_month


def stable_id(text: str) -> int:
    """A stable 31-bit id for a name (never Python's salted ``hash``)."""
    return zlib.crc32(text.encode()) & 0x7FFFFFFF


def monthly_factor(annual_rate: float) -> float:
    """Monthly discount factor for an effective annual rate: (1 + r)^(-1/12)."""
    return (1.0 + annual_rate) ** (-1.0 / 12.0)


@dataclass(frozen=True)
class InputSpec:
    """One scalar input: its name, distribution, stream id; posterior draws if any."""

    name: str
    dist: Dist
    stream_id: int
    posterior_file: str | None = None
    posterior_draws: np.ndarray | None = None

    @property
    def is_random(self) -> bool:
        return not isinstance(self.dist, Fixed)

    def mean(self) -> float:
        if self.posterior_draws is not None:
            return float(np.mean(self.posterior_draws))
        return float(self.dist.mean())


@dataclass(frozen=True)
class Model:
    """Static description of one scenario for the simulation (NumPy arrays; no JAX here)."""

    T: int
    G: int
    C: int
    K: int
    L: int
    generations: tuple[str, ...]
    cohorts: tuple[str, ...]
    components: tuple[tuple[str, ...], ...]
    launches: tuple[str, ...]
    standards: tuple[str, ...]
    month_labels: tuple[str, ...]
    inputs: tuple[InputSpec, ...]
    correlated: tuple[str, ...]
    copula_chol: np.ndarray | None
    posterior_files: tuple[str, ...]
    a: dict[str, np.ndarray] = field(repr=False)
    posterior_sha256: dict[str, str] = field(default_factory=dict)
    year_end_t: tuple[int, ...] = ()
    fiscal_year_labels: tuple[str, ...] = ()  # "FY2026", ... for each fiscal year the run touches
    fiscal_year_end_t: tuple[int, ...] = ()  # last month t (1-based) of each of them inside the run
    year_end_labels: tuple[str, ...] = ()
    facilities: tuple[str, ...] = ()  # [[financing.facility]] names (issue 4); () = no financing

    def index(self, name: str) -> int:
        for j, spec in enumerate(self.inputs):
            if spec.name == name:
                return j
        raise KeyError(name)


def _per_gen_key(table: dict, gen: str) -> str | None:
    if gen in table:
        return gen
    if "default" in table:
        return "default"
    return None


def asset_group_matrix(level: str, cohorts) -> np.ndarray:
    """(NG, C) membership of cohorts in asset groups (ASC 360-10-35-23 / IAS 36 CGU): one group per
    cohort, per data centre (``site``, in order of first appearance), or one for the fleet."""
    C = len(cohorts)
    if level == "cohort":
        return np.eye(C)
    if level == "fleet":
        return np.ones((1, C))
    sites = list(dict.fromkeys(c.site for c in cohorts))
    return np.array([[float(c.site == st) for c in cohorts] for st in sites])


def _component_rows(c: S.Cohort) -> list[tuple[str, float, int, float]]:
    if c.component:
        return [(x.name, x.capex_frac, x.useful_life_months, x.salvage_frac) for x in c.component]
    return [("all", 1.0, c.useful_life_months, c.salvage_frac)]


def compile_model(loaded: LoadedScenario, *, allow_unconverged: bool = False) -> Model:
    """Build the ``Model`` of a validated scenario. Raises ``ScenarioError`` on inconsistent input."""
    s = apply_launch_shocks(loaded.scenario)  # a launch shock is a fixed launch (engine/stress)
    fname = str(loaded.path)
    T = s.run.horizon_months
    start = S.month_index(s.run.start_month)
    months_abs = start + np.arange(T)  # calendar month of t = 1..T
    cohorts = s.fleet.cohort
    C = len(cohorts)
    gens = tuple(sorted({c.generation for c in cohorts}, key=lambda g: RANK[g]))
    G = len(gens)
    gidx = {g: i for i, g in enumerate(gens)}

    # ---- inputs vector ------------------------------------------------------------------------
    specs: list[InputSpec] = []
    for name, d in iter_inputs(s):
        if isinstance(d, Posterior):
            draws = load_draws(d, field=name, scenario_file=fname, allow_unconverged=allow_unconverged)
            specs.append(InputSpec(name, d, stable_id(name), posterior_file=d.file, posterior_draws=draws))
        else:
            specs.append(InputSpec(name, d, stable_id(name)))
    specs = apply_bands(s, specs, fname)  # percentile-band stresses (engine/stress)
    index = {sp.name: j for j, sp in enumerate(specs)}
    post_files = tuple(sorted({sp.posterior_file for sp in specs if sp.posterior_file}))
    for f in post_files:
        sizes = {sp.posterior_draws.size for sp in specs if sp.posterior_file == f}
        if len(sizes) > 1:
            raise ScenarioError(fname, "", f"posterior file {f}: the variables used have different numbers of samples {sorted(sizes)}")

    def idx(name: str) -> int:
        return index[name]

    a: dict[str, np.ndarray] = {}
    a["gen_of_cohort"] = np.array([gidx[c.generation] for c in cohorts], np.int32)
    for f in ("price_usd_per_gpu_hour", "decline_rate_per_month", "volatility_per_month", "contracted_frac", "spot_frac", "spot_discount_frac"):
        a[f"i_{f}"] = np.array([idx(f"market.{g}.{f}") for g in gens], np.int32)
    a["contract_price"] = np.array([s.market[g].contract_price_usd_per_gpu_hour for g in gens])
    a["contract_term"] = np.array([s.market[g].contract_term_months for g in gens], np.int32)
    # share of the contracted capacity renewed at expiry (0 when re-priced at market)
    a["renew"] = np.array([(s.market[g].contract_expiry == "renew") * s.market[g].renewal_share_frac for g in gens], np.float64)
    a["renewal_frac"] = np.array([s.market[g].renewal_price_frac for g in gens])
    a["expected_decline"] = np.array([specs[idx(f"market.{g}.decline_rate_per_month")].mean() for g in gens])

    # ---- launches -------------------------------------------------------------------------------
    launch_gens: list[str] = [x.generation for x in s.next_gen.launch]
    tables: list[tuple[dict, dict]] = [(x.undercut_frac, x.utilization_cut_frac) for x in s.next_gen.launch]
    if s.next_gen.cadence is not None:
        for g in s.next_gen.cadence.generations:
            launch_gens.append(g)
            tables.append((s.next_gen.cadence.undercut_frac, s.next_gen.cadence.utilization_cut_frac))
    L = len(launch_gens)
    n_explicit = len(s.next_gen.launch)
    ship_idx = np.zeros(max(L, 1), np.int32)
    is_cadence = np.zeros(max(L, 1), np.float64)
    uc_idx = np.full((max(L, 1), G), -1, np.int32)
    ut_idx = np.full((max(L, 1), G), -1, np.int32)
    for l, lg in enumerate(launch_gens):
        if l < n_explicit:
            ship_idx[l] = idx(f"next_gen.{lg}.ship_months_from_start")
        else:
            ship_idx[l] = idx(f"next_gen.{lg}.interval_months")
            is_cadence[l] = 1.0
        uc_tab, ut_tab = tables[l]
        for g in gens:
            if RANK[g] >= RANK[lg]:
                continue
            k = _per_gen_key(uc_tab, g)
            if k is not None:
                uc_idx[l, gidx[g]] = idx(f"next_gen.{lg}.undercut_frac.{k}")
            k = _per_gen_key(ut_tab, g)
            if k is not None:
                ut_idx[l, gidx[g]] = idx(f"next_gen.{lg}.utilization_cut_frac.{k}")
    a["ship_idx"], a["is_cadence"], a["undercut_idx"], a["utilcut_idx"] = ship_idx, is_cadence, uc_idx, ut_idx
    a["launch_mask"] = np.array([1.0] * L + [0.0] * (max(L, 1) - L))
    applies = np.zeros((max(L, 1), G))
    for l, lg in enumerate(launch_gens):
        applies[l] = [float(RANK[g] < RANK[lg]) for g in gens]
    a["launch_applies"] = applies  # (L, G): launch l undercuts generation g

    # ---- demand, failures, costs ------------------------------------------------------------------
    a["i_util"] = np.int32(idx("demand.utilization_frac"))
    a["i_elasticity"] = np.int32(idx("demand.price_elasticity"))
    a["util_ceiling"] = np.float64(s.demand.utilization_ceiling_frac)
    afr_keys = [_per_gen_key(s.failures.annual_failure_rate_frac, g) for g in gens]
    a["i_afr"] = np.array([idx(f"failures.annual_failure_rate_frac.{k}") for k in afr_keys], np.int32)
    a["expected_afr"] = np.array([specs[idx(f"failures.annual_failure_rate_frac.{k}")].mean() for k in afr_keys])
    for f in ("power_draw_frac", "pue", "electricity_usd_per_kwh", "colocation_usd_per_kw_month", "staff_maintenance_usd_per_gpu_month", "network_usd_per_gpu_month"):
        a[f"i_{f}"] = np.int32(idx(f"costs.{f}"))
    a["hours"] = np.float64(s.costs.hours_per_month)
    policy = s.failures.policy
    a["policy_write_off"] = np.float64(policy == "write_off")
    a["policy_replace"] = np.float64(policy == "replace")
    a["replacement_cost_frac"] = np.float64(s.failures.replacement_cost_frac)
    a["failures_exact"] = np.float64(s.failures.draw == "exact")  # static: engine/failures.py

    # ---- cohorts: components, schedules, opening book ----------------------------------------------
    rows = [_component_rows(c) for c in cohorts]
    K = max(len(r) for r in rows)
    cost = np.zeros((C, K))
    salvage = np.zeros((C, K))
    life0 = np.zeros((C, K), np.int64)
    life1 = np.zeros((C, K), np.int64)
    comp_mask = np.zeros((C, K))
    eff_abs = np.full(C, 10**9)
    purchase = np.zeros(C, np.int64)  # months from start: first earning month is t = purchase + 1
    for i, (c, r) in enumerate(zip(cohorts, rows)):
        purchase[i] = S.month_index(c.purchase_month) - start
        primary_life = r[0][2]
        new_primary = c.life_change.useful_life_months if c.life_change else primary_life
        if c.life_change:
            eff_abs[i] = S.month_index(c.life_change.effective_month)
            age_at_eff = eff_abs[i] - S.month_index(c.purchase_month)
            if new_primary <= age_at_eff:
                raise ScenarioError(fname, f"fleet.cohort[{i}].life_change.useful_life_months",
                                    f"the new life ({new_primary} months) must exceed the cohort's age at the effective month ({age_at_eff} months)")
        for k, (cname, frac, life, sv) in enumerate(r):
            cost[i, k] = c.units * c.capex_usd_per_gpu * frac
            salvage[i, k] = cost[i, k] * sv
            life0[i, k] = life
            life1[i, k] = new_primary if k == 0 else max(1, round(life * new_primary / primary_life))
            comp_mask[i, k] = 1.0
            if c.life_change and life1[i, k] <= eff_abs[i] - S.month_index(c.purchase_month) < life0[i, k]:
                raise ScenarioError(fname, f"fleet.cohort[{i}].life_change.useful_life_months",
                                    f"component {cname!r}: its new life ({life1[i, k]} months, scaled with the primary) ends before the effective month")
        end_abs = S.month_index(c.purchase_month) + (new_primary if c.life_change and eff_abs[i] < S.month_index(c.purchase_month) + primary_life else primary_life)
        if end_abs <= start:
            raise ScenarioError(fname, f"fleet.cohort[{i}].purchase_month", f"the cohort's useful life ends ({S.month_label(end_abs)}) before the run starts ({s.run.start_month}); remove it")

    def life_at(i: int, month_abs: np.ndarray) -> np.ndarray:
        """Useful life (months, per component) in force in calendar month ``month_abs``: (..., K)."""
        changed = (month_abs >= eff_abs[i])[..., None]
        return np.where(changed, life1[i], life0[i])

    # remaining life at the start of month t (0 before purchase and after the end): (T, C, K)
    rem = np.zeros((T, C, K))
    age = np.arange(T)[:, None] - purchase[None, :]  # months in service before month t: (T, C)
    for i in range(C):
        lf = life_at(i, months_abs)  # (T, K)
        r_ = lf - age[:, i][:, None]
        r_ = np.where(age[:, i][:, None] >= 0, np.maximum(r_, 0), 0)
        rem[:, i, :] = r_ * comp_mask[i]
    # components that outlive the primary are derecognized with it (sold with the group)
    primary_rem = rem[:, :, 0]
    active = (primary_rem > 0).astype(np.float64)  # (T, C)
    rem = np.where(primary_rem[:, :, None] > 0, rem, 0.0)

    # opening carrying amount at t = 0 for cohorts bought before the start (scheduled, no impairment)
    cv0 = np.where(purchase[:, None] >= 0, 0.0, cost)
    for i in range(C):
        if purchase[i] >= 0:
            continue
        cv = cost[i].copy()
        for m in range(-int(purchase[i])):  # ages 0 .. months before start - 1
            m_abs = S.month_index(cohorts[i].purchase_month) + m
            r_ = life_at(i, np.array(m_abs)) - m
            dep = np.where(r_ > 0, (cv - salvage[i]) / np.maximum(r_, 1), 0.0)
            cv = cv - dep * comp_mask[i]
        cv0[i] = cv
    # disposal proceeds per unit at the end of the primary life: the scheduled book value then
    disposal_per_unit = np.zeros(C)
    for i, c in enumerate(cohorts):
        cv = cost[i].copy()
        m_abs0 = S.month_index(c.purchase_month)
        m = 0
        while True:
            lf = life_at(i, np.array(m_abs0 + m))
            if m >= lf[0]:
                break
            r_ = lf - m
            dep = np.where(r_ > 0, (cv - salvage[i]) / np.maximum(r_, 1), 0.0)
            cv = cv - dep * comp_mask[i]
            m += 1
        disposal_per_unit[i] = cv.sum() / c.units
    a["cost"], a["salvage"], a["comp_mask"], a["cv0"] = cost, salvage, comp_mask, cv0
    a["rem"], a["active"] = rem, active
    a["last_month"] = (primary_rem == 1).astype(np.float64)
    a["age"] = age.astype(np.float64)
    a["purchase"] = purchase.astype(np.float64)
    a["units"] = np.array([c.units for c in cohorts], np.float64)
    a["capex_per_gpu"] = np.array([c.capex_usd_per_gpu for c in cohorts])
    a["kw"] = np.array([c.kw_per_gpu for c in cohorts])
    a["fixed_opex"] = np.array([c.fixed_opex_usd_per_month for c in cohorts])
    a["disposal_per_unit"] = disposal_per_unit
    term_c = a["contract_term"][a["gen_of_cohort"]]
    a["in_term"] = ((age >= 0) & (age < term_c[None, :])).astype(np.float64)

    # ---- accounting ----------------------------------------------------------------------------------
    acc = s.accounting
    cal = months_abs % 12 + 1
    k = acc.test_every_months
    a["periodic"] = ((cal % k == 0) if k > 0 else np.zeros(T, bool)).astype(np.float64)
    a["reporting"] = (cal % acc.reporting_every_months == 0).astype(np.float64)
    a["trigger_launch"] = np.float64(acc.trigger_on_launch)
    a["trigger_launch_min_logcut"] = np.float64(-np.log1p(-acc.trigger_launch_undercut_min_frac))
    a["trigger_price_drop"] = np.float64(acc.trigger_price_drop_frac)
    a["trigger_price_months"] = np.float64(acc.trigger_price_drop_months)
    a["trigger_util"] = np.float64(acc.trigger_utilization_below_frac)
    a["trigger_util_months"] = np.float64(acc.trigger_utilization_months)
    # the last month of a cohort's contract term (its contract ends at that month's end)
    a["contract_ends"] = (a["in_term"] * (age + 1 >= term_c[None, :])).astype(np.float64)
    a["trigger_contract_expiry"] = np.float64(acc.trigger_on_contract_expiry)
    a["forecast_drift"] = np.float64(acc.forecast == "drift")
    a["d_viu"] = np.float64(monthly_factor(acc.discount_rate_annual_frac))
    a["d_fv"] = np.float64(monthly_factor(acc.fair_value_discount_rate_annual_frac))
    level2 = {"dcf": set(), "used_market": set(gens), "hierarchy": set(acc.used_market_generations)}[acc.fair_value_method]
    a["fv_used_market"] = np.array([c.generation in level2 for c in cohorts], np.float64)  # (C,) Level 2 fair value
    a["fv_life"] = np.float64(acc.fair_value_economic_life_months or 0)  # 0: the remaining book life
    a["i_used_decay"] = np.int32(idx("accounting.used_value_decay_per_month"))
    a["expected_used_decay"] = np.float64(specs[idx("accounting.used_value_decay_per_month")].mean())
    a["disposal_cost"] = np.float64(acc.disposal_cost_frac)
    a["eol_disposal_cost"] = np.float64(acc.end_of_life_disposal_cost_frac)
    a["disposal_used_market"] = np.float64(acc.disposal_proceeds == "used_market")
    a["loss_floor"] = np.float64(acc.loss_allocation == "floored")  # static: engine/accounting/impairment.py
    a["materiality"] = np.float64(acc.materiality_frac)
    a["group"] = asset_group_matrix(acc.asset_group, cohorts)
    # fiscal year of each month (0 = the first fiscal year the run touches), one-hot (T, Y)
    fy_end = acc.fiscal_year_end_month
    fy_abs = (months_abs - fy_end % 12) // 12  # the calendar months after fy_end .. fy_end share a number
    fy = fy_abs - fy_abs[0]
    a["fiscal_year_onehot"] = np.eye(int(fy[-1]) + 1)[fy]
    fiscal_year_labels = tuple(f"FY{int(S.month_label(int(m))[:4]) + (1 if (int(m) % 12 + 1) > fy_end else 0)}" for m in months_abs[np.r_[0, np.flatnonzero(np.diff(fy)) + 1]])
    fiscal_year_end_t = tuple(int(t) for t in np.r_[np.flatnonzero(np.diff(fy)) + 1, T])  # last month t of each fiscal year in the run

    # ---- TCO and NPV constants ------------------------------------------------------------------------
    tco = s.tco
    d_coc = monthly_factor(tco.cost_of_capital_annual_frac)
    a["d_coc"] = np.float64(d_coc)
    # straight-line capital charge: the scheduled (no-impairment) depreciation inside the horizon,
    # which follows life changes and component lives; annuity: each component's level payment over
    # its life in force at the end of the horizon, for each month inside the horizon in which that
    # component is itself in service (rem > 0: within its own life and the primary asset's). A
    # component with a shorter life than the cohort's is charged its own life's instalments only:
    # no scenario replaces it (failures.policy = "replace" replaces failed GPUs, not components).
    n_comp = (rem > 0).sum(axis=0)  # (C, K) months of the horizon each component is in service
    cap_sl = np.zeros(C)
    cap_ann = np.zeros(C)
    for i in range(C):
        cv = cv0[i].copy()
        for t in range(T):
            if purchase[i] == t:  # bought at the start of month t + 1
                cv = cost[i].copy()
            r_ = rem[t, i]
            dep = np.where(r_ > 0, (cv - salvage[i]) / np.maximum(r_, 1), 0.0)
            cap_sl[i] += dep.sum()
            cv = cv - dep
        lf = life_at(i, np.array(months_abs[-1]))
        for kk in range(K):
            if comp_mask[i, kk]:
                pay = annuity_charge_per_month(cost[i, kk], salvage[i, kk], float(lf[kk]), tco.cost_of_capital_annual_frac, tco.annuity_period)
                cap_ann[i] += pay * n_comp[i, kk]
    a["capital_charge_sl"], a["capital_charge_annuity"] = cap_sl, cap_ann
    # capital outlay in NPV: capex at purchase (start of month purchase+1) or the opening book value
    outlay = np.where(purchase >= 0, cost.sum(axis=1), cv0.sum(axis=1))
    a["npv_outlay_pv"] = outlay * d_coc ** np.maximum(purchase, 0)
    tps_keys = [_per_gen_key(tco.tokens_per_second_per_gpu, c.generation) for c in cohorts]
    a["tokens_per_s"] = np.array([tco.tokens_per_second_per_gpu[k] if k else np.nan for k in tps_keys])
    cloud_keys = [_per_gen_key(tco.cloud_price_usd_per_gpu_hour, c.generation) for c in cohorts]
    a["cloud_price"] = np.array([tco.cloud_price_usd_per_gpu_hour[k] if k else np.nan for k in cloud_keys])

    # ---- copula ------------------------------------------------------------------------------------------
    correlated: tuple[str, ...] = ()
    chol = None
    if s.correlations.pair:
        from engine.inputs.copula import copula_matrix

        correlated = tuple(sorted({p.a for p in s.correlations.pair} | {p.b for p in s.correlations.pair}))
        bad = [n for n in correlated if specs[idx(n)].posterior_draws is not None]
        if bad:
            raise ScenarioError(fname, "correlations.pair", f"posterior inputs carry their own joint correlation and cannot be in [correlations]: {', '.join(bad)}")
        chol = copula_matrix(list(correlated), [(p.a, p.b, p.rank) for p in s.correlations.pair])

    # ---- financing (engine/credit; docs/credit.md) and the monthly SOFR shock hook (stress issue) ---------
    from engine.credit.compile import financing_arrays

    facilities, fin_arrays = financing_arrays(s, tuple(c.name for c in cohorts), lambda n: specs[idx(n)].mean(), idx)
    a.update(fin_arrays)
    a["sofr_shock_annual_frac"] = np.zeros(T)  # (T,) added to SOFR each month; zeros unless a stress fills it
    # ---- stress: monthly shock arrays, neutral without a [stress] section (engine/stress) ------------------
    a.update(shock_arrays(s, fname=fname, T=T, start=start, gens=gens))

    year_end = [t for t in range(1, T + 1) if cal[t - 1] == 12]
    return Model(
        T=T, G=G, C=C, K=K, L=L,
        generations=gens,
        cohorts=tuple(c.name for c in cohorts),
        components=tuple(tuple(x[0] for x in r) for r in rows),
        launches=tuple(launch_gens),
        standards=tuple(acc.standards),
        month_labels=tuple(S.month_label(int(m)) for m in months_abs),
        inputs=tuple(specs),
        correlated=correlated,
        copula_chol=chol,
        posterior_files=post_files,
        posterior_sha256={f: file_sha256(f) for f in post_files},
        a=a,
        year_end_t=tuple(year_end),
        year_end_labels=tuple(S.month_label(int(start + t - 1))[:4] for t in year_end),
        fiscal_year_labels=fiscal_year_labels,
        fiscal_year_end_t=fiscal_year_end_t,
        facilities=facilities,
    )

