"""Tensor/tile ops of the recording ``pl`` (dsl-surface.md §6-§12).

Each op checks where it runs (orchestration vs kernel), validates shapes/dtypes and records one
node through :mod:`kernels.dsl.tiles`. Shapes are element counts; the recorded op shape is the
valid region it works on (reductions: the input region).
"""

from __future__ import annotations

import builtins
from typing import Any

from kernels.dsl import tiles as block
from kernels.dsl.tasks import TensorView, active, current
from kernels.dsl.tiles import _TILE_OR_VIEW, Tile, as_tile, kernel_scope, record_cube, record_store, record_vec_op
from kernels.dsl.types import (
    FP32,
    INDEX,
    INT32,
    AtomicType,
    DataType,
    MemorySpace,
    PadValue,
    cast_hops,
)


def _in_kernel() -> bool:
    rec = active()
    return rec is not None and rec.kernel is not None


def _tile_or_scalar(x: Any) -> Any:
    if isinstance(x, _TILE_OR_VIEW):
        return as_tile(x)
    return x


def _shape_check(name: str, a: Tile, b: Tile) -> None:
    if a.shape != b.shape and a.valid != b.valid:
        current().error(f"pl.{name}: shape mismatch {a.shape} vs {b.shape}")


def _binary(name: str, a: Any, b: Any) -> Any:
    if not _in_kernel() and not isinstance(a, Tile) and not isinstance(b, Tile):
        if isinstance(a, TensorView) or isinstance(b, TensorView):
            kernel_scope()
        return _scalar_bin(name, a, b)
    a = _tile_or_scalar(a)
    b = _tile_or_scalar(b)
    if isinstance(a, Tile) and isinstance(b, Tile):
        if a.dtype.name != b.dtype.name:
            current().error(f"pl.{name}: dtype mismatch {a.dtype.name} vs {b.dtype.name} (use pl.cast)")
        if len(b.shape) == 2 and len(a.shape) == 2 and b.shape[1] == 1 and a.shape[1] != 1 \
                and b.shape[0] == a.shape[0]:
            return record_vec_op(f"row_expand_{name}", a.shape, a.dtype, [a, b], valid_shape=a.valid)
        _shape_check(name, a, b)
        return record_vec_op(name, a.shape, a.dtype, [a, b], valid_shape=a.valid)
    if isinstance(a, Tile):
        return record_vec_op(f"{name}s", a.shape, a.dtype, [a], valid_shape=a.valid)
    if isinstance(b, Tile):
        return record_vec_op(f"{name}s", b.shape, b.dtype, [b], valid_shape=b.valid)
    return _scalar_bin(name, a, b)


block._BINARY[:] = [_binary]


def _scalar_bin(name: str, a: Any, b: Any) -> Any:
    if name == "add":
        return a + b
    if name == "sub":
        return a - b
    if name == "mul":
        return a * b
    if name == "div":
        return a / b
    if name == "maximum":
        return max(a, b)
    if name == "minimum":
        return min(a, b)
    raise TypeError(name)


def add(a: Any, b: Any) -> Any:
    return _binary("add", a, b)


def sub(a: Any, b: Any) -> Any:
    return _binary("sub", a, b)


def mul(a: Any, b: Any) -> Any:
    return _binary("mul", a, b)


def div(a: Any, b: Any, high_precision: bool = False) -> Any:
    return _binary("div", a, b)


def maximum(a: Any, b: Any) -> Any:
    return _binary("maximum", a, b)


def minimum(a: Any, b: Any) -> Any:
    return _binary("minimum", a, b)


def _unary(name: str, t: Any) -> Tile:
    kernel_scope()
    t = as_tile(t)
    return record_vec_op(name, t.shape, t.dtype, [t], valid_shape=t.valid)


def neg(t: Any) -> Tile:
    return _unary("neg", t)


def abs(t: Any) -> Tile:  # noqa: A001 - pypto name
    return _unary("abs", t)


def exp(t: Any) -> Tile:
    return _unary("exp", t)


def log(t: Any) -> Tile:
    return _unary("log", t)


