"""Recording state: GM tensors and views, runtime scopes, task records, and the final TaskGraph.

One :class:`Recorder` is active while a ``@pl.jit`` entry runs (:func:`current`). Orchestration code
runs as plain Python; each kernel scope execution opens a :class:`TaskRec`; kernel bodies record
per-block programs through :mod:`kernels.dsl.tiles`. Task ids, func ids, argument directions and
dependency edges are resolved when the recording finishes (:meth:`Recorder.finish`).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from kernels.dsl.types import DataType
from sim.ir import (
    ArgDir,
    Block,
    CoreShape,
    Op,
    Region,
    Task,
    TaskArg,
    TaskGraph,
    TaskKind,
)
from sim.ir import Tensor as IRTensor
from sim.util.errors import UserError

_ACTIVE: list[Recorder] = []
_ALL = slice(None)
_BLOCK: Any = None  # kernels.dsl.tiles, once imported


def _block() -> Any:
    """``kernels.dsl.tiles`` (imported on first use: it imports this module)."""
    global _BLOCK
    if _BLOCK is None:
        from kernels.dsl import tiles as block

        _BLOCK = block
    return _BLOCK


def current() -> Recorder:
    """The active recorder (raises a UserError outside a recording)."""
    if not _ACTIVE:
        raise UserError("pl: no active recording (call a @pl.jit function through kernels.registry or pl.record)")
    return _ACTIVE[-1]


def active() -> Recorder | None:
    return _ACTIVE[-1] if _ACTIVE else None


# ------------------------------------------------------------------------------------------------
# GM tensors and views
# ------------------------------------------------------------------------------------------------
@dataclass(eq=False)
class GMBase:
    """One GM buffer (entry parameter or orchestration allocation)."""

    id: int
    name: str
    shape: tuple[int, ...]
    dtype: DataType
    kind: str = "param"  # param | alloc | internal
    creator: TaskRec | None = None
    manual_dep: bool = False
    declared: str = "In"  # entry-parameter direction (In/Out/InOut)
    data: Any = None  # optional numpy array backing scalar pl.read/pl.write (data-dependent control)


def _slot_setter(name: str) -> Any:
    """Setter of one of BaseModel's slots (the member descriptor's ``__set__``, a bit faster than
    ``object.__setattr__``)."""
    d = BaseModel.__dict__.get(name)
    if d is not None and hasattr(d, "__set__"):
        return d.__set__
    return lambda m, v: object.__setattr__(m, name, v)


_SET_FS = _slot_setter("__pydantic_fields_set__")
_SET_EX = _slot_setter("__pydantic_extra__")
_SET_PR = _slot_setter("__pydantic_private__")
_SET_DICT = _slot_setter("__dict__")


def model_factory(cls: Any) -> Any:
    """``make(data)``: a ``cls`` instance from a dict holding every field of ``cls``, already valid
    (no validation; the instance keeps ``data`` as its ``__dict__``)."""
    fields = set(cls.model_fields)

    def make(data: dict[str, Any], _new: Any = object.__new__, _cls: Any = cls, _d: Any = _SET_DICT,
             _fset: set[str] = fields, _fs: Any = _SET_FS, _ex: Any = _SET_EX, _pr: Any = _SET_PR) -> Any:
        m = _new(_cls)
        _d(m, data)
        _fs(m, _fset)  # shared: every field is always set
        _ex(m, None)
        _pr(m, None)
        return m

    return make


_new_region = model_factory(Region)


def make_region(tensor: int, offset: list[int], shape: list[int]) -> Region:
    """A :class:`Region` (``offset``/``shape`` in elements) built without validation; takes the lists."""
    return _new_region({"tensor": tensor, "offset": offset, "shape": shape})


def _prod(xs: Any) -> int:
    p = 1
    for x in xs:
        p *= int(x)
    return p


def _strides(shape: tuple[int, ...]) -> list[int]:
    out = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        out[i] = out[i + 1] * shape[i + 1]
    return out


def _hull_box(lo: int, hi: int, shape: tuple[int, ...], st: Any = None) -> tuple[list[int], list[int]]:
    """Smallest box of ``shape`` covering linear elements ``[lo, hi)`` (row-major); ``st``: its strides."""
    if st is None:
        st = _strides(shape)
    a = [(lo // s) % d for s, d in zip(st, shape, strict=True)]
    b = [((hi - 1) // s) % d for s, d in zip(st, shape, strict=True)]
    off, shp = [], []
    differ = False
    for i, d in enumerate(shape):
        if differ:
            off.append(0)
            shp.append(d)
        elif a[i] == b[i]:
            off.append(a[i])
            shp.append(1)
        else:
            differ = True
            off.append(a[i])
            shp.append(b[i] - a[i] + 1)
    return off, shp


@functools.lru_cache(maxsize=1024)
def _reshape_plan(new: tuple[int, ...], old: tuple[int, ...]) -> tuple[Any, ...]:
    """Per dim group: (new dims, old dims, new strides, old sub-shape, its strides) - cached per shape pair."""
    plan = []
    for gi, gj in _reshape_groups(new, old):
        if gj:
            sub_old = tuple(old[j] for j in gj)
            plan.append((tuple(gi), tuple(gj), tuple(_strides(tuple(new[i] for i in gi))), sub_old,
                         tuple(_strides(sub_old))))
    return tuple(plan)


def _reshape_groups(new: tuple[int, ...], old: tuple[int, ...]) -> list[tuple[list[int], list[int]]]:
    """Pair consecutive dim groups of ``new`` and ``old`` with equal element products."""
    groups: list[tuple[list[int], list[int]]] = []
    i = j = 0
    while i < len(new) and j < len(old):
        gi, gj = [i], [j]
        pi, pj = new[i], old[j]
        i += 1
        j += 1
        while pi != pj:
            if pi < pj:
                gi.append(i)
                pi *= new[i]
                i += 1
            else:
                gj.append(j)
                pj *= old[j]
                j += 1
        groups.append((gi, gj))
    if groups:
        groups[-1][0].extend(range(i, len(new)))
        groups[-1][1].extend(range(j, len(old)))
    return groups


class TensorView:
    """A ``pl.Tensor`` value: a view (slice/reshape chain) of one GM buffer.

    ``capture`` is the nearest view created in orchestration code: that view is the task argument
    the runtime sees when a kernel scope uses this one (dsl-surface.md §18.4).
    """

    __slots__ = ("base", "shape", "parent", "kind", "offset", "valid", "capture", "pad")

    def __init__(self, base: GMBase, shape: tuple[int, ...], parent: TensorView | None = None,
                 kind: str = "base", offset: tuple[int, ...] = (), valid: tuple[int, ...] | None = None,
                 pad: Any = None, capture: TensorView | None = None) -> None:
        self.base = base
        self.shape = tuple(shape)
        self.parent = parent
        self.kind = kind
        self.offset = offset
        self.valid = valid
        self.pad = pad
        if capture is None and parent is not None:
            rec = _ACTIVE[-1] if _ACTIVE else None
            if rec is not None and rec.kernel is not None:
                capture = parent.capture
        self.capture = capture if capture is not None else self

    # -- metadata ---------------------------------------------------------------------------------
    @property
    def dtype(self) -> DataType:
        return self.base.dtype

    @property
    def name(self) -> str:
        return self.base.name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"Tensor({self.base.name}, {list(self.shape)}, {self.dtype.name})"

    def to_base(self, off: list[int] | None = None, shp: list[int] | None = None) -> tuple[list[int], list[int]]:
        """Map a box of this view (default: the whole view) to a covering box of the base buffer."""
        shp = list(self.shape) if shp is None else list(shp)
        p0 = self.parent
        if p0 is None:
            return ([0] * len(shp) if off is None else list(off)), shp
        if p0.parent is None and self.kind == "slice":  # fast path: window of a base tensor
            if off is None:
                return list(self.offset), shp
            return [o + a for o, a in zip(off, self.offset, strict=True)], shp
        off = [0] * len(self.shape) if off is None else list(off)
        v: TensorView = self
        while v.parent is not None:
            p = v.parent
            if v.kind == "slice":
                off = [o + a for o, a in zip(off, v.offset, strict=True)]
            elif v.kind == "reshape":
                noff: list[int] = [0] * len(p.shape)
                nshp: list[int] = list(p.shape)
                for gi, gj, st, sub_old, st_old in _reshape_plan(v.shape, p.shape):
                    lo = 0
                    hi = 1
                    for i, s in zip(gi, st, strict=True):
                        lo += off[i] * s
                        hi += (off[i] + shp[i] - 1) * s
                    o2, s2 = _hull_box(lo, hi, sub_old, st_old)
                    for k, j in enumerate(gj):
                        noff[j], nshp[j] = o2[k], s2[k]
                off, shp = noff, nshp
            v = p
        return off, shp

    def _addr(self, idx: list[int]) -> int:
        """Linear element offset in the base buffer of element ``idx`` of this view."""
        v: TensorView = self
        while v.parent is not None:
            p = v.parent
            if v.kind == "slice":
                idx = [i + a for i, a in zip(idx, v.offset, strict=True)]
            elif v.kind == "reshape":
                lin = 0
                for i, d in zip(idx, v.shape, strict=True):
                    lin = lin * d + i
                nidx = [0] * len(p.shape)
                for k in range(len(p.shape) - 1, -1, -1):
                    lin, nidx[k] = divmod(lin, p.shape[k])
                idx = nidx
            v = p
        lin = 0
        for i, d in zip(idx, v.shape, strict=True):
            lin = lin * d + i
        return lin

    def exact_runs(self, off: list[int], shp: list[int], limit: int = 1 << 16) -> tuple[int, int] | None:
        """(contiguous base runs, elements) of a box of this view, or None above ``limit`` rows.

        For views whose box maps to a strided (non-box) set of the base buffer, where
        :meth:`to_base` can only give the covering box.
        """
        if not shp or any(n <= 0 for n in shp):
            return None
        lead = shp[:-1]
        nrows = 1
        for n in lead:
            nrows *= n
        if nrows > limit:
            return None
        last = shp[-1]
        runs = 0
        prev_end = None
        idx = [0] * len(lead)
        for _ in range(nrows):
            base = [o + i for o, i in zip(off, idx, strict=False)]
            a = self._addr(base + [off[-1]])
            b = self._addr(base + [off[-1] + last - 1])
            if b - a == last - 1:
                segs = [(a, b)]
            else:  # the row itself crosses gaps: walk its elements
                segs = []
                for j in range(last):
                    e = self._addr(base + [off[-1] + j])
                    if segs and segs[-1][1] == e - 1:
                        segs[-1] = (segs[-1][0], e)
                    else:
                        segs.append((e, e))
            for sa, sb in segs:
                if prev_end is None or sa != prev_end + 1:
                    runs += 1
                prev_end = sb
            for k in range(len(lead) - 1, -1, -1):  # next row index (row-major)
                idx[k] += 1
                if idx[k] < lead[k]:
                    break
                idx[k] = 0
        return runs, nrows * last

    def region(self, off: list[int] | None = None, shp: list[int] | None = None) -> Region:
        """The GM box of a box of this view (default: the whole view), as a :class:`Region` of the base."""
        o, s = self.to_base(off, shp)
        return make_region(self.base.id, o, s)

    # -- slicing ----------------------------------------------------------------------------------
    def _box(self, key: Any) -> tuple[list[int], list[int]]:
        if not isinstance(key, tuple):
            key = (key,)
        shape = self.shape
        nk = len(key)
        if nk > len(shape):
            current().error(f"{self.name}: {nk} indices for a {len(shape)}-d tensor")
        off, shp = [], []
        for d, dim in enumerate(shape):
            k = key[d] if d < nk else _ALL
            if type(k) is slice:
                if k.step is not None and k.step != 1:
                    current().error(f"{self.name}: slice step {k.step} not supported")
                a = 0 if k.start is None else int(k.start)
                b = dim if k.stop is None else int(k.stop)
            else:
                a = int(k)
                b = a + 1
            if a < 0 or b > dim or b <= a:
                current().error(
                    f"slice [{a}:{b}] out of bounds on dim {d} of {self.name} {list(self.shape)}")
            off.append(a)
            shp.append(b - a)
        return off, shp

    def window(self, off: list[int], shp: list[int], valid: list[int] | None = None,
               pad: Any = None) -> TensorView:
        ext = shp if valid is None else [min(int(v), int(s)) for v, s in zip(valid, shp, strict=True)]
        for d, (a, n, dim) in enumerate(zip(off, ext, self.shape, strict=True)):
            if a < 0 or a + n > dim or n < 0 or (n == 0 and valid is None):
                current().error(
                    f"slice [{a}:{a + n}] out of bounds on dim {d} of {self.name} {list(self.shape)}")
        return TensorView(self.base, tuple(map(int, shp)), self, "slice", tuple(map(int, off)),
                          None if valid is None else tuple(map(int, valid)), pad)

    def __getitem__(self, key: Any) -> Any:
        off, shp = self._box(key)
        rec = _ACTIVE[-1] if _ACTIVE else current()
        if rec.kernel is not None:
            return _block().record_load(TensorView(self.base, tuple(shp), self, "slice", tuple(off),
                                                   capture=self.capture))
        return TensorView(self.base, tuple(shp), self, "slice", tuple(off), capture=None)

    def __setitem__(self, key: Any, value: Any) -> None:
        off, shp = self._box(key)
        rec = current()
        view = TensorView(self.base, tuple(shp), self, "slice", tuple(off),
                          capture=self.capture if rec.kernel is not None else None)
        if rec.kernel is None:
            rec.error(f"slice assignment into {self.name} in orchestration code is not supported")
        _block().record_store(value, view)

    # -- dispatch predicates: ``predicate=(cnt[e] > 0)`` in orchestration (kernels.dsl.submit) ------
    def _cmp(self, other: Any, op: str) -> Any:
        rec = active()
        if rec is None or rec.kernel is not None or not isinstance(other, int):
            return NotImplemented
        from kernels.dsl.submit import Predicate

        return Predicate(self, op, other)

    def __gt__(self, other: Any) -> Any:
        return self._cmp(other, ">")

    def __ge__(self, other: Any) -> Any:
        return self._cmp(other, ">=")

    def __lt__(self, other: Any) -> Any:
        return self._cmp(other, "<")

    def __le__(self, other: Any) -> Any:
        return self._cmp(other, "<=")


# ------------------------------------------------------------------------------------------------
# Tasks and scopes
# ------------------------------------------------------------------------------------------------
@dataclass(eq=False)
class ArgRec:
    view: TensorView
    reads: bool = False
    writes: bool = False
    no_dep: bool = False


@dataclass(eq=False)
class TaskRec:
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
    predicate: Any = None  # dispatch predicate (pl.submit/spmd_submit); recorded policy: true


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
    runtime: bool = True  # False: a loop body inside a manual scope (no AUTO scope of its own, §18.7)


class Recorder:
    """Collects one program: tensors, tasks, scopes; produces a :class:`TaskGraph`."""

    def __init__(self, kernel: str, variant: str = "default", mode: str = "decode",
                 params: dict[str, int] | None = None) -> None:
        self.kernel_name = kernel
        self.variant = variant
        self.mode = mode
        self.params: dict[str, int] = dict(params or {})
        self.dyn: dict[str, int] = {}
        self.tensors: list[GMBase] = []
        self.tasks: list[TaskRec] = []
        self.scopes: list[RtScope] = []
        self.kernel: Any = None  # the open KernelScope (kernels.dsl.tiles), or None
        self.scope_names: dict[Any, str] = {}
        self.used_names: dict[str, int] = {}
        self.func_stack: list[str] = []
        self.unroll: list[int] = []  # indices of the enclosing orchestration pl.unroll copies
        self.incore_counter: dict[str, itertools.count] = {}

    # -- context ----------------------------------------------------------------------------------
    def __enter__(self) -> Recorder:
        _ACTIVE.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _ACTIVE.remove(self)

    def where(self) -> str:
        parts = [self.kernel_name]
        if self.kernel is not None:
            parts.append(f"scope {self.kernel.task.name}")
            if self.kernel.block_idx is not None:
                parts.append(f"block {self.kernel.block_idx}")
        return ": ".join(parts)

    def error(self, msg: str) -> Any:
        """Raise a one-line UserError naming kernel, scope and the offending value."""
        raise UserError(f"{self.where()}: {msg}")

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
                      manual_dep: bool = False) -> TensorView:
        scope = next(s for s in reversed(self.scopes) if s.runtime)
        if scope.alloc is None:
            scope.alloc = TaskRec(TaskKind.ALLOC, "alloc_tensors", self.ring(), shape=CoreShape.DUMMY)
            scope.alloc.scope = "manual" if scope.manual else "auto"
            self.tasks.insert(scope.entry_pos, scope.alloc)
        nm = name or f"tensor_{len(self.tensors)}"
        view = self.new_tensor(nm, tuple(int(s) for s in shape), dtype, "alloc", manual_dep=manual_dep)
        view.base.creator = scope.alloc
        scope.alloc.allocates.append(view.base)
        return view

    # -- runtime scopes ---------------------------------------------------------------------------
    def ring(self) -> int:
        return min(self.scopes[-1].depth, 3) if self.scopes else 0

    def push_scope(self, kind: str, loop_kind: str = "", manual: bool = False,
                   written: set[int] | None = None) -> RtScope:
        parent_manual = self.scopes[-1].manual if self.scopes else False
        # dsl-surface.md §18.7: the compiler wraps loop bodies in AUTO scopes, but not inside manual
        # scopes - such a body stays on the manual scope's depth (ring); pl.scope() still opens one.
        runtime = not (parent_manual and kind in ("loop", "if") and loop_kind != "scope")
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
        from sim.ir.deps import infer_edges

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
                allocates=[b.id for b in t.allocates],
            ))
        tensors = [
            IRTensor(id=b.id, name=b.name, shape=list(b.shape), dtype=b.dtype.name, kind=b.kind,
                     creator=index[id(b.creator)] if b.creator is not None else None,
                     manual_dep=b.manual_dep, nbytes=_prod(b.shape) * b.dtype.size)
            for b in self.tensors
        ]
        params = dict(self.params)
        params.update(self.dyn)
        g = TaskGraph(kernel=self.kernel_name, variant=self.variant, mode=self.mode, params=params,
                      tensors=tensors, tasks=tasks,
                      func_names={v: k for k, v in func_ids.items()})
        g.edges = infer_edges(g)
        return g
