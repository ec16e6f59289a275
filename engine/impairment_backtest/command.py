"""``rackrisk impairment-backtest``: checks, one run per company-year, the table, scores, atomic output.

For each preset (company) and valuation date: build the fleet as of the date (``asof.build``), run
it with the engine (``engine.app.run_scenario``, nothing written per run), read P(material
impairment in the first 12 months) per standard (``statistic.p_material_impairment_12m``), and
pair it with the observed outcome (``outcomes.observe``). Every input is checked before any
simulation; the output folder is written atomically (``engine.outdir.atomic_dir``):

    company_years.csv     one row per company-year (columns: COLUMNS)
    scores.json           Brier score and probability of the observed outcomes, per standard
    observed_rows.csv     every filing row consulted for the outcomes
    provenance.json       command, seed, paths, git sha, posterior and data file hashes, per-run detail
    scenarios/<preset>_<YYYY-MM>.toml   the as-of scenarios that ran
    summaries/<preset>_<YYYY-MM>.json   their summaries (as summary.json of ``rackrisk run``)
"""

from __future__ import annotations

import csv
import io
import re
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from engine.impairment_backtest.asof import AsOfInputError

DEFAULT_SCENARIOS = ("scenarios/coreweave_like.toml", "scenarios/nebius_like.toml", "scenarios/lambda_like.toml")
DEFAULT_PATHS = 4000
DEFAULT_SEED = 20261126
STANDARDS = ("asc360", "ias36")
COLUMNS = (
    "entity", "scenario", "as_of",
    "p_material_impairment_12m_asc360", "p_material_impairment_12m_asc360_se",
    "p_material_impairment_12m_ias36", "p_material_impairment_12m_ias36_se",
    "definition", "observed_impairment", "observed_rows_in_window", "observed_source",
)
DATA_TABLES = ("rental_prices", "launch_timing", "neocloud_financials")


@dataclass
class CompanyYear:
    """One company-year: the as-of scenario, its probabilities (standard -> statistic.Probability),
    the observed outcome (outcomes.Outcome) and the run's summary."""

    asof: object
    entity: str
    probs: dict
    outcome: object
    summary: dict


def check_scenarios(scenarios: list[str]) -> dict[str, str]:
    """scenario -> entity. Raises AsOfInputError("SCENARIO") for a missing file or a file name that
    names no company of the filings table."""
    from engine.impairment_backtest.outcomes import TABLE, entities, entity_for

    out = {}
    for s in scenarios:
        if not Path(s).is_file():
            raise AsOfInputError("SCENARIO", f"{s}: file not found; the shipped presets: {', '.join(DEFAULT_SCENARIOS)}")
        ent = entity_for(Path(s).stem)
        if ent is None:
            names = ", ".join(f"{re.sub(r'[^a-z0-9]', '', e.lower())}_like.toml" for e in entities())
            raise AsOfInputError("SCENARIO", f"{s}: no company for it in priors/observations/{TABLE}.csv: the file name must be "
                                 f"<company>_like.toml, one of {names}")
        out[s] = ent
    return out


def fit_missing_posteriors(as_ofs: list[str]) -> list[str]:
    """Fit the required as-of posteriors that are not shipped (imports pymc; minutes each).
    Returns the files written."""
    from engine.impairment_backtest.posteriors import ASOF, REQUIRED, fit_command

    written = []
    for d in as_ofs:
        for model in REQUIRED:
            if (ASOF / d / f"{model}.nc").exists():
                continue
            from priors.fit import GateError, fit  # pymc: only here, only when a file is missing

            try:
                res = fit(model, as_of=d, seed=DEFAULT_SEED, out_dir=ASOF / d)
            except GateError as exc:
                raise AsOfInputError("--fit-missing", f"{exc}; fit it by hand with another seed: {fit_command(model, d)} --seed S") from None
            written.append(str(res.path))
    return written


