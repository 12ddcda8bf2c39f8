"""pydantic schemas (TypedDicts) of the JSON files the traces layer reads, and their validators.

* :class:`JuneRecords` / :class:`LaterRecords`: the swimlane records file (June and later layouts),
  checked in strict mode (integers are JSON integers, not floats or booleans); ticks.
* :class:`DepsRead`, :class:`NameMapRead`: the parts of ``deps.json`` and of the name map
  the tools use, checked in lax mode (ids as integers or decimal strings).
* :class:`TraceFile` / :class:`TraceTop`: a merged trace, events or only its top level; µs.

Fields not listed are not checked (and left out of a validated value). The readers import this module
on first use: creating the classes and their validators costs start-up time a command that reads
no file should not pay. The readers word the errors themselves (:func:`sim.util.jsonfile.check`).
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal, NotRequired

from pydantic import Field, TypeAdapter
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

# --------------------------------------------------------------------------------------------
# Swimlane records file
# --------------------------------------------------------------------------------------------


class Metadata(TypedDict):
    """``metadata``: counter frequency (Hz), per-core type, per-core scheduler thread (level >= 3)."""

    clock_freq_hz: Annotated[int, Field(gt=0)]
    core_types: NotRequired[list[Literal["aic", "aiv"]]]
    core_to_thread: NotRequired[list[int]]


class SchedulerPhase(TypedDict):
    """One ``aicpu_scheduler_phases`` record (ticks); its other fields are not checked."""

    kind: str
    start_cycles: int
    end_cycles: int


class SubmitPhase(TypedDict):
    """One ``aicpu_orchestrator_phases`` record (ticks)."""

    submit_idx: int
    task_id: int
    start_cycles: int
    end_cycles: int


class _Sections(TypedDict):
    metadata: Metadata
    # [core_id, task_id, reg_task_id, start, end(, receive->start ticks)]
    aicore_tasks: list[Annotated[list[int], Field(min_length=5, max_length=6)]]
    aicpu_tasks: NotRequired[list[Annotated[list[int], Field(min_length=4, max_length=4)]]]  # [core, reg, disp, fin]
    aicpu_scheduler_phases: NotRequired[list[list[SchedulerPhase]]]  # per scheduler thread
    aicpu_orchestrator_phases: NotRequired[list[list[SubmitPhase]]]  # per orchestrator


class _JuneLevel(TypedDict):
    l2_swimlane_level: Annotated[int, Field(ge=1, le=4)]


class _LaterLevel(TypedDict):
    chip_swimlane_level: Annotated[int, Field(ge=1, le=4)]


class JuneRecords(_JuneLevel, _Sections):
    """``l2_swimlane_records.json`` (June 2026 layout)."""


class LaterRecords(_LaterLevel, _Sections):
    """``chip_swimlane_records.json`` (2026-08 layout)."""


# --------------------------------------------------------------------------------------------
# deps.json and the name map
# --------------------------------------------------------------------------------------------


class DepsTask(TypedDict):
    """A ``tasks[]`` entry as the tools read it (ids as integers or decimal strings)."""

    task_id: int
    kernel_ids: NotRequired[list[int]]  # [aic, aiv, aiv2] func ids, -1 = none (padded to 3)
    block_num: NotRequired[int]


class DepsEdge(TypedDict):
    """An ``edges[]`` entry as the tools read it."""

    pred: int
    succ: int


class DepsRead(TypedDict):
    """The parts of ``deps.json`` the tools use."""

    tasks: list[DepsTask]
    edges: NotRequired[list[DepsEdge]]


class NameMapRead(TypedDict):
    """A name map: func id (integer or decimal string key) -> name, and the orchestrator's name."""

    callable_id_to_name: NotRequired[dict[int, Any]]
    orchestrator_name: NotRequired[Any]


# --------------------------------------------------------------------------------------------
# Merged trace
# --------------------------------------------------------------------------------------------


class TraceEvent(TypedDict):
    """One trace event as the reader uses it (its other fields are not checked here)."""

    ph: str
    ts: NotRequired[int | float]  # µs
    args: NotRequired[dict[str, Any] | None]


class TraceFile(TypedDict):
    """A merged trace (``merged_swimlane_*.json``): ``{"traceEvents": [...]}``."""

    traceEvents: list[TraceEvent]


class TraceTop(TypedDict):
    """Only the top level of a merged trace (its events unchecked)."""

    traceEvents: list[Any]


@functools.cache
def adapter(schema: type) -> TypeAdapter[Any]:
    """The validator of ``schema`` (one of the classes above), built once."""
    return TypeAdapter(schema)
