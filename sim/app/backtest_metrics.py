"""The metrics a validation case measured, computed from one simulated run (µs, counts, %).

A run is read the way its written files would be read: the joined, tick-quantised swimlane rows of
:func:`traces.rundir.perf_from_result` at the case's capture level, aggregated per function by
:func:`traces.stats.func_stats`, and the swimlane wall of :func:`traces.merged.events_wall`. The
PYPTO_BENCH windows come from the run's orchestrator submit records and subtask rows.

Metric keys (the ``measured`` keys of a case):

* run-wide: ``wall`` (swimlane wall), ``total_test_time`` (earliest dispatch to latest finish;
  levels 2-4), ``total_exec`` (sum of Exec over every row), ``tasks`` (rows: the converter's TOTAL
  Count, one per block and lane), ``avg_exec`` (Exec per row), ``avg_latency`` and ``exec_pct`` (the
  converter's "Per-task (all)" line; levels 2-4), ``aicore_span`` (latest end less the earliest
  receive or start);
* PYPTO_BENCH: ``orch_us`` (first submit start to last submit end), ``sched_us`` (the scheduler
  threads' window: their dispatch loops start at the launch, before the orchestrator's first submit,
  and it ends at the last finish; simpler stamps ``sched_start`` when a thread enters its dispatch
  loop, ``docs/dfx/l2-timing.md``), ``effective_us`` (length of the union of the two windows),
  ``device_wall_us`` (the launch to the later of the two windows' ends: pypto's device-wall span
  without the runtime's set-up and tear-down around the dispatch loops, which swimsim does not
  model); ``host_wall_us`` and ``fast_effective_us`` (host time, multi-device runs) are not modelled;
* per function ``FUNC.FIELD``: ``avg_exec`` and ``exec`` (Avg Exec per row), ``span`` and ``time``
  (first start to last end), ``sum_exec`` and ``busy`` (Exec summed over rows), ``tasks`` and
  ``count`` (rows: the converter's Count), ``task_ids`` (distinct runtime tasks), ``exec_pct`` (Exec /
  Latency in %, levels 2-4), ``avg_latency`` (dispatch to finish per row, levels 2-4), ``union_span``
  (length of the union of the rows' start-end intervals), ``max_exec`` and ``min_exec`` (the longest
  and shortest row), and the converter's per-row overhead columns ``avg_head_oh`` / ``head_oh``
  (dispatch to start), ``avg_tail_oh`` / ``tail_oh`` (end to finish), ``avg_prop`` / ``prop``
  (dispatch to the core's receive) and ``avg_local`` / ``local`` (receive to start), levels 2-4.

A mixed (MIX) task's rows are named ``FUNC_aic`` and ``FUNC_aiv``; a key naming ``FUNC`` that the run
has only as those halves reads both halves together (their rows pooled). A metric the run cannot
give raises :class:`Unavailable` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.ir.records import EXEC_PARTS, RunResult
from traces.merged import events_wall
from traces.rundir import perf_from_result
from traces.stats import FuncStats, aicore_span, func_stats, run_total_test_time

MIX_SUFFIXES = ("_aic", "_aiv")
BENCH_METRICS = ("orch_us", "sched_us", "effective_us", "device_wall_us")
NOT_MODELLED = {"host_wall_us": "host-side time (Python, launch and copies) is not modelled",
                "fast_effective_us": "the fastest rank of a multi-device run; swimsim simulates one device"}
ROW_METRICS = ("wall", "total_test_time", "total_exec", "tasks", "avg_exec", "avg_latency", "exec_pct",
               "aicore_span")
RUN_METRICS = (*ROW_METRICS, *BENCH_METRICS)
FUNC_FIELDS = {"avg_exec": "avg_exec", "exec": "avg_exec", "span": "span", "time": "span",
               "sum_exec": "sum_exec", "busy": "sum_exec", "tasks": "rows", "count": "rows",
               "task_ids": "task_ids", "exec_pct": "exec_pct", "union_span": "union_span",
               "avg_latency": "avg_latency", "max_exec": "max_exec", "min_exec": "min_exec",
               "avg_head_oh": "head", "head_oh": "head", "avg_tail_oh": "tail", "tail_oh": "tail",
               "avg_prop": "prop", "prop": "prop", "avg_local": "local", "local": "local"}
_OVERHEAD_SUMS = {"head": "head_sum", "tail": "tail_sum", "prop": "prop_sum", "local": "local_sum"}


class Unavailable(Exception):
    """A metric the simulated run cannot give; the message is the reason (one line)."""


@dataclass
class FuncRows:
    """One function's rows pooled (µs): the converter's aggregates, its task ids and Exec intervals."""

    stats: FuncStats
    task_ids: set[int] = field(default_factory=set)
    intervals: list[tuple[float, float]] = field(default_factory=list)
    # Exec summed over rows by EXEC_PARTS group, and "other": the rest of the rows' Exec (µs)
    parts: dict[str, float] = field(default_factory=dict)


@dataclass
class RunView:
    """What the metrics read from one simulated run. Times in µs; ``level`` is the capture level
    (0: no swimlane capture, so no per-row metrics)."""

    level: int
    funcs: dict[str, FuncRows]
    wall: float | None
    total_test_time: float | None
    total_exec: float | None
    tasks: int | None  # rows
    total_latency: float | None  # Σ (finish − dispatch) over rows; None at levels 0-1
    aicore_span: float | None
    orch: tuple[float, float] | None  # orchestrator window (start, end)
    sched: tuple[float, float] | None  # launch (the scheduler loops start), last finish


def union_length(intervals: list[tuple[float, float]]) -> float:
    """Total length covered by the ``(start, end)`` intervals (overlaps counted once)."""
    total = 0.0
    cur_lo = cur_hi = None
    for lo, hi in sorted(intervals):
        if cur_hi is None or lo > cur_hi:
            if cur_hi is not None:
                total += cur_hi - cur_lo
            cur_lo, cur_hi = lo, hi
        else:
            cur_hi = max(cur_hi, hi)
    if cur_hi is not None:
        total += cur_hi - cur_lo
    return total


def _windows(result: RunResult) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
    """(orchestrator window, scheduler window) of the run in µs, None where it has no records."""
    orch = None
    if result.submits:
        orch = (min(s.start for s in result.submits) / 1000.0, max(s.end for s in result.submits) / 1000.0)
    sched = None
    if result.subtasks:  # the scheduler threads enter their dispatch loops at the launch (time 0; each within
        # one idle iteration of it, docs/model.md §6), before the orchestrator's first submit
        sched = (0.0, max(s.finish for s in result.subtasks) / 1000.0)
    return orch, sched


def run_view(result: RunResult, level: int) -> RunView:
    """The metrics' view of ``result`` captured at swimlane ``level`` (0-4)."""
    orch, sched = _windows(result)
    if level < 1:
        return RunView(level, {}, None, None, None, None, None, None, orch, sched)
    pd = perf_from_result(result, level)[0]
    by_id = {f.func_id: FuncRows(f) for f in func_stats(pd)}
    for r in pd.rows:
        fr = by_id[r.func_id]
        fr.task_ids.add(r.task_id)
        fr.intervals.append((r.start, r.end))
    funcs = {fr.stats.name: fr for fr in by_id.values()}
    for sub in result.subtasks:
        fr = funcs.get(sub.func)
        if fr is not None:
            _add_parts(fr.parts, sub.breakdown)
    for fr in funcs.values():  # the rest of the rows' (tick-quantised) Exec is not attributed
        fr.parts["other"] = fr.stats.exec_sum - sum(fr.parts.values())
    latency = sum(r.finish - r.dispatch for r in pd.rows) if level >= 2 else None
    return RunView(level=level, funcs=funcs, wall=events_wall(pd), total_test_time=run_total_test_time(pd),
                   total_exec=sum(r.end - r.start for r in pd.rows), tasks=len(pd.rows),
                   total_latency=latency, aicore_span=aicore_span(pd.rows), orch=orch, sched=sched)


