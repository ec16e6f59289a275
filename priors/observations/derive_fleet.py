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
UTIL_COLS = ["date", "source", "trust", "subject", "measure", "value_low", "value_high", "unit", "origin", "note"]

# What each row measures. Every row of utilization.csv carries exactly one of these; only
# ``booking_rate`` is fitted (priors/models/utilization.py, which keeps its own copy of the name).
MEASURES = {
    "booking_rate": "share of a rental fleet's GPU-hours that is sold (booked, rented or contracted): what the revenue model's demand.utilization_frac is",
    "gpu_busy_time": "share of a fleet's hours its GPUs run work, for a fleet whose hours are not sold (own use) or where sold and used are not told apart",
    "enterprise_cluster_utilization": "share of hours a self-hosted (buyer-owned) cluster is in use",
    "compute_utilization_mfu": "achieved FLOPs / peak FLOPs while a job runs (model FLOPs utilization, a kernel's FLOPs utilization)",
    "power_draw_fraction_of_tdp": "average power draw / rated TDP",
}

# quantity 'utilization' rows of seed/hardware_and_ops.csv: subject -> (measure, reading of the figure).
# Rule (README_fleet.md): booking_rate only for a provider that rents GPUs out saying its hours are
# sold; a fleet's own use -> gpu_busy_time; a self-hosting buyer's cluster -> enterprise_cluster_utilization;
# FLOPs over peak FLOPs -> compute_utilization_mfu. No row of this quantity is a booking rate.
UTIL_SUBJECTS = {
    "standard AI workload": ("gpu_busy_time", "as stated; hours in use of GPUs whose physical life is discussed (a Google architect), not hours sold: not fitted"),
    "self-hosted GPU acceptable band": ("enterprise_cluster_utilization", "as stated; a band where self-hosting is 'fine': a buyer's own cluster, not fitted"),
    "self-hosted GPU off-peak/early-stage (painful)": ("enterprise_cluster_utilization", "as stated; a band where self-hosting is 'painful': a buyer's own cluster, not fitted"),
    "Google TPUs 7-8 years old": ("gpu_busy_time", "'100%' read as the interval [0.90, 1.00] (a round self-reported claim; a Beta has no mass at 1); Google's own TPU fleet in use, not hours sold to others: not fitted"),
    "illustrative: PUE 1.09 site vs PUE 1.67 site": ("gpu_busy_time", "illustrative, unsourced"),
    "H100 FlashAttention-2 attention kernel": ("compute_utilization_mfu", "FLOPs utilization of a kernel, not time utilization: not fitted"),
    "H100 optimized GEMM": ("compute_utilization_mfu", "FLOPs utilization of a kernel, not time utilization: not fitted"),
}

# seed rows whose cited source cannot hold them (trust D, kept): quote fragment -> reason
MFU_SOURCE_MISMATCH = {
    "92.86% MFU": "an H20 (2024) configuration cited to arXiv 2104.04473 (2021, A100s): the citation cannot hold it, trust D",
}

# The revenue check: CoreWeave's Q1 2025 revenue over its GPU-hours at market H100 prices.
REV_QUARTER = ("Q1 2025", pd.Timestamp("2025-01-01"), pd.Timestamp("2025-04-01"))  # period label, first day, day after
REV_PRICE_MONTHS = ["2025-01", "2025-02", "2025-03"]


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


def _seed_row(item: list[pd.Series], measure: str, reading: str, *, lo=None, hi=None, trust: str | None = None) -> dict:
    """One output row from a seed item (a point, a low/high pair, or a one-sided bound)."""
    r = item[0]
    vals = [float(x["value"]) / 100 for x in item]
    if lo is None and hi is None:
        if len(item) == 1 and r["bound"] == "low":
            lo, hi = vals[0], ""  # "at least": open upper end
        elif len(item) == 1 and r["bound"] == "high":
            lo, hi = "", vals[0]  # "up to": open lower end
        else:
            lo, hi = min(vals), max(vals)
    return dict(date=url_date(r["source_url"]), source=r["source_url"] or f"(no source) {r['node_title']}",
                trust=trust or seed_trust(r["source_url"]), subject=r["subject"], measure=measure, value_low=lo, value_high=hi,
                unit="fraction", origin=_origin(*item), note=f"{reading}. {r['quote']}" + (f" [{r['note']}]" if r["note"] else ""))


