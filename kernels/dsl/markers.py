"""Optimisation markers of ``pl`` that the recorder accepts and records as no-ops: ``pl.split``,
``pl.cross_core_slot`` (values for ``optimizations=``), ``pl.no_dep`` and ``pl.dump_tag``; and the barrier
``pl.system.syncall``, recorded as a barrier node of the block (lowered to one ``barrier`` op per
lane that takes part, :data:`sim.ir.BARRIER`).
"""

from __future__ import annotations

import sys
from typing import Any

from kernels.dsl.context import current
from kernels.dsl.sites import _in_swimsim
from kernels.dsl.tiles import kernel_scope
from kernels.dsl.types import INT32
from sim.util.paths import shown

# core_type of pl.system.syncall -> the sides (cube / vec) whose lanes take part
SYNCALL_SIDES = {"mix": ("cube", "vec"), "aiv_only": ("vec",), "aic_only": ("cube",)}


def split(mode: Any = None, slot_num: int | None = None) -> tuple[str, Any, Any]:
    """``pl.split(mode)`` optimisation marker (recorded as a no-op)."""
    return ("split", mode, slot_num)


def cross_core_slot(slot_num: int = 2) -> tuple[str, int]:
    """``pl.cross_core_slot(slot_num=N)`` optimisation marker (recorded as a no-op)."""
    return ("cross_core_slot", slot_num)


def no_dep(t: Any) -> Any:
    """``pl.no_dep(t)``: marks an argument as NoDep in pypto; returns ``t`` (use ``no_dep_args=`` to record it)."""
    return t


def dump_tag(t: Any) -> Any:
    """``pl.dump_tag(t)``: marks ``t`` for the runtime's partial argument dump; returns ``t``. Argument
    dumps are a debugging mode swimsim does not simulate, so the marker (like the ``dumps=`` argument of
    ``pl.at``, ``pl.spmd`` and ``pl.submit``) records nothing."""
    return t


def syncall(core_type: str = "mix", mode: str = "hard", gm_workspace: Any = None, used_cores: Any = None) -> None:
    """``pl.system.syncall(core_type=..., mode="hard")``: a barrier across every block of the kernel
    scope - no block continues past it before all blocks reached it. Records a barrier node named
    ``syncall`` (``syncall_aiv_only`` / ``syncall_aic_only``) with the caller's ``file:line``; the lanes
    of ``core_type`` carry it. The engine launches such a task with all its blocks at once."""
    ks = kernel_scope()
    if core_type not in SYNCALL_SIDES:
        current().error(f"pl.system.syncall: core_type {core_type!r} (expected one of {', '.join(SYNCALL_SIDES)})")
    if mode != "hard":
        current().error(f"pl.system.syncall: mode {mode!r} is not supported (expected 'hard')")
    f = sys._getframe(1)
    while f is not None and _in_swimsim(f.f_code.co_filename):
        f = f.f_back
    where = f"{shown(f.f_code.co_filename)}:{f.f_lineno}" if f is not None else None
    n = ks.add("barrier", "syncall" if core_type == "mix" else f"syncall_{core_type}", [], [], INT32, "none")
    n.barrier = (SYNCALL_SIDES[core_type], where)
