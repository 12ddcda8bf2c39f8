"""The merged Chrome-trace JSON (``merged_swimlane_<ts>.json``) in the layout of the runtime's
converter (simpler ``simpler_setup/tools/swimlane_converter.py``; docs/model.md §5).

Built from :class:`traces.perf.PerfData`; ``ts``/``dur`` in µs relative to the base tick.
``style="pypto"`` (default) follows the converter pinned by pypto (at ``02bd0c4f6``: no
``_spmd`` suffix, dependency arrows join every row, flows carry no task counts); ``style="june"``
follows the June 2026 runtime converter (``_spmd`` labels, SPMD and MIX arrow anchoring).
"""

from __future__ import annotations

import bisect
from typing import Any, Literal

from sim.ir import task_label
from traces.lanes import core_name, core_tid, meta_event
from traces.overhead_tracks import overhead_track_events
from traces.perf import PerfData, Row
from traces.stats import wall_of_events

Style = Literal["pypto", "june"]

PHASE_CNAME = {"complete": "good", "dispatch": "terrible", "release": "olive", "wire": "thread_state_running",
               "dummy": "grey", "early_dispatch": "rail_animation", "resolve": "vsync_highlight_color"}
FLOW_EPS = 0.01  # µs: flow sources sit just before the bar end
MIN_BAR = 0.02  # µs: one tick, minimum alloc/dummy bar width


