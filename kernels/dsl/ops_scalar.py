"""Scalar ``pl`` operations (pypto ``docs/en/user/ops/01-catalog.md``): element reads and writes of GM
tensors, scalar helpers, data binding for data-dependent control flow, and the user error.

In a kernel scope ``pl.read``/``pl.write`` record a SCALAR-pipe access (:func:`kernels.dsl.tiles.record_scalar`);
in orchestration code they are plain value accesses. Both see the numpy array bound with
``pl.set_data`` (0 without one); in value mode (:mod:`kernels.dsl.values`) they see the computed elements,
and a read of an element that is not computed stops with one line.
"""

from __future__ import annotations

from typing import Any

from kernels.dsl.context import active, current
from kernels.dsl.tensors import TensorView
from kernels.dsl.tiles import Tile, kernel_scope, record_scalar
from kernels.dsl.values import STATE as VALUES
from kernels.dsl.values import read_gm, read_tile, write_gm, write_tile


def _index(x: TensorView, idx: Any) -> list[int]:
    if isinstance(idx, int):
        idx = [idx]
    idx = [int(i) for i in idx]
    if len(idx) < len(x.shape):
        idx = [0] * (len(x.shape) - len(idx)) + idx
    return idx


def _data_get(x: TensorView, idx: list[int], off: list[int] | None = None) -> Any:
    """The bound data value of element ``idx`` of ``x`` (0 without data); ``off``: its base offset if known."""
    data = x.base.data
    if data is None:
        return 0
    if off is None:
        off, _ = x.to_base(idx, [1] * len(idx))
    try:
        v = data[tuple(off)]
    except (IndexError, TypeError):
        return 0
    return v.item() if hasattr(v, "item") else v


def read(x: Any, idx: Any) -> Any:
    """Scalar read: K on GM = SCALAR op; O = the value (no op). Returns the bound data value or 0."""
    if isinstance(x, Tile):
        kernel_scope()
        return read_tile(x, _index(x, idx)) if VALUES.on else 0
    idx = _index(x, idx)
    rec = active()
    if rec is not None and rec.kernel is not None:
        record_scalar("read", x, idx)
        if VALUES.on:
            return read_gm(x, rec.kernel.nodes[-1].region.offset)
        if x.base.data is None:
            return 0
        # the node just recorded holds the element's base offset (same box as _data_get's to_base)
        return _data_get(x, idx, rec.kernel.nodes[-1].region.offset)
    for i, d in zip(idx, x.shape, strict=True):
        if i < 0 or i >= d:
            current().error(f"pl.read: index {idx} out of bounds of {x.name} {list(x.shape)}")
    if VALUES.on:
        return read_gm(x, x.to_base(idx, [1] * len(idx))[0])
    return _data_get(x, idx)


def write(x: Any, idx: Any, value: Any) -> Any:
    """Scalar write: K on GM = SCALAR op (and the bound data is updated). Returns ``x`` (the SSA spelling
    ``x = pl.write(x, idx, v)``)."""
    if isinstance(x, Tile):
        kernel_scope()
        if VALUES.on:
            write_tile(x, _index(x, idx), value)
        return x
    idx = _index(x, idx)
    rec = active()
    off = None
    if rec is not None and rec.kernel is not None:
        record_scalar("write", x, idx, write=True)
        off = rec.kernel.nodes[-1].region.offset  # the element's base offset (as to_base gives it)
    if VALUES.on:
        write_gm(x, off if off is not None else x.to_base(idx, [1] * len(idx))[0], value)
    elif x.base.data is not None:
        if off is None:
            off, _ = x.to_base(idx, [1] * len(idx))
        try:
            x.base.data[tuple(off)] = value
        except (IndexError, TypeError, ValueError):
            pass
    return x


def min(a: Any, b: Any) -> Any:  # noqa: A001
    return a if a <= b else b


def max(a: Any, b: Any) -> Any:  # noqa: A001
    return a if a >= b else b


def const(value: Any, dtype: Any) -> Any:
    """``pl.const(v, dtype)``: a typed scalar constant; in the recording it is the number itself (an int
    for an integer dtype, else a float)."""
    name = getattr(dtype, "name", "")
    if name.startswith(("INT", "UINT")) or name in ("INDEX", "BOOL"):
        return int(value)
    return float(value)


def dim(x: Any, axis: int) -> int:
    return int(x.shape[axis])


def error(msg: str) -> None:
    """Raise the one-line user error ``<kernel>: [scope <s>: ]<msg>`` (exit code 2 in the CLI)."""
    current().error(msg)


def check_divisible(value: int, tile: int, what: str, scope: str | None = None) -> None:
    """Error unless ``tile`` divides ``value`` (names kernel, scope and value)."""
    if int(value) % int(tile) != 0:
        where = f"scope {scope}: " if scope and current().kernel is None else ""
        current().error(f"{where}{what}={value} is not a multiple of the tile size {tile}")


def set_data(x: TensorView, data: Any) -> None:
    """Bind a numpy array to a GM tensor so scalar ``pl.read`` returns real values."""
    x.base.data = data


__all__ = ["read", "write", "min", "max", "dim", "set_data", "error", "check_divisible"]
