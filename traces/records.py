"""The swimlane records file: built from a RunResult, written, checked and joined.

``l2_swimlane_records.json`` is the runtime's June 2026 layout (simpler
``docs/dfx/l2-swimlane-profiling.md``), ``chip_swimlane_records.json`` its later one (simpler
``docs/dfx/chip-swimlane-profiling.md``: ``chip_swimlane_level``, five-column AICore rows, queue
depths only ``shared_*``); docs/model.md §5 lists what a run writes. Reading
checks a document against the pydantic schema below (:func:`parse_records`) and joins it into
:class:`traces.perf.PerfData`; the in-memory path (RunResult -> records dict -> PerfData) joins with
the same code, so statistics from a written file equal those of the in-memory run to the tick.
Ticks are 50 MHz system-counter values; the joined rows are in µs from the base tick.
"""

from __future__ import annotations

import json
from typing import Any

from sim.ir.records import RunResult
from sim.util.errors import UserError
from sim.util.jsonfile import Loc, check, short, value_at
from traces.perf import CLOCK_HZ, DepsInfo, PerfData, Row, ns_to_tick

# --------------------------------------------------------------------------------------------
# RunResult -> records dict and text
# --------------------------------------------------------------------------------------------


def default_core_to_thread(core_types: list[str], n_sched: int) -> list[int]:
    """Cluster ``b`` (AIC b, AIV 24+2b, 25+2b) -> thread ``b mod n_sched`` (docs/model.md §2.1)."""
    n_aic = sum(1 for c in core_types if c == "aic")
    out = []
    for cid in range(len(core_types)):
        b = cid if cid < n_aic else (cid - n_aic) // 2
        out.append(b % n_sched if n_sched > 0 else -1)
    return out


def build_records(result: RunResult, level: int = 4, later: bool = False) -> dict[str, Any]:
    """The ``l2_swimlane_records.json`` object for ``result`` at capture ``level`` (1..4).

    ``later``: the runtime's later layout (``chip_swimlane_level``; queue depths only ``shared_*``).
    """
    if level not in (1, 2, 3, 4):
        raise UserError(f"swimlane level {level}: expected 1, 2, 3 or 4")
    core_types = list(result.core_types) or ["aic"] * 24 + ["aiv"] * 48
    meta: dict[str, Any] = {
        "clock_freq_hz": CLOCK_HZ,
        "num_cores": len(core_types),
        "core_types": core_types,
    }
    if level >= 3:
        meta["core_to_thread"] = list(result.core_to_thread) or default_core_to_thread(
            core_types, result.n_sched_threads
        )
    subs = sorted(result.subtasks, key=lambda s: (s.core_id, s.start, s.reg_task_id))
    aicore: list[list[int]] = []
    aicpu: list[list[int]] = []
    for s in subs:
        st = ns_to_tick(s.start)
        rv = ns_to_tick(min(s.receive, s.start))
        aicore.append([s.core_id, s.task_id, s.reg_task_id, st, ns_to_tick(s.end), st - rv])
        if level >= 2:
            aicpu.append([s.core_id, s.reg_task_id, ns_to_tick(s.dispatch), ns_to_tick(s.finish)])
    rec: dict[str, Any] = {"chip_swimlane_level" if later else "l2_swimlane_level": level, "metadata": meta,
                           "aicore_tasks": aicore, "aicpu_tasks": aicpu}
    if level >= 3:
        n_thr = max([result.n_sched_threads] + [p.thread + 1 for p in result.phases])
        per: list[list[dict[str, Any]]] = [[] for _ in range(n_thr)]
        for p in sorted(result.phases, key=lambda p: (p.thread, p.start)):
            d: dict[str, Any] = {
                "kind": p.kind,
                "start_cycles": ns_to_tick(p.start),
                "end_cycles": ns_to_tick(p.end),
                "loop_iter": p.loop_iter,
                "tasks_processed": p.tasks_processed,
            }
            if p.kind == "dispatch":
                d["pop_hit"] = p.pop_hit
                d["pop_miss"] = p.pop_miss
            if not later:
                d["local_at_start"] = list(p.local_at_start)
            d["shared_at_start"] = list(p.shared_at_start)
            if not later:
                d["local_at_end"] = list(p.local_at_end)
            d["shared_at_end"] = list(p.shared_at_end)
            per[p.thread].append(d)
        rec["aicpu_scheduler_phases"] = per
    if level >= 4 and result.submits:
        rec["aicpu_orchestrator_phases"] = [
            [
                {"submit_idx": s.submit_idx, "task_id": s.task_id, "start_cycles": ns_to_tick(s.start),
                 "end_cycles": ns_to_tick(s.end)}
                for s in sorted(result.submits, key=lambda s: s.submit_idx)
            ]
        ]
    return rec


