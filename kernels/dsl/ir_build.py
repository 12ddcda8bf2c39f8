"""``sim.ir`` objects built without validation: the recording makes many thousands of Regions and Ops
whose fields it has already checked, and pydantic validation would dominate the build time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sim.ir import Op, Region
from sim.util.errors import UserError
from sim.util.memory import MemoryGuard
from sim.util.unvalidated import model_factory

_new_region = model_factory(Region)
_new_op = model_factory(Op)
GUARD = MemoryGuard("recorded ops")  # a recording that outgrows the machine stops with one line


def make_op(values: dict[str, Any]) -> Op:
    """An Op from a dict holding every field (no validation)."""
    low = GUARD.tick()
    if low is not None:
        raise UserError(low)
    return _new_op(values)


@contextmanager
def ops_watched(observer: Callable[[int], None] | None) -> Iterator[None]:
    """While active, ``observer(n)`` hears of every ``n`` further ops recorded (``n`` = ``GUARD.every``)."""
    GUARD.observer = observer
    try:
        yield
    finally:
        GUARD.observer = None


def make_region(tensor: int, offset: list[int], shape: list[int]) -> Region:
    """A :class:`Region` (``offset``/``shape`` in elements) built without validation; takes the lists."""
    return _new_region({"tensor": tensor, "offset": offset, "shape": shape})
