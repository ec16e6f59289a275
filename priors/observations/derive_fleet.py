"""Re-create the fleet observation tables from the shared data set.

    python priors/observations/derive_fleet.py          (from the repository root)

writes ``failures.csv``, ``utilization.csv``, ``elasticity.csv`` and ``residual_value.csv`` next to
this script from ``<repo>/../shared/data``. Every output row carries ``date`` (empty when the source
gives none), ``source``, ``trust`` (A primary, B reproducible dataset, C blog/unverified, D suspect or
unsourced: ``read_table`` drops D) and ``origin`` (``file:line`` of the shared-data row(s) it came
from; line 1 is the header). Ranges stay intervals (``value_low``, ``value_high``); a point value has
``value_low == value_high``; an open end is left empty. The row selection rules and every judgment
are in ``README_fleet.md``; this script is the executable form of them and checks that each source
row it relies on still says what the README says (``_expect``), so a changed input fails loudly.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = REPO.parent / "shared" / "data"

DAYS_PER_YEAR = 365.25


# ----------------------------------------------------------------------------------------- helpers
def _read(rel: str) -> pd.DataFrame:
    df = pd.read_csv(DATA / rel, dtype=str, keep_default_na=False)
    df["_line"] = df.index + 2  # header is line 1; no field in these files spans lines
    df["_file"] = rel
    return df


def _origin(*rows) -> str:
    return "; ".join(f"{r['_file']}:{r['_line']}" for r in rows)


def _expect(cond: bool, what: str) -> None:
    if not cond:
        raise SystemExit(f"derive_fleet: shared data changed, re-check README_fleet.md: {what}")


def url_date(url: str) -> str:
    """Publication date evident from a source URL, else ''.

    Rules: a ``/YYYY/MM/DD/`` path (blogs, news), an arXiv id ``YYMM.NNNNN`` (-> ``20YY-MM``), or a
    file name ending ``_MM_DD_YYYY`` (working-paper PDFs). Nothing else is guessed.
    """
    if not url:
        return ""
    m = re.search(r"/(20\d\d)/(\d\d)/(\d\d)/", url)
    if m:
        return f"{m[1]}-{m[2]}-{m[3]}"
    m = re.search(r"arxiv\.org/(?:abs|pdf|html)/(\d\d)(\d\d)\.\d{4,5}", url)
    if m:
        return f"20{m[1]}-{m[2]}"
    m = re.search(r"_(\d\d)_(\d\d)_(20\d\d)\.pdf", url)
    if m:
        return f"{m[3]}-{m[1]}-{m[2]}"
    return ""


def seed_trust(url: str) -> str:
    """Trust for seed rows (which carry none): a research paper A, any other web source C, none D."""
    if not url:
        return "D"
    if "arxiv.org" in url or url.endswith(".pdf"):
        return "A"
    return "C"


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for c in columns:
        if c not in df:
            df[c] = ""
    return df[columns]


# ---------------------------------------------------------------------------------------- failures
GPU_CATEGORIES = {  # Meta Llama 3 root causes attributed to the GPU itself (FR's derived 268-row note)
    "Faulty GPU", "GPU HBM3 Memory", "GPU SRAM Memory", "GPU System Processor",
    "Silent Data Corruption", "GPU Thermal Interface + Sensor",
}
FAILURE_COLS = ["date", "source", "trust", "entity", "generation", "metric", "category", "count",
                "exposure_gpu_years", "exposure_log_sd", "value", "value_low", "value_high", "unit",
                "gpu_attributed", "origin", "note"]


def derive_failures() -> pd.DataFrame:
    fr = _read("fleet/failure_rates.csv")
    rows = []
    # Meta Llama 3: every root-cause count, 16,384 H100 x 54 days.
    meta = fr[fr["metric"].str.startswith("interruptions:") & (fr["entity"] == "Meta Llama 3 405B pretraining")]
    _expect(meta["value"].astype(int).sum() == 419 and set(meta["fleet_size_gpus"]) == {"16384"} and set(meta["observation_window"]) == {"54 days"}, "Meta root-cause table sums to the 419 unexpected interruptions")
    exposure = 16384 * 54 / DAYS_PER_YEAR
    n_gpu = 0
    for _, r in meta.iterrows():
        cat = r["metric"].split(":", 1)[1]
        gpu = cat in GPU_CATEGORIES
        n_gpu += int(r["value"]) if gpu else 0
        rows.append(dict(date=r["date"], source=r["source"], trust=r["trust"], entity=r["entity"], generation="H100",
                         metric="interruptions", category=cat, count=int(r["value"]), exposure_gpu_years=round(exposure, 3),
                         exposure_log_sd=0.0, unit="count", gpu_attributed=int(gpu), origin=_origin(r),
                         note=f"{r['notes']}; exposure 16,384 GPUs x 54 days / {DAYS_PER_YEAR}"))
    _expect(n_gpu == 268, "268 GPU-attributed Meta interruptions")
    # Crusoe (GTC25): ~205 faults on ~1,600 H200 over ~4 months, split by the reported shares.
    cr = fr[fr["entity"].str.startswith("Crusoe")]
    share = cr[cr["metric"] == "fault_share:GPU host replacement"].iloc[0]
    rec = cr[cr["metric"] == "fault_share:GPU recoverable faults"].iloc[0]
    _expect(share["value"] == "41.5" and rec["value"] == "19.5" and "205" in share["observation_window"] and share["fleet_size_gpus"] == "1600", "Crusoe shares")
    total, n_gpus, months = 205, 1600, 4.0
    gpu_faults = round(total * (41.5 + 19.5) / 100)
    exp_c = n_gpus * months / 12
    common = dict(date=share["date"], source=share["source"], trust=share["trust"], entity="Crusoe (GTC25 talk)", generation="H200",
                  metric="interruptions", exposure_gpu_years=round(exp_c, 3), exposure_log_sd=0.3, unit="count", origin=_origin(share, rec))
    rows.append(dict(common, category="GPU host replacement + GPU recoverable", count=gpu_faults, gpu_attributed=1,
                     note="205 faults x (41.5 % + 19.5 %); fleet ~1,600 GPUs (inferred by source) x ~4 months: exposure uncertain, log-sd 0.3"))
    rows.append(dict(common, category="other host + InfiniBand", count=total - gpu_faults, gpu_attributed=0,
                     note="205 faults x (4.9 + 4.9 + 12.2 + 17 %) = the rest; not GPU-attributed"))
    # Permanent-failure synthesis: 4 % central, 2.5-6 % range, H100-class.
    pf = fr[fr["metric"] == "permanent_failure_rate_central"].iloc[0]
    _expect(pf["value"] == "4" and "2.5%" in pf["notes"] and "6%" in pf["notes"], "permanent-failure synthesis 2.5-6 %")
    rows.append(dict(date=pf["date"], source=pf["source"], trust=pf["trust"], entity=pf["entity"], generation="H100",
                     metric="permanent_rate", category="all permanent", value=0.04, value_low=0.025, value_high=0.06,
                     unit="per GPU-year", gpu_attributed=1, origin=_origin(pf), note=pf["notes"]))
    out = _frame(rows, FAILURE_COLS)
    out["count"] = pd.array([None if c == "" or pd.isna(c) else int(c) for c in out["count"]], dtype="Int64")
    return out


# ------------------------------------------------------------------------------------- utilization
UTIL_COLS = ["date", "source", "trust", "subject", "metric", "value_low", "value_high", "unit", "origin", "note"]

# quantity 'utilization' rows of seed/hardware_and_ops.csv: subject -> (metric, reading of the figure)
UTIL_SUBJECTS = {
    "standard AI workload": ("fleet_utilization", "as stated"),
    "self-hosted GPU acceptable band": ("fleet_utilization", "as stated; a band where self-hosting is 'fine'"),
    "self-hosted GPU off-peak/early-stage (painful)": ("fleet_utilization", "as stated; a band where self-hosting is 'painful'"),
    "Google TPUs 7-8 years old": ("fleet_utilization", "'100%' read as the interval [0.90, 1.00] (a round self-reported claim; a Beta has no mass at 1)"),
    "illustrative: PUE 1.09 site vs PUE 1.67 site": ("fleet_utilization", "illustrative, unsourced"),
    "H100 FlashAttention-2 attention kernel": ("kernel_flops_utilization", "FLOPs utilization of a kernel, not time utilization: not used"),
    "H100 optimized GEMM": ("kernel_flops_utilization", "FLOPs utilization of a kernel, not time utilization: not used"),
}


def _pairs(df: pd.DataFrame) -> list[list[pd.Series]]:
    """Group low/high rows of one range (same subject and quote) into one item; points alone."""
    out, pending = [], {}
    for _, r in df.iterrows():
        key = (r["subject"], r["quote"])
        if r["bound"] == "low":
            pending[key] = r
        elif r["bound"] == "high" and key in pending:
            out.append([pending.pop(key), r])
        else:
            out.append([r])
    out.extend([[r] for r in pending.values()])
    return out


def derive_utilization() -> pd.DataFrame:
    hw = _read("seed/hardware_and_ops.csv")
    rows = []
    util = hw[hw["quantity"] == "utilization"]
    _expect(set(util["subject"]) == set(UTIL_SUBJECTS), "utilization subjects in hardware_and_ops.csv")
    for item in _pairs(util):
        r = item[0]
        metric, reading = UTIL_SUBJECTS[r["subject"]]
        vals = [float(x["value"]) / 100 for x in item]
        lo, hi = min(vals), max(vals)
        if r["subject"].startswith("Google TPUs"):
            lo, hi = 0.90, 1.00
        rows.append(dict(date=url_date(r["source_url"]), source=r["source_url"] or f"(no source) {r['node_title']}",
                         trust=seed_trust(r["source_url"]), subject=r["subject"], metric=metric, value_low=lo, value_high=hi,
                         unit="fraction", origin=_origin(*item), note=f"{reading}. {r['quote']}" + (f" [{r['note']}]" if r["note"] else "")))
    # CoreWeave's 2020 A100s "fully booked" (CNBC 2025-11-14; the same claim is repeated by SiliconANGLE, DP:18).
    dp = _read("seed/depreciation_policies.csv")
    cw = dp[dp["quote"].str.contains("A100 chips from 2020 are all fully booked")].iloc[0]
    dup = dp[dp["quote"].str.contains('five-year-old A100s remain "fully booked"', regex=False)]
    rows.append(dict(date=url_date(cw["source_url"]), source=cw["source_url"], trust=seed_trust(cw["source_url"]),
                     subject="CoreWeave A100 (2020 cohort) fully booked", metric="fleet_utilization", value_low=0.90, value_high=1.00,
                     unit="fraction", origin=_origin(cw),
                     note="'fully booked' read as the interval [0.90, 1.00]; the same CoreWeave claim in SiliconANGLE"
                          + (f" ({_origin(dup.iloc[0])})" if len(dup) else "") + " is not counted twice. " + cw["quote"]))
    # Power draw as a fraction of TDP: kept apart (metric), never used as utilization.
    for _, r in hw[hw["quantity"] == "power_draw_fraction_of_tdp"].iterrows():
        v = float(r["value"])
        lo, hi = (("", v) if r["bound"] == "high" else (v, v))
        rows.append(dict(date=url_date(r["source_url"]), source=r["source_url"] or f"(no source) {r['node_title']}",
                         trust=seed_trust(r["source_url"]), subject=r["subject"], metric="power_draw_fraction_of_tdp",
                         value_low=lo, value_high=hi, unit="fraction", origin=_origin(r),
                         note="power draw / TDP is not utilization: not used by the utilization model. " + r["quote"]))
    return _frame(rows, UTIL_COLS)


# -------------------------------------------------------------------------------------- elasticity
ELAST_COLS = ["date", "source", "trust", "quantity", "subject", "level", "value_low", "value_high", "unit", "role", "origin", "note"]


def derive_elasticity() -> pd.DataFrame:
    et = _read("seed/elasticity_and_trends.csv")
    rows = []
    sel = et[et["quantity"].isin(["price_elasticity_of_demand", "training_cost_inference_price_elasticity"])]
    _expect(len(sel) == 6, "six elasticity / pass-through rows")
    for _, r in sel.iterrows():
        if r["quantity"] == "price_elasticity_of_demand":
            quantity, level, unit = "token_price_elasticity", "model_provider", "abs elasticity"
            # the primary estimate is the one whose note says it is a lower bound; the 'readings' restate it
            role = "estimate" if "lower bound" in r["note"] else "restatement"
        else:
            quantity, level, unit = "pass_through_training_cost_to_inference_price", "market", "elasticity (beta)"
            role = "estimate" if r["subject"].startswith("LLM providers") else "restatement"
        lo = float(r["value_low"]) if r["value_low"] else ""
        hi = float(r["value_high"]) if r["value_high"] else ""
        rows.append(dict(date=url_date(r["source_url"]), source=r["source_url"], trust=seed_trust(r["source_url"]), quantity=quantity,
                         subject=r["subject"], level=level, value_low=lo, value_high=hi, unit=unit, role=role, origin=_origin(r),
                         note=r["quote"] + (f" [{r['note']}]" if r["note"] else "")))
    out = _frame(rows, ELAST_COLS)
    _expect((out["role"] == "estimate").sum() == 2, "one estimate per quantity")
    return out


# ---------------------------------------------------------------------------------- residual value
RESID_COLS = ["date", "source", "trust", "gpu", "kind", "age_months", "value_low", "value_high", "used_usd_low", "used_usd_high",
              "new_usd_low", "new_usd_high", "origin", "note"]
H100_VOLUME = pd.Timestamp("2023-06-30")  # LT: H100 volume shipments, CQ2 2023
H100_FIRST = pd.Timestamp("2022-10-01")   # LT: full production, OEM systems ship from Oct 2022


def _months(a: pd.Timestamp, b: pd.Timestamp) -> float:
    return round((b - a).days / (DAYS_PER_YEAR / 12), 1)


def derive_residual_value() -> pd.DataFrame:
    sp = _read("market/secondary_and_purchase_prices.csv")
    et = _read("seed/elasticity_and_trends.csv")
    rows = []
    # GLRI residual curve (percent of MSRP by year of age); ranges from its note.
    glri = sp[sp["entity"] == "GLRI residual guide"]
    _expect(len(glri) == 5, "GLRI rows")
    ranges = {("H100 SXM5", 1): (60, 65), ("H100 SXM5", 2): (40, 45), ("H100 SXM5", 3): (25, 35), ("H100 SXM5", 4): (15, 20), ("A100 80GB", 3): (20, 25)}
    note_h = glri[glri["series"] == "residual_pct_year1"].iloc[0]["notes"]
    note_a = glri[glri["gpu"] == "A100 80GB"].iloc[0]["notes"]
    _expect("60-65% yr1, 40-45% yr2, 25-35% yr3, 15-20% yr4" in note_h and "yr1 depreciation 45-50%, yr3 residual 20-25%" in note_a, "GLRI note ranges")
    for _, r in glri.iterrows():
        year = int(r["series"][-1])
        lo, hi = ranges[(r["gpu"], year)]
        gen = r["gpu"].split()[0]
        age = 12 * year
        trust, extra = r["trust"], ""
        if gen == "H100" and age > _months(H100_FIRST, pd.Timestamp(r["date"])):
            trust = "D"
            extra = f"; age {age} months exceeds the H100's age at publication ({_months(H100_FIRST, pd.Timestamp(r['date']))} months since Oct 2022 shipments): an extrapolation, not an observation"
        rows.append(dict(date=r["date"], source=r["source"], trust=trust, gpu=gen, kind="residual_curve", age_months=age,
                         value_low=lo / 100, value_high=hi / 100, origin=_origin(r), note=f"{r['series']} {lo}-{hi} % of MSRP (range from the note){extra}"))
        if gen == "A100" and year == 3:  # the note's 'yr1 depreciation 45-50%' = residual 50-55 % at 12 months
            rows.append(dict(date=r["date"], source=r["source"], trust=r["trust"], gpu="A100", kind="residual_curve", age_months=12,
                             value_low=0.50, value_high=0.55, origin=_origin(r), note="from the note: 'A100 yr1 depreciation 45-50%' = residual 50-55 %"))
    # Used H100 prices against the H100 SXM new list price $25-40k (2023-24); age from H100 volume shipments.
    lst = sp[(sp["entity"] == "NVIDIA list (reported)") & (sp["gpu"] == "H100 SXM")]
    new_lo = float(lst[lst["series"] == "new_list_range_low"].iloc[0]["value"])
    new_hi = float(lst[lst["series"] == "new_list_range_high"].iloc[0]["value"])
    _expect((new_lo, new_hi) == (25000.0, 40000.0), "H100 SXM new list $25-40k")
    for entity, gpu in (("used market", "H100 SXM"), ("secondary market (ComputeForecast)", "H100")):
        sub = sp[(sp["entity"] == entity) & (sp["gpu"] == gpu)]
        lo_r = sub[sub["series"].str.endswith("_low")].iloc[0]
        hi_r = sub[sub["series"].str.endswith("_high")].iloc[0]
        u_lo, u_hi = float(lo_r["value"]), float(hi_r["value"])
        age = _months(H100_VOLUME, pd.Timestamp(lo_r["date"]))
        rows.append(dict(date=lo_r["date"], source=lo_r["source"], trust=lo_r["trust"], gpu="H100", kind="used_market", age_months=age,
                         value_low=round(u_lo / new_hi, 4), value_high=round(u_hi / new_lo, 4), used_usd_low=u_lo, used_usd_high=u_hi,
                         new_usd_low=new_lo, new_usd_high=new_hi, origin=_origin(lo_r, hi_r, lst.iloc[0], lst.iloc[1]),
                         note=f"used ${u_lo:,.0f}-{u_hi:,.0f} / new list ${new_lo:,.0f}-{new_hi:,.0f}: interval = [low/high, high/low]; age from H100 volume shipments 2023-06-30 (units bought later are younger). {lo_r['notes']}"))
    # V100: ~$10,000 new in 2019, "a few hundred dollars" in 2025.
    v = sp[sp["gpu"] == "V100"].iloc[0]
    _expect(v["value"] == "10000" and "a few hundred dollars" in v["notes"], "V100 row")
    age = _months(pd.Timestamp("2019-07-01"), pd.Timestamp(v["date"]))
    rows.append(dict(date=v["date"], source=v["source"], trust=v["trust"], gpu="V100", kind="used_market", age_months=age,
                     value_low=0.02, value_high=0.05, used_usd_low=200.0, used_usd_high=500.0, new_usd_low=10000.0, new_usd_high=10000.0,
                     origin=_origin(v), note="'a few hundred dollars' read as $200-500; new price dated mid-2019 (year only). " + v["notes"]))
    # Seed claims of value decline over 3 years (undated).
    for _, r in et[et["quantity"] == "asset_value_decline"].iterrows():
        lo, hi = 1 - float(r["value_high"]) / 100, 1 - float(r["value_low"]) / 100
        forecast = "forecast" in r["subject"]
        rows.append(dict(date=url_date(r["source_url"]), source=r["source_url"], trust=seed_trust(r["source_url"]),
                         gpu=r["subject"].split()[0], kind="forecast" if forecast else "depreciation_claim", age_months=36,
                         value_low=round(lo, 4), value_high=round(hi, 4), origin=_origin(r),
                         note=("a forecast, not an observation: not used. " if forecast else "") + r["quote"]))
    # eBay peak resale during the 2023 shortage: condition used/new, above list; kept, not used.
    eb = sp[sp["entity"] == "eBay listings"]
    e_lo = float(eb[eb["series"] == "resale_peak_range_low"].iloc[0]["value"])
    e_hi = float(eb[eb["series"] == "resale_peak_range_high"].iloc[0]["value"])
    r0 = eb.iloc[0]
    rows.append(dict(date=r0["date"], source=r0["source"], trust=r0["trust"], gpu="H100", kind="resale_mixed_condition",
                     age_months=_months(H100_FIRST, pd.Timestamp(r0["date"])), value_low=round(e_lo / new_hi, 4), value_high=round(e_hi / new_lo, 4),
                     used_usd_low=e_lo, used_usd_high=e_hi, new_usd_low=new_lo, new_usd_high=new_hi, origin=_origin(*[x for _, x in eb.iterrows()]),
                     note="shortage resale of used and new units above list: not a used-value-by-age observation, not used. " + r0["notes"]))
    return _frame(rows, RESID_COLS)


def main() -> None:
    for name, fn in (("failures", derive_failures), ("utilization", derive_utilization),
                     ("elasticity", derive_elasticity), ("residual_value", derive_residual_value)):
        df = fn()
        df.to_csv(HERE / f"{name}.csv", index=False)
        print(f"{name}.csv: {len(df)} rows")


if __name__ == "__main__":
    main()
