"""A run directory: writing one from a RunResult, and loading run directories, records and trace files back."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.ir import TaskGraph
from sim.ir.records import RunResult
from sim.util.errors import UserError
from sim.util.fileio import write_text_atomic
from sim.util.gcpause import gc_paused
from sim.util.jsonfile import load_json
from traces import depsjson
from traces.depsjson import parse_deps, parse_name_map
from traces.merged import Style, build_events, events_wall
from traces.perf import DepsInfo, PerfData, Row
from traces.pipe_lanes import pipe_lane_events
from traces.records import build_records, dump_records, join_records, parse_records
from traces.stats import format_extras, format_table, metrics, wall_of_events
from traces.trace_reader import perf_from_trace, trace_events
from traces.trace_writer import dump_trace

DEFAULT_STAMP = "20260630_000000"  # merged-trace file-name timestamp (deterministic)
RECORD_NAMES = ("l2_swimlane_records.json", "chip_swimlane_records.json", "l2_perf_records.json")

# Files the analysis commands write into a run directory.
CRITICAL_PATH_REPORT = "critical_path_report.md"
CPM_TRACES = ("CPM_static.json", "CPM_observed.json")
OVERHEAD_REPORT = "sched_overhead_report.md"
RUN_RECORDS = "run_records.json"

# Every file name swimsim writes into a run directory (glob patterns): `run`/`reproduce` write the
# first ones, `critical-path` and `overhead` the reports. Writing a run first removes these (and
# only these) so that nothing of an earlier run in the same directory survives.
RUN_DIR_FILES = ("l2_swimlane_records*.json", "chip_swimlane_records*.json", "deps.json", "name_map_*.json",
                 "merged_swimlane_*.json", "stats.txt", RUN_RECORDS, "CPM_*.json", CRITICAL_PATH_REPORT,
                 OVERHEAD_REPORT)


def _names_for(result: RunResult) -> dict[str, Any]:
    nm = depsjson.name_map(result.graph)
    names = nm["callable_id_to_name"]
    for s in result.subtasks:  # functions missing from the graph's table
        names.setdefault(str(s.func_id), s.func)
    nm["callable_id_to_name"] = {k: names[k] for k in sorted(names, key=int)}
    return nm


def perf_from_result(result: RunResult, level: int = 4, later: bool = False) -> tuple[
        PerfData, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(PerfData, records dict, deps dict, name map dict) for ``result`` — the in-memory equivalent of
    reading the written files."""
    rec = build_records(result, level, later)
    deps, info = _deps_of(result.graph)
    nm = _names_for(result)
    names, oname = parse_name_map(nm)
    pd = join_records(rec, "<memory>", info, names, oname)
    return pd, rec, deps, nm


_DEPS_MEMO: list[tuple[TaskGraph, dict[str, Any], DepsInfo]] = []  # the last graph's deps (read-only)


def _deps_of(graph: TaskGraph) -> tuple[dict[str, Any], DepsInfo]:
    """deps.json object and its parsed form for ``graph``, kept for the last graph: seeded runs of
    one graph (reproduce, calibrate, sweep) share it. Callers only read both."""
    if _DEPS_MEMO and _DEPS_MEMO[0][0] is graph:
        return _DEPS_MEMO[0][1], _DEPS_MEMO[0][2]
    deps = depsjson.to_deps_json(graph)
    info = parse_deps(deps)
    _DEPS_MEMO[:] = [(graph, deps, info)]
    return deps, info


def earlier_run_files(out_dir: Path | str) -> list[Path]:
    """The files of :data:`RUN_DIR_FILES` in ``out_dir`` (sorted; none if it does not exist)."""
    d = Path(out_dir)
    if not d.is_dir():
        return []
    return sorted({p for pat in RUN_DIR_FILES for p in d.glob(pat) if p.is_file() or p.is_symlink()})


def remove_earlier_run(out_dir: Path | str) -> list[Path]:
    """Remove swimsim's own files of an earlier run from ``out_dir`` (:data:`RUN_DIR_FILES`); every
    other file stays. Returns the removed paths."""
    removed = earlier_run_files(out_dir)
    for p in removed:
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise UserError(f"{p}: cannot remove the file of an earlier run ({exc.strerror or exc})") from None
    return removed


@dataclass
class WrittenRun:
    """What :func:`write_run` did: the files written, the files of an earlier run it removed (some
    are written again), and the run's metrics (:func:`run_metrics`) from the same rows and wall as
    ``stats.txt``."""

    paths: list[Path]
    removed: list[Path]
    metrics: dict[str, Any]
    arrows: int = 0  # dependency arrows in the merged trace (Worker and Scheduler View)



