"""Dependency bookkeeping: wiring, completion and readiness (docs/model.md §4.2, §4.3).

T0 wires submitted tasks in batches: a task's ``fanin`` is its producer count + 1, producers
already complete count at once, the others get the task on their fanout list. When the AICPU
observes a task's last subtask FIN, the task completes and *resolves* its consumers (refcount + 1
each). A task whose refcount reaches its fanin is ready: a kernel task goes to the resolving
thread's local buffer, or to the shared queue of its shape when it is readied at wiring or by a
dummy task's completion or the buffer is full; a dummy task goes to T0's dummy queue. Staged
early-dispatch subtasks of a ready task get their doorbell.
Each step advances the calling thread's clock ``t`` (ns) by its AICPU cost.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.engine.clock import EPS
from sim.engine.early_dispatch import EarlyDispatch
from sim.engine.params import RuntimeParams
from sim.engine.queues import ReadyQueues, WiringQueue
from sim.engine.tasks import TaskState, graph_preds
from sim.engine.threads import SchedulerThread, broadcast
from sim.ir import TaskGraph, TaskKind

__all__ = ["Dependencies"]

_KERNEL = TaskKind.KERNEL


class Dependencies:
    """The tasks of one run (``tasks[i]`` for submit index ``i``) and their completion count."""

    def __init__(self, env: simpy.Environment, p: RuntimeParams, graph: TaskGraph, wiring: WiringQueue,
                 ready: ReadyQueues, early: EarlyDispatch, threads: list[SchedulerThread]) -> None:
        self.env = env
        self.p = p
        self.wiring = wiring
        self.ready = ready
        self.shared = ready.shared
        self.early = early
        self.threads = threads
        preds = graph_preds(graph)
        self.tasks = [TaskState(t, preds[t.idx]) for t in graph.tasks]
        self.n_total = len(self.tasks)
        self.n_completed = 0

    def all_done(self) -> bool:
        """Every task submitted and complete."""
        return self.wiring.closed and self.n_completed == self.n_total

    def complete_at_submit(self, ts: TaskState) -> None:
        """An alloc task completes inline in the orchestrator's submit; it is never wired."""
        ts.completed = True
        self.n_completed += 1

    def wire(self, th: SchedulerThread, t: float) -> Generator[Any, Any, tuple[float, int]]:
        """T0's wiring step from its clock ``t`` (ns): a batch of at most ``wiring_batch`` tasks, or a
        skipped iteration while fewer are queued, the orchestrator is busy and the back-off lasts;
        returns the new clock and the tasks wired."""
        p = self.p
        wq = self.wiring
        if not wq.items:
            return t, 0
        if len(wq.items) < p.wiring_batch and not wq.closed and th.wire_skip < p.wiring_backoff:
            th.wire_skip += 1
            return t, 0
        th.wire_skip = 0
        t = max(t, self.env._now)
        rs = t
        n = 0
        while wq.items and n < p.wiring_batch:
            t += p.wire_per_task
            if t > self.env._now:  # sim.engine.clock.at, inline
                yield t - self.env._now
            ts = wq.items.popleft()
            n += 1
            ts.fanin = len(ts.preds) + 1
            done = 0
            for q in ts.preds:
                prod = self.tasks[q]
                if prod.completed:
                    done += 1
                else:
                    prod.fanout.append(ts)
            ts.refcount += done + 1
            ts.dfanin += done
            if ts.refcount == ts.fanin:
                self._ready(None, ts, True, t)
        if wq.items:
            wq.since = self.env._now
        if not wq.space.triggered:
            wq.space.succeed()
        t += p.ctr_phase
        th.phase("wire", rs, t, n)
        return t, n

    def drain_dummies(self, th: SchedulerThread, t: float) -> Generator[Any, Any, tuple[float, int]]:
        """T0's dummy drain from its clock ``t`` (ns): complete up to ``dummy_batch`` dummy tasks
        inline; returns the new clock and the tasks drained."""
        dummy = self.ready.dummy
        if not dummy:
            return t, 0
        t = max(t, self.env._now)
        rs = t
        n = 0
        while dummy and n < self.p.dummy_batch:
            ts = dummy.popleft()
            n += 1
            if ts.task.predicate == "fail":  # a real task whose predicate failed: one task retired
                th.phase("predicated_skip", t, t, 1)
            else:
                th.phase("dummy_task", t, t, ts.task.task_id & 0xFFFFFFFF)
            t = yield from self.complete(th, ts, t, to_shared=True)
        t += self.p.ctr_phase
        th.phase("dummy", rs, t, n)
        return t, n

    def complete(self, th: SchedulerThread, ts: TaskState, t: float,
                 to_shared: bool) -> Generator[Any, Any, float]:
        """Mark ``ts`` complete at ``th``'s clock ``t`` (ns) and resolve its consumers (docs/model.md §4.3);
        returns the clock after the resolve cost."""
        p = self.p
        env = self.env
        if t > env._now:  # peers (T0 wiring) see the task complete from t on, not earlier
            yield t - env._now
        ts.completed = True
        self.n_completed += 1
        th.deferred += 1
        cons = ts.fanout
        if cons:
            rs = t
            t += p.resolve_base + max(0, len(cons) - 2) * p.resolve_extra
            if t > env._now:  # sim.engine.clock.at, inline
                yield t - env._now
            for c in cons:
                c.refcount += 1
                if c.refcount == c.fanin:
                    self._ready(th, c, to_shared, t)
            if t - rs >= p.resolve_record_min - EPS:
                th.phase("resolve", rs, t, len(cons))
        if self.n_completed == self.n_total:
            broadcast(self.threads)
        return t

    def _ready(self, th: SchedulerThread | None, ts: TaskState, to_shared: bool, t: float) -> None:
        """``ts`` became ready at ``t`` (ns), resolved by ``th`` (None: at wiring)."""
        if ts.cand or ts.idx in self.early.staged:  # EarlyDispatch.on_ready has something to do
            self.early.on_ready(ts, t)
        kernel = ts.kind == _KERNEL
        if kernel and ts.next_block >= ts.block_num:
            return  # every block was staged: released by doorbell, never queued
        if not kernel:
            self.ready.dummy.append(ts)
            self.threads[0].notify()
            return
        if th is not None and not to_shared and len(th.local[ts.shape]) < self.p.local_cap:
            th.local[ts.shape].append(ts)
            return
        self.shared[ts.shape].append(ts)
        broadcast(self.threads)
