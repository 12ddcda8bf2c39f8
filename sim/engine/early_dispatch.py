"""Speculative early dispatch bookkeeping (``allow_early_resolve``, docs/model.md §4.4).

When a flagged producer is first dispatched, each consumer whose producers are now all dispatched
(or complete) becomes a STAGING candidate and joins the candidate queue (candidate detection). A
scheduler thread with nothing else to do places candidates' blocks as *gated* subtasks (staging,
the placement itself is in :mod:`sim.engine.dispatch`); they wait here until the task becomes
ready, when every staged core's doorbell is rung (release). A consumer of a flagged producer
inherits the flag up to ``early_dispatch_chain_depth`` (auto-chain).
"""

from __future__ import annotations

from collections import deque

from sim.engine.aicore import AICores
from sim.engine.cores import Subtask
from sim.engine.params import RuntimeParams
from sim.engine.tasks import TaskState
from sim.engine.threads import SchedulerThread, broadcast
from sim.ir import TaskKind

__all__ = ["EarlyDispatch"]


class EarlyDispatch:
    """The candidate queue (at most ``early_cap``) and the gated subtasks staged per task."""

    def __init__(self, p: RuntimeParams, threads: list[SchedulerThread], aicores: AICores) -> None:
        self.p = p
        self.threads = threads
        self.aicores = aicores
        self.queue: deque[TaskState] = deque()
        self.staged: dict[int, list[Subtask]] = {}  # task idx -> gated subtasks waiting for the doorbell

    def detect(self, prod: TaskState) -> None:
        """Flagged producer dispatched: consumers whose producers are all dispatched become candidates."""
        if self.p.pmu:
            return
        for c in prod.fanout:
            c.dfanin += 1
            if (c.dfanin == len(c.preds) and not c.cand and c.refcount < c.fanin and c.kind == TaskKind.KERNEL
                    and not c.sync and c.next_block == 0 and len(self.queue) < self.p.early_cap
                    and c.task.predicate is None):  # a predicated task never early-dispatches
                c.cand = True
                if c.early_depth is None and prod.early_depth is not None and prod.early_depth < self.p.early_depth:
                    c.early_depth = prod.early_depth + 1
                self.queue.append(c)
                broadcast(self.threads)

    def hold(self, ts: TaskState, sub: Subtask) -> None:
        """Keep a gated subtask of ``ts`` until ``ts`` becomes ready."""
        self.staged.setdefault(ts.idx, []).append(sub)

    def on_ready(self, ts: TaskState, t: float) -> None:
        """``ts`` became ready at ``t`` (ns): no longer a candidate; its staged subtasks are released."""
        ts.cand = False
        subs = self.staged.pop(ts.idx, None)
        if subs:
            self.aicores.ring(subs, t)
