"""Kernel registry: ``build_graph("kernel[:variant]", mode)`` for the CLI and the engine.

A spec may also name a user's kernel file, ``my_kernel.py[:variant]``: the file is imported once
and the kernel its ``register(...)`` call added is used.

Kernels register a builder ``builder(variant, mode, **options) -> TaskGraph`` with
:func:`register`. The built-in models are the modules :mod:`kernels.models` names (``REQUIRED``,
``OPTIONAL``): each is imported by name when its kernel is first asked for, and its ``build``,
``VARIANTS`` and ``MODES`` registered; an optional model that fails to import is reported when named.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kernels import graph_cache, models
from kernels.dsl.sites import locate
from sim.ir import TaskGraph
from sim.util.errors import UserError
from sim.util.gcpause import gc_paused

DEFAULT_VARIANT = "baseline"


@dataclass
class KernelEntry:
    name: str
    builder: Callable[..., TaskGraph]
    variants: list[str]
    modes: list[str]


_REGISTRY: dict[str, KernelEntry] = {}
_BROKEN: dict[str, str] = {}  # kernel name -> import error of its optional module
_loaded = False
_optional_done: set[str] = set()


def register(name: str, builder: Callable[..., TaskGraph], variants: list[str], modes: list[str]) -> None:
    """Register (or replace) a kernel: ``builder(variant, mode, **options) -> TaskGraph``."""
    _REGISTRY[name] = KernelEntry(name, builder, list(variants), list(modes))


def _register_model(name: str, module: Any) -> None:
    """Register the kernel ``name`` of a built-in model module (its ``build``, ``VARIANTS``, ``MODES``)."""
    register(name, module.build, module.VARIANTS, list(module.MODES))


def _load(kernel: str | None = None) -> None:
    """Register the built-in kernels; import the optional model modules - only the one named
    ``kernel`` when that names one (keeps ``swimsim run qkv_proj_rope`` from importing them all)."""
    global _loaded
    if not _loaded:
        _loaded = True
        for name, mod in models.REQUIRED.items():
            _register_model(name, importlib.import_module(mod))
    if kernel is not None and kernel in _REGISTRY:
        return
    for name, mod in models.OPTIONAL.items():
        if mod in _optional_done or (kernel is not None and kernel != name and kernel in models.OPTIONAL):
            continue
        _optional_done.add(mod)
        if importlib.util.find_spec(mod) is None:
            continue
        try:
            module = importlib.import_module(mod)
        except Exception as exc:  # a broken optional model must not take the others down
            _BROKEN[name] = f"{type(exc).__name__}: {exc}"
            continue
        _register_model(name, module)


def available() -> dict[str, list[str]]:
    """Registered kernels and their variants."""
    _load()
    return {k: list(e.variants) for k, e in sorted(_REGISTRY.items())}


def modes(kernel: str) -> list[str]:
    _load(kernel)
    return list(_REGISTRY[kernel].modes) if kernel in _REGISTRY else []


_FILES: dict[Path, list[str]] = {}  # resolved kernel file -> the kernels it registered
_FROM_FILE: dict[str, Path] = {}  # kernel name -> the user file that registered it


def _user_line(tb: Any, path: Path) -> str:
    """`` (line N)`` of the innermost traceback frame inside ``path``, if any."""
    line = ""
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename).resolve() == path:
            line = f" (line {tb.tb_lineno})"
        tb = tb.tb_next
    return line


def load_kernel_file(path: str | Path) -> list[str]:
    """Import a user's kernel file once; the kernels its ``register(...)`` calls added or replaced."""
    p = Path(path).resolve()
    if p in _FILES:
        return _FILES[p]
    if not p.is_file():
        raise UserError(f"{path}: no such kernel file")
    _load()
    before = dict(_REGISTRY)
    name = f"swimsim_kernel_{len(_FILES)}_{p.stem}"
    spec = importlib.util.spec_from_file_location(name, p)
    if spec is None or spec.loader is None:
        raise UserError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(p.parent))  # as for a script: its own directory's modules import
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's code: report it in one line, pointing into their file
        sys.modules.pop(name, None)
        if isinstance(exc, UserError):  # a pl misuse at import: named by its line (once, if already)
            if getattr(locate(exc), "kernel_location", None) is None:
                raise UserError(f"{path}: {exc}") from None
            raise
        if isinstance(exc, SyntaxError):
            line, msg = f" (line {exc.lineno})", exc.msg
        else:
            line, msg = _user_line(exc.__traceback__, p), str(exc)
        raise UserError(f"{path}: import failed{line}: {type(exc).__name__}: {msg}") from None
    finally:
        if str(p.parent) in sys.path:  # the file may have edited sys.path itself
            sys.path.remove(str(p.parent))
    added = [k for k, e in _REGISTRY.items() if before.get(k) is not e]
    if not added:
        raise UserError(f"{path}: registers no kernel (call kernels.registry.register(name, build, ...))")
    _FILES[p] = added
    for k in added:
        _FROM_FILE[k] = p
    return added


