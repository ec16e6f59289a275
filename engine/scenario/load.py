"""Load a scenario file: TOML -> ``extends`` chain merged -> validated ``Scenario``.

Every failure is a ``ScenarioError`` naming the file, the field path and what is allowed.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from engine.errors import ScenarioError
from engine.scenario import schema as S
from engine.scenario.dists import Fixed, Posterior, _Dist
from engine.scenario.toml_write import dumps
from engine.stress.check import absolutize_path_table, check_stress

# Lists of tables merged item by item on this key when a file extends another.
_MERGE_KEYS = {"cohort": "name", "launch": "generation", "component": "name", "facility": "name"}


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with what is needed to reproduce it.

    Attributes:
        scenario: the validated model.
        path: the file given by the user.
        resolved_toml: the merged scenario (``extends`` applied) as TOML text.
        sha256: hash of ``resolved_toml``.
        files: every file read (the chain of ``extends``), in order.
        data: the merged input data (``extends`` applied, overrides set) before validation; what
            further overrides apply to (``engine.api.Scenario.with_overrides``).
    """

    scenario: S.Scenario
    path: Path
    resolved_toml: str
    sha256: str
    files: tuple[Path, ...]
    data: dict[str, Any] | None = field(default=None, compare=False, repr=False)  # the merged input, overrides applied

    @property
    def name(self) -> str:
        return self.path.stem

    def with_run_overrides(self, **changes) -> LoadedScenario:
        """The same scenario with ``[run]`` fields replaced (command-line overrides such as
        ``--paths``); the resolved text and its sha256 then record what actually ran."""
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return self
        run = self.checked_run(**changes)
        scenario = self.scenario.model_copy(update={"run": run})
        _check_paths_kept(scenario, self.path)
        resolved = dumps(_plain(scenario))
        return replace(self, scenario=scenario, resolved_toml=resolved, sha256=hashlib.sha256(resolved.encode()).hexdigest())

    def with_overrides(self, overrides: dict[str, Any], *, allow_unconverged: bool = False) -> LoadedScenario:
        """The same scenario with dotted keys set (engine/scenario/overrides.py), validated again from its
        merged input data; the file name and the files read stay this scenario's."""
        if self.data is None:
            raise ValueError("this scenario keeps no input data to override")
        new = load_scenario_data(self.data, name=str(self.path), base_dir=Path(str(self.path)).parent,
                                 allow_unconverged=allow_unconverged, overrides=dict(overrides))
        return replace(new, path=self.path, files=self.files)

    def checked_run(self, **changes) -> S.RunSection:
        """The ``[run]`` section with command-line values applied, under the same rules as the file's
        (e.g. paths within 32-bit path indices, chunk size); ``ScenarioError`` naming the flag otherwise."""
        try:
            # exclude_unset: a field the file left to its default stays unset (chunk_paths' default is per backend)
            return S.RunSection.model_validate({**self.scenario.run.model_dump(exclude_unset=True), **changes})
        except ValidationError as exc:
            err = exc.errors()[0]
            name = ".".join(str(x) for x in err["loc"])
            raise ScenarioError(str(self.path), f"run.{name} (command line --{name.replace('_', '-')})", f"{err['msg']} (got {err.get('input')!r})") from None

    def posterior_files(self) -> dict[str, Path]:
        """Posterior files named by the scenario, resolved against the file that named them."""
        return {k: Path(v) for k, v in _posterior_refs(self.scenario).items()}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ScenarioError(str(path), "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), "", f"cannot read the file ({exc})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", f"TOML syntax error: {exc}") from None


def _merge(base: Any, over: Any) -> Any:
    """Deep merge: tables merge key by key; lists of cohorts/launches/components merge by their key."""
    if isinstance(base, dict) and isinstance(over, dict):
        if "dist" in over:  # a distribution table replaces whatever was there
            return over
        out = dict(base)
        for k, v in over.items():
            if k in out and k in _MERGE_KEYS and isinstance(out[k], list) and isinstance(v, list):
                out[k] = _merge_list(out[k], v, _MERGE_KEYS[k])
            elif k in out:
                out[k] = _merge(out[k], v)
            else:
                out[k] = v
        return out
    return over


def _merge_list(base: list, over: list, key: str) -> list:
    if not all(isinstance(x, dict) and key in x for x in base + over):
        return over
    out = [dict(x) for x in base]
    index = {x[key]: i for i, x in enumerate(out)}
    for item in over:
        if item[key] in index:
            i = index[item[key]]
            out[i] = _merge(out[i], item)
        else:
            index[item[key]] = len(out)
            out.append(item)
    return out


def _absolutize_posteriors(data: Any, base_dir: Path) -> Any:
    """Posterior ``file`` entries are relative to the file that names them: make them absolute."""
    if isinstance(data, dict):
        if data.get("dist") == "posterior" and isinstance(data.get("file"), str):
            out = dict(data)
            out["file"] = str((base_dir / data["file"]).resolve())
            return out
        return {k: _absolutize_posteriors(v, base_dir) for k, v in data.items()}
    if isinstance(data, list):
        return [_absolutize_posteriors(v, base_dir) for v in data]
    return data


def _load_chain(path: Path, stack: tuple[Path, ...]) -> tuple[dict[str, Any], tuple[Path, ...]]:
    real = path.resolve()
    if real in stack:
        cycle = " -> ".join(p.name for p in (*stack, real))
        raise ScenarioError(str(path), "extends", f"cyclic extends: {cycle}")
    return _resolve_extends(_read_toml(path), path, real.parent, (*stack, real))


def _resolve_extends(data: dict[str, Any], path: Path, base_dir: Path, stack: tuple[Path, ...]) -> tuple[dict[str, Any], tuple[Path, ...]]:
    """``data`` (read from ``path``, relative names resolved against ``base_dir``) with its
    ``extends`` chain merged under it; the files read, innermost first."""
    data = _absolutize_posteriors(data, base_dir)
    data = absolutize_path_table(data, base_dir)
    parent = data.pop("extends", None)
    whole = data.pop("replace", None)
    if parent is None:
        if whole is not None:
            raise ScenarioError(str(path), "replace", "names tables taken whole instead of merged with the file this one extends: it needs extends")
        return data, stack
    if not isinstance(parent, str):
        raise ScenarioError(str(path), "extends", "must be a file name (string), relative to this file")
    parent_path = base_dir / parent
    if not parent_path.exists():
        raise ScenarioError(str(path), "extends", f"file {parent!r} not found (looked in {base_dir})")
    base, chain = _load_chain(parent_path, stack)
    return _merge(_drop_replaced(base, whole, path), data), chain


def _drop_replaced(base: dict[str, Any], whole: Any, path: Path) -> dict[str, Any]:
    """``replace = ["fleet", "financing"]``: the named tables (dotted names) of the file extended are
    dropped, so the extending file's own tables are the whole of them (its cohorts are the whole fleet)."""
    if whole is None:
        return base
    if not isinstance(whole, list) or not all(isinstance(x, str) and x for x in whole):
        raise ScenarioError(str(path), "replace", 'must be a list of table names, e.g. replace = ["fleet", "financing"]')
    import copy

    out = copy.deepcopy(base)
    for name in whole:
        top = name.split(".")[0]
        if top not in S.Scenario.model_fields:
            near = closest_name(top, S.Scenario.model_fields)
            raise ScenarioError(str(path), "replace", f"{name!r} is not a scenario table" + (f"; did you mean {near!r}?" if near else "")
                                + f" (tables: {', '.join(S.Scenario.model_fields)})")
        *outer, last = name.split(".")
        node: Any = out
        for part in outer:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    return out


def load_scenario(path: str | Path, *, check_posteriors: bool = True, allow_unconverged: bool = False,
                  overrides: dict[str, Any] | None = None) -> LoadedScenario:
    """Read, merge and validate a scenario file. Raises ``ScenarioError`` on any bad input.

    ``allow_unconverged`` accepts posterior files that failed their convergence gate (``--allow-unconverged``);
    ``overrides`` maps dotted keys to values set after ``extends`` is merged (engine/scenario/overrides.py,
    ``--set``); the resolved text and its sha256 then record them.
    """
    path = Path(path)
    data, chain = _load_chain(path, ())
    return validated_scenario(data, path, chain, check_posteriors=check_posteriors, allow_unconverged=allow_unconverged, overrides=overrides)


def load_scenario_data(data: dict[str, Any], *, name: str = "scenario", base_dir: str | Path = ".", check_posteriors: bool = True,
                       allow_unconverged: bool = False, overrides: dict[str, Any] | None = None) -> LoadedScenario:
    """``load_scenario`` for data already in memory (a TOML text read, or a dict built in Python):
    ``extends``, posterior and path-table file names are resolved against ``base_dir``; error
    messages name the scenario ``name``."""
    import copy

    base = Path(base_dir).resolve()
    path = Path(name)
    merged, chain = _resolve_extends(copy.deepcopy(dict(data)), path, base, ())
    return validated_scenario(merged, path, chain, check_posteriors=check_posteriors, allow_unconverged=allow_unconverged, overrides=overrides)


def load_scenario_text(text: str, *, name: str = "scenario", base_dir: str | Path = ".", **kwargs) -> LoadedScenario:
    """``load_scenario_data`` of a TOML text (``ScenarioError`` naming ``name`` on a syntax error)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(name, "", f"TOML syntax error: {exc}") from None
    return load_scenario_data(data, name=name, base_dir=base_dir, **kwargs)


def validated_scenario(data: dict[str, Any], path: Path, chain: tuple[Path, ...], *, check_posteriors: bool, allow_unconverged: bool,
                       overrides: dict[str, Any] | None) -> LoadedScenario:
    """A scenario's merged TOML table ``data`` (``extends`` resolved; ``chain`` the files it came from, base
    last) with ``overrides`` applied, validated (schema, cross-field rules, stress section, posterior files
    when ``check_posteriors``) and resolved: the one validation every loader uses (files, texts, tables,
    capex plans). Raises ``ScenarioError`` naming ``path``, the field and what is allowed."""
    from engine.scenario.overrides import apply_overrides

    data = apply_overrides(data, overrides, file=str(path))
    try:
        scenario = S.Scenario.model_validate(data)
    except ValidationError as exc:
        raise _to_scenario_error(exc, path) from None
    _cross_check(scenario, path)
    check_stress(scenario, path)
    if check_posteriors:
        _check_posterior_files(scenario, path, allow_unconverged=allow_unconverged)
    resolved = dumps(_plain(scenario))
    sha = hashlib.sha256(resolved.encode()).hexdigest()
    return LoadedScenario(scenario=scenario, path=path, resolved_toml=resolved, sha256=sha, files=tuple(reversed(chain)), data=data)


def _plain(data: Any) -> Any:
    """A validated model as plain TOML-able data; fixed inputs as plain numbers, None left out."""
    if isinstance(data, Fixed):
        return data.value
    if isinstance(data, _Dist):
        return data.model_dump(mode="python", by_alias=True)
    if isinstance(data, BaseModel):
        return {k: _plain(getattr(data, k)) for k in type(data).model_fields if getattr(data, k) is not None}
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    return data


# ------------------------------------------------------------------------------------------ errors
def _loc_to_path(loc: tuple) -> str:
    out = ""
    for p in loc:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class that owns the last key of ``loc`` (for listing allowed keys)."""
    import typing

    model: Any = S.Scenario
    for p in loc[:-1]:
        if isinstance(p, int):
            continue
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = model.model_fields.get(str(p))
            if field is None:
                return None
            model = field.annotation
        elif typing.get_origin(model) is dict:
            model = typing.get_args(model)[1]
        else:
            return None
        # unwrap list[X], X | None, dict[str, X]
        for _ in range(3):
            origin = typing.get_origin(model)
            if origin in (list,):
                model = typing.get_args(model)[0]
            elif origin is typing.Union or str(origin) in ("types.UnionType", "<class 'types.UnionType'>"):
                args = [a for a in typing.get_args(model) if a is not type(None)]
                model = args[0]
    if typing.get_origin(model) is dict:
        return None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _field_named_by(loc: tuple, msg: str) -> str:
    """A section-level check whose message starts with one of the section's keys ("generation 'X' is
    unknown", "cohort names must be unique") is about that key: its path, else ""."""
    model = _model_at((*loc, ""))
    first = msg.split(" ", 1)[0]
    if model is None or not issubclass(model, S._Section) or first.split(".", 1)[0] not in model.model_fields:
        return ""
    return _loc_to_path((*loc, *first.split(".")))


