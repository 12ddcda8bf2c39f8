"""The dispatch policy: which ready task goes to which core, when (docs/model.md §4.4).

Per scheduler-loop iteration, :meth:`Dispatcher.dispatch` runs the JUNE order: spill excess local
work to the shared queues when a peer has idle cores, the IDLE stage (MIX first with strict
priority, then AIC/AIV in thread-parity order), flush the local buffers, and (unless PMU mode) the
PENDING stage into free pending slots of busy cores. One attempt per shape and stage pops tasks,
claims blocks on eligible cores or clusters (re-pushing a partly claimed SPMD task at once so peers
claim the rest), builds one subtask per active lane with the core's next token, and publishes the
batch (:meth:`Dispatcher._publish`). ``sync_start`` tasks (and tasks with a barrier across their
blocks) are placed all at once in drain mode.
:meth:`Dispatcher.stage` places early-dispatch candidates' blocks as gated subtasks in an otherwise
idle iteration.

Every step advances the thread-local clock ``t`` (ns) by its AICPU cost; the methods yield to simpy
(:func:`sim.engine.clock.at`) before reading shared queues, so peers interleave in time order.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.engine.aicore import AICores
from sim.engine.cores import Cluster, Core, Subtask
from sim.engine.early_dispatch import EarlyDispatch
from sim.engine.params import RuntimeParams
from sim.engine.queues import ReadyQueues
from sim.engine.tasks import SHAPES, TaskState
from sim.engine.threads import SchedulerThread, broadcast
from sim.ir import CoreShape

__all__ = ["Dispatcher", "eligible", "eligible_cores", "mix_fit"]

_AIC, _AIV, _MIX = SHAPES  # the shapes in SHAPES order (enum members looked up once)


def eligible(c: Core, stage: str) -> bool:
    """Whether core ``c`` can take a subtask in ``stage``: ``idle`` (running slot empty) or
    ``pending`` (running, pending slot free, the running task's ACK seen; docs/model.md §4.4)."""
    if stage == "idle":
        return c.running is None
    return c.running is not None and c.pending is None and c.ack_seen


def eligible_cores(cores: list[Core], stage: str) -> list[Core]:
    """The cores of ``cores`` that are :func:`eligible` in ``stage``, in order."""
    if stage == "idle":
        return [c for c in cores if c.running is None]
    return [c for c in cores if c.running is not None and c.pending is None and c.ack_seen]


def mix_fit(cl: Cluster, lanes: list[str], stage: str, rule: str = "uniform") -> list[Core] | None:
    """Cores for the task's lanes in this cluster in ``stage`` (None if it does not fit), by the runtime's
    MIX rule (``runtime.mix_placement``, docs/model.md §4.4). ``uniform``: every used core in ``stage``
    state. ``per_core``: in the pending stage each used core idle or free to take its pending slot, at
    least one busy. ``cluster``: the idle stage wants all of the cluster's cores idle, the pending stage
    all of them idle or free for a pending slot, at least one busy. Under the last two
    :meth:`Dispatcher._assign_block` places each core of a pending-stage block by its own state."""
    if rule == "uniform" or (rule == "per_core" and stage == "idle"):
        return _pick_lanes(lanes, cl.aic, eligible(cl.aic, stage), eligible_cores(cl.aivs, stage))
    cores = (cl.aic, *cl.aivs)
    if stage == "idle":  # cluster rule
        return _pick_lanes(lanes, cl.aic, True, list(cl.aivs)) if all(c.running is None for c in cores) else None
    free = [c for c in cores if c.running is None or (c.pending is None and c.ack_seen)]
    if rule == "cluster" and (len(free) < len(cores) or all(c.running is None for c in cores)):
        return None
    out = _pick_lanes(lanes, cl.aic, cl.aic in free, [c for c in free if c is not cl.aic])
    if out is None or (rule == "per_core" and all(c.running is None for c in out)):
        return None
    return out


def _pick_lanes(lanes: list[str], aic: Core, aic_ok: bool, aivs: list[Core]) -> list[Core] | None:
    """``aic`` for an ``aic`` lane (if ``aic_ok``) and the usable ``aivs`` in order for the others (None if
    the cluster falls short)."""
    out: list[Core] = []
    k = 0
    for ln in lanes:
        if ln == "aic":
            if not aic_ok:
                return None
            out.append(aic)
        else:
            if k >= len(aivs):
                return None
            out.append(aivs[k])
            k += 1
    return out


class Dispatcher:
    """Places ready tasks on the cores of the calling scheduler thread (and, for ``sync_start``,
    of every thread); ``subs`` lists every subtask created, in creation order."""

    def __init__(self, env: simpy.Environment, p: RuntimeParams, ready: ReadyQueues,
                 threads: list[SchedulerThread], aicores: AICores, early: EarlyDispatch) -> None:
        self.env = env
        self.p = p
        self.ready = ready
        self.shared = ready.shared
        self.threads = threads
        self.aicores = aicores
        self.early = early
        self.subs: list[Subtask] = []

    def has_work(self, th: SchedulerThread) -> bool:
        """Whether a dispatch step of ``th`` now would place something (the head task of a shape fits
        an idle core, or a pending slot under the PENDING-stage rules)."""
        if not self.ready.any_ready(th):
            return False
        mix_work = bool(th.local[_MIX] or self.shared[_MIX])
        for shape in SHAPES:
            head = self._head(th, shape)
            if head is None:
                continue
            if shape != _MIX and th.local[_MIX]:
                continue  # MIX strict priority in the IDLE stage
            if self._can_place(th, shape, "idle", head):
                return True
            if self.p.pmu or head.sync:
                continue
            if shape != _MIX and mix_work:
                continue
            if not self._peer_idle(th, shape) and self._can_place(th, shape, "pending", head):
                return True
        return False

    def can_stage(self, th: SchedulerThread) -> bool:
        """Whether ``th`` may stage now: PMU off, no ready work it sees, a candidate with free resources."""
        if self.p.pmu or self.ready.any_ready(th):
            return False
        return any(c.cand and self._stage_groups(th, c, 1) for c in self.early.queue)

    def dispatch(self, th: SchedulerThread, t: float) -> Generator[Any, Any, tuple[float, int]]:
        """The dispatch step of ``th``'s iteration from its clock ``t`` (ns): spill, IDLE stage, flush,
        PENDING stage (docs/model.md §4.4); returns the new clock and the subtasks published."""
        p = self.p
        if not self.ready.any_ready(th):
            return t, 0
        now = self.env._now
        if now > t:  # max(t, now), inline
            t = now
        rs = t
        local = th.local
        shared = self.shared
        la = [len(local[_AIC]), len(local[_AIV]), len(local[_MIX])]  # ReadyQueues.depths, inline
        sa = [len(shared[_AIC]), len(shared[_AIV]), len(shared[_MIX])]
        total = 0
        # spill: more local work than this thread could ever place, and a peer has idle cores
        if la[0] > len(th.aic) or la[1] > len(th.aiv) or la[2] > len(th.clusters):
            for shape, own in ((_AIC, len(th.aic)), (_AIV, len(th.aiv)),
                               (_MIX, len(th.clusters))):
                loc = local[shape]
                if len(loc) > own and self._peer_idle(th, shape):
                    extra = len(loc) - own
                    shared[shape].extend(loc[:extra])
                    del loc[:extra]
                    broadcast(self.threads)
        order = (_AIC, _AIV) if th.idx % 2 == 0 else (_AIV, _AIC)
        # IDLE stage
        budget = self._n_eligible(th, _MIX, "idle")
        if budget:  # (no attempt, and no generator, without an eligible core)
            t, n = yield from self._attempt(th, _MIX, "idle", t, budget)
            total += n
        if not th.local[_MIX]:
            for shape in order:
                budget = self._n_eligible(th, shape, "idle")
                if budget:
                    t, n = yield from self._attempt(th, shape, "idle", t, budget)
                    total += n
        # flush local buffers
        flushed = False
        for shape in SHAPES:
            loc = th.local[shape]
            while loc:
                self.shared[shape].append(loc.pop())
                flushed = True
        if flushed:
            broadcast(self.threads)
        # PENDING stage
        if not p.pmu:
            mix_left = bool(self.shared[_MIX])
            if mix_left and not self._peer_idle(th, _MIX):
                budget = self._n_eligible(th, _MIX, "pending")
                if budget:
                    t, n = yield from self._attempt(th, _MIX, "pending", t, budget)
                    total += n
            mix_left = bool(self.shared[_MIX])
            for shape in order:
                if self.shared[shape] and not mix_left and not self._peer_idle(th, shape):
                    budget = self._n_eligible(th, shape, "pending")
                    if budget:
                        t, n = yield from self._attempt(th, shape, "pending", t, budget)
                        total += n
        if total:
            t += p.ctr_phase
            le, se = self.ready.depths(th)
            th.phase("dispatch", rs, t, total, pop_hit=th.pop_hit, pop_miss=th.pop_miss,
                     local_at_start=la, shared_at_start=sa, local_at_end=le, shared_at_end=se)
            th.pop_hit = th.pop_miss = 0
        return t, total

    def stage(self, th: SchedulerThread, t: float) -> Generator[Any, Any, tuple[float, int]]:
        """Early-dispatch staging in an otherwise idle iteration (docs/model.md §4.4): candidates'
        blocks go to idle cores, then free pending slots, as gated subtasks; returns the new clock
        (ns) and the blocks staged."""
        p = self.p
        if not self.can_stage(th):
            return t, 0
        t = max(t, self.env._now)
        rs = t
        subs: list[Subtask] = []
        blocks = 0
        pops = 0
        while self.early.queue and pops < p.early_max_pops:
            if t > self.env._now:  # sim.engine.clock.at, inline
                yield t - self.env._now
            if not self.early.queue:  # a peer took the last candidate meanwhile
                break
            ts = self.early.queue.popleft()
            if not ts.cand:
                continue
            pops += 1
            t += p.pop
            groups = self._stage_groups(th, ts, ts.block_num - ts.next_block)
            if not groups:
                self.early.queue.appendleft(ts)
                break
            for stage, g in groups:
                blocks += 1
                t = self._assign_block(ts, g, stage, th, t, subs, gated=True)
            if ts.next_block < ts.block_num:
                self.early.queue.append(ts)
        if not subs:
            return t, 0
        t = self._publish(subs, t)
        t += p.ctr_phase
        th.phase("early_dispatch", rs, t, blocks)
        return t, blocks

    def _attempt(self, th: SchedulerThread, shape: CoreShape, stage: str, t: float,
                 budget: int) -> Generator[Any, Any, tuple[float, int]]:
        """One dispatch attempt for one shape and stage, ``budget`` (> 0) eligible cores or clusters
        (:meth:`_n_eligible`, taken by the caller): pop, claim, build, publish (docs/model.md §4.4)."""
        p = self.p
        subs: list[Subtask] = []
        n_sync = 0
        tried: set[int] = set()
        if shape is _AIC:
            free = eligible_cores(th.aic, stage)
        elif shape is _AIV:
            free = eligible_cores(th.aiv, stage)
        else:
            free = []
        placed = 0
        while placed < budget:
            if t > self.env._now:  # sim.engine.clock.at, inline
                yield t - self.env._now
            ts = self._pop(th, shape, tried)
            if ts is None:
                th.pop_miss += 1
                break
            th.pop_hit += 1
            t += p.pop
            remaining = ts.block_num - ts.next_block
            if ts.sync and ts.block_num > 1:
                got = self._sync_start(th, ts, t) if stage == "idle" else None
                if got is None:
                    self.shared[shape].append(ts)
                    tried.add(ts.idx)
                    broadcast(self.threads)
                    continue
                t, ssubs = got
                placed += len(ssubs)
                n_sync += len(ssubs)
                t = self._publish(ssubs, t)  # a batch with a sync_start task publishes per task
                free = eligible_cores(free, stage)
                continue
            if shape == _MIX:
                groups = []
                for cl in th.clusters:
                    if len(groups) >= remaining:
                        break
                    g = mix_fit(cl, ts.lanes, stage, self.p.mix_rule)
                    if g is not None:
                        groups.append(g)
            else:
                free = eligible_cores(free, stage)  # a peer's sync_start drain may take cores
                groups = free[:remaining]  # one core per block
                free = free[len(groups):]
            if not groups:
                self.shared[shape].append(ts)
                tried.add(ts.idx)
                broadcast(self.threads)
                continue
            if ts.next_block + len(groups) < ts.block_num:
                self.shared[shape].append(ts)  # re-push now so peers claim the rest in parallel
                tried.add(ts.idx)
                broadcast(self.threads)
            if shape is _MIX:
                for g in groups:
                    placed += 1
                    t = self._assign_block(ts, g, stage, th, t, subs, gated=False)
            else:  # a task of one lane (AIC or AIV), not gated: _assign_block for one core per block, inline
                lane = ts.lanes[0]
                all_subs = self.subs
                for c in groups:
                    placed += 1
                    blk = ts.next_block
                    ts.next_block += 1
                    c.token += 1
                    sub = Subtask(ts, blk, lane, c, c.token, th.idx)
                    t += p.payload
                    if stage == "idle":
                        th.polled_ver += 1  # a running slot of th's cores changes (SchedulerThread.touch, inline)
                        c.running = sub
                        c.ack_seen = False
                    else:
                        c.pending = sub
                    subs.append(sub)
                    all_subs.append(sub)
        if not subs:
            return t, n_sync
        t = self._publish(subs, t)
        return t, len(subs) + n_sync

    def _sync_start(self, th: SchedulerThread, ts: TaskState, t: float) -> tuple[float, list[Subtask]] | None:
        """Drain mode for a sync_start task (docs/model.md §4.4), simplified: if all threads together have
        idle resources for every block, place them all in one pass after the barrier; else None."""
        per: list[tuple[SchedulerThread, list[Core]]] = []
        for o in [th] + [x for x in self.threads if x is not th]:
            for cl in o.clusters:
                if ts.shape == _MIX:
                    g = mix_fit(cl, ts.lanes, "idle")
                    if g is not None:
                        per.append((o, g))
                else:
                    cores = [cl.aic] if ts.shape == _AIC else cl.aivs
                    per += [(o, [c]) for c in cores if c.running is None]
        need = ts.block_num - ts.next_block
        if len(per) < need:
            return None
        t += self.p.sync_barrier
        subs: list[Subtask] = []
        for o, g in per[:need]:
            blk = ts.next_block
            ts.next_block += 1
            o.polled_ver += 1  # running slots of o's cores change (SchedulerThread.touch, inline)
            for lane, core in zip(ts.lanes, g, strict=True):
                core.token += 1
                sub = Subtask(ts, blk, lane, core, core.token, o.idx)
                t += self.p.payload
                core.running = sub
                core.ack_seen = False
                subs.append(sub)
                self.subs.append(sub)
        return t, subs

    def _assign_block(self, ts: TaskState, cores: list[Core], stage: str, th: SchedulerThread, t: float,
                      subs: list[Subtask], *, gated: bool) -> float:
        """Claim the task's next block on ``cores`` (one per lane): a subtask per lane with the core's
        next token, into its running (IDLE stage) or pending slot; returns ``t`` plus the payload
        builds (ns). Gated (early-dispatch) subtasks are also remembered for the doorbell."""
        blk = ts.next_block
        ts.next_block += 1
        per_core = stage != "idle" and self.p.mix_rule != "uniform"  # each core by its own state
        if stage == "idle" or (per_core and None in [c.running for c in cores]):
            th.polled_ver += 1  # running slots of th's cores change (SchedulerThread.touch, inline)
        for lane, core in zip(ts.lanes, cores, strict=True):
            core.token += 1
            sub = Subtask(ts, blk, lane, core, core.token, th.idx)
            sub.gated = gated
            t += self.p.payload
            if stage == "idle" or (per_core and core.running is None):
                core.running = sub
                core.ack_seen = False
            else:
                core.pending = sub
            subs.append(sub)
            self.subs.append(sub)
            if gated:
                self.early.hold(ts, sub)
        return t

    def _publish(self, subs: list[Subtask], t: float) -> float:
        """Store barrier, one counter read (dispatch_ts) per batch, one register write per subtask."""
        p = self.p
        t += p.barrier + p.ctr_task
        dts = t
        for s in subs:
            t += p.publish
            s.dispatch = dts
            self.aicores.deliver(s, t + p.prop)
        for s in subs:
            ts = s.ts
            if not ts.dispatched:
                ts.dispatched = True
                if ts.early_depth is not None:
                    self.early.detect(ts)
        broadcast(self.threads)
        return t

    def _stage_groups(self, th: SchedulerThread, ts: TaskState, limit: int) -> list[tuple[str, list[Core]]]:
        """Free resources for staging: idle cores first, then free pending slots of busy cores."""
        out: list[tuple[str, list[Core]]] = []
        for stage in ("idle", "pending"):
            if ts.shape == _MIX:
                for cl in th.clusters:
                    if len(out) >= limit:
                        return out
                    g = mix_fit(cl, ts.lanes, stage, self.p.mix_rule)
                    if g is not None:
                        out.append((stage, g))
            else:
                cores = th.aic if ts.shape == _AIC else th.aiv
                for c in cores:
                    if len(out) >= limit:
                        return out
                    if eligible(c, stage):
                        out.append((stage, [c]))
        return out

    def _peer_idle(self, th: SchedulerThread, shape: CoreShape) -> bool:
        """Whether another thread has an idle core of ``shape`` (MIX: a wholly idle cluster)."""
        for o in self.threads:
            if o is th:
                continue
            if shape is _MIX:
                if any(cl.aic.running is None and all(a.running is None for a in cl.aivs) for cl in o.clusters):
                    return True
            elif None in [c.running for c in (o.aic if shape is _AIC else o.aiv)]:
                return True
        return False

    def _n_eligible(self, th: SchedulerThread, shape: CoreShape, stage: str) -> int:
        """How many of ``th``'s cores (MIX: clusters with an eligible core) are eligible in ``stage``."""
        if shape is not _MIX:
            cores = th.aic if shape is _AIC else th.aiv
            if stage == "idle":  # eligible(c, "idle"): the running slot is empty
                return [c.running for c in cores].count(None)
            return len(eligible_cores(cores, stage))
        n = 0
        if stage == "idle":  # a cluster with an empty running slot
            for cl in th.clusters:
                if cl.aic.running is None or None in [a.running for a in cl.aivs]:
                    n += 1
            return n
        for cl in th.clusters:
            if eligible(cl.aic, stage) or eligible_cores(cl.aivs, stage):
                n += 1
        return n

    def _head(self, th: SchedulerThread, shape: CoreShape) -> TaskState | None:
        """The task ``th`` would pop next for ``shape``: local buffer top (LIFO), else shared head."""
        if th.local[shape]:
            return th.local[shape][-1]
        q = self.shared[shape]
        return q[0] if q else None

    def _can_place(self, th: SchedulerThread, shape: CoreShape, stage: str, ts: TaskState) -> bool:
        """Whether ``ts`` fits at least one of ``th``'s cores / clusters in ``stage``."""
        if shape is _MIX:
            return any(mix_fit(cl, ts.lanes, stage, self.p.mix_rule) is not None for cl in th.clusters)
        cores = th.aic if shape is _AIC else th.aiv
        if stage == "idle":  # eligible(c, "idle"): the running slot is empty
            return None in [c.running for c in cores]
        return bool(eligible_cores(cores, stage))

    def _pop(self, th: SchedulerThread, shape: CoreShape, tried: set[int]) -> TaskState | None:
        """Pop from the local buffer, else the shared FIFO; None (head left in place) if that head was
        already tried and pushed back in this attempt."""
        loc = th.local[shape]
        if loc:
            return loc.pop()
        q = self.shared[shape]
        if not q:
            return None
        ts = q.popleft()
        if ts.idx in tried:
            q.appendleft(ts)
            return None
        return ts