class _Builder:
    """The events of one capture in the converter's order; flows and bars get consecutive ids."""

    def __init__(self, pd: PerfData, style: Style, arrows: bool = True) -> None:
        self.pd = pd
        self.style = style
        self.arrows = arrows
        self.ev: list[dict[str, Any]] = []
        self.bar_id = 0
        self.flow_id = 0
        self.by_task: dict[int, list[int]] = {}
        for i, r in enumerate(pd.rows):
            self.by_task.setdefault(r.task_id, []).append(i)
        self.kbar: dict[int, int] = {}
        self.svbar: dict[int, int] = {}
        self.svlane: dict[int, int] = {}
        deps = pd.deps
        self.fanout: dict[int, list[int]] = {}
        self.fanin: dict[int, list[int]] = {}
        if deps is not None:
            for p, s in deps.pairs:
                self.fanout.setdefault(p, []).append(s)
                self.fanin.setdefault(s, []).append(p)
        self.c2t = pd.core_to_thread

    # ---- helpers -------------------------------------------------------------------------

    def owner(self, r: Row) -> int:
        return self.c2t[r.core_id] if r.core_id < len(self.c2t) else -1

    def is_spmd(self, task: int) -> bool:
        deps = self.pd.deps
        if deps is not None and task in deps.block_num:
            return deps.block_num[task] > 1
        idx = self.by_task.get(task, [])
        return len(idx) > 1 and len({self.pd.rows[i].core_type for i in idx}) == 1

    def blocks(self, task: int) -> int:
        deps = self.pd.deps
        return deps.block_num.get(task, 1) if deps is not None and self.is_spmd(task) else 1

    def label(self, r: Row) -> str:
        fid = r.func_id
        name = "task" if fid < 0 else self.pd.func_name(fid)
        if self.style == "june" and self.is_spmd(r.task_id) and "spmd" not in name:
            name += "_spmd"
        return f"{name}({task_label(r.task_id)})"

    def hint(self, tasks: list[int]) -> str:
        return f"{len(tasks)}: [{', '.join(task_label(t) for t in tasks)}]"

    def flow(self, name: str, src: tuple[int, int, float], dst: tuple[int, int, float],
             extra: dict[str, Any] | None = None, bind: tuple[int | None, int | None] = (None, None)) -> None:
        fid = self.flow_id
        self.flow_id += 1
        for ph, (pid, tid, ts), b in (("s", src, bind[0]), ("f", dst, bind[1])):
            e: dict[str, Any] = {"cat": "flow", "id": fid, "name": name, "ph": ph, "pid": pid, "tid": tid,
                                 "ts": ts}
            if ph == "f":
                e["bp"] = "e"
            if extra:
                e.update(extra)
            if b is not None:
                e["bind_id"] = b
            self.ev.append(e)

    def next_bar_id(self) -> int:
        i = self.bar_id
        self.bar_id += 1
        return i

    # ---- sections, in the converter's order ------------------------------------------------

    def build(self) -> list[dict[str, Any]]:
        """All events of the converter's layout, in its order."""
        sv_rows = [i for i, r in enumerate(self.pd.rows) if r.dispatch >= 0 and r.finish > 0]
        self.worker_view(bool(sv_rows))
        if sv_rows:
            self.scheduler_view(sv_rows)
        dep_pairs = self.anchor_pairs() if self.arrows else []
        self.dependency_flows(dep_pairs)
        complete_bars = self.complete_bars()
        self.scheduler_phases(complete_bars)
        submit_end = self.orchestrator()
        self.scheduler_view_flows(dep_pairs)
        if self.pd.level >= 3 and self.c2t and self.pd.sched:
            self.complete_flows(complete_bars)
            self.dispatch_flows(submit_end)
        return self.ev

    def worker_view(self, has_sv: bool) -> None:
        """Worker View: process metadata (and the Scheduler View's when ``has_sv``), lane names, setup and
        kernel bars."""
        pd, ev = self.pd, self.ev
        rows = pd.rows
        # process metadata
        ev.append(meta_event("process_name", 4, {"name": "Worker View"}))
        ev.append(meta_event("process_sort_index", 4, {"sort_index": 4}))
        if has_sv:
            ev.append(meta_event("process_name", 3, {"name": "Scheduler View"}))
            ev.append(meta_event("process_sort_index", 3, {"sort_index": 3}))
        # lane names
        for c in sorted({r.core_id for r in rows}):
            ev.append(meta_event("thread_name", 4, {"name": core_name(pd, c)}, core_tid(c)))
        # setup + kernel bars
        for i, r in enumerate(rows):
            tl = task_label(r.task_id)
            if r.local_setup >= MIN_BAR:
                ev.append({"args": {"event-hint": f"setup: dcci+ack for Task:{tl} CoreId:{r.core_id}",
                                    "local_setup_us": r.local_setup, "taskId": r.task_id},
                           "cat": "event", "id": self.next_bar_id(), "name": "setup", "ph": "X", "pid": 4,
                           "tid": core_tid(r.core_id), "ts": r.receive, "dur": r.local_setup})
            bid = self.next_bar_id()
            self.kbar[i] = bid
            dur = r.end - r.start
            ev.append({"args": {"event-hint": f"Task:{tl}, FuncId:{r.func_id}, CoreId:{r.core_id}",
                                "fanout-hint": self.hint(self.fanout.get(r.task_id, [])),
                                "fanin-hint": self.hint(self.fanin.get(r.task_id, [])),
                                "duration-us": dur, "taskId": r.task_id},
                       "cat": "event", "id": bid, "name": self.label(r), "ph": "X", "pid": 4,
                       "tid": core_tid(r.core_id), "ts": r.start, "dur": dur})

    def scheduler_view(self, sv_rows: list[int]) -> None:
        """Scheduler View: rows packed into lanes per core (dispatch -> finish bars)."""
        pd, ev = self.pd, self.ev
        rows = pd.rows
        lanes_end: dict[int, list[float]] = {}
        for i in sorted(sv_rows, key=lambda i: (rows[i].core_id, rows[i].dispatch)):
            r = rows[i]
            ends = lanes_end.setdefault(r.core_id, [])
            for k, e_ in enumerate(ends):
                if e_ <= r.dispatch:
                    ends[k] = r.finish
                    self.svlane[i] = k
                    break
            else:
                self.svlane[i] = len(ends)
                ends.append(r.finish)
        for c in sorted(lanes_end):
            for k in range(len(lanes_end[c])):
                ev.append(meta_event("thread_name", 3, {"name": core_name(pd, c)}, core_tid(c) + k))
        for i in sv_rows:
            r = rows[i]
            bid = self.next_bar_id()
            self.svbar[i] = bid
            ev.append({"args": {"event-hint": f"Task:{task_label(r.task_id)}, FuncId:{r.func_id}, "
                                              f"CoreId:{r.core_id}",
                                "dispatch-time-us": r.dispatch, "finish-time-us": r.finish,
                                "aicpu-duration-us": r.finish - r.dispatch, "taskId": r.task_id},
                       "cat": "event", "id": bid, "name": self.label(r), "ph": "X", "pid": 3,
                       "tid": core_tid(r.core_id) + self.svlane[i], "ts": r.dispatch,
                       "dur": r.finish - r.dispatch})

    def dependency_flows(self, dep_pairs: list[tuple[int, int, dict[str, Any] | None]]) -> None:
        """Worker View dependency arrows (pred end -> succ receive)."""
        rows = self.pd.rows
        for pi, si, extra in dep_pairs:
            p, s = rows[pi], rows[si]
            tgt = s.receive if s.receive != 0 else s.start
            name = "hb_violation" if p.end > s.receive else "dependency"
            self.flow(name, (4, core_tid(p.core_id), p.end - FLOW_EPS), (4, core_tid(s.core_id), tgt),
                      extra, (self.kbar[pi], self.kbar[si]))

    def scheduler_phases(self, complete_bars: list[list[tuple[float, float]]]) -> None:
        """AICPU Scheduler process: phase bars and queue-depth counters per thread, the global queue lane;
        and the Worker View's AICPU lanes (dummy and alloc bars)."""
        pd, ev = self.pd, self.ev
        has_phases = any(pd.sched) or any(pd.orch)
        if pd.sched:
            ev.append(meta_event("process_name", 2, {"name": "AICPU Scheduler"}))
            ev.append(meta_event("process_sort_index", 2, {"sort_index": 2}))
        if has_phases:
            for n in range(max(len(pd.sched), len(pd.orch))):
                ev.append(meta_event("thread_name", 4, {"name": f"AICPU_{n}"}, 19000 + n))
        fin_count = self.finishes_processed(complete_bars)
        for t, phases in enumerate(pd.sched):
            ev.append(meta_event("thread_name", 2, {"name": f"Sched_{t}"}, 3000 + t))
            ci = 0
            for p in phases:
                kind = p["phase"]
                ts, te = p["start_time_us"], p["end_time_us"]
                if kind == "dummy_task":
                    low = p.get("tasks_processed", 0)
                    if "task_id" in p:
                        low = p["task_id"] & 0xFFFFFFFF
                    ev.append({"args": {"phase": "dummy_task", "loop_iter": p.get("loop_iter", 0),
                                        "dummy_task_id_low32": low, "event-hint": f"dummy(t{low})"},
                               "cat": "event", "cname": "grey", "name": f"dummy(t{low})", "ph": "X", "pid": 4,
                               "tid": 19000 + t, "ts": ts, "dur": max(te - ts, MIN_BAR)})
                    continue
                tp = p.get("tasks_processed", 0)
                args: dict[str, Any] = {"phase": kind, "loop_iter": p.get("loop_iter", 0), "tasks_processed": tp}
                has_local = "local_at_start" in p and "local_at_end" in p
                has_shared = "shared_at_start" in p and "shared_at_end" in p
                if has_local:
                    args[f"T{t}_local_at_start (aic,aiv,mix)"] = p["local_at_start"]
                    args[f"T{t}_local_at_end (aic,aiv,mix)"] = p["local_at_end"]
                if has_shared:
                    args["shared_at_start (aic,aiv,mix)"] = p["shared_at_start"]
                    args["shared_at_end (aic,aiv,mix)"] = p["shared_at_end"]
                if kind == "complete":
                    args["finishes_processed"] = fin_count.get((t, ci), 0)
                    ci += 1
                e: dict[str, Any] = {"args": args, "cat": "scheduler"}
                if kind in PHASE_CNAME:
                    e["cname"] = PHASE_CNAME[kind]
                e.update({"name": f"{kind}({tp})", "ph": "X", "pid": 2, "tid": 3000 + t, "ts": ts,
                          "dur": te - ts})
                ev.append(e)
                if kind in ("complete", "dispatch"):
                    if has_local:
                        a, v, m = (list(p["local_at_end"]) + [0, 0, 0])[:3]
                        ev.append({"name": f"local_ready_buf_T{t}", "cat": "queue", "ph": "C", "pid": 2,
                                   "tid": 3000 + t, "ts": te, "args": {"AIC": a, "AIV": v, "MIX": m}})
                    if has_shared:
                        a, v, m = (list(p["shared_at_end"]) + [0, 0, 0])[:3]
                        ev.append({"name": "shared_ready_queue", "cat": "queue", "ph": "C", "pid": 2,
                                   "tid": 3999, "ts": te, "args": {"AIC": a, "AIV": v, "MIX": m}})
        # the global queue lane
        if pd.sched:
            ev.append(meta_event("thread_name", 2, {"name": "shared_ready_queue (global)"}, 3999))
            ev.append(meta_event("thread_sort_index", 2, {"sort_index": 100}, 3999))

    def orchestrator(self) -> dict[int, tuple[int, float]]:
        """Orchestrator process: submit bars, alloc bars; returns task -> (orchestrator, submit end µs)."""
        pd, ev = self.pd, self.ev
        submit_end: dict[int, tuple[int, float]] = {}
        if any(pd.orch):
            oname = f"AICPU {pd.orchestrator_name}" if pd.orchestrator_name else "AICPU Orchestrator"
            ev.append(meta_event("process_name", 1, {"name": oname}))
            ev.append(meta_event("process_sort_index", 1, {"sort_index": 1}))
            dummies = {p.get("task_id", p.get("tasks_processed", 0)) & 0xFFFFFFFF
                       for g in pd.sched for p in g if p["phase"] == "dummy_task"}
            allocs = []
            for o, recs in enumerate(pd.orch):
                ev.append(meta_event("thread_name", 1, {"name": f"Orch_{o}"}, 4000 + o))
                for p in recs:
                    tid_ = p["task_id"]
                    lab = task_label(tid_) if tid_ >= 0 else str(p["submit_idx"])
                    ts, te = p["start_time_us"], p["end_time_us"]
                    ev.append({"args": {"phase": "orch_submit", "submit_idx": p["submit_idx"], "task_id": tid_},
                               "cat": "orchestrator", "cname": "rail_animation", "name": f"submit({lab})",
                               "ph": "X", "pid": 1, "tid": 4000 + o, "ts": ts, "dur": te - ts})
                    submit_end.setdefault(tid_, (o, te))
                    if tid_ not in self.by_task and (tid_ & 0xFFFFFFFF) not in dummies:
                        allocs.append((o, lab, tid_, ts, te))
            for o, lab, tid_, ts, te in allocs:
                ev.append({"args": {"phase": "alloc", "task_id": tid_, "event-hint": f"alloc({lab})"},
                           "cat": "event", "cname": "olive", "name": f"alloc({lab})", "ph": "X", "pid": 4,
                           "tid": 19000 + o, "ts": ts, "dur": max(te - ts, MIN_BAR)})
        return submit_end

    def scheduler_view_flows(self, dep_pairs: list[tuple[int, int, dict[str, Any] | None]]) -> None:
        """Scheduler View dependency arrows (pred finish -> succ dispatch)."""
        rows = self.pd.rows
        for pi, si, extra in dep_pairs:
            if pi in self.svbar and si in self.svbar:
                p, s = rows[pi], rows[si]
                name = "hb_violation" if p.finish > s.dispatch else "dependency"
                self.flow(name, (3, core_tid(p.core_id) + self.svlane[pi], p.finish - FLOW_EPS),
                          (3, core_tid(s.core_id) + self.svlane[si], s.dispatch), extra,
                          (self.svbar[pi], self.svbar[si]))

    def complete_flows(self, complete_bars: list[list[tuple[float, float]]]) -> None:
        """Kernel end -> complete phase, and complete phase -> dispatch of the task it made ready."""
        rows = self.pd.rows
        done_bar: dict[int, tuple[int, int]] = {}
        for task, idx in self.by_task.items():
            li = max(idx, key=lambda i: (rows[i].finish, -i))
            r = rows[li]
            t = self.owner(r)
            if t < 0 or t >= len(complete_bars):
                continue
            k = _find_bar(complete_bars[t], r.finish)
            if k is None:
                continue
            done_bar[task] = (t, k)
            self.flow("complete", (4, core_tid(r.core_id), r.end - FLOW_EPS),
                      (2, 3000 + t, complete_bars[t][k][0]))
        for task, idx in self.by_task.items():
            preds = self.fanin.get(task, [])
            if not preds or any(p not in done_bar for p in preds):
                continue
            t, k = max((done_bar[p] for p in preds), key=lambda tk: (complete_bars[tk[0]][tk[1]][1], tk))
            bend = complete_bars[t][k][1]
            di = min(idx, key=lambda i: (rows[i].dispatch, i))
            d = rows[di]
            if d.dispatch >= bend and self.owner(d) >= 0:
                self.flow("complete→ready", (2, 3000 + t, bend - FLOW_EPS), (2, 3000 + self.owner(d), d.dispatch))

    def dispatch_flows(self, submit_end: dict[int, tuple[int, float]]) -> None:
        """Dispatch phase -> kernel (and Scheduler View bar); at level 4 submit -> dispatch."""
        rows = self.pd.rows
        for i, r in enumerate(rows):
            t = self.owner(r)
            if t < 0 or r.dispatch < 0:
                continue
            self.flow("dispatch", (2, 3000 + t, r.dispatch), (4, core_tid(r.core_id), r.start))
            if i in self.svbar:
                self.flow("dispatch", (2, 3000 + t, r.dispatch),
                          (3, core_tid(r.core_id) + self.svlane[i], r.dispatch), bind=(None, self.svbar[i]))
        if self.pd.level >= 4:
            for r in rows:
                t = self.owner(r)
                se = submit_end.get(r.task_id)
                if t < 0 or se is None:
                    continue
                self.flow("submit→dispatch", (1, 4000 + se[0], se[1]), (2, 3000 + t, r.dispatch))

    def anchor_pairs(self) -> list[tuple[int, int, dict[str, Any] | None]]:
        """(pred row, succ row, extra flow args) for every dependency arrow (anchored per ``style``)."""
        out: list[tuple[int, int, dict[str, Any] | None]] = []
        if self.pd.deps is None:
            return out
        rows = self.pd.rows

        def anchors(task: int) -> list[int]:
            idx = self.by_task[task]
            if self.style == "pypto" or not self.is_spmd(task):
                return idx
            best: dict[str, int] = {}
            for i in idx:
                ct = rows[i].core_type
                if ct not in best or rows[i].core_id < rows[best[ct]].core_id:
                    best[ct] = i
            return sorted(best.values())

        for p, s in self.pd.deps.pairs:
            if p not in self.by_task or s not in self.by_task:
                continue
            extra = None
            if self.style == "june":
                extra = {"input_task_count": self.blocks(s), "output_task_count": self.blocks(p)}
            for pi in anchors(p):
                for si in anchors(s):
                    out.append((pi, si, extra))
        return out

    def complete_bars(self) -> list[list[tuple[float, float]]]:
        out: list[list[tuple[float, float]]] = []
        for g in self.pd.sched:
            b = _Bars((p["start_time_us"], p["end_time_us"]) for p in g if p["phase"] == "complete")
            b.starts = [x[0] for x in b]
            out.append(b)
        return out

    def finishes_processed(self, bars: list[list[tuple[float, float]]]) -> dict[tuple[int, int], int]:
        out: dict[tuple[int, int], int] = {}
        for r in self.pd.rows:
            t = self.owner(r)
            if t < 0 or t >= len(bars) or r.finish <= 0:
                continue
            k = _find_bar(bars[t], r.finish)
            if k is not None:
                out[(t, k)] = out.get((t, k), 0) + 1
        return out


