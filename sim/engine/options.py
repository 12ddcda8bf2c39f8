"""Per-run options of :func:`sim.engine.simulate`: what varies between runs of the same chip."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LAUNCHES", "Launch", "RunOptions"]

# which launch of the program a run is (docs/model.md §4.6)
Launch = Literal["first", "repeat"]
LAUNCHES: tuple[str, ...] = get_args(Launch)


class RunOptions(BaseModel):
    """Per-run options (not chip properties)."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    l2_init: str = Field("inputs_warm", description="initial L2 state: cold | inputs_warm | warm")
    swimlane_level: int = Field(4, ge=0, le=4, description="profiling level; sets AICPU-side profiling costs")
    jitter: float = Field(0.0, ge=0.0, description="relative sigma of seeded noise on lane durations")
    pmu_mode: bool = Field(False, description="PMU run: no pending-slot dispatch, no early dispatch")
    launch: Launch = Field(
        "first", description="first: the process's first launch of the program (a swimlane capture runs one); "
        "repeat: a later launch on the same AICore stream (a timing loop's rounds after warm-up), whose cores "
        "pay no cold first kernel")
    cold_start: bool = Field(True, description="first task per core pays the measured cold extra (seeded)")
