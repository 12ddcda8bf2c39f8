"""``swimsim overhead DIR``: the scheduler-overhead report (formats.md §6.2) of a run directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.util.errors import UserError
from sim.util.fileio import write_text_atomic
from traces import load_path
from traces.overhead import analyse_overhead, render

HELP = "scheduler-overhead report (formats.md §6.2 parts 1-6) of a run directory"
REPORT_NAME = "sched_overhead_report.md"


def _overhead(args: argparse.Namespace) -> int:
    """Write the report into the run directory and print it."""
    d = Path(args.dir)
    if not d.is_dir():
        raise UserError(f"{d}: not a run directory (expected a directory holding swimlane records)")
    ld = load_path(d)  # raises UserError before anything is written or printed
    rep = analyse_overhead(ld.pd, args.label or d.name)
    write_text_atomic(d / REPORT_NAME, render(rep, ld.pd, md=True))
    for w in ld.pd.warnings:
        print(w, file=sys.stderr)
    print(render(rep, ld.pd, md=args.md), end="")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("overhead", help=HELP)
    p.add_argument("dir", help="run directory (simulated or captured); the report is written into it")
    p.add_argument("--md", action="store_true", help="print markdown (default: plain text)")
    p.add_argument("--label", default=None, help="report title label (default: directory name)")
    p.set_defaults(func=_overhead)
