"""Entry points, task scopes and loops: ``pl.jit``, ``pl.at``, ``pl.spmd``, ``pl.range`` & co.

Orchestration code runs as Python. A kernel scope opens a task; its body runs once per block:
the for-form ``for b in pl.spmd(n)`` iterates naturally, the with-form ``with pl.spmd(n) as tid:``
runs the body once for block 0 and then re-executes the body's source for blocks 1..n-1 (the body is
found with ``ast`` from the ``with`` line; it sees the enclosing locals, read-only).
Orchestration loops open one runtime scope per iteration (ring = min(depth, 3)); inside a kernel
the same loop names are device loops (``pl.pipeline(stage=s)`` sets the WAR ring depth).
"""

from __future__ import annotations

import ast
import functools
import inspect
import linecache
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from kernels.dsl.tasks import Recorder, TaskHandle, TaskRec, TensorView, active, current
from kernels.dsl.tiles import KernelScope
from kernels.dsl.types import DTYPES, RUNTIME, DataType, Dyn, Level, TensorType
from sim.ir import CoreShape, TaskGraph, TaskKind
from sim.util.errors import UserError

# ------------------------------------------------------------------------------------------------
# pl.jit / pl.jit.inline / pl.record
# ------------------------------------------------------------------------------------------------


class TensorSpec:
    """A concrete argument for a bare ``pl.Tensor`` parameter: shape, dtype, optional data."""

    def __init__(self, shape: list[int], dtype: DataType, data: Any = None) -> None:
        self.shape = [int(s) for s in shape]
        self.dtype = dtype
        self.data = data


class JitFunction:
    """A ``@pl.jit`` entry: its body is orchestration code. Use :func:`record` to run it."""

    def __init__(self, fn: Callable[..., Any], auto_scope: bool = True) -> None:
        self.fn = fn
        self.auto_scope = auto_scope
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        rec = active()
        if rec is None:
            raise UserError(f"{self.fn.__name__}: call @pl.jit entries through pl.record(...)")
        rec.func_stack.append(self.fn.__name__)
        try:
            return self.fn(*args, **kwargs)
        finally:
            rec.func_stack.pop()


