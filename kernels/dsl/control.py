"""Orchestration control flow and runtime scopes: ``pl.range``, ``pl.parallel``, ``pl.pipeline``,
``pl.unroll``, ``pl.split_aiv``, ``pl.while_``, ``pl.cond``, ``pl.manual_scope``, ``pl.scope``.

In orchestration code each loop iteration is its own runtime scope (pypto
``docs/en/dev/passes/44-materialize_runtime_scopes.md``; ring = min(depth, 3), pypto
``docs/en/user/performance/05-memory.md``) that starts from a snapshot of what was written before
the loop (pypto ``docs/en/dev/passes/37-derive_call_directions.md``); inside a
kernel scope the same names are device loops (``pl.pipeline(stage=s)`` sets the WAR ring depth
of the call sites inside).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from kernels.dsl.context import active, current
from kernels.dsl.sites import unpacks
from kernels.dsl.tensors import TensorView
from kernels.dsl.tiles import Tile


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
        if kind == "unroll":  # straight-line copies: no loop frame
            yield from r
            return
        yield from _device_loop(rec.kernel, r, max(1, int(stage)) if kind == "pipeline" else 0)
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


def _device_loop(ks: Any, it: Iterable[int], stage: int) -> Iterator[int]:
    """Iterate a loop inside a kernel scope. ``stage`` > 0 (``pl.pipeline``): the body is replicated
    ``stage`` times, so iteration ``i`` uses buffer replica ``i % stage`` of every call site inside
    (nested loops included); 0 (``pl.range`` and other plain loops): all iterations share the
    replica of the enclosing iteration, so an inner plain loop's loads wait for the previous
    iteration's readers (pypto-lib ``docs/pypto-coding/pypto-coding-style.md`` and
    ``docs/debug-and-tune/performance-tuning.md``, ``pl.pipeline``)."""
    ks.enter_loop(stage)
    try:
        for i in it:
            ks.next_iteration()
            yield i
    finally:
        ks.exit_loop()


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


# the carried values ``pl.yield_`` gave in the current iteration of each open ``init_values`` loop
# (innermost last; None: no ``yield_`` yet in this iteration)
_CARRY: list[tuple[Any, ...] | None] = []


def _carried(it: Iterator[int], init_values: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """A loop with ``init_values``: yields ``(i, carried)``; the values the body's last ``pl.yield_``
    gives are the next iteration's ``carried`` (pypto ``docs/en/user/language/02-control-flow.md``)."""
    carry = tuple(init_values) if isinstance(init_values, tuple | list) else (init_values,)
    _CARRY.append(None)
    try:
        for i in it:
            _CARRY[-1] = None
            yield i, carry
            if _CARRY[-1] is not None:
                carry = _CARRY[-1]
    finally:
        _CARRY.pop()


def yield_(*vals: Any) -> Any:
    """``pl.yield_``: the values a loop iteration (or a branch) produces; inside an ``init_values``
    loop they are the next iteration's carried values. Returns the value (several: a tuple); one
    value is returned as a 1-tuple to a statement that unpacks it, ``(x,) = pl.yield_(v)``, as
    pypto's parser accepts both spellings."""
    if _CARRY:
        _CARRY[-1] = vals
    if len(vals) != 1:
        return vals
    return (vals[0],) if unpacks(sys._getframe(1), 1) else vals[0]


def _with_carry(it: Iterator[int], init_values: Any) -> Any:
    return it if init_values is None else _carried(it, init_values)


def range_(*args: Any, init_values: Any = None) -> Any:
    """``pl.range``: orchestration loop (one runtime scope per iteration, R-seq) or device loop.
    With ``init_values`` it yields ``(i, carried values)`` (:func:`yield_`)."""
    return _with_carry(_loop("range", args), init_values)


def parallel(*args: Any, init_values: Any = None, chunk: Any = None) -> Any:
    """``pl.parallel``: like range, but writes get no R-seq promotion. ``chunk=C`` splits the loop
    into one task per C iterations inside a legacy ``pl.chunked_loop_optimizer`` scope."""
    rec = active()
    ks = rec.kernel if rec is not None else None
    if chunk is not None and ks is not None and ks.chunk is not None:
        return _with_carry(ks.chunk.loop(_bounds(args), chunk), init_values)
    return _with_carry(_loop("parallel", args), init_values)


def pipeline(*args: Any, stage: int = 2, init_values: Any = None) -> Any:
    """``pl.pipeline(n, stage=s)``: in a kernel, each call site inside gets ``s`` buffer slots."""
    return _with_carry(_loop("pipeline", args, stage), init_values)


def unroll(*args: Any) -> Iterator[int]:
    """``pl.unroll``: compile-time expansion."""
    return _loop("unroll", args)


def split_aiv(n: int = 2, mode: Any = None) -> Iterator[int]:
    """``pl.split_aiv`` (recorded as lane-0 work only; both-lane splitting is not modelled)."""
    rec = current()
    if rec.kernel is None:
        rec.error("pl.split_aiv outside a kernel scope")
    yield 0


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
        yield from _device_loop(rec.kernel, it, 0)
        return
    yield from orchestration_loop(rec, kind, it)


def cond(pred: Any, then_fn: Callable[[], Any] | None = None, else_fn: Callable[[], Any] | None = None) -> Any:
    """``pl.cond(pred, then_fn, else_fn)``: run the branch ``pred`` selects and return its value.

    ``pred`` must be concrete at record time (a Python/``pl.read`` value). In orchestration the
    taken branch runs in its own AUTO runtime scope that starts from a snapshot of what was written
    before it (R-prior, pypto ``docs/en/dev/passes/37-derive_call_directions.md``); in a kernel it is a
    plain branch. Without branches it returns
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
