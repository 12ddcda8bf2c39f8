"""The run records of one finished run (:class:`sim.ir.records.RunResult`, times in ns)."""

from __future__ import annotations

import math
from operator import attrgetter

from hwmodels.chip import ChipConfig
from sim.engine.cores import Core, Subtask
from sim.engine.threads import SchedulerThread
from sim.ir import CoreShape, TaskGraph
from sim.ir.records import RunResult, SubmitRecord, SubtaskRecord
from sim.util.unvalidated import model_factory

__all__ = ["build_result"]

_LANE_IDX = {"aic": 0, "aiv0": 1, "aiv1": 2}
# record order: task, block, lane; the lane names sort in lane order (aic < aiv0 < aiv1)
_ORDER = attrgetter("ts.idx", "block", "lane")
assert sorted(_LANE_IDX) == list(_LANE_IDX)
_SUBTASK = model_factory(SubtaskRecord)


def build_result(graph: TaskGraph, chip: ChipConfig, seed: int, cores: list[Core], threads: list[SchedulerThread],
                 subs: list[Subtask], submits: list[SubmitRecord], orch_end: float, n_iter_sim: int) -> RunResult:
    """Subtask records sorted by (task, block, lane); phase records by thread, each thread's in
    emission order; submit records; and the run's notes (ns, iteration counts)."""
    g = graph
    name_to_id: dict[str, int] | None = None  # taken when a lane has no kernel id
    recs = []
    append = recs.append
    make = _SUBTASK
    mix = CoreShape.MIX
    # per task (records come task by task): lane -> (func, func_id)
    cur = None
    names: dict[str, tuple[str, int]] = {}
    last_finish = -math.inf
    first_dispatch = math.inf
    for s in sorted(subs, key=_ORDER):
        ts = s.ts
        lane = s.lane
        if ts is not cur:
            cur = ts
            names = {}
            t = ts.task
            tidx = t.idx
            tid = t.task_id
        hit = names.get(lane)
        if hit is None:
            func = t.name
            if ts.shape == mix:
                suffix = "_aic" if lane == "aic" else "_aiv"
                if not func.endswith(suffix):
                    func = func + suffix
            kids = t.kernel_ids
            fid = kids[_LANE_IDX[lane]] if len(kids) == 3 else -1
            if fid == -1 and lane == "aiv0" and len(kids) == 3:
                fid = kids[2]
            if fid == -1:
                if name_to_id is None:
                    name_to_id = {v: k for k, v in g.func_names.items()}
                fid = name_to_id.get(t.name, -1)
            hit = names[lane] = (func, fid)
        bar = s.barriers
        dispatch = float(s.dispatch)
        finish = float(s.finish)
        if finish > last_finish:
            last_finish = finish
        if dispatch < first_dispatch:
            first_dispatch = dispatch
        append(make({  # the record takes the subtask's dicts (float values, owned by no one else)
            "task": tidx, "task_id": tid, "func": hit[0], "func_id": hit[1], "block": s.block, "lane": lane,
            "core_id": s.core.id, "reg_task_id": s.reg, "thread": s.thread, "dispatch": dispatch,
            "receive": float(s.receive), "start": float(s.start), "end": float(s.end), "finish": finish,
            "pipe_busy": s.pipe_busy, "breakdown": s.breakdown,
            "barriers": [(float(a), float(b)) for a, b in bar] if bar else [],
        }))
    if not recs:
        last_finish = first_dispatch = 0.0
    phases = [r for th in threads for r in th.phases]  # threads in index order
    sched_end = max(th.end_time for th in threads)
    notes = {
        "orch_end_ns": orch_end,
        "sched_end_ns": sched_end,
        "first_dispatch_ns": first_dispatch,
        "last_finish_ns": last_finish,
        "total_test_time_ns": last_finish - first_dispatch,
        "simulated_iterations": float(n_iter_sim),
    }
    for th in threads:
        notes[f"loop_iters_t{th.idx}"] = float(th.loop_iter)
    chip_params = chip.model_dump(mode="json") if hasattr(chip, "model_dump") else {}
    return RunResult(
        graph=g, chip=str(getattr(chip, "name", "custom")), chip_params=chip_params, seed=seed,
        num_cores=len(cores), core_types=[c.kind for c in cores],
        core_to_thread=[c.thread for c in cores], n_sched_threads=len(threads),
        subtasks=recs, phases=phases, submits=submits, notes=notes,
    )
