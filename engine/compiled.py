"""Compile once per scenario shape: a ``Model`` split into a static part and numeric arguments.

The chunk functions (engine/runner.py, engine/stream_runner.py) are traced from ``Static`` only and
take the model's numbers as an argument (``ModelArgs``), so that scenarios of one shape — stress
files, sensitivity and sweep points, accounting-policy variants, tests — share one compiled
function (``cached``) instead of tracing and compiling afresh each.

``split(model, dtype) -> (Static, ModelArgs)``:

* ``Static`` (hashable, ``Static.key``) is everything a trace reads as a Python value: the shapes
  T, G, C, K, L and the dtype; the integer index arrays (``i_*`` positions in the input vector,
  generation of each cohort, launch tables), which become static slices and gathers; the flags that
  change control flow (``failures_exact``, ``loss_floor``, ``fv_life > 0``,
  the failures policy, financing, and the step's static specialisations: ``stressed``, ``calendar_only``,
  ``opening_book``, ``buys_in_horizon``, ``contracts``, ``elastic``, engine/kernel/path.py);
  the names that key the random
  streams (inputs, generations, cohorts, posterior files' sha256) and each *random* input's
  distribution (its type and parameters: ``engine.inputs.distributions.quantile`` reads them as
  Python values, and Beta, PERT and discrete tables are made on the host from them).
* ``ModelArgs`` (a pytree: ``jax.tree_util`` registered dataclass) holds every other number:
  the model's float arrays in the run's dtype, grouped (``market``, ``fleet``, ``schedules``,
  ``accounting``, ``financing``, ``shocks``, ``other``: ``groups`` says which key goes where), each
  fixed input's value (``fixed_inputs`` (N,), 0 for the others), posterior draws, the copula's
  Cholesky factor. The asset-group matrix is padded with empty groups to C rows
  (``padded_groups``) and the end-of-life disposal rule is a number, so that the accounting policies
  of the policy range (engine/accounting/policy_range.py) share the run's compiled function.

Two models with equal ``Static.key`` give the same trace; one compiled function serves both and
gives each the numbers it would give compiled alone (tests/test_compile_once.py). ``cached(kind,
key, build)`` is the in-process cache of those functions; ``stats`` counts builds and reuses.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np

from engine.compile import Model

# integer arrays of Model.a (index arrays, used as gather/slice indices): static
INT_KEYS = frozenset({"gen_of_cohort", "contract_term", "ship_idx", "undercut_idx", "utilcut_idx", "i_util", "i_elasticity", "i_afr"})
# flags of Model.a read in a Python ``if`` at trace time: static (their values stay in the arguments too)
FLAG_KEYS = ("failures_exact", "loss_floor", "policy_write_off", "policy_replace")

# which ModelArgs group holds a Model.a key (by prefix or name; the rest go to ``other``)
_GROUP_RULES = (
    ("financing", lambda k: k.startswith("fin_")),
    ("shocks", lambda k: k.startswith("shock_")),
    ("schedules", lambda k: k in {"rem", "active", "last_month", "age", "in_term", "periodic", "reporting", "contract_ends",
                                  "fiscal_year_onehot", "purchase"}),
    ("market", lambda k: k in {"hours", "contract_price", "renew", "renewal_frac", "expected_decline", "expected_afr", "cloud_price",
                               "util_ceiling", "is_cadence", "launch_mask", "launch_applies", "tokens_per_s", "expected_used_decay"}),
    ("fleet", lambda k: k in {"kw", "units", "fixed_opex", "capex_per_gpu", "cost", "salvage", "comp_mask", "cv0", "disposal_per_unit",
                              "replacement_cost_frac"}),
    ("accounting", lambda k: k.startswith(("trigger_", "policy_", "d_", "fv_")) or k in {
        "materiality", "group", "disposal_cost", "eol_disposal_cost", "forecast_drift", "capital_charge_sl", "capital_charge_annuity",
        "npv_outlay_pv", "disposal_used_market", *FLAG_KEYS}),
)
GROUPS = ("market", "fleet", "schedules", "accounting", "financing", "shocks", "other")


def is_int_key(k: str) -> bool:
    """Whether ``Model.a[k]`` is an integer index array (static, int32)."""
    return k in INT_KEYS or k.startswith("i_")


def group_of(k: str) -> str:
    for name, rule in _GROUP_RULES:
        if rule(k):
            return name
    return "other"


@dataclass(frozen=True)
class ModelArgs:
    """A model's numbers, the argument of the compiled chunk functions (a JAX pytree).

    market, fleet, schedules, accounting, financing, shocks, other: ``Model.a``'s float arrays
    (engine/compile.py gives each key's shape and unit: (G,) by generation, (C,) or (C, K) by
    cohort and component, (T, ...) by month, scalars as ()), in the run's dtype, grouped by
    ``group_of``; ``a()`` merges them back into one name -> array dict.
    fixed_inputs: (N,) each fixed input's value (0 where the input is drawn or from a posterior file).
    posterior: input index (str) -> (S,) posterior draws of that input.
    copula_chol: (Nc, Nc) Cholesky factor of the inputs' correlation, or None.
    """

    market: dict
    fleet: dict
    schedules: dict
    accounting: dict
    financing: dict
    shocks: dict
    other: dict
    fixed_inputs: object
    posterior: dict
    copula_chol: object = None

    def a(self) -> dict:
        """Every float array of ``Model.a`` by name (the groups merged)."""
        out = {}
        for g in GROUPS:
            out.update(getattr(self, g))
        return out


def _flatten(m: ModelArgs):
    return tuple(getattr(m, f.name) for f in fields(m)), None


def _unflatten(_, children):
    return ModelArgs(*children)


def _register():
    import jax

    jax.tree_util.register_pytree_node(ModelArgs, _flatten, _unflatten)


_register()


@dataclass(frozen=True, eq=False)
class Static:
    """What a trace reads as Python values (see the module docstring). ``key`` identifies it: two
    ``Static`` with equal keys build the same function. The fields are read by the builders
    (engine/kernel/path.py, engine/random.py); ``model`` is *not* kept."""

    key: tuple
    dtype: str
    T: int
    G: int
    C: int
    K: int
    L: int
    generations: tuple[str, ...]
    cohorts: tuple[str, ...]
    ints: dict = field(repr=False)  # Model.a's integer index arrays (NumPy)
    flags: dict = field(repr=False)  # bool: failures_exact, loss_floor, policy_write_off, policy_replace,
    # fv_life_set, has_financing, stressed, calendar_only, opening_book, buys_in_horizon, contracts, elastic
    inputs: tuple = ()  # per input: ("fixed",) | ("dist", dist) | ("posterior", file index, n samples)
    input_names: tuple[str, ...] = ()
    correlated: tuple[str, ...] = ()
    has_copula: bool = False
    posterior_sha256: tuple[str, ...] = ()  # per posterior file, in model.posterior_files order
    n_fiscal_years: int = 0

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return isinstance(other, Static) and self.key == other.key


def _arr_key(x: np.ndarray) -> tuple:
    x = np.ascontiguousarray(x)
    return (x.dtype.str, x.shape, hashlib.sha256(x.tobytes()).hexdigest())


def _dtype_name(dtype) -> str:
    return np.dtype(dtype).name


def _input_kind(model: Model, j: int):
    sp = model.inputs[j]
    if sp.posterior_draws is not None:
        return ("posterior", model.posterior_files.index(sp.posterior_file), int(sp.posterior_draws.size))
    if sp.is_random:
        return ("dist", sp.dist)
    return ("fixed",)


def split(model: Model, dtype) -> tuple[Static, ModelArgs]:
    """``model`` as (``Static``, ``ModelArgs``) for a run in ``dtype`` (NumPy arrays; see the module docstring)."""
    dt = np.dtype(dtype)
    a = model.a
    ints = {k: np.asarray(v, np.int32) for k, v in a.items() if is_int_key(k)}
    fv_life = float(a["fv_life"])
    flags = {k: float(a[k]) > 0 for k in FLAG_KEYS}
    flags["fv_life_set"] = fv_life > 0
    flags["has_financing"] = bool(model.facilities)
    # any non-neutral monthly stress array: without one the step leaves the shock arithmetic out (XLA
    # then folds nothing it has not got; the neutral arrays' arithmetic is exact, so no number moves)
    flags["stressed"] = not (
        np.all(a["shock_price_mult"] == 1.0) and np.all(np.isnan(a["shock_price_index"])) and np.all(np.isnan(a["shock_util_override"]))
        and np.all(a["shock_afr_mult"] == 1.0) and np.all(a["shock_electricity_mult"] == 1.0))
    flags["calendar_only"] = calendar_only(model)
    flags["opening_book"] = bool(np.any(a["purchase"] < 0))  # cohorts on the books at the start (the valuation-date check)
    flags["buys_in_horizon"] = bool(np.any(a["purchase"] > 0))  # cohorts bought after the first month
    flags["contracts"] = not _all_fixed_zero(model, "i_contracted_frac")
    flags["elastic"] = not _all_fixed_zero(model, "i_elasticity")
    kinds = tuple(_input_kind(model, j) for j in range(len(model.inputs)))
    floats = {k: np.asarray(v, dt) for k, v in a.items() if not is_int_key(k)}
    floats["group"] = padded_groups(floats["group"], model.C)
    shapes = tuple(sorted((k, v.shape) for k, v in floats.items()))
    key = (
        _dtype_name(dtype), model.T, model.G, model.C, model.K, model.L, model.generations, model.cohorts,
        tuple(sorted((k, _arr_key(v)) for k, v in ints.items())), tuple(sorted(flags.items())),
        tuple((sp.name, k[0], repr(k[1]) if k[0] == "dist" else k[1:]) for sp, k in zip(model.inputs, kinds)),
        model.correlated, model.copula_chol is not None and np.shape(model.copula_chol),
        tuple(model.posterior_sha256[f] for f in model.posterior_files),
        shapes,
    )
    st = Static(
        key=key, dtype=_dtype_name(dtype), T=model.T, G=model.G, C=model.C, K=model.K, L=model.L,
        generations=model.generations, cohorts=model.cohorts, ints=ints, flags=flags, inputs=kinds,
        input_names=tuple(sp.name for sp in model.inputs), correlated=model.correlated,
        has_copula=model.copula_chol is not None,
        posterior_sha256=tuple(model.posterior_sha256[f] for f in model.posterior_files),
        n_fiscal_years=int(np.shape(a["fiscal_year_onehot"])[1]),
    )
    groups = {g: {} for g in GROUPS}
    for k, v in floats.items():
        groups[group_of(k)][k] = v
    # the fleet's capital charges summed on the host (engine.stats.fleet.fleet_capital_usd), for the streamed reductions
    groups["other"]["fleet_capital_charge_sl_usd"] = np.asarray(np.sum(a["capital_charge_sl"]), dt)
    groups["other"]["fleet_capital_charge_annuity_usd"] = np.asarray(np.sum(a["capital_charge_annuity"]), dt)
    fixed = np.array([sp.dist.value if k[0] == "fixed" else 0.0 for sp, k in zip(model.inputs, kinds)], dt)
    post = {str(j): np.asarray(sp.posterior_draws, dt) for j, sp in enumerate(model.inputs) if sp.posterior_draws is not None}
    args = ModelArgs(
        **groups, fixed_inputs=fixed, posterior=post,
        copula_chol=None if model.copula_chol is None else np.asarray(model.copula_chol, dt),
    )
    return st, args


def padded_groups(group: np.ndarray, n_cohorts: int) -> np.ndarray:
    """The (NG, C) asset-group matrix (engine.compile.asset_group_matrix) with empty groups (zero rows) added
    to C rows, the most groups C cohorts can form: every asset-group policy of a fleet then has one shape.
    An empty group has no carrying amount and is never tested, so it adds exact zeros to every sum and
    allocation of engine/accounting/impairment.py: the same amounts, but for the order in which XLA sums a
    group's members (the last float32 bits of some losses and reversals, decisions/0019)."""
    return np.concatenate([group, np.zeros((n_cohorts - group.shape[0], group.shape[1]), group.dtype)])