def _inline(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``@pl.jit.inline``: spliced into the caller (a plain call)."""
    fn.__pl_inline__ = True  # type: ignore[attr-defined]
    return fn


class _Jit:
    inline = staticmethod(_inline)
    incore = staticmethod(_inline)

    def __call__(self, fn: Callable[..., Any] | None = None, *, auto_scope: bool = True) -> Any:
        if fn is None:
            return lambda f: JitFunction(f, auto_scope)
        return JitFunction(fn, auto_scope)


jit = _Jit()


def _resolve_dims(shape: tuple[Any, ...], dyn: dict[str, int], where: str) -> tuple[int, ...]:
    out = []
    for d in shape:
        if isinstance(d, Dyn):
            if d.name not in dyn:
                raise UserError(f"{where}: dynamic dim {d.name} is not bound (pass dyn={{'{d.name}': n}})")
            out.append(int(dyn[d.name]))
        else:
            out.append(int(d))
    return tuple(out)


def record(entry: Any, *, kernel: str | None = None, variant: str = "default", mode: str = "decode",
           dyn: dict[str, int] | None = None, params: dict[str, int] | None = None,
           data: dict[str, Any] | None = None, args: dict[str, Any] | None = None,
           **kwargs: Any) -> TaskGraph:
    """Run a ``@pl.jit`` entry with concrete shapes and return its TaskGraph.

    Tensor parameters are created from their annotations (dynamic dims bound by ``dyn``) or from a
    :class:`TensorSpec` passed by keyword; other parameters come from ``kwargs`` or defaults.
    ``data`` maps parameter names to numpy arrays read by scalar ``pl.read``; ``args`` gives
    entry arguments whose names clash with this function's keywords (e.g. ``variant``).
    """
    fn = entry.fn if isinstance(entry, JitFunction) else entry
    kwargs = {**kwargs, **(args or {})}
    name = kernel or fn.__name__
    dyn = dict(dyn or {})
    rec = Recorder(name, variant, mode, params)
    rec.dyn = dyn
    sig = inspect.signature(fn, eval_str=True)
    call: dict[str, Any] = {}
    with rec:
        rec.push_scope("func")
        for pname, p in sig.parameters.items():
            ann = p.annotation
            if pname in kwargs and not isinstance(kwargs[pname], TensorSpec):
                call[pname] = kwargs[pname]
                continue
            if isinstance(ann, TensorType) or isinstance(kwargs.get(pname), TensorSpec):
                spec = kwargs.get(pname)
                direction = ann.direction if isinstance(ann, TensorType) else "In"
                if isinstance(spec, TensorSpec):
                    shape, dt = tuple(spec.shape), spec.dtype
                else:
                    if ann.shape is None or ann.dtype is None:
                        raise UserError(f"{name}: parameter {pname} needs a TensorSpec (bare pl.Tensor)")
                    shape = _resolve_dims(ann.shape, dyn, f"{name}: parameter {pname}")
                    dt = ann.dtype
                view = rec.new_tensor(pname, shape, dt, "param", declared=direction)
                if data and pname in data:
                    view.base.data = data[pname]
                elif isinstance(spec, TensorSpec) and spec.data is not None:
                    view.base.data = spec.data
                call[pname] = view
            elif p.default is RUNTIME:
                raise UserError(f"{name}: parameter {pname} defaults to pl.RUNTIME; pass its value to pl.record")
            elif p.default is not inspect.Parameter.empty:
                continue
            else:
                raise UserError(f"{name}: no value for parameter {pname}")
        rec.func_stack.append(fn.__name__)
        fn(**call)
        rec.func_stack.pop()
        rec.pop_scope()
        return rec.finish()


# ------------------------------------------------------------------------------------------------
# Kernel scopes
# ------------------------------------------------------------------------------------------------
def _user_frame() -> Any:
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(here):
        f = f.f_back
    return f


def _handles(deps: Any) -> list[TaskRec]:
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
            out.extend(_handles(list(d.items)))
        elif isinstance(d, list | tuple):
            out.extend(_handles(d))
        else:
            current().error(f"deps= entry {d!r} is not a task handle")
    return out


_BODY_CACHE: dict[tuple[str, int], Any] = {}
_WITH_NODES: dict[str, tuple[str, list[Any]]] = {}  # file -> (its source, its with-statements)


def _with_nodes(fname: str, line: int) -> list[Any]:
    """The with-statements of ``fname``, parsed once per source text (an edited file is parsed again)."""
    linecache.checkcache(fname)
    src = "".join(linecache.getlines(fname))
    if not src:
        raise UserError(f"{fname}:{line}: with-form pl.spmd needs the kernel source file")
    ent = _WITH_NODES.get(fname)
    if ent is None or ent[0] != src:
        for key in [k for k in _BODY_CACHE if k[0] == fname]:
            del _BODY_CACHE[key]
        ent = _WITH_NODES[fname] = (src, _with_statements(ast.parse(src)))
    return ent[1]


_STMT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")  # fields that hold statement lists


def _with_statements(tree: ast.Module) -> list[Any]:
    """All (async) with-statements of ``tree``, found by descending statement lists only (a with is a
    statement: it never sits inside an expression), which is much cheaper than :func:`ast.walk`."""
    out: list[Any] = []
    todo: list[Any] = [tree]
    while todo:
        node = todo.pop()
        for field in _STMT_LISTS:
            sub = getattr(node, field, None)
            if type(sub) is list:
                for child in sub:
                    if isinstance(child, ast.With | ast.AsyncWith):
                        out.append(child)
                    todo.append(child)
    return out


def _with_body(frame: Any) -> Any:
    """Compile the body of the ``with`` statement executing at ``frame``'s current line."""
    fname, line = frame.f_code.co_filename, frame.f_lineno
    key = (fname, line)
    nodes = _with_nodes(fname, line)
    if key in _BODY_CACHE:
        return _BODY_CACHE[key]
    best = None
    for node in nodes:
        first = node.body[0].lineno
        if node.lineno <= line < first and (best is None or node.lineno >= best.lineno):
            best = node
    if best is None:
        raise UserError(f"{fname}:{line}: could not find the with-statement body of pl.spmd")
    mod = ast.Module(body=best.body, type_ignores=[])
    try:
        code = compile(mod, fname, "exec")
    except SyntaxError as exc:
        raise UserError(f"{fname}:{line}: a with-form pl.spmd body cannot be re-run per block ({exc.msg}); "
                        "use the for-form 'for b in pl.spmd(n)'") from None
    _BODY_CACHE[key] = code
    return code


class _KernelCtx:
    """Shared logic of ``pl.at`` and ``pl.spmd``: one task, ``n`` blocks."""

    def __init__(self, n: int, name_hint: str | None, deps: Any, allow_early_resolve: bool,
                 sync_start: bool, no_dep_args: Any, level: Any = None) -> None:
        rec = current()
        if level is not None and level != Level.CORE_GROUP:
            rec.error(f"pl.at(level={level}): only pl.Level.CORE_GROUP scopes are supported")
        if not isinstance(n, int) or n < 1:
            rec.error(f"pl.spmd: block count {n!r} must be a positive int")
        self.n = n
        self.hint = name_hint
        self.deps = deps
        self.are = allow_early_resolve
        self.sync = sync_start
        self.no_dep = list(no_dep_args or [])
        self.ks: KernelScope | None = None
        self.passthrough = False
        self.frame: Any = None
        self.env: dict[str, Any] = {}
        self.predicate: Any = None

    def _open(self, frame: Any) -> KernelScope:
        rec = current()
        site = (id(frame.f_code), frame.f_lineno, tuple(rec.unroll)) if frame is not None else None
        hint = self.hint
        if hint and rec.unroll:  # each unrolled copy is its own kernel: hint_0, hint_1, ...
            hint = hint + "".join(f"_{i}" for i in rec.unroll)
        name = rec.scope_name(site, hint)
        task = TaskRec(TaskKind.KERNEL, name, rec.ring(), block_num=self.n, site=site)
        task.explicit = _handles(self.deps)
        task.allow_early_resolve = bool(self.are)
        task.sync_start = bool(self.sync)
        if self.predicate is not None:  # HEAD-only dispatch predicate (recorded; policy: true)
            from kernels.dsl.submit import _predicate

            task.predicate = _predicate(self.predicate, task.explicit)
        ks = KernelScope(task, self.n)
        rec.kernel = ks
        return ks

    def _close(self) -> None:
        rec = current()
        ks = self.ks
        assert ks is not None
        task = ks.task
        task.shape = ks.shape()
        for v in self.no_dep:
            if isinstance(v, TensorView) and id(v.capture) in task.args:
                task.args[id(v.capture)].no_dep = True
        rec.kernel = None
        rec.submit(task)

    def _abort(self) -> None:
        rec = active()
        if rec is not None:
            rec.kernel = None


class spmd(_KernelCtx):  # noqa: N801 - pypto spelling
    """``pl.spmd(n, name_hint=..., deps=..., sync_start=..., allow_early_resolve=...)``."""

    def __init__(self, n: int, name_hint: str | None = None, *, deps: Any = None,
                 sync_start: bool = False, allow_early_resolve: bool = False, optimizations: Any = None,
                 predicate: Any = None, core_num: Any = None, no_dep_args: Any = None) -> None:
        super().__init__(n, name_hint, deps, allow_early_resolve, sync_start, no_dep_args)
        self.predicate = predicate

    def __iter__(self) -> Iterator[int]:
        rec = current()
        if rec.kernel is not None:
            rec.error("pl.spmd inside another kernel scope")
        self.ks = self._open(_user_frame())
        ok = False
        try:
            for b in range(self.n):
                self.ks.begin_block(b)
                yield b
                self.ks.end_block()
            ok = True
        finally:
            if ok:
                self._close()
            else:
                self._abort()

    def __enter__(self) -> TaskHandle:
        rec = current()
        if rec.kernel is not None:
            rec.error("pl.spmd inside another kernel scope")
        self.frame = _user_frame()
        self.ks = self._open(self.frame)
        if self.n > 1:  # blocks 1..n-1 re-run the body from the locals as they are now
            self.env = dict(self.frame.f_globals)
            self.env.update(self.frame.f_locals)
        self.ks.begin_block(0)
        return TaskHandle(self.ks.task)

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        if et is not None:
            self._abort()
            return
        assert self.ks is not None
        self.ks.end_block()
        if self.n > 1:
            code = _with_body(self.frame)
            env = self.env
            for b in range(1, self.n):
                self.ks.begin_block(b)
                try:
                    exec(code, dict(env))  # noqa: S102 - re-run the with-body for block b
                except BaseException:
                    self._abort()
                    raise
                self.ks.end_block()
        self._close()
        self.frame = None
        self.env = {}


class at(_KernelCtx):  # noqa: N801
    """``with pl.at(level=pl.Level.CORE_GROUP, name_hint=..., deps=...) [as tid]:`` - 1 block."""

    def __init__(self, level: Any = Level.CORE_GROUP, name_hint: str | None = None, *, deps: Any = None,
                 no_dep_args: Any = None, allow_early_resolve: bool = False, optimizations: Any = None,
                 optimization: Any = None, windowize: bool = False, split: Any = None) -> None:
        super().__init__(1, name_hint, deps, allow_early_resolve, False, no_dep_args, level)
        if optimization is not None or split is not None:  # legacy spellings (§0, §13)
            from kernels.dsl.submit import legacy_optimization

            self.optimizations = legacy_optimization(optimization, split)
        self.chunked = optimization is not None and type(optimization).__name__ == "ChunkedLoopOptimizer"

    def __enter__(self) -> TaskHandle:
        rec = current()
        if rec.kernel is not None:
            ks = rec.kernel
            if not ks.nodes and self.deps is None:
                self.passthrough = True  # sole statement of a with pl.spmd body: InCore wrapper only
                return TaskHandle(ks.task)
            rec.error("pl.at inside another kernel scope")
        frame = _user_frame()
        if getattr(self, "chunked", False):  # legacy chunking: later chunks reopen under this site
            from types import SimpleNamespace

            from kernels.dsl.submit import ChunkedScope

            frame = self.frame_key = SimpleNamespace(f_code=frame.f_code, f_lineno=frame.f_lineno)
            self.ks = self._open(frame)
            self.ks.chunk = ChunkedScope(self)
        else:
            self.ks = self._open(frame)
        self.ks.begin_block(0)
        return TaskHandle(self.ks.task)

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        if self.passthrough:
            return
        chunk = getattr(self.ks, "chunk", None)
        if et is not None:
            self._abort()
            if chunk is not None and chunk.started:
                current().pop_scope()
            return
        assert self.ks is not None
        if chunk is not None:
            chunk.check(self.ks)
        self.ks.end_block()
        self._close()
        if chunk is not None:
            chunk.finish()


def get_block_idx() -> int:
    """Block index inside a kernel scope (0 elsewhere)."""
    rec = active()
    if rec is None or rec.kernel is None or rec.kernel.block_idx is None:
        return 0
    return rec.kernel.block_idx


def get_block_num() -> int:
    rec = active()
    if rec is None or rec.kernel is None:
        return 1
    return rec.kernel.n_blocks


class manual_scope:  # noqa: N801
    """``with pl.manual_scope():`` - tasks inside get only explicit ``deps=`` edges."""

    def __enter__(self) -> None:
        rec = current()
        if rec.kernel is not None:
            rec.error("pl.manual_scope inside a kernel scope")
        if rec.scopes and rec.scopes[-1].manual:
            rec.error("pl.manual_scope cannot be nested in another manual scope")
        rec.push_scope("manual", manual=True, written=rec.scopes[-1].written if rec.scopes else None)

    def __exit__(self, *exc: Any) -> None:
        rec = current()
        s = rec.pop_scope()
        if rec.scopes:
            rec.scopes[-1].written |= s.written


class scope(manual_scope):  # noqa: N801
    """``with pl.scope():`` (manual placement of an AUTO runtime scope)."""

    def __enter__(self) -> None:
        rec = current()
        rec.push_scope("loop", loop_kind="scope", written=rec.scopes[-1].written if rec.scopes else None)


# ------------------------------------------------------------------------------------------------
# Loops
# ------------------------------------------------------------------------------------------------
def _bounds(args: tuple[Any, ...]) -> range:
    vals = [int(a) for a in args]
    if len(vals) == 1:
        return range(vals[0])
    if len(vals) == 2:
        return range(vals[0], vals[1])
    if len(vals) == 3:
        return range(vals[0], vals[1], vals[2])
    raise TypeError("loop takes (stop), (start, stop) or (start, stop, step)")


def _loop(kind: str, args: tuple[Any, ...], stage: int = 1) -> Iterator[int]:
    rec = current()
    r = _bounds(args)
    if rec.kernel is not None:  # device loop
        ks = rec.kernel
        if kind == "pipeline":
            ks.stages.append(max(1, int(stage)))
        try:
            yield from r
        finally:
            if kind == "pipeline":
                ks.stages.pop()
        return
    if kind == "unroll":  # compile-time expansion: straight-line copies (distinct kernels), no scope
        for i in r:
            rec.unroll.append(i)
            try:
                yield i
            finally:
                rec.unroll.pop()
        return
    yield from orchestration_loop(rec, kind, r)


def orchestration_loop(rec: Any, kind: str, it: Iterable[int]) -> Iterator[int]:
    """Iterate ``it`` as an orchestration loop of ``kind``: each iteration body is its own runtime
    scope that starts from a snapshot of what was written before the loop (R-prior), and the
    loop's writes are added to the enclosing scope afterwards."""
    parent = rec.scopes[-1]
    snapshot = set(parent.written)
    written: set[int] = set()
    try:
        for i in it:
            s = rec.push_scope("loop", loop_kind=kind, written=snapshot)
            try:
                yield i
            finally:
                rec.pop_scope()
                written |= s.written
    finally:
        parent.written |= written


def range_(*args: Any, init_values: Any = None) -> Iterator[int]:
    """``pl.range``: orchestration loop (one runtime scope per iteration, R-seq) or device loop."""
    return _loop("range", args)


def parallel(*args: Any, init_values: Any = None, chunk: Any = None) -> Iterator[int]:
    """``pl.parallel``: like range, but writes get no R-seq promotion. ``chunk=C`` splits the loop
    into one task per C iterations inside a legacy ``pl.chunked_loop_optimizer`` scope."""
    rec = active()
    ks = rec.kernel if rec is not None else None
    if chunk is not None and ks is not None and getattr(ks, "chunk", None) is not None:
        return ks.chunk.loop(_bounds(args), chunk)
    return _loop("parallel", args)


def pipeline(*args: Any, stage: int = 2, init_values: Any = None) -> Iterator[int]:
    """``pl.pipeline(n, stage=s)``: in a kernel, each call site inside gets ``s`` buffer slots."""
    return _loop("pipeline", args, stage)


def unroll(*args: Any) -> Iterator[int]:
    """``pl.unroll``: compile-time expansion."""
    return _loop("unroll", args)


def split_aiv(n: int = 2, mode: Any = None) -> Iterator[int]:
    """``pl.split_aiv`` (recorded as lane-0 work only; both-lane splitting is not modelled)."""
    rec = current()
    if rec.kernel is None:
        rec.error("pl.split_aiv outside a kernel scope")
    yield 0


# ------------------------------------------------------------------------------------------------
# Handles, arrays, dummy tasks
# ------------------------------------------------------------------------------------------------
class Array:
    """``pl.array.create(n, dtype)``: a fixed-size array (task handles or ints; None = invalid)."""

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
    def __call__(self, n: int, dtype: Any = None) -> Array:
        return Array(n, dtype)

    create = staticmethod(lambda n, dtype=None: Array(n, dtype))


array = _ArrayNS()


def task_dummy(deps: Any = None) -> TaskHandle | None:
    """``pl.system.task_dummy(deps=[...])``: a DUMMY task joining handles (skipped if all invalid)."""
    rec = current()
    if rec.kernel is not None:
        rec.error("pl.system.task_dummy inside a kernel scope")
    preds = _handles(deps)
    if deps and not preds:
        return None
    t = TaskRec(TaskKind.DUMMY, "task_dummy", rec.ring(), shape=CoreShape.DUMMY)
    t.explicit = preds
    rec.submit(t)
    return TaskHandle(t)


__all__ = ["DTYPES"]
