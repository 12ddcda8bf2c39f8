"""`swimsim explain`: why a function's Avg Exec and span are what they are, from a run's records.

* :func:`explain_function` — Avg Exec split by critical-path attribution (pipes, memory stalls,
  issue/sync overhead, cold core), pipe busy times, warm/cold rows, and the span's dispatch
  stagger and waves (µs).
* :func:`explain_against` — the same figures of two runs side by side, the Avg Exec difference
  split into the warm rows' cost and the share of rows on cold cores (µs).
* :func:`explain_ops` — one block's in-core op timeline as the list scheduler placed it, with L2
  replayed over the run's earlier blocks, and the critical time per op name (µs).
"""

from __future__ import annotations

from pathlib import Path

from hwmodels import CoreCostModel, L2State
from hwmodels.chip import chip_from_dict
from hwmodels.incore import op_lowering
from kernels.registry import build_graph
from sim.ir import TaskGraph
from sim.ir.records import EXEC_PARTS, RunResult, SubtaskRecord
from sim.util.errors import UserError
from sim.util.tables import render_table

_RERUN = "`swimsim run --full-records`, or `swimsim backtest --write-runs --full-records` for a backtest's runs"


def load_run(dirpath: Path) -> RunResult:
    """The RunResult a run directory's ``run_records.json`` holds; UserError naming what is wrong."""
    f = dirpath / "run_records.json"
    if not f.is_file():
        raise UserError(f"{dirpath}: no run_records.json (expected a directory written by `swimsim run -o`)")
    try:
        return RunResult.model_validate_json(f.read_text())
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise UserError(f"{f}: not a valid run record dump ({first})") from exc


def _mean_breakdown(rows: list[SubtaskRecord]) -> dict[str, float]:
    """Mean critical-path breakdown per row (µs), by breakdown key."""
    keys: dict[str, float] = {}
    for s in rows:
        for k, v in s.breakdown.items():
            keys[k] = keys.get(k, 0.0) + v / 1000.0 / len(rows)
    return keys


