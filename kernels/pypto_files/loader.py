"""Running an unmodified pypto kernel file: its ``__main__`` harness (default) or one ``@pl.jit``
entry built from its annotations, each ``run_jit`` call recorded into a :class:`Recording`.

Errors are one :class:`UserError` line starting ``FILE:LINE:`` at the innermost line of the
kernel's folder that raised.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import random
import re
import runpy
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

import kernels.language as pl
from kernels.dsl import values
from kernels.dsl.context import ValueNotComputed
from kernels.dsl.ir_build import ops_watched as ops_watched  # re-exported: the commands that record files
from kernels.dsl.jit import JitFunction
from kernels.dsl.types import Dyn, TensorType
from kernels.dsl.values import STORAGE, round_to, unknown_params
from kernels.pypto_files import golden_standin
from kernels.pypto_files.golden_check import golden_check
from kernels.pypto_files.imports import pypto_imports, torch_installed
from kernels.pypto_files.torch_tensor import TorchUnavailable
from sim.ir import TaskGraph
from sim.util.errors import InputWarning, UserError

_IMPORTS_PYPTO = re.compile(r"^\s*(import\s+(pypto|golden)\b|from\s+(pypto|golden)\b)", re.M)
_REGISTERS = re.compile(r"\bkernels\.(registry|language)\b|^\s*from\s+kernels\b", re.M)

_DTYPES = {"bfloat16": pl.BF16, "float16": pl.FP16, "half": pl.FP16, "float32": pl.FP32, "float": pl.FP32,
           "int8": pl.INT8, "int16": pl.INT16, "int32": pl.INT32, "int64": pl.INT64, "uint8": pl.UINT8,
           "bool": pl.BOOL}


class LocatedError(UserError):
    """An error whose message already starts with its ``FILE:LINE``."""


@dataclass
class Recording:
    """One recorded ``run_jit`` call: the entry's name, its graph, the swimlane level its runtime
    settings ask for (None: not set), the call's ``FILE:LINE``, whether values were computed and the
    golden check's result (:func:`kernels.pypto_files.golden_check.golden_check`; None: not asked)."""

    name: str
    graph: TaskGraph
    level: int | None
    site: str
    values: bool = False
    golden: dict[str, Any] | None = None
    unwritten_zero: bool = False  # values computed with unwritten intermediate GM elements read as 0


def is_pypto_file(path: str | Path) -> bool:
    """Whether ``path`` is a Python file importing ``pypto`` (or pypto-lib's ``golden`` harness) and not written
    against swimsim's DSL."""
    p = Path(path)
    if p.suffix != ".py" or not p.is_file():
        return False
    text = p.read_text(errors="replace")
    return bool(_IMPORTS_PYPTO.search(text)) and not _REGISTERS.search(text)


def _in_folder(filename: str, folder: Path) -> bool:
    try:
        return Path(filename).resolve().is_relative_to(folder)
    except OSError:
        return False


def _site(frames: list[tuple[str, int]], folder: Path, fallback: str) -> str:
    """``FILE:LINE`` of the innermost frame inside ``folder``."""
    for filename, line in reversed(frames):
        if _in_folder(filename, folder):
            return f"{filename}:{line}"
    return fallback


def _located(exc: Exception) -> bool:
    """Whether ``exc`` already names its file and line (the recorder's own location, or the loader's)."""
    return isinstance(exc, LocatedError) or getattr(exc, "kernel_location", None) is not None


def _tb_frames(tb: TracebackType | None) -> list[tuple[str, int]]:
    out = []
    while tb is not None:
        out.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
        tb = tb.tb_next
    return out


def _stack_frames() -> list[tuple[str, int]]:
    frame, out = sys._getframe(1), []  # noqa: SLF001
    while frame is not None:
        out.append((frame.f_code.co_filename, frame.f_lineno))
        frame = frame.f_back
    return out[::-1]


