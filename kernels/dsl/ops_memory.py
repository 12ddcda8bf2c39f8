"""Memory ``pl`` operations (pypto ``docs/en/user/language/03-memory.md``): GM intermediates and on-chip
buffers, views and windows, reshapes, explicit loads and stores, assembly into tensors or tiles, loads
into tile rows.

In orchestration code these build GM views (no op); in a kernel scope they record loads, stores
and copies through :mod:`kernels.dsl.tiles`. Shapes and offsets are element counts.
"""

from __future__ import annotations

import builtins
import warnings
from typing import Any

import numpy as np

from kernels.dsl.context import current, in_kernel
from kernels.dsl.cube import new_l1_tile
from kernels.dsl.escapes import alias_exit_store, localize, materialize
from kernels.dsl.tensors import TensorView, prod, through_alias
from kernels.dsl.tiles import Tile, as_tile, kernel_scope, record_load, record_store, record_vec_op
from kernels.dsl.types import FP32, AtomicType, DataType, MemorySpace
from kernels.dsl.values import STATE as VALUES
from kernels.dsl.values import Unknown, alias_values, into, kernel_line, put, reshape_tile, store_value, value_of
from sim.util.errors import InputWarning

_pyslice = builtins.slice


def create_tensor(shape: list[int], dtype: DataType = FP32, manual_dep: bool = False,
                  init_value: Any = None, name: str | None = None) -> Any:
    """O: a GM intermediate (batched into the scope's alloc task; with ``init_value`` the AICPU fills
    it when it creates it, docs/model.md §4.1). K: an on-chip UB buffer."""
    rec = current()
    if rec.kernel is not None:
        kernel_scope()
        return Tile(None, list(shape), dtype, list(shape), "Vec")
    return rec.create_tensor(list(shape), dtype, name=name, manual_dep=manual_dep, init=init_value is not None)


def create_tile(shape: list[int], dtype: DataType = FP32, target_memory: Any = MemorySpace.Vec) -> Tile:
    kernel_scope()
    if target_memory in (MemorySpace.Mat, MemorySpace.Left, MemorySpace.Right):
        return new_l1_tile(list(shape), dtype)
    return Tile(None, list(shape), dtype, list(shape), "Vec")


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
    if in_kernel():
        return record_load(view)
    return view


def view(x: Any, shape: list[int], offset: list[int]) -> Any:
    """A window view (never loads); of an on-chip tile, the zero-copy sub-tile ``pl.slice`` gives."""
    if isinstance(x, Tile):
        return slice(x, shape, offset)
    if not isinstance(x, TensorView):
        current().error(f"pl.view of {type(x).__name__}")
    shp, off = [int(s) for s in shape], [int(o) for o in offset]
    if len(shp) < len(off) == len(x.shape):  # a lower-rank view: the shape covers the trailing dims
        return reshape(x.window(off, [1] * (len(off) - len(shp)) + shp), shp)
    return x.window(off, shp)


def reshape(x: Any, new_shape: list[int]) -> Any:
    """Same bytes, new shape: a view of a GM tensor (also in a kernel), metadata on a tile."""
    shp = [int(s) for s in new_shape]
    if prod(shp) != prod(x.shape):
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
        return reshape_tile(Tile(x.node, shp, x.dtype, val, x.space), x)
    if isinstance(x, TensorView):
        return TensorView(x.base, tuple(shp), x, "reshape")
    current().error(f"pl.reshape of {type(x).__name__}")
    raise AssertionError


def transpose_view(t: Tile) -> Tile:
    """``pl.tile.transpose_view``: the tile with its last two dims swapped, no op (a layout view; a
    matmul reading it costs as with ``a_trans``/``b_trans``, whose L1 -> L0 moves do the transposition,
    and a loaded tile read through it needs no ND -> NZ conversion)."""
    kernel_scope()
    if not isinstance(t, Tile) or len(t.shape) < 2:
        current().error(f"pl.tile.transpose_view: expected a tile of rank >= 2, got {t!r}")
    shp, val = list(t.shape), list(t.valid)
    shp[-2:], val[-2:] = shp[:-3:-1], val[:-3:-1]
    if t.node is not None and t.node.kind == "load":
        t.node.layout_dn = True
    out = Tile(t.node, shp, t.dtype, val, t.space)
    if VALUES.on:
        v = value_of(t)
        out.value = v if isinstance(v, Unknown) else np.swapaxes(v, -1, -2)
    return out


def set_validshape(t: Tile, *valid: Any) -> Tile:
    vals = list(valid[0]) if len(valid) == 1 and isinstance(valid[0], list | tuple) else list(valid)
    t.valid = [int(v) for v in vals]
    return t