def revenue_implied_booking() -> dict:
    """CoreWeave's booked share of GPU-hours in Q1 2025 from its revenue, as an interval.

    booked share = revenue / (GPUs x hours x price per GPU-hour), with revenue the Q1 2025 revenue
    (USD), GPUs the GPUs deployed at 2024-12-31, hours the hours of the quarter, and the price
    between the H100 market on-demand median (the low end of the share) and reserved median (the
    high end), each the mean of the quarter's three monthly medians of rental_index_monthly.csv.
    """
    fin = _read("financials/neocloud_financials.csv")
    cw = fin[fin["entity"] == "CoreWeave"]
    label, first, after = REV_QUARTER
    rev = cw[(cw["metric"] == "revenue") & (cw["period"] == label)]
    gpus = cw[(cw["metric"] == "GPUs_deployed") & (cw["date"] == (first - pd.Timedelta(days=1)).strftime("%Y-%m-%d"))]
    _expect(len(rev) == 1 and rev.iloc[0]["value"] == "981.6" and rev.iloc[0]["unit"] == "USD m", "CoreWeave Q1 2025 revenue $981.6m")
    _expect(len(gpus) == 1 and gpus.iloc[0]["value"] == "250000" and "more than" in gpus.iloc[0]["notes"], "CoreWeave 'more than 250,000' GPUs at 2024-12-31")
    rim = _read("market/rental_index_monthly.csv")
    px = rim[(rim["index_code"] == "GIX-H100") & rim["period"].isin(REV_PRICE_MONTHS)]
    _expect(len(px) == 3 and (px["raw_on_demand_median"] != "").all() and (px["reserved_raw_median"] != "").all(), "H100 medians 2025-01..03")
    rev_r, gpu_r = rev.iloc[0], gpus.iloc[0]
    usd = float(rev_r["value"]) * 1e6
    n_gpu = float(gpu_r["value"])
    hours = (after - first).days * 24
    per_gpu_hour = usd / (n_gpu * hours)
    on_demand = px["raw_on_demand_median"].astype(float).mean()
    reserved = px["reserved_raw_median"].astype(float).mean()
    lo, hi = round(per_gpu_hour / on_demand, 4), round(per_gpu_hour / reserved, 4)
    _expect(0 < lo < hi < 1, "revenue-implied booked share inside (0, 1)")
    own_list = px["providers_restated"].str.extract(r"coreweave=([0-9.]+)")[0].dropna().astype(float)
    own = f" CoreWeave's own restated list price (${own_list.mean():.3f}) would give {per_gpu_hour / own_list.mean():.2f}." if len(own_list) else ""
    note = (f"derived, revenue / (GPUs x hours x price): Q1 2025 revenue ${usd / 1e6:,.1f}m / ({n_gpu:,.0f} GPUs deployed at 2024-12-31 x "
            f"{hours:,} h) = ${per_gpu_hour:.4f} per GPU-hour; / H100 on-demand median ${on_demand:.4f} (mean of 2025-01..03) = {lo} and / "
            f"reserved median ${reserved:.4f} = {hi}: the interval spans the price a contracted GPU-hour fetches. Biases, not corrected: "
            "'more than' 250,000 GPUs, GPUs added during the quarter and non-GPU revenue (storage, networking) lower the share; "
            "GPUs installed but not yet in service and A100s priced below H100 raise it; the prices are list medians of about ten "
            f"providers, not CoreWeave's contract prices.{own} Trust C: B inputs, read with these assumptions")
    return dict(date=(after - pd.Timedelta(days=1)).strftime("%Y-%m-%d"), source=rev_r["source"], trust="C",
                subject="CoreWeave Q1 2025 revenue / (GPUs x hours x H100 price)", measure="booking_rate", value_low=lo, value_high=hi,
                unit="fraction", origin=_origin(rev_r, gpu_r, *[x for _, x in px.iterrows()]), note=note)


