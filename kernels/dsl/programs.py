"""Class-style programs: ``@pl.program`` classes whose methods are ``@pl.function`` functions (pypto
``docs/en/user/language/01-functions.md``, "``@pl.function`` and ``@pl.program``").

Each method takes ``self`` and calls the program's other functions as ``self.name(...)``. By function
type: an ``Orchestration`` function is the program's entry (or, without one, its only ``Opaque``
function); an ``InCore`` function called from orchestration code is one kernel task named after the
function (its body runs as a ``pl.at`` scope at the call); ``Opaque`` and ``Inline`` functions run
where they are called (an ``Opaque`` body holds orchestration code and its own ``pl.at`` scopes).
Mixed-kernel groups (``AIC`` / ``AIV`` / ``Group`` functions) stop with one line.
"""

from __future__ import annotations

import sys
import types
from enum import Enum
from typing import Any

from kernels.dsl.context import active, current
from kernels.dsl.kernel_scopes import at
from kernels.dsl.tasks import TaskHandle
from sim.util.errors import UserError


class FunctionType(Enum):
    """The plane of a ``@pl.function``."""

    Opaque = "Opaque"
    InCore = "InCore"
    Orchestration = "Orchestration"
    Inline = "Inline"
    AIC = "AIC"
    AIV = "AIV"
    Group = "Group"


_RUNS_IN_PLACE = (FunctionType.Opaque, FunctionType.Inline, FunctionType.Orchestration)


class _InCoreCall(at):
    """The task of one InCore function call: named after the function, its kernel keyed by the function
    (every call runs the same kernel)."""

    def __init__(self, fn: Any) -> None:
        super().__init__(name_hint=fn.__name__)
        self.site = types.SimpleNamespace(f_code=fn.__code__, f_lineno=fn.__code__.co_firstlineno)

    def __enter__(self) -> TaskHandle:
        current()
        self.ks = self.open_task(self.site)
        self.ks.begin_block(0)
        return TaskHandle(self.ks.task)


class ProgramFunction:
    """A ``@pl.function`` method; reading it from a program's ``self`` gives the callable."""

    def __init__(self, fn: Any, ftype: Any) -> None:
        self.fn = fn
        self.type = ftype if isinstance(ftype, FunctionType) else FunctionType(getattr(ftype, "name", ftype))
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        return types.MethodType(self.call, obj)

    def call(self, obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Runs the function for the program instance ``obj``: an InCore function called from
        orchestration code is one ``pl.at`` task named after it; other types run in place."""
        if self.type in _RUNS_IN_PLACE:
            return self.fn(obj, *args, **kwargs)
        if self.type is not FunctionType.InCore:
            raise UserError(f"@pl.function(type=pl.FunctionType.{self.type.name}) {self.__name__}: mixed-kernel "
                            "function groups are not supported by the swimsim recording DSL")
        rec = active()
        if rec is None or rec.kernel is not None:  # already inside a kernel: a plain call
            return self.fn(obj, *args, **kwargs)
        with _InCoreCall(self.fn):
            return self.fn(obj, *args, **kwargs)


def function(fn: Any = None, *, type: Any = FunctionType.Opaque, **_kw: Any) -> Any:  # noqa: A002 - pypto's name
    """``@pl.function`` / ``@pl.function(type=pl.FunctionType.X)``: a program function."""
    if fn is None:
        return lambda f: ProgramFunction(f, type)
    return ProgramFunction(fn, type)


class Program:
    """What ``@pl.program`` makes of a class: its functions and the entry a harness runs."""

    def __init__(self, cls: type, scope: dict[str, Any] | None = None) -> None:
        self.cls = cls
        self.name = cls.__name__
        self.functions = {k: v for k, v in vars(cls).items() if isinstance(v, ProgramFunction)}
        self._self = object.__new__(cls)
        for f in self.functions.values():
            _resolve_annotations(f.fn, scope or {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("cls", "functions", "_self"):
            raise AttributeError(name)
        return getattr(self._self, name)

    def entry(self) -> Any:
        """The entry as a bound method (``self`` supplied): the Orchestration function, else the only
        Opaque one; anything else stops with one line naming the candidates."""
        for kind in (FunctionType.Orchestration, FunctionType.Opaque):
            found = [k for k, f in self.functions.items() if f.type is kind]
            if len(found) == 1:
                return types.MethodType(self.functions[found[0]].fn, self._self)
            if found:
                raise UserError(f"@pl.program {self.name}: {len(found)} {kind.name} functions ({', '.join(found)}); "
                                "expected one entry")
        raise UserError(f"@pl.program {self.name}: no Orchestration or Opaque function to run")


def _resolve_annotations(fn: Any, scope: dict[str, Any]) -> None:
    """Evaluates ``fn``'s string annotations (``from __future__ import annotations``) where the program
    is defined: its module's names and the locals of the function that builds the class (a builder's
    ``batch`` parameter in ``pl.Tensor[[batch, ...]]``)."""
    ann = getattr(fn, "__annotations__", {})
    for k, v in list(ann.items()):
        if isinstance(v, str):
            try:
                ann[k] = eval(v, fn.__globals__, scope)  # noqa: S307 - the kernel file's own annotation
            except Exception as exc:  # noqa: BLE001 - reported as the file's annotation error
                raise UserError(f"{fn.__name__}: annotation of {k} ({v}): {type(exc).__name__}: {exc}") from None


def program(cls: Any = None, **_kw: Any) -> Any:
    """``@pl.program``: the class as a :class:`Program` (annotations resolved in the defining scope)."""
    scope = dict(sys._getframe(1).f_locals)  # noqa: SLF001 - the builder function's locals
    if cls is None:
        return lambda c: Program(c, scope)
    return Program(cls, scope)
