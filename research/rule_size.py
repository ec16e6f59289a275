"""How often a calibrated forecaster passes the backtest's adoption rules (docs/priors.md, "The rules' size").

The rolling backtest scores few, strongly dependent observations: the later medians of one generation
after one origin share one forecast path (a miss in month 2 makes a miss in month 3 likely), and the
seven monthly origins 2024-06 ... 2024-12 score the same 31 distinct later medians again and again. A
rule that reads the coverages as if they were independent binomial counts is then mis-sized. This
module measures each rule's size directly, by simulation, without any backtest score: the "truth"
is drawn from a known process and the forecaster knows that process exactly, so its intervals are
calibrated by construction, and we count how often it would pass.

Process (monthly, log price, per generation g; the shipped price model's structure without launches):

    m[t] = m[t-1] + sigma eps[t],   y[t] = m[t] + s e[t],   eps, e ~ N(0, 1)

y is the observed on-demand median, s its measurement noise, sigma the walk's volatility. The
forecaster at origin o filters m with the Kalman filter on y up to o (from the generation's first
median, a diffuse start) and issues, for h = 1..H, the predictive N(m_hat[o], P[o] + h sigma^2 + s^2)
of y[o+h]: exactly the law of y[o+h] given the data, so every interval is calibrated.

Structure (``T_MONTHS``, ``FIRST_MEDIAN``, ``MONTHLY_ORIGINS``, ``QUARTERLY_ORIGINS``, ``HORIZON``: the
backtest's, fixed from the data in docs/priors.md, "Monthly origins (session 6)"): months indexed from 2023-07 (0) to 2025-06 (23); A100 and H100 medians in every month,
H200 from 2024-11 (16); origins 2024-06 (11) ... 2024-12 (17) monthly or 2024-06, 09, 12 quarterly;
horizon 6; an origin scores a generation with at least one median at or before it. This gives the
backtest's counts: 12 observations at 2024-06 ... 10 (A100, H100), 18 at 2024-11 and 12 (with H200);
96 in all (monthly), 42 (quarterly).

Rules measured (docs/priors.md): clause 1, pooled 80 % coverage in [0.70, 0.90] (the issue's target);
clause 3, at most one origin with its 80 % coverage outside [0.60, 0.99]; the probability of a
pooled coverage at least as high as a given one (the model shipped before session 7: 0.93 and 0.97);
and of at least k origins whose 80 % bands cover every later median (k = 4: the fifth and sixth
attempts at the monthly origins; k = 6: the model shipped before).

Run: ``python -m research.rule_size [--sims N] [--seed S]`` (numpy only, ~2 s at the
default 4,000 simulations per setting); prints a JSON table (the docs' figures:
``research/results/rule_size/rule_size.json``).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy.stats import norm

T_MONTHS = 24  # 2023-07 (0) ... 2025-06 (23)
FIRST_MEDIAN = {"A100": 0, "H100": 0, "H200": 16}  # month index of the first on-demand median used
MONTHLY_ORIGINS = list(range(11, 18))  # 2024-06 ... 2024-12
QUARTERLY_ORIGINS = [11, 14, 17]  # 2024-06, 2024-09, 2024-12
HORIZON = 6
# (sigma, s) settings: the shipped fit's walk volatility 0.046 and the panel fit's ~0.03, against a
# measurement noise of a 4-9 provider median from 0.03 to 0.10 (docs/priors.md, "Why the intervals
# were too wide": month-on-month sd 0.032 at 5-9 providers, 0.064 at 4, 0.128 at 3).
SETTINGS = [(0.046, 0.05), (0.046, 0.10), (0.03, 0.03), (0.03, 0.06)]


def simulate(sigma: float, s: float, origins: list[int], n_sims: int, rng: np.random.Generator,
             level: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """Coverage of calibrated ``level`` intervals: returns (covered, scored), each (n_sims, n_origins)
    counts of later medians inside the band and scored, per simulated history and origin."""
    z = norm.ppf(0.5 + level / 2)
    covered = np.zeros((n_sims, len(origins)), dtype=np.int64)
    scored = np.zeros((n_sims, len(origins)), dtype=np.int64)
    for t0 in FIRST_MEDIAN.values():
        m = np.cumsum(rng.normal(0.0, sigma, (n_sims, T_MONTHS)), axis=1)
        y = m + rng.normal(0.0, s, (n_sims, T_MONTHS))
        m_hat, p = y[:, t0].copy(), s * s  # filter started on the first median (diffuse level)
        filt = {t0: (m_hat.copy(), p)}
        for t in range(t0 + 1, T_MONTHS):
            p = p + sigma * sigma
            k = p / (p + s * s)
            m_hat = m_hat + k * (y[:, t] - m_hat)
            p = (1.0 - k) * p
            filt[t] = (m_hat.copy(), p)
        for j, o in enumerate(origins):
            if o < t0:
                continue
            mh, po = filt[o]
            for h in range(1, HORIZON + 1):
                t = o + h
                if t >= T_MONTHS:
                    continue
                sd = np.sqrt(po + h * sigma * sigma + s * s)
                covered[:, j] += np.abs(y[:, t] - mh) <= z * sd
                scored[:, j] += 1
    return covered, scored


def rule_probabilities(covered: np.ndarray, scored: np.ndarray, pooled_at_least: list[float],
                       fully_covered_at_least: list[int] = ()) -> dict:
    """Pass rates of the rules over the simulated histories, with their Monte Carlo standard errors."""
    n = covered.shape[0]
    pooled = covered.sum(axis=1) / scored.sum(axis=1)
    per_origin = covered / scored
    c1 = (pooled >= 0.70) & (pooled <= 0.90)
    c3 = ((per_origin < 0.60) | (per_origin > 0.99)).sum(axis=1) <= 1

    def p(x):
        x = np.asarray(x, dtype=float)
        return {"p": float(x.mean()), "se": float(np.sqrt(x.mean() * (1 - x.mean()) / n))}

    out = {"n_sims": n, "scored_per_origin": scored[0].tolist(), "mean_pooled_80": float(pooled.mean()),
           "clause1_pooled_in_0.70_0.90": p(c1), "clause3_at_most_one_origin_outside": p(c3),
           "clauses_1_and_3": p(c1 & c3)}
    for q in pooled_at_least:
        out[f"pooled_at_least_{q:.2f}"] = p(pooled >= q - 1e-12)
    full = (covered == scored).sum(axis=1)
    for k in fully_covered_at_least:
        out[f"origins_fully_covered_at_least_{k}"] = p(full >= k)
    return out


def main(n_sims: int = 4000, seed: int = 20261126) -> dict:
    rng = np.random.default_rng(seed)
    res = []
    for sigma, s in SETTINGS:
        for name, origins, q, k in (("monthly", MONTHLY_ORIGINS, [0.97], [4, 6]), ("quarterly", QUARTERLY_ORIGINS, [0.93], [])):
            cov, sc = simulate(sigma, s, origins, n_sims, rng)
            res.append({"sigma": sigma, "s": s, "origins": name, **rule_probabilities(cov, sc, q, k)})
    return {"seed": seed, "level": 0.8, "results": res}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sims", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=20261126)
    a = ap.parse_args()
    print(json.dumps(main(a.sims, a.seed), indent=1))
