"""Task-graph IR: what the PTO runtime dispatches, plus each block's in-core program.

The IR is the hand-off between the kernel front-end (``kernels``) and the engine (``sim``).
It is plain data (pydantic), JSON round-trippable, and versioned by ``SCHEMA_VERSION``.

Units: bytes for sizes, elements for shapes/offsets. No times live here: durations come from
``hwmodels`` cost models applied to the ops.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer

SCHEMA_VERSION = 1


class Pipe(StrEnum):
    """In-core pipes (docs/model.md §3.1)."""

    MTE2 = "MTE2"
    MTE1 = "MTE1"
    CUBE = "CUBE"
    VECTOR = "VECTOR"
    FIXPIPE = "FIXPIPE"
    MTE3 = "MTE3"
    SCALAR = "SCALAR"


class CoreShape(StrEnum):
    """Runtime resource shape of a task: its ready queue (docs/model.md §4.2)."""

    AIC = "AIC"
    AIV = "AIV"
    MIX = "MIX"
    DUMMY = "DUMMY"


class TaskKind(StrEnum):
    KERNEL = "kernel"  # reaches AICores
    ALLOC = "alloc"  # pl.create_tensor batch; completed inline by the orchestrator
    DUMMY = "dummy"  # dependency-only; completed inline by scheduler T0


class ArgDir(StrEnum):
    """Call-site argument direction as the runtime sees it (docs/model.md §1)."""

    INPUT = "INPUT"
    OUTPUT = "OUTPUT"
    INOUT = "INOUT"
    OUTPUT_EXISTING = "OUTPUT_EXISTING"
    NODEP = "NODEP"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Region(_Model):
    """A box of a GM tensor: ``offset``/``shape`` in elements of the tensor's own shape."""

    tensor: int
    offset: list[int]
    shape: list[int]


class Tensor(_Model):
    """A GM buffer (an entry parameter, an orchestration allocation, or a runtime-internal buffer)."""

    id: int
    name: str
    shape: list[int]
    dtype: str  # "BF16", "FP16", "FP32", "INT8", "INT32", "INT64", "UINT32"
    kind: Literal["param", "alloc", "internal"] = "param"
    creator: int | None = None  # submit index of the alloc task that created it
    manual_dep: bool = False
    nbytes: int = 0
    init: bool = False  # created by the orchestration with an initial value (the AICPU fills it)

    @model_serializer(mode="wrap")
    def _drop_default_init(self, handler: Any) -> Any:
        """Serialise ``init`` only when set (graphs without initialised tensors keep their form)."""
        d = handler(self)
        if not self.init and isinstance(d, dict):
            d.pop("init", None)
        return d


BARRIER = "barrier"  # Op.kind of a barrier across the blocks of a task (pl.system.syncall)


class Op(_Model):
    """One in-core instruction-level operation of a block, in program order.

    ``deps`` are indices (into the block's ``ops``) of earlier ops this op must wait for: data
    (RAW through tiles) and buffer reuse (WAR on a UB/L1 slot, which is how ``pl.pipeline``
    stage-2 double buffering shows up). Ops on one pipe of one lane also execute in program order.

    A ``barrier`` op (``pl.system.syncall``) sits on each lane that takes part in the barrier, at
    the point of the call. It splits its lane's ops into segments: the lane's ops after its k-th
    barrier op start only once every participant of that barrier - the lanes carrying a k-th
    barrier op, in every block of the task - has reached it (docs/model.md §4.5). It has no pipe
    work of its own (pipe SCALAR, 0 bytes, no deps); ``site`` names the kernel source line.
    """

    kind: str  # load | store | vec | matmul | matmul_acc | move | scalar | handoff | barrier
    name: str  # e.g. "add", "row_sum", "cast", "gather", "load", "store", "matmul"
    pipe: Pipe
    lane: Literal["aic", "aiv0", "aiv1"] = "aiv0"
    dtype: str = "FP32"
    shape: list[int] = Field(default_factory=list)  # tile shape the op works on (valid region)
    nbytes: int = 0  # payload bytes moved or produced (valid region)
    rows: int = 0  # contiguous GM runs (DMA only), for the L2-line over-fetch rule
    row_bytes: int = 0  # bytes per contiguous run (DMA only)
    region: Region | None = None  # GM box touched (load/store)
    atomic: bool = False  # atomic-add store
    mnk: list[int] | None = None  # [M, N, K] for cube ops
    in_dtype: str | None = None  # cube input dtype / cast source dtype
    hops: int = 1  # instruction count (e.g. legalised cast chains)
    deps: list[int] = Field(default_factory=list)
    site: str | None = Field(default=None, exclude_if=lambda v: v is None)  # kernel file:line (barrier ops)
    # a cube-side load of an untransposed matmul operand: the DMA converts GM's ND rows into L1's NZ fractals
    nd2nz: bool = Field(default=False, exclude_if=lambda v: not v)