def load(x: TensorView, offsets: list[int], shapes: list[int], valid_shape: list[int] | None = None,
         target_memory: Any = MemorySpace.Vec) -> Tile:
    """Explicit GM -> on-chip load (``pl.tile.load``). ``x`` may also be a tile: one of a closed ``pl.at``
    scope is read from the GM tensor that scope writes it to (:func:`kernels.dsl.escapes.materialize`); one
    of this scope (an on-chip buffer) gives its window as a view, no op."""
    ks = kernel_scope()
    shp = [int(s) for s in shapes]
    valid = _edge_valid(shp, valid_shape)
    if isinstance(x, Tile):
        node = x.node
        if node is None or (node.idx < len(ks.nodes) and ks.nodes[node.idx] is node):
            win = x[tuple(_pyslice(int(o), int(o) + n) for o, n in zip(offsets, shp, strict=True))]
            if valid is not None:
                win.valid = [min(a, b) for a, b in zip(win.valid, valid, strict=True)]
            return win
        x = _escaped_source(x)
    v = x.window([int(o) for o in offsets], shp, valid)
    space = "Mat" if target_memory in (MemorySpace.Mat, MemorySpace.Left, MemorySpace.Right) else None
    return record_load(v, list(shapes), valid_shape, space)


def _escaped_source(t: Tile) -> TensorView:
    """The GM tensor a ``pl.load`` of tile ``t`` (of a closed scope) reads. With values on it holds the
    tile's value, whichever use first materialized it (an operand use, :func:`kernels.dsl.escapes.localize`,
    has no value to write): the exit store is its only writer."""
    view = materialize(current(), t.node, "pl.load")
    if VALUES.on:
        store_value(t, view, list(t.valid) if len(t.valid) == len(view.shape) else list(view.shape))
    return view


def store(tile: Any, offsets: list[int], x: TensorView, atomic: Any = None,
          shapes: list[int] | None = None) -> TensorView:
    """Explicit on-chip -> GM store (``pl.tile.store``); ``shapes`` gives the GM window (default: the tile's)."""
    kernel_scope()
    t = as_tile(tile)
    v = _store_window(x, [int(o) for o in offsets], t, shapes)
    record_store(t, v, atomic == AtomicType.Add)
    return x


def _edge_valid(shape: list[int], valid: Any) -> list[int] | None:
    """The valid extent when it is narrower than ``shape`` (same rank), else None."""
    if valid is None or len(valid) != len(shape):
        return None
    v = [int(a) for a in valid]
    return v if any(a < b for a, b in zip(v, shape, strict=True)) else None


def _store_window(x: TensorView, off: list[int], t: Tile, shapes: list[int] | None = None) -> TensorView:
    """The GM window a store of ``t`` at ``off`` writes: the tile's shape, bounds-checked (and moved) only over
    its valid extent, so a padded tile may be stored at a tensor's edge (``[8, 8]`` tile, valid ``[8, 4]``,
    into an ``[8, 4]`` tensor)."""
    shp = _fit(t.shape, len(x.shape)) if shapes is None else [int(a) for a in shapes]
    tv = t.valid
    if len(t.shape) != len(x.shape):
        tv = _fit(tv, len(x.shape)) if tv is not None and len(tv) == len(t.shape) < len(x.shape) else None
    if shapes is None and isinstance(t, Tile) and 1 < len(t.shape) < len(x.shape) and x.parent is None:
        lin = _linear_window(x, off, t, shp, tv)
        if lin is not None:
            return lin
    return x.window(off, shp, _edge_valid(shp, tv))


def _linear_window(x: TensorView, off: list[int], t: Tile, shp: list[int], tv: list[int] | None) -> TensorView | None:
    """A lower-rank tile whose rows run past their target dim, as a window of ``x`` with the leading dims merged
    (None when the rows stay inside). pypto writes such a tile with the target's trailing strides, so its rows
    continue linearly into the next index of the dims before (OptimizeOrchTensors), which is what the merged
    view addresses; one warning names the write."""
    ext = shp if tv is None else [min(int(v), int(s)) for v, s in zip(tv, shp, strict=True)]
    k = len(x.shape) - len(t.shape)  # the tile's first dim runs along target dim k
    if all(a + n <= d for a, n, d in zip(off, ext, x.shape, strict=True)) or any(a < 0 for a in off):
        return None
    if any(a + n > d for a, n, d in zip(off[k + 1:], ext[k + 1:], x.shape[k + 1:], strict=True)):
        return None  # a trailing dim overflows: an ordinary out-of-bounds write
    lead = 0
    for a, d in zip(off[: k + 1], x.shape[: k + 1], strict=True):
        lead = lead * d + a
    flat = TensorView(x.base, (prod(x.shape[: k + 1]), *x.shape[k + 1:]), x, "reshape")
    rows = [lead, *off[k + 1:]]
    warnings.warn(f"{kernel_line()}: pl.assemble of a {list(t.shape)} tile into {x.name} {list(x.shape)}: its rows "
                  f"run past dim {k} ({x.shape[k]}) and continue into the next index of the dims before it, as "
                  "pypto writes a lower-rank tile (with the target's trailing strides)", InputWarning, stacklevel=3)
    return flat.window(rows, list(t.shape), _edge_valid(list(t.shape), t.valid))


def _fit(shape: list[int], nd: int) -> list[int]:
    if len(shape) == nd:
        return list(shape)
    if len(shape) > nd:
        lead = prod(shape[: len(shape) - nd + 1])
        return [lead] + list(shape[len(shape) - nd + 1:])
    return [1] * (nd - len(shape)) + list(shape)


