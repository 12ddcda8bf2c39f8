"""The AICPU orchestrator thread (docs/model.md §4.1).

It submits the graph's tasks in order, one submit call each: ``orch_between`` (ns) between calls,
then the call's own cost (:func:`sim.engine.params.submit_cost_ns`: per allocated tensor for an
alloc task, with the AICPU fill of the tensors it creates with an initial value; per argument,
TensorMap lookup and insert otherwise) and, at swimlane level 4, its record and, for the first
submit of each kernel in a first launch, ``orch_first_kernel``. An alloc task completes inline;
every other task is published to the wiring queue for T0 (JUNE), waiting while the queue is full.
After the last submit, with ``orch_to_sched``, the orchestrator thread becomes one more scheduler
thread.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy
from simpy.events import PENDING

from sim.engine.dependencies import Dependencies
from sim.engine.params import RuntimeParams, submit_cost_ns
from sim.engine.queues import WiringQueue
from sim.engine.threads import SchedulerThread, broadcast
from sim.ir import TaskKind
from sim.ir.records import SubmitRecord
from sim.util.unvalidated import model_factory

__all__ = ["Orchestrator"]

_SUBMIT = model_factory(SubmitRecord)


class Orchestrator:
    """The submit loop (a thread process, :meth:`run`, :mod:`sim.engine.events`); ``submits`` holds one
    record per call and ``end`` the time (ns) of the last submit's end. ``become_scheduler`` is called
    after the last submit when the chip sets ``orch_to_sched``."""

    def __init__(self, env: simpy.Environment, p: RuntimeParams, deps: Dependencies, wiring: WiringQueue,
                 threads: list[SchedulerThread], become_scheduler: Callable[[], None]) -> None:
        self.env = env
        self.p = p
        self.deps = deps
        self.wiring = wiring
        self.threads = threads
        self.become_scheduler = become_scheduler
        self.submits: list[SubmitRecord] = []
        self.end = 0.0
        # bytes the orchestrator fills per tensor created with an initial value (tensor id -> bytes)
        self.init_bytes: dict[int, int] = {}

    def fill(self, tensors: list[Any]) -> None:
        """Note the graph's tensors created with an initial value (their alloc task fills them)."""
        self.init_bytes = {x.id: int(x.nbytes) for x in tensors if getattr(x, "init", False)}

    def run(self) -> Generator[Any, Any, None]:
        """Submit every task from time 0, then close the wiring queue and wake every thread."""
        p = self.p
        env = self.env
        wq = self.wiring
        items = wq.items
        t0 = self.threads[0]
        submits = self.submits
        alloc = TaskKind.ALLOC
        kernel_kind = TaskKind.KERNEL
        t = 0.0
        filled = self.init_bytes
        between = p.orch_between
        record = p.orch_record
        make = _SUBMIT
        first_kernel = p.orch_first_kernel
        kernels_seen: set[tuple[int, ...]] = set()
        for i, ts in enumerate(self.deps.tasks):
            if i:
                t += between
            start = t
            task = ts.task
            t += submit_cost_ns(p, task, sum(filled.get(x, 0) for x in task.allocates) if filled else 0)
            t += record
            if first_kernel and ts.kind == kernel_kind:
                kernel = tuple(task.kernel_ids)
                if kernel not in kernels_seen:
                    kernels_seen.add(kernel)
                    t += first_kernel
            if t > env._now:  # sim.engine.clock.at, inline
                yield t - env._now
            if ts.kind == alloc:
                self.deps.complete_at_submit(ts)
            else:
                while len(items) >= p.wq_cap:  # back-pressure: wait for T0 to drain
                    wq.space = env.event()
                    yield wq.space
                    t = max(t, env._now)
                if not items:
                    wq.since = env._now
                items.append(ts)
                wake = t0.wake  # SchedulerThread.notify, inline
                if wake._value is PENDING:
                    wake._ok = True  # Event.succeed(), inline
                    wake._value = None
                    env.schedule(wake)
            submits.append(make({"submit_idx": i, "task": ts.idx, "task_id": task.task_id,
                                    "start": float(start), "end": float(t)}))
        wq.closed = True
        self.end = t
        if p.orch_to_sched:
            self.become_scheduler()
        broadcast(self.threads)
