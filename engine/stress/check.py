"""Load-time checks of the ``[stress]`` section (called by engine.scenario.load).

Everything that can be wrong with a stress is found here, before any compilation, with one
``ScenarioError`` naming the file, the field and what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import ScenarioError
from engine.generations import RANK
from engine.scenario import schema as S


def absolutize_path_table(data: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """``stress.path_table`` is relative to the file that names it: make it absolute."""
    st = data.get("stress")
    if isinstance(st, dict) and isinstance(st.get("path_table"), str):
        st = dict(st)
        st["path_table"] = str((base_dir / st["path_table"]).resolve())
        return {**data, "stress": st}
    return data


def fleet_generations(s: S.Scenario) -> tuple[str, ...]:
    return tuple(sorted({c.generation for c in s.fleet.cohort}, key=lambda g: RANK[g]))


def check_stress(s: S.Scenario, path: Path) -> None:
    """Cross-field checks of ``s.stress``; raises ``ScenarioError``."""
    st = s.stress
    if st is None:
        return
    f = str(path)
    gens = fleet_generations(s)
    start = S.month_index(s.run.start_month)
    end = start + s.run.horizon_months - 1
    has_financing = getattr(s, "financing", None) is not None
    explicit = [x.generation for x in s.next_gen.launch]
    cadence = list(s.next_gen.cadence.generations) if s.next_gen.cadence else []
    launch_gens: list[str] = []
    for i, sh in enumerate(st.shock):
        where = f"stress.shock[{i}]"
        m = sh.first_month_abs()
        if not start <= m <= end:
            key = "month" if sh.month is not None else "quarter"
            raise ScenarioError(f, f"{where}.{key}", f"the shock starts in {S.month_label(m)}, outside the run ({S.month_label(start)} .. {S.month_label(end)})")
        if sh.kind == "sofr" and not has_financing:
            raise ScenarioError(f, f"{where}.kind", "a sofr shock needs a [financing] section (SOFR drives the debt's interest); this scenario has none")
        if sh.kind == "launch":
            lg = sh.generation
            if lg in launch_gens:
                raise ScenarioError(f, f"{where}.generation", f"two launch shocks for {lg}; give one")
            launch_gens.append(lg)
            if lg in cadence:
                raise ScenarioError(f, f"{where}.generation", f"{lg} is a cadence launch; a launch shock can force an explicit launch ({', '.join(explicit) or 'none'}) or a new generation older than the cadence ({', '.join(cadence)})")
            if cadence and lg not in explicit and RANK[lg] >= RANK[cadence[0]]:
                raise ScenarioError(f, f"{where}.generation", f"a new launch must be older than the cadence's first generation {cadence[0]}")
            older = [g for g in gens if RANK[g] < RANK[lg]]
            if not older:
                raise ScenarioError(f, f"{where}.generation", f"{lg} is not newer than any fleet generation ({', '.join(gens)}); it would undercut nothing")
            bad = [g for g in sh.generations if g not in older]
            if bad:
                raise ScenarioError(f, f"{where}.generations", f"{', '.join(bad)} is not a fleet generation older than {lg}; allowed: {', '.join(older)}")
        else:
            bad = [g for g in sh.generations if g not in gens]
            if bad:
                raise ScenarioError(f, f"{where}.generations", f"{', '.join(bad)} is not a fleet generation; allowed: {', '.join(gens)}")
    if st.band:
        from engine.inputs.registry import iter_inputs
        from engine.scenario.dists import Fixed

        kinds = dict(iter_inputs(s))
        random_names = sorted(n for n, d in kinds.items() if not isinstance(d, Fixed))
        seen = set()
        for i, b in enumerate(st.band):
            where = f"stress.band[{i}].input"
            if b.input not in kinds:
                raise ScenarioError(f, where, f"{b.input!r} is not an input of this scenario; uncertain inputs: {', '.join(random_names)}")
            if isinstance(kinds[b.input], Fixed):
                raise ScenarioError(f, where, f"{b.input!r} is fixed (one value); a band needs an uncertain input: {', '.join(random_names)}")
            if b.input in seen:
                raise ScenarioError(f, where, f"{b.input!r} has two bands; give one")
            seen.add(b.input)
    if st.path_table is not None:
        from engine.stress.path_table import read_path_table

        table = read_path_table(st.path_table, scenario_file=f, field="stress.path_table", start_abs=start, T=s.run.horizon_months, generations=gens)
        if table.has_sofr and not has_financing:
            raise ScenarioError(st.path_table, "sofr_shock_annual_frac", f"a SOFR path needs a [financing] section in {f}; this scenario has none")
