"""``pypto.backend`` and ``pypto.runtime`` as a pypto kernel file sees them while swimsim runs it, and
the direct device calls of a ``@pl.jit`` entry.

pypto runs an entry on the device when the harness calls it with torch tensors (``entry(*tensors,
config=RunConfig(...))``) or calls the program ``entry.compile(*tensors, config=...)`` returns. Here
either call records the entry with the call's tensors as inputs, through the same recording
``golden.run_jit`` uses; the tensors keep their values (no results are written back). The backend
setting accepts the a2a3 die (``BackendType.Ascend910B``) that swimsim models.
"""

from __future__ import annotations

import enum
import inspect
import tempfile
from pathlib import Path
from typing import Any

from kernels.dsl.context import active
from kernels.dsl.jit import JitFunction
from kernels.pypto_files import golden_standin
from sim.util.errors import UserError


class BackendType(enum.Enum):
    """The code-generation backends pypto names: a2a3 (910B/910C) and a5 (950); before pypto PR #435 the
    two 910B backends were ``CCE`` and ``PTO``."""

    Ascend910B = "a2a3"  # noqa: N815 - pypto's spelling
    Ascend950 = "a5"  # noqa: N815
    CCE = "a2a3 (CCE code generation)"
    PTO = "a2a3 (PTO code generation)"


_A2A3 = (BackendType.Ascend910B, BackendType.CCE, BackendType.PTO)


_backend = BackendType.Ascend910B


def set_backend_type(backend: Any) -> None:
    """Selects the backend: the a2a3 die is the one swimsim models; another stops with one line."""
    global _backend  # noqa: PLW0603 - the setting is process-wide, as in pypto
    if backend not in _A2A3:
        raise UserError(f"pypto.backend.set_backend_type({backend}): swimsim models the a2a3 die "
                        "(BackendType.Ascend910B) only")
    _backend = backend


def get_backend_type() -> BackendType:
    """The selected backend."""
    return _backend


def is_backend_configured() -> bool:
    """Always configured: the a2a3 die."""
    return True


def pto_isa_include_dir() -> Path:
    """Where pypto finds pto-isa's headers for a hand-written kernel's compile flags. swimsim compiles
    nothing: a placeholder path, so a file that builds such flags at import gets to the
    ``pl.jit.extern`` call, which stops with one line."""
    return Path("pto-isa") / "include"


class OptimizationStrategy(enum.Enum):
    """``pypto.ir.pass_manager.OptimizationStrategy``: the compile strategy a harness names (swimsim
    records the program as written under any of them)."""

    Default = "Default"
    PTOAS = "PTOAS"
    SuperscalarNPU = "SuperscalarNPU"


class RunConfig:
    """pypto's run settings: keyword fields kept as attributes; swimsim reads the swimlane level
    (``enable_l2_swimlane`` / ``enable_chip_swimlane``) and the platform."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


def _specs(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    """Tensor and scalar specs of a direct call, named by the entry's parameters."""
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except TypeError as exc:
        raise UserError(f"{fn.__name__}: {exc}") from None
    specs: list[Any] = []
    for name, value in bound.arguments.items():
        if hasattr(value, "shape") and hasattr(value, "dtype"):
            specs.append(golden_standin.TensorSpec(name, [int(d) for d in value.shape], value.dtype, value))
        elif isinstance(value, bool | int | float):
            specs.append(golden_standin.ScalarSpec(name, type(value), value))
        elif value is not None:
            raise UserError(f"{fn.__name__}: argument {name} is a {type(value).__name__} "
                            "(expected a tensor or a number)")
    return specs


def _dispatch(entry: JitFunction, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Records one device run of ``entry`` as ``golden.run_jit`` records a harness run (no golden function,
    so no tolerances or comparators)."""
    config = kwargs.pop("config", None)
    if golden_standin.handler is None:
        raise UserError(f"{entry.fn.__name__}: a device call of a @pl.jit entry runs only under `swimsim run`")
    golden_standin.run_jit(entry, _specs(entry.fn, args, kwargs), config=config, compare_fn={}, rtol=0.0, atol=0.0)


class CompiledProgram:
    """What ``entry.compile(...)`` returns: calling it runs (records) the entry; ``output_dir`` is an
    empty directory (no generated sources)."""

    def __init__(self, entry: JitFunction) -> None:
        self._entry = entry
        self._dir = tempfile.TemporaryDirectory(prefix="swimsim-compiled-")
        self.output_dir = Path(self._dir.name)
        self.functions: dict[str, Any] = {}

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        _dispatch(self._entry, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise UserError(f"CompiledProgram.{name} (compiled IR and artifacts) is not modelled by swimsim: it records "
                        "the program's device runs")


class PyptoEntry(JitFunction):
    """A ``@pl.jit`` entry of a pypto file: inside a recording it runs as orchestration code; called
    by the harness it is a device run (recorded); ``compile`` returns a :class:`CompiledProgram`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if active() is not None:
            return super().__call__(*args, **kwargs)
        _dispatch(self, args, dict(kwargs))
        return None

    def compile(self, *_args: Any, **_kw: Any) -> CompiledProgram:
        """The compiled program: calling it records the entry."""
        return CompiledProgram(self)

