"""The joined capture every analysis works on: :class:`PerfData` and its :class:`Row` s.

:class:`PerfData` is the equivalent of the runtime tools' ``read_perf_data`` output: joined rows in
µs relative to the base tick, plus the tick values themselves. :mod:`traces.records` builds it from a
records file or the records of a RunResult, :mod:`traces.trace_reader` from a merged trace. Ticks are
those of the a2a3 system counter (50 MHz, 20 ns).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

CLOCK_HZ = 50_000_000  # a2a3 system counter (ticks of 20 ns)
TICK_NS = 1e9 / CLOCK_HZ
TICK_BASE = 86_700_000_000_000  # positive absolute base added to every tick (0 means "absent")


def ns_to_tick(t_ns: float, base: int = TICK_BASE) -> int:
    """Simulated ns -> absolute 50 MHz tick (truncating, as the counter reads; docs/model.md §5)."""
    return base + math.floor(t_ns / TICK_NS)


class Row:
    """One joined subtask row (the five timestamps, docs/model.md §4.5). Times in µs from the base tick;
    ``*_t`` in ticks."""

    __slots__ = ("task_id", "func_id", "core_id", "core_type", "start", "end", "dispatch", "finish",
                 "receive", "local_setup", "start_t", "end_t", "receive_t", "dispatch_t", "finish_t",
                 "reg_task_id")

    def __init__(self, **kw: Any) -> None:
        for k in self.__slots__:
            setattr(self, k, kw.get(k, 0))

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class DepsInfo:
    """What the tools take from ``deps.json``: per-task kernel ids / block count, distinct pairs."""

    kernel_ids: dict[int, list[int]] = field(default_factory=dict)
    block_num: dict[int, int] = field(default_factory=dict)
    pairs: list[tuple[int, int]] = field(default_factory=list)  # distinct (pred, succ), edge order


@dataclass
class PerfData:
    """A parsed swimlane capture (simulated or on hardware)."""

    level: int
    clock_hz: int
    core_types: list[str]
    core_to_thread: list[int]
    rows: list[Row]  # sorted by task_id (stable)
    sched: list[list[dict[str, Any]]]  # per thread, phase dicts with start/end in µs and ticks
    orch: list[list[dict[str, Any]]]  # per orchestrator, submit dicts with start/end in µs
    base_tick: int
    deps: DepsInfo | None = None
    names: dict[int, str] = field(default_factory=dict)
    orchestrator_name: str | None = None
    source: str = ""
    warnings: list[str] = field(default_factory=list)  # reader warnings (as the runtime tools print)

    def func_name(self, fid: int) -> str:
        if fid in self.names:
            return self.names[fid]
        return f"func_{fid}_{letters(fid)}"


def letters(n: int) -> str:
    """Bijective base-26 letters: 0 -> a, 25 -> z, 26 -> aa; '' for negative ids."""
    if n < 0:
        return ""
    s = ""
    n += 1
    while n > 0:
        n, r = divmod(n - 1, 26)
        s = chr(ord("a") + r) + s
    return s


__all__ = ["CLOCK_HZ", "TICK_NS", "TICK_BASE", "ns_to_tick", "Row", "DepsInfo", "PerfData", "letters"]
