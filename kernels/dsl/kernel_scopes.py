"""Kernel scopes: ``pl.at`` and ``pl.spmd``, each one task whose body runs once per block.

The for-form ``for b in pl.spmd(n)`` iterates naturally; the with-form ``with pl.spmd(n) as tid:``
runs the body once for block 0 and then re-executes the body's source for blocks 1..n-1
(:mod:`kernels.dsl.with_body`; it sees the enclosing locals, read-only). While a scope is open its
:class:`~kernels.dsl.tiles.KernelScope` is the recording's ``kernel``; closing it submits the task.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from kernels.dsl.context import active, current
from kernels.dsl.explicit_deps import dispatch_predicate, evaluate_predicate, handles
from kernels.dsl.legacy import AutoChunk, ChunkedLoopOptimizer, ChunkedScope, auto_chunk, legacy_optimization
from kernels.dsl.sites import DSL_DIR
from kernels.dsl.tasks import TaskHandle, TaskRec
from kernels.dsl.tensors import TensorView
from kernels.dsl.tiles import KernelScope
from kernels.dsl.types import Level
from kernels.dsl.values import STATE as VALUES
from kernels.dsl.with_body import with_body
from sim.ir import TaskKind


def _user_frame() -> Any:
    """The innermost frame outside ``kernels/dsl`` (the kernel code that opened the scope)."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(DSL_DIR):
        f = f.f_back
    return f


class KernelCtx:
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
        self.values_prev: bool | None = None  # value mode to restore after a skipped (predicate false) body

    def open_task(self, frame: Any) -> KernelScope:
        """Open the scope's task (named after the call site ``frame``) and make it the recording's kernel."""
        rec = current()
        site = (id(frame.f_code), frame.f_lineno, tuple(rec.unroll)) if frame is not None else None
        hint = self.hint
        if hint and rec.unroll:  # each unrolled copy is its own kernel: hint_0, hint_1, ...
            hint = hint + "".join(f"_{i}" for i in rec.unroll)
        name = rec.scope_name(site, hint)
        task = TaskRec(TaskKind.KERNEL, name, rec.ring(), block_num=self.n, site=site)
        task.explicit = handles(self.deps)
        task.allow_early_resolve = bool(self.are)
        task.sync_start = bool(self.sync)
        if self.predicate is not None:  # dispatch predicate: evaluated with values, else assumed to pass
            task.predicate = dispatch_predicate(self.predicate, task.explicit)
            self.values_prev = evaluate_predicate(task)
        ks = KernelScope(task, self.n)
        rec.kernel = ks
        return ks

    def close_task(self) -> None:
        """Close the open task: its core shape and NoDep arguments, then submit it."""
        rec = current()
        ks = self.ks
        assert ks is not None
        task = ks.task
        task.shape = ks.shape()
        for v in self.no_dep:
            if isinstance(v, TensorView) and id(v.capture) in task.args:
                task.args[id(v.capture)].no_dep = True
        rec.kernel = None
        self._restore_values()
        task.rt_scope = rec.scopes[-1] if rec.scopes else None
        rec.submit(task)

    def _restore_values(self) -> None:
        if self.values_prev is not None:
            VALUES.on = self.values_prev
            self.values_prev = None

    def abort(self) -> None:
        """Leave the kernel scope after an error in its body (the task is not submitted)."""
        rec = active()
        if rec is not None:
            rec.kernel = None
        self._restore_values()


class spmd(KernelCtx):  # noqa: N801 - pypto spelling
    """``pl.spmd(n, name_hint=..., deps=..., sync_start=..., allow_early_resolve=...)``."""

    def __init__(self, n: int, name_hint: str | None = None, *, deps: Any = None,
                 sync_start: bool = False, allow_early_resolve: bool = False, optimizations: Any = None,
                 predicate: Any = None, core_num: Any = None, no_dep_args: Any = None, dumps: Any = None) -> None:
        super().__init__(n, name_hint, deps, allow_early_resolve, sync_start, no_dep_args)
        self.predicate = predicate

    def __iter__(self) -> Iterator[int]:
        rec = current()
        if rec.kernel is not None:
            rec.error("pl.spmd inside another kernel scope")
        self.ks = self.open_task(_user_frame())
        ok = False
        try:
            for b in range(self.n):
                self.ks.begin_block(b)
                yield b
                self.ks.end_block()
            ok = True
        finally:
            if ok:
                self.close_task()
            else:
                self.abort()

    def __enter__(self) -> TaskHandle:
        rec = current()
        if rec.kernel is not None:
            rec.error("pl.spmd inside another kernel scope")
        self.frame = _user_frame()
        self.ks = self.open_task(self.frame)
        if self.n > 1:  # blocks 1..n-1 re-run the body from the locals as they are now
            self.env = dict(self.frame.f_globals)
            self.env.update(self.frame.f_locals)
        self.ks.begin_block(0)
        return TaskHandle(self.ks.task)

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        if et is not None:
            self.abort()
            return
        assert self.ks is not None
        self.ks.end_block()
        if self.n > 1:
            code = with_body(self.frame)
            env = self.env
            for b in range(1, self.n):
                self.ks.begin_block(b)
                try:
                    exec(code, dict(env))  # noqa: S102 - re-run the with-body for block b
                except BaseException:
                    self.abort()
                    raise
                self.ks.end_block()
        self.close_task()
        self.frame = None
        self.env = {}


