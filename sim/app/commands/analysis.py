"""Analysis sub-commands: stats, compare, critical-path, plot, placement."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.app.commands import non_negative_int, positive_int
from sim.app.fileargs import split_file_args
from sim.app.paths import check_exists, check_out_file, wrote
from sim.util.errors import UserError
from sim.util.fileio import write_text_atomic
from sim.util.jsonfile import load_json
from traces import load_path
from traces.compare import format_compare, plot_rows
from traces.critical_path import analyse, mark_path, report_md, summary_line
from traces.merged import build_events
from traces.placement import format_placement, placement, pooled, select
from traces.plot import plot_compare, plot_placement, plot_swimlane
from traces.rundir import CPM_TRACES, CRITICAL_PATH_REPORT
from traces.stats import format_extras, format_table
from traces.trace_writer import dump_trace


def _stats(args: argparse.Namespace) -> int:
    """``swimsim stats PATH``: the converter's statistics table of a run directory, records or trace."""
    ld = load_path(check_exists(args.path))  # raises UserError before anything is printed
    text = format_table(ld.pd) + format_extras(ld.pd, ld.wall)
    for w in ld.pd.warnings:
        print(w, file=sys.stderr)
    print(text, end="")
    return 0


def _compare(args: argparse.Namespace) -> int:
    """``swimsim compare A B``: before/after table of two runs (directories, files, kernel specs, pypto
    kernel files or ``FILE@REV``)."""
    # the engine (simpy) and the kernel registry, for kernel specs: only this command of the module needs them
    from sim.app.onthespot import FileOptions, resolve_side  # lazy: start-up time

    plot = check_out_file(args.plot, "--plot") if args.plot else None
    fopts = FileOptions(args=args.file_args, entry=args.entry, level=args.level)
    before = resolve_side(args.a, args.mode, args.runs, args.chip, args.set or [], fopts)
    after = resolve_side(args.b, args.mode, args.runs, args.chip, args.set or [], fopts)
    labels = (args.a, args.b) if args.labels else ("before", "after")
    print(format_compare(before, after, labels, md=args.md), end="")
    if plot is not None:
        plot_compare(plot_rows(before, after), labels, plot, title=f"{args.a}  →  {args.b}")
        wrote([plot], sys.stderr)
    return 0


def _critical_path(args: argparse.Namespace) -> int:
    """``swimsim critical-path DIR``: static CPM and observed path; writes the report and marked traces."""
    d = check_exists(args.dir)
    if not d.is_dir():
        raise UserError(f"{d}: not a directory (expected a run directory)")
    ld = load_path(d)
    if ld.pd.deps is None:
        raise UserError(f"{d}: no deps.json found (needed for the dependency graph)")
    label = args.label or d.name
    cp = analyse(ld.pd, tol=args.tol)
    report = report_md(cp, label)
    paths = [write_text_atomic(d / CRITICAL_PATH_REPORT, report)]
    if not args.no_trace_copies:
        if ld.trace_path is not None:
            events = load_json(ld.trace_path).get("traceEvents", [])
        else:
            events = build_events(ld.pd)
        static, observed = CPM_TRACES
        paths.append(write_text_atomic(d / static, dump_trace(mark_path(events, set(cp.static_path)))))
        paths.append(write_text_atomic(d / observed,
                                       dump_trace(mark_path(events, {s.task for s in cp.observed}))))
    if args.md:
        print(report, end="")
    print(summary_line(cp, label))
    wrote(paths, sys.stderr)
    return 0


def _plot(args: argparse.Namespace) -> int:
    """``swimsim plot DIR``: matplotlib swimlane PNG."""
    out = check_out_file(args.output, "-o")
    ld = load_path(check_exists(args.dir))
    if not ld.pd.rows:
        raise UserError(f"{args.dir}: no AICore rows to plot")
    plot_swimlane(ld.pd, out, title=args.title or Path(args.dir).resolve().name)
    print(out)  # the one line: the file written (a bare path, for scripts)
    return 0


def _placement(args: argparse.Namespace) -> int:
    """``swimsim placement PATH...``: per function, where its blocks ran and their Avg Exec."""
    plot = check_out_file(args.plot, "--plot") if args.plot else None
    caps = []
    for path in args.paths:  # every capture loads before anything is printed
        ld = load_path(check_exists(path))
        for w in ld.pd.warnings:
            print(w, file=sys.stderr)
        caps.append(placement(ld.pd, str(path)))
    known = {f.name for c in caps for f in c.funcs}
    missing = [n for n in args.funcs or [] if n not in known]
    if missing:
        raise UserError(f"--func {missing[0]}: no such function in {', '.join(args.paths)} "
                        f"(functions: {', '.join(sorted(known))})")
    print(format_placement(caps, args.funcs or [], md=args.md), end="")
    if plot is not None:
        funcs = pooled(caps) if len(caps) > 1 else caps[0].funcs
        plot_placement(select(funcs, args.funcs or []), plot,
                       title=f"{', '.join(args.paths)}: Avg Exec on first-use vs reused cores")
        wrote([plot], sys.stderr)
    return 0


