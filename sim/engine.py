"""Discrete-event engine: runs a TaskGraph on a chip model and produces RunResult records.

Model (runtime.md): one orchestrator (submit costs, JUNE wiring queue), ``n_sched_threads``
scheduler threads owning clusters round-robin, each looping complete-poll / wire / dummy /
dispatch / complete-poll with per-step costs; shared ready FIFOs per shape plus JUNE thread-local
LIFO buffers; a running and a pending slot per core with the COND interpretation rules; AICores
that take tokens in order (propagation, local setup, lane execution, record write-back).
Lane execution is fluid: every running lane needs ``compute_ns`` at full speed and moves
``hbm_bytes`` uniformly; concurrent lanes share HBM bandwidth max-min fairly.

Scheduler threads are simpy processes. Iterations in which nothing can happen are not simulated
one by one: a thread waits for the first iteration that can observe a change (a COND value, ready
work, wiring) and accounts the skipped iterations in ``loop_iter``.

Also modelled: speculative early dispatch (``allow_early_resolve``: candidate detection, staging
with gated tokens, doorbells, auto-chain), ``sync_start`` placement, ``orch_to_sched`` re-deal,
PMU mode (single issue), the swimlane observer-cost switch and the level-dependent AICPU costs.

Simplifications (documented, not hidden): sync_start drain mode is one elected pass without
stopping peers; ring/heap/TensorMap back-pressure is not modelled (only the wiring-queue limit);
phase-record counter reads are charged once per emitted record; the AICPU buffer rotation is not
modelled; a doorbell store costs no AICPU time.

All internal times are ns (floats); chip runtime parameters are µs and converted once.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import simpy
from pydantic import BaseModel, ConfigDict, Field

from hwmodels.memory import HbmFlow, HbmShare
from sim.ir import Block, CoreShape, Task, TaskGraph, TaskKind
from sim.ir.records import PhaseRecord, RunResult, SubmitRecord, SubtaskRecord
from sim.util.errors import UserError

if TYPE_CHECKING:
    from hwmodels import ChipConfig

__all__ = ["RunOptions", "simulate"]

_L2_INITS = ("cold", "inputs_warm", "warm")
# Idle gap (µs) after which the AICore's local setup is the "after idle" value (runtime.md §6.4:
# "0.02 µs after >= 1 µs idle, 0.29 µs otherwise"). Taken from the chip when it defines it.
_IDLE_SETUP_THRESHOLD_FALLBACK_US = 1.0
_EPS = 1e-9


class RunOptions(BaseModel):
    """Per-run options (not chip properties)."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    l2_init: str = Field("inputs_warm", description="initial L2 state: cold | inputs_warm | warm")
    swimlane_level: int = Field(4, ge=0, le=4, description="profiling level; sets AICPU-side profiling costs")
    jitter: float = Field(0.0, ge=0.0, description="relative sigma of seeded noise on lane durations")
    pmu_mode: bool = Field(False, description="PMU run: no pending-slot dispatch, no early dispatch")
    cold_start: bool = Field(True, description="first task per core pays the measured cold extra (seeded)")


# --------------------------------------------------------------------------------------------
# parameters


class _Params:
    """Runtime parameters in ns, with observer-effect and level switches applied."""

    def __init__(self, chip: Any, opts: RunOptions) -> None:
        rt = chip.runtime
        us = 1000.0
        lvl = opts.swimlane_level
        costs = bool(getattr(rt, "swimlane_costs", True)) and lvl >= 1
        obs = 1.0 if costs else 0.0
        self.level = lvl
        self.n_threads = int(rt.n_sched_threads)
        self.orch_submit = rt.orch_submit_us * us
        self.orch_between = rt.orch_between_submits_us * us
        self.orch_alloc = rt.orch_alloc_us * us
        self.orch_record = rt.orch_swimlane_record_us * us * obs if lvl >= 4 else 0.0
        self.wiring_batch = int(rt.wiring_batch)
        self.wiring_backoff = int(rt.wiring_backoff_iters)
        self.wire_per_task = rt.wire_per_task_us * us
        self.poll = rt.cond_poll_us * us
        self.fin_vis = rt.fin_visibility_us * us
        ctr = rt.aicpu_counter_read_us * us * obs
        self.ctr_task = ctr if lvl >= 2 else 0.0  # dispatch / finish stamps
        self.ctr_phase = ctr if lvl >= 3 else 0.0  # one read per emitted phase record
        self.per_fin = rt.complete_per_fin_us * us
        self.resolve_base = rt.resolve_base_us * us
        self.resolve_extra = rt.resolve_per_extra_consumer_us * us
        self.resolve_record_min = rt.resolve_record_min_us * us
        self.release_per_task = rt.release_per_task_us * us
        self.release_cap = int(rt.deferred_release_cap)
        self.pop = rt.dispatch_pop_us * us
        self.payload = rt.payload_build_per_subtask_us * us
        self.barrier = rt.publish_barrier_us * us
        self.publish = rt.publish_per_subtask_us * us
        self.idle_iter = rt.sched_idle_iter_us * us
        self.start_phase = float(getattr(rt, "sched_start_phase_iters", 0.0))
        self.t0_extra = int(rt.t0_queue_checks) * self.pop  # T0's own queue checks per iteration
        self.local_cap = int(rt.local_ready_cap)
        self.dummy_batch = int(rt.dummy_drain_batch)
        self.prop = rt.dmb_propagation_us * us
        self.cold_prob = rt.cold_first_task_extra_prob
        self.cold_min = rt.cold_first_task_extra_min_us * us
        self.cold_max = rt.cold_first_task_extra_max_us * us
        self.setup_idle = rt.local_setup_after_idle_us * us
        self.setup_b2b = rt.local_setup_back_to_back_us * us if costs else self.setup_idle
        self.setup_cold = rt.local_setup_cold_us * us
        self.idle_threshold = (
            getattr(rt, "local_setup_idle_threshold_us", _IDLE_SETUP_THRESHOLD_FALLBACK_US) * us
        )
        self.writeback = rt.record_writeback_us * us * obs
        self.wq_cap = int(getattr(rt, "wiring_queue", 1024))
        self.pmu = bool(opts.pmu_mode or getattr(rt, "pmu_mode", False))
        self.early_max_pops = int(rt.early_dispatch_max_pops)
        self.early_depth = int(rt.early_dispatch_chain_depth)
        self.orch_to_sched = bool(getattr(rt, "orch_to_sched", False))
        self.early_cap = int(getattr(rt, "early_dispatch_queue", 64))
        self.doorbell = rt.doorbell_propagation_us * us
        self.gated_setup = rt.gated_local_setup_us * us
        self.sync_barrier = rt.sync_start_barrier_us * us
        self.cold_start = opts.cold_start
        self.jitter = opts.jitter
        self.first_kernel_extra = float(chip.core.first_kernel_extra_ns)
        self.first_kernel_per_load = float(chip.core.first_kernel_extra_per_load_ns)
        self.first_kernel_cold_max = float(chip.core.first_kernel_cold_max_ns)
        self.cold_from_cluster = float(chip.core.first_kernel_cold_from_cluster_frac) * int(chip.soc.clusters)
        self.cold_aiv_only = bool(chip.core.first_kernel_cold_aiv_only)
        self.cold_counts_head = bool(chip.core.first_kernel_cold_counts_head)


