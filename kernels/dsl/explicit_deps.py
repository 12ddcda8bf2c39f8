"""Explicit task dependencies: ``deps=`` lists of task handles, ``pl.array`` arrays of handles,
``pl.system.task_dummy`` joins, and the check of a dispatch ``predicate=`` against ``deps=``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kernels.dsl.context import current
from kernels.dsl.tasks import TaskHandle, TaskRec
from kernels.dsl.tensors import Predicate, TensorView
from kernels.dsl.values import STATE as VALUES
from kernels.dsl.values import predicate_passes
from sim.ir import CoreShape, TaskKind
from sim.util.errors import UserError


class ArrayType:
    """A ``pl.Array[n, dtype]`` parameter annotation (a pure annotation: no op, no task)."""

    def __init__(self, n: int, dtype: Any) -> None:
        self.n = int(n)
        self.dtype = dtype

    def __repr__(self) -> str:
        return f"pl.Array[{self.n}, {self.dtype!r}]"


class Array:
    """``pl.array.create(n, dtype)``: a fixed-size array (task handles or ints; None = invalid).
    ``pl.Array[n, dtype]`` is its parameter annotation (:class:`ArrayType`)."""

    def __class_getitem__(cls, item: Any) -> ArrayType:
        if not isinstance(item, tuple) or len(item) != 2 or not isinstance(item[0], int):
            raise UserError(f"pl.Array[{item!r}]: expected pl.Array[n, dtype] with a literal int n")
        return ArrayType(item[0], item[1])

    def __init__(self, n: int, dtype: Any = None) -> None:
        self.items: list[Any] = [None] * int(n)
        self.dtype = dtype

    def __getitem__(self, i: int) -> Any:
        return self.items[int(i)]

    def __setitem__(self, i: int, v: Any) -> None:
        self.items[int(i)] = v

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)


class _ArrayNS:
    """``pl.array``: ``pl.array(n, dtype)`` or ``pl.array.create(n, dtype)``."""

    def __call__(self, n: int, dtype: Any = None) -> Array:
        return Array(n, dtype)

    create = staticmethod(lambda n, dtype=None: Array(n, dtype))


array = _ArrayNS()


def handles(deps: Any) -> list[TaskRec]:
    """The task records a ``deps=`` value names: a handle, an Array, or nested lists of them (None skipped)."""
    out: list[TaskRec] = []
    if deps is None:
        return out
    items = deps if isinstance(deps, list | tuple | Array) else [deps]
    for d in items:
        if d is None:
            continue
        if isinstance(d, TaskHandle):
            out.append(d.task)
        elif isinstance(d, Array):
            out.extend(handles(list(d.items)))
        elif isinstance(d, list | tuple):
            out.extend(handles(d))
        else:
            current().error(f"deps= entry {d!r} is not a task handle")
    return out


def dispatch_predicate(pred: Any, explicit: list[TaskRec]) -> Predicate | None:
    """Validate ``predicate=``: a Predicate or a (view, op, literal) triple whose producer is a dep."""
    if pred is None:
        return None
    rec = current()
    if isinstance(pred, tuple) and len(pred) == 3 and isinstance(pred[0], TensorView):
        pred = Predicate(*pred)
    if not isinstance(pred, Predicate):
        rec.error(f"predicate={pred!r}: expected one comparison of a tensor element with an integer literal")
    base = pred.view.base.id
    writers = [t for t in rec.tasks if any(a.writes and a.view.base.id == base for a in t.args.values())]
    if writers and not any(w in explicit for w in writers):
        rec.error(f"predicate on {pred.view.name}: the tensor's producer ({writers[-1].name}) must be in deps=")
    return pred


def evaluate_predicate(task: TaskRec) -> bool | None:
    """Set ``task.outcome`` from its predicate: with value mode on, the element's value decides
    ("pass" / "fail", a one-line error if it is unknown); without, "assumed" (the task runs). A failing
    task is retired by the scheduler without running, so its body is recorded with value mode off (it
    writes nothing): returns the value-mode setting to restore after the body, or None."""
    pred = task.predicate
    if not VALUES.on:
        task.outcome = "assumed"
        return None
    if predicate_passes(pred.view, pred.op, pred.literal):
        task.outcome = "pass"
        return None
    task.outcome = "fail"
    VALUES.on = False
    return True


def task_dummy(deps: Any = None) -> TaskHandle | None:
    """``pl.system.task_dummy(deps=[...])``: a DUMMY task joining handles (skipped if all invalid)."""
    rec = current()
    if rec.kernel is not None:
        rec.error("pl.system.task_dummy inside a kernel scope")
    preds = handles(deps)
    if deps and not preds:
        return None
    t = TaskRec(TaskKind.DUMMY, "task_dummy", rec.ring(), shape=CoreShape.DUMMY)
    t.explicit = preds
    rec.submit(t)
    return TaskHandle(t)
