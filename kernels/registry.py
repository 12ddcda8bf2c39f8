"""Kernel registry: ``build_graph("kernel[:variant]", mode)`` for the CLI and the engine.

Kernels register a builder ``builder(variant, mode, **options) -> TaskGraph`` with
:func:`register`. ``qkv_proj_rope`` is registered here; ``decode_attention_hca`` registers itself
from ``kernels/models/decode_attention_hca.py`` (imported lazily when present).
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.errors import UserError
from sim.ir import TaskGraph

DEFAULT_VARIANT = "baseline"
_OPTIONAL_MODULES = ["kernels.models.decode_attention_hca"]


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


def _load(kernel: str | None = None) -> None:
    """Register the built-in kernels; import the optional model modules - only the one named
    ``kernel`` when that names one (keeps ``swimsim run qkv_proj_rope`` from importing them all)."""
    global _loaded
    if not _loaded:
        _loaded = True
        from kernels.models import qkv_proj_rope

        register("qkv_proj_rope", qkv_proj_rope.build, qkv_proj_rope.VARIANTS, list(qkv_proj_rope.MODES))
    if kernel is not None and kernel in _REGISTRY:
        return
    for mod in _OPTIONAL_MODULES:
        short = mod.rsplit(".", 1)[-1]
        if mod in _optional_done or (kernel is not None and kernel != short and kernel in _by_module()):
            continue
        _optional_done.add(mod)
        if importlib.util.find_spec(mod) is None:
            continue
        try:
            importlib.import_module(mod)
        except Exception as exc:  # a broken optional model must not take the others down
            _BROKEN[short] = f"{type(exc).__name__}: {exc}"


def _by_module() -> set[str]:
    """Kernel names that are the short name of an optional module."""
    return {m.rsplit(".", 1)[-1] for m in _OPTIONAL_MODULES}


def available() -> dict[str, list[str]]:
    """Registered kernels and their variants."""
    _load()
    return {k: list(e.variants) for k, e in sorted(_REGISTRY.items())}


def modes(kernel: str) -> list[str]:
    _load(kernel)
    return list(_REGISTRY[kernel].modes) if kernel in _REGISTRY else []


def parse_spec(spec: str) -> tuple[str, str]:
    """``"kernel[:variant]"`` -> (kernel, variant); errors name the bad part."""
    kernel, _, variant = spec.partition(":")
    kernel = kernel.strip()
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


def build_graph(spec: str, mode: str = "decode", **options: Any) -> TaskGraph:
    """Record the task graph of ``kernel[:variant]`` in ``mode`` (options go to the builder)."""
    kernel, variant = parse_spec(spec)
    entry = _REGISTRY[kernel]
    if mode not in entry.modes:
        raise UserError(f"{kernel}: unknown mode {mode!r} (available: {', '.join(entry.modes)})")
    # recording allocates many small acyclic objects: cyclic GC passes over the growing heap cost
    # up to ~40 % of the build and free nothing, so it is paused for the build
    was = gc.isenabled()
    gc.disable()
    try:
        return entry.builder(variant, mode, **options)
    finally:
        if was:
            gc.enable()
