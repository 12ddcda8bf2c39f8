"""Extra ops for further kernels (owned by the decode_attention_hca helper).

Define new ops with the recorder API of :mod:`kernels.dsl.block` (``record_vec_op``,
``record_load``, ``record_store``, ``record_cube``, ``record_scalar``, ``record_gather_row``)
and list their names in ``__all__``; ``kernels.language`` re-exports them last.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any

from kernels.dsl import block
from kernels.dsl.block import Tile, kernel_scope
from kernels.dsl.recorder import TensorView, current

# ------------------------------------------------------------------------------------------------
# Workaround (reported to the DSL owner): stable call-site keys.
# ``block._site`` keys a call site by ``frame.f_lasti``. On CPython 3.11 that offset changes when the
# interpreter specialises the calling instruction (e.g. BINARY_SUBSCR: after ~8 executions f_lasti
# points past the inline cache), so one source expression gets two keys during warm-up and the
# WAR/ring deps differ between repeated builds in one process (and depend on which kernels were
# built before). This replacement walks the same frames (innermost non-DSL frame and its caller)
# but keys each by its source position, which an instruction shares with its inline caches. It is
# installed only while ``block._site`` still reads ``f_lasti``.
# ------------------------------------------------------------------------------------------------
_CODE_POS: dict[types.CodeType, list[Any]] = {}
_IS_DSL: dict[types.CodeType, bool] = {}


def _positions(code: types.CodeType) -> list[Any]:
    ps = _CODE_POS.get(code)
    if ps is None:
        ps = _CODE_POS[code] = list(code.co_positions())
    return ps


def _stable_site() -> tuple[Any, ...]:
    f = sys._getframe(2)
    while f is not None:
        code = f.f_code
        dsl = _IS_DSL.get(code)
        if dsl is None:
            dsl = _IS_DSL[code] = code.co_filename.startswith(_DSL_DIR)
        if not dsl:
            break
        f = f.f_back
    if f is None:
        return ("?",)
    b = f.f_back
    if b is None:
        return (id(code), _positions(code)[f.f_lasti // 2], 0, -1)
    return (id(code), _positions(code)[f.f_lasti // 2], id(b.f_code), _positions(b.f_code)[b.f_lasti // 2])


_DSL_DIR = os.path.dirname(os.path.abspath(block.__file__))
if "f_lasti" in block._site.__code__.co_names:
    block._site = _stable_site


def load_into(tile: Tile, src: TensorView, dst_offset: list[int]) -> Tile:
    """Load the GM window ``src`` straight into a sub-window of the on-chip tile ``tile``.

    One MTE2 load of ``src``'s valid bytes and no vector copy: the DMA writes the rows in place
    (HCA spec §12.4, the softmax_pool state tiles; rmsnorm_rope's cos/sin rows). Returns the
    updated tile (same shape and valid region as ``tile``); later users of it wait for this load
    and, through it, for the tile's previous producer.
    """
    kernel_scope()
    if not isinstance(tile, Tile) or not isinstance(src, TensorView):
        current().error("pl.load_into(tile, gm_window, dst_offset): expects an on-chip tile and a GM window")
    if len(dst_offset) != len(tile.shape):
        current().error(f"pl.load_into: offset {list(dst_offset)} does not match tile {tile.shape}")
    ext = list(src.valid) if src.valid else list(src.shape)
    if len(ext) != len(tile.shape):
        ext = [1] * (len(tile.shape) - len(ext)) + ext if len(ext) < len(tile.shape) else ext[-len(tile.shape):]
    for o, n, d in zip(dst_offset, ext, tile.shape, strict=True):
        if o < 0 or o + n > d:
            current().error(f"pl.load_into: window {ext} at {list(dst_offset)} does not fit tile {tile.shape}")
    space = "Mat" if tile.space == "Mat" else "Vec"
    t = block.record_load(src, space=space)
    if tile.node is not None:
        t.node.inputs.append(tile.node)
    return Tile(t.node, tile.shape, tile.dtype, tile.valid, tile.space)


__all__: list[str] = ["load_into"]
