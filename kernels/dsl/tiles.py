"""In-core recording: on-chip tiles, the open kernel scope, and the recorder API that appends ops.

A kernel scope body runs once per block. Every tile-level call appends a
:class:`~kernels.dsl.lowering.Node` to the block's node list through :meth:`KernelScope.add`; the
block's node list is lowered to ``sim.ir.Op`` objects when the block ends (:mod:`kernels.dsl.lowering`).
Tile arithmetic (``a + b``, ``-t``, ...) records elementwise vector ops (:func:`binary`, :func:`unary`).

Recorder API (used by the ``kernels.dsl.ops_*`` modules and by kernel files that define new ops):
``record_load``, ``record_store``, ``record_vec_op``, ``record_scalar``, ``as_tile``, ``kernel_scope``;
cube-side ``record_cube``, ``record_gather_row``, ``new_l1_tile`` are in :mod:`kernels.dsl.cube`.
"""

from __future__ import annotations

import sys
from math import prod as _mprod
from typing import Any

from kernels.dsl.context import ACTIVE, current, in_kernel
from kernels.dsl.escapes import localize
from kernels.dsl.lowering import Node, lower, overlap, repoint, signature
from kernels.dsl.sites import DSL_DIR, POS, SITE_MEMO, site_id
from kernels.dsl.tasks import ArgRec, TaskRec
from kernels.dsl.tensors import TensorView, prod
from kernels.dsl.types import DataType
from kernels.dsl.values import STATE as VALUES
from kernels.dsl.values import load_value, no_semantics, put, store_value, view_tile
from sim.ir import CoreShape

_getframe = sys._getframe
_new = object.__new__


class Tile:
    """An on-chip value (UB/L1/L0C tile); ``valid`` is the real-data region."""

    __slots__ = ("node", "shape", "valid", "dtype", "space", "value", "vmask")  # value mode: array, unknown elements

    def __init__(self, node: Node | None, shape: list[int], dtype: DataType,
                 valid: list[int] | None = None, space: str = "Vec") -> None:
        self.node = node
        self.shape = sh = list(map(int, shape))
        self.valid = sh.copy() if valid is None else list(map(int, valid))
        self.dtype = dtype
        self.space = space
        self.value: Any = None
        self.vmask: Any = None

    def __repr__(self) -> str:
        return f"Tile({self.shape}, {self.dtype.name}, valid={self.valid})"

    @property
    def ndim(self) -> int:
        return len(self.shape)

    # views of a tile are zero-copy: same producer node, narrower shape
    def __getitem__(self, key: Any) -> Tile:
        if not isinstance(key, tuple):
            key = (key,)
        shp, val, box = [], [], []
        for d, dim in enumerate(self.shape):
            k = key[d] if d < len(key) else slice(None)
            if isinstance(k, slice):
                a = 0 if k.start is None else int(k.start)
                b = dim if k.stop is None else int(k.stop)
            else:
                a, b = int(k), int(k) + 1
            if a < 0 or b > dim or b <= a:
                current().error(f"tile slice [{a}:{b}] out of bounds on dim {d} of tile {self.shape}")
            shp.append(b - a)
            val.append(max(0, min(b, self.valid[d]) - a))
            box.append(slice(a, b))
        return view_tile(Tile(self.node, shp, self.dtype, val, self.space), self, tuple(box))

    def __setitem__(self, key: Any, value: Any) -> None:
        sub = self[key]
        v = as_tile(value)
        t = record_vec_op("copy", sub.shape, self.dtype, [v, self], valid_shape=v.valid)
        self.value = put(t, "copy", v, self, offset=[s.start for s in _boxes(key, self.shape)]).value
        self.node = t.node

    # operators call binary() directly (fewer DSL frames for site_id to walk)
    def __add__(self, o: Any) -> Tile:
        return binary("add", self, o)

    def __radd__(self, o: Any) -> Tile:
        return binary("add", o, self)

    def __sub__(self, o: Any) -> Tile:
        return binary("sub", self, o)

    def __rsub__(self, o: Any) -> Tile:
        return binary("sub", o, self)

    def __mul__(self, o: Any) -> Tile:
        return binary("mul", self, o)

    def __rmul__(self, o: Any) -> Tile:
        return binary("mul", o, self)

    def __truediv__(self, o: Any) -> Tile:
        return binary("div", self, o)

    def __neg__(self) -> Tile:
        return unary("neg", self)


