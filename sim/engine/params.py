"""Runtime parameters of one run in ns: the chip's AICPU/AICore costs with the run's switches applied."""

from __future__ import annotations

from hwmodels.chip import ChipConfig
from sim.engine.options import RunOptions
from sim.ir import ArgDir, Task, TaskKind
from sim.util.taskmemo import TaskMemo

__all__ = ["RuntimeParams", "submit_cost_ns", "use_graph"]

_LOOKUP_DIRS = frozenset({ArgDir.INPUT, ArgDir.INOUT})
_INSERT_DIRS = frozenset({ArgDir.OUTPUT, ArgDir.OUTPUT_EXISTING, ArgDir.INOUT})

# Idle gap (µs) after which the AICore's local setup is the "after idle" value (docs/model.md §4.5:
# 0.02 µs after >= 1 µs idle, 0.29 µs back to back). Taken from the chip when it defines it.
_IDLE_SETUP_THRESHOLD_FALLBACK_US = 1.0


class RuntimeParams:
    """The chip's runtime parameters for one run, in ns (chip presets give µs; converted once here),
    with the run's switches applied: the swimlane level (which AICPU profiling costs are paid), the
    observer-cost switch ``swimlane_costs``, PMU mode, cold start and the launch (first or repeated).
    Counts and flags keep their type.
    """

    def __init__(self, chip: ChipConfig, opts: RunOptions) -> None:
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
        self.orch_per_arg = rt.orch_param_per_arg_us * us
        self.orch_lookup = rt.orch_lookup_us * us
        self.orch_insert = rt.orch_insert_us * us
        self.orch_alloc_per_tensor = rt.orch_alloc_per_tensor_us * us
        self.orch_fill_per_byte = 1.0 / float(rt.orch_fill_GBps)  # ns per byte (1 GB/s = 1 byte/ns)
        self.orch_record = rt.orch_swimlane_record_us * us * obs if lvl >= 4 else 0.0
        # a repeated launch runs on the warm AICore stream (docs/model.md §4.6): no cold first kernel and no
        # first-submit cost per kernel, which a first launch pays at level 4 (§4.1)
        warm = opts.launch == "repeat"
        self.orch_first_kernel = (rt.orch_first_submit_per_kernel_us * us * obs
                                  if lvl >= 4 and not warm else 0.0)
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
        self.mix_rule = rt.mix_placement
        self.early_depth = int(rt.early_dispatch_chain_depth)
        self.orch_to_sched = bool(getattr(rt, "orch_to_sched", False))
        self.early_cap = int(getattr(rt, "early_dispatch_queue", 64))
        self.doorbell = rt.doorbell_propagation_us * us
        self.gated_setup = rt.gated_local_setup_us * us
        self.sync_barrier = rt.sync_start_barrier_us * us
        # pl.system.syncall: after the last participant arrives, each lane pays one cross-core flag round
        # trip (core.cross_core_flag_cycles) on its own clock before it continues (docs/model.md §4.5)
        flag = float(chip.core.cross_core_flag_cycles)
        cube_ns = flag * 1000.0 / chip.soc.cube_freq_mhz
        vec_ns = flag * 1000.0 / chip.soc.vec_freq_mhz
        self.barrier_sync = {"aic": cube_ns, "aiv0": vec_ns, "aiv1": vec_ns}
        self.cold_start = opts.cold_start
        self.jitter = opts.jitter
        self.first_kernel_extra = 0.0 if warm else float(chip.core.first_kernel_extra_ns)
        self.first_kernel_per_load = 0.0 if warm else float(chip.core.first_kernel_extra_per_load_ns)
        self.first_kernel_cold_max = float(chip.core.first_kernel_cold_max_ns)
        self.cold_from_cluster = float(chip.core.first_kernel_cold_from_cluster_frac) * int(chip.soc.clusters)
        self.cold_aiv_only = bool(chip.core.first_kernel_cold_aiv_only)
        self.cold_counts_head = bool(chip.core.first_kernel_cold_counts_head)
        self.cold_in_schedule = bool(chip.core.first_kernel_cold_in_schedule)


def submit_cost_ns(p: RuntimeParams, task: Task, init_bytes: int = 0) -> float:
    """AICPU time (ns) of the orchestrator's call that submits ``task`` (docs/model.md §4.1).

    An alloc task: ``orch_alloc`` plus one heap allocation per tensor it creates, plus the fill of
    the ``init_bytes`` of its tensors created with an initial value at ``orch_fill_GBps``. A kernel or dummy
    task: the fixed ``orch_submit`` plus a parameter copy per tensor argument and, in an auto scope,
    one TensorMap lookup (with its edge wiring) per INPUT/INOUT argument and per explicit dependency
    and one insert per OUTPUT/OUTPUT_EXISTING/INOUT argument. A manual scope skips the TensorMap.
    """
    if task.kind == TaskKind.ALLOC:
        return p.orch_alloc + p.orch_alloc_per_tensor * len(task.allocates) + p.orch_fill_per_byte * init_bytes
    hit = _COUNTS.get(id(task))
    if hit is None or hit[0] is not task:
        lookups = sum(1 for a in task.args if a.dir in _LOOKUP_DIRS)
        inserts = sum(1 for a in task.args if a.dir in _INSERT_DIRS)
        hit = _COUNTS.keep(task, (task, len(task.args), lookups, inserts))
    cost = p.orch_submit + p.orch_per_arg * hit[1]
    if task.scope != "manual":
        cost += p.orch_lookup * hit[2] + p.orch_insert * hit[3]
    return cost + p.orch_lookup * len(task.explicit_deps)


# id(task) -> (task, arguments, lookup arguments, insert arguments): a task's arguments are counted once
_COUNTS = TaskMemo()


def use_graph(graph: object) -> None:
    """The argument-count memo holds one graph's tasks: drop it when a run uses another graph."""
    _COUNTS.use(graph)