# the graph's per-block op lists: what a lean run_records.json leaves out (each block keeps its idx)
_OPS = {"graph": {"tasks": {"__all__": {"blocks": {"__all__": {"ops"}}}}}}


def dump_run_records(result: RunResult, *, full_ops: bool = True) -> str:
    """The text of ``run_records.json``: ``result`` as JSON (one line and a newline). ``full_ops=False``
    leaves out every block's op list (the in-core program, ~95 % of the bytes of a kernel graph);
    blocks keep their ``idx`` and read back with empty ``ops``."""
    with gc_paused():
        return result.model_dump_json(exclude=None if full_ops else _OPS) + "\n"


def write_run_records(result: RunResult, out_dir: Path | str, *, full_ops: bool = True) -> Path:
    """Write :func:`dump_run_records` to ``out_dir/run_records.json``; returns its path."""
    return write_text_atomic(Path(out_dir) / RUN_RECORDS, dump_run_records(result, full_ops=full_ops))


def write_run(result: RunResult, out_dir: Path | str, *, level: int = 4, pipe_lanes: bool = False,
              stamp: str = DEFAULT_STAMP, style: Style = "pypto", later_names: bool = False,
              overhead: bool = False, arrows: bool = True) -> WrittenRun:
    """Write records, deps.json, name map, merged trace and stats.txt for ``result`` into ``out_dir``,
    after removing the files of an earlier run there (:func:`remove_earlier_run`).

    ``level`` 1..4 selects the captured sections; ``pipe_lanes`` adds the "Core Pipes" process;
    ``stamp`` is the merged-trace file-name timestamp; ``style`` "pypto" (default: the converter
    pypto pins) or "june" (simpler's June converter); ``later_names`` writes
    ``chip_swimlane_records.json`` in the later layout; ``overhead`` adds the scheduler-overhead
    counter tracks to the merged trace; ``arrows`` False leaves out its dependency arrows (docs/model.md
    §5 lists the files). Deterministic: the same RunResult gives byte-identical files.
    """
    with gc_paused():
        return _write_run(result, Path(out_dir), level, pipe_lanes, stamp, style, later_names, overhead, arrows)


def _write_run(result: RunResult, out: Path, level: int, pipe_lanes: bool, stamp: str, style: Style,
               later_names: bool, overhead: bool, arrows: bool) -> WrittenRun:
    pd, rec, deps, nm = perf_from_result(result, level, later_names)
    events = build_events(pd, style, arrows=arrows)
    wall = wall_of_events(events)
    if overhead:
        events = build_events(pd, style, overhead=True, arrows=arrows)
    if pipe_lanes:
        events = events + pipe_lane_events(result, pd)
    kernel = result.graph.kernel
    removed = remove_earlier_run(out)
    files: list[tuple[str, Callable[[], str]]] = [
        ("chip_swimlane_records.json" if later_names else "l2_swimlane_records.json", lambda: dump_records(rec)),
        ("deps.json", lambda: depsjson.dumps(deps)),
        (f"name_map_{kernel}.json", lambda: json.dumps(nm, indent=2) + "\n"),
        (f"merged_swimlane_{stamp}.json", lambda: dump_trace(events)),
        ("stats.txt", lambda: format_table(pd) + format_extras(pd, wall)),
    ]
    paths: list[Path] = []
    with all_or_none(paths):
        for name, text in files:
            paths.append(write_text_atomic(out / name, text()))
    n_arrows = sum(1 for e in events if e.get("ph") == "s" and e["name"] in ("dependency", "hb_violation"))
    return WrittenRun(paths, removed, metrics(pd, wall), n_arrows)


@contextmanager
def all_or_none(paths: list[Path]) -> Iterator[None]:
    """Remove the files in ``paths`` (written so far) when the block fails, so that a failed write (a
    full disk, say) leaves no part of a run directory behind; the error propagates."""
    try:
        yield
    except BaseException:
        for p in paths:
            p.unlink(missing_ok=True)
        raise


def write_run_dir(result: RunResult, out_dir: Path | str, *, level: int = 4, pipe_lanes: bool = False,
                  stamp: str = DEFAULT_STAMP, style: Style = "pypto", later_names: bool = False,
                  overhead: bool = False) -> list[Path]:
    """:func:`write_run`; returns the written paths."""
    return write_run(result, out_dir, level=level, pipe_lanes=pipe_lanes, stamp=stamp, style=style,
                     later_names=later_names, overhead=overhead).paths