OVERWRITE = "an existing file is overwritten"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stats", help="print the converter's statistics table for a run dir, records or trace")
    p.add_argument("path", help="run directory, l2/chip_swimlane_records.json, or merged_swimlane_*.json")
    p.set_defaults(func=_stats)

    p = sub.add_parser("compare", help="before/after table: wall, Total Test Time, tasks, Avg Exec and span",
                       usage="%(prog)s [options] A B [-- ARGS...]",
                       description="Before/after table (µs) of two runs: swimlane wall, Total Test Time, and per "
                                   "function its task count, Avg Exec and span, then the functions added or "
                                   "removed and the task counts that change. A side is a run directory (or "
                                   "records/trace file), a kernel spec, a pypto kernel file, or FILE@REV: a "
                                   "pypto kernel file of a git work tree as revision REV has it (its folder is "
                                   "taken from REV). Kernel specs and files are simulated on the spot; a "
                                   "file's __main__ runs with the arguments after --.")
    side = "run directory (or file), kernel spec, pypto kernel file, or FILE@REV (e.g. k.py@HEAD~1)"
    p.add_argument("a", help=side)
    p.add_argument("b", help=side)
    p.add_argument("--mode", default="decode", help="mode for kernel specs (default decode)")
    p.add_argument("--runs", type=positive_int, default=1, help="seeds 0..N-1 averaged for kernel specs and files "
                                                                "(default 1); with N >= 2 on both sides a 'per "
                                                                "seed' column gives the lowest and highest change "
                                                                "over the paired seeds")
    p.add_argument("--chip", default=None, metavar="NAME",
                   help="chip preset for kernel specs and files (default: as `swimsim run`, see `swimsim chips`)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="chip field override for kernel specs "
                                                                       "and files (repeatable)")
    p.add_argument("--entry", metavar="NAME", help="pypto kernel files: compare the first run_jit call of @pl.jit "
                                                   "function NAME (default: the first run_jit call)")
    p.add_argument("--level", type=int, choices=[1, 2, 3, 4], default=None,
                   help="pypto kernel files: swimlane level (default: the file's enable_l2_swimlane, "
                        "else the chip's)")
    p.add_argument("--md", action="store_true", help="markdown table")
    p.add_argument("--labels", action="store_true", help="use the arguments as column labels")
    p.add_argument("--plot", metavar="PNG", help="also draw the comparison as a PNG (paired bars, change in %%; "
                                                 f"{OVERWRITE})")
    p.__class__ = type("CompareParser", (type(p),), {"parse_known_args": split_file_args})
    p.set_defaults(func=_compare, file_args=[])

    p = sub.add_parser("critical-path", help="static CPM and observed blame path of a run directory")
    p.add_argument("dir", help="run directory (simulated or captured, with deps.json); the report "
                               f"{CRITICAL_PATH_REPORT} and the marked traces {' and '.join(CPM_TRACES)} "
                               "are written into it")
    p.add_argument("--md", action="store_true", help="print the markdown report")
    p.add_argument("--tol", type=non_negative_int, default=2, help="happens-before tolerance in ticks (default 2)")
    p.add_argument("--label", default=None, help="label in the summary line (default: directory name)")
    p.add_argument("--no-trace-copies", action="store_true", help=f"do not write {' and '.join(CPM_TRACES)}")
    p.set_defaults(func=_critical_path)

    p = sub.add_parser("plot", help="matplotlib swimlane PNG of a run directory")
    p.add_argument("dir", help="run directory, l2/chip_swimlane_records.json or merged_swimlane_*.json")
    p.add_argument("-o", "--output", default="swimlane.png", metavar="PNG",
                   help=f"output file (default: swimlane.png in the current directory; {OVERWRITE})")
    p.add_argument("--title", default=None, help="figure title (default: the directory name)")
    p.set_defaults(func=_plot)

    p = sub.add_parser("placement", help="where each function's blocks ran: threads, first-use cores and their "
                                         "Avg Exec (simulated or hardware captures)")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="run directory, l2/chip_swimlane_records.json or merged_swimlane_*.json; several are "
                        "also pooled per function (e.g. the runs of one variant)")
    p.add_argument("--func", dest="funcs", action="append", metavar="NAME", help="only this function (repeatable)")
    p.add_argument("--md", action="store_true", help="markdown table")
    p.add_argument("--plot", metavar="PNG", help="also draw Avg Exec on first-use vs reused cores per function "
                                                 f"(pooled over the captures; {OVERWRITE})")
    p.set_defaults(func=_placement)
