"""The legacy ``pl.chunked_loop_optimizer`` and ``pl.at(optimization=..., split=...)`` spellings (retired in
pypto PR #1819; pypto-lib kernels wrote them until pypto-lib PR #529, 2026-06-15).

Both are accepted with a DeprecationWarning. A chunked ``pl.at`` scope holding a
``pl.parallel(n, chunk=C)`` loop records one task per chunk (:class:`ChunkedScope`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

from kernels.dsl.context import current
from kernels.dsl.types import SplitMode


class ChunkedLoopOptimizer:
    """Legacy ``pl.chunked_loop_optimizer`` (retired in pypto PR #1819).

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


class AutoChunk:
    """``pl.auto_chunk`` (pypto PR #1033, removed in #1895): in ``pl.at(optimizations=[pl.auto_chunk, ...])``
    it asks for what ``pl.chunked_loop_optimizer`` asked for (:class:`ChunkedScope`)."""

    def __repr__(self) -> str:
        return "pl.auto_chunk"


auto_chunk = AutoChunk()


class ChunkedScope:
    """A ``pl.at(optimization=pl.chunked_loop_optimizer)`` scope running a ``pl.parallel(n, chunk=C)``
    loop: the outer chunk loop is an orchestration ``pl.parallel`` (one task per chunk, each in its
    own runtime scope, no R-seq), the C inner iterations form the kernel ([INFERRED] from pypto's
    SplitChunkedLoops pass docs before PR #1819, ``docs/en/dev/passes/07-split_chunked_loops.md``).
    Ops before the loop belong to the first chunk's task, ops after it to the last.
    ``ctx`` is the ``pl.at`` scope (its ``ks``, ``frame_key``, ``open_task``, ``close_task`` are used).
    """

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.spelling = getattr(ctx, "spelling", "pl.chunked_loop_optimizer")  # how the file asked for it
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
            rec.error(f"{self.spelling}: only one chunk= loop per scope is supported (the compiler's outlining of a "
                      "wider chunked region into several kernels is not modelled)")
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
        ctx.close_task()
        self._pop()
        self._push()
        ks = ctx.open_task(ctx.frame_key)
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
                    current().error(f"{self.spelling}: op {n.name} uses a tile from an earlier "
                                    "chunk's task (each chunk is a separate kernel)")

    def check_node(self, node: Any) -> None:
        """Error if ``node`` (an operand of an op being recorded) is a tile of an earlier chunk's task."""
        if id(node) in self.stale:
            current().error(f"{self.spelling}: op {node.name} gives a tile of an earlier chunk's task "
                            "to a later chunk (each chunk is a separate kernel; the compiler's outlining of such "
                            "a value into a kernel of its own is not modelled)")

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