def _file_kernel(part: str) -> str:
    """The kernel a ``my_kernel.py`` spec part stands for: the file's only kernel, or the one named
    like the file."""
    names = load_kernel_file(part)
    if len(names) == 1:
        return names[0]
    stem = Path(part).stem
    if stem in names:
        return stem
    raise UserError(f"{part}: registers several kernels ({', '.join(names)}) and none is named {stem!r}; "
                    "register one kernel per file, or name it after the file")


def parse_spec(spec: str) -> tuple[str, str]:
    """``"kernel[:variant]"`` or ``"file.py[:variant]"`` -> (kernel, variant); errors name the bad part."""
    kernel, _, variant = spec.partition(":")
    kernel = kernel.strip()
    if kernel.endswith(".py"):
        kernel = _file_kernel(kernel)
    _load(kernel)
    if kernel not in _REGISTRY and kernel in _BROKEN:
        raise UserError(f"{kernel}: its model module failed to import ({_BROKEN[kernel]})")
    if kernel not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise UserError(f"unknown kernel {kernel!r} (available: {known})")
    entry = _REGISTRY[kernel]
    variant = variant.strip() or (DEFAULT_VARIANT if DEFAULT_VARIANT in entry.variants else entry.variants[0])
    if variant not in entry.variants:
        raise UserError(f"{kernel}: unknown variant {variant!r} (available: {', '.join(entry.variants)})")
    return kernel, variant


def _cacheable(kernel: str) -> bool:
    """Whether ``kernel`` names a built-in model (not replaced by a user kernel file's ``register``)."""
    if kernel in _FROM_FILE or kernel not in models.REQUIRED and kernel not in models.OPTIONAL:
        return False
    e = _REGISTRY.get(kernel)
    return e is None or getattr(e.builder, "__module__", None) in (models.REQUIRED.get(kernel),
                                                                      models.OPTIONAL.get(kernel))


def build_graph(spec: str, mode: str = "decode", **options: Any) -> TaskGraph:
    """Record the task graph of ``kernel[:variant]`` in ``mode`` (options go to the builder). A
    built-in model's graph comes from the on-disk cache of :mod:`kernels.graph_cache` when it holds
    the graph recorded by the current sources (the kernel's module is then not even imported)."""
    name, _, var = spec.partition(":")
    name, var = name.strip(), var.strip() or DEFAULT_VARIANT
    cache = not options and not name.endswith(".py") and _cacheable(name)
    if cache:
        with gc_paused():
            hit = graph_cache.load(name, var, mode)
        if hit is not None:
            return hit
    kernel, variant = parse_spec(spec)
    entry = _REGISTRY[kernel]
    if mode not in entry.modes:
        raise UserError(f"{kernel}: unknown mode {mode!r} (available: {', '.join(entry.modes)})")
    g = _record(entry, kernel, variant, mode, options)
    if cache and _cacheable(kernel):
        graph_cache.store(g, kernel, variant, mode)
    return g


def _record(entry: KernelEntry, kernel: str, variant: str, mode: str, options: dict[str, Any]) -> TaskGraph:
    """Run ``entry``'s builder; a user kernel file's exception becomes a one-line UserError."""
    # recording allocates many small acyclic objects: cyclic GC passes over the growing heap cost
    # up to ~40 % of the build and free nothing, so it is paused for the build
    with gc_paused():
        try:
            return entry.builder(variant, mode, **options)
        except UserError:
            raise
        except Exception as exc:
            user_file = _FROM_FILE.get(kernel)
            if user_file is None:  # a built-in model failing is a bug of ours: keep the traceback
                raise
            line = _user_line(exc.__traceback__, user_file)
            raise UserError(f"{user_file.name}{line}: recording {kernel}:{variant} failed: "
                            f"{type(exc).__name__}: {exc}") from None
