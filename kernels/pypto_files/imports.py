"""What ``pypto``, ``golden`` and (without torch) ``torch`` resolve to while a pypto kernel file runs,
and the exact restoration of ``sys.modules``, ``sys.path``, ``sys.meta_path`` and ``sys.argv`` after.

``pypto.language`` is the recording DSL (:mod:`kernels.language`); other ``pypto.*`` modules are
placeholders whose every name stops with one line naming it.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import kernels.language as pl_face
from kernels.pypto_files import distributed_standin, golden_standin, runtime_standin, torch_functional, torch_standin
from sim.util.errors import UserError


class UnsupportedName(UserError):
    """A name of a placeholder module (not an AttributeError: ``from M import NAME`` must not fall
    back to importing a submodule ``M.NAME``)."""


class Placeholder(types.ModuleType):
    """A module whose every public name is unsupported; ``hint`` ends the message."""

    def __init__(self, name: str, hint: str) -> None:
        super().__init__(name)
        self.__path__: list[str] = []  # a package: submodules resolve through the finder
        self._hint = hint

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        cls = torch_standin.TorchUnavailable if self.__name__.startswith("torch.") else UnsupportedName
        raise cls(f"{self.__name__}.{name} {self._hint}")


_PYPTO_HINT = "is not supported by the swimsim recording DSL"
_DISTRIBUTED_HINT = distributed_standin._HINT  # noqa: SLF001


def _package(name: str, source: types.ModuleType) -> types.ModuleType:
    """A package ``name`` holding the public names (and ``__getattr__``) of ``source``."""
    mod = types.ModuleType(name, source.__doc__)
    mod.__dict__.update({k: v for k, v in vars(source).items()
                         if not k.startswith("__") and not isinstance(v, types.ModuleType)})
    mod.__getattr__ = source.__getattr__  # type: ignore[attr-defined]
    mod.__path__ = []  # type: ignore[attr-defined]
    return mod


def _with_func(made: Any, fn: Any) -> Any:
    made._func = fn  # pypto exposes the undecorated function as ``_func``
    return made


class _PyptoJit:
    """``pl.jit`` as pypto spells it: entries and inline functions also carry ``_func``; entries are
    :class:`~kernels.pypto_files.runtime_standin.PyptoEntry` (a harness call runs them on the device)."""

    def __init__(self, jit: Any) -> None:
        self._jit = jit

    def __call__(self, fn: Any = None, *, auto_scope: bool = True) -> Any:
        if fn is None:
            return lambda f: _with_func(runtime_standin.PyptoEntry(f, auto_scope), f)
        return _with_func(runtime_standin.PyptoEntry(fn, auto_scope), fn)

    def inline(self, fn: Any = None, **kw: Any) -> Any:
        if fn is None:
            return lambda f: _with_func(self._jit.inline(f, **kw), f)
        return _with_func(self._jit.inline(fn, **kw), fn)

    incore = inline

    def __getattr__(self, name: str) -> Any:
        return getattr(self._jit, name)


def _names(name: str, source: Any, names: tuple[str, ...]) -> Placeholder:
    """A placeholder package ``name`` holding ``names`` of ``source``; its other names are unsupported."""
    mod = Placeholder(name, _PYPTO_HINT)
    for n in names:
        setattr(mod, n, getattr(source, n))
    return mod


def torch_installed() -> bool:
    """Whether the real torch can be imported."""
    return "torch" in sys.modules or importlib.util.find_spec("torch") is not None


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Creates placeholder modules for ``pypto.*`` (and, with the stand-in, ``torch.*``) names."""

    def __init__(self, prefixes: dict[str, str]) -> None:
        self.prefixes = prefixes  # top-level name -> hint

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        top = fullname.partition(".")[0]
        if "." not in fullname or top not in self.prefixes:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        if spec.name.startswith("pypto.") and "distributed" in spec.name:  # multi-device program support
            return Placeholder(spec.name, _DISTRIBUTED_HINT)
        return Placeholder(spec.name, self.prefixes[spec.name.partition(".")[0]])

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def _siblings(folder: Path) -> set[str]:
    """Top-level module names the folder's files and packages define."""
    names = {p.stem for p in folder.glob("*.py")}
    names |= {p.name for p in folder.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    return names


@contextmanager
def pypto_imports(folder: Path, argv: list[str]) -> Iterator[None]:
    """Run the body with the pypto names installed, ``folder`` first on sys.path and ``argv`` as
    sys.argv; restore all four afterwards. Modules the file imported are dropped, except
    submodules of packages loaded before (numpy's, swimsim's), which stay cached."""
    modules = dict(sys.modules)
    path, meta, old_argv = list(sys.path), list(sys.meta_path), list(sys.argv)
    pypto = types.ModuleType("pypto")
    pypto.__path__ = []  # type: ignore[attr-defined]
    language = _package("pypto.language", pl_face)
    language.jit = _PyptoJit(pl_face.jit)  # type: ignore[attr-defined]
    language.inline = language.jit.inline  # type: ignore[attr-defined]
    language.distributed = distributed_standin  # type: ignore[attr-defined]
    pypto.language = language  # type: ignore[attr-defined]
    pypto.backend = _names("pypto.backend", runtime_standin,  # type: ignore[attr-defined]
                           ("BackendType", "set_backend_type", "get_backend_type", "is_backend_configured"))
    pypto.runtime = _names("pypto.runtime", runtime_standin,  # type: ignore[attr-defined]
                           ("RunConfig", "pto_isa_include_dir"))
    for n in ("TensorSpec", "ScalarSpec", "run"):  # the harness names pypto.runtime had before golden
        setattr(pypto.runtime, n, getattr(golden_standin, n))  # type: ignore[attr-defined]
    pypto.ir = Placeholder("pypto.ir", _PYPTO_HINT)  # type: ignore[attr-defined]
    pypto.ir.pass_manager = _names("pypto.ir.pass_manager", runtime_standin,  # type: ignore[attr-defined]
                                   ("OptimizationStrategy",))
    installed: dict[str, types.ModuleType] = {"pypto": pypto, "pypto.language": language,
                                              "pypto.backend": pypto.backend,  # type: ignore[attr-defined]
                                              "pypto.runtime": pypto.runtime,  # type: ignore[attr-defined]
                                              "pypto.ir": pypto.ir,  # type: ignore[attr-defined]
                                              "pypto.ir.pass_manager": pypto.ir.pass_manager,  # type: ignore[attr-defined]
                                              "pypto.language.distributed": distributed_standin,
                                              "golden": golden_standin}
    prefixes = {"pypto": _PYPTO_HINT}
    if not torch_installed():
        installed["torch"] = _package("torch", torch_standin)
        installed["torch.nn"] = Placeholder("torch.nn", torch_standin._HINT)  # noqa: SLF001
        installed["torch.nn.functional"] = _package("torch.nn.functional", torch_functional)
        installed["torch.nn"].functional = installed["torch.nn.functional"]  # type: ignore[attr-defined]
        installed["torch"].nn = installed["torch.nn"]  # type: ignore[attr-defined]
        prefixes["torch"] = torch_standin._HINT  # noqa: SLF001
    hidden = _siblings(folder)
    try:
        for name in hidden:  # the file's own config.py etc. win over same-named loaded modules
            sys.modules.pop(name, None)
        sys.modules.update(installed)
        sys.meta_path.insert(0, _Finder(prefixes))
        sys.path.insert(0, str(folder))
        sys.argv[:] = argv
        yield
    finally:
        sys.argv[:] = old_argv
        sys.path[:] = path
        sys.meta_path[:] = meta
        before_tops = {n.partition(".")[0] for n in modules}
        for name in list(sys.modules):
            if name in modules:
                continue
            top = name.partition(".")[0]
            if name in installed or top in prefixes or top in hidden or top not in before_tops:
                del sys.modules[name]
        sys.modules.update(modules)
