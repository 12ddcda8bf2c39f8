"""One run: :func:`simulate` builds the engine's components for a graph and a chip, wires them
together on one simpy Environment (time in ns from 0, the orchestrator's first submit call) and
turns what they recorded into the run records.
"""

from __future__ import annotations

from hwmodels.chip import ChipConfig
from sim.engine.aicore import AICores
from sim.engine.barriers import use_graph as plans_for
from sim.engine.cores import build_cores, draw_cold_starts
from sim.engine.cost_model import CostModel, default_cost_model, make_l2
from sim.engine.dependencies import Dependencies
from sim.engine.dispatch import Dispatcher
from sim.engine.early_dispatch import EarlyDispatch
from sim.engine.events import Env, start
from sim.engine.options import RunOptions
from sim.engine.orchestrator import Orchestrator
from sim.engine.params import RuntimeParams
from sim.engine.params import use_graph as arg_counts_for
from sim.engine.queues import ReadyQueues, WiringQueue
from sim.engine.records import build_result
from sim.engine.scheduler import Scheduler
from sim.engine.tasks import TaskState, noise_keys
from sim.engine.tasks import use_graph as states_for
from sim.engine.threads import SchedulerThread, deal
from sim.ir import CoreShape, TaskGraph, TaskKind
from sim.ir.records import RunResult
from sim.util.errors import UserError
from sim.util.gcpause import gc_paused

__all__ = ["Engine", "simulate"]


class Engine:
    """The components of one run and how they are wired.

    The orchestrator feeds the wiring queue; T0 wires (``Dependencies``); the scheduler threads'
    loop (``Scheduler``) polls completions and asks the ``Dispatcher`` to place ready tasks; the
    ``AICores`` execute what is published, through ``cost_model`` and the shared HBM.
    """

    def __init__(self, graph: TaskGraph, chip: ChipConfig, opts: RunOptions, cost_model: CostModel) -> None:
        self.graph = graph
        self.chip = chip
        self.opts = opts
        self.p = p = RuntimeParams(chip, opts)
        plans_for(graph)  # the per-task memos hold this graph's tasks only
        arg_counts_for(graph)
        states_for(graph)
        self.env = env = Env()
        l2 = make_l2(cost_model, graph, opts.l2_init)
        nth = max(1, p.n_threads)
        self.cores, clusters = build_cores(int(chip.soc.clusters), int(getattr(chip.soc, "aiv_per_cluster", 2)), nth)
        self.threads = threads = [SchedulerThread(i, env) for i in range(nth)]
        deal(threads, clusters)
        draw_cold_starts(self.cores, p, opts.seed)
        wiring = WiringQueue(env)
        ready = ReadyQueues()
        keys = noise_keys(graph) if p.jitter > 0 else []  # read only to draw jitter
        self.aicores = aicores = AICores(env, p, opts.seed, cost_model, l2, keys, float(chip.soc.hbm_bw_gbps), threads,
                                         float(chip.l2.bw_gbps))
        early = EarlyDispatch(p, threads, aicores)
        self.dispatcher = Dispatcher(env, p, ready, threads, aicores, early)
        self.deps = Dependencies(env, p, graph, wiring, ready, early, threads)
        self.scheduler = Scheduler(env, p, opts.seed, threads, clusters, wiring, ready, self.deps, self.dispatcher,
                                   early)
        self.orchestrator = Orchestrator(env, p, self.deps, wiring, threads, self.scheduler.add_thread)
        self.orchestrator.fill(graph.tensors)
        # the checks depend on the tasks and the cores' layout only: once per graph and layout
        layout = (graph.tasks, len(graph.tasks), [(len(t.aiv), [len(c.aivs) for c in t.clusters]) for t in threads])
        if _VALID[0] is not graph or _VALID[1] != layout:
            validate(self.deps.tasks, threads)
            _VALID[:] = [graph, layout]

    def run(self) -> RunResult:
        """Run to the end: the orchestrator's process first, then each scheduler thread's."""
        env = self.env
        start(env, self.orchestrator.run())
        self.scheduler.start()
        env.run()
        self.aicores.release()
        deps = self.deps
        if deps.n_completed != deps.n_total:
            stuck = [ts.task.name for ts in deps.tasks if not ts.completed][:5]
            raise RuntimeError(
                f"simulation stalled: {deps.n_total - deps.n_completed} of {deps.n_total} tasks never "
                f"completed (first: {stuck})"
            )
        return build_result(self.graph, self.chip, self.opts.seed, self.cores, self.threads, self.dispatcher.subs,
                            self.orchestrator.submits, self.orchestrator.end, self.scheduler.n_iter_sim)


_VALID: list[object] = [None, None]  # the graph and core layout validate() last passed (a recorded graph's
# tasks are not changed afterwards)


def validate(tasks: list[TaskState], threads: list[SchedulerThread]) -> None:
    """Reject what the runtime rejects at submit: raises UserError for a kernel task without blocks,
    a MIX task needing more AIV lanes than a cluster has, a kernel task of DUMMY shape, a sync_start
    task larger than the chip, a task with a barrier across more blocks than the chip holds at once
    (named by the barrier's kernel file:line: it could never be released), or a chip without AIV cores."""
    n_aiv = sum(len(t.aiv) for t in threads)
    for ts in tasks:
        t = ts.task
        if t.kind != TaskKind.KERNEL:
            continue
        if t.block_num < 1:
            raise UserError(f"task {t.idx} ({t.name}): block_num {t.block_num} (expected >= 1)")
        if ts.shape == CoreShape.MIX:
            need = sum(1 for ln in ts.lanes if ln != "aic")
            per = len(threads[0].clusters[0].aivs) if threads[0].clusters else 0
            if need > per:
                raise UserError(f"task {t.idx} ({t.name}): MIX needs {need} AIV lanes per cluster, chip has {per}")
        if ts.shape == CoreShape.DUMMY:
            raise UserError(f"task {t.idx} ({t.name}): kernel task with DUMMY shape")
        if ts.sync and t.block_num > 1:
            n_cl = sum(len(x.clusters) for x in threads)
            limit = n_aiv if ts.shape == CoreShape.AIV else n_cl
            if t.block_num > limit and ts.barrier is not None:
                what = "AIV cores" if ts.shape == CoreShape.AIV else "clusters"
                raise UserError(f"{ts.barrier.site or 'pl.system.syncall'}: task {t.idx} ({t.name}): a barrier "
                                f"across {t.block_num} blocks needs them all resident at once, the chip has {limit} "
                                f"{what} (expected block_num <= {limit})")
            if t.block_num > limit:
                raise UserError(f"task {t.idx} ({t.name}): sync_start with block_num {t.block_num} > "
                                f"{limit} ({'AIV cores' if ts.shape == CoreShape.AIV else 'clusters'})")
    if n_aiv <= 0:
        raise UserError("chip has no AIV cores")


def simulate(graph: TaskGraph, chip: ChipConfig, options: RunOptions | None = None, *,
             cost_model: CostModel | None = None) -> RunResult:
    """Run ``graph`` on ``chip``; returns the run records (times in ns since simulation start).

    ``cost_model`` (optional) replaces the chip's ``hwmodels.incore.CoreCostModel``: an object with
    ``profile(task, block, l2) -> {lane: profile}`` and optionally ``make_l2(graph, init)``
    (:mod:`sim.engine.cost_model`).
    """
    opts = options or RunOptions()
    model = cost_model if cost_model is not None else default_cost_model(chip)
    with gc_paused():
        return Engine(graph, chip, opts, model).run()

