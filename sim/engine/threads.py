"""AICPU scheduler threads: what each one owns and records, and how peers wake it.

A :class:`SchedulerThread` owns whole clusters (dealt round-robin, docs/model.md §2.1), keeps a
thread-local LIFO ready buffer per shape (docs/model.md §4.2), counts its loop iterations and emits its
own phase records. A thread with nothing to observe sleeps on its ``wake`` event; any actor that
changes something the thread may act on calls :meth:`SchedulerThread.notify` (or :func:`broadcast`).
"""

from __future__ import annotations

import simpy
from simpy.events import PENDING

from sim.engine.cores import Cluster, Core
from sim.engine.events import Proc
from sim.engine.tasks import SHAPES, TaskState
from sim.ir import CoreShape
from sim.ir.records import PhaseRecord
from sim.util.unvalidated import model_factory

__all__ = ["SchedulerThread", "broadcast", "deal"]

_PHASE = model_factory(PhaseRecord)


class SchedulerThread:
    """Scheduler thread ``idx``: its clusters and cores (tracker order: cluster by cluster, AIC then
    AIVs), local ready buffers, loop counters and phase records."""

    def __init__(self, idx: int, env: simpy.Environment) -> None:
        self.idx = idx
        self.clusters: list[Cluster] = []
        self.cores: list[Core] = []  # tracker order: cluster by cluster, aic then aivs
        self.aic: list[Core] = []
        self.aiv: list[Core] = []
        self.local: dict[CoreShape, list[TaskState]] = {s: [] for s in SHAPES}
        self.loop_iter = 0  # loop iterations, simulated or skipped
        self.wake = env.event()
        self.proc: Proc | None = None  # the thread's process, once its loop started
        self.pop_hit = 0
        self.pop_miss = 0
        self.deferred = 0  # completed tasks waiting for the deferred release
        self.wire_skip = 0  # T0: consecutive iterations that skipped wiring (back-off)
        self.end_time = 0.0  # ns: the loop's exit
        self.phases: list[PhaseRecord] = []
        # sim.engine.cond.polled_now: the polled cores, valid while polled_key == polled_ver
        self.polled_ver = 0
        self.polled_key = -1
        self.polled_list: list[Core] = []

    def touch(self) -> None:
        """A running slot of one of this thread's cores changed, or the doorbell of a staged subtask
        in one rang: the set of polled cores may differ."""
        self.polled_ver += 1

    def notify(self) -> None:
        """Wake the thread if it sleeps (at the current simulated time)."""
        wake = self.wake
        if wake._value is PENDING:  # not wake.triggered
            wake._ok = True  # Event.succeed(), inline
            wake._value = None
            wake.env.schedule(wake)

    def phase(self, kind: str, start: float, end: float, n: int, pop_hit: int = 0, pop_miss: int = 0,
              local_at_start: list[int] | None = None, shared_at_start: list[int] | None = None,
              local_at_end: list[int] | None = None, shared_at_end: list[int] | None = None) -> None:
        """Record one phase (ns) of this thread's current loop iteration that processed ``n`` items; the
        record takes the queue-depth lists given (fresh lists, one record each)."""
        self.phases.append(_PHASE({
            "thread": self.idx, "kind": kind, "start": float(start), "end": float(end),
            "loop_iter": self.loop_iter, "tasks_processed": n, "pop_hit": pop_hit, "pop_miss": pop_miss,
            "local_at_start": [0, 0, 0] if local_at_start is None else local_at_start,
            "shared_at_start": [0, 0, 0] if shared_at_start is None else shared_at_start,
            "local_at_end": [0, 0, 0] if local_at_end is None else local_at_end,
            "shared_at_end": [0, 0, 0] if shared_at_end is None else shared_at_end,
        }))


def broadcast(threads: list[SchedulerThread]) -> None:
    """Wake every sleeping thread."""
    for th in threads:
        wake = th.wake  # SchedulerThread.notify, inline
        if wake._value is PENDING:
            wake._ok = True  # Event.succeed(), inline
            wake._value = None
            wake.env.schedule(wake)


def deal(threads: list[SchedulerThread], clusters: list[Cluster]) -> None:
    """Give cluster ``b`` to thread ``b mod len(threads)`` (docs/model.md §2.1); sets each core's owner."""
    n = len(threads)
    for th in threads:
        th.clusters, th.cores, th.aic, th.aiv = [], [], [], []
        th.touch()
    for cl in clusters:
        th = threads[cl.idx % n]
        th.clusters.append(cl)
        th.cores += [cl.aic, *cl.aivs]
        th.aic.append(cl.aic)
        th.aiv += cl.aivs
        for c in (cl.aic, *cl.aivs):
            c.thread = th.idx
