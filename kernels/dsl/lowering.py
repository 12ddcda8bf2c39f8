"""Lowering of one block: its recorded :class:`Node` list -> an ordered ``sim.ir.Op`` list.

Sides (cube/vector) are decided only when the block ends, because a GM load's destination (UB or
L1) depends on whether a matmul consumes it. :func:`lower` then emits the ops with pipes, lanes,
cross-core hand-offs and intra-block deps (RAW through values, WAR through ring slots of each call
site; ``pl.pipeline(stage=s)`` gives a site ``s`` slots, except a fresh cube accumulator, which keeps one
L0C buffer). Shapes are elements, sizes bytes.
"""

from __future__ import annotations

from typing import Any

from kernels.dsl.ir_build import make_op
from kernels.dsl.tensors import prod
from kernels.dsl.types import DataType
from sim.ir import Op, Pipe, Region

CUBE_KINDS = ("matmul", "matmul_acc")
# default cross-core ring depth: 2 slots per active direction (pypto
# docs/en/dev/language/01-statements.md, pl.cross_core_slot)
HANDOFF_SLOTS = 2


class Node:
    """One recorded tile-level operation of a block (before lowering)."""

    nbytes = 0
    region: Region | None = None
    atomic = False
    mnk: list[int] | None = None
    in_dtype: str | None = None
    hops = 1
    cube_use = False
    nz_convert = False  # a GM load into L1 that a matmul reads untransposed: an ND -> NZ (fractal) conversion
    layout_dn = False  # a load read through a transposed view: its GM rows are the fractal rows (no conversion)
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


def _dma_rows(region: Region, base_shape: tuple[int, ...], size: int) -> tuple[int, int]:
    shp = region.shape
    run = shp[-1] if shp else 1
    for d in range(len(shp) - 1, 0, -1):
        if shp[d] == base_shape[d]:
            run *= shp[d - 1]
        else:
            break
    total = prod(shp)
    return (total // run if run else 0), run * size


def overlap(a: Region, b: Region) -> bool:
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
            n.side = "cube" if (src is not None and src.side == "cube" and src.kind in CUBE_KINDS) else "vec"
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


def signature(nodes: list[Node]) -> tuple[Any, ...]:
    """Everything lowering depends on except GM region offsets (blocks with equal signatures
    lower to the same op list)."""
    return tuple([
        (n.site, n.ring, n.kind, n.name, n.side, n.dtype.name, tuple(n.shape), n.nbytes, n.atomic, n.hops,
         n.in_dtype, n.cube_use, n.nz_convert, tuple([x.idx for x in n.inputs]) if n.inputs else (),
         n.acc.idx if n.acc is not None else -1,
         (r.tensor, tuple(r.shape)) if (r := n.region) is not None else None, n.dma)
        for n in nodes])


def repoint(tmpl: list[Op], region_ops: list[tuple[int, int]], nodes: list[Node]) -> list[Op]:
    """A copy of the op list ``tmpl`` (ops shared) whose region ops take the regions of ``nodes``."""
    ops = list(tmpl)
    for oi, ni in region_ops:
        ops[oi] = make_op({**tmpl[oi].__dict__, "region": nodes[ni].region})
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
           hops: int = 1, site: str | None = None, nd2nz: bool = False) -> Op:
        return make_op({"kind": kind, "name": name, "pipe": pipe, "lane": lane, "dtype": dtype,
                         "shape": shape, "nbytes": nbytes, "rows": rows, "row_bytes": row_bytes,
                         "region": region, "atomic": atomic, "mnk": mnk, "in_dtype": in_dtype,
                         "hops": hops, "deps": sorted(set(deps)) if len(deps) > 1 else list(deps), "site": site,
                         "nd2nz": nd2nz})

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
        nb = (prod(n.shape) * n.dtype.size) if nbytes is None else nbytes
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
                    hit = overlap(reg, n.region)
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
                        rows=rows, row_bytes=rb, region=n.region,
                        nd2nz=n.nz_convert and lane == "aic" and n.kind == "load"))
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
        elif n.kind in CUBE_KINDS:
            deps = []
            operands = [x for x in n.inputs if x is not n.acc][:2]
            l0keys = []
            for x, l0 in zip(operands, ("l1_to_l0a", "l1_to_l0b"), strict=False):
                src = get(x, "aic")
                if x.kind in CUBE_KINDS and src is not None and ops[src].pipe == Pipe.CUBE:
                    # an accumulator feeding another matmul drains L0C -> L1 first (FIXPIPE)
                    fx = emit(mk("move", "l0c_to_l1", Pipe.FIXPIPE, "aic", x.dtype.name, list(x.shape),
                                 prod(x.shape) * x.dtype.size, [src]))
                    read(x, "aic", fx)
                    src = fx
                    drained = True
                else:
                    drained = False
                l0key = (n.site, l0, n.ring)
                l0keys.append(l0key)
                mv = emit(mk("move", l0, Pipe.MTE1, "aic", x.dtype.name, list(x.shape),
                             prod(x.shape) * x.dtype.size, war(l0key) + ([src] if src is not None else [])))
                if not drained:
                    read(x, "aic", mv)
                deps.append(mv)
            if n.acc is not None:
                d = get(n.acc, "aic")
                if d is not None:
                    deps.append(d)
                acc_key = slot_of.get((n.acc.idx, "aic"), key)
            else:  # a fresh accumulator: one L0C buffer per call site, whatever the pipeline depth
                acc_key = (n.site, 0)
                deps += war(acc_key)
            i = emit(mk(n.kind, n.name, Pipe.CUBE, "aic", n.dtype.name, list(n.shape), n.nbytes, deps,
                        mnk=n.mnk, in_dtype=n.in_dtype))
            for k in l0keys:
                slot_readers.setdefault(k, []).append(i)
            if n.acc is not None:
                read(n.acc, "aic", i)
            produce(n, "aic", i, acc_key)
        elif n.kind == "barrier":  # pl.system.syncall: one barrier op on each lane of its core type
            part, where = n.barrier
            for lane, side in (("aic", "cube"), ("aiv0", "vec"), ("aiv1", "vec")):
                if side in part and side in (sides or {"vec"}) and (lane != "aiv1" or mix):
                    emit(mk("barrier", n.name, Pipe.SCALAR, lane, n.dtype.name, [], 0, [], site=where))
        elif n.kind == "scalar":
            side = n.pipe_hint or "vec"
            lane = lane_of[side] if sides else "aiv0"
            i = emit(mk("scalar", n.name, Pipe.SCALAR, lane, n.dtype.name, [1], n.nbytes, [], region=n.region))
            region_ops.append((i, n.idx))
    used = set(sides)
    if not used and nodes:
        used = {"vec"}
    return ops, used, region_ops