def prepare(scenarios: list[str], as_ofs: list[str]) -> list[tuple[object, str]]:
    """Every (as-of scenario, entity), built and checked before anything runs."""
    from engine.impairment_backtest.asof import build

    entity = check_scenarios(scenarios)
    out = []
    for s in scenarios:
        for d in as_ofs:
            try:
                out.append((build(s, d), entity[s]))
            except AsOfInputError:
                raise
            except ValueError as exc:  # an as-of posterior missing or mislabelled
                raise AsOfInputError("--as-of", str(exc)) from None
    return out


def run_company_years(prepared, *, paths: int, seed: int) -> list[CompanyYear]:
    """Simulate each as-of scenario (``paths`` paths, root ``seed``) and pair it with its outcome."""
    from engine.app import run_scenario
    from engine.impairment_backtest.outcomes import observe
    from engine.impairment_backtest.statistic import p_material_impairment_12m

    rows = []
    with tempfile.TemporaryDirectory(prefix="rackrisk-ibacktest-") as tmp:
        for asof, entity in prepared:
            path = asof.write(Path(tmp))
            res = run_scenario(path, paths=paths, seed=seed, write=False)
            probs = {std: p_material_impairment_12m(res.summary, std) for std in STANDARDS}
            rows.append(CompanyYear(asof=asof, entity=entity, probs=probs, outcome=observe(entity, asof.as_of), summary=res.summary))
    return rows


def scores(rows: list[CompanyYear]) -> dict:
    """Per standard: Brier score, probability of the observed outcomes (and its log), the
    forecasts and outcomes; and the Brier scores of two constant forecasters for comparison."""
    from engine.impairment_backtest.scoring import brier, constant_brier, log_prob_observed, prob_observed

    y = [r.outcome.impaired for r in rows]
    out = {"n_company_years": len(rows), "n_observed_impairments": sum(y), "standards": {}}
    for std in STANDARDS:
        p = [r.probs[std].value for r in rows]
        out["standards"][std] = {"brier": brier(p, y), "prob_observed": prob_observed(p, y), "log_prob_observed": log_prob_observed(p, y)}
    base = sum(y) / len(y)
    out["constant_forecasters"] = {
        "brier_constant_0.5": constant_brier(0.5, y),
        "brier_constant_observed_frequency": constant_brier(base, y),
        "observed_frequency": base,
    }
    return out


def _csv(header, records) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(records)
    return buf.getvalue()


def table_rows(rows: list[CompanyYear]) -> list[list]:
    out = []
    for r in rows:
        defs = sorted({p.definition for p in r.probs.values()})
        out.append([
            r.entity, str(r.asof.preset), r.asof.as_of,
            *(f"{x:.6g}" for std in STANDARDS for x in (r.probs[std].value, r.probs[std].se)),
            "/".join(defs), r.outcome.impaired, len(r.outcome.rows), r.outcome.source,
        ])
    return out


def provenance(rows: list[CompanyYear], *, argv: list[str], paths: int, seed: int) -> dict:
    """Command, seed, paths, git sha, file hashes (posteriors, data tables) and per-run detail."""
    from engine.version import __version__
    from engine.inputs.posterior import file_sha256
    from priors.observations_io import file_hashes

    first = rows[0].summary["provenance"]
    posterior_files = {}
    for r in rows:
        posterior_files.update(r.summary["provenance"]["posterior_files"])
    return {
        "command": "rackrisk " + " ".join(argv),
        "engine_version": __version__,
        "engine_git_sha": first["engine_git_sha"],
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seed": seed,
        "paths": paths,
        "jax_backend": first.get("jax_backend"),
        "posterior_files_sha256": posterior_files,
        "data_sha256": file_hashes(list(DATA_TABLES)),
        "company_years": [
            {
                "entity": r.entity, "scenario": str(r.asof.preset), "scenario_sha256_preset": file_sha256(r.asof.preset),
                "as_of": r.asof.as_of, "start_month": r.asof.start_month, "as_of_scenario_sha256": r.summary["provenance"]["scenario_sha256"],
                "cohorts_kept": r.asof.cohorts_kept, "cohorts_dropped": r.asof.cohorts_dropped,
                "start_prices_usd_per_gpu_hour": {g: {"value": p.usd_per_gpu_hour, "date": p.date, "note": p.note} for g, p in r.asof.start_prices.items()},
                "launches": [{"generation": k.generation, "announced": k.announced, "ship_months_from_start": k.ship_months_from_start,
                              "lags_months": k.lags_months} for k in r.asof.launches],
                "posteriors": {m: {"file": str(c.path), "fitted_as_of": c.fitted_as_of} for m, c in r.asof.posteriors.items()},
                "notes": r.asof.notes,
                "observed_window": list(r.outcome.window),
            }
            for r in rows
        ],
    }