class Block(_Model):
    """One SPMD block: its ordered op list (all lanes of a MIX block together)."""

    idx: int
    ops: list[Op] = Field(default_factory=list)


class TaskArg(_Model):
    """A tensor argument of a task as the runtime's dependency tracker sees it."""

    idx: int
    dir: ArgDir
    region: Region


class Task(_Model):
    """One submission: a kernel task (n blocks), an alloc task or a dummy task."""

    idx: int  # submit index, 0-based, program order
    task_id: int  # 64-bit runtime id (ring << 32) | local_id
    kind: TaskKind = TaskKind.KERNEL
    name: str  # function (scope) name; MIX tasks show as name_aic / name_aiv
    shape: CoreShape = CoreShape.AIV
    block_num: int = 1
    kernel_ids: list[int] = Field(default_factory=lambda: [-1, -1, -1])  # [aic, aiv0, aiv1]
    scope: Literal["auto", "manual"] = "auto"
    args: list[TaskArg] = Field(default_factory=list)
    explicit_deps: list[int] = Field(default_factory=list)  # submit indices named in deps=
    allow_early_resolve: bool = False
    sync_start: bool = False
    blocks: list[Block] = Field(default_factory=list)
    allocates: list[int] = Field(default_factory=list)  # tensor ids (alloc tasks)
    # dispatch predicate (``predicate=``): None = none; "pass" / "fail" = its value at the ready point
    # (value mode); "assumed" = not evaluated (shapes only), treated as pass. A predicated task never
    # early-dispatches; a failing one is retired inline by the scheduler like a dummy task.
    predicate: Literal["pass", "fail", "assumed"] | None = None


class Edge(_Model):
    """A dependency: ``succ`` waits for ``pred`` to finish (both submit indices)."""

    pred: int
    succ: int
    source: Literal["creator", "tensormap", "explicit"]
    arg: int = -1
    tensor: int | None = None
    overlap: Literal["covered", "other"] | None = None


class TaskGraph(_Model):
    """A whole program: tensors, tasks in submission order, dependency edges."""

    schema_version: int = SCHEMA_VERSION
    kernel: str
    variant: str = "default"
    mode: str = "decode"
    params: dict[str, int] = Field(default_factory=dict)  # resolved shape parameters (T, B, ...)
    tensors: list[Tensor] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)
    func_names: dict[int, str] = Field(default_factory=dict)  # func_id -> kernel (function) name

    # --- convenience -------------------------------------------------------------------------
    def kernel_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.kind == TaskKind.KERNEL]

    def function_names(self, task: Task) -> list[str]:
        """The functions a task runs, as the runtime's statistics name them: its kernel, or a MIX task's
        ``<name>_aic`` and ``<name>_aiv`` kernels (the task's name when it has no kernel id)."""
        return list(dict.fromkeys(self.func_names.get(k, task.name) for k in task.kernel_ids if k >= 0)) or [task.name]

    def preds(self) -> dict[int, list[int]]:
        """Distinct predecessors per task (submit index), in edge order."""
        out: dict[int, list[int]] = {t.idx: [] for t in self.tasks}
        for e in self.edges:
            if e.pred not in out[e.succ]:
                out[e.succ].append(e.pred)
        return out

    def succs(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {t.idx: [] for t in self.tasks}
        for e in self.edges:
            if e.succ not in out[e.pred]:
                out[e.pred].append(e.succ)
        return out

    def to_json(self) -> str:
        """Canonical JSON (stable key order, no whitespace variance)."""
        if any(t.predicate is not None for t in self.tasks):
            return self.model_dump_json(indent=1) + "\n"
        # graphs without predicates leave the field out (their JSON predates it)
        return self.model_dump_json(indent=1, exclude={"tasks": {"__all__": {"predicate"}}}) + "\n"

    @classmethod
    def from_json(cls, text: str) -> TaskGraph:
        g = cls.model_validate_json(text)
        if g.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version {g.schema_version} (expected {SCHEMA_VERSION})")
        return g


def task_label(task_id: int) -> str:
    """``r{ring}t{local}`` (or ``t{local}`` on ring 0), as the runtime prints task ids."""
    ring, local = task_id >> 32, task_id & 0xFFFFFFFF
    return f"r{ring}t{local}" if ring else f"t{local}"
