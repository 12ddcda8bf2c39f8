"""Remaining top-level ``pl`` names of dsl-surface.md: task submission of kernel functions
(``submit``, ``spmd_submit``), control flow (``while_``, ``cond``), sort ops (``sort32``,
``mrgsort``), ``col_expand_expdif``, split-region crossings (``aiv_shard``, ``aic_gather``), the
``RUNTIME`` default, the rejected ``DN`` layout marker and the legacy ``chunked_loop_optimizer``.
"""

from __future__ import annotations

import inspect
import operator
import warnings
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

from kernels.dsl import ops_vector as ops
from kernels.dsl.kernel_scopes import JitFunction, _handles, _KernelCtx, orchestration_loop
from kernels.dsl.tasks import ArgRec, TaskHandle, TaskRec, TensorView, current
from kernels.dsl.tiles import Tile, as_tile, kernel_scope, record_vec_op
from kernels.dsl.types import DN, RUNTIME, SplitMode, TensorType
from sim.util.errors import UserError

# ------------------------------------------------------------------------------------------------
# Dispatch predicates (HEAD-only ``predicate=``)
# ------------------------------------------------------------------------------------------------
_CMP = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq,
        "!=": operator.ne}


class Predicate:
    """``predicate=(cnt[e] > 0)``: one tensor element compared with an integer literal (§5).

    It is checked by the scheduler, never in orchestration; the recorder keeps it on the task and
    uses the default policy "true" (the task runs).
    """

    __slots__ = ("view", "op", "literal")

    def __init__(self, view: TensorView, op: str, literal: int) -> None:
        if op not in _CMP:
            current().error(f"predicate: comparison {op!r} is not one of {sorted(_CMP)}")
        if not isinstance(literal, int) or isinstance(literal, bool):
            current().error(f"predicate: right-hand side {literal!r} must be an integer literal")
        self.view = view
        self.op = op
        self.literal = literal

    def __repr__(self) -> str:
        return f"Predicate({self.view.name} {self.op} {self.literal})"


def _predicate(pred: Any, explicit: list[TaskRec]) -> Predicate | None:
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


# ------------------------------------------------------------------------------------------------
# pl.submit / pl.spmd_submit
# ------------------------------------------------------------------------------------------------
def _declared(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[tuple[Any, str]]:
    """(value, declared direction) of every bound argument of ``fn`` (In when not annotated)."""
    try:
        sig = inspect.signature(fn, eval_str=True)
    except (NameError, TypeError, SyntaxError):
        sig = inspect.signature(fn)
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as exc:
        current().error(f"pl.submit({getattr(fn, '__name__', fn)!r}): bad arguments: {exc}")
        raise AssertionError from None
    out = []
    for name, value in bound.arguments.items():
        ann = sig.parameters[name].annotation
        out.append((value, ann.direction if isinstance(ann, TensorType) else "In"))
    return out


def _submit(n: int, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], name_hint: str | None,
            deps: Any, allow_early_resolve: bool, sync_start: bool, predicate: Any) -> TaskHandle:
    rec = current()
    what = "pl.spmd_submit" if sync_start is not None else "pl.submit"
    if rec.kernel is not None:
        rec.error(f"{what} inside a kernel scope (submit kernels from orchestration code)")
    func = fn.fn if isinstance(fn, JitFunction) else fn
    if not callable(func):
        rec.error(f"{what}: first argument {fn!r} is not a kernel function")
    fname = getattr(func, "__name__", type(func).__name__)
    ctx = _KernelCtx(n, name_hint or fname, deps, allow_early_resolve, bool(sync_start), None)
    pred = _predicate(predicate, _handles(deps))
    params = _declared(func, args, kwargs)
    # one kernel function = one name, whatever the call site (unrolled copies still get suffixes)
    ks = ctx._open(SimpleNamespace(f_code=getattr(func, "__code__", func), f_lineno=-1))
    ctx.ks = ks
    task = ks.task
    for value, _d in params:  # every tensor parameter is a task argument, in parameter order
        if isinstance(value, TensorView) and id(value.capture) not in task.args:
            task.args[id(value.capture)] = ArgRec(value.capture)
    ok = False
    try:
        for b in range(n):
            ks.begin_block(b)
            func(*args, **kwargs)
            ks.end_block()
        ok = True
    finally:
        if not ok:
            ctx._abort()
    for value, d in params:  # declared pl.Out / pl.InOut apply; anything the body writes is upgraded
        if isinstance(value, TensorView):
            a = task.args[id(value.capture)]
            if d == "InOut":
                a.reads = a.writes = True
            elif d == "Out":
                a.writes = True
            elif not a.writes:
                a.reads = True
    task.predicate = pred
    ctx._close()
    return TaskHandle(task)


