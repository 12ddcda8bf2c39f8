"""The AICPU scheduler threads' loop (docs/model.md §4.3).

Each thread is a process (:mod:`sim.engine.events`) running :meth:`Scheduler.loop`. One iteration,
on the thread's own clock ``t`` (ns): exit check, completion poll (a COND read of ``cond_poll`` per
polled core, FINs stamped and resolved), T0's wiring and dummy drain, dispatch (:mod:`sim.engine.dispatch`),
early-dispatch staging when nothing was dispatched, a second completion poll, the deferred
release, and ``sched_idle_iter`` for an iteration without progress.

Iterations in which nothing can happen are not simulated one by one: an idle thread computes the
first iteration that can observe a change (a COND value becoming visible, ready work it can place,
a staging chance, wiring or dummy work for T0), sleeps until then or until a peer or core wakes it,
and accounts the skipped iterations in ``loop_iter`` (:meth:`Scheduler._quiet`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Generator
from functools import partial
from typing import Any

import simpy
from simpy.events import NORMAL, PENDING, Event

from sim.engine.clock import EPS, at, ceil_nonneg
from sim.engine.cond import observe, polled_now
from sim.engine.cores import Cluster
from sim.engine.dependencies import Dependencies
from sim.engine.dispatch import Dispatcher
from sim.engine.early_dispatch import EarlyDispatch
from sim.engine.events import NAP, Proc, Timer, arm, rouse, start
from sim.engine.params import RuntimeParams
from sim.engine.queues import ReadyQueues, WiringQueue
from sim.engine.tasks import SHAPES
from sim.engine.threads import SchedulerThread, deal

__all__ = ["Scheduler"]

_AIC, _AIV, _MIX = SHAPES  # the shapes in SHAPES order (enum members looked up once)


class Scheduler:
    """The scheduler threads (``threads``, owning ``clusters``) and their loop; ``n_iter_sim`` counts
    the iterations simulated one by one (skipped ones are not counted)."""

    def __init__(self, env: simpy.Environment, p: RuntimeParams, seed: int, threads: list[SchedulerThread],
                 clusters: list[Cluster], wiring: WiringQueue, ready: ReadyQueues, deps: Dependencies,
                 dispatcher: Dispatcher, early: EarlyDispatch) -> None:
        self.env = env
        self.p = p
        self.seed = seed
        self.threads = threads
        self.clusters = clusters
        self.wiring = wiring
        self.ready = ready
        self.deps = deps
        self.dispatcher = dispatcher
        self.early = early
        self.n_iter_sim = 0
        # what _quiet reads at each call, in one tuple (one attribute load instead of one per name)
        self._ctx = (p, env, wiring, deps, dispatcher, early, ready.any_ready, ready, p.poll, p.fin_vis)

    def start(self) -> None:
        """Start every thread's loop process now, in thread order."""
        for th in self.threads:
            th.proc = start(self.env, self.loop(th))

    def add_thread(self) -> None:
        """``orch_to_sched``: the orchestrator thread becomes one more scheduler and all clusters are
        dealt again across every thread (docs/model.md §4.4; simpler
        ``src/a2a3/runtime/tensormap_and_ringbuffer/runtime/scheduler/scheduler_cold_path.cpp``,
        ``reassign_cores_for_all_threads``); its loop starts now."""
        th = SchedulerThread(len(self.threads), self.env)
        self.threads.append(th)
        deal(self.threads, self.clusters)
        th.proc = start(self.env, self.loop(th))

    def loop(self, th: SchedulerThread) -> Generator[Any, Any, None]:
        """``th``'s scheduler loop, from now until every task is complete and its cores are empty.

        The two completion polls of an iteration run inline (one generator frame less at each of
        their reads): a poll from the thread's clock ``t`` (ns) over its polled cores
        (:func:`sim.engine.cond.polled_now`) reads each one's COND, stamps and counts FINs and
        completes tasks whose last subtask finished."""
        p = self.p
        env = self.env
        deps = self.deps
        complete = deps.complete
        wq = self.wiring
        dispatcher = self.dispatcher
        early = self.early
        ready = self.ready
        loc = th.local  # the thread's local buffers and the shared queues (ReadyQueues.depths, inline)
        shared = ready.shared
        poll = p.poll
        vis = p.fin_vis
        idx = th.idx
        t0 = idx == 0
        t = env.now
        if p.start_phase > 0:  # seeded loop phase: the threads are not launched in lockstep
            per = p.idle_iter + (p.t0_extra if t0 else 0.0)
            t += random.Random(f"{self.seed}:phase:{th.idx}").uniform(0.0, p.start_phase * per)
            yield from at(env, t)
        while True:
            th.loop_iter += 1
            self.n_iter_sim += 1
            # Dependencies.all_done, inline (every iteration)
            if wq.closed and deps.n_completed == deps.n_total and not any(c.running is not None for c in th.cores):
                if th.pop_hit or th.pop_miss:
                    th.phase("dispatch", t, t, 0, pop_hit=th.pop_hit, pop_miss=th.pop_miss)
                th.end_time = t
                return
            # (each step is entered only when it can do something: a generator is not free)
            n1 = nw = nd = ndis = nst = n = 0
            for second in (False, True):
                # completion poll (sim.engine.cond.polled_now, its cached list read inline)
                polled = th.polled_list if th.polled_key == th.polled_ver else polled_now(th)
                n = 0
                if polled:
                    rs = t
                    # the queue depths at the poll's start, taken when first needed: before anything
                    # can change them (the first yield to peers, or the first completion)
                    la = sa = None
                    for c in polled:
                        t += poll
                        if c.running is None:
                            continue
                        if t > env._now:
                            if la is None:
                                la = [len(loc[_AIC]), len(loc[_AIV]), len(loc[_MIX])]
                                sa = [len(shared[_AIC]), len(shared[_AIV]), len(shared[_MIX])]
                            # the read happens at t: peers must not see its effects (FIN counts, freed
                            # slots) earlier
                            yield t - env._now
                            if c.thread != idx or c.running is None:
                                continue  # meanwhile re-dealt to another thread (orch_to_sched), which polls it
                        if c.pending is None:  # sim.engine.cond.observe for an empty pending slot, inline
                            r = c.running
                            e = r.end
                            if e is None or e + vis > t:  # no FIN visible: at most the ACK is new
                                if not c.ack_seen:
                                    st = r.start
                                    if st is not None and st + vis <= t:
                                        c.ack_seen = True
                                continue
                        done = observe(c, t, vis)
                        if not done:
                            continue
                        th.polled_ver += 1  # a running slot changed (SchedulerThread.touch, inline)
                        if la is None:
                            la = [len(loc[_AIC]), len(loc[_AIV]), len(loc[_MIX])]
                            sa = [len(shared[_AIC]), len(shared[_AIV]), len(shared[_MIX])]
                        fin = t
                        for s in done:
                            s.finish = fin
                            t += p.ctr_task + p.per_fin
                            n += 1
                            ts = s.ts
                            ts.subs_done += 1
                            if ts.subs_done == ts.subs_total:
                                t = yield from complete(th, ts, t, to_shared=False)
                    if n:
                        t += p.ctr_phase
                        le = [len(loc[_AIC]), len(loc[_AIV]), len(loc[_MIX])]
                        assert sa is not None
                        th.phase("complete", rs, t, n, local_at_start=la, shared_at_start=sa,
                                 local_at_end=le, shared_at_end=list(sa))
                if second:
                    break
                n1 = n
                if t0:
                    t += p.t0_extra
                    if wq.items:
                        t, nw = yield from deps.wire(th, t)
                    if ready.dummy:
                        t, nd = yield from deps.drain_dummies(th, t)
                # ReadyQueues.any_ready, inline
                if loc[_AIC] or loc[_AIV] or loc[_MIX] or shared[_AIC] or shared[_AIV] or shared[_MIX]:
                    t, ndis = yield from dispatcher.dispatch(th, t)
                if not ndis and early.queue:
                    t, nst = yield from dispatcher.stage(th, t)
            progress = n1 or nw or nd or ndis or nst or n
            if th.deferred >= p.release_cap or (not progress and th.deferred):
                rs = t
                t += th.deferred * p.release_per_task + p.ctr_phase
                th.deferred = 0
                th.phase("release", rs, t, 0)
            if progress:
                if t > env._now:  # sim.engine.clock.at, inline (the loop's hottest yield)
                    yield t - env._now
                continue
            t += p.idle_iter
            if t > env._now:
                yield t - env._now
            t = yield from self._quiet(th, t)

    def _quiet(self, th: SchedulerThread, s0: float) -> Generator[Any, Any, float]:
        """Skip iterations that cannot observe anything; return the start (ns) of the next real one.

        Iteration ``k`` after ``s0`` starts at ``s0 + k * per`` (``per``: the idle iteration with its
        polls); the thread sleeps until the first ``k`` that can see a change, or until woken: a nap
        (:mod:`sim.engine.events`) that the first of a timer at that iteration and its ``wake`` event ends.
        """
        p, env, wq, deps, dispatcher, early, any_ready, ready, poll, vis = self._ctx
        t0 = th.idx == 0
        polled = polled_now(th)
        n = len(polled)
        per = 2 * n * poll + p.idle_iter + (p.t0_extra if t0 else 0.0)
        if 1e-3 > per:  # max(per, 1e-3), inline
            per = 1e-3
        ceil = math.ceil
        while True:
            now = env._now
            x = (now - s0) / per  # ceil_nonneg, inline: the iteration now
            k_now = 0 if x <= EPS else int(ceil(x - 1e-9))
            # the first iteration that reads a new COND value of core j (1-based after the n polls of
            # the iteration's first poll) visible at v: ceil_nonneg((v - s0 - j * poll) / per); the
            # division and ceil_nonneg are monotone, so they are taken once, of the smallest numerator
            y = math.inf
            j = n
            for c in polled:
                j += 1
                # sim.engine.cond.next_change, inline: when a new COND value of c becomes visible
                r = c.running
                pd = c.pending
                if pd is not None:
                    if pd.start is not None:
                        v = pd.start + vis
                    elif pd.gated and r.end is not None:
                        v = r.end + vis
                    else:
                        continue
                elif c.ack_seen or r.start is None:
                    if r.end is None:
                        continue
                    v = r.end + vis
                else:
                    v = r.start + vis
                    if r.end is not None and r.end + vis < v:
                        v = r.end + vis
                yc = v - s0 - j * poll
                if yc < y:
                    y = yc
            k: int | None = None
            if y != math.inf:
                x = y / per  # ceil_nonneg, inline
                k = 0 if x <= EPS else int(ceil(x - 1e-9))
            if ((not polled and deps.all_done())
                    or (any_ready(th) and dispatcher.has_work(th))
                    or (early.queue and dispatcher.can_stage(th))
                    or ((th.polled_key != th.polled_ver or th.polled_list is not polled)
                        and polled_now(th) != polled)):
                k = k_now if k is None else min(k, k_now)
            kq = 0
            if t0:
                if ready.dummy:
                    k = k_now if k is None else min(k, k_now)
                if wq.items:
                    if len(wq.items) >= p.wiring_batch or wq.closed:
                        kw = k_now
                    else:
                        kq = ceil_nonneg((wq.since - s0) / per)
                        kw = max(k_now, kq + max(0, p.wiring_backoff - th.wire_skip))
                    k = kw if k is None else min(k, kw)
            if k is not None and s0 + k * per <= now + EPS:
                break
            wake = th.wake
            if wake._value is PENDING:  # never triggered: nobody else holds it, only its stale relay goes
                wake.callbacks.clear()
            else:
                wake = th.wake = Event(env)
            if k is None:
                yield wake
            else:
                # a nap until the first of a timer at iteration k and the wake event
                proc = th.proc
                token = proc.nap()
                env.schedule(arm(proc.spare, _RELAY_AT, token), NORMAL, s0 + k * per - now)
                wake.callbacks.append(partial(_relay, token))
                yield NAP
        if t0 and wq.items:
            kq = ceil_nonneg((wq.since - s0) / per)
            th.wire_skip += max(0, k - kq)
        th.loop_iter += k
        return s0 + k * per


def _relay(token: tuple[Proc, int], _ev: simpy.Event) -> None:
    """Callback of a napping thread's ``wake`` event: the first of it and the thread's timer ends the
    nap of ``token``."""
    rouse(token)


def _relay_at(timer: Timer) -> None:
    """Callback of a napping thread's timer (its value the nap's token): :func:`_relay` at the timer."""
    token = timer._value
    timer._value = None
    token[0].spare.append(timer)  # processed: armed again at a later nap
    rouse(token)


_RELAY_AT = [_relay_at]  # the timers' shared callback list