def sqrt(t: Any) -> Tile:
    return _unary("sqrt", t)


def rsqrt(t: Any, high_precision: bool = False) -> Tile:
    return _unary("rsqrt", t)


def recip(t: Any, high_precision: bool = False) -> Tile:
    return _unary("recip", t)


def relu(t: Any) -> Tile:
    return _unary("relu", t)


def cast(x: Any, target_type: DataType, mode: str = "round") -> Any:
    """Dtype conversion: a VEC op with ``hops`` = legalised instruction count (§15)."""
    if not isinstance(x, _TILE_OR_VIEW):
        if target_type.name in ("INDEX", "INT32", "INT64", "INT16", "INT8", "UINT32", "UINT8"):
            return int(x) if x is not None else 0
        return float(x) if x is not None else 0.0
    t = as_tile(x) if _in_kernel() else kernel_scope()
    hops = cast_hops(t.dtype, target_type)
    if hops is None:
        current().error(f"pl.cast {t.dtype.name} -> {target_type.name} has no legal instruction chain")
    return record_vec_op("cast", t.shape, target_type, [t], valid_shape=t.valid, hops=builtins.max(1, hops),
                         in_dtype=t.dtype)


def full(shape: list[int], dtype: DataType = FP32, value: Any = 0) -> Tile:
    kernel_scope()
    return record_vec_op("full", list(shape), dtype, [])


def arange(start: Any, shape: list[int], dtype: DataType = INT32, descending: bool = False) -> Tile:
    kernel_scope()
    return record_vec_op("arange", list(shape), dtype, [])


def fillpad(t: Any, pad_value: Any = PadValue.zero) -> Tile:
    """Fill the invalid part of a tile; the whole tile is valid afterwards (a pass over the tile)."""
    kernel_scope()
    t = as_tile(t)
    return record_vec_op("fillpad", t.shape, t.dtype, [t], valid_shape=t.shape)


def _reduce(name: str, t: Any, axis_row: bool) -> Tile:
    kernel_scope()
    t = as_tile(t)
    if len(t.shape) != 2:
        current().error(f"pl.{name}: 2-d tile expected, got {t.shape}")
    out = [t.shape[0], 1] if axis_row else [1, t.shape[1]]
    valid = [t.valid[0], 1] if axis_row else [1, t.valid[1]]
    return record_vec_op(name, out, t.dtype, [t], valid_shape=valid, work_shape=t.valid)


def row_sum(t: Any, tmp: Any = None) -> Tile:
    return _reduce("row_sum", t, True)


def row_max(t: Any, tmp: Any = None) -> Tile:
    return _reduce("row_max", t, True)


def row_min(t: Any, tmp: Any = None) -> Tile:
    return _reduce("row_min", t, True)


def col_sum(t: Any, tmp: Any = None) -> Tile:
    return _reduce("col_sum", t, False)


def col_max(t: Any, tmp: Any = None) -> Tile:
    return _reduce("col_max", t, False)


def col_min(t: Any, tmp: Any = None) -> Tile:
    return _reduce("col_min", t, False)


def _expand(name: str, t: Any, v: Any, row: bool) -> Tile:
    kernel_scope()
    t, v = as_tile(t), as_tile(v)
    if t.dtype.name != v.dtype.name:
        current().error(f"pl.{name}: dtype mismatch {t.dtype.name} vs {v.dtype.name} (use pl.cast)")
    if row and (_n(v.shape) != t.shape[0]):
        current().error(f"pl.{name}: per-row operand {v.shape} does not match {t.shape}")
    if not row and (_n(v.shape) != t.shape[-1]):
        current().error(f"pl.{name}: per-column operand {v.shape} does not match {t.shape}")
    return record_vec_op(name, t.shape, t.dtype, [t, v], valid_shape=t.valid)


def _n(shape: list[int]) -> int:
    p = 1
    for s in shape:
        p *= s
    return p


def row_expand_mul(t: Any, v: Any) -> Tile:
    return _expand("row_expand_mul", t, v, True)


