"""``swimsim graph KERNEL[:VARIANT]``: build a kernel's task graph and print or write it.

Formats: ``summary`` (one row per task), ``json`` (the IR), ``deps`` (deps.json, dep_gen layout).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from kernels.registry import build_graph
from sim.app.paths import check_kernel_spec, check_out_file, wrote
from sim.ir import TaskGraph, TaskKind, task_label
from sim.util.errors import UserError
from sim.util.fileio import write_text_atomic
from traces.depsjson import dumps, to_deps_json

CATEGORIES = [("load", ("load",)), ("store", ("store",)), ("vec", ("vec",)),
              ("cube", ("matmul", "matmul_acc")), ("move", ("move",)), ("scalar", ("scalar",)),
              ("handoff", ("handoff",))]


def _parse_params(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for it in items:
        key, sep, val = it.partition("=")
        if not sep or not key:
            raise UserError(f"--param {it!r}: expected KEY=INT")
        try:
            out[key.strip()] = int(val)
        except ValueError:
            raise UserError(f"--param {it!r}: value {val!r} is not an integer") from None
    return out


def _fmt_bytes(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.2f}MiB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.2f}KiB"
    return f"{n}B"


def block_counts(ops: list) -> Counter:
    """Op counts of one block by summary category."""
    c: Counter = Counter()
    for o in ops:
        for cat, kinds in CATEGORIES:
            if o.kind in kinds:
                c[cat] += 1
    return c


def summary(g: TaskGraph) -> str:
    """Human-readable table: one row per kernel/dummy task."""
    kt = g.kernel_tasks()
    lines = [f"{g.kernel}:{g.variant} mode={g.mode} params={g.params}",
             f"{len(kt)} tasks / {sum(t.block_num for t in kt)} blocks "
             f"({sum(1 for t in g.tasks if t.kind == TaskKind.ALLOC)} alloc, "
             f"{sum(1 for t in g.tasks if t.kind == TaskKind.DUMMY)} dummy)"]
    hdr = (f"{'#':>3} {'task':<8} {'name':<28} {'core':<5} {'blk':>4}  {'ops/block':<44} "
           f"{'GM in':>10} {'GM out':>10}  preds")
    lines.append(hdr)
    preds = g.preds()
    names = {t.idx: t for t in g.tasks}
    for t in g.tasks:
        if t.kind == TaskKind.ALLOC:
            continue
        counts = [block_counts(b.ops) for b in t.blocks]
        c0 = counts[0] if counts else Counter()
        varies = any(c != c0 for c in counts[1:])
        ops = " ".join(f"{k}={c0[k]}" for k, _ in CATEGORIES if c0[k]) + (" *" if varies else "")
        gin = sum(o.nbytes for b in t.blocks for o in b.ops if o.kind == "load")
        gout = sum(o.nbytes for b in t.blocks for o in b.ops if o.kind == "store")
        cnt: Counter = Counter()
        for p in preds[t.idx]:
            pt = names[p]
            cnt["alloc" if pt.kind == TaskKind.ALLOC else pt.name] += 1
        pn = [k if n == 1 else f"{k}x{n}" for k, n in cnt.items()]
        lines.append(f"{t.idx:>3} {task_label(t.task_id):<8} {t.name:<28} {t.shape.value:<5} {t.block_num:>4}  "
                     f"{ops or '-':<44} {_fmt_bytes(gin):>10} {_fmt_bytes(gout):>10}  {', '.join(pn) or '-'}")
    lines.append("(ops/block = block 0; '*' = blocks differ; GM in/out = task totals of loads/stores)")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Build the graph and print or write it in the chosen format."""
    params = _parse_params(args.param or [])
    out = check_out_file(args.output, "-o") if args.output else None
    t0 = time.perf_counter()
    g = build_graph(check_kernel_spec(args.kernel), args.mode, **params)
    dt = time.perf_counter() - t0
    if args.format == "json":
        text = g.to_json()
    elif args.format == "deps":
        text = dumps(to_deps_json(g))
    else:
        text = summary(g) + f"(graph built in {dt:.2f} s)\n"
    if out is not None:
        wrote([write_text_atomic(out, text)])
    else:
        sys.stdout.write(text)
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser("graph", help="build a kernel's task graph (summary, IR JSON or deps.json)")
    p.add_argument("kernel", metavar="KERNEL[:VARIANT]", help="e.g. qkv_proj_rope:precompute")
    p.add_argument("--mode", default="decode", help="decode (default) or prefill")
    p.add_argument("--format", choices=["summary", "json", "deps"], default="summary",
                   help="summary: one row per task (default); json: the task-graph IR; deps: deps.json in the "
                        "runtime's dep_gen layout")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write to FILE instead of stdout (an existing file is overwritten)")
    p.add_argument("--param", action="append", metavar="KEY=INT",
                   help="override a shape parameter (e.g. T=16); repeatable")
    p.set_defaults(func=run)
