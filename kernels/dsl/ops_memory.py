"""Extra ops for further kernels (owned by the decode_attention_hca helper).

Define new ops with the recorder API of :mod:`kernels.dsl.tiles` (``record_vec_op``,
``record_load``, ``record_store``, ``record_cube``, ``record_scalar``, ``record_gather_row``)
and list their names in ``__all__``; ``kernels.language`` re-exports them last.
"""

from __future__ import annotations

from kernels.dsl import tiles as block
from kernels.dsl.tasks import TensorView, current
from kernels.dsl.tiles import Tile, kernel_scope

# (The stable call-site key workaround that lived here is now ``block._site`` itself: it keys frames
# by source position and code objects by id.)


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
