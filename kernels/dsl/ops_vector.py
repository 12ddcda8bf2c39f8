"""Vector ``pl`` operations (pypto ``docs/en/user/ops/01-catalog.md``): elementwise, cast, fill, reductions,
row/column broadcasts, gather, transpose, concat, sort.

Each op checks that it runs in a kernel scope, validates shapes/dtypes and records one VECTOR node
through :mod:`kernels.dsl.tiles`. Shapes are element counts; the recorded op shape is the valid
region it works on (reductions: the input region).
"""

from __future__ import annotations

import builtins
from typing import Any

from kernels.dsl.context import current, in_kernel
from kernels.dsl.tensors import prod
from kernels.dsl.tiles import TILE_OR_VIEW, Tile, as_tile, binary, kernel_scope, record_vec_op, unary
from kernels.dsl.types import FP32, INT32, DataType, PadValue, cast_hops
from kernels.dsl.values import put


def add(a: Any, b: Any) -> Any:
    return binary("add", a, b)


def sub(a: Any, b: Any) -> Any:
    return binary("sub", a, b)


def mul(a: Any, b: Any) -> Any:
    return binary("mul", a, b)


def div(a: Any, b: Any, high_precision: bool = False) -> Any:
    return binary("div", a, b)


def maximum(a: Any, b: Any) -> Any:
    return binary("maximum", a, b)


def minimum(a: Any, b: Any) -> Any:
    return binary("minimum", a, b)


def neg(t: Any) -> Tile:
    return unary("neg", t)


def abs(t: Any) -> Tile:  # noqa: A001 - pypto name
    return unary("abs", t)


def exp(t: Any) -> Tile:
    return unary("exp", t)


def log(t: Any) -> Tile:
    return unary("log", t)


def sqrt(t: Any) -> Tile:
    return unary("sqrt", t)


def rsqrt(t: Any, high_precision: bool = False) -> Tile:
    return unary("rsqrt", t)


def recip(t: Any, high_precision: bool = False) -> Tile:
    return unary("recip", t)


def relu(t: Any) -> Tile:
    return unary("relu", t)


def cast(x: Any, target_type: DataType, mode: str = "round") -> Any:
    """Dtype conversion: a VEC op with ``hops`` = legalised instruction count (pypto
    ``docs/en/dev/passes/14-legalize_tile_cast.md``)."""
    if not isinstance(x, TILE_OR_VIEW):
        if target_type.name in ("INDEX", "INT32", "INT64", "INT16", "INT8", "UINT32", "UINT8"):
            return int(x) if x is not None else 0
        return float(x) if x is not None else 0.0
    t = as_tile(x) if in_kernel() else kernel_scope()
    hops = cast_hops(t.dtype, target_type)
    if hops is None:
        current().error(f"pl.cast {t.dtype.name} -> {target_type.name} has no legal instruction chain")
    return put(record_vec_op("cast", t.shape, target_type, [t], valid_shape=t.valid, hops=builtins.max(1, hops),
                             in_dtype=t.dtype), "cast", t, mode=mode)


def full(shape: list[int], dtype: DataType = FP32, value: Any = 0) -> Tile:
    kernel_scope()
    return put(record_vec_op("full", list(shape), dtype, []), "full", value=value)


def arange(start: Any, shape: list[int], dtype: DataType = INT32, descending: bool = False) -> Tile:
    kernel_scope()
    return put(record_vec_op("arange", list(shape), dtype, []), "arange", start=start, descending=descending)


def fillpad(t: Any, pad_value: Any = PadValue.zero) -> Tile:
    """Fill the invalid part of a tile; the whole tile is valid afterwards (a pass over the tile)."""
    kernel_scope()
    t = as_tile(t)
    return put(record_vec_op("fillpad", t.shape, t.dtype, [t], valid_shape=t.shape), "fillpad", t, pad_value=pad_value)


def _reduce(name: str, t: Any, axis_row: bool) -> Tile:
    """A row (last-axis) or column reduction. A tile of rank > 2 is the 2-D tile its leading dims merge into
    (pypto ``docs/en/dev/passes/13-flatten_tile_nd_to_2d.md``): a row reduction keeps the leading dims; a
    column reduction needs them all 1."""
    kernel_scope()
    t = as_tile(t)
    nd = len(t.shape)
    if nd < 2 or (not axis_row and prod(t.shape[:-2]) != 1):
        want = "a tile of rank >= 2" if axis_row else "a 2-d tile (or leading dims of 1)"
        current().error(f"pl.{name}: {want} expected, got {t.shape}")
    out = list(t.shape[:-1]) + [1] if axis_row else [1] * (nd - 1) + [t.shape[-1]]
    valid = list(t.valid[:-1]) + [1] if axis_row else [1] * (nd - 1) + [t.valid[-1]]
    return put(record_vec_op(name, out, t.dtype, [t], valid_shape=valid, work_shape=t.valid), name, t)


def row_sum(t: Any, tmp: Any = None) -> Tile:
    return _reduce("row_sum", t, True)


def row_max(t: Any, tmp: Any = None) -> Tile:
    return _reduce("row_max", t, True)