def _add_parts(parts: dict[str, float], breakdown: dict[str, float]) -> None:
    """Add one row's attributed Exec (µs), split by :data:`EXEC_PARTS`, to ``parts``."""
    for group, keys in EXEC_PARTS.items():
        parts[group] = parts.get(group, 0.0) + sum(breakdown.get(k, 0.0) for k in keys) / 1000.0


def _pooled(parts: list[FuncRows], name: str) -> FuncRows:
    """The rows of several functions (a MIX task's halves) as one function ``name``."""
    s = FuncStats(parts[0].stats.func_id, name)
    out = FuncRows(s)
    for p in parts:
        q = p.stats
        s.count += q.count
        s.exec_sum += q.exec_sum
        s.lat_sum += q.lat_sum
        s.head_sum += q.head_sum
        s.tail_sum += q.tail_sum
        s.prop_sum += q.prop_sum
        s.local_sum += q.local_sum
        s.first_start = min(s.first_start, q.first_start)
        s.last_end = max(s.last_end, q.last_end)
        out.task_ids |= p.task_ids
        out.intervals += p.intervals
        for g, v in p.parts.items():
            out.parts[g] = out.parts.get(g, 0.0) + v
    return out


def function_rows(view: RunView, name: str) -> FuncRows:
    """The rows of function ``name``: its own, else its MIX halves ``name_aic``/``name_aiv`` pooled."""
    if name in view.funcs:
        return view.funcs[name]
    halves = [view.funcs[name + s] for s in MIX_SUFFIXES if name + s in view.funcs]
    if not halves:
        raise Unavailable(f"function {name} is not in the simulated run")
    return _pooled(halves, name)


def _need_rows(view: RunView, key: str) -> None:
    if view.level < 1:
        raise Unavailable(f"{key}: the case has no swimlane capture (level 0)")