def run_metrics(result: RunResult, level: int = 4) -> dict[str, Any]:
    """Statistics of ``result`` exactly as the written files give them (µs), without writing files.

    Keys: total_test_time, swimlane_wall, aicore_span, funcs{name: count, avg_exec, span, avg_latency,
    avg_head_oh, avg_tail_oh, avg_exec_reused, avg_exec_first_use}.
    """
    pd = perf_from_result(result, level)[0]
    return metrics(pd, events_wall(pd))


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


class Loaded:
    """A run loaded from disk: PerfData plus the wall (from the merged trace when there is one)."""

    def __init__(self, pd: PerfData, wall: float, events: list[dict[str, Any]] | None = None,
                 trace_path: Path | None = None, run_dir: Path | None = None) -> None:
        self.pd = pd
        self.wall = wall
        self.events = events
        self.trace_path = trace_path
        self.run_dir = run_dir


def _find_in(d: Path, names: tuple[str, ...] | str) -> Path | None:
    pats = (names,) if isinstance(names, str) else names
    for sub in (d, d / "dfx_outputs"):
        for pat in pats:
            hits = sorted(sub.glob(pat))
            if hits:
                return hits[0]
    return None


def _siblings(d: Path) -> tuple[DepsInfo | None, dict[int, str], str | None]:
    """deps.json and name map next to a records file (None / empty when absent)."""
    deps = None
    dp = _find_in(d, "deps.json")
    if dp is not None:
        deps = parse_deps(load_json(dp), str(dp))
    names: dict[int, str] = {}
    oname = None
    nmp = _find_in(d, "name_map*.json")
    if nmp is not None:
        names, oname = parse_name_map(load_json(nmp), str(nmp))
    return deps, names, oname


def load_records_file(path: Path) -> Loaded:
    """Records file + sibling deps.json / name map; wall computed over the rebuilt merged trace."""
    deps, names, oname = _siblings(path.parent)
    pd = parse_records(load_json(path), str(path), deps, names, oname)
    events = build_events(pd)
    return Loaded(pd, wall_of_events(events), events, None, path.parent)


def load_path(path: Path | str) -> Loaded:
    """A run directory, a records file, or a merged trace file."""
    p = Path(path)
    if p.is_dir():
        rec = _find_in(p, RECORD_NAMES)
        if rec is not None:
            ld = load_records_file(rec)
            ld.run_dir = p
            tr = _find_in(p, ("merged_swimlane*.json",))
            if tr is not None:  # the wall of the trace actually written (e.g. by the real converter)
                events = trace_events(load_json(tr))
                if events is not None:
                    ld.trace_path = tr
                    ld.wall = wall_of_events([e for e in events if isinstance(e, dict)
                                              and isinstance(e.get("ts", 0), (int, float))])
            return ld
        rr = _find_in(p, RUN_RECORDS)
        if rr is not None:
            ld = _load_run_records(rr, load_json(rr))
            ld.run_dir = p
            return ld
        tr = _find_in(p, ("merged_swimlane*.json",))
        if tr is not None:
            return load_trace_file(tr)
        raise UserError(f"{p}: no l2_swimlane_records.json, run_records.json or merged_swimlane_*.json found")
    if not p.exists():
        raise UserError(f"{p}: no such file or directory")
    obj = load_json(p)
    if isinstance(obj, dict) and "traceEvents" in obj:
        return load_trace_file(p, obj)
    if isinstance(obj, dict) and "graph" in obj and "subtasks" in obj:
        return _load_run_records(p, obj)
    deps, names, oname = _siblings(p.parent)
    pd = parse_records(obj, str(p), deps, names, oname)
    events = build_events(pd)
    return Loaded(pd, wall_of_events(events), events, None, p.parent)


def _load_run_records(path: Path, obj: Any) -> Loaded:
    """A ``run_records.json`` (full RunResult dump) at level 4."""
    try:
        result = RunResult.model_validate(obj)
    except ValueError as exc:
        lines = str(exc).splitlines()
        where = lines[1] if len(lines) > 1 else lines[0]
        raise UserError(f"{path}: not a valid RunResult dump: {where}: {lines[2].strip() if len(lines) > 2 else ''}") \
            from None
    pd = perf_from_result(result)[0]
    ev = build_events(pd)
    return Loaded(pd, wall_of_events(ev), ev, None, path.parent)


def load_trace_file(path: Path, obj: Any = None) -> Loaded:
    """Rebuild joined rows from a merged trace (Worker View + Scheduler View bars)."""
    if obj is None:
        obj = load_json(path)
    pd, events = perf_from_trace(obj, str(path))
    return Loaded(pd, wall_of_events(events), events, path, path.parent)


__all__ = ["write_run_dir", "write_run", "WrittenRun", "remove_earlier_run", "earlier_run_files", "run_metrics",
           "load_path", "Loaded", "Row"]