# --------------------------------------------------------------------------------------------
# state objects

_SHAPES = (CoreShape.AIC, CoreShape.AIV, CoreShape.MIX)
_LANES = ("aic", "aiv0", "aiv1")


def noise_keys(graph: TaskGraph) -> list[str]:
    """Per task, the key its seeded jitter is drawn under: function name and its n-th submission.

    Not the submit index, so two variants of a kernel draw the same noise for the tasks they
    share (common random numbers) and a before/after comparison sees the change, not reshuffled noise.
    """
    seen: dict[str, int] = {}
    keys: list[str] = []
    for t in graph.tasks:
        n = seen.get(t.name, 0)
        seen[t.name] = n + 1
        keys.append(f"{t.name}#{n}")
    return keys


class _TaskState:
    __slots__ = (
        "task", "idx", "shape", "kind", "lanes", "preds", "fanout", "fanin", "refcount",
        "completed", "next_block", "subs_total", "subs_done", "profiles", "early_depth", "dispatched",
        "dfanin", "cand", "staged",
    )

    def __init__(self, task: Task, preds: list[int]) -> None:
        self.task = task
        self.idx = task.idx
        self.shape = task.shape
        self.kind = task.kind
        self.lanes = _task_lanes(task)
        self.preds = preds
        self.fanout: list[_TaskState] = []
        self.fanin = 0
        self.refcount = 0
        self.completed = False
        self.next_block = 0
        self.subs_total = task.block_num * len(self.lanes) if task.kind == TaskKind.KERNEL else 0
        self.subs_done = 0
        self.profiles: dict[int, dict[str, Any]] = {}
        self.early_depth: int | None = 0 if task.allow_early_resolve else None  # flag (auto-chain depth)
        self.dispatched = False  # first dispatch seen (early-dispatch candidate detection runs once)
        self.dfanin = 0  # producers flagged-and-dispatched or complete at wiring (runtime.md §10)
        self.cand = False  # STAGING candidate
        self.staged: list[_Sub] = []  # gated subtasks waiting for the doorbell


def _task_lanes(task: Task) -> list[str]:
    """Active lanes (runtime.md §2): from kernel_ids, else from the shape / the ops' lanes."""
    if task.shape == CoreShape.AIC:
        return ["aic"]
    if task.shape == CoreShape.AIV:
        return ["aiv0"]
    if task.shape != CoreShape.MIX:
        return []
    act = [n for n, k in zip(_LANES, task.kernel_ids, strict=False) if k != -1]
    if len(act) >= 2:
        return act
    seen = {op.lane for b in task.blocks[:1] for op in b.ops}
    act = [n for n in _LANES if n in seen]
    if len(act) >= 2:
        return act
    return ["aic", "aiv0"]


class _Sub:
    __slots__ = (
        "ts", "block", "lane", "core", "reg", "thread", "dispatch", "arrive", "receive", "start",
        "end", "finish", "pipe_busy", "breakdown", "compute_ns", "gated", "rung",
    )

    def __init__(self, ts: _TaskState, block: int, lane: str, core: _Core, reg: int, thread: int) -> None:
        self.ts = ts
        self.block = block
        self.lane = lane
        self.core = core
        self.reg = reg
        self.thread = thread
        self.dispatch = 0.0
        self.arrive = 0.0
        self.receive: float | None = None
        self.start: float | None = None
        self.end: float | None = None
        self.finish: float | None = None
        self.pipe_busy: dict[str, float] = {}
        self.breakdown: dict[str, float] = {}
        self.compute_ns = 0.0
        self.gated = False  # published with not_ready = 1 (early dispatch)
        self.rung: float | None = None  # doorbell arrival at the core


class _Core:
    __slots__ = (
        "id", "kind", "cluster", "thread", "token", "running", "pending", "ack_seen", "busy", "nxt",
        "free_at", "used", "cold_extra", "ran",
    )

    def __init__(self, cid: int, kind: str, cluster: int, thread: int) -> None:
        self.id = cid
        self.kind = kind
        self.cluster = cluster
        self.thread = thread
        self.token = 0
        # AICPU bookkeeping
        self.running: _Sub | None = None
        self.pending: _Sub | None = None
        self.ack_seen = False
        # the physical core
        self.busy: _Sub | None = None
        self.nxt: _Sub | None = None
        self.free_at = 0.0
        self.used = False
        self.cold_extra = 0.0
        self.ran = False  # has run a kernel body in this launch (first_kernel_extra_ns)


class _Cluster:
    __slots__ = ("idx", "aic", "aivs")

    def __init__(self, idx: int, aic: _Core, aivs: list[_Core]) -> None:
        self.idx = idx
        self.aic = aic
        self.aivs = aivs


class _Thread:
    def __init__(self, idx: int, env: simpy.Environment) -> None:
        self.idx = idx
        self.clusters: list[_Cluster] = []
        self.cores: list[_Core] = []  # tracker order: cluster by cluster, aic then aivs
        self.aic: list[_Core] = []
        self.aiv: list[_Core] = []
        self.local: dict[CoreShape, list[_TaskState]] = {s: [] for s in _SHAPES}
        self.loop_iter = 0
        self.wake = env.event()
        self.pop_hit = 0
        self.pop_miss = 0
        self.deferred = 0
        self.wire_skip = 0
        self.end_time = 0.0


