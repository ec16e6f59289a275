"""argparse definitions of the stress and sensitivity commands (argparse only: keeps --help fast)."""

from __future__ import annotations

from engine.cli.argtypes import add_set_flag, add_threads_flag, path_count


def add_parsers(sub) -> None:
    s = sub.add_parser("stress", help="run stress scenarios against a baseline with common random numbers; write a comparison table and plots")
    s.add_argument("scenarios", nargs="+", help="stress scenario files, e.g. scenarios/stress/*.toml")
    s.add_argument("--against", required=True, help="baseline scenario file")
    s.add_argument("--paths", type=path_count, help="paths per scenario (default: the baseline's run.paths)")
    s.add_argument("--seed", type=int, help="root seed shared by every run (default: the baseline's run.seed)")
    s.add_argument("--out", help="output directory (default: outputs/stress-<timestamp>)")
    s.add_argument("--force", action="store_true", help="replace an existing output directory")
    s.add_argument("--allow-unconverged", action="store_true", help="accept posterior files that failed their convergence gate")
    s.add_argument("--target-se", type=float, help="add paths until the CRN standard error of Delta(--se-metric) is at most this for every scenario (or --max-paths)")
    s.add_argument("--se-metric", default="p_impairment_asc360", help="metric for --target-se (default p_impairment_asc360)")
    s.add_argument("--max-paths", type=path_count, default=200_000, help="path limit for --target-se (default 200,000)")
    add_set_flag(s, "the baseline and every stress file (the same what-if under each)")
    add_threads_flag(s)

    r = sub.add_parser("reverse-stress", help="find the smallest value of an input that pushes a metric across a threshold (CRN root finding)")
    r.add_argument("scenario", help="scenario file (the baseline)")
    r.add_argument("--vary", required=True, help="dotted input name set to the same value on every path, e.g. next_gen.Rubin.undercut_frac.default")
    r.add_argument("--metric", default="p_impairment_asc360", help="metric (default p_impairment_asc360; e.g. expected_impairment_loss_usd_ias36, p_impairment_asc360.H100_2023)")
    r.add_argument("--threshold", type=float, required=True, help="the metric's threshold, e.g. 0.5")
    r.add_argument("--range", nargs=2, type=float, metavar=("LO", "HI"), help="search interval of the input (default: its allowed range, capped)")
    r.add_argument("--paths", type=path_count, help="paths (default: the file's run.paths)")
    r.add_argument("--seed", type=int, help="root seed (default: the file's run.seed)")
    r.add_argument("--out", help="output directory (default: outputs/reverse-stress-<timestamp>)")
    r.add_argument("--force", action="store_true", help="replace an existing output directory")
    r.add_argument("--allow-unconverged", action="store_true", help="accept posterior files that failed their convergence gate")
    add_set_flag(r)
    add_threads_flag(r)

    t = sub.add_parser("sensitivity", help="tornado, pathwise-gradient elasticities and Sobol indices of a scenario's uncertain inputs")
    t.add_argument("scenario", help="scenario file")
    t.add_argument("--methods", default="tornado,gradients,sobol", help="comma-separated subset of tornado, gradients, sobol (default: all)")
    t.add_argument("--metric", default="expected_impairment_loss_usd_ias36", help="metric to rank by (default expected_impairment_loss_usd_ias36)")
    t.add_argument("--paths", type=path_count, help="paths for tornado and gradients (default 20000)")
    t.add_argument("--sobol-paths", type=path_count, help="base sample size N of the Saltelli design (default 2048; N (k + 2) paths)")
    t.add_argument("--seed", type=int, help="root seed (default: the file's run.seed)")
    t.add_argument("--out", help="output directory (default: outputs/sensitivity-<timestamp>)")
    t.add_argument("--force", action="store_true", help="replace an existing output directory")
    t.add_argument("--allow-unconverged", action="store_true", help="accept posterior files that failed their convergence gate")
    add_set_flag(t)
    add_threads_flag(t)