class _Bars(list):
    """Complete bars of one thread with a cached start list."""

    starts: list[float]


def _find_bar(bars: list[tuple[float, float]], t: float) -> int | None:
    """Index of the complete bar containing ``t``, else the next one starting after it."""
    starts = getattr(bars, "starts", None) or [b[0] for b in bars]
    k = bisect.bisect_right(starts, t) - 1
    if k >= 0 and bars[k][0] <= t <= bars[k][1]:
        return k
    k += 1
    return k if k < len(bars) else None


class _ExtentBuilder(_Builder):
    """The same events with only what the wall needs: bars as built, flows as their earliest and latest ``ts``
    only (an arrow's ends depend on its producer row alone and its consumer row alone, so the rows that
    occur in a pair decide the extremes), empty hints."""

    def __init__(self, pd: PerfData, style: Style) -> None:
        super().__init__(pd, style)
        self.flow_lo = float("inf")
        self.flow_hi = float("-inf")

    def hint(self, tasks: list[int]) -> str:
        return ""

    def _extent(self, ts: float) -> None:
        if ts < self.flow_lo:
            self.flow_lo = ts
        if ts > self.flow_hi:
            self.flow_hi = ts

    def flow(self, name: str, src: tuple[int, int, float], dst: tuple[int, int, float],
             extra: dict[str, Any] | None = None, bind: tuple[int | None, int | None] = (None, None)) -> None:
        self._extent(src[2])
        self._extent(dst[2])

    def dependency_flows(self, dep_pairs: list[tuple[int, int, dict[str, Any] | None]]) -> None:
        rows = self.pd.rows
        for pi in {p for p, _, _ in dep_pairs}:
            self._extent(rows[pi].end - FLOW_EPS)
        for si in {s for _, s, _ in dep_pairs}:
            r = rows[si]
            self._extent(r.receive if r.receive != 0 else r.start)

    def scheduler_view_flows(self, dep_pairs: list[tuple[int, int, dict[str, Any] | None]]) -> None:
        rows, sv = self.pd.rows, self.svbar
        both = [(p, s) for p, s, _ in dep_pairs if p in sv and s in sv]
        for pi in {p for p, _ in both}:
            self._extent(rows[pi].finish - FLOW_EPS)
        for si in {s for _, s in both}:
            self._extent(rows[si].dispatch)

    def wall(self) -> float:
        """``wall_of_events`` of the built events with the flows' extremes folded in (µs)."""
        ev = self.build()
        if self.flow_lo <= self.flow_hi:
            ev = [*ev, {"ts": self.flow_lo}, {"ts": self.flow_hi}]
        return wall_of_events(ev)


def events_wall(pd: PerfData) -> float:
    """``wall_of_events(build_events(pd))`` (µs) without formatting the events' arguments or building the
    dependency arrows one by one."""
    return _ExtentBuilder(pd, "pypto").wall()


def build_events(pd: PerfData, style: Style = "pypto", overhead: bool = False,
                 arrows: bool = True) -> list[dict[str, Any]]:
    """All trace events in the converter's order; ``overhead`` appends the scheduler-overhead counters;
    ``arrows`` False leaves out the dependency arrows (one per producer-consumer row pair)."""
    ev = _Builder(pd, style, arrows).build()
    if overhead and pd.deps is not None and pd.rows:
        ev.extend(overhead_track_events(pd))
    return ev


__all__ = ["Style", "PHASE_CNAME", "FLOW_EPS", "MIN_BAR", "build_events", "events_wall"]