def write_output(out: Path, rows: list[CompanyYear], sc: dict, prov: dict, *, force: bool) -> None:
    """Everything into ``out`` at once (atomic: all files or none)."""
    from engine.jsontext import json_text
    from engine.outdir import atomic_dir

    with atomic_dir(out, force=force) as tmp:
        (tmp / "company_years.csv").write_text(_csv(COLUMNS, table_rows(rows)))
        (tmp / "scores.json").write_text(json_text(sc))
        obs_cols = ("entity", "as_of", "date", "metric", "value", "unit", "source", "trust")
        (tmp / "observed_rows.csv").write_text(_csv(obs_cols, [[r.entity, r.asof.as_of, *(x[k] for k in obs_cols[2:])] for r in rows for x in r.outcome.rows]))
        (tmp / "provenance.json").write_text(json_text(prov))
        (tmp / "scenarios").mkdir()
        (tmp / "summaries").mkdir()
        for r in rows:
            r.asof.write(tmp / "scenarios")
            (tmp / "summaries" / f"{r.asof.preset.stem}_{r.asof.as_of}.json").write_text(json_text(r.summary))


def print_report(rows: list[CompanyYear], sc: dict, file=None) -> None:
    """The per-company-year probabilities, the probability of what was observed and the Brier scores
    (to ``file``, default standard output)."""
    w = lambda s="": print(s, file=file or sys.stdout)  # noqa: E731
    w(f"{'entity':<10} {'as_of':<8} {'P(impair 12m) ASC 360':>22} {'P(impair 12m) IAS 36':>22}  {'definition':<10} observed")
    for r in rows:
        a, i = r.probs["asc360"], r.probs["ias36"]
        w(f"{r.entity:<10} {r.asof.as_of:<8} {a.value:>13.3f} ± {a.se:.3f} {i.value:>13.3f} ± {i.se:.3f}  {a.definition:<10} {r.outcome.impaired}")
    w()
    n, k = sc["n_company_years"], sc["n_observed_impairments"]
    w(f"{n} company-years, {k} with an observed impairment")
    for std, s in sc["standards"].items():
        w(f"{std}: P(everything observed) = {s['prob_observed']:.3g} (log {s['log_prob_observed']:.3f}); Brier {s['brier']:.3f}")
    c = sc["constant_forecasters"]
    w(f"for comparison: Brier of a constant 0.5 forecast {c['brier_constant_0.5']:.3f}; of the observed frequency "
      f"{c['observed_frequency']:.3f} (hindsight) {c['brier_constant_observed_frequency']:.3f}")


def run(*, scenarios: list[str], as_ofs: list[str], out: Path, paths: int, seed: int, force: bool, fit_missing: bool, argv: list[str]) -> tuple[list[CompanyYear], dict]:
    """The whole command after argument parsing. Raises AsOfInputError / ScenarioError / FileExistsError
    for bad input, before anything is simulated or written."""
    from engine.outdir import check_out_dir

    check_scenarios(scenarios)
    check_out_dir(out, force)
    if fit_missing:
        fit_missing_posteriors(as_ofs)
    prepared = prepare(scenarios, as_ofs)
    rows = run_company_years(prepared, paths=paths, seed=seed)
    sc = scores(rows)
    write_output(out, rows, sc, provenance(rows, argv=argv, paths=paths, seed=seed), force=force)
    return rows, sc