def submit(fn: Any, *args: Any, name_hint: str | None = None, deps: Any = None,
           allow_early_resolve: bool = False, predicate: Any = None, **kwargs: Any) -> TaskHandle:
    """``tid = pl.submit(kernel, *args, deps=..., allow_early_resolve=..., predicate=...)``.

    One task with one block running ``kernel`` (its name is the task name). Tensor arguments
    take the kernel's declared ``pl.Out``/``pl.InOut`` directions (In otherwise, upgraded when the
    body writes them); explicit ``deps=`` are added to the inferred edges.
    """
    return _submit(1, fn, args, kwargs, name_hint, deps, allow_early_resolve, None, predicate)


def spmd_submit(n: Any, fn: Any, *args: Any, name_hint: str | None = None, deps: Any = None,
                allow_early_resolve: bool = False, sync_start: bool = False, predicate: Any = None,
                **kwargs: Any) -> TaskHandle:
    """``tid = pl.spmd_submit(n, kernel, *args, ...)`` (also ``(kernel, n, ...)``): one task, n blocks.

    The kernel body runs once per block (``pl.get_block_idx()`` gives the block); ``sync_start``
    asks for a gang launch of all blocks.
    """
    if callable(n) and not callable(fn):
        n, fn = fn, n
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        current().error(f"pl.spmd_submit: block count {n!r} must be a positive int")
    return _submit(n, fn, args, kwargs, name_hint, deps, allow_early_resolve, bool(sync_start), predicate)


# ------------------------------------------------------------------------------------------------
# Control flow
# ------------------------------------------------------------------------------------------------
def while_(cond: Callable[[], Any], *, max_iters: int = 1 << 20) -> Iterator[int]:
    """``for i in pl.while_(lambda: <condition>):`` - iterate while the condition holds.

    The condition is re-evaluated before every iteration (it may use ``pl.read`` values and
    Python state the body updates). In orchestration each iteration is its own runtime scope and
    writes take R-seq, like ``pl.range``; in a kernel it is a sequential device loop.
    """
    rec = current()
    if not callable(cond):
        rec.error(f"pl.while_: condition {cond!r} must be a callable re-evaluated per iteration")

    def gen() -> Iterator[int]:
        i = 0
        while bool(cond()):
            if i >= max_iters:
                current().error(f"pl.while_: loop did not terminate after {max_iters} iterations")
            yield i
            i += 1

    return _loop_over("while", gen())


def _loop_over(kind: str, it: Iterator[int]) -> Iterator[int]:
    """Run ``it`` as an orchestration loop of ``kind`` (scopes per iteration) or a device loop."""
    rec = current()
    if rec.kernel is not None:
        yield from it
        return
    yield from orchestration_loop(rec, kind, it)




def cond(pred: Any, then_fn: Callable[[], Any] | None = None, else_fn: Callable[[], Any] | None = None) -> Any:
    """``pl.cond(pred, then_fn, else_fn)``: run the branch ``pred`` selects and return its value.

    ``pred`` must be concrete at record time (a Python/``pl.read`` value). In orchestration the
    taken branch runs in its own AUTO runtime scope that starts from a snapshot of what was written
    before it (§18.4 R-prior); in a kernel it is a plain branch. Without branches it returns
    ``bool(pred)``.
    """
    rec = current()
    if isinstance(pred, Tile | TensorView):
        rec.error("pl.cond: the condition must be a scalar value (use pl.read), not a tensor or tile")
    taken = bool(pred)
    fn = then_fn if taken else else_fn
    if then_fn is None and else_fn is None:
        return taken
    if fn is None:
        return None
    if rec.kernel is not None:
        return fn()
    parent = rec.scopes[-1]
    s = rec.push_scope("if", written=parent.written)
    try:
        return fn()
    finally:
        rec.pop_scope()
        parent.written |= s.written


# ------------------------------------------------------------------------------------------------
# Vector ops
# ------------------------------------------------------------------------------------------------
def sort32(scores: Any, idx: Any) -> Tile:
    """Sort every 32-element block of each row, carrying ``idx``; output [R, 2C] (value, index) pairs.

    Cost driver (§10): the R x C/32 blocks of the valid input region (recorded as the work shape).
    """
    kernel_scope()
    rec = current()
    s, i = as_tile(scores), as_tile(idx)
    if s.dtype.name not in ("FP16", "FP32"):
        rec.error(f"pl.sort32: scores dtype {s.dtype.name} (FP16 or FP32 expected)")
    if len(s.shape) != 2 or s.shape[1] % 32:
        rec.error(f"pl.sort32: scores shape {s.shape} must be 2-d with a multiple of 32 columns")
    if i.shape[-1] != s.shape[1]:
        rec.error(f"pl.sort32: index shape {i.shape} does not match scores {s.shape}")
    out = [s.shape[0], 2 * s.shape[1]]
    valid = [s.valid[0], 2 * s.valid[1]]
    return record_vec_op("sort32", out, s.dtype, [s, i], valid_shape=valid, work_shape=list(s.valid))