class _Fluid:
    """simpy side of HBM sharing: one timeout armed at the next lane end of the fluid model
    (``hwmodels.memory.HbmShare``); calls ``on_end(sub)`` for each lane that finishes."""

    def __init__(self, env: simpy.Environment, bw: float, on_end: Callable) -> None:
        self.env = env
        self.share = HbmShare(bw)
        self.on_end = on_end
        self.version = 0

    def add(self, sub: _Sub, compute_ns: float, demand: float) -> None:
        self.share.add(HbmFlow(sub, compute_ns, demand), self.env.now)
        self._arm()

    def _arm(self) -> None:
        self.version += 1
        dt = self.share.next_end()
        if dt is None:
            return
        ver = self.version
        ev = self.env.timeout(max(dt, 0.0))
        ev.callbacks.append(lambda _e: self._fire(ver))

    def _fire(self, ver: int) -> None:
        if ver != self.version:
            return
        done = self.share.finish(self.env.now)
        self._arm()
        for j in done:
            self.on_end(j.owner)


def _ceil_nonneg(x: float) -> int:
    if x <= _EPS:
        return 0
    return int(math.ceil(x - 1e-9))


# --------------------------------------------------------------------------------------------
# the simulation


class _Sim:
    def __init__(self, graph: TaskGraph, chip: Any, opts: RunOptions, cost_model: Any) -> None:
        self.graph = graph
        self.chip = chip
        self.opts = opts
        self.p = p = _Params(chip, opts)
        self.env = env = simpy.Environment()
        self.cost = cost_model
        self.l2 = self._make_l2(cost_model, graph, opts.l2_init)
        self.fluid = _Fluid(env, float(chip.soc.hbm_bw_gbps), self._lane_end)

        # cores and threads
        n_cl = int(chip.soc.clusters)
        n_aiv = int(getattr(chip.soc, "aiv_per_cluster", 2))
        nth = max(1, p.n_threads)
        self.threads = [_Thread(i, env) for i in range(nth)]
        self.cores: list[_Core] = []
        aics = [_Core(b, "aic", b, b % nth) for b in range(n_cl)]
        aivs = [_Core(n_cl + n_aiv * b + i, "aiv", b, b % nth) for b in range(n_cl) for i in range(n_aiv)]
        self.cores = aics + aivs
        self.clusters = [_Cluster(b, aics[b], aivs[n_aiv * b:n_aiv * (b + 1)]) for b in range(n_cl)]
        self._deal(nth)
        for c in self.cores:
            rng = random.Random(f"{opts.seed}:cold:{c.id}")
            if p.cold_start and rng.random() < p.cold_prob:
                c.cold_extra = rng.uniform(p.cold_min, p.cold_max)

        preds = graph.preds()
        self.tasks = [_TaskState(t, preds[t.idx]) for t in graph.tasks]
        self.noise_key = noise_keys(graph)
        self.n_total = len(self.tasks)
        self.n_completed = 0
        self.shared: dict[CoreShape, deque[_TaskState]] = {s: deque() for s in _SHAPES}
        self.wq: deque[_TaskState] = deque()
        self.wq_since = 0.0
        self.wq_space = env.event()
        self.dummyq: deque[_TaskState] = deque()
        self.early_q: deque[_TaskState] = deque()
        self.orch_done = False
        self.orch_end = 0.0
        self.subs: list[_Sub] = []
        self.phases: list[PhaseRecord] = []
        self.submits: list[SubmitRecord] = []
        self.n_iter_sim = 0
        self._validate()

    # -- setup helpers ------------------------------------------------------------------------
    @staticmethod
    def _make_l2(cost_model: Any, graph: TaskGraph, init: str) -> Any:
        if init not in _L2_INITS:
            raise UserError(f"--l2: unknown L2 initial state {init!r} (expected one of {', '.join(_L2_INITS)})")
        if hasattr(cost_model, "make_l2"):
            return cost_model.make_l2(graph, init)
        return None

    def _validate(self) -> None:
        n_aiv = sum(len(t.aiv) for t in self.threads)
        for ts in self.tasks:
            t = ts.task
            if t.kind != TaskKind.KERNEL:
                continue
            if t.block_num < 1:
                raise UserError(f"task {t.idx} ({t.name}): block_num {t.block_num} (expected >= 1)")
            if ts.shape == CoreShape.MIX:
                need = sum(1 for ln in ts.lanes if ln != "aic")
                per = len(self.threads[0].clusters[0].aivs) if self.threads[0].clusters else 0
                if need > per:
                    raise UserError(f"task {t.idx} ({t.name}): MIX needs {need} AIV lanes per cluster, chip has {per}")
            if ts.shape == CoreShape.DUMMY:
                raise UserError(f"task {t.idx} ({t.name}): kernel task with DUMMY shape")
            if t.sync_start and t.block_num > 1:
                n_cl = sum(len(x.clusters) for x in self.threads)
                limit = n_aiv if ts.shape == CoreShape.AIV else n_cl
                if t.block_num > limit:
                    raise UserError(f"task {t.idx} ({t.name}): sync_start with block_num {t.block_num} > "
                                    f"{limit} ({'AIV cores' if ts.shape == CoreShape.AIV else 'clusters'})")
        if n_aiv <= 0:
            raise UserError("chip has no AIV cores")

    # -- small helpers ------------------------------------------------------------------------
    def _at(self, t: float) -> Generator:
        """Advance simulated time to the thread-local clock ``t`` (no-op if already there)."""
        dt = t - self.env.now
        if dt > 0:
            yield self.env.timeout(dt)

    def _wake(self, th: _Thread) -> None:
        if not th.wake.triggered:
            th.wake.succeed()

    def _broadcast(self) -> None:
        for th in self.threads:
            self._wake(th)

    def _all_done(self) -> bool:
        return self.orch_done and self.n_completed == self.n_total

    def _depths(self, th: _Thread) -> tuple[list[int], list[int]]:
        return [len(th.local[s]) for s in _SHAPES], [len(self.shared[s]) for s in _SHAPES]

    def _phase(self, th: _Thread, kind: str, start: float, end: float, n: int, **kw: Any) -> None:
        self.phases.append(
            PhaseRecord(thread=th.idx, kind=kind, start=start, end=end, loop_iter=th.loop_iter,
                        tasks_processed=n, **kw)
        )

    # -- orchestrator ---------------------------------------------------------------------------
    def _orchestrator(self) -> Generator:
        p = self.p
        t = 0.0
        for i, ts in enumerate(self.tasks):
            if i:
                t += p.orch_between
            start = t
            t += p.orch_alloc if ts.kind == TaskKind.ALLOC else p.orch_submit
            t += p.orch_record
            yield from self._at(t)
            if ts.kind == TaskKind.ALLOC:
                ts.completed = True
                self.n_completed += 1
            else:
                while len(self.wq) >= p.wq_cap:  # back-pressure: wait for T0 to drain
                    self.wq_space = self.env.event()
                    yield self.wq_space
                    t = max(t, self.env.now)
                if not self.wq:
                    self.wq_since = self.env.now
                self.wq.append(ts)
                self._wake(self.threads[0])
            self.submits.append(SubmitRecord(submit_idx=i, task=ts.idx, task_id=ts.task.task_id, start=start, end=t))
        self.orch_done = True
        self.orch_end = t
        if self.p.orch_to_sched:
            self._redeal()
        self._broadcast()

    def _deal(self, n: int) -> None:
        """Give cluster ``b`` to thread ``b mod n`` (runtime.md §1.2)."""
        for th in self.threads:
            th.clusters, th.cores, th.aic, th.aiv = [], [], [], []
        for cl in self.clusters:
            th = self.threads[cl.idx % n]
            th.clusters.append(cl)
            th.cores += [cl.aic, *cl.aivs]
            th.aic.append(cl.aic)
            th.aiv += cl.aivs
            for c in (cl.aic, *cl.aivs):
                c.thread = th.idx

    def _redeal(self) -> None:
        """``orch_to_sched``: the orchestrator thread becomes one more scheduler and all clusters are
        dealt again across every thread (runtime.md §1.1)."""
        th = _Thread(len(self.threads), self.env)
        self.threads.append(th)
        self._deal(len(self.threads))
        self.env.process(self._scheduler(th))

    # -- AICore side ----------------------------------------------------------------------------
    def _deliver(self, sub: _Sub, arrive: float) -> None:
        sub.arrive = arrive
        core = sub.core
        if core.busy is None:
            self._begin(sub)
        else:
            core.nxt = sub

    def _begin(self, sub: _Sub) -> None:
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
            # Cold first task (runtime.md §6.4): the measured Head OH excess over steady state is
            # ``cold_extra``; ``local_setup_cold`` of it is dcci + ACK, the rest NoC propagation.
            core.used = True
            setup = min(p.setup_cold, core.cold_extra)
            receive = max(sub.arrive + core.cold_extra - setup, core.free_at)
        elif not core.used:
            core.used = True  # the other half of the cores start like a warm core after idle
            receive = max(sub.arrive, core.free_at)
            setup = p.setup_idle
        else:
            receive = max(sub.arrive, core.free_at)
            setup = p.setup_idle if sub.arrive - core.free_at >= p.idle_threshold else p.setup_b2b
        sub.receive = receive
        self._start_at(sub, receive + setup)

    def _start_at(self, sub: _Sub, start: float) -> None:
        sub.start = start
        ev = self.env.timeout(max(0.0, start - self.env.now))
        ev.callbacks.append(lambda _e: self._lane_start(sub))
        self._wake(self.threads[sub.core.thread])

    def _ring(self, ts: _TaskState, t: float) -> None:
        """Release a staged task: ring every staged core's doorbell (runtime.md §10 step 3)."""
        for sub in ts.staged:
            sub.rung = t + self.p.doorbell
            core = sub.core
            if core.busy is sub and sub.start is None:  # already spinning on the doorbell
                sub.receive = max(sub.receive, sub.rung)
                self._start_at(sub, sub.receive + self.p.gated_setup)
        ts.staged = []

    def _lane_start(self, sub: _Sub) -> None:
        ts = sub.ts
        profs = ts.profiles.get(sub.block)
        if profs is None:
            blocks = ts.task.blocks
            blk = blocks[sub.block] if sub.block < len(blocks) else (
                blocks[sub.block % len(blocks)] if blocks else Block(idx=sub.block))
            profs = self.cost.profile(ts.task, blk, self.l2)
            ts.profiles[sub.block] = profs
        prof = profs.get(sub.lane)
        if prof is None and sub.lane == "aiv1":
            prof = profs.get("aiv0")
        compute = float(prof.compute_ns) if prof is not None else 0.0
        hbm = float(prof.hbm_bytes) if prof is not None else 0.0
        factor = 1.0
        if self.p.jitter > 0:
            rng = random.Random(f"{self.opts.seed}:j:{self.noise_key[ts.idx]}:{sub.block}:{sub.lane}")
            factor = max(0.1, 1.0 + self.p.jitter * rng.gauss(0.0, 1.0))
        compute *= factor
        if prof is not None:
            sub.pipe_busy = {k: float(v) * factor for k, v in prof.pipe_busy_ns.items()}
            sub.breakdown = {k: float(v) * factor for k, v in prof.breakdown.items()}
        core = sub.core
        if not core.ran:
            # first kernel body on this core in the launch: cold instruction and scalar caches
            core.ran = True
            p = self.p
            cold = p.first_kernel_extra
            if prof is not None:
                cold += p.first_kernel_per_load * prof.gm_loads
            if p.first_kernel_cold_max > 0:
                cold = min(cold, p.first_kernel_cold_max)
            if p.cold_counts_head:
                cold = max(0.0, cold - core.cold_extra)
            if (compute > 0 and cold > 0 and core.cluster >= p.cold_from_cluster
                    and not (p.cold_aiv_only and core.kind == "aic")):
                compute += cold
                sub.breakdown["cold_core"] = cold
        sub.compute_ns = compute
        if compute <= 0:
            self._lane_end(sub)
            return
        self.fluid.add(sub, compute, hbm / compute)

    def _lane_end(self, sub: _Sub) -> None:
        now = self.env.now
        sub.end = now
        sub.breakdown["hbm_contention"] = max(0.0, (now - sub.start) - sub.compute_ns)
        core = sub.core
        core.busy = None
        core.free_at = now + self.p.writeback
        nxt = core.nxt
        if nxt is not None:
            core.nxt = None
            self._begin(nxt)
        self._wake(self.threads[core.thread])

    # -- AICPU view of a core -------------------------------------------------------------------
    def _observe(self, core: _Core, t: float) -> tuple[_Sub, ...]:
        """Interpret the COND value read at ``t`` (runtime.md §7); returns subtasks completed."""
        vis = self.p.fin_vis
        r, pd = core.running, core.pending
        assert r is not None
        if pd is not None:
            if pd.end is not None and pd.end + vis <= t:
                core.running = core.pending = None
                return (r, pd)
            if pd.start is not None and pd.start + vis <= t:
                core.running, core.pending, core.ack_seen = pd, None, True
                return (r,)
            if pd.gated and r.end is not None and r.end + vis <= t:
                core.running, core.pending, core.ack_seen = pd, None, False  # promote the gated task
                return (r,)
            return ()
        if r.end is not None and r.end + vis <= t:
            core.running = None
            return (r,)
        if not core.ack_seen and r.start is not None and r.start + vis <= t:
            core.ack_seen = True
        return ()

    def _next_change(self, core: _Core) -> float | None:
        """Earliest known time a new COND value of this core becomes visible (None: not known yet)."""
        vis = self.p.fin_vis
        r, pd = core.running, core.pending
        if pd is not None:
            if pd.start is not None:
                return pd.start + vis
            if pd.gated and r.end is not None:
                return r.end + vis
            return None
        cands = []
        if r.end is not None:
            cands.append(r.end + vis)
        if not core.ack_seen and r.start is not None:
            cands.append(r.start + vis)
        return min(cands) if cands else None

    # -- completion ------------------------------------------------------------------------------
    @staticmethod
    def _polled(th: _Thread) -> list[_Core]:
        """Cores whose COND this thread reads: running slot set, gated early-dispatch cores excluded."""
        return [c for c in th.cores if c.running is not None and not (c.running.gated and c.running.rung is None)]

    def _sweep(self, th: _Thread, t: float) -> Generator[Any, Any, tuple[float, int]]:
        p = self.p
        polled = self._polled(th)
        if not polled:
            return t, 0
        rs = t
        la, sa = self._depths(th)
        n = 0
        for c in polled:
            t += p.poll
            r, pd = c.running, c.pending
            if r is None:
                continue
            if t > self.env.now and (r.end is None or (pd is not None and pd.end is None)):
                yield from self._at(t)
            done = self._observe(c, t)
            if not done:
                continue
            fin = t
            for s in done:
                s.finish = fin
                t += p.ctr_task + p.per_fin
                n += 1
                ts = s.ts
                ts.subs_done += 1
                if ts.subs_done == ts.subs_total:
                    t = yield from self._complete_task(th, ts, t, to_shared=False)
        if n:
            t += p.ctr_phase
            le, _ = self._depths(th)
            self._phase(th, "complete", rs, t, n, local_at_start=la, shared_at_start=sa,
                        local_at_end=le, shared_at_end=list(sa))
        return t, n

    def _complete_task(self, th: _Thread, ts: _TaskState, t: float, to_shared: bool) -> Generator:
        """Mark complete and resolve consumers (runtime.md §8)."""
        p = self.p
        ts.completed = True
        self.n_completed += 1
        th.deferred += 1
        cons = ts.fanout
        if cons:
            rs = t
            t += p.resolve_base + max(0, len(cons) - 2) * p.resolve_extra
            yield from self._at(t)
            for c in cons:
                c.refcount += 1
                if c.refcount == c.fanin:
                    self._ready(th, c, to_shared, t)
            if t - rs >= p.resolve_record_min - _EPS:
                self._phase(th, "resolve", rs, t, len(cons))
        if self.n_completed == self.n_total:
            self._broadcast()
        return t

    def _ready(self, th: _Thread | None, ts: _TaskState, to_shared: bool, t: float) -> None:
        ts.cand = False
        if ts.staged:
            self._ring(ts, t)
        if ts.kind == TaskKind.KERNEL and ts.next_block >= ts.task.block_num:
            return  # every block was staged: released by doorbell, never queued
        if ts.kind != TaskKind.KERNEL:
            self.dummyq.append(ts)
            self._wake(self.threads[0])
            return
        if th is not None and not to_shared and len(th.local[ts.shape]) < self.p.local_cap:
            th.local[ts.shape].append(ts)
            return
        self.shared[ts.shape].append(ts)
        self._broadcast()

    # -- T0: wiring and dummy drain ------------------------------------------------------------
    def _wire(self, th: _Thread, t: float) -> Generator[Any, Any, tuple[float, int]]:
        p = self.p
        if not self.wq:
            return t, 0
        if len(self.wq) < p.wiring_batch and not self.orch_done and th.wire_skip < p.wiring_backoff:
            th.wire_skip += 1
            return t, 0
        th.wire_skip = 0
        t = max(t, self.env.now)
        rs = t
        n = 0
        while self.wq and n < p.wiring_batch:
            t += p.wire_per_task
            yield from self._at(t)
            ts = self.wq.popleft()
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
        if self.wq:
            self.wq_since = self.env.now
        if not self.wq_space.triggered:
            self.wq_space.succeed()
        t += p.ctr_phase
        self._phase(th, "wire", rs, t, n)
        return t, n

    def _dummy(self, th: _Thread, t: float) -> Generator[Any, Any, tuple[float, int]]:
        if not self.dummyq:
            return t, 0
        t = max(t, self.env.now)
        rs = t
        n = 0
        while self.dummyq and n < self.p.dummy_batch:
            ts = self.dummyq.popleft()
            n += 1
            self._phase(th, "dummy_task", t, t, ts.task.task_id & 0xFFFFFFFF)
            t = yield from self._complete_task(th, ts, t, to_shared=True)
        t += self.p.ctr_phase
        self._phase(th, "dummy", rs, t, n)
        return t, n

    # -- dispatch ----------------------------------------------------------------------------
    @staticmethod
    def _ok(c: _Core, stage: str) -> bool:
        if stage == "idle":
            return c.running is None
        return c.running is not None and c.pending is None and c.ack_seen

    def _mix_fit(self, cl: _Cluster, lanes: list[str], stage: str) -> list[_Core] | None:
        """Cores for the task's lanes in this cluster, all in ``stage`` state (None if it does not fit)."""
        out: list[_Core] = []
        aivs = [a for a in cl.aivs if self._ok(a, stage)]
        k = 0
        for ln in lanes:
            if ln == "aic":
                if not self._ok(cl.aic, stage):
                    return None
                out.append(cl.aic)
            else:
                if k >= len(aivs):
                    return None
                out.append(aivs[k])
                k += 1
        return out

    def _peer_idle(self, th: _Thread, shape: CoreShape) -> bool:
        for o in self.threads:
            if o is th:
                continue
            if shape == CoreShape.AIC and any(c.running is None for c in o.aic):
                return True
            if shape == CoreShape.AIV and any(c.running is None for c in o.aiv):
                return True
            if shape == CoreShape.MIX and any(
                cl.aic.running is None and all(a.running is None for a in cl.aivs) for cl in o.clusters
            ):
                return True
        return False

    def _n_eligible(self, th: _Thread, shape: CoreShape, stage: str) -> int:
        if shape == CoreShape.AIC:
            return sum(1 for c in th.aic if self._ok(c, stage))
        if shape == CoreShape.AIV:
            return sum(1 for c in th.aiv if self._ok(c, stage))
        return sum(1 for cl in th.clusters if self._ok(cl.aic, stage) or any(self._ok(a, stage) for a in cl.aivs))

    def _head(self, th: _Thread, shape: CoreShape) -> _TaskState | None:
        if th.local[shape]:
            return th.local[shape][-1]
        q = self.shared[shape]
        return q[0] if q else None

    def _can_place(self, th: _Thread, shape: CoreShape, stage: str, ts: _TaskState) -> bool:
        if shape == CoreShape.MIX:
            return any(self._mix_fit(cl, ts.lanes, stage) is not None for cl in th.clusters)
        return self._n_eligible(th, shape, stage) > 0

    def _has_dispatch_work(self, th: _Thread) -> bool:
        mix_work = bool(th.local[CoreShape.MIX] or self.shared[CoreShape.MIX])
        for shape in _SHAPES:
            head = self._head(th, shape)
            if head is None:
                continue
            if shape != CoreShape.MIX and th.local[CoreShape.MIX]:
                continue  # MIX strict priority in the IDLE stage
            if self._can_place(th, shape, "idle", head):
                return True
            if self.p.pmu or head.task.sync_start:
                continue
            if shape != CoreShape.MIX and mix_work:
                continue
            if not self._peer_idle(th, shape) and self._can_place(th, shape, "pending", head):
                return True
        return False

    def _pop(self, th: _Thread, shape: CoreShape, tried: set[int]) -> _TaskState | None:
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

    def _attempt(self, th: _Thread, shape: CoreShape, stage: str, t: float) -> Generator:
        """One dispatch attempt for one shape and stage: pop, claim, build, publish (runtime.md §6.2)."""
        p = self.p
        budget = self._n_eligible(th, shape, stage)
        if budget == 0:
            return t, 0
        subs: list[_Sub] = []
        n_sync = 0
        tried: set[int] = set()
        if shape == CoreShape.AIC:
            free = [c for c in th.aic if self._ok(c, stage)]
        elif shape == CoreShape.AIV:
            free = [c for c in th.aiv if self._ok(c, stage)]
        else:
            free = []
        placed = 0
        while placed < budget:
            yield from self._at(t)
            ts = self._pop(th, shape, tried)
            if ts is None:
                th.pop_miss += 1
                break
            th.pop_hit += 1
            t += p.pop
            remaining = ts.task.block_num - ts.next_block
            if ts.task.sync_start and ts.task.block_num > 1:
                got = self._sync_start(th, ts, t) if stage == "idle" else None
                if got is None:
                    self.shared[shape].append(ts)
                    tried.add(ts.idx)
                    self._broadcast()
                    continue
                t, ssubs = got
                placed += len(ssubs)
                n_sync += len(ssubs)
                t = self._publish(ssubs, t)  # a batch with a sync_start task publishes per task
                free = [c for c in free if self._ok(c, stage)]
                continue
            if shape == CoreShape.MIX:
                groups = []
                for cl in th.clusters:
                    if len(groups) >= remaining:
                        break
                    g = self._mix_fit(cl, ts.lanes, stage)
                    if g is not None:
                        groups.append(g)
            else:
                free = [c for c in free if self._ok(c, stage)]  # a peer's sync_start drain may take cores
                groups = [[c] for c in free[:remaining]]
                free = free[len(groups):]
            if not groups:
                self.shared[shape].append(ts)
                tried.add(ts.idx)
                self._broadcast()
                continue
            if ts.next_block + len(groups) < ts.task.block_num:
                self.shared[shape].append(ts)  # re-push now so peers claim the rest in parallel
                tried.add(ts.idx)
                self._broadcast()
            for g in groups:
                placed += 1
                t = self._assign_block(ts, g, stage, th, t, subs, gated=False)
        if not subs:
            return t, n_sync
        t = self._publish(subs, t)
        return t, len(subs) + n_sync

    def _assign_block(self, ts: _TaskState, cores: list[_Core], stage: str, th: _Thread, t: float,
                      subs: list[_Sub], *, gated: bool) -> float:
        """Claim the task's next block on ``cores`` (one per lane): a subtask per lane with the core's
        next token, into its running (IDLE stage) or pending slot; returns ``t`` plus the payload
        builds (ns). Gated (early-dispatch) subtasks are also remembered for the doorbell."""
        blk = ts.next_block
        ts.next_block += 1
        for lane, core in zip(ts.lanes, cores, strict=True):
            core.token += 1
            sub = _Sub(ts, blk, lane, core, core.token, th.idx)
            sub.gated = gated
            t += self.p.payload
            if stage == "idle":
                core.running = sub
                core.ack_seen = False
            else:
                core.pending = sub
            subs.append(sub)
            self.subs.append(sub)
            if gated:
                ts.staged.append(sub)
        return t

    def _publish(self, subs: list[_Sub], t: float) -> float:
        """Store barrier, one counter read (dispatch_ts) per batch, one register write per subtask."""
        p = self.p
        t += p.barrier + p.ctr_task
        dts = t
        for s in subs:
            t += p.publish
            s.dispatch = dts
            self._deliver(s, t + p.prop)
        for s in subs:
            ts = s.ts
            if not ts.dispatched:
                ts.dispatched = True
                if ts.early_depth is not None:
                    self._early_detect(ts)
        self._broadcast()
        return t

    def _early_detect(self, prod: _TaskState) -> None:
        """Flagged producer dispatched: consumers whose producers are all dispatched become candidates."""
        if self.p.pmu:
            return
        for c in prod.fanout:
            c.dfanin += 1
            if (c.dfanin == len(c.preds) and not c.cand and c.refcount < c.fanin and c.kind == TaskKind.KERNEL
                    and not c.task.sync_start and c.next_block == 0 and len(self.early_q) < self.p.early_cap):
                c.cand = True
                if c.early_depth is None and prod.early_depth is not None and prod.early_depth < self.p.early_depth:
                    c.early_depth = prod.early_depth + 1
                self.early_q.append(c)
                self._broadcast()

    def _stage_groups(self, th: _Thread, ts: _TaskState, limit: int) -> list[tuple[str, list[_Core]]]:
        """Free resources for staging: idle cores first, then free pending slots of busy cores."""
        out: list[tuple[str, list[_Core]]] = []
        for stage in ("idle", "pending"):
            if ts.shape == CoreShape.MIX:
                for cl in th.clusters:
                    if len(out) >= limit:
                        return out
                    g = self._mix_fit(cl, ts.lanes, stage)
                    if g is not None:
                        out.append((stage, g))
            else:
                cores = th.aic if ts.shape == CoreShape.AIC else th.aiv
                for c in cores:
                    if len(out) >= limit:
                        return out
                    if self._ok(c, stage):
                        out.append((stage, [c]))
        return out

    def _can_stage(self, th: _Thread) -> bool:
        if self.p.pmu or any(th.local[s] or self.shared[s] for s in _SHAPES):
            return False
        return any(c.cand and self._stage_groups(th, c, 1) for c in self.early_q)

    def _stage(self, th: _Thread, t: float) -> Generator[Any, Any, tuple[float, int]]:
        """Early-dispatch staging in an otherwise idle iteration (runtime.md §10 step 2)."""
        p = self.p
        if not self._can_stage(th):
            return t, 0
        t = max(t, self.env.now)
        rs = t
        subs: list[_Sub] = []
        blocks = 0
        pops = 0
        while self.early_q and pops < p.early_max_pops:
            yield from self._at(t)
            if not self.early_q:  # a peer took the last candidate meanwhile
                break
            ts = self.early_q.popleft()
            if not ts.cand:
                continue
            pops += 1
            t += p.pop
            groups = self._stage_groups(th, ts, ts.task.block_num - ts.next_block)
            if not groups:
                self.early_q.appendleft(ts)
                break
            for stage, g in groups:
                blocks += 1
                t = self._assign_block(ts, g, stage, th, t, subs, gated=True)
            if ts.next_block < ts.task.block_num:
                self.early_q.append(ts)
        if not subs:
            return t, 0
        t = self._publish(subs, t)
        t += p.ctr_phase
        self._phase(th, "early_dispatch", rs, t, blocks)
        return t, blocks

    def _sync_start(self, th: _Thread, ts: _TaskState, t: float) -> tuple[float, list[_Sub]] | None:
        """Drain mode for a sync_start task (runtime.md §9.3), simplified: if all threads together have
        idle resources for every block, place them all in one pass after the barrier; else None."""
        per: list[tuple[_Thread, list[_Core]]] = []
        for o in [th] + [x for x in self.threads if x is not th]:
            for cl in o.clusters:
                if ts.shape == CoreShape.MIX:
                    g = self._mix_fit(cl, ts.lanes, "idle")
                    if g is not None:
                        per.append((o, g))
                else:
                    cores = [cl.aic] if ts.shape == CoreShape.AIC else cl.aivs
                    per += [(o, [c]) for c in cores if c.running is None]
        need = ts.task.block_num - ts.next_block
        if len(per) < need:
            return None
        t += self.p.sync_barrier
        subs: list[_Sub] = []
        for o, g in per[:need]:
            blk = ts.next_block
            ts.next_block += 1
            for lane, core in zip(ts.lanes, g, strict=True):
                core.token += 1
                sub = _Sub(ts, blk, lane, core, core.token, o.idx)
                t += self.p.payload
                core.running = sub
                core.ack_seen = False
                subs.append(sub)
                self.subs.append(sub)
        return t, subs

    def _dispatch(self, th: _Thread, t: float) -> Generator[Any, Any, tuple[float, int]]:
        p = self.p
        if not any(th.local[s] or self.shared[s] for s in _SHAPES):
            return t, 0
        t = max(t, self.env.now)
        rs = t
        la, sa = self._depths(th)
        total = 0
        # spill: more local work than this thread could ever place, and a peer has idle cores
        for shape, own in ((CoreShape.AIC, len(th.aic)), (CoreShape.AIV, len(th.aiv)),
                           (CoreShape.MIX, len(th.clusters))):
            loc = th.local[shape]
            if len(loc) > own and self._peer_idle(th, shape):
                extra = len(loc) - own
                self.shared[shape].extend(loc[:extra])
                del loc[:extra]
                self._broadcast()
        order = (CoreShape.AIC, CoreShape.AIV) if th.idx % 2 == 0 else (CoreShape.AIV, CoreShape.AIC)
        # IDLE stage
        t, n = yield from self._attempt(th, CoreShape.MIX, "idle", t)
        total += n
        if not th.local[CoreShape.MIX]:
            for shape in order:
                t, n = yield from self._attempt(th, shape, "idle", t)
                total += n
        # flush local buffers
        flushed = False
        for shape in _SHAPES:
            loc = th.local[shape]
            while loc:
                self.shared[shape].append(loc.pop())
                flushed = True
        if flushed:
            self._broadcast()
        # PENDING stage
        if not p.pmu:
            mix_left = bool(self.shared[CoreShape.MIX])
            if mix_left and not self._peer_idle(th, CoreShape.MIX):
                t, n = yield from self._attempt(th, CoreShape.MIX, "pending", t)
                total += n
            mix_left = bool(self.shared[CoreShape.MIX])
            for shape in order:
                if self.shared[shape] and not mix_left and not self._peer_idle(th, shape):
                    t, n = yield from self._attempt(th, shape, "pending", t)
                    total += n
        if total:
            t += p.ctr_phase
            le, se = self._depths(th)
            self._phase(th, "dispatch", rs, t, total, pop_hit=th.pop_hit, pop_miss=th.pop_miss,
                        local_at_start=la, shared_at_start=sa, local_at_end=le, shared_at_end=se)
            th.pop_hit = th.pop_miss = 0
        return t, total

    # -- the scheduler loop ------------------------------------------------------------------------
    def _scheduler(self, th: _Thread) -> Generator:
        p = self.p
        t = self.env.now
        if p.start_phase > 0:  # seeded loop phase: the threads are not launched in lockstep
            per = p.idle_iter + (p.t0_extra if th.idx == 0 else 0.0)
            t += random.Random(f"{self.opts.seed}:phase:{th.idx}").uniform(0.0, p.start_phase * per)
            yield from self._at(t)
        while True:
            th.loop_iter += 1
            self.n_iter_sim += 1
            if self._all_done() and not any(c.running is not None for c in th.cores):
                if th.pop_hit or th.pop_miss:
                    self._phase(th, "dispatch", t, t, 0, pop_hit=th.pop_hit, pop_miss=th.pop_miss)
                th.end_time = t
                return
            t, n1 = yield from self._sweep(th, t)
            nw = nd = 0
            if th.idx == 0:
                t += p.t0_extra
                t, nw = yield from self._wire(th, t)
                t, nd = yield from self._dummy(th, t)
            t, ndis = yield from self._dispatch(th, t)
            nst = 0
            if not ndis and self.early_q:
                t, nst = yield from self._stage(th, t)
            t, n2 = yield from self._sweep(th, t)
            progress = n1 or nw or nd or ndis or nst or n2
            if th.deferred >= p.release_cap or (not progress and th.deferred):
                rs = t
                t += th.deferred * p.release_per_task + p.ctr_phase
                th.deferred = 0
                self._phase(th, "release", rs, t, 0)
            if progress:
                yield from self._at(t)
                continue
            t += p.idle_iter
            yield from self._at(t)
            t = yield from self._quiet(th, t)

    def _quiet(self, th: _Thread, s0: float) -> Generator[Any, Any, float]:
        """Skip iterations that cannot observe anything; return the start of the next real one."""
        p = self.p
        env = self.env
        polled = self._polled(th)
        n = len(polled)
        per = max(2 * n * p.poll + p.idle_iter + (p.t0_extra if th.idx == 0 else 0.0), 1e-3)
        while True:
            now = env.now
            k_now = _ceil_nonneg((now - s0) / per)
            k: int | None = None
            for j, c in enumerate(polled):
                v = self._next_change(c)
                if v is not None:
                    kk = _ceil_nonneg((v - s0 - (n + j + 1) * p.poll) / per)
                    k = kk if k is None else min(k, kk)
            if ((not polled and self._all_done()) or self._has_dispatch_work(th)
                    or (self.early_q and self._can_stage(th)) or self._polled(th) != polled):
                k = k_now if k is None else min(k, k_now)
            kq = 0
            if th.idx == 0:
                if self.dummyq:
                    k = k_now if k is None else min(k, k_now)
                if self.wq:
                    if len(self.wq) >= p.wiring_batch or self.orch_done:
                        kw = k_now
                    else:
                        kq = _ceil_nonneg((self.wq_since - s0) / per)
                        kw = max(k_now, kq + max(0, p.wiring_backoff - th.wire_skip))
                    k = kw if k is None else min(k, kw)
            if k is not None and s0 + k * per <= now + _EPS:
                break
            th.wake = env.event()
            if k is None:
                yield th.wake
            else:
                yield env.any_of([env.timeout(s0 + k * per - now), th.wake])
        if th.idx == 0 and self.wq:
            kq = _ceil_nonneg((self.wq_since - s0) / per)
            th.wire_skip += max(0, k - kq)
        th.loop_iter += k
        return s0 + k * per

    # -- run -------------------------------------------------------------------------------------
    def run(self) -> RunResult:
        env = self.env
        env.process(self._orchestrator())
        for th in self.threads:
            env.process(self._scheduler(th))
        env.run()
        if self.n_completed != self.n_total:
            stuck = [ts.task.name for ts in self.tasks if not ts.completed][:5]
            raise RuntimeError(
                f"simulation stalled: {self.n_total - self.n_completed} of {self.n_total} tasks never "
                f"completed (first: {stuck})"
            )
        return self._result()

    def _result(self) -> RunResult:
        g = self.graph
        name_to_id = {v: k for k, v in g.func_names.items()}
        recs = []
        lane_idx = {"aic": 0, "aiv0": 1, "aiv1": 2}
        for s in sorted(self.subs, key=lambda s: (s.ts.idx, s.block, lane_idx[s.lane])):
            t = s.ts.task
            func = t.name
            if s.ts.shape == CoreShape.MIX:
                suffix = "_aic" if s.lane == "aic" else "_aiv"
                if not func.endswith(suffix):
                    func = func + suffix
            fid = t.kernel_ids[lane_idx[s.lane]] if len(t.kernel_ids) == 3 else -1
            if fid == -1 and s.lane == "aiv0" and len(t.kernel_ids) == 3:
                fid = t.kernel_ids[2]
            if fid == -1:
                fid = name_to_id.get(t.name, -1)
            recs.append(SubtaskRecord(
                task=t.idx, task_id=t.task_id, func=func, func_id=fid, block=s.block, lane=s.lane,
                core_id=s.core.id, reg_task_id=s.reg, thread=s.thread, dispatch=s.dispatch,
                receive=s.receive, start=s.start, end=s.end, finish=s.finish,
                pipe_busy=s.pipe_busy, breakdown=s.breakdown,
            ))
        phases = sorted(self.phases, key=lambda r: r.thread)  # stable: per-thread emission order
        last_finish = max((r.finish for r in recs), default=0.0)
        first_dispatch = min((r.dispatch for r in recs), default=0.0)
        sched_end = max(th.end_time for th in self.threads)
        notes = {
            "orch_end_ns": self.orch_end,
            "sched_end_ns": sched_end,
            "first_dispatch_ns": first_dispatch,
            "last_finish_ns": last_finish,
            "total_test_time_ns": last_finish - first_dispatch,
            "simulated_iterations": float(self.n_iter_sim),
        }
        for th in self.threads:
            notes[f"loop_iters_t{th.idx}"] = float(th.loop_iter)
        chip = self.chip
        chip_params = chip.model_dump(mode="json") if hasattr(chip, "model_dump") else {}
        return RunResult(
            graph=g, chip=str(getattr(chip, "name", "custom")), chip_params=chip_params, seed=self.opts.seed,
            num_cores=len(self.cores), core_types=[c.kind for c in self.cores],
            core_to_thread=[c.thread for c in self.cores], n_sched_threads=len(self.threads),
            subtasks=recs, phases=phases, submits=self.submits, notes=notes,
        )