def derive_utilization() -> pd.DataFrame:
    hw = _read("seed/hardware_and_ops.csv")
    rows = []
    # 1. quantity 'utilization': classified subject by subject (UTIL_SUBJECTS).
    util = hw[hw["quantity"] == "utilization"]
    _expect(set(util["subject"]) == set(UTIL_SUBJECTS), "utilization subjects in hardware_and_ops.csv")
    for item in _pairs(util):
        measure, reading = UTIL_SUBJECTS[item[0]["subject"]]
        ends = dict(lo=0.90, hi=1.00) if item[0]["subject"].startswith("Google TPUs") else {}
        rows.append(_seed_row(item, measure, reading, **ends))
    # 2. Booking: CoreWeave's 2020 A100s "fully booked" (CNBC 2025-11-14; the same claim is repeated by SiliconANGLE, DP:18).
    dp = _read("seed/depreciation_policies.csv")
    cw = dp[dp["quote"].str.contains("A100 chips from 2020 are all fully booked")].iloc[0]
    _expect("H100s from 2022 rebooked immediately" in cw["quote"], "CoreWeave booked/rebooked sentence")
    dup = dp[dp["quote"].str.contains('five-year-old A100s remain "fully booked"', regex=False)]
    rows.append(dict(date=url_date(cw["source_url"]), source=cw["source_url"], trust=seed_trust(cw["source_url"]),
                     subject="CoreWeave A100 (2020 cohort) fully booked", measure="booking_rate", value_low=0.90, value_high=1.00,
                     unit="fraction", origin=_origin(cw),
                     note="'fully booked' read as the interval [0.90, 1.00]; the same CoreWeave claim in SiliconANGLE"
                          + (f" ({_origin(dup.iloc[0])})" if len(dup) else "") + " is not counted twice, nor the H100s 'rebooked"
                          " immediately' of the same sentence (one statement by one provider). " + cw["quote"]))
    # 3. Booking, derived: CoreWeave's revenue over its GPU-hours at market prices.
    rows.append(revenue_implied_booking())
    # 4. MFU (quantity 'mfu'): FLOPs utilization, kept apart, never fitted.
    mfu = hw[hw["quantity"] == "mfu"]
    _expect(len(mfu) == 15, "fifteen mfu rows in hardware_and_ops.csv")
    for item in _pairs(mfu):
        bad = [why for frag, why in MFU_SOURCE_MISMATCH.items() if frag in item[0]["quote"]]
        _expect(not bad or "2104.04473" in item[0]["source_url"], "the H20 MFU row's citation")
        reading = "model FLOPs utilization: FLOPs achieved over peak while a job runs, not hours sold: not fitted" + (f"; {bad[0]}" if bad else "")
        rows.append(_seed_row(item, "compute_utilization_mfu", reading, trust="D" if bad else None))
    # 5. Power draw as a fraction of TDP: kept apart, never used as utilization.
    for _, r in hw[hw["quantity"] == "power_draw_fraction_of_tdp"].iterrows():
        v = float(r["value"])
        lo, hi = (("", v) if r["bound"] == "high" else (v, v))
        rows.append(dict(date=url_date(r["source_url"]), source=r["source_url"] or f"(no source) {r['node_title']}",
                         trust=seed_trust(r["source_url"]), subject=r["subject"], measure="power_draw_fraction_of_tdp",
                         value_low=lo, value_high=hi, unit="fraction", origin=_origin(r),
                         note="power draw / TDP is not utilization: not used by the utilization model. " + r["quote"]))
    out = _frame(rows, UTIL_COLS)
    _expect(out["measure"].isin(list(MEASURES)).all(), "every utilization row has one known measure")
    return out


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