def _all_fixed_zero(model: Model, index_key: str) -> bool:
    """Whether every input that ``Model.a[index_key]`` points at is a fixed 0 (not drawn, no posterior)."""
    from engine.scenario.dists import Fixed

    specs = [model.inputs[int(j)] for j in np.asarray(model.a[index_key]).reshape(-1)]
    return all(isinstance(sp.dist, Fixed) and sp.posterior_draws is None and sp.dist.value == 0.0 for sp in specs)


def single_asset(model: Model) -> bool:
    """One cohort with one component of one generation and no financing: each path's arithmetic then has no
    sum over cohorts, components or generations (elementwise over paths; engine/xla_options.py, engine/backend_tuning.py)."""
    return model.C == 1 and model.K == 1 and model.G == 1 and not model.facilities


def calendar_only(model: Model) -> bool:
    """Whether no triggering event can fire on any path (engine/kernel/path.py then runs the valuations and
    the test only in the calendar's months): no launch trigger; the price-drop and utilization triggers off
    (a zero threshold with a run length of at least one month, which the counters then never reach); and
    no contract that can lapse (the contract-expiry trigger off, no term ending inside the horizon, every
    contract renewed in full, or every generation's contracted share a fixed 0)."""
    a = model.a
    if float(a["trigger_launch"]) > 0:
        return False
    for level, months in (("trigger_price_drop", "trigger_price_months"), ("trigger_util", "trigger_util_months")):
        if float(a[level]) > 0 or float(a[months]) < 1:
            return False
    if float(a["trigger_contract_expiry"]) > 0 and np.any(a["contract_ends"] > 0) and np.any(np.asarray(a["renew"]) < 1):
        if not _all_fixed_zero(model, "i_contracted_frac"):
            return False
    return True