def row_min(t: Any, tmp: Any = None) -> Tile:
    return _reduce("row_min", t, True)


def row_argmax(t: Any, tmp: Any = None) -> Tile:
    """Per-row index of the max: a row reduction with an INT32 [R, 1] result."""
    return _arg_reduce("row_argmax", t)


def row_argmin(t: Any, tmp: Any = None) -> Tile:
    return _arg_reduce("row_argmin", t)


def _arg_reduce(name: str, t: Any) -> Tile:
    kernel_scope()
    t = as_tile(t)
    if len(t.shape) != 2:
        current().error(f"pl.{name}: 2-d tile expected, got {t.shape}")
    return put(record_vec_op(name, [t.shape[0], 1], INT32, [t], valid_shape=[t.valid[0], 1], work_shape=t.valid,
                             in_dtype=t.dtype), name, t)


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
    if row and (prod(v.shape) != prod(t.shape[:-1])):  # a rank > 2 tile: its leading dims merged into rows
        current().error(f"pl.{name}: per-row operand {v.shape} does not match {t.shape}")
    if not row and (prod(v.shape) != t.shape[-1]):
        current().error(f"pl.{name}: per-column operand {v.shape} does not match {t.shape}")
    return put(record_vec_op(name, t.shape, t.dtype, [t, v], valid_shape=t.valid), name, t, v)


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
    return put(record_vec_op("col_expand", t.shape, v.dtype, [v], valid_shape=t.valid), "col_expand", v)


def row_expand(target: Any, v: Any) -> Tile:
    """Broadcast v [R,1] along the rows to target's [R,C] shape (one vector op "row_expand"; the a2a3
    lowering counts it as its row-expand ops: the broadcast step and one pass over [R,C])."""
    kernel_scope()
    t, v = as_tile(target), as_tile(v)
    return record_vec_op("row_expand", t.shape, v.dtype, [v], valid_shape=t.valid)