def raw_tile(node: Node | None, shape: list[int], dtype: DataType, valid: list[int], space: str) -> Tile:
    """A Tile that takes ``shape`` and ``valid`` as they are (fresh lists of ints; no copy, no int())."""
    t = _new(Tile)
    t.node = node
    t.shape = shape
    t.valid = valid
    t.dtype = dtype
    t.space = space
    t.value = None
    t.vmask = None
    return t


def _boxes(key: Any, shape: list[int]) -> list[slice]:
    """The per-dim slices of a tile index ``key`` (ints are one-wide slices)."""
    key = key if isinstance(key, tuple) else (key,)
    out = []
    for d, dim in enumerate(shape):
        k = key[d] if d < len(key) else slice(None)
        out.append(slice(0 if k.start is None else int(k.start), dim if k.stop is None else int(k.stop))
                   if isinstance(k, slice) else slice(int(k), int(k) + 1))
    return out


TILE_OR_VIEW = (Tile, TensorView)  # for isinstance (a ``Tile | TensorView`` union is built per call)


def kernel_scope() -> KernelScope:
    """The open kernel scope; error if called from orchestration code."""
    rec = ACTIVE[-1] if ACTIVE else current()
    ks = rec.kernel
    if ks is not None and ks.block_idx is not None:
        return ks
    f = sys._getframe(1)
    op = f.f_code.co_name
    while f.f_back is not None and f.f_back.f_code.co_filename.startswith(DSL_DIR):
        f = f.f_back
        op = f.f_code.co_name
    rec.error(f"misplaced tensor op pl.{op}: should be inside an InCore (pl.at/pl.spmd) block")
    raise AssertionError


def task_arg(view: TensorView, ks: KernelScope | None = None) -> ArgRec:
    """The task argument record of ``view`` (its orchestration capture) in the open kernel scope."""
    args = (ks or ACTIVE[-1].kernel).task.args
    cap = view.capture
    a = args.get(id(cap))
    if a is None:
        a = args[id(cap)] = ArgRec(cap)
    return a


def as_tile(v: Any) -> Tile:
    """A Tile for ``v``; a GM view used directly by a tile op is loaded whole first (the entry loads of
    pypto ``docs/en/dev/passes/10-convert_tensor_to_tile_ops.md``)."""
    if isinstance(v, Tile):
        return v
    if isinstance(v, TensorView):
        return record_load(v)
    current().error(f"expected a tile or tensor, got {type(v).__name__} {v!r}")
    raise AssertionError


# ------------------------------------------------------------------------------------------------
# Recorder API
# ------------------------------------------------------------------------------------------------
def record_load(view: TensorView, tile_shape: list[int] | None = None, valid_shape: list[int] | None = None,
                space: str | None = None, pad: Any = None) -> Tile:
    """GM -> on-chip load of ``view`` (valid region only). ``space`` "Mat" forces the cube side."""
    ks = kernel_scope()
    vshape = view.shape  # a tuple of ints
    shape = list(tile_shape) if tile_shape is not None else list(vshape)
    if valid_shape is None and view.valid is None:
        valid = list(vshape)
    else:
        valid = list(valid_shape) if valid_shape is not None else list(view.valid)
        valid = [min(int(a), int(b)) for a, b in zip(valid, vshape, strict=True)]
    side = "cube" if space in ("Mat", "Left", "Right") else ("vec" if space == "Vec" else "auto")
    base = view.base
    dtype = base.dtype
    n = ks.add("load", "load", [], shape, dtype, side)
    n.region = view.region(None, valid)  # copies valid
    parent = view.parent
    if parent is not None and parent.parent is not None:
        exact_dma(n, view, [0] * len(valid), valid)
    n.base_shape = base.shape
    n.nbytes = _mprod(valid) * dtype.size  # ints
    task_arg(view, ks).reads = True
    # the tile's own lists (the node keeps ``shape``); ``valid`` is a fresh list of ints already
    tshape = list(vshape) if tile_shape is None else list(map(int, shape))
    t = raw_tile(n, tshape, dtype, valid, "Mat" if side == "cube" else "Vec")
    if VALUES.on:
        load_value(view, t, pad if pad is not None else view.pad)
    return t


