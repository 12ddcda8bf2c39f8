"""Run records: what one simulated run produced, in simulated nanoseconds.

This is the hand-off from the engine (``sim.engine``) to ``traces`` (writers, statistics,
analyses). It mirrors what the runtime's swimlane captures (docs/model.md §5): one row per
subtask (block x active lane) with its five timestamps, scheduler phase records, orchestrator
submit records. Times are floats in ns since simulation start; writers convert to 50 MHz ticks.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sim.ir import TaskGraph


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# The parts of a row's Exec, as groups of ``SubtaskRecord.breakdown`` keys (critical-path attribution):
EXEC_PARTS: dict[str, tuple[str, ...]] = {
    "pipe busy (critical path)": ("vector", "cube", "mte2", "mte1", "mte3", "fixpipe", "scalar"),
    "memory stall": ("l2_hit_latency", "l2_miss_latency", "hbm_contention"),
    "issue / sync overhead": ("issue_sync", "prologue"),
    "hand-off wait (MIX lanes)": ("handoff_wait",),
    "cold core (first kernel on the core)": ("cold_core",),
}


class SubtaskRecord(_Model):
    """One block x lane execution on one core (one swimlane row). Times in ns."""

    task: int  # submit index in the TaskGraph
    task_id: int  # 64-bit runtime id
    func: str  # swimlane function name (MIX: name_aic / name_aiv)
    func_id: int
    block: int
    lane: Literal["aic", "aiv0", "aiv1"]
    core_id: int  # runtime core id 0..71
    reg_task_id: int  # per-core dispatch token 1, 2, 3 ...
    thread: int  # owning scheduler thread
    dispatch: float
    receive: float
    start: float
    end: float
    finish: float
    pipe_busy: dict[str, float] = Field(default_factory=dict)  # ns busy per pipe (PMU view)
    # Exec breakdown for `swimsim explain` (ns; sums to end - start):
    breakdown: dict[str, float] = Field(default_factory=dict)
    # per barrier of the lane (pl.system.syncall), in order: (arrival, departure) ns; the lane waits for
    # the last participant, then pays the cross-core sync (absent from the JSON when the lane has none)
    barriers: list[tuple[float, float]] = Field(default_factory=list, exclude_if=lambda v: not v)

    @property
    def on_cold_core(self) -> bool:
        """The row paid the cold first-kernel extra (its core's first kernel in the launch)."""
        return self.breakdown.get("cold_core", 0.0) > 0


class PhaseRecord(_Model):
    """One scheduler-thread phase (an ``aicpu_scheduler_phases`` record, level >= 3). Times in ns."""

    thread: int
    kind: str  # complete | dispatch | release | wire | dummy | early_dispatch | resolve | dummy_task
    start: float
    end: float
    loop_iter: int
    tasks_processed: int
    pop_hit: int = 0
    pop_miss: int = 0
    local_at_start: list[int] = Field(default_factory=lambda: [0, 0, 0])
    shared_at_start: list[int] = Field(default_factory=lambda: [0, 0, 0])
    local_at_end: list[int] = Field(default_factory=lambda: [0, 0, 0])
    shared_at_end: list[int] = Field(default_factory=lambda: [0, 0, 0])


class SubmitRecord(_Model):
    """One orchestrator submit call (kernel, alloc or dummy task). Times in ns."""

    submit_idx: int
    task: int  # submit index in the TaskGraph (== submit_idx for our orchestrator)
    task_id: int
    start: float
    end: float


class RunResult(_Model):
    """Everything one simulated run produced, plus the graph it ran."""

    graph: TaskGraph
    chip: str  # preset name
    chip_params: dict = Field(default_factory=dict)  # the resolved preset (for provenance)
    seed: int = 0
    num_cores: int = 72
    core_types: list[str] = Field(default_factory=list)  # "aic"/"aiv" by core id
    core_to_thread: list[int] = Field(default_factory=list)
    n_sched_threads: int = 3
    subtasks: list[SubtaskRecord] = Field(default_factory=list)
    phases: list[PhaseRecord] = Field(default_factory=list)
    submits: list[SubmitRecord] = Field(default_factory=list)
    notes: dict[str, float] = Field(default_factory=dict)  # engine counters (ns or counts)
