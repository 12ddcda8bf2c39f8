"""In-kernel recording: tiles, abstract per-block nodes, and their lowering to ``sim.ir.Op`` lists.

A kernel scope body runs once per block. Every tile-level call appends a :class:`Node` to the
block's node list; sides (cube/vector) are decided only when the block ends, because a GM load's
destination (UB or L1) depends on whether a matmul consumes it. :func:`lower` then emits the
ordered op list with pipes, lanes, cross-core hand-offs and intra-block deps (RAW through values,
WAR through ring slots of each call site; ``pl.pipeline(stage=s)`` gives a site ``s`` slots).

Public recorder API (used by ``kernels.dsl.ops_vector`` and by ``kernels.dsl.ops_memory``):
``record_load``, ``record_store``, ``record_vec_op``, ``record_cube``, ``record_scalar``,
``record_gather_row``, ``new_l1_tile``, ``as_tile``, ``kernel_scope``.
"""

from __future__ import annotations

import os
import sys
from math import prod as _mprod
from typing import Any

from kernels.dsl.tasks import _ACTIVE, ArgRec, TensorView, current, model_factory
from kernels.dsl.types import FP32, DataType
from sim.ir import CoreShape, Op, Pipe, Region

_DSL_DIR = os.path.dirname(os.path.abspath(__file__))
_getframe = sys._getframe
_CUBE_KINDS = ("matmul", "matmul_acc")
HANDOFF_SLOTS = 2  # default cross-core ring depth (dsl-surface.md §13 cross_core_slot)
_new = object.__new__
_make_op = model_factory(Op)  # an Op from a dict holding every field (no validation)


def _prod(xs: Any) -> int:
    p = 1
    for x in xs:
        p *= int(x)
    return p


_CODE_INFO: dict[int, tuple[Any, Any]] = {}  # id(code) -> (code, None for DSL code | positions)
_POS: dict[int, Any] = {}  # id(code) -> positions (None for DSL code); ids of registered code are pinned
_SITE_IDS: dict[tuple[Any, ...], int] = {}  # call-site key -> interned id (Node.site)
# (id(user code), its f_lasti, id(caller code), caller f_lasti) -> interned site id. A memo over
# _SITE_IDS: an offset maps to one source position, so two offsets of one call (specialised or not)
# memoise the same id. The code objects behind the ids are pinned by _CODE_INFO.
_SITE_MEMO: dict[tuple[int, int, int, int], int] = {}


def _code_info(code: Any) -> Any:
    """Source positions of ``code`` (None for DSL code); registers (and pins) the code object."""
    ent = _CODE_INFO.get(id(code))
    if ent is None or ent[0] is not code:
        ent = (code, None if code.co_filename.startswith(_DSL_DIR) else list(code.co_positions()))
        _CODE_INFO[id(code)] = ent
        _POS[id(code)] = ent[1]
    return ent[1]


def _site_id(f: Any) -> int:
    """Interned call-site id of the first user (non-DSL) frame from ``f`` outwards and its caller.

    Keyed by source position, not by bytecode offset: CPython 3.11 reports a different offset for
    one call once the instruction is specialised, which made keys (and WAR deps) drift between
    repeated builds. Code objects are keyed by id (hashing a code object re-hashes its bytecode).
    """
    pos_of = _POS
    while f is not None:
        code = f.f_code
        pos = pos_of.get(id(code), False)
        if pos is False:
            pos = _code_info(code)
        if pos is not None:
            break
        f = f.f_back
    if f is None:
        key: tuple[Any, ...] = ("?",)
        site = _SITE_IDS.get(key)
        if site is None:
            site = _SITE_IDS[key] = len(_SITE_IDS)
        return site
    b = f.f_back
    mkey = (id(code), f.f_lasti, id(b.f_code), b.f_lasti) if b is not None else (id(code), f.f_lasti, 0, -1)
    site = _SITE_MEMO.get(mkey)
    if site is None:
        if b is None:
            key = (id(code), pos[f.f_lasti >> 1], 0, None)
        else:
            bcode = b.f_code
            bpos = _code_info(bcode)
            key = (id(code), pos[f.f_lasti >> 1], id(bcode), bpos[b.f_lasti >> 1] if bpos is not None else None)
        site = _SITE_IDS.get(key)
        if site is None:  # intern: small ints hash and compare faster in slot keys and signatures
            site = _SITE_IDS[key] = len(_SITE_IDS)
        _SITE_MEMO[mkey] = site
    return site