def mrgsort(*lists: Any, block_len: int | None = None, exhausted: Any = None) -> Tile:
    """Merge sorted runs (§10). Format 1 ``mrgsort(t, block_len=L)``: each group of 4 runs of length
    L (a multiple of 64, counted along the pair row) becomes one run; same shape. Format 2
    ``mrgsort(a, b[, c, d])``: 2-4 sorted lists of equal rows, joined along the columns.
    Cost driver: the elements of one merge pass (the output valid region)."""
    kernel_scope()
    rec = current()
    tiles = [as_tile(t) for t in lists]
    if not tiles:
        rec.error("pl.mrgsort: expects one tile (with block_len=) or 2-4 sorted lists")
    if block_len is not None:
        if len(tiles) != 1:
            rec.error("pl.mrgsort(block_len=...) takes exactly one tile")
        t = tiles[0]
        if block_len <= 0 or block_len % 64:
            rec.error(f"pl.mrgsort: block_len={block_len} must be a positive multiple of 64")
        if t.shape[-1] % block_len:
            rec.error(f"pl.mrgsort: row length {t.shape[-1]} is not a multiple of block_len={block_len}")
        return record_vec_op("mrgsort", list(t.shape), t.dtype, [t], valid_shape=list(t.valid))
    if not 2 <= len(tiles) <= 4:
        rec.error(f"pl.mrgsort: format 2 merges 2-4 lists, got {len(tiles)}")
    rows = tiles[0].shape[0]
    for t in tiles:
        if t.dtype.name != tiles[0].dtype.name or len(t.shape) != 2 or t.shape[0] != rows:
            rec.error(f"pl.mrgsort: lists {[x.shape for x in tiles]} must be 2-d with equal rows and dtype")
    out = [rows, sum(t.shape[1] for t in tiles)]
    valid = [rows if all(t.valid[0] == t.shape[0] for t in tiles) else min(t.valid[0] for t in tiles),
             sum(t.valid[1] for t in tiles)]
    return record_vec_op("mrgsort", out, tiles[0].dtype, tiles, valid_shape=valid)


def col_expand_expdif(t: Any, v: Any) -> Tile:
    """``exp(t[:, j] - v[0, j])``: one vec op (the cost model adds the exp pass for "expdif")."""
    return ops._expand("col_expand_expdif", t, v, False)


# ------------------------------------------------------------------------------------------------
# Split-region crossings
# ------------------------------------------------------------------------------------------------
def _crossing(name: str, t: Any, want: str) -> Tile:
    kernel_scope()
    rec = current()
    if not isinstance(t, Tile):
        rec.error(f"pl.{name}: expects an on-chip tile, got {type(t).__name__}")
    side = t.node.side if t.node is not None else None
    if want == "cube" and side == "vec":
        rec.error(f"pl.{name}: operand is a vector-side tile; aiv_shard moves a cube result to the AIV lanes")
    if want == "vec" and side == "cube":
        rec.error(f"pl.{name}: operand is a cube-side tile; aic_gather moves AIV results to the AIC")
    return t


def aiv_shard(t: Any) -> Tile:
    """Name the cube -> AIV crossing of a split-region kernel (§13). The transfer itself is recorded
    where a vector op consumes the value (FIXP + MTE2 hand-off); lane halving is not modelled."""
    return _crossing("aiv_shard", t, "cube")


def aic_gather(t: Any) -> Tile:
    """Name the AIV -> cube crossing of a split-region kernel (§13); recorded where the cube op
    consumes the value (MTE3 + MTE2 hand-off)."""
    return _crossing("aic_gather", t, "vec")


# ------------------------------------------------------------------------------------------------
# Legacy optimiser
# ------------------------------------------------------------------------------------------------
class ChunkedLoopOptimizer:
    """Legacy ``pl.chunked_loop_optimizer`` (removed from pypto 2026-05-25, §13).

    Accepted on ``pl.at(optimization=...)`` with a warning; ``split=`` maps to ``pl.split``.
    A ``pl.parallel(n, chunk=C)`` loop in the scope becomes one task per chunk (:class:`ChunkedScope`);
    without such a loop the scope is a plain ``pl.at``.
    """

    def __init__(self, split: Any = None) -> None:
        if split is not None and not isinstance(split, SplitMode):
            current().error(f"pl.chunked_loop_optimizer(split={split!r}): expected a pl.SplitMode")
        self.split = split

    def __call__(self, split: Any = None) -> ChunkedLoopOptimizer:
        return ChunkedLoopOptimizer(split)

    def as_optimizations(self) -> list[tuple[str, Any, Any]]:
        """The HEAD spelling: ``[pl.split(mode)]`` when ``split=`` was given."""
        return [("split", self.split, None)] if self.split is not None else []

    def __repr__(self) -> str:
        return f"pl.chunked_loop_optimizer(split={self.split})"


