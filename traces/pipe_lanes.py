"""The optional "Core Pipes" process (pid 5) of the merged trace: per core, one lane per pipe.

Each subtask gets one bar per pipe it used, starting with the kernel and as long as the pipe's busy
time (clipped to the kernel); times in µs from the capture's base tick, busy times in the records in ns.
"""

from __future__ import annotations

from typing import Any

from sim.ir import task_label
from sim.ir.records import RunResult
from traces.lanes import core_name, core_tid, meta_event
from traces.perf import CLOCK_HZ, PerfData, ns_to_tick

PIPE_ORDER = ("MTE2", "MTE1", "CUBE", "VECTOR", "FIXPIPE", "MTE3", "SCALAR")  # lane order within a core


def pipe_lane_events(result: RunResult, pd: PerfData) -> list[dict[str, Any]]:
    """Optional "Core Pipes" process (pid 5): one bar per pipe per subtask, sized by busy time (µs)."""
    scale = 1e6 / CLOCK_HZ
    ev: list[dict[str, Any]] = [
        meta_event("process_name", 5, {"name": "Core Pipes"}),
        meta_event("process_sort_index", 5, {"sort_index": 5}),
    ]
    bars: list[dict[str, Any]] = []
    lanes: set[tuple[int, int]] = set()
    for s in sorted(result.subtasks, key=lambda s: (s.core_id, s.start)):
        st = (ns_to_tick(s.start) - pd.base_tick) * scale
        en = (ns_to_tick(s.end) - pd.base_tick) * scale
        ex = en - st
        for pipe, busy in s.pipe_busy.items():
            if busy <= 0:
                continue
            k = PIPE_ORDER.index(pipe) if pipe in PIPE_ORDER else 9
            lanes.add((s.core_id, k))
            dur = min(busy / 1000.0, ex) if ex > 0 else busy / 1000.0
            bars.append({"args": {"busy-us": busy / 1000.0, "util-%": round(100 * dur / ex, 1) if ex > 0 else 0.0,
                                  "taskId": s.task_id},
                         "cat": "pipe", "name": f"{pipe} {s.func}({task_label(s.task_id)})", "ph": "X", "pid": 5,
                         "tid": core_tid(s.core_id) + k, "ts": st, "dur": dur})
    for c, k in sorted(lanes):
        pipe = PIPE_ORDER[k] if k < len(PIPE_ORDER) else "OTHER"
        ev.append(meta_event("thread_name", 5, {"name": f"{core_name(pd, c)} {pipe}"}, core_tid(c) + k))
    return ev + bars
