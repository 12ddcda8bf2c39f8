"""`swimsim run KERNEL[:VARIANT]`: simulate one kernel on one chip and write the run records.

Prints per task: name, blocks, Avg Exec (µs, mean end - start over its subtasks) and span (µs, first
start -> last end), then the run's Total Test Time and swimlane wall (µs).
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import traces
from hwmodels.chip import load_chip, recommended_preset
from kernels.registry import build_graph
from sim.app.commands import non_negative_float
from sim.engine import RunOptions, simulate
from sim.ir.records import RunResult
from sim.util.errors import UserError
from sim.util.fileio import write_text_atomic


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser("run", help="simulate a kernel and write its run records",
                       description="Simulate KERNEL[:VARIANT] on a chip; write run_records.json (and the "
                                   "swimlane files when the trace writer is available) into DIR.")
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
                   help="relative sigma of seeded lane-duration noise")
    p.add_argument("--pmu", action="store_true", help="PMU run: no pending-slot or early dispatch")
    p.add_argument("-o", "--out", metavar="DIR", help="output directory (created if missing)")
    t = p.add_argument_group("trace options (with -o)")
    t.add_argument("--pipe-lanes", action="store_true", help="add per-core in-core pipe lanes (MTE2, VECTOR, ...)")
    t.add_argument("--overhead", action="store_true", help="add the scheduler-overhead counter tracks")
    t.add_argument("--style", choices=("pypto", "june"), default="pypto",
                   help="merged-trace layout: the converter pinned by pypto (default) or simpler's June one")
    t.add_argument("--later-names", action="store_true",
                   help="write chip_swimlane_records.json in the 2026-08 layout instead of l2_swimlane_records.json")
    p.set_defaults(func=run)


def task_table(result: RunResult) -> list[tuple[str, int, int, float, float]]:
    """Per task name, in first-submit order: (name, tasks, blocks, avg exec µs, span µs).

    Tasks sharing a name (one function submitted several times) are merged, as the converter's
    per-function statistics do: Avg Exec is the mean end - start over all their subtasks, span the
    first start to the last end.
    """
    rows: dict[str, list] = defaultdict(list)
    tasks: dict[str, int] = defaultdict(int)
    blocks: dict[str, int] = defaultdict(int)
    order: list[str] = []
    by_task: dict[int, list] = defaultdict(list)
    for s in result.subtasks:
        by_task[s.task].append(s)
    for t in result.graph.kernel_tasks():
        if t.name not in tasks:
            order.append(t.name)
        tasks[t.name] += 1
        blocks[t.name] += t.block_num
        rows[t.name] += by_task.get(t.idx, [])
    out = []
    for name in order:
        subs = rows[name]
        if not subs:
            continue
        avg = sum(s.end - s.start for s in subs) / len(subs) / 1000.0
        span = (max(s.end for s in subs) - min(s.start for s in subs)) / 1000.0
        out.append((name, tasks[name], blocks[name], avg, span))
    return out


def swimlane_wall_us(result: RunResult, level: int = 4) -> float:
    """Whole-run wall (formats.md §5.3) over what a level-``level`` trace contains, in µs."""
    starts: list[float] = []
    ends: list[float] = []
    for s in result.subtasks:
        starts.append(s.start)
        ends.append(s.end)
        if level >= 2:
            starts.append(s.dispatch)
            ends.append(s.finish)
    if level >= 3:
        starts += [p.start for p in result.phases]
        ends += [p.end for p in result.phases]
    if level >= 4:
        starts += [p.start for p in result.submits]
        ends += [p.end for p in result.submits]
    if not starts:
        return 0.0
    return (max(ends) - min(starts)) / 1000.0


def run(args: argparse.Namespace) -> int:
    """Simulate, write the run directory (``-o``) and print the per-task table."""
    t0 = time.perf_counter()
    name = args.chip or (None if args.chip_file else recommended_preset())
    chip = load_chip(name, args.overrides, path=args.chip_file)  # bad chip input fails fast
    graph = build_graph(args.kernel, args.mode)
    level = args.level if args.level is not None else max(1, int(chip.runtime.swimlane_level))
    opts = RunOptions(seed=args.seed, l2_init=args.l2, swimlane_level=level, jitter=args.jitter,
                      pmu_mode=args.pmu)
    result = simulate(graph, chip, opts)
    elapsed = time.perf_counter() - t0

    if args.out:
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise UserError(f"-o {out}: exists and is not a directory")
        traces.write_run_dir(result, out, level=level, pipe_lanes=args.pipe_lanes, style=args.style,
                             later_names=args.later_names, overhead=args.overhead)
        write_text_atomic(out / "run_records.json", result.model_dump_json() + "\n")

    print(f"{graph.kernel}:{graph.variant} mode={graph.mode} chip={result.chip} seed={args.seed} "
          f"l2={args.l2} level={level}")
    print(f"{'task':28s} {'tasks':>5s} {'blocks':>6s} {'Avg Exec(us)':>13s} {'span(us)':>10s}")
    for name, ntask, blocks, avg, span in task_table(result):
        print(f"{name:28s} {ntask:5d} {blocks:6d} {avg:13.2f} {span:10.2f}")
    # June converter: at level 1 dispatch = finish = 0, so Total Test Time prints 0.00 (formats.md §5.2)
    ttt = result.notes.get("total_test_time_ns", 0.0) / 1000.0 if level >= 2 else 0.0
    print(f"Total Test Time: {ttt:.2f} us   wall: {swimlane_wall_us(result, level):.2f} us   "
          f"(simulated in {elapsed:.2f} s)")
    if args.out:
        print(f"wrote {Path(args.out) / 'run_records.json'}")
    return 0
