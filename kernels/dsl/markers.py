"""Optimisation markers of ``pl`` that the recorder accepts and records as no-ops: ``pl.split``,
``pl.cross_core_slot`` (values for ``optimizations=``) and ``pl.no_dep``.
"""

from __future__ import annotations

from typing import Any


def split(mode: Any = None, slot_num: int | None = None) -> tuple[str, Any, Any]:
    """``pl.split(mode)`` optimisation marker (recorded as a no-op)."""
    return ("split", mode, slot_num)


def cross_core_slot(slot_num: int = 2) -> tuple[str, int]:
    """``pl.cross_core_slot(slot_num=N)`` optimisation marker (recorded as a no-op)."""
    return ("cross_core_slot", slot_num)


def no_dep(t: Any) -> Any:
    """``pl.no_dep(t)``: marks an argument as NoDep in pypto; returns ``t`` (use ``no_dep_args=`` to record it)."""
    return t