def explain_function(result: RunResult, func: str) -> str:
    """Text breakdown of ``func``'s Avg Exec and span (µs) from a RunResult."""
    rows = _function_rows(result, func)
    n = len(rows)
    execs = [(s.end - s.start) / 1000.0 for s in rows]
    fig = _context_figures(rows)
    avg = fig["avg"]
    keys = _mean_breakdown(rows)
    pipes: dict[str, float] = {}
    for s in rows:
        for k, v in s.pipe_busy.items():
            pipes[k] = pipes.get(k, 0.0) + v / 1000.0 / n
    groups = EXEC_PARTS
    lines = [f"{func}: {n} rows, Avg Exec {avg:.3f} µs (min {min(execs):.3f}, max {max(execs):.3f})", ""]
    lines.append("Avg Exec breakdown (µs per row, critical-path attribution):")
    seen = set()
    for g, ks in groups.items():
        sub = {k: keys[k] for k in ks if k in keys}
        seen.update(sub)
        lines.append(f"  {g:<28} {sum(sub.values()):8.3f}")
        for k, v in sorted(sub.items(), key=lambda kv: -kv[1]):
            lines.append(f"    {k:<26} {v:8.3f}")
    rest = {k: v for k, v in keys.items() if k not in seen}
    for k, v in sorted(rest.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {k:<28} {v:8.3f}")
    cold = [s for s in rows if s.on_cold_core]
    core = (result.chip_params or {}).get("core", {})
    in_schedule = bool(core.get("first_kernel_cold_in_schedule"))
    what = "that paid the cold first-kernel extra on their critical path" if in_schedule \
        else "that were their core's first kernel in the launch"
    lines.append(f"  rows {what}: {len(cold)} of {n}")
    if cold:
        cold_ex = [(s.end - s.start) / 1000.0 for s in cold]
        extra = sum(s.breakdown["cold_core"] for s in cold) / len(cold) / 1000.0
        each = "on average" if len({round(s.breakdown["cold_core"], 3) for s in cold}) > 1 else "each"
        if in_schedule:
            per = core.get("first_kernel_extra_per_load_ns", 0.0)
            lines.append(f"    cold rows: Avg Exec {sum(cold_ex) / len(cold_ex):.3f} µs, of their critical path "
                         f"{extra:.3f} µs {each} in the first GM loads' cold extra ({per:g} ns each, in the schedule)")
        else:
            rule = ""
            if core:
                rule = (f" = min({core.get('first_kernel_extra_ns', 0.0):g} ns + GM loads x "
                        f"{core.get('first_kernel_extra_per_load_ns', 0.0):g} ns, bound "
                        f"{core.get('first_kernel_cold_max_ns', 0.0):g} ns)")
                if core.get("first_kernel_cold_counts_head"):
                    rule += " - the cold head wait the core already paid before start"
            lines.append(f"    cold rows: Avg Exec {sum(cold_ex) / len(cold_ex):.3f} µs, extra {extra:.3f} µs "
                         f"{each}{rule}")
        if len(cold) < n:
            lines.append(f"    warm rows: Avg Exec {fig['warm_avg']:.3f} µs")
    lines.append("")
    lines.append("Pipe busy (PMU view, µs per row): " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(pipes.items())))
    # span: dispatch staggering and waves
    first_end = min(s.end for s in rows)
    later_wave = [s for s in rows if s.start >= first_end]
    dispatches = sorted({s.dispatch for s in rows})
    by_thread: dict[int, float] = {}
    for s in rows:
        by_thread[s.thread] = min(by_thread.get(s.thread, s.dispatch), s.dispatch)
    lines.append("")
    lines.append(f"Span {fig['span']:.3f} µs = start stagger {fig['stagger']:.3f} µs "
                 f"(first start -> last start) + last row's exec {fig['last_exec']:.3f} µs "
                 "(approx. when the last-starting row also ends last)")
    lines.append(f"  dispatch batches: {len(dispatches)}; first dispatch per scheduler thread (µs after the "
                 "function's first dispatch): "
                 + ", ".join(f"T{t} +{(d - dispatches[0]) / 1000.0:.3f}" for t, d in sorted(by_thread.items())))
    lines.append(f"  waves: {1 + (1 if later_wave else 0)} ({len(later_wave)} rows started after the first row ended)")
    heads = [(s.start - s.dispatch) / 1000.0 for s in rows]
    lines.append(f"  Head OH mean {sum(heads) / n:.3f} µs, max {max(heads):.3f} µs")
    return "\n".join(lines) + "\n"


def _context_figures(rows: list[SubtaskRecord]) -> dict[str, float]:
    """Avg Exec, its parts, the warm/cold split and the span parts of one function's rows (µs)."""
    n = len(rows)
    execs = [(s.end - s.start) / 1000.0 for s in rows]
    avg = sum(execs) / n
    keys = _mean_breakdown(rows)
    out: dict[str, float] = {"avg": avg, "rows": float(n)}
    for g, ks in EXEC_PARTS.items():
        out[g] = sum(keys.get(k, 0.0) for k in ks)
    out["other"] = avg - sum(out[g] for g in EXEC_PARTS)
    warm = [e for e, s in zip(execs, rows, strict=True) if not s.on_cold_core]
    cold = [e for e, s in zip(execs, rows, strict=True) if s.on_cold_core]
    out["cold_rows"] = float(len(cold))
    out["warm_avg"] = sum(warm) / len(warm) if warm else float("nan")
    # Avg Exec = warm-row mean + (cold rows / rows) x (cold-row mean - warm-row mean)
    out["cold_share"] = avg - out["warm_avg"] if warm else float("nan")
    starts = sorted(s.start for s in rows)
    end = max(s.end for s in rows)
    out["span"] = (end - starts[0]) / 1000.0
    out["stagger"] = (starts[-1] - starts[0]) / 1000.0
    out["last_exec"] = (end - starts[-1]) / 1000.0
    return out