def assemble(x: Any, v: Any, offset: list[int], atomic: Any = None) -> Any:
    """K, GM target: a store (atomic allowed). K, tile target: an on-chip copy. O: the tile's
    producer writes into X's window (:func:`kernels.dsl.escapes.orchestration_assemble`)."""
    if not in_kernel():
        return _orchestration_assemble(x, v, offset, atomic)
    if isinstance(x, Tile):
        t = as_tile(v)
        sub = x[tuple(_pyslice(o, o + s) for o, s in zip(offset, _fit(t.shape, len(x.shape)), strict=True))]
        out = record_vec_op("copy", sub.shape, x.dtype, [t, x], valid_shape=t.valid)
        x.value = put(out, "copy", t, x, offset=[int(o) for o in offset]).value
        x.node = out.node
        return x
    t = as_tile(v)
    w = _store_window(x, [int(o) for o in offset], t)
    record_store(t, w, atomic == AtomicType.Add)
    return x


def _orchestration_assemble(x: Any, v: Any, offset: list[int], atomic: Any) -> Any:
    """``X = pl.assemble(X, tile, offset)`` in orchestration code emits no task and no copy: the tile's
    producing ``pl.at`` kernel writes its valid region straight into X's window (an exit store and an
    output argument, :mod:`kernels.dsl.escapes`); returns X. ``atomic=`` is rejected there."""
    rec = current()
    if atomic is not None and atomic != AtomicType.None_:
        rec.error("pl.assemble(atomic=...) in orchestration code: atomic writes are only legal inside a kernel")
    if not isinstance(x, TensorView):
        rec.error(f"pl.assemble in orchestration code: target must be a GM tensor, got {type(x).__name__}")
    if isinstance(v, TensorView):
        return _alias_tensor(rec, x, v, [int(o) for o in offset])
    if not isinstance(v, Tile) or v.node is None:
        rec.error(f"pl.assemble in orchestration code of {type(v).__name__} {getattr(v, 'name', '')}: only a "
                  "tile computed by a closed pl.at scope can be assembled outside a kernel")
    if v.dtype.name != x.dtype.name:
        rec.error(f"pl.assemble of a {v.dtype.name} tile into {x.name} ({x.dtype.name}): cast first")
    w = _store_window(x, [int(o) for o in offset], v)
    alias_exit_store(rec, v.node, w, list(w.valid) if w.valid else list(w.shape))
    return x


def _alias_tensor(rec: Any, x: TensorView, v: TensorView, offset: list[int]) -> TensorView:
    """``X = pl.assemble(X, T, offset)`` of a GM tensor ``T`` created in orchestration code: no task and
    no copy; ``T``'s buffer becomes the window of ``X`` at ``offset`` (its earlier and later writers write
    there, its readers read there), so the dependency edges run through ``X``'s window. Returns X."""
    b = v.base
    if v.parent is not None or b.kind == "param" or b.alias is not None:
        rec.error(f"pl.assemble in orchestration code of tensor {b.name}: only a whole tensor created in "
                  "orchestration code (pl.create_tensor), assembled once, can alias a window of another tensor")
    if b.dtype.name != x.dtype.name:
        rec.error(f"pl.assemble of {b.name} ({b.dtype.name}) into {x.name} ({x.dtype.name}): cast first")
    w = _store_window(x, offset, v)
    if prod(w.shape) != prod(v.shape) or [n for n in w.shape if n != 1] != [n for n in v.shape if n != 1]:
        rec.error(f"pl.assemble of {b.name} {list(v.shape)} into {x.name} at {offset}: the window "
                  f"{list(w.shape)} does not match")
    o, shp = w.to_base()
    tb = w.base
    if tb.alias is not None:
        tb, o, shp = through_alias(tb, o, shp)
    if [n for n in shp if n != 1] != [n for n in v.shape if n != 1]:
        rec.error(f"pl.assemble of {b.name} into {x.name}: the window is not one box of {tb.name}'s buffer")
    alias_values(b, w)
    b.alias = (tb, o)
    return x


def load_into(tile: Tile, src: TensorView, dst_offset: list[int]) -> Tile:
    """Load the GM window ``src`` straight into a sub-window of the on-chip tile ``tile``.

    One MTE2 load of ``src``'s valid bytes and no vector copy: the DMA writes the rows in place
    (an assumption for rows written as ``state[s : s + 1, :] = gm_row``: softmax_pool's state tiles in
    pypto-lib ``models/deepseek/v4/decode_compressor_ratio128.py``; rmsnorm_rope's cos/sin rows). Returns the
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
    prev = localize(kernel_scope(), [tile.node], record_load) if tile.node is not None else []
    t = record_load(src, space=space)
    t.node.inputs.extend(prev)  # the tile's previous producer (loaded first if another scope computed it)
    return into(Tile(t.node, tile.shape, tile.dtype, tile.valid, tile.space), tile, src, list(dst_offset))


__all__ = ["create_tensor", "create_tile", "slice", "view", "reshape", "transpose_view", "set_validshape", "load",
           "store", "assemble", "load_into"]
