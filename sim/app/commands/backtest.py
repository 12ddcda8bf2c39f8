"""``swimsim backtest``: simulate the measured before/after pairs of pypto-lib's history from the
pypto-lib clones given, and score the simulated changes against the measured ones.

Prints one row per case and metric (measured and simulated before → after and Δ %, whether the
direction is right, |Δ error| in points, each simulated value's error against the measured one), the
metrics swimsim cannot compute with the reason, the cases that could not be simulated with their
error, and the summary per set (fit, validation), over all cases and per kernel family. Writes
``backtest.json``, ``backtest.md`` and ``backtest.png`` into ``-o DIR`` and, with ``--write-runs``,
each side's first run as a run directory under ``DIR/runs``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import hwmodels
import traces
from sim.app.backtest import CaseJob, CaseResult, failed_case, kept_run_dir, open_clone, run_case_job
from sim.app.backtest_cases import load_cases
from sim.app.backtest_report import backtest_json, format_report, plot_backtest, summaries
from sim.app.commands import non_negative_float, non_negative_int, positive_int
from sim.app.paths import check_exists, check_out_dir, wrote
from sim.app.pool import WorkerDied, default_workers, iter_isolated
from sim.app.progress import ticker
from sim.util.errors import UserError
from sim.util.fileio import write_text_atomic

DEFAULT_RUNS = 3
DEFAULT_CASE_TIMEOUT = 900.0  # s per case (both sides, every run): a guard against a hung case
DEFAULT_JITTER = 0.03


def cmd_backtest(args: argparse.Namespace) -> int:
    """Backtest every case (or ``--only``), print the report, write the files under ``-o``."""
    t0 = time.perf_counter()
    out = check_out_dir(args.out, "-o")
    if args.full_records and not args.write_runs:
        raise UserError("--full-records: keeps the op lists of the run directories --write-runs writes; "
                        "give --write-runs as well")
    cf, shown = load_cases(check_exists(args.cases) if args.cases else None)
    cases = cf.cases
    if args.only:
        known = {c.id for c in cases}
        for cid in args.only:
            if cid not in known:
                raise UserError(f"--only {cid}: no such case in {shown} (cases: {', '.join(sorted(known))})")
        cases = [c for c in cases if c.id in set(args.only)]
    clones = [open_clone(a) for a in args.pypto_lib]
    if args.chip_file:
        chip = hwmodels.load_chip(path=check_exists(args.chip_file), overrides=args.set or [])
    else:
        chip = hwmodels.load_chip(args.chip or hwmodels.recommended_preset(), overrides=args.set or [])
    seeds = [args.seed + i for i in range(args.runs)]
    jitter = args.jitter if args.runs > 1 else 0.0
    runs_dir = out / "runs" if args.write_runs else None
    if runs_dir is not None:  # a side that fails this time leaves no run of an earlier backtest behind
        check_out_dir(runs_dir, "--write-runs")
        for c in cases:
            for side in ("before", "after"):
                traces.remove_earlier_run(kept_run_dir(runs_dir, c.id, side))
    jobs = [CaseJob(c, clones, chip, seeds, jitter, runs_dir, args.full_records) for c in cases]
    workers = args.jobs if args.jobs else default_workers()
    tick, close = ticker(len(jobs), enabled=sys.stderr.isatty(), desc="backtest", unit="case")
    found: dict[int, CaseResult] = {}
    try:
        for i, res in iter_isolated(run_case_job, jobs, workers,  # a case that kills its process fails alone
                                    timeout=args.case_timeout):
            found[i] = res if not isinstance(res, WorkerDied) else failed_case(jobs[i].case, str(res))
            tick()
    finally:
        close()
    results = [found[i] for i in range(len(jobs))]
    groups = summaries(results)
    meta = {"cases_file": shown, "chip": chip.name, "runs": args.runs, "seeds": seeds, "jitter": jitter}
    doc = backtest_json(results, groups, meta)
    text = format_report(results, groups)
    md = format_report(results, groups, markdown=True)
    head = (f"swimsim backtest: {len(cases)} cases of {shown}, chip {chip.name}, {args.runs} seeded run(s) "
            f"per side (seeds {seeds[0]}..{seeds[-1]}, jitter {jitter:g})")
    write_text_atomic(out / "backtest.json", json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    write_text_atomic(out / "backtest.md", f"# {head}\n\n{md}")
    plot_backtest(results, out / "backtest.png", title=head)
    print(head)
    print(text, end="")
    kept = [] if runs_dir is None else [f"{runs_dir}/<case>/before|after/"]
    wrote([out / "backtest.json", out / "backtest.md", out / "backtest.png", *kept],
          note=f"  ({time.perf_counter() - t0:.1f} s)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser("backtest", help="simulate measured pypto-lib changes at both commits and score the "
                                        "simulated changes",
                       description="For each validation case, take the entry file's folder at the two measured "
                                   "commits from a pypto-lib clone (git archive), simulate both with the case's "
                                   "arguments, environment and capture level, and compare the simulated change "
                                   "of every measured metric with the measured one.")
    p.add_argument("--pypto-lib", action="append", required=True, metavar="[OWNER/NAME=]DIR",
                   help="a pypto-lib clone or bare mirror (repeatable); a case uses the clone declared for its "
                        "repository, else one whose remote URLs name it, else one whose path names it "
                        "(owner/name or owner+name), else one holding both commits")
    p.add_argument("--cases", metavar="FILE", help="validation case JSON (default: the bundled validation_cases.json)")
    p.add_argument("--only", nargs="+", action="extend", metavar="CASE_ID", help="backtest only these cases")
    p.add_argument("--runs", type=positive_int, default=DEFAULT_RUNS,
                   help=f"seeded runs per side, averaged (default {DEFAULT_RUNS})")
    p.add_argument("--seed", type=int, default=0, help="first seed; runs use seeds S..S+N-1 (default 0)")
    p.add_argument("--jitter", type=non_negative_float, default=DEFAULT_JITTER,
                   help=f"relative lane-duration jitter when --runs > 1 (default {DEFAULT_JITTER})")
    p.add_argument("--case-timeout", type=non_negative_float, default=DEFAULT_CASE_TIMEOUT, metavar="SECONDS",
                   help=f"stop a case that runs longer than this and list it as failed (default "
                        f"{DEFAULT_CASE_TIMEOUT:g} s; 0: no limit)")
    p.add_argument("--jobs", type=non_negative_int, default=0,
                   help="worker processes, one case each (default: the CPU count); the results do not depend on it")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--chip", metavar="NAME", help="chip preset (default: the calibrated preset if present, else "
                   "910C; see `swimsim chips`)")
    g.add_argument("--chip-file", metavar="FILE", help="chip TOML/JSON file (e.g. written by `swimsim calibrate`)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a chip field (repeatable)")
    p.add_argument("-o", "--out", default="out", metavar="DIR",
                   help="output directory (default: out): backtest.json, backtest.md, backtest.png")
    p.add_argument("--write-runs", action="store_true",
                   help="also write each side's first seeded run as a run directory, DIR/runs/CASE/before and "
                        "DIR/runs/CASE/after, for `swimsim compare`, `explain`, `critical-path`, `placement` "
                        "and `plot` (records at the case's capture level, level 1 for a level-0 case; no "
                        "dependency arrows in the merged trace; run_records.json without the op lists unless "
                        "--full-records)")
    p.add_argument("--full-records", action="store_true",
                   help="with --write-runs: keep the per-block op lists in run_records.json (for "
                        "`swimsim explain --ops`; tens of MB for the sparse-attention cases)")
    p.set_defaults(func=cmd_backtest)