def device_args(args: ModelArgs):
    """``args`` with every leaf a JAX array (copied to the default device once, not at every call).

    ``jax.device_put``, not ``jnp.asarray``: the latter stages each NumPy leaf through a small jitted
    function, one XLA compilation per leaf shape in every new process (docs/decisions/0019)."""
    import jax

    return jax.device_put(args)


# ---- the in-process cache of compiled (jitted) functions

MAX_ENTRIES = 64  # compiled functions kept (least recently used dropped first): a sweep over many shapes stays bounded
_CACHE: OrderedDict = OrderedDict()
stats = {"built": 0, "reused": 0}


def cached(kind: str, key: tuple, build: Callable[[], object]):
    """The function cached under ``(kind, key)``, built with ``build()`` on first use.

    ``key`` must hold everything ``build`` reads (a ``Static.key``, chunk size, flags, XLA options,
    backend settings). ``stats["built"]`` / ``stats["reused"]`` count misses and hits. At most
    ``MAX_ENTRIES`` functions are kept, the least recently used dropped first.
    """
    k = (kind, key)
    fn = _CACHE.get(k)
    if fn is None:
        fn = _CACHE[k] = build()
        stats["built"] += 1
        while len(_CACHE) > MAX_ENTRIES:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(k)
        stats["reused"] += 1
    return fn


def clear() -> None:
    """Forget every cached function (tests; a long-lived process that runs many shapes)."""
    _CACHE.clear()
    stats["built"] = stats["reused"] = 0
