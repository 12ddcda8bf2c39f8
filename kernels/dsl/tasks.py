"""Task recording: task records, runtime scopes and the :class:`Recorder` that assembles the TaskGraph.

One :class:`Recorder` is current while a ``@pl.jit`` entry runs (:func:`kernels.dsl.context.current`).
Orchestration code runs as plain Python; each kernel scope execution opens a :class:`TaskRec`; kernel
bodies record per-block programs through :mod:`kernels.dsl.tiles`. Task ids, func ids, argument
directions and dependency edges are resolved when the recording finishes (:meth:`Recorder.finish`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from kernels.dsl.context import Recording
from kernels.dsl.tensors import GMBase, TensorView, prod
from kernels.dsl.types import DataType
from sim.ir import (
    ArgDir,
    Block,
    CoreShape,
    Op,
    Task,
    TaskArg,
    TaskGraph,
    TaskKind,
)
from sim.ir import Tensor as IRTensor
from sim.ir.deps import infer_edges


@dataclass(eq=False)
class ArgRec:
    """A task argument: the orchestration view a kernel scope uses, and how its body uses it."""

    view: TensorView
    reads: bool = False
    writes: bool = False
    no_dep: bool = False


@dataclass(eq=False)
class TaskRec:
    """One recorded task (kernel, alloc or dummy) before its id, args and edges are resolved."""

    kind: TaskKind
    name: str
    ring: int
    scope: str = "auto"
    block_num: int = 1
    blocks: list[list[Op]] = field(default_factory=list)
    lanes: set[str] = field(default_factory=set)
    args: dict[int, ArgRec] = field(default_factory=dict)
    arg_dirs: list[tuple[TensorView, ArgDir]] = field(default_factory=list)
    explicit: list[TaskRec] = field(default_factory=list)
    allow_early_resolve: bool = False
    sync_start: bool = False
    allocates: list[GMBase] = field(default_factory=list)
    shape: CoreShape = CoreShape.AIV
    site: Any = None
    predicate: Any = None  # dispatch Predicate (pl.submit/spmd_submit/spmd)
    outcome: str | None = None  # the predicate's value: "pass" / "fail" (value mode) or "assumed"
    tail_nodes: Any = None  # the last block's recorded nodes (kernel tasks): tiles that outlive the scope
    rt_scope: Any = None  # the runtime scope (RtScope) the task was submitted in


class TaskHandle:
    """A task handle (``as tid``): usable in ``deps=``, ``pl.array`` and ``task_dummy``."""

    __slots__ = ("task",)

    def __init__(self, task: TaskRec) -> None:
        self.task = task

    def __repr__(self) -> str:
        return f"TaskHandle({self.task.name})"


@dataclass(eq=False)
class RtScope:
    """A runtime scope instance (function body, orchestration-loop iteration, manual scope)."""

    depth: int
    kind: str  # func | loop | manual
    loop_kind: str = ""
    written: set[int] = field(default_factory=set)
    entry_pos: int = 0
    alloc: TaskRec | None = None
    manual: bool = False
    runtime: bool = True  # False: a loop body inside a manual scope (no AUTO scope of its own)


class Recorder(Recording):
    """Collects one program: tensors, tasks, scopes; produces a :class:`TaskGraph`."""

    def __init__(self, kernel: str, variant: str = "default", mode: str = "decode",
                 params: dict[str, int] | None = None) -> None:
        super().__init__(kernel)
        self.variant = variant
        self.mode = mode
        self.params: dict[str, int] = dict(params or {})
        self.dyn: dict[str, int] = {}
        self.tensors: list[GMBase] = []
        self.tasks: list[TaskRec] = []
        self.scopes: list[RtScope] = []
        self.scope_names: dict[Any, str] = {}
        self.used_names: dict[str, int] = {}
        self.func_stack: list[str] = []
        self.unroll: list[int] = []  # indices of the enclosing orchestration pl.unroll copies
        self.incore_counter: dict[str, itertools.count] = {}
        self.escaped: dict[int, TensorView] = {}  # node id -> GM tensor of a tile that outlived its scope
        self.no_auto_scope = 0  # > 0 while an auto_scope=False function runs (kernels.dsl.jit.manual_placement)

    # -- tensors ----------------------------------------------------------------------------------
    def new_tensor(self, name: str, shape: tuple[int, ...], dtype: DataType, kind: str,
                   declared: str = "In", manual_dep: bool = False) -> TensorView:
        for d in shape:
            if not isinstance(d, int) or d <= 0:
                self.error(f"tensor {name}: bad dimension {d!r} in shape {list(shape)}")
        base = GMBase(len(self.tensors), name, tuple(shape), dtype, kind, manual_dep=manual_dep,
                      declared=declared)
        self.tensors.append(base)
        return TensorView(base, tuple(int(x) for x in shape))

    def create_tensor(self, shape: list[int], dtype: DataType, name: str | None = None,
                      manual_dep: bool = False, init: bool = False) -> TensorView:
        scope = next(s for s in reversed(self.scopes) if s.runtime)
        if scope.alloc is None:
            scope.alloc = TaskRec(TaskKind.ALLOC, "alloc_tensors", self.ring(), shape=CoreShape.DUMMY)
            scope.alloc.scope = "manual" if scope.manual else "auto"
            self.tasks.insert(scope.entry_pos, scope.alloc)
        nm = name or f"tensor_{len(self.tensors)}"
        view = self.new_tensor(nm, tuple(int(s) for s in shape), dtype, "alloc", manual_dep=manual_dep)
        view.base.creator = scope.alloc
        view.base.init = init
        scope.alloc.allocates.append(view.base)
        return view

    # -- runtime scopes ---------------------------------------------------------------------------
    def ring(self) -> int:
        return min(self.scopes[-1].depth, 3) if self.scopes else 0

    def push_scope(self, kind: str, loop_kind: str = "", manual: bool = False,
                   written: set[int] | None = None) -> RtScope:
        parent_manual = self.scopes[-1].manual if self.scopes else False
        # the compiler wraps loop and if bodies in AUTO scopes, but not inside manual scopes (pypto
        # docs/en/dev/passes/44-materialize_runtime_scopes.md) - such a body stays on the manual
        # scope's depth (ring); pl.scope() still opens one.
        # an auto_scope=False function (pl.jit / pl.jit.inline) places its runtime scopes by hand the same way
        runtime = not ((parent_manual or self.no_auto_scope) and kind in ("loop", "if") and loop_kind != "scope")
        depth = (self.scopes[-1].depth + (1 if runtime else 0)) if self.scopes else 1
        s = RtScope(depth, kind, loop_kind, set(written or ()), len(self.tasks), None,
                    manual or parent_manual, runtime)
        self.scopes.append(s)
        return s

    def pop_scope(self) -> RtScope:
        return self.scopes.pop()

    # -- tasks ------------------------------------------------------------------------------------
    def scope_name(self, site: Any, hint: str | None) -> str:
        if site in self.scope_names:
            return self.scope_names[site]
        if hint:
            base = hint
        else:
            fn = self.func_stack[-1] if self.func_stack else self.kernel_name
            cnt = self.incore_counter.setdefault(fn, itertools.count())
            base = f"{fn}_incore_{next(cnt)}"
        n = self.used_names.get(base)
        if n is None:
            name = base
            self.used_names[base] = 0
        else:
            name = f"{base}_{n}"
            self.used_names[base] = n + 1
        self.scope_names[site] = name
        return name

    def submit(self, task: TaskRec) -> None:
        """Finish a kernel/dummy task at the end of its scope: directions, then append."""
        scope = self.scopes[-1]
        task.scope = "manual" if scope.manual else "auto"
        r_seq = any(s.kind == "loop" and s.loop_kind not in ("parallel",) for s in self.scopes)
        for arg in task.args.values():
            root = arg.view.base
            if arg.no_dep:
                d = ArgDir.NODEP
            elif arg.reads and arg.writes:
                d = ArgDir.INOUT
            elif arg.writes:
                if r_seq or root.id in scope.written or root.declared == "InOut":
                    d = ArgDir.INOUT
                else:
                    d = ArgDir.OUTPUT_EXISTING
            else:
                d = ArgDir.INPUT
            task.arg_dirs.append((arg.view, d))
        for arg in task.args.values():
            if arg.writes:
                scope.written.add(arg.view.base.id)
        self.tasks.append(task)

    # -- finish -----------------------------------------------------------------------------------
    def finish(self) -> TaskGraph:
        index = {id(t): i for i, t in enumerate(self.tasks)}
        local: dict[int, int] = {}
        func_ids: dict[str, int] = {}

        def fid(name: str) -> int:
            if name not in func_ids:
                func_ids[name] = len(func_ids)
            return func_ids[name]

        tasks: list[Task] = []
        for i, t in enumerate(self.tasks):
            lid = local.get(t.ring, 0)
            local[t.ring] = lid + 1
            task_id = (t.ring << 32) | lid
            kids = [-1, -1, -1]
            if t.kind == TaskKind.KERNEL:
                if t.shape == CoreShape.MIX:
                    a, v = fid(f"{t.name}_aic"), fid(f"{t.name}_aiv")
                    kids = [a, v, v]
                elif t.shape == CoreShape.AIC:
                    kids = [fid(t.name), -1, -1]
                else:
                    kids = [-1, fid(t.name), -1]
            args = [TaskArg(idx=k, dir=d, region=view.region()) for k, (view, d) in enumerate(t.arg_dirs)]
            tasks.append(Task(
                idx=i, task_id=task_id, kind=t.kind, name=t.name, shape=t.shape, block_num=t.block_num,
                kernel_ids=kids, scope=t.scope, args=args,
                explicit_deps=[index[id(p)] for p in t.explicit if id(p) in index],
                allow_early_resolve=t.allow_early_resolve, sync_start=t.sync_start,
                blocks=[Block.model_construct(idx=b, ops=ops) for b, ops in enumerate(t.blocks)],
                allocates=[b.id for b in t.allocates], predicate=t.outcome,
            ))
        tensors = [
            IRTensor(id=b.id, name=b.name, shape=list(b.shape), dtype=b.dtype.name, kind=b.kind,
                     creator=index[id(b.creator)] if b.creator is not None else None,
                     manual_dep=b.manual_dep, nbytes=prod(b.shape) * b.dtype.size, init=b.init)
            for b in self.tensors
        ]
        params = dict(self.params)
        params.update(self.dyn)
        g = TaskGraph(kernel=self.kernel_name, variant=self.variant, mode=self.mode, params=params,
                      tensors=tensors, tasks=tasks,
                      func_names={v: k for k, v in func_ids.items()})
        g.edges = infer_edges(g)
        return g