def dump_records(rec: dict[str, Any]) -> str:
    """Records JSON text: one row / phase object per line (stable, diff-friendly)."""

    def j(x: Any) -> str:
        return json.dumps(x, separators=(", ", ": "))

    lk = "l2_swimlane_level" if "l2_swimlane_level" in rec else "chip_swimlane_level"
    out = ["{", f'  "{lk}": {j(rec[lk])},', f'  "metadata": {j(rec["metadata"])},']
    for key in ("aicore_tasks", "aicpu_tasks"):
        rows = rec[key]
        body = ",\n".join("    " + j(r) for r in rows)
        out.append(f'  "{key}": [\n{body}\n  ],' if rows else f'  "{key}": [],')
    for key in ("aicpu_scheduler_phases", "aicpu_orchestrator_phases"):
        if key not in rec:
            continue
        groups = []
        for g in rec[key]:
            if g:
                groups.append("    [\n" + ",\n".join("      " + j(p) for p in g) + "\n    ]")
            else:
                groups.append("    []")
        out.append(f'  "{key}": [\n' + ",\n".join(groups) + "\n  ],")
    out[-1] = out[-1].rstrip(",")
    out.append("}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Checking a records object against its schema (traces.schemas.JuneRecords / LaterRecords)
# --------------------------------------------------------------------------------------------


_PHASE_KEYS = ("aicpu_scheduler_phases", "aicpu_orchestrator_phases")


def _explain(loc: Loc, doc: Any) -> tuple[Loc, str] | None:
    """The expectation at a schema error's location, as :func:`parse_records` words it."""
    match loc:
        case ():
            return loc, "expected a JSON object"
        case ("l2_swimlane_level" | "chip_swimlane_level" as k, *_):
            return (k,), f"expected 1, 2, 3 or 4, got {value_at(doc, (k,))!r}"
        case ("metadata",):
            return loc, "expected an object"
        case ("metadata", "clock_freq_hz", *_):
            return loc[:2], f"expected a positive integer, got {value_at(doc, loc[:2])!r}"
        case ("metadata", "core_types", *_):
            return loc[:2], 'expected an array of "aic"/"aiv"'
        case ("metadata", "core_to_thread", *_):
            return loc[:2], "expected an array of integers"
        case ("aicore_tasks" | "aicpu_tasks",):
            return loc, "expected an array"
        case ("aicore_tasks", int(), *_):
            return loc[:2], f"expected 6 integers, got {short(value_at(doc, loc[:2]))}"
        case ("aicpu_tasks", int(), *_):
            return loc[:2], f"expected 4 integers, got {short(value_at(doc, loc[:2]))}"
        case (str() as k,) if k in _PHASE_KEYS:
            return loc, "expected an array of arrays"
        case (str() as k, int()) if k in _PHASE_KEYS:
            return loc, "expected an array"
        case ("aicpu_scheduler_phases", int(), int()) | ("aicpu_scheduler_phases", int(), int(), "kind", *_):
            return loc[:3], "expected an object with a string 'kind'"
        case (str() as k, int(), int()) if k in _PHASE_KEYS:
            return loc, "expected an object"
        case (str() as k, int(), int(), str() as f, *_) if k in _PHASE_KEYS:
            return loc[:3], f"expected integer '{f}', got {value_at(doc, loc[:4])!r}"
    return None


def check_records(rec: Any, path: str) -> None:
    """Check a records object (either layout) against the schema, then its core ids against
    ``metadata.core_types``; raises UserError naming ``path`` and the first bad record."""
    from traces import schemas  # lazy: start-up time

    later = not (isinstance(rec, dict) and "l2_swimlane_level" in rec)
    check(schemas.adapter(schemas.LaterRecords if later else schemas.JuneRecords), rec, path, _explain)
    n = len(rec["metadata"].get("core_types", []))
    for i, r in enumerate(rec["aicore_tasks"]):
        if r[0] < 0 or (n and r[0] >= n):
            raise UserError(f"{path}: aicore_tasks[{i}]: core_id {r[0]} outside 0..{n - 1}")


# --------------------------------------------------------------------------------------------
# records dict -> PerfData
# --------------------------------------------------------------------------------------------


def parse_records(rec: Any, path: str = "<records>", deps: DepsInfo | None = None,
                  names: dict[int, str] | None = None, orchestrator_name: str | None = None) -> PerfData:
    """Check a records object (June or later layout) and join it into :class:`PerfData`.

    Raises UserError naming ``path`` and the first bad record.
    """
    check_records(rec, path)
    return join_records(rec, path, deps, names, orchestrator_name)


def join_records(rec: dict[str, Any], path: str = "<records>", deps: DepsInfo | None = None,
                 names: dict[int, str] | None = None, orchestrator_name: str | None = None) -> PerfData:
    """Join a valid records object (as :func:`check_records` accepts) into :class:`PerfData`."""
    level = rec["l2_swimlane_level" if "l2_swimlane_level" in rec else "chip_swimlane_level"]
    meta = rec["metadata"]
    clock = meta["clock_freq_hz"]
    core_types = meta.get("core_types", [])
    c2t = meta.get("core_to_thread", [])
    aicore = rec["aicore_tasks"]
    aicpu = rec.get("aicpu_tasks", [])
    sched_raw = rec.get("aicpu_scheduler_phases", [])
    orch_raw = rec.get("aicpu_orchestrator_phases", [])

    # --- base tick (smallest non-zero tick) ---
    cands: list[int] = []
    for r in aicore:
        r2s = r[5] if len(r) == 6 else 0
        cands.append(r[3] - r2s)
        cands.append(r[4])
    for r in aicpu:
        cands.append(r[2])
        cands.append(r[3])
    for g in sched_raw:
        for p in g:
            cands.append(p["start_cycles"])
            cands.append(p["end_cycles"])
    for g in orch_raw:
        for p in g:
            cands.append(p["start_cycles"])
            cands.append(p["end_cycles"])
    pos = [c for c in cands if c > 0]
    base = min(pos) if pos else 0
    scale = 1e6 / clock

    def us(tick: int) -> float:
        v = (tick - base) * 1e6 / clock
        return v if tick > 0 and v > 0 else 0.0

    ctype = core_types
    warns: list[str] = []
    n_all = len(aicore)
    aicore = [r for r in aicore if r[3] != 0]  # slots the AICore never wrote (host drops them too)
    if len(aicore) != n_all:
        warns.append(f"{path}: skipped {n_all - len(aicore)} AICore record slot(s) with start_time=0")
    by_key: dict[tuple[int, int], list[int]] = {}
    for r in aicore:
        by_key.setdefault((r[0], r[2]), r)
    rows: list[Row] = []

    def mkrow(r: list[int], disp: int, fin: int) -> Row:
        r2s = r[5] if len(r) == 6 else 0
        start = us(r[3])
        ls = r2s * scale
        return Row(task_id=r[1], func_id=-1, core_id=r[0],
                   core_type=ctype[r[0]] if r[0] < len(ctype) else "aiv",
                   start=start, end=us(r[4]), dispatch=us(disp) if disp else 0.0,
                   finish=us(fin) if fin else 0.0, receive=start - ls, local_setup=ls,
                   start_t=r[3], end_t=r[4], receive_t=r[3] - r2s, dispatch_t=disp, finish_t=fin,
                   reg_task_id=r[2])

    if level >= 2:
        unmatched = 0
        for r in aicpu:
            a = by_key.get((r[0], r[1]))
            if a is not None:
                rows.append(mkrow(a, r[2], r[3]))
            else:
                unmatched += 1
        if unmatched:
            warns.append(f"{path}: Warning: {unmatched} aicpu_task(s) had no matching AICore record; dropped")
    else:
        for a in aicore:
            rows.append(mkrow(a, 0, 0))
    rows.sort(key=lambda x: x.task_id)

    sched: list[list[dict[str, Any]]] = []
    for g in sched_raw:
        lst = []
        for p in g:
            q = dict(p)
            q["phase"] = q.pop("kind")
            q["start_time_us"] = us(p["start_cycles"])
            q["end_time_us"] = us(p["end_cycles"])
            lst.append(q)
        sched.append(lst)
    orch: list[list[dict[str, Any]]] = []
    for g in orch_raw:
        orch.append([dict(p, phase="orch_submit", start_time_us=us(p["start_cycles"]),
                          end_time_us=us(p["end_cycles"])) for p in g])
    pd = PerfData(level=level, clock_hz=clock, core_types=list(core_types), core_to_thread=list(c2t),
                  rows=rows, sched=sched, orch=orch, base_tick=base, deps=deps, names=dict(names or {}),
                  orchestrator_name=orchestrator_name, source=path, warnings=warns)
    resolve_func_ids(pd)
    return pd


def resolve_func_ids(pd: PerfData) -> None:
    """Fill ``row.func_id`` from deps.json kernel_ids (the first non-negative one, as the runtime's tools)."""
    if pd.deps is None:
        return
    kids = pd.deps.kernel_ids
    for r in pd.rows:
        k = kids.get(r.task_id)
        if k is None:
            r.func_id = -1
        elif r.core_type == "aic":
            r.func_id = k[0]
        else:
            r.func_id = k[1] if k[1] != -1 else k[2]