def exact_dma(n: Node, view: TensorView, off: list[int], shp: list[int]) -> None:
    """Set ``n.dma`` when ``n.region`` (a box of the base) covers more than the view's box: a
    reshape of a strided window is a strided set, so the DMA rows come from its real runs."""
    reg = n.region
    if reg is None or prod(reg.shape) == prod(shp):
        return
    r = view.exact_runs(off, shp)
    if r is None or r[0] == 0:
        return
    runs, elems = r
    n.dma = (runs, elems // runs * view.dtype.size)


def record_store(value: Any, view: TensorView, atomic: bool = False) -> None:
    """On-chip -> GM store of the tile's valid region into ``view`` (FIXPIPE from Acc, else MTE3)."""
    ks = kernel_scope()
    t = value if type(value) is Tile else as_tile(value)
    base = view.base
    dtype = base.dtype
    vshape = view.shape
    if t.dtype.name != dtype.name:
        current().error(f"store of a {t.dtype.name} tile into {view.name} ({dtype.name}): cast first")
    if len(t.shape) != len(vshape) and prod(t.shape) != prod(vshape):
        current().error(f"store of tile {t.shape} into {view.name} window {list(vshape)}")
    tv = t.valid
    if len(tv) == len(vshape):
        valid = [a if a <= b else b for a, b in zip(tv, vshape, strict=True)]  # min(a, b)
    else:
        valid = list(vshape)
    wv = view.valid  # a window cut at the tensor's edge
    if wv is not None and len(wv) == len(valid):
        valid = [a if a <= b else b for a, b in zip(valid, wv, strict=True)]
    inputs = [t.node] if t.node is not None else []
    n = ks.add("store", "store", inputs, valid, dtype, "follow")
    n.region = view.region([0] * len(valid), valid)
    parent = view.parent
    if parent is not None and parent.parent is not None:
        exact_dma(n, view, [0] * len(valid), valid)
    n.base_shape = base.shape
    n.nbytes = prod(valid) * dtype.size
    if atomic:  # else the class default False
        n.atomic = True
    task_arg(view, ks).writes = True
    if VALUES.on:
        store_value(t, view, valid, atomic)


def record_vec_op(name: str, out_shape: list[int], dtype: DataType, inputs: list[Any], *,
                  valid_shape: list[int] | None = None, work_shape: list[int] | None = None,
                  hops: int = 1, in_dtype: DataType | None = None) -> Tile:
    """A VECTOR-pipe op on AIV lane 0. ``inputs`` are tiles (or GM views, loaded whole) or scalars
    (ignored). ``work_shape`` is the region the op iterates over (default: the output valid region)."""
    ks = kernel_scope()
    tiles = [i if type(i) is Tile else as_tile(i) for i in inputs if isinstance(i, TILE_OR_VIEW)]
    nodes = [t.node for t in tiles if t.node is not None]
    valid = list(valid_shape) if valid_shape is not None else list(out_shape)
    n = ks.add("vec", name, nodes, list(work_shape) if work_shape is not None else valid, dtype, "vec")
    n.nbytes = prod(valid) * dtype.size
    n.hops = hops
    if in_dtype is not None:  # else the class default None
        n.in_dtype = in_dtype.name
    for x in nodes:
        x.vec_use = True
    t = Tile(n, out_shape, dtype, valid, "Vec")
    if VALUES.on:  # until the op's own value hook (values.put) computes it
        t.value = no_semantics(name)
    return t


def record_scalar(name: str, view: TensorView, index: list[int], write: bool = False) -> Any:
    """A scalar GM access (SCALAR pipe) of one element; returns the element value if data is bound."""
    ks = kernel_scope()
    idx = [int(i) for i in index]
    vshape = view.shape
    if len(idx) != len(vshape) or any(i < 0 or i >= d for i, d in zip(idx, vshape, strict=True)):
        current().error(f"pl.{name}: index {idx} out of bounds of {view.name} {list(vshape)}")
    base = view.base
    dtype = base.dtype
    n = ks.add("scalar", name, [], [1], dtype, "shared")
    n.region = view.region(idx, [1] * len(idx))
    n.base_shape = base.shape
    n.nbytes = dtype.size
    a = task_arg(view, ks)
    if write:
        a.writes = True
    else:
        a.reads = True
    return None


# ------------------------------------------------------------------------------------------------
# Kernel scope state
# ------------------------------------------------------------------------------------------------
class KernelScope:
    """State of one open kernel scope (task): the current block's node list and loop stages."""

    chunk: Any = None  # the legacy chunked-loop state (kernels.dsl.legacy.ChunkedScope) of a chunked pl.at

    def __init__(self, task: TaskRec, n_blocks: int) -> None:
        self.task = task
        self.n_blocks = n_blocks
        self.block_idx: int | None = None
        self.nodes: list[Node] = []
        self.stages: list[int] = []  # stage of every enclosing pl.pipeline device loop
        self.frames: list[list[int]] = []  # enclosing device loops: [stage (0: plain loop), iteration ordinal]
        self.replica: tuple[int, ...] = ()  # (iteration % stage) of every enclosing pl.pipeline loop
        self.site_count: dict[Any, int] = {}
        self.aiv_id = 0
        self.cache: dict[Any, Any] = {}

    def begin_block(self, b: int) -> None:
        """Start recording block ``b``: an empty node list, call-site counts and loop stages."""
        self.block_idx = b
        self.nodes = []
        self.site_count = {}
        self.stages = []
        self.frames = []
        self.replica = ()

    def enter_loop(self, stage: int) -> None:
        """Open a device loop: ``stage`` buffer replicas per call site (pl.pipeline), 0 for a plain loop."""
        self.frames.append([stage, -1])
        if stage:
            self.stages.append(stage)

    def next_iteration(self) -> None:
        """Start the next iteration of the innermost device loop: call-site occurrences count from 0 again."""
        self.frames[-1][1] += 1
        self.replica = tuple([f[1] % f[0] for f in self.frames if f[0]])
        self.site_count = {}

    def exit_loop(self) -> None:
        """Close the innermost device loop."""
        if self.frames.pop()[0]:
            self.stages.pop()
        self.replica = tuple([f[1] % f[0] for f in self.frames if f[0]])

    def end_block(self) -> None:
        """Lower the block's nodes and append its op list to the task (blocks with the same program share ops)."""
        nodes = self.nodes
        if self.n_blocks > 1:
            sig = signature(nodes)
            hit = self.cache.get(sig)
            # same program as an earlier block: share region-free ops, re-point regions - unless a
            # cross-lane GM overlap test (offset-dependent, so outside the signature) comes out otherwise
            if hit is not None and all(overlap(nodes[si].region, nodes[li].region) == r for si, li, r in hit[3]):
                tmpl, sides, region_ops, _ = hit
                ops = repoint(tmpl, region_ops, nodes)
            else:
                checks: list[tuple[int, int, bool]] = []
                ops, sides, region_ops = lower(nodes, checks)
                self.cache.setdefault(sig, (ops, sides, region_ops, checks))
        else:
            ops, sides, region_ops = lower(nodes)
        self.task.tail_nodes = nodes  # tiles of the last block may outlive the scope (kernels.dsl.escapes)
        self.task.blocks.append(ops)
        self.task.lanes |= sides
        self.block_idx = None
        self.nodes = []

    def shape(self) -> CoreShape:
        """The task's core shape from the sides its blocks used: MIX, AIC or AIV."""
        s = self.task.lanes
        if "cube" in s and "vec" in s:
            return CoreShape.MIX
        if "cube" in s:
            return CoreShape.AIC
        return CoreShape.AIV

    # ``x[...]`` / ``x[...] = v`` on a GM tensor in this scope: (view) -> Tile, (value, view) -> None
    load = staticmethod(record_load)
    store = staticmethod(record_store)

    def add(self, kind: str, name: str, inputs: list[Node], shape: list[int], dtype: DataType,
            side: str) -> Node:
        """Append a node (call only from a ``record_*`` function: the call site is looked up from its caller)."""
        # the call site: as site_id(_getframe(2)) (0 add, 1 the record_* function), its memo hit inlined
        f = _getframe(2)
        pos_of = POS
        pos = pos_of.get(id(f.f_code), False)
        while pos is None:  # DSL frames
            f = f.f_back
            if f is None:
                break
            pos = pos_of.get(id(f.f_code), False)
        if pos and (b := f.f_back) is not None:  # a registered user frame and its caller
            memo = SITE_MEMO  # (a local: a method call on an imported name is not a LOAD_METHOD in 3.11)
            site = memo.get((id(f.f_code), f.f_lasti, id(b.f_code), b.f_lasti))
            if site is None:
                site = site_id(f)
        else:
            site = site_id(f)
        nodes = self.nodes
        for x in inputs:  # a tile of another block or a closed scope: see kernels.dsl.escapes
            if x.idx >= len(nodes) or nodes[x.idx] is not x:
                inputs = localize(self, inputs, record_load)
                break
        sc = self.site_count
        cnt = sc.get(site, 0)
        sc[site] = cnt + 1
        stages = self.stages
        # buffer slot: the pipeline replica (one per iteration % stage of every enclosing pl.pipeline; the
        # iterations of a plain loop share theirs) and the site's occurrence in the current iteration
        ring = (self.replica, cnt % stages[-1]) if stages else 0
        n = Node(len(nodes), kind, name, inputs, shape, dtype, side, site, ring)
        nodes.append(n)
        return n


# ------------------------------------------------------------------------------------------------
# Elementwise arithmetic (Tile operators and pl.add & co.)
# ------------------------------------------------------------------------------------------------
def _tile_or_scalar(x: Any) -> Any:
    if isinstance(x, TILE_OR_VIEW):
        return as_tile(x)
    return x


_COL_EXPAND = ("add", "sub", "mul", "div")  # binary ops with a per-column broadcast form


def _shape_check(name: str, a: Tile, b: Tile) -> None:
    if a.shape != b.shape and a.valid != b.valid:
        current().error(f"pl.{name}: shape mismatch {a.shape} vs {b.shape}")


def binary(name: str, a: Any, b: Any) -> Any:
    """Elementwise ``name`` ("add", "sub", ...): tile x tile (a [R, 1] right operand broadcasts per row:
    ``row_expand_<name>``; a [1, C] one per column: ``col_expand_<name>``), tile x scalar (``<name>s``),
    or plain Python arithmetic on two scalars."""
    if not in_kernel() and not isinstance(a, Tile) and not isinstance(b, Tile):
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
            return put(record_vec_op(f"row_expand_{name}", a.shape, a.dtype, [a, b], valid_shape=a.valid), name, a, b)
        if len(b.shape) == 2 and len(a.shape) == 2 and b.shape[0] == 1 and a.shape[0] != 1 \
                and b.shape[1] == a.shape[1]:
            # a [1, C] right operand broadcasts per column (pypto's tile binary ops broadcast 2D shapes)
            op = f"col_expand_{name}" if name in _COL_EXPAND else name
            return put(record_vec_op(op, a.shape, a.dtype, [a, b], valid_shape=a.valid), name, a, b)
        _shape_check(name, a, b)
        return put(record_vec_op(name, a.shape, a.dtype, [a, b], valid_shape=a.valid), name, a, b)
    if isinstance(a, Tile):
        return put(record_vec_op(f"{name}s", a.shape, a.dtype, [a], valid_shape=a.valid), name, a, b)
    if isinstance(b, Tile):
        return put(record_vec_op(f"{name}s", b.shape, b.dtype, [b], valid_shape=b.valid), name, a, b)
    return _scalar_bin(name, a, b)


def _scalar_bin(name: str, a: Any, b: Any) -> Any:
    """``name`` on two Python scalars (orchestration arithmetic, e.g. ``pl.maximum(i, 0)``)."""
    if name == "add":
        return a + b
    if name == "sub":
        return a - b
    if name == "mul":
        return a * b
    if name == "div":
        return a / b
    if name == "maximum":
        return a if a >= b else b  # the comparison of pl.max
    if name == "minimum":
        return a if a <= b else b  # the comparison of pl.min
    raise TypeError(name)


def unary(name: str, t: Any) -> Tile:
    """Elementwise ``name`` ("neg", "exp", ...) of a tile (a GM view is loaded whole first)."""
    kernel_scope()
    t = as_tile(t)
    return put(record_vec_op(name, t.shape, t.dtype, [t], valid_shape=t.valid), name, t)
