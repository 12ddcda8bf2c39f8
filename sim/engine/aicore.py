"""What an AICore does with a token, in simulated time (docs/model.md §4.5, §4.6; doorbells §4.4).

A published token arrives at its core ``dmb_propagation`` after the register write. The core
takes tokens in order: when it is free it *receives* the token (after the record write-back of
its previous lane), pays its local setup (dcci + ACK: cold, after idle, back to back, or the gated
setup after the doorbell), *starts* the lane, executes it through the cost model's profile with
HBM shared among all running lanes (:mod:`sim.engine.hbm`), and *ends* it. All times are ns.

A lane of a task with barriers (``pl.system.syncall``) runs in segments: at the end of each but
the last it waits until every participant of that barrier (its lane in every block) has arrived,
then pays the cross-core sync (``core.cross_core_flag_cycles`` on its own clock) and starts the
next segment, profiled then (:mod:`sim.engine.barriers`).

Two cold costs land here: a seeded fraction of the cores pays a Head-OH excess on its first token
(``Core.cold_extra``), and the first kernel body each core runs in a launch pays the cold
instruction/scalar-cache cost (``first_kernel_*`` of the chip's core section).
"""

from __future__ import annotations

import random
from typing import Any

import simpy
from simpy.events import NORMAL, PENDING

from sim.engine.barriers import SEGMENTER
from sim.engine.cores import Subtask
from sim.engine.cost_model import CostModel
from sim.engine.events import Timer, arm
from sim.engine.hbm import HbmLanes
from sim.engine.params import RuntimeParams
from sim.engine.threads import SchedulerThread
from sim.ir import Block

__all__ = ["AICores"]

# id(profile) -> (profile, its compute_ns, hbm_bytes, l2_bytes, pipe_busy_ns and breakdown as floats): the
# cost model's profiles are memoised and only read, so each is converted once
_FLOATS: dict[int, tuple[Any, float, float, float, dict[str, float], dict[str, float]]] = {}