def closest_name(name: str, allowed) -> str | None:
    """The allowed name closest to ``name`` (difflib ratio at least 0.6), or None: the "did you mean"."""
    import difflib

    hits = difflib.get_close_matches(str(name), [str(a) for a in allowed], n=1, cutoff=0.6)
    return hits[0] if hits else None


def _to_scenario_error(exc: ValidationError, path: Path) -> ScenarioError:
    """One ``ScenarioError`` for pydantic's list of problems: an unknown key first (a misspelt key is
    usually also the cause of a "required field is missing" beside it), with the closest allowed name."""
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")  # stable: otherwise pydantic's order
    err = errors[0]
    loc = tuple(err["loc"])
    field = _loc_to_path(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc)
        allowed = ", ".join(model.model_fields) if model else "see docs/scenarios.md"
        near = closest_name(loc[-1], model.model_fields) if model else None
        msg = (f"unknown key; did you mean '{near}'? " if near else "unknown key; ") + f"allowed keys here: {allowed}"
    elif kind == "missing":
        msg = "required field is missing (see docs/scenarios.md)"
    else:
        msg = err["msg"].removeprefix("Value error, ")
        already = msg.startswith("value ") or f"got {err.get('input')!r}" in msg  # the message states the value
        if "input" in err and kind not in ("dist",) and not isinstance(err["input"], (dict, list)) and not already:
            msg += f" (got {err['input']!r})"
        field = _field_named_by(loc, msg) or field
    if len(errors) > 1:
        msg += f" [and {len(errors) - 1} more problem(s)]"
    return ScenarioError(str(path), field, msg)


