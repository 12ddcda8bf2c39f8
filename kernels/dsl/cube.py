"""Cube-side in-core recording: matmuls (operands moved L1 -> L0), L1 tiles, and GM rows DMA'd into L1.

Part of the recorder API next to :mod:`kernels.dsl.tiles`: ``record_cube``, ``record_gather_row``,
``new_l1_tile``. Shapes are elements, sizes bytes.
"""

from __future__ import annotations

from typing import Any

from kernels.dsl.context import current
from kernels.dsl.tensors import TensorView, prod
from kernels.dsl.tiles import Tile, as_tile, exact_dma, kernel_scope, raw_tile, task_arg
from kernels.dsl.types import FP32, INT32, DataType
from kernels.dsl.values import into, put


def record_cube(name: str, a: Any, b: Any, *, acc: Tile | None = None, out_dtype: DataType | None = None,
                a_trans: bool = False, b_trans: bool = False) -> Tile:
    """A CUBE matmul (``name`` "matmul" or "matmul_acc"); operands become L1 -> L0 moves."""
    ks = kernel_scope()
    rec = current()
    ta, tb = as_tile(a), as_tile(b)
    if ta.dtype.name != tb.dtype.name:
        rec.error(f"pl.{name}: operand dtype mismatch {ta.dtype.name} x {tb.dtype.name}")
    sa, sb = _strip_lead(ta.shape), _strip_lead(tb.shape)
    if len(sa) != 2 or len(sb) != 2:
        rec.error(f"pl.{name}: 2-d operands (or a leading batch of 1) expected, got {ta.shape} x {tb.shape}")
    m, ka = (sa[1], sa[0]) if a_trans else (sa[0], sa[1])
    kb, nn = (sb[1], sb[0]) if b_trans else (sb[0], sb[1])
    # a leading batch of 1 on either operand: the 2-d matmul (same cost), result [1, .., M, N] (batch broadcast)
    oshape = [1] * max(len(ta.shape) - 2, len(tb.shape) - 2, 0) + [m, nn]
    if ka != kb:
        rec.error(f"pl.{name}: K mismatch {ta.shape} x {tb.shape} (a_trans={a_trans}, b_trans={b_trans})")
    natural = "INT32" if ta.dtype.name in ("INT8", "UINT8") else "FP32"
    if acc is not None:
        odt = acc.dtype
        if _strip_lead(acc.shape) != [m, nn]:
            rec.error(f"pl.matmul_acc: accumulator {acc.shape} does not match [{m}, {nn}]")
        if len(acc.shape) > len(oshape):
            oshape = list(acc.shape)
    else:
        odt = out_dtype or (FP32 if natural == "FP32" else INT32)
    if odt.name != natural:
        rec.error(f"pl.{name}: {ta.dtype.name} inputs accumulate in {natural}, not {odt.name}")
    inputs = [x for x in (ta.node, tb.node) if x is not None]
    if acc is not None and acc.node is not None:
        an, nodes = acc.node, ks.nodes
        if an.idx >= len(nodes) or nodes[an.idx] is not an:
            rec.error(f"pl.{name}: the accumulator is a tile of another block or a closed scope; an L0C "
                      "accumulator cannot outlive its kernel (store it and start a new pl.matmul)")
        inputs.append(acc.node)
    n = ks.add(name, name, inputs, [m, nn], odt, "cube")
    n.mnk = [m, nn, ka]
    n.in_dtype = ta.dtype.name
    n.nbytes = m * nn * odt.size
    n.acc = acc.node if acc is not None else None
    for x, trans in ((ta.node, a_trans), (tb.node, b_trans)):
        if x is not None:
            x.cube_use = True
            if not trans and not x.layout_dn:  # GM holds ND; an untransposed operand is converted row by row
                x.nz_convert = True  # into L1's NZ fractals (a transposed view's rows need no conversion)
    return put(raw_tile(n, oshape, odt, list(oshape), "Acc"), "matmul", ta, tb, acc=acc, a_trans=a_trans,
               b_trans=b_trans)


def _strip_lead(shape: list[int]) -> list[int]:
    """``shape`` without leading 1s beyond the last two dims ([1, M, K] -> [M, K])."""
    s = list(shape)
    while len(s) > 2 and s[0] == 1:
        s = s[1:]
    return s


def new_l1_tile(shape: list[int], dtype: DataType) -> Tile:
    """An L1 (Mat) tile with no producer (``pl.create_l1``); makes its users cube-side."""
    kernel_scope()
    return Tile(None, shape, dtype, shape, "Mat")


def record_gather_row(acc: Tile, view: TensorView, dst_offset: list[int], valid_shape: list[int] | None = None
                      ) -> Tile:
    """GM window -> sub-window of an L1 tile (cube-side MTE2). Returns the updated L1 tile."""
    ks = kernel_scope()
    valid = list(valid_shape) if valid_shape is not None else list(view.shape)
    inputs = [acc.node] if acc.node is not None else []
    n = ks.add("gather_row", "gather_row", inputs, valid, view.dtype, "cube")
    n.region = view.region([0] * len(valid), valid)
    if view.parent is not None and view.parent.parent is not None:
        exact_dma(n, view, [0] * len(valid), valid)
    n.base_shape = view.base.shape
    n.nbytes = prod(valid) * view.dtype.size
    task_arg(view).reads = True
    return into(Tile(n, acc.shape, acc.dtype, acc.valid, "Mat"), acc, view, dst_offset)
