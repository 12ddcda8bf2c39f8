"""The queues between AICPU threads (docs/model.md §4.1, §4.2).

:class:`WiringQueue`: submitted tasks on their way from the orchestrator to T0's wiring.
:class:`ReadyQueues`: ready tasks, one shared FIFO per shape, plus the dummy-task queue only T0
drains. The thread-local ready buffers live on each :class:`~sim.engine.threads.SchedulerThread`.
"""

from __future__ import annotations

from collections import deque

import simpy

from sim.engine.tasks import SHAPES, TaskState
from sim.engine.threads import SchedulerThread
from sim.ir import CoreShape

__all__ = ["ReadyQueues", "WiringQueue"]

_AIC, _AIV, _MIX = SHAPES  # the shapes in SHAPES order (enum members looked up once)


class WiringQueue:
    """The JUNE wiring queue: FIFO of submitted tasks that T0 wires in batches.

    ``since`` is the time (ns) the queue last became non-empty (or was left non-empty by a batch);
    ``space`` succeeds when T0 drains a batch (the orchestrator waits on it when the queue is full);
    ``closed`` is set when the orchestrator has submitted every task.
    """

    def __init__(self, env: simpy.Environment) -> None:
        self.items: deque[TaskState] = deque()
        self.since = 0.0
        self.space = env.event()
        self.closed = False


class ReadyQueues:
    """The shared ready FIFOs per shape (AIC, AIV, MIX) and the dummy-task FIFO."""

    def __init__(self) -> None:
        self.shared: dict[CoreShape, deque[TaskState]] = {s: deque() for s in SHAPES}
        self.dummy: deque[TaskState] = deque()

    def any_ready(self, th: SchedulerThread) -> bool:
        """Whether ``th`` sees ready kernel work: in its local buffers or in a shared queue."""
        loc, sh = th.local, self.shared
        return bool(loc[_AIC] or loc[_AIV] or loc[_MIX] or sh[_AIC] or sh[_AIV] or sh[_MIX])

    def depths(self, th: SchedulerThread) -> tuple[list[int], list[int]]:
        """Lengths of ``th``'s local buffers and of the shared queues, per shape (phase records)."""
        loc, sh = th.local, self.shared
        return [len(loc[_AIC]), len(loc[_AIV]), len(loc[_MIX])], [len(sh[_AIC]), len(sh[_AIV]), len(sh[_MIX])]