def row_expand_div(t: Any, v: Any) -> Tile:
    return _expand("row_expand_div", t, v, True)


def row_expand_sub(t: Any, v: Any) -> Tile:
    return _expand("row_expand_sub", t, v, True)


def row_expand_add(t: Any, v: Any) -> Tile:
    return _expand("row_expand_add", t, v, True)


def col_expand_mul(t: Any, v: Any) -> Tile:
    return _expand("col_expand_mul", t, v, False)


def col_expand_add(t: Any, v: Any) -> Tile:
    return _expand("col_expand_add", t, v, False)


def col_expand_sub(t: Any, v: Any) -> Tile:
    return _expand("col_expand_sub", t, v, False)


def col_expand_div(t: Any, v: Any) -> Tile:
    return _expand("col_expand_div", t, v, False)


def col_expand(target: Any, v: Any) -> Tile:
    """Broadcast v [1,C] to target's [R,C] shape."""
    kernel_scope()
    t, v = as_tile(target), as_tile(v)
    return record_vec_op("col_expand", t.shape, v.dtype, [v], valid_shape=t.valid)


def gather(x: Any, dim: int = -1, index: Any = None, mask_pattern: Any = None,
           output_dtype: DataType | None = None, **kw: Any) -> Tile:
    """Index form (per-row lane gather; output shape = index shape) or mask form (width / 2)."""
    kernel_scope()
    t = as_tile(x)
    if index is not None:
        idx = as_tile(index)
        if idx.dtype.name not in ("INT32", "INT16", "UINT32"):
            current().error(f"pl.gather: index dtype {idx.dtype.name} (INT32 expected)")
        if idx.shape[0] != t.shape[0]:
            current().error(f"pl.gather: index rows {idx.shape} do not match source {t.shape}")
        return record_vec_op("gather", idx.shape, t.dtype, [t, idx], valid_shape=idx.valid)
    dt = output_dtype or t.dtype
    cols = builtins.max(1, t.shape[-1] // 2)
    return record_vec_op("gather_mask", [t.shape[0], cols], dt, [t], work_shape=t.valid)


def transpose(x: Any, axis1: int = 0, axis2: int = 1) -> Any:
    """K: a real tile transpose (VEC). O: not supported (views are row-major boxes here)."""
    if not _in_kernel():
        current().error("pl.transpose in orchestration code is not supported by the recorder")
    t = as_tile(x)
    shp = list(t.shape)
    val = list(t.valid)
    shp[axis1], shp[axis2] = shp[axis2], shp[axis1]
    val[axis1], val[axis2] = val[axis2], val[axis1]
    return record_vec_op("transpose", shp, t.dtype, [t], valid_shape=val, work_shape=t.valid)


def concat(a: Any, b: Any) -> Tile:
    kernel_scope()
    a, b = as_tile(a), as_tile(b)
    return record_vec_op("concat", [a.shape[0], a.shape[1] + b.shape[1]], a.dtype, [a, b])


def matmul(a: Any, b: Any, out_dtype: DataType | None = None, a_trans: bool = False,
           b_trans: bool = False, **kw: Any) -> Tile:
    return record_cube("matmul", a, b, out_dtype=out_dtype, a_trans=a_trans, b_trans=b_trans)


def matmul_acc(acc: Any, a: Any, b: Any, a_trans: bool = False, b_trans: bool = False,
               init_cond: Any = None) -> Tile:
    if not isinstance(acc, Tile):
        current().error("pl.matmul_acc: the accumulator must be a matmul result tile")
    return record_cube("matmul_acc", a, b, acc=acc, a_trans=a_trans, b_trans=b_trans)


# ------------------------------------------------------------------------------------------------
# Tensors, views, movement
# ------------------------------------------------------------------------------------------------
def create_tensor(shape: list[int], dtype: DataType = FP32, manual_dep: bool = False,
                  init_value: Any = None, name: str | None = None) -> Any:
    """O: a GM intermediate (batched into the scope's alloc task). K: an on-chip UB buffer."""
    rec = current()
    if rec.kernel is not None:
        kernel_scope()
        return Tile(None, list(shape), dtype, list(shape), "Vec")
    return rec.create_tensor(list(shape), dtype, name=name, manual_dep=manual_dep)


def create_tile(shape: list[int], dtype: DataType = FP32, target_memory: Any = MemorySpace.Vec) -> Tile:
    kernel_scope()
    if target_memory in (MemorySpace.Mat, MemorySpace.Left, MemorySpace.Right):
        return block.new_l1_tile(list(shape), dtype)
    return Tile(None, list(shape), dtype, list(shape), "Vec")


def create_l1(shape: list[int], dtype: DataType, transpose: bool = False) -> Tile:
    return block.new_l1_tile(list(shape), dtype)


def gather_row(acc: Tile, src: TensorView, dst_offset: Any = None, src_offset: Any = None,
               shapes: Any = None, transpose: bool = False, valid_shape: Any = None) -> Tile:
    """DMA one GM window straight into a sub-window of an L1 tile (cube-side MTE2)."""
    kernel_scope()
    view = src
    if src_offset is not None:
        shp = list(shapes) if shapes is not None else [1] * (len(src.shape) - 1) + [src.shape[-1]]
        view = src.window(list(src_offset), shp)
    return block.record_gather_row(acc, view, list(dst_offset or []), valid_shape)


def slice(x: Any, shape: list[int], offset: list[int], valid_shape: list[int] | None = None,  # noqa: A001
          pad_value: Any = None, clamp: bool = False) -> Any:
    """O: a view. K on GM: a load of the valid region. K on a tile: a zero-copy view."""
    if isinstance(x, Tile):
        t = x[tuple(_pyslice(o, o + s) for o, s in zip(offset, shape, strict=True))]
        if valid_shape is not None:
            t.valid = [int(v) for v in valid_shape]
        return t
    if not isinstance(x, TensorView):
        current().error(f"pl.slice of {type(x).__name__}")
    view = x.window([int(o) for o in offset], [int(s) for s in shape],
                    [int(v) for v in valid_shape] if valid_shape is not None else None, pad_value)
    if _in_kernel():
        return block.record_load(view)
    return view


_pyslice = builtins.slice


def view(x: TensorView, shape: list[int], offset: list[int]) -> TensorView:
    """A window view (never loads)."""
    return x.window([int(o) for o in offset], [int(s) for s in shape])


def reshape(x: Any, new_shape: list[int]) -> Any:
    """Same bytes, new shape: a view of a GM tensor (also in a kernel), metadata on a tile."""
    shp = [int(s) for s in new_shape]
    if _n(shp) != _n(x.shape):
        current().error(f"pl.reshape: {list(x.shape)} -> {shp} changes the element count")
    if isinstance(x, Tile):
        if x.valid == x.shape:
            val = shp
        elif len(shp) == 2 and len(x.shape) == 2 and shp[1] == 1 and x.shape[0] == 1:
            val = [x.valid[1], 1]
        elif len(shp) == 2 and len(x.shape) == 2 and shp[0] == 1 and x.shape[1] == 1:
            val = [1, x.valid[0]]
        else:
            val = shp
        return Tile(x.node, shp, x.dtype, val, x.space)
    if isinstance(x, TensorView):
        return TensorView(x.base, tuple(shp), x, "reshape")
    current().error(f"pl.reshape of {type(x).__name__}")
    raise AssertionError


def set_validshape(t: Tile, *valid: Any) -> Tile:
    vals = list(valid[0]) if len(valid) == 1 and isinstance(valid[0], list | tuple) else list(valid)
    t.valid = [int(v) for v in vals]
    return t


def load(x: TensorView, offsets: list[int], shapes: list[int], valid_shape: list[int] | None = None,
         target_memory: Any = MemorySpace.Vec) -> Tile:
    """Explicit GM -> on-chip load (``pl.tile.load``)."""
    kernel_scope()
    v = x.window([int(o) for o in offsets], [int(s) for s in shapes])
    space = "Mat" if target_memory in (MemorySpace.Mat, MemorySpace.Left, MemorySpace.Right) else None
    return block.record_load(v, list(shapes), valid_shape, space)


def store(tile: Any, offsets: list[int], x: TensorView, atomic: Any = None) -> TensorView:
    """Explicit on-chip -> GM store (``pl.tile.store``)."""
    kernel_scope()
    t = as_tile(tile)
    v = x.window([int(o) for o in offsets], _fit(t.shape, len(x.shape)))
    record_store(t, v, atomic == AtomicType.Add)
    return x


def _fit(shape: list[int], nd: int) -> list[int]:
    if len(shape) == nd:
        return list(shape)
    if len(shape) > nd:
        lead = _n(shape[: len(shape) - nd + 1])
        return [lead] + list(shape[len(shape) - nd + 1:])
    return [1] * (nd - len(shape)) + list(shape)


def assemble(x: Any, v: Any, offset: list[int], atomic: Any = None) -> Any:
    """K, GM target: a store (atomic allowed). K, tile target: an on-chip copy."""
    if not _in_kernel():
        current().error("pl.assemble in orchestration code (output aliasing) is not supported by the recorder")
    if isinstance(x, Tile):
        t = as_tile(v)
        sub = x[tuple(_pyslice(o, o + s) for o, s in zip(offset, _fit(t.shape, len(x.shape)), strict=True))]
        out = record_vec_op("copy", sub.shape, x.dtype, [t, x], valid_shape=t.valid)
        x.node = out.node
        return x
    t = as_tile(v)
    shp = _fit(t.shape, len(x.shape))
    w = x.window([int(o) for o in offset], shp)
    record_store(t, w, atomic == AtomicType.Add)
    return x


# ------------------------------------------------------------------------------------------------
# Scalars
# ------------------------------------------------------------------------------------------------
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
        return 0
    idx = _index(x, idx)
    rec = active()
    if rec is not None and rec.kernel is not None:
        block.record_scalar("read", x, idx)
        if x.base.data is None:
            return 0
        # the node just recorded holds the element's base offset (same box as _data_get's to_base)
        return _data_get(x, idx, rec.kernel.nodes[-1].region.offset)
    for i, d in zip(idx, x.shape, strict=True):
        if i < 0 or i >= d:
            current().error(f"pl.read: index {idx} out of bounds of {x.name} {list(x.shape)}")
    return _data_get(x, idx)


def write(x: Any, idx: Any, value: Any) -> None:
    """Scalar write: K on GM = SCALAR op (and the bound data is updated)."""
    if isinstance(x, Tile):
        kernel_scope()
        return
    idx = _index(x, idx)
    rec = active()
    off = None
    if rec is not None and rec.kernel is not None:
        block.record_scalar("write", x, idx, write=True)
        off = rec.kernel.nodes[-1].region.offset  # the element's base offset (as to_base gives it)
    if x.base.data is not None:
        if off is None:
            off, _ = x.to_base(idx, [1] * len(idx))
        try:
            x.base.data[tuple(off)] = value
        except (IndexError, TypeError, ValueError):
            pass


def min(a: Any, b: Any) -> Any:  # noqa: A001
    return a if a <= b else b


def max(a: Any, b: Any) -> Any:  # noqa: A001
    return a if a >= b else b


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


__all__ = [
    "add", "sub", "mul", "div", "maximum", "minimum", "neg", "abs", "exp", "log", "sqrt", "rsqrt",
    "recip", "relu", "cast", "full", "arange", "fillpad", "row_sum", "row_max", "row_min", "col_sum",
    "col_max", "col_min", "row_expand_mul", "row_expand_div", "row_expand_sub", "row_expand_add",
    "col_expand_mul", "col_expand_add", "col_expand_sub", "col_expand_div", "col_expand", "gather",
    "transpose", "concat", "matmul", "matmul_acc", "create_tensor", "create_tile", "create_l1",
    "gather_row", "slice", "view", "reshape", "set_validshape", "load", "store", "assemble", "read",
    "write", "min", "max", "dim", "set_data", "error", "check_divisible", "INDEX",
]