class AICores:
    """The physical cores of the die: token reception, local setup, lane execution, lane end.

    ``cost`` gives each block's lane profiles (once per block, when its first lane starts); the
    seeded jitter multiplies a lane's time by ``max(0.1, 1 + jitter * N(0, 1))`` drawn per
    (seed, ``noise_key`` of the task, block, lane). The owning scheduler thread is notified
    whenever a core's COND value is about to change (lane start, lane end).
    """

    def __init__(self, env: simpy.Environment, p: RuntimeParams, seed: int, cost: CostModel, l2: Any,
                 noise_key: list[str], hbm_bw: float, threads: list[SchedulerThread], l2_bw: float = 0.0) -> None:
        self.env = env
        self.p = p
        self.seed = seed
        self.cost = cost
        self.l2 = l2
        self.noise_key = noise_key
        self.threads = threads
        self.hbm = HbmLanes(env, hbm_bw, self._lane_end, l2_bw)
        self.segmenter = SEGMENTER
        self._starts = [self._lane_start_at]  # the lane-start timers' shared callback list
        self._segments = [self._segment_start_at]  # the same for segment starts after a barrier
        self._spare: list[Timer] = []  # processed lane-start timers (the event loop is done with them)

    def release(self) -> None:
        """After the run: drop the references to its own methods (reference cycles otherwise left to the
        garbage collector)."""
        self._starts = self._segments = self._spare = []
        self.hbm.release()

    def deliver(self, sub: Subtask, arrive: float) -> None:
        """The token of ``sub`` arrives at its core at ``arrive`` (ns); taken now if the core is free."""
        sub.arrive = arrive
        core = sub.core
        if core.busy is None:
            self._begin(sub)
        else:
            core.nxt = sub

    def ring(self, subs: list[Subtask], t: float) -> None:
        """Release staged subtasks: ring each core's doorbell at ``t`` (docs/model.md §4.4)."""
        for sub in subs:
            sub.rung = t + self.p.doorbell
            core = sub.core
            self.threads[core.thread].touch()  # the core is polled from now on
            if core.busy is sub and sub.start is None:  # already spinning on the doorbell
                sub.receive = max(sub.receive, sub.rung)
                self._start_at(sub, sub.receive + self.p.gated_setup)

    def _begin(self, sub: Subtask) -> None:
        """The core takes the token: receive, local setup, then the lane starts."""
        p = self.p
        core = sub.core
        core.busy = sub
        if sub.gated:
            extra = core.cold_extra if not core.used else 0.0
            core.used = True
            sub.receive = max(sub.arrive + extra, core.free_at)
            if sub.rung is None:
                return  # dcci done, spinning on the doorbell without ACK
            sub.receive = max(sub.receive, sub.rung)
            self._start_at(sub, sub.receive + p.gated_setup)
            return
        if not core.used and core.cold_extra > 0:
            # Cold first task (docs/model.md §4.6): the measured Head OH excess over steady state is
            # ``cold_extra``; ``local_setup_cold`` of it is dcci + ACK, the rest NoC propagation.
            core.used = True
            setup = min(p.setup_cold, core.cold_extra)
            receive = sub.arrive + core.cold_extra - setup
            if core.free_at > receive:  # max(receive, free_at), inline (here and below)
                receive = core.free_at
        elif not core.used:
            core.used = True  # the other half of the cores start like a warm core after idle
            receive = core.free_at if core.free_at > sub.arrive else sub.arrive
            setup = p.setup_idle
        else:
            receive = core.free_at if core.free_at > sub.arrive else sub.arrive
            setup = p.setup_idle if sub.arrive - core.free_at >= p.idle_threshold else p.setup_b2b
        sub.receive = receive
        # _start_at, inline
        sub.start = start = receive + setup
        env = self.env
        dt = start - env._now
        env.schedule(arm(self._spare, self._starts, sub), NORMAL, dt if dt > 0.0 else 0.0)  # max(0.0, dt)
        wake = self.threads[core.thread].wake  # SchedulerThread.notify, inline
        if wake._value is PENDING:
            wake._ok = True  # Event.succeed(), inline
            wake._value = None
            wake.env.schedule(wake)

    def _start_at(self, sub: Subtask, start: float) -> None:
        """The lane of ``sub`` starts at ``start`` (ns): a timer then; the owning thread is told now."""
        sub.start = start
        self.env.schedule(Timer(self._starts, sub), NORMAL, max(0.0, start - self.env._now))
        self.threads[sub.core.thread].notify()

    def _lane_start_at(self, timer: Timer) -> None:
        """The lane of the subtask ``timer._value`` starts: its profile (cost model, jitter, first-kernel
        cost) enters the HBM share (a timer's callback)."""
        sub = timer._value
        timer._value = None
        self._spare.append(timer)  # processed: armed again for a later lane start
        ts = sub.ts
        if ts.barrier is not None:
            sub.pipe_busy = {}  # the segments add theirs
            sub.breakdown = {}
            blocks = ts.task.blocks
            sub.n_seg = ts.barrier.counts[(sub.block % len(blocks), sub.lane)] + 1
            if self.p.jitter > 0:
                rng = random.Random(f"{self.seed}:j:{self.noise_key[ts.idx]}:{sub.block}:{sub.lane}")
                sub.factor = max(0.1, 1.0 + self.p.jitter * rng.gauss(0.0, 1.0))
            self._segment_start(sub)
            return
        block = sub.block
        profs = ts.profiles.get(block)
        if profs is None:
            blocks = ts.task.blocks
            blk = blocks[block] if block < len(blocks) else (
                blocks[block % len(blocks)] if blocks else Block(idx=block))
            profs = self.cost.profile(ts.task, blk, self.l2)
            ts.profiles[block] = profs
        lane = sub.lane
        prof = profs.get(lane)  # _lane_cost, inline
        if prof is None and lane == "aiv1":
            prof = profs.get("aiv0")
            lane = "aiv0"
        in_schedule = False
        if prof is not None and not sub.core.ran and self.p.cold_in_schedule:
            prof, in_schedule = self._cold_loads(sub, profs, lane, prof)
        if prof is None:
            compute = hbm = l2 = 0.0
            sub.pipe_busy = {}
            sub.breakdown = {}
        elif self.p.jitter > 0:
            rng = random.Random(f"{self.seed}:j:{self.noise_key[ts.idx]}:{block}:{sub.lane}")
            factor = max(0.1, 1.0 + self.p.jitter * rng.gauss(0.0, 1.0))
            compute = float(prof.compute_ns) * factor
            hbm = float(prof.hbm_bytes)
            l2 = float(prof.l2_bytes)
            sub.pipe_busy = {k: float(v) * factor for k, v in prof.pipe_busy_ns.items()}
            sub.breakdown = {k: float(v) * factor for k, v in prof.breakdown.items()}
        else:  # no jitter (x * 1.0 == x): the profile's values as floats, converted once
            conv = _FLOATS.get(id(prof))
            if conv is None or conv[0] is not prof:
                if len(_FLOATS) >= 100_000:
                    _FLOATS.clear()
                conv = _FLOATS[id(prof)] = (prof, float(prof.compute_ns), float(prof.hbm_bytes),
                                            float(prof.l2_bytes),
                                            {k: float(v) for k, v in prof.pipe_busy_ns.items()},
                                            {k: float(v) for k, v in prof.breakdown.items()})
            compute = conv[1]
            hbm = conv[2]
            l2 = conv[3]
            sub.pipe_busy = conv[4].copy()
            sub.breakdown = conv[5].copy()
        if not sub.core.ran:
            compute = self._cold(sub, prof, compute, in_schedule)
        sub.compute_ns = compute
        if compute <= 0:
            self._lane_end(sub)
            return
        self.hbm.add(sub, compute, hbm / compute, l2 / compute)

    def _cold_budget(self, core: Any, extra: float) -> float:
        """A cold core's first-kernel extra (ns) from ``extra`` (its fixed and per-load parts): at most the
        bound, less the cold head wait the core already paid (``cold_counts_head``); 0 on a core the chip's
        choices exempt (``cold_from_cluster``, ``cold_aiv_only``)."""
        p = self.p
        if core.cluster < p.cold_from_cluster or (p.cold_aiv_only and core.kind == "aic"):
            return 0.0
        if p.first_kernel_cold_max > 0:
            extra = min(extra, p.first_kernel_cold_max)
        if p.cold_counts_head:
            extra -= core.cold_extra
        return max(0.0, extra)

    def _cold_loads(self, sub: Subtask, profs: dict[str, Any], lane: str, prof: Any) -> tuple[Any, bool]:
        """(profile, whether it carries the per-load extra) of a core's first kernel body with
        ``core.first_kernel_cold_in_schedule``: its first GM loads each hold MTE2 the per-load extra longer,
        as many as :meth:`_cold_budget` allows. A cost model without cold profiles leaves the extra to
        :meth:`_cold`."""
        per = self.p.first_kernel_per_load
        cold_cost = getattr(self.cost, "cold_profile", None)
        if cold_cost is None:
            return prof, False
        n = int(self._cold_budget(sub.core, per * prof.gm_loads) / per + 1e-9) if per > 0 else 0
        if n <= 0:
            return prof, True
        cold = cold_cost(profs, lane, n)
        return (prof, False) if cold is None else (cold, True)

    def _cold(self, sub: Subtask, prof: Any, compute: float, loads_in_schedule: bool = False) -> float:
        """``compute`` (ns) plus the first-kernel cold cost if this is the core's first kernel body in the
        launch (cold instruction and scalar caches); ``loads_in_schedule``: the per-load part is already in
        the lane's profile (:meth:`_cold_loads`), only the fixed part is added."""
        core = sub.core
        if core.ran:
            return compute
        core.ran = True
        p = self.p
        extra = p.first_kernel_extra
        if prof is not None and not loads_in_schedule:  # else the loads' share is in the schedule
            extra += p.first_kernel_per_load * prof.gm_loads
        cold = self._cold_budget(core, extra)
        if compute > 0 and cold > 0:
            compute += cold
            sub.breakdown["cold_core"] = cold
        return compute

    def _segment_start(self, sub: Subtask) -> None:
        """Segment ``sub.seg`` of a lane with barriers starts now: its profile (taken when the block's
        first lane starts the segment) enters the HBM share; the prologue stays in the first segment,
        the epilogue in the last, the cold cost in the first."""
        ts = sub.ts
        k = sub.seg
        key = (sub.block, k)
        profs = ts.profiles.get(key)
        if profs is None:
            blocks = ts.task.blocks
            seg = self.segmenter.segments(blocks[sub.block % len(blocks)])[k]
            profs = self.cost.profile(ts.task, seg, self.l2)
            ts.profiles[key] = profs
        prof, compute, hbm, l2 = _lane_cost(profs, sub.lane)
        cut = 0.0
        over = getattr(self.cost, "lane_overhead_ns", None)
        if prof is not None and over is not None:
            cut = (over[0] if k > 0 else 0.0) + (over[1] if k < sub.n_seg - 1 else 0.0)
            compute = max(0.0, compute - cut)
        f = sub.factor
        compute *= f
        if prof is not None:
            for n, v in prof.pipe_busy_ns.items():
                sub.pipe_busy[n] = sub.pipe_busy.get(n, 0.0) + float(v) * f
            for n, v in prof.breakdown.items():
                v = float(v) - cut if n == "prologue" else float(v)
                sub.breakdown[n] = sub.breakdown.get(n, 0.0) + max(0.0, v) * f
        if k == 0:
            compute = self._cold(sub, prof, compute)
        sub.compute_ns += compute
        if compute <= 0:
            self._lane_end(sub)
            return
        self.hbm.add(sub, compute, hbm / compute, l2 / compute)

    def _segment_start_at(self, timer: Timer) -> None:
        """:meth:`_segment_start` of the subtask ``timer._value`` (a timer's callback)."""
        self._segment_start(timer._value)

    def _arrive(self, sub: Subtask) -> None:
        """``sub`` reached barrier ``sub.seg`` now; the last participant to arrive releases them all,
        each continuing after its cross-core sync (ns)."""
        now = self.env._now
        ts = sub.ts
        k = sub.seg
        waiting = ts.arrived.setdefault(k, [])
        waiting.append((sub, now))
        assert ts.barrier is not None
        if len(waiting) < ts.barrier.participants[k]:
            return
        del ts.arrived[k]
        for s, t_arr in waiting:
            sync = self.p.barrier_sync[s.lane]
            if s.barriers:
                s.barriers.append((t_arr, now + sync))  # type: ignore[union-attr]
            else:
                s.barriers = [(t_arr, now + sync)]
            s.breakdown["barrier_wait"] = s.breakdown.get("barrier_wait", 0.0) + (now - t_arr)
            s.breakdown["barrier_sync"] = s.breakdown.get("barrier_sync", 0.0) + sync
            s.compute_ns += now - t_arr + sync
            s.seg += 1
            self.env.schedule(Timer(self._segments, s), NORMAL, sync)

    def _lane_end(self, sub: Subtask) -> None:
        """The lane ends now: the core writes its record back and takes the next token, if any. (A lane
        with barriers left arrives at the next one instead.)"""
        if sub.seg < sub.n_seg - 1:
            self._arrive(sub)
            return
        now = self.env._now
        sub.end = now
        extra = (now - sub.start) - sub.compute_ns
        sub.breakdown["hbm_contention"] = extra if extra > 0.0 else 0.0  # max(0.0, extra)
        core = sub.core
        core.busy = None
        core.free_at = now + self.p.writeback
        nxt = core.nxt
        if nxt is not None:
            core.nxt = None
            self._begin(nxt)
        wake = self.threads[core.thread].wake  # SchedulerThread.notify, inline
        if wake._value is PENDING:
            wake._ok = True  # Event.succeed(), inline
            wake._value = None
            wake.env.schedule(wake)


def _lane_cost(profs: dict[str, Any], lane: str) -> tuple[Any, float, float, float]:
    """A lane's profile (aiv1 without one of its own takes aiv0's), its compute time (ns), its HBM
    bytes and its L2 line bytes; (None, 0, 0, 0) for a lane without ops."""
    prof = profs.get(lane)
    if prof is None and lane == "aiv1":
        prof = profs.get("aiv0")
    if prof is None:
        return None, 0.0, 0.0, 0.0
    return prof, float(prof.compute_ns), float(prof.hbm_bytes), float(prof.l2_bytes)
