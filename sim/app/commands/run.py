"""`swimsim run KERNEL[:VARIANT]`: simulate one kernel on one chip and write the run directory.

Prints per task: name, blocks, Avg Exec (µs, mean end - start over its subtasks) and span (µs, first
start -> last end), then the run's Total Test Time and swimlane wall (µs): the numbers of the
statistics table ``stats.txt`` (tick-quantised rows, 2 decimals), whether or not ``-o`` is given.
With ``-o DIR`` the files of an earlier run in DIR are removed first (docs/model.md §5).

KERNEL may also be an unmodified pypto kernel file (it imports ``pypto`` and registers no swimsim
kernel): its ``__main__`` runs with the arguments after ``--``, and each ``run_jit`` call is simulated
into ``DIR``, ``DIR/2``, ... (``--entry NAME`` picks one); with ``--dyn``/``--scalar`` the entry is
recorded from its annotations instead (:mod:`kernels.pypto_files`). Harness runs compute op values
(``--no-values``: shapes only); ``--check-golden`` compares them with the file's golden function.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import traces
from hwmodels.chip import load_chip, recommended_preset
from kernels.registry import build_graph
from sim.app.commands import non_negative_float
from sim.app.fileargs import split_file_args
from sim.app.paths import check_exists, check_kernel_spec, check_out_dir, wrote
from sim.app.progress import recording_counter
from sim.engine import LAUNCHES, RunOptions, simulate
from sim.ir import TaskGraph
from sim.ir.records import RunResult
from sim.util.errors import UserError
from sim.util.fileio import write_text_atomic
from traces.rundir import RUN_DIR_FILES
from traces.stats import fmt_us, total_test_time_text

MANY_ARROWS = 1_000_000  # a merged trace with this many dependency arrows gets a note on leaving them out

if TYPE_CHECKING:
    from kernels.pypto_files.loader import Recording


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser("run", help="simulate a kernel and write its run records",
                       description="Simulate KERNEL[:VARIANT] on a chip and print each function's Avg Exec "
                                   "and span (a MIX task's AIC and AIV kernels apart), Total Test Time and "
                                   "swimlane wall (µs, as stats.txt prints them). "
                                   "With -o DIR, write the run directory: the swimlane records, deps.json, "
                                   "the name map, the merged trace, stats.txt and run_records.json "
                                   "(lean: without the op lists unless --full-records).")
    p.add_argument("kernel", metavar="KERNEL[:VARIANT]", help="registered kernel, e.g. qkv_proj_rope:baseline")
    p.add_argument("--mode", default="decode", help="kernel mode (default decode)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--chip", metavar="NAME", help="chip preset (default: 910C-calibrated "
                   "= the 910C die with fitted unknowns); "
                   "see `swimsim chips`")
    g.add_argument("--chip-file", metavar="FILE", help="TOML/JSON chip file instead of a preset")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a chip field, e.g. --set runtime.cond_poll_us=0.12 (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="random seed (cold-start draws, jitter); default 0")
    p.add_argument("--l2", choices=["cold", "inputs_warm", "warm"], default="inputs_warm",
                   help="initial L2 state (default inputs_warm)")
    p.add_argument("--level", type=int, choices=[1, 2, 3, 4], default=None,
                   help="swimlane level: profiling costs and what the trace contains "
                        "(default: the chip's runtime.swimlane_level, 4 in the presets)")
    p.add_argument("--jitter", type=non_negative_float, default=0.0,
                   help="relative sigma of seeded lane-duration noise (default 0: none)")
    p.add_argument("--pmu", action="store_true", help="PMU run: no pending-slot or early dispatch")
    p.add_argument("--launch", choices=LAUNCHES, default="first",
                   help="first (default): the process's first launch, as a swimlane capture runs it; repeat: a "
                        "later launch on the same AICore stream (a timing loop's rounds after warm-up), with no "
                        "cold first kernel. The runtime times such rounds without capture; --level 1 has the "
                        "least recording cost")
    p.add_argument("-o", "--out", metavar="DIR",
                   help="output directory (created if missing). swimsim first removes the files of an earlier "
                        f"run there ({', '.join(RUN_DIR_FILES)}) and leaves every other file alone")
    t = p.add_argument_group("trace options (with -o)")
    t.add_argument("--pipe-lanes", action="store_true", help="add per-core in-core pipe lanes (MTE2, VECTOR, ...)")
    t.add_argument("--overhead", action="store_true", help="add the scheduler-overhead counter tracks")
    t.add_argument("--no-dependency-arrows", dest="arrows", action="store_false",
                   help="leave the dependency arrows out of the merged trace (the converter draws one per "
                        "producer-consumer block pair: SPMD tasks of many blocks make millions)")
    t.add_argument("--style", choices=("pypto", "june"), default="pypto",
                   help="merged-trace layout: the converter pinned by pypto (default) or simpler's June one")
    t.add_argument("--full-records", action="store_true",
                   help="write run_records.json with every block's op list (default: lean, without them; "
                        "`explain --ops` rebuilds them from the kernel name). Always full for a pypto kernel file")
    t.add_argument("--later-names", action="store_true",
                   help="write chip_swimlane_records.json in the runtime's later layout instead of "
                        "l2_swimlane_records.json")
    f = p.add_argument_group("pypto kernel files (KERNEL is a file importing pypto; arguments after -- go "
                             "to its __main__)")
    f.add_argument("--entry", metavar="NAME", help="simulate only the run_jit calls of @pl.jit function NAME "
                   "(recorded from its annotations when the __main__ makes none)")
    f.add_argument("--dyn", action="append", default=[], metavar="NAME=VALUE",
                   help="record --entry from its annotations with dynamic dim NAME = VALUE (repeatable)")
    f.add_argument("--scalar", action="append", default=[], metavar="NAME=VALUE",
                   help="record --entry from its annotations with pl.Scalar parameter NAME = VALUE (repeatable)")
    f.add_argument("--no-values", action="store_true",
                   help="record shapes only: no op values (harness runs compute them by default, so pl.read of "
                        "device-produced data sees the real numbers)")
    f.add_argument("--check-golden", action="store_true",
                   help="compare the computed outputs with the file's golden function on the same inputs, with "
                        "the harness's rtol/atol (also written as golden_check.json); exit 1 on a mismatch")
    p.__class__ = type("RunParser", (type(p),), {"parse_known_args": split_file_args})
    p.set_defaults(func=run, file_args=[], one_shot=True)  # one_shot: see sim.app.cli.main



def task_table(result: RunResult, m: dict) -> list[tuple[str, int, int, float, float]]:
    """Per function, in first-submit order: (name, tasks, blocks, avg exec µs, span µs).

    A function is what the converter's statistics name: a task's kernel, or for a MIX task its
    ``<name>_aic`` and ``<name>_aiv`` kernels, each a row. Tasks sharing a function (one function submitted
    several times) are merged. Avg Exec and span are those of ``m`` (:func:`traces.run_metrics`, from the
    tick-quantised rows ``stats.txt`` is printed from), so both show the same numbers.
    """
    graph = result.graph
    tasks: dict[str, int] = defaultdict(int)
    blocks: dict[str, int] = defaultdict(int)
    for t in graph.kernel_tasks():
        for name in graph.function_names(t):
            tasks[name] += 1
            blocks[name] += t.block_num
    funcs = m["funcs"]
    return [(name, tasks[name], blocks[name], funcs[name]["avg_exec"], funcs[name]["span"])
            for name in tasks if name in funcs]


def _pairs(items: list[str], option: str) -> dict[str, str]:
    """``NAME=VALUE`` arguments of ``option`` as a dict."""
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip() or not value.strip():
            raise UserError(f"{option} {item}: expected NAME=VALUE")
        out[key.strip()] = value.strip()
    return out


def _pypto_recordings(args: argparse.Namespace) -> list[Recording]:
    """The recordings of a pypto kernel file: its harness's run_jit calls, or ``--entry`` from its
    annotations."""
    with recording_counter():
        return _record_file(args)


def _record_file(args: argparse.Namespace) -> list[Recording]:
    """:func:`_pypto_recordings` without the progress counter."""
    from kernels.pypto_files.loader import record_entry, run_harness  # lazy: start-up time

    dyn, scalars = _pairs(args.dyn, "--dyn"), _pairs(args.scalar, "--scalar")
    if (dyn or scalars) and not args.entry:
        raise UserError("--dyn/--scalar record an entry from its annotations: name it with --entry NAME")
    if dyn or scalars:
        return [record_entry(args.kernel, args.entry, dyn, scalars, seed=args.seed)]
    if args.check_golden and args.no_values:
        raise UserError("--check-golden compares computed values: it cannot be combined with --no-values")
    recs = run_harness(args.kernel, args.file_args, seed=args.seed, entry=args.entry, with_values=not args.no_values,
                       check_golden=args.check_golden)
    if args.check_golden and not recs:
        raise UserError(f"{args.kernel}: --check-golden needs a run_jit call of the file's __main__")
    if not recs and args.entry:
        return [record_entry(args.kernel, args.entry, seed=args.seed)]
    if not recs:
        raise UserError(f"{args.kernel}: its __main__ made no run_jit call (arguments: {args.file_args}); "
                        "name a @pl.jit function with --entry NAME [--dyn NAME=VALUE] [--scalar NAME=VALUE] "
                        "to record it from its annotations")
    return recs


def _is_pypto_file(path: str) -> bool:
    """:func:`kernels.pypto_files.loader.is_pypto_file` (the loader and numpy imported only for a .py KERNEL)."""
    from kernels.pypto_files.loader import is_pypto_file  # lazy: start-up time

    return is_pypto_file(path)


def run(args: argparse.Namespace) -> int:
    """Simulate, write the run directory (``-o``) and print the per-task table."""
    t0 = time.perf_counter()
    out = check_out_dir(args.out, "-o") if args.out else None
    if args.chip_file:
        check_exists(args.chip_file)
    name = args.chip or (None if args.chip_file else recommended_preset())
    chip = load_chip(name, args.overrides, path=args.chip_file)  # bad chip input fails fast
    default_level = max(1, int(chip.runtime.swimlane_level))
    if Path(args.kernel).suffix == ".py" and _is_pypto_file(args.kernel):
        recs = _pypto_recordings(args)
        failed = False
        for i, rec in enumerate(recs):
            where = out if out is None or i == 0 else check_out_dir(out / str(i + 1), "-o")
            if len(recs) > 1:
                print(f"== run_jit {i + 1}/{len(recs)}: {rec.name} ({rec.site})")
            level = args.level if args.level is not None else (rec.level or default_level)
            _simulate(rec.graph, chip, args, where, level, t0, full_records=True)  # not rebuildable by name
            if rec.golden is not None:
                failed |= _report_golden(rec.golden, where)
            t0 = time.perf_counter()
        return 1 if failed else 0
    if args.file_args or args.entry or args.dyn or args.scalar:
        raise UserError(f"{args.kernel}: --entry, --dyn, --scalar and arguments after -- are for pypto "
                        "kernel files (files importing pypto)")
    graph = build_graph(check_kernel_spec(args.kernel), args.mode)
    level = args.level if args.level is not None else default_level
    _simulate(graph, chip, args, out, level, t0)
    return 0


def _report_golden(res: dict, out: Path | None) -> bool:
    """Print the golden check per output (and write ``golden_check.json`` to ``out``); True if it failed."""
    from kernels.pypto_files.golden_check import passed, summary_lines  # lazy: start-up time

    for line in summary_lines(res):
        print(line)
    if out is not None:
        wrote([write_text_atomic(out / "golden_check.json", json.dumps(res, indent=1, sort_keys=True) + "\n")])
    return res.get("golden") == "ran" and not passed(res)


def _simulate(graph: TaskGraph, chip: Any, args: argparse.Namespace, out: Path | None, level: int,
              t0: float, full_records: bool = False) -> None:
    """Simulate ``graph``, write the run directory to ``out`` (if given) and print the table;
    run_records.json holds the op lists with ``--full-records`` or ``full_records``."""
    opts = RunOptions(seed=args.seed, l2_init=args.l2, swimlane_level=level, jitter=args.jitter,
                      pmu_mode=args.pmu, launch=args.launch)
    result = simulate(graph, chip, opts)
    elapsed = time.perf_counter() - t0

    written = None
    if out is not None:
        written = traces.write_run(result, out, level=level, pipe_lanes=args.pipe_lanes, style=args.style,
                                   later_names=args.later_names, overhead=args.overhead, arrows=args.arrows)
        with traces.all_or_none(written.paths):
            written.paths.append(traces.write_run_records(result, out, full_ops=full_records or args.full_records))
        m = written.metrics
    else:
        m = traces.run_metrics(result, level)

    print(f"{graph.kernel}:{graph.variant} mode={graph.mode} chip={result.chip} seed={args.seed} "
          f"l2={args.l2} level={level}")
    print(f"{'task':28s} {'tasks':>5s} {'blocks':>6s} {'Avg Exec(us)':>13s} {'span(us)':>10s}")
    for name, ntask, blocks, avg, span in task_table(result, m):
        print(f"{name:28s} {ntask:5d} {blocks:6d} {fmt_us(avg):>13s} {fmt_us(span):>10s}")
    ttt = total_test_time_text(m["total_test_time"])
    unit = "" if m["total_test_time"] is None else " us"
    print(f"Total Test Time: {ttt}{unit}   wall: {fmt_us(m['swimlane_wall'])} us   "
          f"(simulated in {elapsed:.2f} s)")
    if written is not None:
        if written.arrows >= MANY_ARROWS:
            print(f"swimsim: note: the merged trace holds {written.arrows:,} dependency arrows (one per "
                  f"producer-consumer block pair); --no-dependency-arrows leaves them out", file=sys.stderr)
        gone = sorted({p.name for p in written.removed} - {p.name for p in written.paths})
        if gone:
            print(f"swimsim: note: removed the files of an earlier run in {out}: {', '.join(gone)}",
                  file=sys.stderr)
        wrote(written.paths)