def col_expand_expdif(t: Any, v: Any) -> Tile:
    """``exp(t[:, j] - v[0, j])``: one vec op (the cost model adds the exp pass for "expdif")."""
    return _expand("col_expand_expdif", t, v, False)


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
        return put(record_vec_op("gather", idx.shape, t.dtype, [t, idx], valid_shape=idx.valid), "gather", t, idx)
    dt = output_dtype or t.dtype
    cols = builtins.max(1, t.shape[-1] // 2)
    return put(record_vec_op("gather_mask", [t.shape[0], cols], dt, [t], work_shape=t.valid), "gather_mask", t,
               mask_pattern=mask_pattern)


def scatter(x: Any, dim: int = -1, index: Any = None, src: Any = None, mask_pattern: Any = None,
            dst: Any = None, **kw: Any) -> Tile:
    """The inverse of :func:`gather`: a source written into a destination (the result: the destination's
    shape) at per-row lane positions given by ``index`` (data-dependent addresses) or by ``mask_pattern``
    (every other lane). pypto's forms: ``scatter(input, dim, index, src)`` (index form: ``input`` is the
    destination) and ``scatter(x, mask_pattern=, dst=)`` (mask form: ``x`` is the source); the index form
    also reads ``scatter(x, index=, dst=)``. One vec op over the source's valid region, costed as a gather;
    the destination is an input (its other lanes are kept)."""
    kernel_scope()
    rec = current()
    if src is not None:  # pypto's index form: the first operand is the destination
        if dst is not None:
            rec.error("pl.scatter: give src= (the first operand is then the destination) or dst=, not both")
        x, dst = src, x
    t = as_tile(x)
    d = as_tile(dst) if dst is not None else None
    if index is not None:
        if d is None:
            rec.error("pl.scatter: the index form needs dst=")
        idx = as_tile(index)
        if idx.dtype.name not in ("INT32", "INT16", "UINT32"):
            rec.error(f"pl.scatter: index dtype {idx.dtype.name} (INT32 expected)")
        if idx.shape[0] != t.shape[0] or idx.shape[0] != d.shape[0]:
            rec.error(f"pl.scatter: index rows {idx.shape} do not match source {t.shape} / dst {d.shape}")
        return put(record_vec_op("scatter", d.shape, d.dtype, [t, idx, d], valid_shape=d.valid, work_shape=idx.valid),
                   "scatter", t, idx, d)
    if mask_pattern is None:
        rec.error("pl.scatter: give index= or mask_pattern=")
    if d is None:
        shp = list(t.shape[:-1]) + [t.shape[-1] * 2]
        return put(record_vec_op("scatter_mask", shp, t.dtype, [t], work_shape=t.valid), "scatter_mask", t,
                   mask_pattern=mask_pattern)
    if d.shape[0] != t.shape[0] or d.dtype.name != t.dtype.name:
        rec.error(f"pl.scatter: source {t.shape} {t.dtype.name} does not fit dst {d.shape} {d.dtype.name}")
    return put(record_vec_op("scatter_mask", d.shape, d.dtype, [t, d], valid_shape=d.valid, work_shape=t.valid),
               "scatter_mask", t, d, mask_pattern=mask_pattern)


def transpose(x: Any, axis1: int = 0, axis2: int = 1) -> Any:
    """K: a real tile transpose (VEC). O: not supported (views are row-major boxes here)."""
    if not in_kernel():
        current().error("pl.transpose in orchestration code is not supported by the recorder")
    t = as_tile(x)
    shp = list(t.shape)
    val = list(t.valid)
    shp[axis1], shp[axis2] = shp[axis2], shp[axis1]
    val[axis1], val[axis2] = val[axis2], val[axis1]
    return put(record_vec_op("transpose", shp, t.dtype, [t], valid_shape=val, work_shape=t.valid), "transpose", t,
               axis1=axis1, axis2=axis2)


def concat(a: Any, b: Any) -> Tile:
    kernel_scope()
    a, b = as_tile(a), as_tile(b)
    return put(record_vec_op("concat", [a.shape[0], a.shape[1] + b.shape[1]], a.dtype, [a, b]), "concat", a, b)


def sort32(scores: Any, idx: Any) -> Tile:
    """Sort every 32-element block of each row, carrying ``idx``; output [R, 2C] (value, index) pairs.

    Cost driver: the R x C/32 blocks of the valid input region (pypto ``pl.tensor.sort32`` sorts fixed
    32-element blocks), recorded as the work shape.
    """
    kernel_scope()
    rec = current()
    s, i = as_tile(scores), as_tile(idx)
    if s.dtype.name not in ("FP16", "FP32"):
        rec.error(f"pl.sort32: scores dtype {s.dtype.name} (FP16 or FP32 expected)")
    if len(s.shape) != 2 or s.shape[1] % 32:
        rec.error(f"pl.sort32: scores shape {s.shape} must be 2-d with a multiple of 32 columns")
    if i.shape[-1] != s.shape[1]:
        rec.error(f"pl.sort32: index shape {i.shape} does not match scores {s.shape}")
    out = [s.shape[0], 2 * s.shape[1]]
    valid = [s.valid[0], 2 * s.valid[1]]
    return put(record_vec_op("sort32", out, s.dtype, [s, i], valid_shape=valid, work_shape=list(s.valid)), "sort32",
               s, i)


def mrgsort(*lists: Any, block_len: int | None = None, exhausted: Any = None) -> Tile:
    """Merge sorted runs (pypto ``pl.tensor.mrgsort``). Format 1 ``mrgsort(t, block_len=L)``: each
    group of 4 runs of length L (a multiple of 64, counted along the pair row) becomes one run; same
    shape. Format 2 ``mrgsort(a, b[, c, d])``: 2-4 sorted lists of equal rows, joined along the
    columns.
    Cost driver: the elements of one merge pass (the output valid region)."""
    kernel_scope()
    rec = current()
    tiles = [as_tile(t) for t in lists]
    if not tiles:
        rec.error("pl.mrgsort: expects one tile (with block_len=) or 2-4 sorted lists")
    if block_len is not None:
        if len(tiles) != 1:
            rec.error("pl.mrgsort(block_len=...) takes exactly one tile")
        t = tiles[0]
        if block_len <= 0 or block_len % 64:
            rec.error(f"pl.mrgsort: block_len={block_len} must be a positive multiple of 64")
        if t.shape[-1] % block_len:
            rec.error(f"pl.mrgsort: row length {t.shape[-1]} is not a multiple of block_len={block_len}")
        return put(record_vec_op("mrgsort", list(t.shape), t.dtype, [t], valid_shape=list(t.valid)), "mrgsort", t,
                   block_len=block_len)
    if not 2 <= len(tiles) <= 4:
        rec.error(f"pl.mrgsort: format 2 merges 2-4 lists, got {len(tiles)}")
    rows = tiles[0].shape[0]
    for t in tiles:
        if t.dtype.name != tiles[0].dtype.name or len(t.shape) != 2 or t.shape[0] != rows:
            rec.error(f"pl.mrgsort: lists {[x.shape for x in tiles]} must be 2-d with equal rows and dtype")
    out = [rows, sum(t.shape[1] for t in tiles)]
    valid = [rows if all(t.valid[0] == t.shape[0] for t in tiles) else min(t.valid[0] for t in tiles),
             sum(t.valid[1] for t in tiles)]
    return put(record_vec_op("mrgsort", out, tiles[0].dtype, tiles, valid_shape=valid), "mrgsort", *tiles)


__all__ = [
    "add", "sub", "mul", "div", "maximum", "minimum", "neg", "abs", "exp", "log", "sqrt", "rsqrt", "recip",
    "relu", "cast", "full", "arange", "fillpad", "row_sum", "row_max", "row_min", "col_sum", "col_max",
    "col_min", "row_expand", "row_expand_mul", "row_expand_div", "row_expand_sub", "row_expand_add", "col_expand_mul",
    "col_expand_add", "col_expand_sub", "col_expand_div", "col_expand", "col_expand_expdif", "gather", "scatter",
    "row_argmax", "row_argmin",
    "transpose", "concat", "sort32", "mrgsort",
]
