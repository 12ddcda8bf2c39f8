"""Cube ``pl`` operations (pypto ``docs/en/user/ops/01-catalog.md``: linear algebra, gather, cross-core
transfer): matmuls, L1 tiles, GM rows gathered into L1, and the named cube <-> AIV crossings of
split-region kernels.

Each op records through :mod:`kernels.dsl.cube` (cube side) or only checks its operand (crossings).
"""

from __future__ import annotations

from typing import Any

from kernels.dsl.context import current
from kernels.dsl.cube import new_l1_tile, record_cube, record_gather_row
from kernels.dsl.tensors import TensorView
from kernels.dsl.tiles import Tile, kernel_scope, unary
from kernels.dsl.types import DataType


def matmul(a: Any, b: Any, out_dtype: DataType | None = None, a_trans: bool = False,
           b_trans: bool = False, **kw: Any) -> Tile:
    return record_cube("matmul", a, b, out_dtype=out_dtype, a_trans=a_trans, b_trans=b_trans)


def matmul_acc(acc: Any, a: Any, b: Any, a_trans: bool = False, b_trans: bool = False,
               init_cond: Any = None) -> Tile:
    if not isinstance(acc, Tile):
        current().error("pl.matmul_acc: the accumulator must be a matmul result tile")
    return record_cube("matmul_acc", a, b, acc=acc, a_trans=a_trans, b_trans=b_trans)


def create_l1(shape: list[int], dtype: DataType, transpose: bool = False) -> Tile:
    return new_l1_tile(list(shape), dtype)


def gather_row(acc: Tile, src: TensorView, dst_offset: Any = None, src_offset: Any = None,
               shapes: Any = None, transpose: bool = False, valid_shape: Any = None) -> Tile:
    """DMA one GM window straight into a sub-window of an L1 tile (cube-side MTE2)."""
    kernel_scope()
    view = src
    if src_offset is not None:
        shp = list(shapes) if shapes is not None else [1] * (len(src.shape) - 1) + [src.shape[-1]]
        valid = [int(v) for v in valid_shape] if valid_shape is not None and len(valid_shape) == len(shp) else None
        view = src.window(list(src_offset), shp, valid)  # bounds-checked over the rows the DMA moves
    return record_gather_row(acc, view, list(dst_offset or []), valid_shape)


def _crossing(name: str, t: Any, want: str) -> Tile:
    kernel_scope()
    rec = current()
    if not isinstance(t, Tile):
        rec.error(f"pl.{name}: expects an on-chip tile, got {type(t).__name__}")
    side = t.node.side if t.node is not None else None
    if want == "cube" and side == "vec":
        rec.error(f"pl.{name}: operand is a vector-side tile; aiv_shard moves a cube result to the AIV lanes")
    if want == "vec" and side == "cube":
        rec.error(f"pl.{name}: operand is a cube-side tile; aic_gather moves AIV results to the AIC")
    return t


def aiv_shard(t: Any) -> Tile:
    """Name the cube -> AIV crossing of a split-region kernel (pypto
    ``docs/en/dev/passes/10-convert_tensor_to_tile_ops.md``, AIV-split boundary). The transfer itself is recorded
    where a vector op consumes the value (FIXP + MTE2 hand-off); lane halving is not modelled."""
    return _crossing("aiv_shard", t, "cube")


def aic_gather(t: Any) -> Tile:
    """Name the AIV -> cube crossing of a split-region kernel (as ``aiv_shard``); recorded where the cube op
    consumes the value (MTE3 + MTE2 hand-off)."""
    return _crossing("aic_gather", t, "vec")


_MOVE_TARGETS = {"Mat", "Left", "Right", "Vec"}


def move(t: Any, target_memory: Any, blayout: Any = None, slayout: Any = None) -> Tile:
    """``pl.move`` / ``pl.tile.move``: the tile in another on-chip space. L1 -> L0A/L0B (``Left``/``Right``)
    and L0C -> L1 are the MTE1 move and FIXPIPE drain the consuming matmul records, so the tile itself is
    returned; a vector <-> cube move is the crossing that :func:`aiv_shard` / :func:`aic_gather` name,
    recorded where the other side consumes the value; a ``Vec`` -> ``Vec`` move is a UB copy (one vector
    pass). Other target spaces stop with one line."""
    kernel_scope()
    rec = current()
    if not isinstance(t, Tile):
        rec.error(f"pl.move: expects an on-chip tile, got {type(t).__name__}")
    space = getattr(target_memory, "name", str(target_memory))
    if space not in _MOVE_TARGETS:
        rec.error(f"pl.move(target_memory={space}) is not supported by the swimsim recording DSL "
                  f"(it models moves to {', '.join(sorted(_MOVE_TARGETS))})")
    side = t.node.side if t.node is not None else ("cube" if t.space != "Vec" else "vec")
    if space == "Vec" and side != "cube":
        return unary("move", t)
    return t


__all__ = ["matmul", "matmul_acc", "create_l1", "gather_row", "aiv_shard", "aic_gather", "move"]
