"""Entries: ``@pl.jit`` functions (orchestration code), ``pl.jit.inline`` helpers, and ``pl.record``, which
runs an entry with concrete shapes and returns its TaskGraph (class-style programs: :mod:`kernels.dsl.programs`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from threadpoolctl import threadpool_limits

from kernels.dsl.context import active
from kernels.dsl.explicit_deps import Array, ArrayType
from kernels.dsl.ir_build import GUARD as OP_GUARD
from kernels.dsl.sites import locate
from kernels.dsl.tasks import Recorder
from kernels.dsl.types import RUNTIME, DataType, Dyn, TensorType
from kernels.dsl.values import begin as values_begin
from kernels.dsl.values import end as values_end
from sim.ir import TaskGraph
from sim.util.errors import UserError


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
            with manual_placement(rec, not self.auto_scope):
                return self.fn(*args, **kwargs)
        finally:
            rec.func_stack.pop()


class manual_placement:  # noqa: N801 - used as a context manager
    """While an ``auto_scope=False`` function runs, its orchestration loop and ``if`` bodies open no
    AUTO runtime scope of their own (they stay on the enclosing scope's depth and ring); only
    ``pl.scope()`` / ``pl.manual_scope()`` open one. Nothing changes when ``on`` is False."""

    def __init__(self, rec: Any, on: bool) -> None:
        self.rec = rec if on else None

    def __enter__(self) -> None:
        if self.rec is not None:
            self.rec.no_auto_scope += 1

    def __exit__(self, *exc: Any) -> None:
        if self.rec is not None:
            self.rec.no_auto_scope -= 1


def _inline(fn: Callable[..., Any] | None = None, *, auto_scope: bool = True) -> Any:
    """``@pl.jit.inline`` / ``@pl.jit.inline(auto_scope=False)``: spliced into the caller (a plain
    call). With ``auto_scope=False`` the inline function's own loops and ``if`` bodies get no AUTO runtime
    scopes (:class:`manual_placement`): their tasks land on the caller's ring, and only the
    ``pl.scope()`` blocks the function opens are runtime scopes."""
    if fn is None:
        return lambda f: _inline(f, auto_scope=auto_scope)
    if auto_scope:
        fn.__pl_inline__ = True  # type: ignore[attr-defined]
        return fn

    @functools.wraps(fn)
    def spliced(*args: Any, **kwargs: Any) -> Any:
        rec = active()
        if rec is None:
            return fn(*args, **kwargs)
        with manual_placement(rec, True):
            return fn(*args, **kwargs)

    spliced.__pl_inline__ = True  # type: ignore[attr-defined]
    return spliced


class UnsupportedJit(UserError, AttributeError):
    """A ``pl.jit.<name>`` decorator the recorder does not implement (``host``, ``opaque``, ...)."""


class DeclinedFunction:
    """A function under a ``pl.jit`` decorator the recorder does not model: defining it is fine, calling
    (or recording) it stops with one line saying why."""

    def __init__(self, fn: Callable[..., Any], what: str, why: str) -> None:
        self.fn = fn
        self.__name__ = getattr(fn, "__name__", what)
        self._msg = f"{what} {self.__name__} is not supported by the swimsim recording DSL ({why})"

    def __call__(self, *_args: Any, **_kwargs: Any) -> Any:
        raise UnsupportedJit(self._msg)


def _declining(what: str, why: str) -> Callable[..., Any]:
    """The decorator ``pl.jit.<name>`` / ``pl.jit.<name>(...)`` for a declined kind of function."""

    def deco(fn: Any = None, **_kw: Any) -> Any:
        if fn is None or not callable(fn):
            return lambda f: DeclinedFunction(f, what, why)
        return DeclinedFunction(fn, what, why)

    return deco


class _Jit:
    """``pl.jit``: ``@pl.jit`` / ``@pl.jit(auto_scope=...)`` entries; ``pl.jit.inline`` (``incore``) helpers,
    also as ``pl.jit.inline(auto_scope=False)``."""

    inline = staticmethod(_inline)
    incore = staticmethod(_inline)

    _WHY = {"extern": "a hand-written C++ kernel: its in-core work is not in the recording, so swimsim has no cost "
                      "for it", "host": "a multi-device host program; swimsim simulates one device"}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        why = self._WHY.get(name, "it records @pl.jit entries and pl.jit.inline helpers of one device")
        if name in self._WHY:  # a file may define one and run only its device entries: stop where it is used
            return _declining(f"pl.jit.{name}", why)
        raise UnsupportedJit(f"pl.jit.{name} is not supported by the swimsim recording DSL ({why})")

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
           data: dict[str, Any] | None = None, args: dict[str, Any] | None = None, values: bool = False,
           **kwargs: Any) -> TaskGraph:
    """Run a ``@pl.jit`` entry with concrete shapes and return its TaskGraph.

    Tensor parameters are created from their annotations (dynamic dims bound by ``dyn``) or from a
    :class:`TensorSpec` passed by keyword; other parameters come from ``kwargs`` or defaults.
    ``data`` maps parameter names to numpy arrays read by scalar ``pl.read``; ``args`` gives
    entry arguments whose names clash with this function's keywords (e.g. ``variant``).
    ``values=True`` computes every op's values (:mod:`kernels.dsl.values`): GM tensors carry arrays,
    ``pl.read`` returns computed elements; the arrays given as data are updated in place by the stores.
    A UserError raised while recording names the kernel's source line (``my_kernel.py:17: ...``).
    """
    prev = values_begin(values)
    try:
        if values:  # many small matmuls: one BLAS thread each is far faster than a contended pool
            with threadpool_limits(1, "blas"):
                return _record(entry, kernel, variant, mode, dyn, params, data, args, kwargs)
        return _record(entry, kernel, variant, mode, dyn, params, data, args, kwargs)
    except UserError as exc:  # the error path only: the recording itself does no extra work
        locate(exc)
        raise
    finally:
        values_end(prev)


def _record(entry: Any, kernel: str | None, variant: str, mode: str, dyn: dict[str, int] | None,
            params: dict[str, int] | None, data: dict[str, Any] | None, args: dict[str, Any] | None,
            kwargs: dict[str, Any]) -> TaskGraph:
    if isinstance(entry, DeclinedFunction):
        entry()
    fn = entry.fn if isinstance(entry, JitFunction) else entry
    kwargs = {**kwargs, **(args or {})}
    name = kernel or fn.__name__
    dyn = dict(dyn or {})
    rec = Recorder(name, variant, mode, params)
    rec.dyn = dyn
    OP_GUARD.count = 0  # the memory guard's message counts this recording's ops
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
            elif isinstance(ann, ArrayType):  # an entry's pl.Array parameter starts with every slot invalid
                call[pname] = Array(ann.n, ann.dtype)
            elif p.default is RUNTIME:
                raise UserError(f"{name}: parameter {pname} defaults to pl.RUNTIME; pass its value to pl.record")
            elif p.default is not inspect.Parameter.empty:
                continue
            else:
                raise UserError(f"{name}: no value for parameter {pname}")
        rec.func_stack.append(fn.__name__)
        with manual_placement(rec, isinstance(entry, JitFunction) and not entry.auto_scope):
            fn(**call)
        rec.func_stack.pop()
        rec.pop_scope()
        return rec.finish()

