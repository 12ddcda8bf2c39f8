"""Task submission of kernel functions: ``pl.submit`` (one block) and ``pl.spmd_submit`` (n blocks).

The kernel function's body runs once per block inside a :class:`~kernels.dsl.kernel_scopes.KernelCtx`
task named after the function; its tensor parameters are the task's arguments, in parameter order,
with the declared ``pl.Out``/``pl.InOut`` directions.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from kernels.dsl.context import current
from kernels.dsl.jit import JitFunction
from kernels.dsl.kernel_scopes import KernelCtx
from kernels.dsl.sites import unpacks
from kernels.dsl.tasks import ArgRec, TaskHandle
from kernels.dsl.tensors import TensorView
from kernels.dsl.types import TensorType


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
            deps: Any, allow_early_resolve: bool, sync_start: bool, predicate: Any) -> tuple[Any, TaskHandle]:
    rec = current()
    what = "pl.spmd_submit" if sync_start is not None else "pl.submit"
    if rec.kernel is not None:
        rec.error(f"{what} inside a kernel scope (submit kernels from orchestration code)")
    func = fn.fn if isinstance(fn, JitFunction) else fn
    if not callable(func):
        rec.error(f"{what}: first argument {fn!r} is not a kernel function")
    fname = getattr(func, "__name__", type(func).__name__)
    ctx = KernelCtx(n, name_hint or fname, deps, allow_early_resolve, bool(sync_start), None)
    ctx.predicate = predicate  # evaluated when the task opens, before its body records
    params = _declared(func, args, kwargs)
    # one kernel function = one name, whatever the call site (unrolled copies still get suffixes)
    ks = ctx.open_task(SimpleNamespace(f_code=getattr(func, "__code__", func), f_lineno=-1))
    ctx.ks = ks
    task = ks.task
    for value, _d in params:  # every tensor parameter is a task argument, in parameter order
        if isinstance(value, TensorView) and id(value.capture) not in task.args:
            task.args[id(value.capture)] = ArgRec(value.capture)
    ok = False
    result = None
    try:
        for b in range(n):
            ks.begin_block(b)
            result = func(*args, **kwargs)
            ks.end_block()
        ok = True
    finally:
        if not ok:
            ctx.abort()
    for value, d in params:  # declared pl.Out / pl.InOut apply; anything the body writes is upgraded
        if isinstance(value, TensorView):
            a = task.args[id(value.capture)]
            if d == "InOut":
                a.reads = a.writes = True
            elif d == "Out":
                a.writes = True
            elif not a.writes:
                a.reads = True
    ctx.close_task()
    return result, TaskHandle(task)


def submit(fn: Any, *args: Any, name_hint: str | None = None, deps: Any = None,
           allow_early_resolve: bool = False, predicate: Any = None, dumps: Any = None,
           **kwargs: Any) -> Any:
    """``tid = pl.submit(kernel, *args, deps=..., allow_early_resolve=..., predicate=...)``, or pypto's
    ``result, tid = pl.submit(self.kernel, *args, ...)``.

    One task with one block running ``kernel`` (its name is the task name). Tensor arguments
    take the kernel's declared ``pl.Out``/``pl.InOut`` directions (In otherwise, upgraded when the
    body writes them); explicit ``deps=`` are added to the inferred edges. A statement that unpacks
    two values gets the kernel's return value (of the last block) and the task handle.
    """
    result, handle = _submit(1, fn, args, kwargs, name_hint, deps, allow_early_resolve, None, predicate)
    return (result, handle) if unpacks(sys._getframe(1), 2) else handle


def spmd_submit(n: Any = None, fn: Any = None, *args: Any, name_hint: str | None = None, deps: Any = None,
                allow_early_resolve: bool = False, sync_start: bool = False, predicate: Any = None,
                dumps: Any = None, core_num: Any = None, **kwargs: Any) -> Any:
    """``tid = pl.spmd_submit(n, kernel, *args, ...)`` (also ``(kernel, n, ...)``), or pypto's
    ``result, tid = pl.spmd_submit(self.kernel, *args, core_num=n, ...)``: one task, n blocks.

    The kernel body runs once per block (``pl.get_block_idx()`` gives the block); ``sync_start``
    asks for a gang launch of all blocks. A statement that unpacks two values gets the kernel's return
    value (of the last block) and the task handle.
    """
    if core_num is not None:  # every positional slot after the kernel is the kernel's own argument
        args = args if fn is None and not args else (fn, *args)
        n, fn = core_num, n
    elif callable(n) and not callable(fn):
        n, fn = fn, n
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        current().error(f"pl.spmd_submit: block count {n!r} must be a positive int")
    result, handle = _submit(n, fn, args, kwargs, name_hint, deps, allow_early_resolve, bool(sync_start), predicate)
    return (result, handle) if unpacks(sys._getframe(1), 2) else handle


__all__ = ["submit", "spmd_submit"]