def explain_against(result_a: RunResult, result_b: RunResult, func: str, name_a: str, name_b: str) -> str:
    """Why ``func``'s Avg Exec and span differ between two runs (µs): the same breakdown side by side,
    and the difference split into the warm rows' cost and the share of rows on cold cores."""
    a = _context_figures(_function_rows(result_a, func))
    b = _context_figures(_function_rows(result_b, func))

    def snap(v: float) -> float:  # no "-0.000"
        return 0.0 if abs(v) < 5e-4 else v

    def num(v: float) -> str:
        return "-" if v != v else f"{snap(v):.3f}"

    def diff(k: str) -> str:
        d = a[k] - b[k]
        return "-" if d != d else f"{snap(d):+.3f}"

    body = [["Avg Exec", num(a["avg"]), num(b["avg"]), diff("avg")]]
    for g in EXEC_PARTS:
        body.append(["  " + g, num(a[g]), num(b[g]), diff(g)])
    body.append(["  other (not attributed)", num(a["other"]), num(b["other"]), diff("other")])
    body.append(["rows on cold cores / rows", f"{a['cold_rows']:.0f} / {a['rows']:.0f}",
                 f"{b['cold_rows']:.0f} / {b['rows']:.0f}", ""])
    body.append(["warm rows' Avg Exec", num(a["warm_avg"]), num(b["warm_avg"]), diff("warm_avg")])
    body.append(["cold rows' share of Avg Exec", num(a["cold_share"]), num(b["cold_share"]), diff("cold_share")])
    body.append(["Span", num(a["span"]), num(b["span"]), diff("span")])
    body.append(["  start stagger (first start -> last start)", num(a["stagger"]), num(b["stagger"]),
                 diff("stagger")])
    body.append(["  last-starting row's start -> last end", num(a["last_exec"]), num(b["last_exec"]),
                 diff("last_exec")])
    lines = [f"{func}: A = {name_a}, B = {name_b} (µs per row; critical-path attribution)", ""]
    lines.append(render_table(["", "A", "B", "A - B"], body, left=(0,)).rstrip("\n"))
    d_w = a["warm_avg"] - b["warm_avg"]
    d_c = a["cold_share"] - b["cold_share"]
    if d_w == d_w and d_c == d_c:
        d_w, d_c = snap(d_w), snap(d_c)
        lines += ["", f"Avg Exec A - B = {a['avg'] - b['avg']:+.3f} µs: warm rows {d_w:+.3f} µs, "
                      f"rows on cold cores {d_c:+.3f} µs "
                      "(cold rows' share = Avg Exec - warm rows' Avg Exec)"]
    return "\n".join(lines) + "\n"


def _function_rows(result: RunResult, func: str) -> list[SubtaskRecord]:
    """The run's subtask records of ``func``; UserError listing the functions if it has none."""
    rows = [s for s in result.subtasks if s.func == func]
    if not rows:
        names = sorted({s.func for s in result.subtasks})
        raise UserError(f"function {func!r} not in this run (functions: {', '.join(names)})")
    return rows


def _graph_with_ops(result: RunResult) -> TaskGraph:
    """The run's task graph with its per-block op lists: the recorded ones of a ``--full-records``
    run, else rebuilt from the registry by kernel name (a lean ``run_records.json``, the default)."""
    g = result.graph
    if any(b.ops for t in g.tasks for b in t.blocks):
        return g
    try:
        full = build_graph(f"{g.kernel}:{g.variant}", g.mode)
    except UserError as exc:
        raise UserError(f"this run directory holds no op lists and its kernel cannot be rebuilt by name ({exc}); "
                        f"re-run it with --full-records ({_RERUN})") from None
    if len(full.tasks) != len(g.tasks) or full.params != g.params:
        raise UserError(f"the rebuilt {g.kernel}:{g.variant} graph differs from the recorded one "
                        f"(params {full.params} vs {g.params}); re-run it with --full-records ({_RERUN})")
    return full