def level_of(runtime_cfg: dict[str, Any]) -> int | None:
    """The swimlane level the harness asks for (``enable_l2_swimlane``, or ``enable_chip_swimlane`` as
    later pypto-lib names it): True -> 4, an int N >= 1 -> N, False / 0 / absent -> None."""
    flag = runtime_cfg.get("enable_chip_swimlane", runtime_cfg.get("enable_l2_swimlane"))
    if flag is True:
        return 4
    if flag is False or flag is None or int(flag) == 0:
        return None
    return int(flag)


def _pl_dtype(dt: Any, where: str) -> Any:
    name = str(dt).removeprefix("torch.")
    if name not in _DTYPES:
        raise UserError(f"{where}: dtype {dt} has no swimsim counterpart")
    return _DTYPES[name]


def _values(init: Any, shape: list[int], np_dtype: Any) -> np.ndarray:
    """The integer data ``init_value`` gives (callable, tensor or number), as a numpy array."""
    v = (init(list(shape)) if golden_standin.is_factory(init) else init()) if callable(init) else init
    if hasattr(v, "detach"):
        v = v.detach().cpu()
        v = v.float().numpy() if getattr(v, "is_floating_point", lambda: False)() else v.numpy()
    arr = np.asarray(v)
    if arr.ndim == 0:
        arr = np.full(shape, arr.item())
    return arr.astype(np_dtype).reshape(shape)


NO_DATA = values.NO_DATA  # input name -> why its initial data could not be built (value mode)


def _full_data(s: Any, dt: Any) -> np.ndarray | None:
    """Value mode: the initial data of tensor spec ``s`` in swimsim's storage type (zeros without one)."""
    st = STORAGE[dt.name]
    if s.init_value is None:
        return np.zeros(list(s.shape), st)
    try:
        # BF16/FP32 go through float32 either way (nearest even); FP16 rounds once, from float64
        arr = _values(s.init_value, list(s.shape), np.dtype(np.float64 if dt.name == "FP16" else st))
    except TorchUnavailable as exc:  # the stand-in lacks a call the initialiser makes: the input stays unknown
        NO_DATA[s.name] = str(exc)
        return None
    return np.ascontiguousarray(round_to(arr, dt, own=True) if st is np.float32 else arr.astype(st))


def _arguments(specs: list[Any], where: str, values: bool = False) -> dict[str, Any]:
    """pl.record arguments: a pl.TensorSpec per tensor (integer data where given; every tensor's data in
    value mode), scalar values."""
    args: dict[str, Any] = {}
    for s in specs:
        if isinstance(s, golden_standin.ScalarSpec):
            v = s.value
            args[s.name] = v.item() if hasattr(v, "item") else v
            continue
        dt = _pl_dtype(s.dtype, where)
        if values:
            args[s.name] = pl.TensorSpec(list(s.shape), dt, _full_data(s, dt))
            continue
        data = None
        integer = str(s.dtype).removeprefix("torch.") in ("int8", "int16", "int32", "int64", "uint8")
        if integer and s.init_value is not None:
            data = _values(s.init_value, list(s.shape), np.dtype(str(s.dtype).removeprefix("torch.")))
        args[s.name] = pl.TensorSpec(list(s.shape), dt, data)
    return args


def _record(fn: Any, name: str, where: str, **kw: Any) -> TaskGraph:
    graph = pl.record(fn, kernel=name, **kw)
    if not graph.kernel_tasks():
        raise LocatedError(f"{where}: recording {name} yields no tasks (no pl.at / incore scope ran)")
    return graph


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    sys.modules["torch"].manual_seed(seed)


