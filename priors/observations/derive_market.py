"""Derive the tidy market tables ``rental_prices.csv`` and ``launches.csv`` from ../shared/data.

Run from anywhere: ``python priors/observations/derive_market.py`` (the shared data is looked up at
``<repo>/../shared/data`` unless ``--shared`` is given). The rules are in ``README_market.md``;
this script is the executable version of them and re-creates both files byte for byte.
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED = REPO.parent / "shared" / "data"

PRICE_COLS = ["date", "generation", "basis", "provider_class", "value_low", "value_high", "source", "trust",
              "entity", "product", "series", "n_providers", "n_quotes", "note"]
LAUNCH_COLS = ["date", "generation", "event", "volume_month", "source", "trust", "note"]

# ------------------------------------------------------------------------------------------ mappings
# Provider class by normalised entity name (README_market.md, "Provider class").
HYPERSCALERS = {"aws", "gcp", "azure", "oracle cloud"}
MARKETPLACES = {"market (eugene cheah)", "spheron", "hyperbolic"}
ENTITY_ALIASES = {
    "lambda labs": "lambda", "runpod.io": "runpod", "ovh cloud": "ovhcloud",
    "aws p5": "aws", "aws p5.48xlarge": "aws",
    "aws ec2 capacity blocks p4d.24xlarge": "aws", "aws ec2 capacity blocks p5.48xlarge": "aws",
    "aws ec2 capacity blocks p5e.48xlarge": "aws",
}

# rental_prices.csv `series` -> (basis, model series kind)
SERIES_BASIS = {
    "listed_per_gpu_on_demand": ("on_demand", "quote"),
    "list_on_demand": ("on_demand", "quote"),
    "list_component": ("on_demand", "quote"),
    "on_demand_typical": ("on_demand", "quote"),
    "cohort_median_on_demand": ("on_demand", "quote"),
    "capacity_block": ("reserved", "quote"),
    "reserved_1y_estimate": ("reserved", "quote"),
    "reserved_3y_list": ("reserved", "quote"),
    "marketplace_typical": ("marketplace", "quote"),
    "marketplace_peak": ("marketplace", "quote"),
    "raw_on_demand_median_monthly": ("on_demand", "market_median"),
    "raw_reserved_median_monthly": ("reserved", "market_median"),
    "raw_spot_median_monthly": ("spot", "market_median"),
    "index_restated_monthly": ("on_demand", "index_restated"),
    "provider_restated_monthly": ("on_demand", "provider_restated"),
}
SEED_BASIS = {"on_demand": "on_demand", "reserved": "reserved", "committed": "reserved", "prepaid_36m": "reserved",
              "spot": "spot", "market_range_low": "on_demand", "market_range_high": "on_demand", "peak": "on_demand"}


def generation_of(gpu: str) -> str:
    g = gpu.upper()
    for tag in ("GH200", "B300", "B200", "H200", "H100", "A100", "MI300X"):  # GH200 before H200
        if tag in g:
            return tag
    return "unspecified"


def norm_entity(e: str) -> str:
    e = e.strip().lower()
    if e.startswith("gix backfill"):
        return "gix"
    return ENTITY_ALIASES.get(e, e)


def provider_class(entity: str, basis: str) -> str:
    if entity in HYPERSCALERS:
        return "hyperscaler"
    if entity in MARKETPLACES or basis == "marketplace":
        return "marketplace"
    return "neocloud"


def _n_providers(notes: str) -> str:
    """The number of providers behind a GIX monthly median or index value ("providers=N" in the notes)."""
    m = re.search(r"providers=(\d+)", notes)
    return m.group(1) if m else ""


def fmt(x: float | None) -> str:
    return "" if x is None else f"{x:.6g}"


# ------------------------------------------------------------------------------------ rental prices
def market_rows(shared: Path) -> list[dict]:
    src = list(csv.DictReader(open(shared / "market" / "rental_prices.csv", newline="")))
    # quotes behind each GIX month (rental_index_monthly.csv observation_count), for the medians
    counts = {(r["period"], r["index_code"].replace("GIX-", "")): r["observation_count"]
              for r in csv.DictReader(open(shared / "market" / "rental_index_monthly.csv", newline=""))}
    # Rule: multi-GPU instance totals scraped as "/ 1 GPUs": a value k (2, 4, 8) times a lower quote
    # of the same entity, product and day is an instance total; divide it by k.
    by_key: dict[tuple, list[float]] = {}
    for r in src:
        if r["unit"] == "USD/GPU-hr":
            by_key.setdefault((r["date"], r["entity"], r["gpu"]), []).append(float(r["value"]))
    out, seen = [], {}
    for r in src:
        if r["unit"] != "USD/GPU-hr":
            continue  # a percent change, not a price (kept in launch_timing / notes, not here)
        series = r["series"]
        basis, kind = SERIES_BASIS[series]
        entity = norm_entity(r["entity"])
        value = float(r["value"])
        trust = r["trust"]
        note = r["notes"]
        lo = hi = value
        if value <= 0:
            trust, note = "D", f"non-positive price (placeholder) excluded; {note}"
        if kind == "market_median" and basis == "spot" and abs(value - 0.5) < 1e-9:
            trust, note = "D", f"0.50 spot placeholder (source notes say so) excluded; {note}"
        if r["pricing_basis"].strip() == "listed hourly price / 1 GPUs" and value > 0:
            low = min(by_key[(r["date"], r["entity"], r["gpu"])])
            k = value / low
            for n in (2, 4, 8):
                if abs(k - n) < 0.01 * n:
                    lo = hi = round(value / n, 6)
                    note = f"instance total {value} for {n} GPUs divided by {n} (= same-day 1-GPU quote {low}); {note}"
        if series == "cohort_median_on_demand":  # "above $7 in early 2024" (lower bound)
            hi = None
            note = f"lower bound only ('above'); {note}"
        if series == "marketplace_peak":  # "peaking at over $8"
            hi = None
            note = f"lower bound only ('over'); {note}"
        if series == "marketplace_typical" and "upper bound" in r["notes"]:  # "below $2"
            lo = None
            note = f"upper bound only ('below'); {note}"
        row = {
            "date": r["date"], "generation": generation_of(r["gpu"]), "basis": basis,
            "provider_class": provider_class(entity, basis), "value_low": fmt(lo), "value_high": fmt(hi),
            "source": r["source"], "trust": trust, "entity": entity, "product": r["gpu"], "series": kind,
            "n_providers": _n_providers(r["notes"]) if kind in ("market_median", "index_restated") else "",
            "n_quotes": counts.get((r["date"][:7], generation_of(r["gpu"])), "") if kind == "market_median" and basis == "on_demand" else "",
            "note": note,
        }
        # Rule: the same per-GPU price listed for several instance sizes of one product on one day
        # (one source commit) is one observation; keep the first row and count the listings.
        key = (r["date"], entity, r["gpu"], basis, kind, row["value_low"], row["value_high"], r["source"])
        if key in seen:
            seen[key]["_n"] += 1
            continue
        row["_n"] = 1
        seen[key] = row
        out.append(row)
    for row in out:
        n = row.pop("_n")
        if n > 1:
            row["note"] = f"listed for {n} instance sizes; {row['note']}"
    return out


def seed_rows(shared: Path) -> list[dict]:
    src = list(csv.DictReader(open(shared / "seed" / "gpu_rental_prices.csv", newline="")))
    out, i = [], 0
    seen = set()
    while i < len(src):
        r = src[i]
        pair = None
        if r["bound"] == "low" and i + 1 < len(src):
            n = src[i + 1]
            if (n["bound"] == "high" and n["quote"] == r["quote"] and n["provider"] == r["provider"]
                    and n["gpu"] == r["gpu"] and SEED_BASIS.get(n["pricing"]) == SEED_BASIS.get(r["pricing"])):
                pair = n
        i += 2 if pair is not None else 1
        note = r["note"]
        # Rule: only per-GPU-hour cloud prices. Llama-2 hosting per instance-hour and prices assumed
        # in worked examples are not observations of a GPU-hour price.
        if "per instance-hour" in note or "starting instance price" in note or "assumed rate" in note \
                or "egress example" in note:
            continue
        basis = SEED_BASIS.get(r["pricing"])
        if basis is None:
            continue
        entity = norm_entity(r["provider"])
        lo = float(r["usd_per_gpu_hour"])
        hi = float(pair["usd_per_gpu_hour"]) if pair is not None else lo
        # A lone "low"/"high" row (no partner of the same basis) is the lowest or highest listing
        # quoted, i.e. a point quote of one listing (Hyperbolic "market low", MI300X extremes).
        key = (r["as_of"], entity, r["gpu"], basis, lo, hi)
        if key in seen:
            continue  # the same figure quoted under two knowledge-base nodes
        seen.add(key)
        trust = "B" if "cloud.google.com" in r["source_url"] else "C"
        out.append({
            "date": r["as_of"], "generation": generation_of(r["gpu"]), "basis": basis,
            "provider_class": provider_class(entity, basis), "value_low": fmt(lo), "value_high": fmt(hi),
            "source": r["source_url"], "trust": trust, "entity": entity, "product": r["gpu"], "series": "quote",
            "n_providers": "", "n_quotes": "", "note": "; ".join(x for x in (f"seed quote: {r['quote']}", note) if x),
        })
    return out


# ----------------------------------------------------------------------------------------- launches
def launch_rows(shared: Path) -> list[dict]:
    src = list(csv.DictReader(open(shared / "market" / "launch_timing.csv", newline="")))
    out = []
    for r in src:
        ev = r["event_or_metric"]
        e = r["entity"]
        gen, event = None, None
        if e == "A100" and ev.startswith("announced_and_launched"):
            gen, event = "A100", "launched (no separate volume date in the data)"
        elif e == "H100" and ev.startswith("volume shipments"):
            gen, event = "H100", "volume shipments"
        elif e == "H200" and ev.startswith("first customer shipments"):
            gen, event = "H200", "first customer shipments"
        elif e == "B200/GB200" and ev.startswith("shipments to hyperscalers"):
            gen, event = "B200", "shipments to hyperscalers"
        elif e == "GB300 NVL72":
            gen, event = "GB300", "first deployed"
        elif e == "B300":
            gen, event = "B300", "succeeded B200"
        if gen is None:
            continue  # announcements, production starts and the computed percent changes are not ship dates
        out.append({"date": r["date"], "generation": gen, "event": event, "volume_month": r["date"][:7],
                    "source": r["source"], "trust": r["trust"], "note": f"{ev}; {r['notes']}".strip("; ")})
    out.sort(key=lambda x: x["date"])
    return out


def write(path: Path, cols: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--out", type=Path, default=HERE)
    a = ap.parse_args(argv)
    prices = market_rows(a.shared) + seed_rows(a.shared)
    prices.sort(key=lambda x: (x["date"] == "", x["date"], x["generation"], x["series"], x["basis"], x["entity"], x["product"]))
    write(a.out / "rental_prices.csv", PRICE_COLS, prices)
    write(a.out / "launches.csv", LAUNCH_COLS, launch_rows(a.shared))
    print(f"rental_prices.csv: {len(prices)} rows; launches.csv written to {a.out}")


if __name__ == "__main__":
    main()
