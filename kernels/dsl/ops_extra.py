"""Extra ops for further kernels (owned by the decode_attention_hca helper).

Define new ops with the recorder API of :mod:`kernels.dsl.block` (``record_vec_op``,
``record_load``, ``record_store``, ``record_cube``, ``record_scalar``, ``record_gather_row``)
and list their names in ``__all__``; ``kernels.language`` re-exports them last.
"""

from __future__ import annotations

import types
from typing import Any

from kernels.dsl import block
from kernels.dsl.block import Tile, kernel_scope
from kernels.dsl.recorder import TensorView, current

# ------------------------------------------------------------------------------------------------
# Workaround (reported to the DSL owner): stable call-site keys.
# ``block._site`` keys a call site by ``frame.f_lasti``. On CPython 3.11 that offset changes when the
# interpreter specialises the calling instruction (e.g. BINARY_SUBSCR after ~8 executions it points
# past the inline cache), so the same source expression gets two keys during warm-up and the
# WAR/ring deps of repeated builds in one process differ. Mapping each offset to its source
# position (instruction + caches share one position) makes the key stable. Applied only while
# ``block._site`` still returns the (code, lasti, code, lasti) form.
# ------------------------------------------------------------------------------------------------
_POSITIONS: dict[types.CodeType, list[Any]] = {}
_KEYS: dict[tuple[Any, ...], tuple[Any, ...]] = {}


def _pos(code: Any, lasti: int) -> Any:
    if not isinstance(code, types.CodeType) or lasti < 0:
        return lasti
    ps = _POSITIONS.get(code)
    if ps is None:
        ps = _POSITIONS[code] = list(code.co_positions())
    i = lasti // 2
    return ps[i] if i < len(ps) else lasti


def _stable(site_fn: Any) -> Any:
    def site() -> tuple[Any, ...]:
        s = site_fn()
        k = _KEYS.get(s)
        if k is None:
            if len(s) == 4 and isinstance(s[0], types.CodeType) and isinstance(s[1], int):
                k = (s[0], _pos(s[0], s[1]), s[2], _pos(s[2], s[3]))
            else:
                k = s
            _KEYS[s] = k
        return k

    site.__wrapped_site__ = site_fn  # type: ignore[attr-defined]
    return site


if not hasattr(block._site, "__wrapped_site__") and "f_lasti" in block._site.__code__.co_names:
    block._site = _stable(block._site)


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
