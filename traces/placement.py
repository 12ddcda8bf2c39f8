"""Where each function's blocks ran, and what running on a core's first use cost.

Works on any capture :func:`traces.rundir.load_path` reads, simulated or from hardware, at any
swimlane level: it needs only the AICore rows (core, start, end). A row is on a **first-use**
core when it is the first row of its core in the capture. The simulator's cold-core model
(``core.first_kernel_cold_max_ns``) predicts that such rows run longer; comparing their Avg Exec
with the rows on reused cores tests that on a hardware capture. Rows per scheduler thread need
``core_to_thread`` (level >= 3). All times in µs.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from sim.util.tables import render_table
from traces.perf import PerfData, Row


@dataclass
class FuncPlacement:
    """One function's rows in one capture (or pooled over several)."""

    capture: str
    name: str
    rows: int = 0
    first_use: list[float] = field(default_factory=list)  # exec µs of rows on first-use cores
    reused: list[float] = field(default_factory=list)  # exec µs of rows on cores used before
    per_thread: dict[int, int] = field(default_factory=dict)  # scheduler thread -> rows (level >= 3)

    @property
    def avg_exec(self) -> float:
        """Mean exec of all rows, µs."""
        both = self.first_use + self.reused
        return statistics.fmean(both) if both else 0.0

    @property
    def avg_first_use(self) -> float | None:
        """Mean exec of the rows on first-use cores, µs (None when there are none)."""
        return statistics.fmean(self.first_use) if self.first_use else None

    @property
    def avg_reused(self) -> float | None:
        """Mean exec of the rows on reused cores, µs (None when there are none)."""
        return statistics.fmean(self.reused) if self.reused else None

    @property
    def excess(self) -> float | None:
        """Avg Exec on first-use cores minus on reused cores, µs (None unless both kinds exist)."""
        a, b = self.avg_first_use, self.avg_reused
        return None if a is None or b is None else a - b


@dataclass
class CapturePlacement:
    """Per-function placement of one capture, plus how many cores ran anything."""

    capture: str
    funcs: list[FuncPlacement]
    cores_used: dict[str, int]  # core type -> cores with at least one row
    has_threads: bool


def _first_rows(rows: Sequence[Row]) -> set[int]:
    """ids of the rows that are the first (earliest start) on their core."""
    first: dict[int, Row] = {}
    for r in rows:
        cur = first.get(r.core_id)
        if cur is None or (r.start, r.task_id) < (cur.start, cur.task_id):
            first[r.core_id] = r
    return {id(r) for r in first.values()}


def placement(pd: PerfData, capture: str) -> CapturePlacement:
    """Per-function first-use/reused split and rows per thread of one capture."""
    firsts = _first_rows(pd.rows)
    threads = pd.core_to_thread
    funcs: dict[int, FuncPlacement] = {}
    for r in sorted(pd.rows, key=lambda r: (r.start, r.task_id, r.core_id)):
        f = funcs.get(r.func_id)
        if f is None:
            f = funcs[r.func_id] = FuncPlacement(capture, pd.func_name(r.func_id))
        f.rows += 1
        (f.first_use if id(r) in firsts else f.reused).append(r.end - r.start)
        if 0 <= r.core_id < len(threads):
            t = threads[r.core_id]
            f.per_thread[t] = f.per_thread.get(t, 0) + 1
    used: dict[str, set[int]] = {}
    for r in pd.rows:
        used.setdefault(str(r.core_type), set()).add(r.core_id)
    return CapturePlacement(capture, list(funcs.values()), {k: len(v) for k, v in sorted(used.items())},
                            bool(threads))


def pooled(captures: Sequence[CapturePlacement], label: str = "all") -> list[FuncPlacement]:
    """The captures' rows pooled per function name (e.g. the 3 runs of one variant)."""
    out: dict[str, FuncPlacement] = {}
    for c in captures:
        for f in c.funcs:
            p = out.setdefault(f.name, FuncPlacement(label, f.name))
            p.rows += f.rows
            p.first_use += f.first_use
            p.reused += f.reused
            for t, n in f.per_thread.items():
                p.per_thread[t] = p.per_thread.get(t, 0) + n
    return list(out.values())


def select(funcs: Sequence[FuncPlacement], names: Sequence[str] = ()) -> list[FuncPlacement]:
    """The functions named in ``names`` (all of them when it is empty), in their order."""
    want = set(names)
    return [f for f in funcs if not want or f.name in want]


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _signed(x: float | None) -> str:
    return "-" if x is None else f"{x:+.3f}"


def _threads(f: FuncPlacement) -> str:
    return " / ".join(f"T{t} {n}" for t, n in sorted(f.per_thread.items())) if f.per_thread else "-"


HEADER = ("capture", "function", "rows", "rows per thread", "first-use rows", "Avg Exec", "first-use",
          "reused", "excess")


def table_rows(funcs: Sequence[FuncPlacement]) -> list[tuple[str, ...]]:
    """One table row per function (µs, 3 decimals)."""
    return [(f.capture, f.name, str(f.rows), _threads(f), f"{len(f.first_use)} of {f.rows}", _num(f.avg_exec),
             _num(f.avg_first_use), _num(f.avg_reused), _signed(f.excess)) for f in funcs]


def format_placement(captures: Sequence[CapturePlacement], names: Sequence[str] = (), *, md: bool = False) -> str:
    """The placement table of one or more captures; with several, a pooled row per function follows."""
    funcs = select([f for c in captures for f in c.funcs], names)
    if len(captures) > 1:
        funcs += select(pooled(captures, f"all {len(captures)}"), names)
    lines = [render_table(HEADER, table_rows(funcs), markdown=md).rstrip("\n")]
    lines.append("")
    for c in captures:
        used = ", ".join(f"{k.upper()} {n}" for k, n in c.cores_used.items())
        note = "" if c.has_threads else "; no core_to_thread (level < 3), so no rows per thread"
        lines.append(f"{c.capture}: cores with rows {used}{note}")
    lines.append("first-use = the row is its core's first in the capture; excess = Avg Exec on first-use cores "
                 "minus on reused cores (µs)")
    return "\n".join(lines) + "\n"


__all__ = ["FuncPlacement", "CapturePlacement", "placement", "pooled", "select", "format_placement", "table_rows"]