def _execute(path: Path, run_name: str) -> dict[str, Any]:
    """Run the file; errors become one line at the innermost line of its folder."""
    folder = path.parent
    try:
        return runpy.run_path(str(path), run_name=run_name)
    except SystemExit as exc:
        if exc.code in (None, 0):
            return {}
        raise UserError(f"{path}: exited with status {exc.code}") from None
    except Exception as exc:
        where = _site(_tb_frames(exc.__traceback__), folder, str(path))
        if _located(exc):
            raise
        if isinstance(exc, UserError):
            raise type(exc)(f"{where}: {exc}") from None
        if isinstance(exc, SyntaxError):
            raise UserError(f"{exc.filename}:{exc.lineno}: SyntaxError: {exc.msg}") from None
        raise UserError(f"{where}: {type(exc).__name__}: {exc}") from None


def _prepare(path: str | Path) -> Path:
    p = Path(path).resolve()
    if not p.is_file():
        raise UserError(f"{path}: no such kernel file")
    if torch_installed():
        importlib.import_module("torch")  # loaded before the snapshot: it stays cached
    return p


def run_harness(path: str | Path, args: list[str], seed: int = 0, entry: str | None = None,
                with_values: bool = True, check_golden: bool = False) -> list[Recording]:
    """Run the file's ``__main__`` with ``args`` as its arguments; one :class:`Recording` per
    ``run_jit`` call (only those of ``entry`` when given). ``with_values``: record in value mode with the
    harness's data (:mod:`kernels.dsl.values`); ``check_golden``: also run the file's golden function on
    the same inputs and compare (needs ``values``).

    When value mode stops at a decision whose value swimsim does not compute (:class:`ValueNotComputed`):
    if the value is an element of an intermediate GM buffer that no task wrote, the file is recorded
    again with such elements read as 0 (a fresh buffer); if that stops too, or the value is of another
    kind, and no golden check is asked, the file is recorded without values (data-dependent decisions
    then take the recorder's static assumptions, as with ``--no-values``; the recordings' ``values`` is
    False). Each step is an :class:`~sim.util.errors.InputWarning` saying why."""
    if not with_values:
        return _run_harness(path, args, seed, entry, False, False)

    def shapes_only(exc: ValueNotComputed) -> list[Recording]:
        if check_golden:  # a golden check needs the values
            raise exc
        warnings.warn(f"{exc}; recorded without values (data-dependent decisions take static assumptions, "
                      "as with --no-values)", InputWarning, stacklevel=3)
        return _run_harness(path, args, seed, entry, False, False)

    try:
        return _run_harness(path, args, seed, entry, True, check_golden)
    except ValueNotComputed as exc:
        if values.UNWRITTEN not in str(exc):
            return shapes_only(exc)
        warnings.warn(f"{exc}; recorded again with unwritten intermediate elements read as 0", InputWarning,
                      stacklevel=2)
    values.STATE.zero_unwritten = True
    try:
        recs = _run_harness(path, args, seed, entry, True, check_golden)
        for r in recs:
            r.unwritten_zero = True
        return recs
    except ValueNotComputed as exc:
        return shapes_only(exc)
    finally:
        values.STATE.zero_unwritten = False


def _run_harness(path: str | Path, args: list[str], seed: int, entry: str | None, with_values: bool,
                 check_golden: bool) -> list[Recording]:
    p = _prepare(path)
    out: list[Recording] = []

    def handler(fn: Any, specs: list[Any], cfg: dict[str, Any], check: dict[str, Any]) -> None:
        name = getattr(fn, "__name__", str(fn))
        if entry is not None and name != entry:
            return
        where = _site(_stack_frames(), p.parent, str(p))
        NO_DATA.clear()
        call = _arguments(specs, where, with_values)
        inputs = {k: np.array(v.data, copy=True) for k, v in call.items()
                  if check_golden and isinstance(v, pl.TensorSpec) and v.data is not None}
        graph = _record(fn, name, where, args=call, values=with_values)
        golden = None
        if check_golden:
            tensors = {k: v for k, v in call.items() if isinstance(v, pl.TensorSpec)}
            unknown = unknown_params()
            final = {**{k: v.data for k, v in tensors.items()}, **values.param_data()}
            golden = golden_check(check["golden"], specs, inputs, final, unknown, check["rtol"], check["atol"],
                                  check.get("compare_fn"))
        out.append(Recording(name, graph, level_of(cfg), where, with_values, golden))

    with pypto_imports(p.parent, [str(p), *args]):
        _seed(seed)
        golden_standin.handler = handler
        had, before = hasattr(builtins, "self"), getattr(builtins, "self", None)
        builtins.self = _PROGRAM_SELF  # type: ignore[attr-defined]
        try:
            _execute(p, "__main__")
        finally:
            golden_standin.handler = None
            if had:
                builtins.self = before  # type: ignore[attr-defined]
            else:
                del builtins.self  # type: ignore[attr-defined]
    return out