def _bench(view: RunView, key: str) -> float:
    if view.orch is None or view.sched is None:
        raise Unavailable(f"{key}: the run has no orchestrator or subtask records")
    if key == "orch_us":
        return view.orch[1] - view.orch[0]
    if key == "sched_us":
        return view.sched[1] - view.sched[0]
    if key == "device_wall_us":
        return max(view.orch[1], view.sched[1])
    return union_length([view.orch, view.sched])


def _stamps_needed(view: RunView, key: str, what: str) -> None:
    if view.level < 2:
        raise Unavailable(f"{key}: {what} needs dispatch/finish stamps (capture level 2-4)")


def _run_metric(view: RunView, key: str) -> float:
    _need_rows(view, key)
    if key == "total_test_time":
        if view.total_test_time is None:
            raise Unavailable("total_test_time: a level-1 capture has no AICPU dispatch/finish")
        return view.total_test_time
    assert view.total_exec is not None and view.tasks is not None and view.wall is not None
    if key in ("avg_latency", "exec_pct"):
        _stamps_needed(view, key, "Latency" if key == "avg_latency" else "Exec%")
        assert view.total_latency is not None
        if not view.tasks or view.total_latency <= 0:
            raise Unavailable(f"{key}: the run has no rows")
        if key == "avg_latency":
            return view.total_latency / view.tasks
        return view.total_exec / view.total_latency * 100.0
    if key == "avg_exec":
        if not view.tasks:
            raise Unavailable("avg_exec: the run has no rows")
        return view.total_exec / view.tasks
    v = {"wall": view.wall, "total_exec": view.total_exec, "tasks": view.tasks,
         "aicore_span": view.aicore_span}[key]
    assert v is not None
    return float(v)


def metric_value(view: RunView, key: str) -> float:
    """Value of metric ``key`` in ``view`` (µs, count or %); :class:`Unavailable` with the reason when
    the run cannot give it."""
    if key in NOT_MODELLED:
        raise Unavailable(f"{key}: {NOT_MODELLED[key]}")
    if key in BENCH_METRICS:
        return _bench(view, key)
    if key in ROW_METRICS:
        return _run_metric(view, key)
    func, dot, fld = key.rpartition(".")
    if not dot or not func or fld not in FUNC_FIELDS:
        known = ", ".join([*RUN_METRICS, *(f"FUNC.{f}" for f in FUNC_FIELDS)])
        raise Unavailable(f"{key}: not a metric swimsim computes (known: {known})")
    _need_rows(view, key)
    fr = function_rows(view, func)
    s = fr.stats
    kind = FUNC_FIELDS[fld]
    if kind == "avg_exec":
        return s.exec_sum / s.count
    if kind == "span":
        return s.span
    if kind == "sum_exec":
        return s.exec_sum
    if kind == "rows":
        return float(s.count)
    if kind == "task_ids":
        return float(len(fr.task_ids))
    if kind == "union_span":
        return union_length(fr.intervals)
    if kind == "max_exec":
        return max(e - b for b, e in fr.intervals)
    if kind == "min_exec":
        return min(e - b for b, e in fr.intervals)
    what = {"avg_latency": "Latency", "exec_pct": "Exec%", "head": "Head OH", "tail": "Tail OH",
            "prop": "Prop", "local": "Local"}[kind]
    _stamps_needed(view, key, what)
    if kind in _OVERHEAD_SUMS:
        return getattr(s, _OVERHEAD_SUMS[kind]) / s.count
    if s.lat_sum <= 0:
        raise Unavailable(f"{key}: the function's rows have no Latency")
    if kind == "avg_latency":
        return s.lat_sum / s.count
    return s.exec_sum / s.lat_sum * 100.0


EXEC_KINDS = ("avg_exec", "sum_exec")  # the metrics whose simulated value :func:`mean_exec_parts` splits


def mean_exec_parts(views: list[RunView], key: str) -> dict[str, float] | None:
    """For a per-function Exec metric (``FUNC.avg_exec`` / ``exec`` / ``sum_exec`` / ``busy``): the
    function's Exec per row split by :data:`sim.ir.records.EXEC_PARTS` plus ``other``, µs, mean over
    the runs; None for any other metric or when a run lacks the function."""
    func, dot, fld = key.rpartition(".")
    if not dot or FUNC_FIELDS.get(fld) not in EXEC_KINDS:
        return None
    out: dict[str, float] = {}
    for v in views:
        try:
            fr = function_rows(v, func)
        except Unavailable:
            return None
        for g, x in fr.parts.items():
            out[g] = out.get(g, 0.0) + x / fr.stats.count / len(views)
    return {g: 0.0 if abs(x) < 1e-6 else x for g, x in out.items()}  # float residue of "other" is 0


def mean_metric(views: list[RunView], key: str) -> float:
    """Mean of metric ``key`` over the runs; :class:`Unavailable` (the first run's reason) when a run
    cannot give it."""
    vals = [metric_value(v, key) for v in views]
    return sum(vals) / len(vals)
