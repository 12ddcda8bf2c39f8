"""Per-task runtime bookkeeping: the state the runtime keeps for one submitted task.

A :class:`TaskState` follows one task of the graph from submit through wiring (fanin, fanout,
refcount), dispatch of its blocks (``next_block``), completion of its subtasks, and the
speculative early-dispatch flags (docs/model.md §1, §4.2-§4.4).
"""

from __future__ import annotations

from typing import Any

from sim.engine.barriers import BarrierPlan, plan
from sim.ir import CoreShape, Task, TaskGraph, TaskKind
from sim.util.taskmemo import TaskMemo

__all__ = ["LANES", "SHAPES", "TaskState", "graph_preds", "noise_keys", "task_lanes", "use_graph"]

SHAPES = (CoreShape.AIC, CoreShape.AIV, CoreShape.MIX)  # the shapes with a ready queue, in this order
LANES = ("aic", "aiv0", "aiv1")  # the lanes of a cluster, in ``kernel_ids`` order
_KERNEL, _DUMMY = TaskKind.KERNEL, TaskKind.DUMMY


class TaskState:
    """One task's runtime state.

    ``fanin`` is the producer count + 1 (set at wiring), ``refcount`` counts the producers seen
    complete (+1 at wiring); the task is ready when they are equal. ``subs_total`` subtasks (blocks x
    active lanes) must finish before the task completes. ``early_depth`` is None unless the task may
    release consumers early (its auto-chain depth otherwise); ``dfanin`` counts producers flagged and
    dispatched, or complete at wiring; ``cand`` marks a staging candidate. ``barrier`` is the task's
    barrier plan (None without ``pl.system.syncall``); ``sync`` says its blocks launch all together
    (``sync_start``, or a barrier across its blocks); ``arrived[k]`` lists the lanes waiting at barrier k.
    """

    __slots__ = (
        "task", "idx", "shape", "kind", "block_num", "lanes", "preds", "fanout", "fanin", "refcount",
        "completed", "next_block", "subs_total", "subs_done", "profiles", "early_depth", "dispatched",
        "dfanin", "cand", "barrier", "sync", "arrived",
    )
    lanes: list[str]
    barrier: BarrierPlan | None

    def __init__(self, task: Task, preds: list[int]) -> None:
        self.task = task
        st = _STATIC.get(id(task))
        if st is None or st[0] is not task:
            st = _static(task)
        _, self.idx, self.shape, self.block_num, self.kind, self.lanes, self.subs_total, self.barrier, \
            self.sync, early = st
        self.preds = preds
        self.fanout: list[TaskState] = []
        self.fanin = 0
        self.refcount = 0
        self.completed = False
        self.next_block = 0
        self.subs_done = 0
        # block (or (block, segment) with barriers) -> {lane: cost-model profile}, memo per run
        self.profiles: dict[Any, dict[str, Any]] = {}
        self.early_depth: int | None = 0 if early else None  # flag (auto-chain depth)
        self.dispatched = False  # first dispatch seen (early-dispatch candidate detection runs once)
        self.dfanin = 0  # producers flagged-and-dispatched or complete at wiring (docs/model.md §4.4)
        self.cand = False  # STAGING candidate
        self.arrived: dict[int, list[Any]] = {}  # barrier index -> subtasks waiting there


# id(task) -> (task, idx, shape, block_num, kind, lanes, subs_total, barrier plan, sync, early resolve): what
# a TaskState takes from its task, derived once per task object (a recorded task is not changed afterwards;
# the lanes list and the plan are only read); the memo holds one graph's tasks (use_graph)
_STATIC = TaskMemo()


def use_graph(graph: object) -> None:
    """The per-task memo holds one graph's tasks: drop it when a run uses another graph."""
    _STATIC.use(graph)


def graph_preds(graph: TaskGraph) -> dict[int, list[int]]:
    """``graph.preds()``, kept for the graph of the last call while its edge list is the same list of the
    same length (a recorded graph's edges are not changed afterwards; the lists are only read)."""
    edges = graph.edges
    if _PREDS[0] is graph and _PREDS[1] is edges and _PREDS[2] == len(edges):
        return _PREDS[3]  # type: ignore[return-value]
    preds = graph.preds()
    _PREDS[:] = [graph, edges, len(edges), preds]
    return preds


_PREDS: list[Any] = [None, None, -1, None]  # graph, its edge list, that list's length, its preds


def _static(task: Task) -> tuple[Any, ...]:
    """The memo entry of ``task`` (see ``_STATIC``), made and kept."""
    # a task whose dispatch predicate is false is retired inline like a dummy task (simpler
    # src/a2a3/runtime/tensormap_and_ringbuffer/runtime/scheduler/pto_scheduler.h, push_ready_routed)
    kind = _DUMMY if task.predicate == "fail" else task.kind
    lanes = task_lanes(task)
    block_num = task.block_num  # the task's, read often
    barrier = plan(task, lanes) if kind == _KERNEL else None
    st = (task, task.idx, task.shape, block_num, kind, lanes, block_num * len(lanes) if kind == _KERNEL else 0,
          barrier, task.sync_start or barrier is not None, bool(task.allow_early_resolve))
    return _STATIC.keep(task, st)


def task_lanes(task: Task) -> list[str]:
    """Active lanes: from kernel_ids ``[aic, aiv0, aiv1]``, -1 = inactive (simpler
    ``src/a2a3/runtime/tensormap_and_ringbuffer/runtime/pto_submit_types.h``), else from the shape /
    the ops' lanes."""
    if task.shape == CoreShape.AIC:
        return ["aic"]
    if task.shape == CoreShape.AIV:
        return ["aiv0"]
    if task.shape != CoreShape.MIX:
        return []
    act = [n for n, k in zip(LANES, task.kernel_ids, strict=False) if k != -1]
    if len(act) >= 2:
        return act
    seen = {op.lane for b in task.blocks[:1] for op in b.ops}
    act = [n for n in LANES if n in seen]
    if len(act) >= 2:
        return act
    return ["aic", "aiv0"]


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
