"""Scheduler-overhead counter tracks of the merged trace, pid 2 (the ``oh_*`` tracks of simpler's
``sched_overhead_analysis``, ``simpler_setup/tools/README.md``).

Per engine (AIC, AIV) over the makespan ``[min start, max end]``: idle cores, ready but undispatched
tasks (a task is ready when its last deps.json predecessor ended), and whether both coincide
(overhead); plus whether every engine / every engine with ready tasks is in overhead. A counter
event is written when a value changes; times in µs from the base tick.
"""

from __future__ import annotations

from typing import Any

from traces.lanes import meta_event
from traces.perf import PerfData, Row

OH_TIDS = {"oh_aic_idle": 9101, "oh_aic_ready": 9102, "oh_aic_overhead": 9103, "oh_aiv_idle": 9111,
           "oh_aiv_ready": 9112, "oh_aiv_overhead": 9113, "oh_all_overhead": 9121, "oh_has_overhead": 9122}


def overhead_counters(pd: PerfData) -> list[dict[str, Any]]:
    """Scheduler-overhead counter tracks, pid 2, written when a value changes (µs)."""
    rows = pd.rows
    lo = min(r.start for r in rows)
    hi = max(r.end for r in rows)
    types = [t for t in ("aic", "aiv") if any(r.core_type == t for r in rows)]
    k = {t: len({r.core_id for r in rows if r.core_type == t}) for t in types}
    by_task: dict[int, list[Row]] = {}
    for r in rows:
        by_task.setdefault(r.task_id, []).append(r)
    end_of = {t: max(r.end for r in rs) for t, rs in by_task.items()}
    preds: dict[int, list[int]] = {}
    assert pd.deps is not None
    for p, s_ in pd.deps.pairs:
        if p in end_of:
            preds.setdefault(s_, []).append(p)
    # (time, kind, type, delta): kind 0 = running, 1 = ready
    deltas: list[tuple[float, int, str, int]] = []
    for r in rows:
        deltas.append((max(r.start, lo), 0, r.core_type, 1))
        deltas.append((min(r.end, hi), 0, r.core_type, -1))
    for t, rs in by_task.items():
        disp = min(r.dispatch for r in rs)
        ready = max(end_of[p] for p in preds[t]) if t in preds else disp
        a, b = max(ready, lo), min(disp, hi)
        if b > a:
            for ct in sorted({r.core_type for r in rs}):
                deltas.append((a, 1, ct, 1))
                deltas.append((b, 1, ct, -1))
    deltas.sort(key=lambda d: d[0])
    running = {t: 0 for t in types}
    readyn = {t: 0 for t in types}
    last: dict[str, int | None] = {n: None for n in OH_TIDS}
    out: list[dict[str, Any]] = []
    i = 0
    while i < len(deltas):
        t0 = deltas[i][0]
        while i < len(deltas) and deltas[i][0] == t0:
            _, kind, ct, d = deltas[i]
            if ct in running:
                (running if kind == 0 else readyn)[ct] += d
            i += 1
        vals: dict[str, int] = {}
        over = {}
        for t in types:
            idle = k[t] - running[t]
            vals[f"oh_{t}_idle"] = idle
            vals[f"oh_{t}_ready"] = readyn[t]
            over[t] = int(idle > 0 and readyn[t] > 0)
            vals[f"oh_{t}_overhead"] = over[t]
        vals["oh_all_overhead"] = int(all(over.values()))
        with_ready = [t for t in types if readyn[t] > 0]
        vals["oh_has_overhead"] = int(bool(with_ready) and all(k[t] - running[t] > 0 for t in with_ready))
        ts = round(t0, 3)
        for name, v in vals.items():
            if last[name] != v:
                last[name] = v
                out.append({"ph": "C", "cat": "overhead", "name": name, "pid": 2, "tid": OH_TIDS[name], "ts": ts,
                            "args": {name: v}})
    return out


def overhead_track_events(pd: PerfData) -> list[dict[str, Any]]:
    """The tracks' events to append to a trace: metadata naming them, then :func:`overhead_counters`.

    Needs ``pd.deps`` and at least one row."""
    ev: list[dict[str, Any]] = []
    if not pd.sched:
        ev.append(meta_event("process_name", 2, {"name": "AICPU Scheduler"}))
        ev.append(meta_event("process_sort_index", 2, {"sort_index": 2}))
    counters = overhead_counters(pd)
    # the converter leaves these tracks unnamed; naming them keeps every pid/tid described
    for name in sorted({c["name"] for c in counters}, key=OH_TIDS.__getitem__):
        ev.append(meta_event("thread_name", 2, {"name": name}, OH_TIDS[name]))
    ev.extend(counters)
    return ev
