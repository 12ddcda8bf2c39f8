"""The task-graph IR and the run records: the ground floor every other layer builds on.

``sim.ir`` imports nothing of swimsim's above ``sim.util``. A kernel model records a
:class:`TaskGraph` (:mod:`sim.ir.graph`), :mod:`sim.ir.deps` infers its edges from the tensor
regions the tasks read and write, the engine turns it into a :class:`~sim.ir.records.RunResult`
(:mod:`sim.ir.records`), and the trace writers read that.
"""

from sim.ir.graph import (
    BARRIER,
    SCHEMA_VERSION,
    ArgDir,
    Block,
    CoreShape,
    Edge,
    Op,
    Pipe,
    Region,
    Task,
    TaskArg,
    TaskGraph,
    TaskKind,
    Tensor,
    task_label,
)

__all__ = [
    "BARRIER", "SCHEMA_VERSION", "ArgDir", "Block", "CoreShape", "Edge", "Op", "Pipe", "Region", "Task", "TaskArg",
    "TaskGraph", "TaskKind", "Tensor", "task_label",
]