class _ProgramSelf:
    """``self`` in a ``@pl.jit`` body: pypto makes the entry a program whose methods are the functions it
    references, so ``self.kernel`` is the ``kernel`` of the calling function's module."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        found = sys._getframe(1).f_globals.get(name)
        if found is None:
            raise AttributeError(f"self.{name}: the module defines no function {name}")
        return found


_PROGRAM_SELF = _ProgramSelf()


def _number(text: str) -> int | float:
    try:
        return int(text, 0)
    except ValueError:
        return float(text)


def _check_bound(fn: Any, entry: str, where: str, dims: dict[str, int], values: dict[str, Any]) -> None:
    """Every dynamic dim and by-value parameter of ``entry`` has a value, or a one-line error
    naming the option that gives it."""
    for pname, p in inspect.signature(fn, eval_str=True).parameters.items():
        ann = p.annotation
        if isinstance(ann, TensorType):
            for d in ann.shape or ():
                if isinstance(d, Dyn) and d.name not in dims:
                    raise LocatedError(f"{where}: {entry}: parameter {pname}: dynamic dim {d.name} is not bound "
                                       f"(give --dyn {d.name}=N)")
        elif p.default is inspect.Parameter.empty and pname not in values:
            raise LocatedError(f"{where}: {entry}: parameter {pname} has no value (give --scalar {pname}=VALUE)")


def record_entry(path: str | Path, entry: str, dyn: dict[str, str] | None = None,
                 scalars: dict[str, str] | None = None, seed: int = 0) -> Recording:
    """Record the ``@pl.jit`` function ``entry`` of the file with inputs from its annotations
    (dynamic dims from ``dyn``, ``pl.Scalar`` parameters from ``scalars``)."""
    p = _prepare(path)
    with pypto_imports(p.parent, [str(p)]):
        _seed(seed)
        names = _execute(p, "__swimsim_pypto__")
        fn = names.get(entry)
        if not isinstance(fn, JitFunction):
            jits = sorted(k for k, v in names.items() if isinstance(v, JitFunction))
            raise UserError(f"{p}: no @pl.jit function {entry!r} (defined: {', '.join(jits) or 'none'})")
        code = getattr(getattr(fn, "fn", fn), "__code__", None)
        where = f"{code.co_filename}:{code.co_firstlineno}" if code else str(p)
        dims = {k: int(_number(v)) for k, v in (dyn or {}).items()}
        values = {k: _number(v) for k, v in (scalars or {}).items()}
        _check_bound(fn.fn, entry, where, dims, values)
        try:
            graph = _record(fn, entry, where, dyn=dims, args=values)
        except UserError as exc:
            if _located(exc):
                raise
            tb_where = _site(_tb_frames(exc.__traceback__), p.parent, where)
            raise UserError(f"{tb_where}: {exc}") from None
        except Exception as exc:
            tb_where = _site(_tb_frames(exc.__traceback__), p.parent, where)
            raise UserError(f"{tb_where}: {type(exc).__name__}: {exc}") from None
    return Recording(entry, graph, None, where)