_COST_MODELS: dict[str, Any] = {}  # chip JSON -> CoreCostModel (its op/schedule memos hold across runs)


def _default_cost_model(chip: Any) -> Any:
    from hwmodels import CoreCostModel, L2State

    key = chip.model_dump_json()
    model = _COST_MODELS.get(key)
    if model is None:
        if len(_COST_MODELS) >= 8:  # a sweep or a fit visits many chips; keep the recent few
            _COST_MODELS.pop(next(iter(_COST_MODELS)))
        model = _COST_MODELS[key] = CoreCostModel(chip)

    class _WithL2:
        def __init__(self) -> None:
            self.chip = chip

        def make_l2(self, graph: TaskGraph, init: str) -> Any:
            return L2State(chip, graph, init=init)

        def profile(self, task: Task, block: Block, l2: Any) -> dict[str, Any]:
            return model.profile(task, block, l2)

    return _WithL2()


def simulate(graph: TaskGraph, chip: ChipConfig, options: RunOptions | None = None, *,
             cost_model: Any = None) -> RunResult:
    """Run ``graph`` on ``chip``; returns the run records (times in ns since simulation start).

    ``cost_model`` (optional) replaces ``hwmodels.CoreCostModel``: an object with
    ``profile(task, block, l2) -> {lane: profile}`` and optionally ``make_l2(graph, init)``.
    """
    opts = options or RunOptions()
    model = cost_model if cost_model is not None else _default_cost_model(chip)
    return _Sim(graph, chip, opts, model).run()