# ------------------------------------------------------------------------------------------ cross-field checks
def _per_gen(table: dict, gen: str):
    return table.get(gen, table.get("default"))


GATHERED_MAX_PATHS = 100_000_000  # runs that keep every path (store "paths"/"full", or [financing]) stop here


def _check_paths_kept(s: S.Scenario, path: Path) -> None:
    """More than GATHERED_MAX_PATHS paths only when no per-path array is kept (a streamed summary)."""
    if s.run.paths > GATHERED_MAX_PATHS and (s.run.store != "summary" or s.financing is not None):
        why = "[financing] keeps every path for the credit statistics" if s.financing is not None else f'store = "{s.run.store}" keeps every path'
        raise ScenarioError(str(path), "run.paths", f'at most {GATHERED_MAX_PATHS:,} when every path is kept ({why}); use store = "summary" without [financing] for more (got {s.run.paths:,})')


def _cross_check(s: S.Scenario, path: Path) -> None:
    from engine.generations import GENERATIONS, RANK

    f = str(path)
    _check_paths_kept(s, path)
    for g in s.market:
        if g not in GENERATIONS:
            raise ScenarioError(f, f"market.{g}", f"unknown generation; allowed: {', '.join(GENERATIONS)}")
    start = S.month_index(s.run.start_month)
    end = start + s.run.horizon_months
    for i, c in enumerate(s.fleet.cohort):
        if c.generation not in s.market:
            raise ScenarioError(f, f"fleet.cohort[{i}].generation", f"no [market.{c.generation}] section for generation {c.generation}")
        if S.month_index(c.purchase_month) >= end:
            raise ScenarioError(
                f, f"fleet.cohort[{i}].purchase_month",
                f"{c.purchase_month} is after the horizon (the run covers {s.run.start_month} to {S.month_label(end - 1)})",
            )
        if _per_gen(s.failures.annual_failure_rate_frac, c.generation) is None:
            raise ScenarioError(f, "failures.annual_failure_rate_frac", f"no rate for generation {c.generation}: give {c.generation} = ... or default = ...")
        if c.component and c.component[0].useful_life_months != c.useful_life_months:
            raise ScenarioError(f, f"fleet.cohort[{i}].component[0].useful_life_months", "the first component is the primary asset: its life must equal the cohort's useful_life_months")
    prev_rank = -1
    for i, launch in enumerate(s.next_gen.launch):
        r = RANK[launch.generation]
        if r <= prev_rank:
            raise ScenarioError(f, f"next_gen.launch[{i}].generation", "launches must be listed in generation order (older first)")
        prev_rank = r
    fleet_gens = {c.generation for c in s.fleet.cohort}
    launches = list(s.next_gen.launch)
    for i, launch in enumerate(launches):
        older = [g for g in fleet_gens if RANK[g] < RANK[launch.generation]]
        for key in ("undercut_frac", "utilization_cut_frac"):
            table = getattr(launch, key)
            missing = [g for g in older if _per_gen(table, g) is None]
            if missing and key == "undercut_frac":
                raise ScenarioError(f, f"next_gen.launch[{i}].{key}", f"no value for older generation(s) {', '.join(sorted(missing))}: give them or default = ...")
    if s.next_gen.cadence is not None:
        cad = s.next_gen.cadence
        if launches and RANK[cad.generations[0]] <= RANK[launches[-1].generation]:
            raise ScenarioError(f, "next_gen.cadence.generations", "cadence generations must come after the last explicit launch")
        ranks = [RANK[g] for g in cad.generations]
        if ranks != sorted(set(ranks)):
            raise ScenarioError(f, "next_gen.cadence.generations", "must be distinct and in generation order")
        if not launches:
            raise ScenarioError(f, "next_gen.cadence", "a cadence follows explicit launches: give at least one [[next_gen.launch]]")
        missing = [g for g in fleet_gens if _per_gen(cad.undercut_frac, g) is None]
        if missing:
            raise ScenarioError(f, "next_gen.cadence.undercut_frac", f"no value for generation(s) {', '.join(sorted(missing))}: give them or default = ...")
    for key, table in (("tokens_per_second_per_gpu", s.tco.tokens_per_second_per_gpu), ("cloud_price_usd_per_gpu_hour", s.tco.cloud_price_usd_per_gpu_hour)):
        if table:
            missing = [g for g in fleet_gens if _per_gen(table, g) is None]
            if missing:
                raise ScenarioError(f, f"tco.{key}", f"no value for generation(s) {', '.join(sorted(missing))}: give them or default = ...")
    from engine.inputs.registry import input_paths

    known = set(input_paths(s))
    for i, pair in enumerate(s.correlations.pair):
        for side in ("a", "b"):
            name = getattr(pair, side)
            if name not in known:
                raise ScenarioError(f, f"correlations.pair[{i}].{side}", f"{name!r} is not an uncertain input of this scenario; uncertain inputs: {', '.join(sorted(known)) or 'none'}")
        if pair.a == pair.b:
            raise ScenarioError(f, f"correlations.pair[{i}]", "a and b must differ")
    if s.financing is not None:
        from engine.credit.checks import check_financing

        check_financing(s, f)
    if s.correlations.pair:
        from engine.inputs.copula import copula_matrix

        names = sorted(known)
        try:
            copula_matrix(names, [(p.a, p.b, p.rank) for p in s.correlations.pair])
        except ValueError as exc:
            raise ScenarioError(f, "correlations.pair", str(exc)) from None


def _posterior_refs(s: S.Scenario) -> dict[str, str]:
    from engine.inputs.registry import iter_inputs

    return {name: d.file for name, d in iter_inputs(s) if isinstance(d, Posterior)}


def _check_posterior_files(s: S.Scenario, path: Path, *, allow_unconverged: bool = False) -> None:
    from engine.inputs.posterior import check_posterior_input
    from engine.inputs.registry import iter_inputs

    for name, d in iter_inputs(s):
        if isinstance(d, Posterior):
            check_posterior_input(d, field=name, scenario_file=str(path), allow_unconverged=allow_unconverged)