class at(KernelCtx):  # noqa: N801
    """``with pl.at(level=pl.Level.CORE_GROUP, name_hint=..., deps=...) [as tid]:`` - 1 block."""

    def __init__(self, level: Any = Level.CORE_GROUP, name_hint: str | None = None, *, deps: Any = None,
                 no_dep_args: Any = None, allow_early_resolve: bool = False, optimizations: Any = None,
                 optimization: Any = None, windowize: bool = False, split: Any = None, dumps: Any = None) -> None:
        super().__init__(1, name_hint, deps, allow_early_resolve, False, no_dep_args, level)
        if optimization is not None or split is not None:  # legacy spellings (kernels.dsl.legacy)
            self.optimizations = legacy_optimization(optimization, split)
        self.chunked = isinstance(optimization, ChunkedLoopOptimizer) or any(
            isinstance(o, AutoChunk) for o in (optimizations or []))
        self.spelling = ("pl.chunked_loop_optimizer" if optimization is not None
                         else "pl.at(optimizations=[pl.auto_chunk])")

    def __enter__(self) -> TaskHandle:
        rec = current()
        if rec.kernel is not None:
            ks = rec.kernel
            if not ks.nodes and self.deps is None:
                self.passthrough = True  # sole statement of a with pl.spmd body: InCore wrapper only
                return TaskHandle(ks.task)
            rec.error("pl.at inside another kernel scope")
        frame = _user_frame()
        if self.chunked:  # legacy chunking: later chunks reopen under this site
            frame = self.frame_key = SimpleNamespace(f_code=frame.f_code, f_lineno=frame.f_lineno)
            self.ks = self.open_task(frame)
            self.ks.chunk = ChunkedScope(self)
        else:
            self.ks = self.open_task(frame)
        self.ks.begin_block(0)
        return TaskHandle(self.ks.task)

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        if self.passthrough:
            return
        chunk = self.ks.chunk if self.ks is not None else None
        if et is not None:
            self.abort()
            if chunk is not None and chunk.started:
                current().pop_scope()
            return
        assert self.ks is not None
        if chunk is not None:
            chunk.check(self.ks)
        self.ks.end_block()
        self.close_task()
        if chunk is not None:
            chunk.finish()


def incore(split: Any = None, *, name_hint: str = "") -> at:
    """``with pl.incore():`` (retired in pypto PR #1819): ``pl.at(level=pl.Level.CORE_GROUP)``."""
    return at(name_hint=name_hint or None, optimizations=[split] if split is not None else None)


def auto_incore(split: Any = None, *, name_hint: str = "") -> at:
    """``with pl.auto_incore():`` (retired in pypto PR #1819): ``pl.at(level=pl.Level.CORE_GROUP,
    optimizations=[pl.auto_chunk])`` - its ``chunk=`` loop gives one task per chunk."""
    scope = at(name_hint=name_hint or None, optimizations=[auto_chunk] + ([split] if split is not None else []))
    scope.spelling = "pl.auto_incore"
    return scope


def get_block_idx() -> int:
    """Block index inside a kernel scope (0 elsewhere)."""
    rec = active()
    if rec is None or rec.kernel is None or rec.kernel.block_idx is None:
        return 0
    return rec.kernel.block_idx


def get_block_num() -> int:
    """Block count of the open kernel scope (1 elsewhere)."""
    rec = active()
    if rec is None or rec.kernel is None:
        return 1
    return rec.kernel.n_blocks