chunked_loop_optimizer = ChunkedLoopOptimizer()


class ChunkedScope:
    """A ``pl.at(optimization=pl.chunked_loop_optimizer)`` scope running a ``pl.parallel(n, chunk=C)``
    loop: the outer chunk loop is an orchestration ``pl.parallel`` (one task per chunk, each in its
    own runtime scope, no R-seq), the C inner iterations form the kernel (§13, [INFERRED] from the
    old pass docs). Ops before the loop belong to the first chunk's task, ops after it to the last.
    """

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.started = False
        self.parent: Any = None
        self.snapshot: set[int] = set()
        self.written: set[int] = set()
        self.scope: Any = None
        self.stale: set[int] = set()
        self.keep: list[Any] = []

    def _push(self) -> None:
        rec = current()
        self.scope = rec.push_scope("loop", loop_kind="parallel", written=self.snapshot)

    def _pop(self) -> None:
        rec = current()
        rec.pop_scope()
        self.written |= self.scope.written

    def loop(self, r: range, chunk: int) -> Iterator[int]:
        """Iterate ``r``; every ``chunk`` iterations the current task is closed and a new one opened."""
        rec = current()
        if not isinstance(chunk, int) or chunk < 1:
            rec.error(f"pl.parallel(chunk={chunk!r}): chunk must be a positive int")
        if self.started:
            rec.error("pl.chunked_loop_optimizer: only one chunk= loop per scope is supported")
        self.started = True
        ctx = self.ctx
        ks = ctx.ks
        self.parent = rec.scopes[-1]
        self.snapshot = set(self.parent.written)
        self._push()
        ks.task.ring = rec.ring()
        for k, i in enumerate(r):
            if k and k % chunk == 0:
                ks = self._next(ks)
            yield i

    def _next(self, ks: Any) -> Any:
        ctx = self.ctx
        self.check(ks)
        self.keep.extend(ks.nodes)  # keep them alive: their ids must not be reused by new nodes
        stale = {id(n) for n in ks.nodes}
        ks.end_block()
        ctx._close()
        self._pop()
        self._push()
        ks = ctx._open(ctx.frame_key)
        ks.chunk = self
        ks.begin_block(0)
        ctx.ks = ks
        self.stale |= stale
        return ks

    def check(self, ks: Any) -> None:
        """Error if the current chunk's ops use a tile computed in an earlier chunk's task."""
        for n in ks.nodes:
            for i in (*n.inputs, n.acc):
                if i is not None and id(i) in self.stale:
                    current().error(f"pl.chunked_loop_optimizer: op {n.name} uses a tile from an earlier "
                                    "chunk's task (each chunk is a separate kernel)")

    def finish(self) -> None:
        """After the scope's last task is submitted: leave the chunk scope, merge the writes."""
        if self.started:
            self._pop()
            self.parent.written |= self.written


def legacy_optimization(opt: Any, split: Any = None) -> list[Any]:
    """Map the legacy ``pl.at(optimization=..., split=...)`` to an ``optimizations=`` list (warns)."""
    mapped: list[Any] = []
    if split is not None:
        if not isinstance(split, SplitMode):
            current().error(f"pl.at(split={split!r}): expected a pl.SplitMode")
        warnings.warn("pl.at(split=...) is a legacy spelling; recorded as optimizations=[pl.split(mode)]",
                      DeprecationWarning, stacklevel=3)
        mapped = [("split", split, None)]
    if opt is None:
        return mapped
    if isinstance(opt, ChunkedLoopOptimizer):
        warnings.warn("pl.chunked_loop_optimizer is a legacy spelling (removed from pypto 2026-05-25); "
                      "recorded as a plain pl.at" + (" with pl.split" if opt.split is not None else ""),
                      DeprecationWarning, stacklevel=3)
        return opt.as_optimizations() or mapped
    current().error(f"pl.at(optimization={opt!r}): only the legacy pl.chunked_loop_optimizer is accepted")
    return []


def program(cls: Any = None, **_kw: Any) -> Any:
    """``@pl.program`` (class-style programs, §4): named so kernel files import, rejected when applied."""
    raise UserError("@pl.program class-style programs are not supported by the recorder; use @pl.jit entries")


__all__ = ["program", "submit", "spmd_submit", "while_", "cond", "sort32", "mrgsort", "col_expand_expdif",
           "aiv_shard", "aic_gather", "chunked_loop_optimizer", "RUNTIME", "DN", "Predicate"]
