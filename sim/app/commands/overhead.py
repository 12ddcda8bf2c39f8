"""``swimsim overhead DIR``: the scheduler-overhead report of a run directory.

The report follows simpler's ``sched_overhead_analysis`` tool (parts 1-6: overhead verdict, AICore
switch, Head and Tail OH distributions, scheduler loop breakdown, critical-path attribution; simpler
``simpler_setup/tools/README.md`` and ``sched_overhead_analysis.py``).
"""

from __future__ import annotations

import argparse
import sys

from sim.app.paths import check_exists, wrote
from sim.util.errors import UserError
from sim.util.fileio import write_text_atomic
from traces import load_path
from traces.overhead import analyse_overhead, render
from traces.rundir import OVERHEAD_REPORT

HELP = "scheduler-overhead report (parts 1-6 of simpler's sched_overhead_analysis) of a run directory"


def _overhead(args: argparse.Namespace) -> int:
    """Write the report into the run directory and print it."""
    d = check_exists(args.dir)
    if not d.is_dir():
        raise UserError(f"{d}: not a directory (expected a run directory holding swimlane records)")
    ld = load_path(d)  # raises UserError before anything is written or printed
    rep = analyse_overhead(ld.pd, args.label or d.name)
    path = write_text_atomic(d / OVERHEAD_REPORT, render(rep, ld.pd, md=True))
    for w in ld.pd.warnings:
        print(w, file=sys.stderr)
    print(render(rep, ld.pd, md=args.md), end="")
    wrote([path], sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("overhead", help=HELP)
    p.add_argument("dir", help=f"run directory (simulated or captured); the report {OVERHEAD_REPORT} is "
                               "written into it")
    p.add_argument("--md", action="store_true", help="print markdown (default: plain text)")
    p.add_argument("--label", default=None, help="report title label (default: directory name)")
    p.set_defaults(func=_overhead)