class Node:
    """One recorded tile-level operation of a block (before lowering)."""

    nbytes = 0
    region: Region | None = None
    atomic = False
    mnk: list[int] | None = None
    in_dtype: str | None = None
    hops = 1
    cube_use = False
    vec_use = False
    acc: Node | None = None
    base_shape: tuple[int, ...] = ()
    pipe_hint: str | None = None
    dual = False
    dma: tuple[int, int] | None = None  # exact (rows, row_bytes) when the region is only a covering box

    def __init__(self, idx: int, kind: str, name: str, inputs: list[Node], shape: list[int],
                 dtype: DataType, side: str, site: Any, ring: int) -> None:
        self.idx = idx
        self.kind = kind
        self.name = name
        self.inputs = inputs
        self.shape = shape
        self.dtype = dtype
        self.side = side  # cube | vec | auto (GM load) | shared (scalar) | none
        self.site = site
        self.ring = ring


_BINARY: list[Any] = []  # [kernels.dsl.ops_vector._binary], filled when kernels.dsl.ops_vector is imported


class Tile:
    """An on-chip value (UB/L1/L0C tile); ``valid`` is the real-data region."""

    __slots__ = ("node", "shape", "valid", "dtype", "space")

    def __init__(self, node: Node | None, shape: list[int], dtype: DataType,
                 valid: list[int] | None = None, space: str = "Vec") -> None:
        self.node = node
        self.shape = sh = list(map(int, shape))
        self.valid = sh.copy() if valid is None else list(map(int, valid))
        self.dtype = dtype
        self.space = space

    def __repr__(self) -> str:
        return f"Tile({self.shape}, {self.dtype.name}, valid={self.valid})"

    @property
    def ndim(self) -> int:
        return len(self.shape)

    # views of a tile are zero-copy: same producer node, narrower shape
    def __getitem__(self, key: Any) -> Tile:
        if not isinstance(key, tuple):
            key = (key,)
        shp, val = [], []
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
        return Tile(self.node, shp, self.dtype, val, self.space)

    def __setitem__(self, key: Any, value: Any) -> None:
        sub = self[key]
        v = as_tile(value)
        t = record_vec_op("copy", sub.shape, self.dtype, [v, self], valid_shape=v.valid)
        self.node = t.node

    def _bin(self, other: Any, name: str, rev: bool = False) -> Tile:
        return _BINARY[0](name, other, self) if rev else _BINARY[0](name, self, other)

    # operators call ops._binary directly (fewer DSL frames for _site_id to walk)
    def __add__(self, o: Any) -> Tile:
        return _BINARY[0]("add", self, o)

    def __radd__(self, o: Any) -> Tile:
        return _BINARY[0]("add", o, self)

    def __sub__(self, o: Any) -> Tile:
        return _BINARY[0]("sub", self, o)

    def __rsub__(self, o: Any) -> Tile:
        return _BINARY[0]("sub", o, self)

    def __mul__(self, o: Any) -> Tile:
        return _BINARY[0]("mul", self, o)

    def __rmul__(self, o: Any) -> Tile:
        return _BINARY[0]("mul", o, self)

    def __truediv__(self, o: Any) -> Tile:
        return _BINARY[0]("div", self, o)

    def __neg__(self) -> Tile:
        from kernels.dsl import ops_vector as ops

        return ops.neg(self)


def _tile(node: Node | None, shape: list[int], dtype: DataType, valid: list[int], space: str) -> Tile:
    """A Tile that takes ``shape`` and ``valid`` as they are (fresh lists of ints; no copy, no int())."""
    t = _new(Tile)
    t.node = node
    t.shape = shape
    t.valid = valid
    t.dtype = dtype
    t.space = space
    return t