def explain_ops(result: RunResult, func: str, block: int) -> str:
    """In-core timeline of one block of ``func`` (µs): every op as the list scheduler placed it, the
    critical path, and the critical time per op name. L2 is replayed over the run's earlier blocks."""
    rows = _function_rows(result, func)
    mine = [s for s in rows if s.block == block]
    if not mine:
        raise UserError(f"--block {block}: {func} has blocks 0..{max(s.block for s in rows)}")
    row = mine[0]
    graph = _graph_with_ops(result)
    chip = chip_from_dict(result.chip_params, "run_records.json chip_params")
    model = CoreCostModel(chip)
    l2 = L2State(chip, graph, init="inputs_warm")
    done: set[tuple[int, int]] = set()
    for s in sorted(result.subtasks, key=lambda s: (s.start, s.core_id)):  # earlier blocks warm L2
        if s is row:
            break
        if (s.task, s.block) not in done:
            done.add((s.task, s.block))
            t = graph.tasks[s.task]
            model.profile(t, t.blocks[s.block], l2)
    task = graph.tasks[row.task]
    ops = [o for o in model.op_timeline(task, task.blocks[block], l2) if o.lane == row.lane]
    pro = (chip.core.kernel_prologue_ns + chip.core.kernel_epilogue_ns) / 1000.0
    total = max((o.ready_ns for o in ops), default=0.0) / 1000.0
    exec_us = (row.end - row.start) / 1000.0
    lines = [f"{func} block {block} ({row.lane} of core {row.core_id}): ops {total:.3f} µs + prologue/epilogue "
             f"{pro:.3f} µs = {total + pro:.3f} µs; the row's Exec is {exec_us:.3f} µs (the rest: cold-core "
             "extra, HBM contention, jitter)",
             "L2 replayed over the run's earlier blocks; times from the first op; * = on the critical path; "
             f"steps = barrier-separated vector steps (vector.lowering = {chip.vector.lowering}), "
             "+Ni further instructions, +Ns scalar-loop elements", ""]
    recorded = task.blocks[block].ops

    def steps(i: int) -> str:
        n, extra, scalar = op_lowering(chip, recorded[i])
        return "" if not n else str(n) + (f" +{extra}i" if extra else "") + (f" +{scalar}s" if scalar else "")

    head = ["#", "pipe", "op", "shape", "steps", "start", "busy end", "ready", "waits on", ""]
    body = [[str(o.index), o.pipe, o.name, "x".join(str(d) for d in o.shape), steps(o.index),
             f"{o.start_ns / 1000:.3f}", f"{o.busy_end_ns / 1000:.3f}", f"{o.ready_ns / 1000:.3f}",
             "-" if o.waited_for < 0 else f"#{o.waited_for}", "*" if o.critical else ""] for o in ops]
    lines.append(render_table(head, body).rstrip("\n"))
    by_idx = {o.index: o for o in ops}
    crit: dict[str, list[float]] = {}
    for o in ops:
        if o.critical:
            prev = by_idx.get(o.waited_for)
            share = o.ready_ns - (prev.ready_ns if prev is not None and prev.critical else 0.0)
            c = crit.setdefault(o.name, [0, 0.0])
            c[0] += 1
            c[1] += share / 1000.0
    lines += ["", f"critical path by op ({sum(c[0] for c in crit.values())} ops, {total:.3f} µs):"]
    for name, (k, us) in sorted(crit.items(), key=lambda kv: -kv[1][1]):
        lines.append(f"  {name:<22} x{k:<4} {us:8.3f} µs  ({us / total * 100 if total else 0:5.1f} %)")
    return "\n".join(lines) + "\n"