# ------------------------------------------------------------------------------------------------
# Kernel scope state
# ------------------------------------------------------------------------------------------------
class KernelScope:
    """State of one open kernel scope (task): the current block's node list and loop stages."""

    def __init__(self, task: Any, n_blocks: int) -> None:
        self.task = task
        self.n_blocks = n_blocks
        self.block_idx: int | None = None
        self.nodes: list[Node] = []
        self.stages: list[int] = []
        self.site_count: dict[Any, int] = {}
        self.aiv_id = 0
        self.cache: dict[Any, Any] = {}

    def begin_block(self, b: int) -> None:
        self.block_idx = b
        self.nodes = []
        self.site_count = {}
        self.stages = []

    def end_block(self) -> None:
        nodes = self.nodes
        if self.n_blocks > 1:
            sig = _signature(nodes)
            hit = self.cache.get(sig)
            # same program as an earlier block: share region-free ops, re-point regions - unless a
            # cross-lane GM overlap test (offset-dependent, so outside the signature) comes out otherwise
            if hit is not None and all(_overlap(nodes[si].region, nodes[li].region) == r for si, li, r in hit[3]):
                tmpl, sides, region_ops, _ = hit
                ops = _repoint(tmpl, region_ops, nodes)
            else:
                checks: list[tuple[int, int, bool]] = []
                ops, sides, region_ops = lower(nodes, checks)
                self.cache.setdefault(sig, (ops, sides, region_ops, checks))
        else:
            ops, sides, region_ops = lower(nodes)
        self.task.blocks.append(ops)
        self.task.lanes |= sides
        self.block_idx = None
        self.nodes = []

    def shape(self) -> CoreShape:
        s = self.task.lanes
        if "cube" in s and "vec" in s:
            return CoreShape.MIX
        if "cube" in s:
            return CoreShape.AIC
        return CoreShape.AIV

    def add(self, kind: str, name: str, inputs: list[Node], shape: list[int], dtype: DataType,
            side: str) -> Node:
        """Append a node (call only from a ``record_*`` function: :func:`_site_id` starts at its caller)."""
        # the call site: as _site_id(_getframe(2)) (0 add, 1 the record_* function), its memo hit inlined
        f = _getframe(2)
        pos_of = _POS
        pos = pos_of.get(id(f.f_code), False)
        while pos is None:  # DSL frames
            f = f.f_back
            if f is None:
                break
            pos = pos_of.get(id(f.f_code), False)
        if pos and (b := f.f_back) is not None:  # a registered user frame and its caller
            site = _SITE_MEMO.get((id(f.f_code), f.f_lasti, id(b.f_code), b.f_lasti))
            if site is None:
                site = _site_id(f)
        else:
            site = _site_id(f)
        sc = self.site_count
        cnt = sc.get(site, 0)
        sc[site] = cnt + 1
        nodes = self.nodes
        stages = self.stages
        n = Node(len(nodes), kind, name, inputs, shape, dtype, side, site, cnt % stages[-1] if stages else 0)
        nodes.append(n)
        return n


_TILE_OR_VIEW = (Tile, TensorView)  # for isinstance (a ``Tile | TensorView`` union is built per call)


def kernel_scope() -> KernelScope:
    """The open kernel scope; error if called from orchestration code."""
    rec = _ACTIVE[-1] if _ACTIVE else current()
    ks = rec.kernel
    if ks is not None and ks.block_idx is not None:
        return ks
    f = sys._getframe(1)
    op = f.f_code.co_name
    while f.f_back is not None and f.f_back.f_code.co_filename.startswith(_DSL_DIR):
        f = f.f_back
        op = f.f_code.co_name
    rec.error(f"misplaced tensor op pl.{op}: should be inside an InCore (pl.at/pl.spmd) block")
    raise AssertionError


def _arg(view: TensorView, ks: KernelScope | None = None) -> ArgRec:
    """The task argument record of ``view`` (its orchestration capture) in the open kernel scope."""
    args = (ks or _ACTIVE[-1].kernel).task.args
    cap = view.capture
    a = args.get(id(cap))
    if a is None:
        a = args[id(cap)] = ArgRec(cap)
    return a


def as_tile(v: Any) -> Tile:
    """A Tile for ``v``; a GM view used directly by a tile op is loaded whole first (§2)."""
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
        _exact_dma(n, view, [0] * len(valid), valid)
    n.base_shape = base.shape
    n.nbytes = _mprod(valid) * dtype.size  # ints
    _arg(view, ks).reads = True
    # the tile's own lists (the node keeps ``shape``); ``valid`` is a fresh list of ints already
    tshape = list(vshape) if tile_shape is None else list(map(int, shape))
    return _tile(n, tshape, dtype, valid, "Mat" if side == "cube" else "Vec")


def _exact_dma(n: Node, view: TensorView, off: list[int], shp: list[int]) -> None:
    """Set ``n.dma`` when ``n.region`` (a box of the base) covers more than the view's box: a
    reshape of a strided window is a strided set, so the DMA rows come from its real runs."""
    reg = n.region
    if reg is None or _prod(reg.shape) == _prod(shp):
        return
    r = view.exact_runs(off, shp)
    if r is None or r[0] == 0:
        return
    runs, elems = r
    n.dma = (runs, elems // runs * view.dtype.size)


def load_view(view: TensorView) -> Tile:
    return record_load(view)


def record_store(value: Any, view: TensorView, atomic: bool = False) -> None:
    """On-chip -> GM store of the tile's valid region into ``view`` (FIXPIPE from Acc, else MTE3)."""
    ks = kernel_scope()
    t = value if type(value) is Tile else as_tile(value)
    base = view.base
    dtype = base.dtype
    vshape = view.shape
    if t.dtype.name != dtype.name:
        current().error(f"store of a {t.dtype.name} tile into {view.name} ({dtype.name}): cast first")
    if len(t.shape) != len(vshape) and _prod(t.shape) != _prod(vshape):
        current().error(f"store of tile {t.shape} into {view.name} window {list(vshape)}")
    tv = t.valid
    if len(tv) == len(vshape):
        valid = [a if a <= b else b for a, b in zip(tv, vshape, strict=True)]  # min(a, b)
    else:
        valid = list(vshape)
    inputs = [t.node] if t.node is not None else []
    n = ks.add("store", "store", inputs, valid, dtype, "follow")
    n.region = view.region([0] * len(valid), valid)
    parent = view.parent
    if parent is not None and parent.parent is not None:
        _exact_dma(n, view, [0] * len(valid), valid)
    n.base_shape = base.shape
    n.nbytes = _prod(valid) * dtype.size
    if atomic:  # else the class default False
        n.atomic = True
    _arg(view, ks).writes = True


def store_view(value: Any, view: TensorView) -> None:
    record_store(value, view)


def record_vec_op(name: str, out_shape: list[int], dtype: DataType, inputs: list[Any], *,
                  valid_shape: list[int] | None = None, work_shape: list[int] | None = None,
                  hops: int = 1, in_dtype: DataType | None = None) -> Tile:
    """A VECTOR-pipe op on AIV lane 0. ``inputs`` are tiles (or GM views, loaded whole) or scalars
    (ignored). ``work_shape`` is the region the op iterates over (default: the output valid region)."""
    ks = kernel_scope()
    tiles = [i if type(i) is Tile else as_tile(i) for i in inputs if isinstance(i, _TILE_OR_VIEW)]
    nodes = [t.node for t in tiles if t.node is not None]
    valid = list(valid_shape) if valid_shape is not None else list(out_shape)
    n = ks.add("vec", name, nodes, list(work_shape) if work_shape is not None else valid, dtype, "vec")
    n.nbytes = _prod(valid) * dtype.size
    n.hops = hops
    if in_dtype is not None:  # else the class default None
        n.in_dtype = in_dtype.name
    for x in nodes:
        x.vec_use = True
    return Tile(n, out_shape, dtype, valid, "Vec")


def record_cube(name: str, a: Any, b: Any, *, acc: Tile | None = None, out_dtype: DataType | None = None,
                a_trans: bool = False, b_trans: bool = False) -> Tile:
    """A CUBE matmul (``name`` "matmul" or "matmul_acc"); operands become L1 -> L0 moves."""
    ks = kernel_scope()
    rec = current()
    ta, tb = as_tile(a), as_tile(b)
    if ta.dtype.name != tb.dtype.name:
        rec.error(f"pl.{name}: operand dtype mismatch {ta.dtype.name} x {tb.dtype.name}")
    if len(ta.shape) != 2 or len(tb.shape) != 2:
        rec.error(f"pl.{name}: 2-d operands expected, got {ta.shape} x {tb.shape}")
    m, ka = (ta.shape[1], ta.shape[0]) if a_trans else (ta.shape[0], ta.shape[1])
    kb, nn = (tb.shape[1], tb.shape[0]) if b_trans else (tb.shape[0], tb.shape[1])
    if ka != kb:
        rec.error(f"pl.{name}: K mismatch {ta.shape} x {tb.shape} (a_trans={a_trans}, b_trans={b_trans})")
    natural = "INT32" if ta.dtype.name in ("INT8", "UINT8") else "FP32"
    if acc is not None:
        odt = acc.dtype
        if acc.shape != [m, nn]:
            rec.error(f"pl.matmul_acc: accumulator {acc.shape} does not match [{m}, {nn}]")
    else:
        odt = out_dtype or (FP32 if natural == "FP32" else _dt("INT32"))
    if odt.name != natural:
        rec.error(f"pl.{name}: {ta.dtype.name} inputs accumulate in {natural}, not {odt.name}")
    inputs = [x for x in (ta.node, tb.node) if x is not None]
    if acc is not None and acc.node is not None:
        inputs.append(acc.node)
    n = ks.add(name, name, inputs, [m, nn], odt, "cube")
    n.mnk = [m, nn, ka]
    n.in_dtype = ta.dtype.name
    n.nbytes = m * nn * odt.size
    n.acc = acc.node if acc is not None else None
    for x in (ta.node, tb.node):
        if x is not None:
            x.cube_use = True
    return _tile(n, [m, nn], odt, [m, nn], "Acc")


def _dt(name: str) -> DataType:
    from kernels.dsl.types import DTYPES

    return DTYPES[name]


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
    a = _arg(view, ks)
    if write:
        a.writes = True
    else:
        a.reads = True
    return None


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
        _exact_dma(n, view, [0] * len(valid), valid)
    n.base_shape = view.base.shape
    n.nbytes = _prod(valid) * view.dtype.size
    _arg(view).reads = True
    return Tile(n, acc.shape, acc.dtype, acc.valid, "Mat")


# ------------------------------------------------------------------------------------------------
# Lowering
# ------------------------------------------------------------------------------------------------
def _dma_rows(region: Region, base_shape: tuple[int, ...], size: int) -> tuple[int, int]:
    shp = region.shape
    run = shp[-1] if shp else 1
    for d in range(len(shp) - 1, 0, -1):
        if shp[d] == base_shape[d]:
            run *= shp[d - 1]
        else:
            break
    total = _prod(shp)
    return (total // run if run else 0), run * size


def _overlap(a: Region, b: Region) -> bool:
    if a.tensor != b.tensor:
        return False
    for o1, s1, o2, s2 in zip(a.offset, a.shape, b.offset, b.shape, strict=False):
        if o1 + s1 <= o2 or o2 + s2 <= o1:
            return False
    return True


def _resolve_sides(nodes: list[Node]) -> None:
    for n in nodes:
        if n.kind == "store" and n.inputs and n.inputs[0].kind == "load":
            n.inputs[0].vec_use = True  # GM -> GM copies go through UB
    for n in nodes:  # (a store's source comes before it: its side is final when the store is reached)
        kind = n.kind
        if kind == "load":
            if n.side == "auto":
                n.side = "cube" if n.cube_use else "vec"
                # a tile that feeds a matmul and vector work is loaded twice (L1 and UB): no L1 -> UB path
                n.dual = n.cube_use and n.vec_use
        elif kind == "store":
            src = n.inputs[0] if n.inputs else None
            n.side = "cube" if (src is not None and src.side == "cube" and src.kind in _CUBE_KINDS) else "vec"
    # scalar ops take the side of the next non-scalar op (the one that most likely uses the value)
    nxt = "vec"
    for n in reversed(nodes):
        if n.side in ("cube", "vec"):
            nxt = n.side
        elif n.side == "shared":
            n.pipe_hint = nxt
    prev = None
    for n in nodes:
        if n.side in ("cube", "vec"):
            prev = n.side
        elif n.side == "shared" and n.pipe_hint is None:
            n.pipe_hint = prev or "vec"


def _signature(nodes: list[Node]) -> tuple[Any, ...]:
    """Everything lowering depends on except GM region offsets (blocks with equal signatures
    lower to the same op list)."""
    return tuple([
        (n.site, n.ring, n.kind, n.name, n.side, n.dtype.name, tuple(n.shape), n.nbytes, n.atomic, n.hops,
         n.in_dtype, n.cube_use, tuple([x.idx for x in n.inputs]) if n.inputs else (),
         n.acc.idx if n.acc is not None else -1,
         (r.tensor, tuple(r.shape)) if (r := n.region) is not None else None, n.dma)
        for n in nodes])


def _repoint(tmpl: list[Op], region_ops: list[tuple[int, int]], nodes: list[Node]) -> list[Op]:
    """A copy of the op list ``tmpl`` (ops shared) whose region ops take the regions of ``nodes``."""
    ops = list(tmpl)
    for oi, ni in region_ops:
        ops[oi] = _make_op({**tmpl[oi].__dict__, "region": nodes[ni].region})
    return ops


def lower(nodes: list[Node], checks: list[tuple[int, int, bool]] | None = None
          ) -> tuple[list[Op], set[str], list[tuple[int, int]]]:
    """Lower a block's nodes to an ordered Op list.

    Returns (ops, sides used, [(op index, node index)] of the ops whose GM region comes from a node).
    ``checks`` (if given) receives (store node, load node, overlapping) of every cross-lane GM overlap
    test made: the only part of lowering that depends on region offsets.
    """
    _resolve_sides(nodes)
    sides = {n.side for n in nodes if n.side in ("cube", "vec")}
    mix = "cube" in sides and "vec" in sides
    ops: list[Op] = []
    val: dict[tuple[int, str], int] = {}  # (node idx, lane) -> op index holding the value
    slot_of: dict[tuple[int, str], Any] = {}  # (node idx, lane) -> buffer slot key of that copy
    slot_readers: dict[Any, list[int]] = {}
    ring: dict[str, list[list[int]]] = {"c2v": [], "v2c": []}  # per direction: [push, pop] pairs
    stores: list[tuple[Region, int, str, int]] = []  # (region, op, lane, node index) of MIX stores
    last_aiv1: list[int] = []
    lane_of = {"cube": "aic", "vec": "aiv0"}
    region_ops: list[tuple[int, int]] = []

    def emit(op: Op) -> int:
        ops.append(op)
        return len(ops) - 1

    def mk(kind: str, name: str, pipe: Pipe, lane: str, dtype: str, shape: list[int], nbytes: int,
           deps: list[int], rows: int = 0, row_bytes: int = 0, region: Region | None = None,
           atomic: bool = False, mnk: list[int] | None = None, in_dtype: str | None = None,
           hops: int = 1) -> Op:
        return _make_op({"kind": kind, "name": name, "pipe": pipe, "lane": lane, "dtype": dtype,
                         "shape": shape, "nbytes": nbytes, "rows": rows, "row_bytes": row_bytes,
                         "region": region, "atomic": atomic, "mnk": mnk, "in_dtype": in_dtype,
                         "hops": hops, "deps": sorted(set(deps)) if len(deps) > 1 else list(deps)})

    def war(key: Any) -> list[int]:
        return slot_readers.pop(key, [])

    def read(n: Node, lane: str, op_idx: int) -> None:
        key = slot_of.get((n.idx, lane))
        if key is not None:
            slot_readers.setdefault(key, []).append(op_idx)

    def produce(n: Node, lane: str, op_idx: int, key: Any) -> None:
        val[(n.idx, lane)] = op_idx
        slot_of[(n.idx, lane)] = key

    def mirror(op: Op, deps: list[int]) -> None:
        if not mix:
            return
        i = emit(mk("handoff", op.name, op.pipe, "aiv1", op.dtype, op.shape, 0, list(deps) + last_aiv1[-1:]))
        last_aiv1.append(i)

    def handoff(n: Node, src_lane: str, dst_lane: str, src_op: int, nbytes: int | None = None,
                pop_key: Any = None) -> int:
        pairs = ring["c2v" if src_lane == "aic" else "v2c"]
        pdeps = [src_op]
        if len(pairs) >= HANDOFF_SLOTS:
            pdeps.append(pairs[-HANDOFF_SLOTS][1])
        nb = (_prod(n.shape) * n.dtype.size) if nbytes is None else nbytes
        pipe_push = Pipe.FIXPIPE if src_lane == "aic" else Pipe.MTE3
        push = emit(mk("handoff", "push", pipe_push, src_lane, n.dtype.name, list(n.shape), nb, pdeps))
        if nbytes is None:
            read(n, src_lane, push)
        if src_lane != "aic":
            mirror(ops[push], [])
        pdeps2 = [push] + (war(pop_key) if pop_key is not None else [])
        pop = emit(mk("handoff", "pop", Pipe.MTE2, dst_lane, n.dtype.name, list(n.shape), nb, pdeps2))
        if dst_lane != "aic":
            mirror(ops[pop], [push])
        pairs.append([push, pop])
        return pop

    def get(n: Node, lane: str) -> int | None:
        if (n.idx, lane) in val:
            return val[(n.idx, lane)]
        src_lane = "aic" if (n.idx, "aic") in val else ("aiv0" if (n.idx, "aiv0") in val else None)
        if src_lane is None:
            return None
        key = (n.site, n.ring, "pop")
        pop = handoff(n, src_lane, lane, val[(n.idx, src_lane)], pop_key=key)
        produce(n, lane, pop, key)
        return pop

    for n in nodes:
        key = (n.site, n.ring)
        if n.kind == "load" or n.kind == "gather_row":
            lane = lane_of[n.side]
            deps: list[int] = []
            for st in (list(stores) if mix else ()):
                reg, sop, slane, sidx = st
                if slane != lane and n.region is not None:
                    hit = _overlap(reg, n.region)
                    if checks is not None:
                        checks.append((sidx, n.idx, hit))
                    if hit:
                        sync = Node(-1, "sync", "sync", [], [0], n.dtype, "none", None, 0)
                        deps.append(handoff(sync, slane, lane, sop, nbytes=0))
                        stores.remove(st)
            for x in n.inputs:  # gather_row into an existing L1 tile
                d = get(x, lane)
                if d is not None:
                    deps.append(d)
            if n.kind == "gather_row" and n.inputs:
                key = slot_of.get((n.inputs[0].idx, lane), key)
            else:
                deps += war(key)
            rows, rb = n.dma or (_dma_rows(n.region, n.base_shape, n.dtype.size) if n.region is not None
                                 else (0, 0))
            if n.dma is not None:  # strided set: [runs, elements per run]
                shape = [rows, rb // n.dtype.size]
            else:
                shape = list(n.region.shape) if n.region is not None else list(n.shape)
            i = emit(mk("load", n.name, Pipe.MTE2, lane, n.dtype.name, shape, n.nbytes, deps,
                        rows=rows, row_bytes=rb, region=n.region))
            region_ops.append((i, n.idx))
            produce(n, lane, i, key)
            if n.dual:
                vkey = (n.site, n.ring, "ub")
                i2 = emit(mk("load", n.name, Pipe.MTE2, "aiv0", n.dtype.name, shape, n.nbytes, war(vkey),
                             rows=rows, row_bytes=rb, region=n.region))
                region_ops.append((i2, n.idx))
                produce(n, "aiv0", i2, vkey)
        elif n.kind == "store":
            lane = lane_of[n.side]
            deps = []
            for x in n.inputs:
                d = get(x, lane)
                if d is not None:
                    deps.append(d)
            rows, rb = n.dma or _dma_rows(n.region, n.base_shape, n.dtype.size)
            pipe = Pipe.FIXPIPE if n.side == "cube" else Pipe.MTE3
            i = emit(mk("store", n.name, pipe, lane, n.dtype.name, list(n.shape), n.nbytes, deps,
                        rows=rows, row_bytes=rb, region=n.region, atomic=n.atomic))
            region_ops.append((i, n.idx))
            for x in n.inputs:
                read(x, lane, i)
            if mix:
                stores.append((n.region, i, lane, n.idx))
        elif n.kind == "vec":
            deps = war(key)
            for x in n.inputs:
                d = get(x, "aiv0")
                if d is not None:
                    deps.append(d)
            i = emit(mk("vec", n.name, Pipe.VECTOR, "aiv0", n.dtype.name, list(n.shape), n.nbytes, deps,
                        in_dtype=n.in_dtype, hops=n.hops))
            for x in n.inputs:
                read(x, "aiv0", i)
            produce(n, "aiv0", i, key)
        elif n.kind in _CUBE_KINDS:
            deps = []
            operands = [x for x in n.inputs if x is not n.acc][:2]
            l0keys = []
            for x, l0 in zip(operands, ("l1_to_l0a", "l1_to_l0b"), strict=False):
                src = get(x, "aic")
                if x.kind in _CUBE_KINDS and src is not None and ops[src].pipe == Pipe.CUBE:
                    # an accumulator feeding another matmul drains L0C -> L1 first (FIXPIPE)
                    fx = emit(mk("move", "l0c_to_l1", Pipe.FIXPIPE, "aic", x.dtype.name, list(x.shape),
                                 _prod(x.shape) * x.dtype.size, [src]))
                    read(x, "aic", fx)
                    src = fx
                    drained = True
                else:
                    drained = False
                l0key = (n.site, l0, n.ring)
                l0keys.append(l0key)
                mv = emit(mk("move", l0, Pipe.MTE1, "aic", x.dtype.name, list(x.shape),
                             _prod(x.shape) * x.dtype.size, war(l0key) + ([src] if src is not None else [])))
                if not drained:
                    read(x, "aic", mv)
                deps.append(mv)
            if n.acc is not None:
                d = get(n.acc, "aic")
                if d is not None:
                    deps.append(d)
                acc_key = slot_of.get((n.acc.idx, "aic"), key)
            else:
                acc_key = key
                deps += war(key)
            i = emit(mk(n.kind, n.name, Pipe.CUBE, "aic", n.dtype.name, list(n.shape), n.nbytes, deps,
                        mnk=n.mnk, in_dtype=n.in_dtype))
            for k in l0keys:
                slot_readers.setdefault(k, []).append(i)
            if n.acc is not None:
                read(n.acc, "aic", i)
            produce(n, "aic", i, acc_key)
        elif n.kind == "scalar":
            side = n.pipe_hint or "vec"
            lane = lane_of[side] if sides else "aiv0"
            i = emit(mk("scalar", n.name, Pipe.SCALAR, lane, n.dtype.name, [1], n.nbytes, [], region=n.region))
            region_ops.append((i, n.idx))
    used = set(sides)
    if not used and nodes:
        used = {"vec"}
    return ops, used, region_ops
