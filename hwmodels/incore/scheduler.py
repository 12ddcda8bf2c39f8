"""The block-level list scheduler :class:`CoreCostModel`: a block's ops on the core pipes, and its critical path.

Each op runs on one pipe of one lane (``aic``/``aiv0``/``aiv1``). Ops of one pipe of one lane run
in program order; an op starts at ``max(pipe free, every dep done + sync cost)`` where the sync
cost is 0 on the same pipe, ``core.cross_pipe_sync_cycles`` across pipes of a lane and
``core.cross_core_flag_cycles`` across lanes (MIX handoff). MTE2/MTE3 are issue-serialised but
latency-overlapped: a DMA occupies its pipe for issue + transfer and its data is ready a latency
later, with at most ``dma.mte2_outstanding`` requests in flight (``dma.lane_outstanding`` > 0 also
bounds a lane's MTE2 and MTE3 transfers together). All times are ns.

The per-op constants come from :func:`hwmodels.incore.opcost.op_cost`, memoised per op signature;
block structures and whole-block results are memoised too, so a graph's repeated blocks cost one
schedule. The interface the engine calls is ``CoreCostModel(chip).profile(task, block, l2)``
(see :mod:`hwmodels.incore`).
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

from hwmodels.chip import ChipConfig
from hwmodels.incore.opcost import OpCost, cycle_ns, op_cost
from hwmodels.incore.pipes import (
    C_COLD,
    C_CUBE,
    C_FIX,
    C_HAND,
    C_HIT,
    C_MISS,
    C_MTE1,
    C_MTE2,
    C_MTE3,
    C_PRO,
    C_SCAL,
    C_SYNC,
    CATS,
    LANE_IDX,
    LANES,
    P_CUBE,
    P_FIX,
    P_MTE1,
    P_MTE2,
    P_MTE3,
    P_SCAL,
    PIPE_CAT,
    PIPE_IDX,
    PIPES,
)
from hwmodels.incore.profile import BlockProfile, OpTiming
from hwmodels.memory import L2State, graph_stamp
from sim.ir import BARRIER, Block, CoreShape, Op, Region, Task, TaskKind

_OP_KEY = attrgetter("kind", "name", "dtype", "nbytes", "rows", "row_bytes", "atomic", "in_dtype", "hops")

@dataclass(slots=True)
class _Shape:
    """The chip-independent, region-free part of a block structure, shared by all blocks with equal ops."""

    lane: list[int]
    pkey: list[int]  # lane * 7 + pipe
    keys: list[tuple]  # op-cost cache keys
    deps: tuple[tuple[int, ...], ...]  # dep indices per op, as recorded
    dma_cand: list[int]  # ops that may touch GM (DMA pipes, scalar GM access)
    tracked: list[bool]  # per candidate: its region is line-tracked (a non-handoff op with a region)
    sig: int  # structure id: blocks with equal sig have identical costs on any chip
    has_mte1: list[bool]  # per lane: explicit MTE1 ops present (else cube ops stage L0 implicitly)


@dataclass(slots=True)
class _Struct:
    """Chip-independent form of one block: its shared :class:`_Shape` and its own GM regions / L2 lines."""

    block: Block
    graph_id: int
    lane: list[int]
    pkey: list[int]
    keys: list[tuple]
    deps: tuple[tuple[int, ...], ...]
    dma_cand: list[int]
    lines: list[object]  # per candidate: None (untracked), a Region (geometry not computed yet) or a LineSet
    sig: int
    has_mte1: list[bool]
    regions: list[object]  # per candidate: None or its Region (``lines`` before any geometry)
    line_bytes: int = 0  # the L2 line size (bytes) the LineSets in ``lines`` are for (0: none yet)


_DETACHED = -1  # L2 token of a state changed outside the transition memo (never memoised again)
_STRUCTS: dict[int, _Struct] = {}
_GRAPH: list[object] = []  # the graph whose blocks _STRUCTS and ops _OP_SID hold
_SIGS: dict[tuple, int] = {}
# per op object: (op, its structural id); lowering shares the Op objects of a program's blocks, so
# blocks of one program resolve to one shape with a dictionary look-up per op
_OP_SID: dict[int, tuple[Op, int]] = {}
_OP_KEYS: dict[tuple, int] = {}
_OP_ROW: list[tuple] = []  # structural id -> (cost key, lane, pipe, deps, has region, handoff)
_SHAPES: dict[tuple[int, ...], _Shape] = {}
_REBOUND: list = []  # the last (old graph, new graph, (block map, task map)) of _rebind_map


_OP_FIELDS = ("kind", "name", "dtype", "nbytes", "rows", "row_bytes", "atomic", "in_dtype", "hops", "nd2nz", "lane",
              "pipe")
_OP_ALL = attrgetter(*_OP_FIELDS, "shape", "mnk", "region", "deps")  # the key fields, then the rest _structure reads


def _new_sid(full: tuple, o: Op) -> int:
    """Register the structural key ``full`` of op ``o`` (see :func:`_structure`); its id."""
    sid = _OP_KEYS[full] = len(_OP_ROW)
    f = full[0]
    _OP_ROW.append(((f[:10], full[1], full[2], full[3]), LANE_IDX[f[10]], PIPE_IDX[f[11]], full[4], not full[3],
                    o.kind == "handoff"))
    return sid


def _shape(sids: tuple[int, ...]) -> _Shape:
    """The shared shape of a block whose ops have the structural ids ``sids``."""
    rows = [_OP_ROW[s] for s in sids]
    lanes = [r[1] for r in rows]
    pipes = [r[2] for r in rows]
    has_mte1 = [False, False, False]
    for ln, p in zip(lanes, pipes, strict=True):
        if p == P_MTE1:
            has_mte1[ln] = True
    keys = [r[0] for r in rows]
    deps = tuple([r[3] for r in rows])
    pkey = [ln * 7 + p for ln, p in zip(lanes, pipes, strict=True)]
    cand = [i for i, p in enumerate(pipes)
            if p == P_MTE2 or p == P_MTE3 or p == P_FIX or (p == P_SCAL and rows[i][4])]
    tracked = [rows[i][4] and not rows[i][5] for i in cand]
    sig = _SIGS.setdefault((tuple(keys), deps, tuple(pkey), tuple(has_mte1)), len(_SIGS))
    return _Shape(lanes, pkey, keys, deps, cand, tracked, sig, has_mte1)


def _rebind_map(old: object, new: object) -> tuple[dict[int, Block], dict[int, Task]] | None:
    """For two graphs with equal content stamps (:func:`hwmodels.memory.stamp_graph`): id of each block
    and task of ``old`` -> the block and task of ``new`` at the same place; None when the stamps differ
    (or either has none) or the graphs' shapes (tasks, blocks per task, ops per block) differ."""
    if _REBOUND and _REBOUND[0] is old and _REBOUND[1] is new:
        return _REBOUND[2]
    s = graph_stamp(new)  # type: ignore[arg-type]
    if s is None or graph_stamp(old) != s or len(old.tasks) != len(new.tasks):  # type: ignore[attr-defined]
        return None
    bm: dict[int, Block] = {}
    tm: dict[int, Task] = {}
    for to, tn in zip(old.tasks, new.tasks, strict=True):  # type: ignore[attr-defined]
        if len(to.blocks) != len(tn.blocks):
            return None
        tm[id(to)] = tn
        for bo, bn in zip(to.blocks, tn.blocks, strict=True):
            if len(bo.ops) != len(bn.ops):
                return None
            bm[id(bo)] = bn
    _REBOUND[:] = [old, new, (bm, tm)]
    return bm, tm


def _rebind_structs(graph: object) -> bool:
    """Move the block structures of the held graph to the equal-stamped ``graph``'s blocks (their GM line
    sets included); False (nothing moved) when the stamps differ."""
    m = _rebind_map(_GRAPH[0], graph)
    if m is None:
        return False
    bm = m[0]
    moved: dict[int, _Struct] = {}
    gid = id(graph)
    for k, st in _STRUCTS.items():
        nb = bm.get(k)
        if nb is not None:
            st.block = nb
            st.graph_id = gid
            moved[id(nb)] = st
    _STRUCTS.clear()
    _STRUCTS.update(moved)
    _OP_SID.clear()
    return True


def _structure(block: Block, l2: L2State) -> _Struct:
    """The (memoised) chip-independent structure of ``block`` in the graph of ``l2``."""
    st = _STRUCTS.get(id(block))
    if st is not None and st.block is block and st.graph_id == id(l2.graph):
        return st
    if _GRAPH and _GRAPH[0] is not l2.graph:  # the block and op memos hold one graph (its objects) only
        if _rebind_structs(l2.graph):
            _GRAPH[:] = [l2.graph]
            st = _STRUCTS.get(id(block))
            if st is not None and st.block is block:
                return st
        else:
            _STRUCTS.clear()
            _OP_SID.clear()
    _GRAPH[:] = [l2.graph]
    if len(_STRUCTS) > 200_000:
        _STRUCTS.clear()
    if len(_OP_SID) > 2_000_000:
        _OP_SID.clear()
    ops = block.ops
    # an op's structural key: everything but its GM region's offset (equal keys, equal costs)
    op_sid, op_keys, fields = _OP_SID, _OP_KEYS, _OP_ALL
    sids = []
    for o in ops:
        e = op_sid.get(id(o))
        if e is not None and e[0] is o:
            sids.append(e[1])
            continue
        f = fields(o)
        m = f[13]
        r = f[14]
        full = (f[:12], tuple(f[12]), tuple(m) if m else None, r is None, tuple(f[15]))
        sid = op_keys.get(full)
        if sid is None:
            sid = _new_sid(full, o)
        if r is None:  # region-free ops are shared by the blocks of one program (lowering's repoint)
            op_sid[id(o)] = (o, sid)
        sids.append(sid)
    sids_t = tuple(sids)
    sh = _SHAPES.get(sids_t)
    if sh is None:
        sh = _SHAPES[sids_t] = _shape(sids_t)
    # regions of GM-touching ops; their line sets are computed lazily (a read of a fully resident
    # tensor needs no geometry)
    lines = [ops[i].region if t else None for i, t in zip(sh.dma_cand, sh.tracked, strict=True)]
    st = _Struct(block, id(l2.graph), sh.lane, sh.pkey, sh.keys, sh.deps, sh.dma_cand, lines, sh.sig, sh.has_mte1,
                 list(lines))
    _STRUCTS[id(block)] = st
    return st


@dataclass
class _Compiled:
    """Chip-dependent costs of one block structure."""

    lane: list[int]
    pkey: list[int]
    deps: list[tuple[tuple[int, float], ...]]  # (dep index, sync ns); pipelined MTE1 deps of cube ops excluded
    costs: list[OpCost]
    dma_pos: list[int]  # positions in _Struct.dma_cand of ops with an L2/GM part
    dma_ops: list[int]  # their op indices
    pipelined: dict[int, tuple[tuple[tuple[int, float], ...], float]]  # cube op -> (MTE1 deps, 1/K-blocks)


class CoreCostModel:
    """Per-block in-core cost model for one chip (see module docstring)."""

    def __init__(self, chip: ChipConfig) -> None:
        """Empty memos; the chip constants the scheduler reads per block."""
        self.chip = chip
        self._op_cache: dict[tuple, OpCost] = {}
        self._by_sig: dict[int, _Compiled] = {}
        self._memo: dict[tuple, dict[str, BlockProfile]] = {}
        # id(profiles) -> (profiles, compiled block, L2 classes, active lanes): what a cold lane reschedules
        self._sched_in: dict[int, tuple[dict[str, BlockProfile], _Compiled, list, tuple[int, ...]]] = {}
        self._cold_memo: dict[tuple[int, str, int], BlockProfile] = {}
        # L2 transitions (``profile(..., chain=True)``): (L2 token, block id, task id) -> (block, task,
        # profiles, next token); the tokens name L2 states of one graph reached from an initial state
        self._chain: dict[tuple[int, int, int], tuple[Block, Task, dict[str, BlockProfile], int]] = {}
        self._chain_graph: object = None
        self._roots: dict[str, int] = {}
        self._tokens = 0
        self._pro = chip.core.kernel_prologue_ns
        self._epi = chip.core.kernel_epilogue_ns
        self._out2 = chip.dma.mte2_outstanding
        self._out3 = chip.dma.mte3_outstanding
        self._out_lane = chip.dma.lane_outstanding
        self._line = chip.l2.line_bytes
        self._dc_lines = max(1, chip.core.scalar_dcache_bytes // chip.l2.line_bytes)
        self._hold = bool(chip.core.scalar_read_holds_issue)
        self._cold_sched = bool(chip.core.first_kernel_cold_in_schedule)

    # ---- compile ----------------------------------------------------------------------------
    def _compile(self, st: _Struct) -> _Compiled:
        """Each op's costs and deps (with their sync ns) for one block structure on this chip."""
        chip = self.chip
        ops = st.block.ops
        sync = [[0.0, chip.core.cross_pipe_sync_cycles * cycle_ns(chip, ln),
                 chip.core.cross_core_flag_cycles * cycle_ns(chip, ln)] for ln in range(3)]
        costs: list[OpCost] = []
        deps: list[tuple[tuple[int, float], ...]] = []
        pipelined: dict[int, tuple[tuple[tuple[int, float], ...], float]] = {}
        pkey = st.pkey
        for i, key in enumerate(st.keys):
            ln = st.lane[i]
            k = pkey[i]
            implicit = not st.has_mte1[ln]
            ckey = (key, k, implicit)
            c = self._op_cache.get(ckey)
            if c is None:
                c = op_cost(chip, ops[i], ln, implicit_mte1=implicit)
                self._op_cache[ckey] = c
            costs.append(c)
            sy = sync[ln]
            dl = tuple((d, sy[0 if pkey[d] == k else (1 if pkey[d] // 7 == ln else 2)])
                       for d in st.deps[i] if 0 <= d < i)
            if c.kb > 1 and k % 7 == P_CUBE:
                mv = tuple(x for x in dl if pkey[x[0]] == ln * 7 + P_MTE1)
                if mv:
                    pipelined[i] = (mv, 1.0 / c.kb)
                    dl = tuple(x for x in dl if pkey[x[0]] != ln * 7 + P_MTE1)
            deps.append(dl)
        if any(key[0][0] == BARRIER for key in st.keys):
            _fence(st, deps, sync)
        dma_pos = [j for j, i in enumerate(st.dma_cand) if costs[i].dma]
        return _Compiled(st.lane, st.pkey, deps, costs, dma_pos, [st.dma_cand[j] for j in dma_pos], pipelined)

    # ---- profile ----------------------------------------------------------------------------
    def _prepare(self, block: Block, l2: L2State) -> tuple[_Struct, _Compiled, list[tuple[int, int, int, int]]]:
        """Structure, compiled costs and the L2 classification of every DMA op (marks lines now)."""
        st = _structure(block, l2)
        comp = self._by_sig.get(st.sig)
        if comp is None:
            comp = self._by_sig[st.sig] = self._compile(st)
        # classify every DMA op in program order (marks lines as it goes)
        cls = []
        init_hit = l2.init == "warm"
        costs = comp.costs
        if st.line_bytes != l2.line_bytes:  # line sets are per line size: another chip's are recomputed
            if st.line_bytes:
                st.lines = list(st.regions)
            st.line_bytes = l2.line_bytes
        lines = st.lines
        dcache: dict[tuple[int, int, int], bool] = {}
        dc_cap = self._dc_lines
        lane_of = comp.lane
        tensors = l2.tensors
        for j, i in zip(comp.dma_pos, comp.dma_ops, strict=True):
            c = costs[i]
            ls = lines[j]
            d = c.dma
            if type(ls) is Region:
                tl = tensors.get(ls.tensor)
                if d == 1 and tl is not None and tl.count == tl.n and tl.n:  # fully resident: all hits
                    l2.touch(ls)
                    cls.append((1, 1, 0, 0))
                    continue
                ls = lines[j] = l2.lines_of(ls)
            if not c.track:
                cls.append((0, 0, 0, 0))
            elif d >= 3:  # scalar GM access through the core's data cache
                if ls is None:
                    cls.append((1, 1, 0, 0))
                    continue
                key = (lane_of[i], ls.tensor, ls.slices[0][0] if ls.slices else int(ls.idx[0]))
                if key in dcache:
                    del dcache[key]
                    dcache[key] = True
                    cls.append((ls.n, ls.n, l2.write(ls) if d == 4 else 0, 1))
                else:
                    dcache[key] = True
                    if len(dcache) > dc_cap:
                        del dcache[next(iter(dcache))]
                    if d == 3:
                        cls.append((ls.n, l2.read(ls), 0, 0))
                    else:
                        cls.append((ls.n, 0, l2.write(ls), 0))
            elif ls is None:
                n = c.fallback_lines
                cls.append((n, n if (init_hit or d == 2) else 0, n if d == 2 else 0, 0))
            elif d == 1:
                cls.append((ls.n, l2.read(ls), 0, 0))
            else:
                cls.append((ls.n, 0, l2.write(ls), 0))
        return st, comp, cls

    def profile(self, task: Task, block: Block, l2: L2State, *, copy: bool = True,
                chain: bool = False) -> dict[str, BlockProfile]:
        """Profiles of the block's active lanes ("aic"/"aiv0"/"aiv1"); classifies and marks L2 lines now.
        ``copy=False`` returns the memoised profiles themselves, shared by every block of equal cost (for
        callers that only read them, such as the engine: no per-block copy kept for the run).

        ``chain=True`` memoises the L2 transition too: the result of a block in a given L2 state (named
        by a token: the initial state and the blocks profiled since) is kept, and a run that profiles
        the same blocks in the same order again only defers the line updates (:meth:`L2State.defer`),
        applied when another caller needs the state."""
        if task.kind != TaskKind.KERNEL:
            return {}
        if chain:
            hit = self._chained(task, block, l2)
        else:
            l2.sync()
            l2.token = _DETACHED  # changed outside the memo: no token names this state any more
            hit = self._profile(task, block, l2)
        if not copy:
            return hit
        return {k: BlockProfile(v.compute_ns, v.hbm_bytes, dict(v.pipe_busy_ns), dict(v.breakdown), v.l2_bytes,
                                v.gm_loads) for k, v in hit.items()}

    def profile_chained(self, task: Task, block: Block, l2: L2State) -> dict[str, BlockProfile]:
        """:meth:`profile` with ``copy=False, chain=True``, in one positional call (a simulator's
        per-block call)."""
        if task.kind != TaskKind.KERNEL:
            return {}
        return self._chained(task, block, l2)

    def _chained(self, task: Task, block: Block, l2: L2State) -> dict[str, BlockProfile]:
        """:meth:`profile` through the memo of L2 transitions (see there)."""
        tok = l2.token
        if tok is None and l2.accesses:  # accessed before: not the initial state a root token names
            tok = l2.token = _DETACHED
        if tok == _DETACHED:
            return self._profile(task, block, l2)
        if tok is None:
            if self._chain_graph is not l2.graph:  # the memo holds one graph's blocks
                self._rebind_chain(l2.graph)
            tok = self._roots.get(l2.init)
            if tok is None:
                tok = self._roots[l2.init] = self._new_token()
            l2.defer(tok, self._replay)
        key = (tok, id(block), id(task))
        e = self._chain.get(key)
        if e is not None and e[0] is block and e[1] is task:
            l2.backlog.append((block,))
            l2.token = e[3]
            return e[2]
        l2.sync()
        hit = self._profile(task, block, l2)
        if len(self._chain) > 500_000:
            self._chain.clear()  # tokens are never reused: a state named by a dropped token just misses
        nt = l2.token = self._new_token()
        self._chain[key] = (block, task, hit, nt)
        return hit

    def _rebind_chain(self, graph: object) -> None:
        """Make the L2 transition memo hold ``graph``: an equal-stamped graph's transitions move to its
        blocks and tasks (same content, same results); any other graph's are dropped."""
        m = None if self._chain_graph is None else _rebind_map(self._chain_graph, graph)
        if m is None:
            self._chain.clear()
            self._roots.clear()
        else:
            bm, tm = m
            moved = {}
            for (tok, bid, tid), e in self._chain.items():
                nb = bm.get(bid)
                nt = tm.get(tid)
                if nb is not None and nt is not None:
                    moved[(tok, id(nb), id(nt))] = (nb, nt, e[2], e[3])
            self._chain = moved
        self._chain_graph = graph

    def _new_token(self) -> int:
        self._tokens += 1
        return self._tokens

    def _replay(self, l2: L2State, todo: list[tuple]) -> None:
        """Apply the deferred L2 accesses of the blocks in ``todo`` (program order) to ``l2``."""
        for (block,) in todo:
            self._prepare(block, l2)

    def _profile(self, task: Task, block: Block, l2: L2State) -> dict[str, BlockProfile]:
        """The memoised profiles of ``block`` in the current state of ``l2`` (marks its lines)."""
        st, comp, cls = self._prepare(block, l2)
        lanes_active = _active_lanes(task, comp.lane)
        mkey = (st.sig, tuple(cls), lanes_active)
        hit = self._memo.get(mkey)
        if hit is None:
            hit = self._schedule(comp, cls, lanes_active)
            self._memo[mkey] = hit
            if self._cold_sched:
                self._sched_in[id(hit)] = (hit, comp, cls, lanes_active)
        return hit

    def cold_profile(self, profiles: dict[str, BlockProfile], lane: str, loads: int) -> BlockProfile | None:
        """The profile of ``lane`` in the block that gave ``profiles`` when the lane's first ``loads`` GM
        loads each hold MTE2 ``core.first_kernel_extra_per_load_ns`` longer (the core's first kernel in
        the launch, with ``core.first_kernel_cold_in_schedule``); None for a block not profiled here."""
        e = self._sched_in.get(id(profiles))
        if e is None or e[0] is not profiles:
            return None
        key = (id(profiles), lane, loads)
        hit = self._cold_memo.get(key)
        if hit is None:
            _p, comp, cls, lanes_active = e
            hit = self._schedule(comp, cls, lanes_active, cold=(LANE_IDX[lane], loads))[lane]
            self._cold_memo[key] = hit
        return hit

    def op_timeline(self, task: Task, block: Block, l2: L2State) -> list[OpTiming]:
        """Every op of the block as the list scheduler placed it (ns from the block's first op, after the
        prologue), with what it waited for and whether it is on its lane's critical path."""
        if task.kind != TaskKind.KERNEL:
            return []
        l2.sync()
        l2.token = _DETACHED
        _st, comp, cls = self._prepare(block, l2)
        trace: list[OpTiming] = []
        self._schedule(comp, cls, _active_lanes(task, comp.lane), trace=trace, ops=block.ops)
        return trace

    def _schedule(self, comp: _Compiled, cls: list[tuple[int, int, int]],
                  lanes_active: tuple[int, ...], trace: list[OpTiming] | None = None,
                  ops: list[Op] | None = None, cold: tuple[int, int] | None = None) -> dict[str, BlockProfile]:
        """List-schedule the ops (ns) and build each active lane's profile; ``trace`` collects OpTimings.
        ``cold`` = (lane index, n): the lane's first n GM loads hold MTE2 the per-load cold extra longer."""
        n = len(comp.costs)
        costs = comp.costs
        occ = [c.occ for c in costs]
        lat = [c.lat for c in costs]
        dseg: dict[int, tuple[tuple[int, float], ...]] = {}
        hbm = [0.0, 0.0, 0.0]
        l2b = [0.0, 0.0, 0.0]
        line = self._line
        for j, i in enumerate(comp.dma_ops):
            c = costs[i]
            nl, hits, newdirty, dc = cls[j]
            ln = comp.lane[i]
            if c.dma == 1:
                h = hits / nl if nl else (1.0 if not c.track else 0.0)
                x = h * c.xfer_hit + (1.0 - h) * c.xfer_miss
                lm = c.lat_miss if (nl and hits < nl) else 0.0
                occ[i] = c.issue + c.rows_ns + x
                sub = (c.span - 1.0) * (c.rows_ns + x)  # the rest of its sub-queue's transfer, off the pipe
                lat[i] = sub + c.lat_hit + lm
                dseg[i] = ((C_SYNC, c.issue), (C_MTE2, c.rows_ns + x + sub), (C_HIT, c.lat_hit), (C_MISS, lm))
                hbm[ln] += (nl - hits) * line
                l2b[ln] += c.l2_bytes
            elif c.dma == 2:
                occ[i] = c.issue + c.rows_ns + c.xfer_hit
                lat[i] = c.lat_hit
                if c.xcat == C_FIX:
                    dseg[i] = ((C_FIX, c.xfer_hit), (C_HIT, c.lat_hit))
                else:
                    dseg[i] = ((C_SYNC, c.issue), (C_MTE3, c.rows_ns + c.xfer_hit), (C_HIT, c.lat_hit))
                hbm[ln] += newdirty * line
                l2b[ln] += c.l2_bytes
            elif c.dma == 3:
                if dc:
                    occ[i] = c.occ
                    dseg[i] = ((C_SCAL, c.occ),)
                else:
                    lm = c.lat_miss if (nl and hits < nl) else 0.0
                    occ[i] = c.occ + c.lat_hit + lm
                    dseg[i] = ((C_SCAL, c.occ), (C_HIT, c.lat_hit), (C_MISS, lm))
                lat[i] = 0.0
                hbm[ln] += (nl - hits) * line
            else:
                if dc:
                    occ[i] = c.issue
                    dseg[i] = ((C_SCAL, c.issue),)
                hbm[ln] += newdirty * line
        if cold is not None:
            cold_lane, left = cold
            extra = self.chip.core.first_kernel_extra_per_load_ns
            for i in comp.dma_ops:
                if left <= 0:
                    break
                c = costs[i]
                if c.dma == 1 and c.track and comp.lane[i] == cold_lane:
                    occ[i] += extra
                    dseg[i] = ((C_COLD, extra), *dseg[i])
                    left -= 1
        bocc = occ[:]  # PMU busy per op (before pipelining stalls)
        start = [0.0] * n
        rel = [0.0] * n
        done = [0.0] * n
        # binder: (pred index, pred end time used) or None
        binder: list[tuple[int, float] | None] = [None] * n
        pipe_free = [0.0] * 21
        pipe_last = [-1] * 21
        q_mte = {}
        out2, out3, out_lane = self._out2, self._out3, self._out_lane
        q_lane: list[list[int]] = [[], [], []]
        pkey = comp.pkey
        deps = comp.deps
        pipelined = comp.pipelined
        # a scalar GM read holds its lane's in-order scalar issue until the value returns: no later
        # instruction of the lane is issued before it (docs/model.md §3.6)
        gate = [0.0, 0.0, 0.0]
        gate_op = [-1, -1, -1]
        hold = self._hold
        for i in range(n):
            k = pkey[i]
            t = pipe_free[k]
            b = pipe_last[k]
            bt = t
            ln = k // 7
            if gate[ln] > t:
                t = bt = gate[ln]
                b = gate_op[ln]
            for d, s in deps[i]:
                r = done[d] + s
                if r > t:
                    t = r
                    b = d
                    bt = done[d]
            p = k % 7
            if pipelined and i in pipelined:  # cube op fed by MTE1 moves, K-block pipelined
                mv, frac = pipelined[i]
                last_in = 0.0
                for d, s in mv:
                    part = start[d] + (done[d] - start[d]) * frac
                    if part + s > t:
                        t = part + s
                        b = d
                        bt = part
                    if done[d] + s > last_in:
                        last_in = done[d] + s
                stall = last_in + occ[i] * frac - (t + occ[i])
                if stall > 0.0:
                    occ[i] += stall
                    dseg[i] = ((C_CUBE, occ[i] - stall), (C_MTE1, stall))
            if p == P_MTE2 or p == P_MTE3:
                q = q_mte.get(k)
                if q is None:
                    q = q_mte[k] = []
                lim = out2 if p == P_MTE2 else out3
                # the pipe's limit, then (dma.lane_outstanding) the lane's MTE2 + MTE3 limit
                for qq, lm in ((q, lim), (q_lane[ln], out_lane)) if out_lane else ((q, lim),):
                    if len(qq) >= lm:
                        o = qq[-lm]
                        if done[o] > t:
                            t = done[o]
                            b = o
                            bt = done[o]
                    qq.append(i)
            start[i] = t
            r = t + occ[i]
            rel[i] = r
            done[i] = r + lat[i]
            pipe_free[k] = r
            pipe_last[k] = i
            binder[i] = (b, bt) if b >= 0 else None
            if hold and costs[i].dma == 3:
                gate[ln] = done[i]
                gate_op[ln] = i
        # per-lane results
        out: dict[str, BlockProfile] = {}
        pro = self._pro + self._epi
        for ln in lanes_active:
            busy = [0.0] * 7
            last = -1
            tend = 0.0
            loads = 0
            for i in range(n):
                if comp.lane[i] != ln:
                    continue
                if costs[i].dma == 1 and costs[i].track:
                    loads += 1
                busy[pkey[i] % 7] += bocc[i]
                for bp, extra in costs[i].busy_extra:
                    busy[bp] += extra
                if done[i] >= tend:
                    tend = done[i]
                    last = i
            bd = [0.0] * len(CATS)
            bd[C_PRO] = pro
            if last >= 0:
                self._attribute(comp, last, done[last], start, rel, done, binder, dseg, bd)
            total = pro + tend
            if trace is not None and ops is not None:
                crit = set()
                cur = last
                while cur >= 0 and comp.lane[cur] == ln:
                    crit.add(cur)
                    cur = binder[cur][0] if binder[cur] is not None else -1
                for i in range(n):
                    if comp.lane[i] == ln:
                        b_ = binder[i]
                        trace.append(OpTiming(i, LANES[ln], PIPES[pkey[i] % 7], ops[i].name, tuple(ops[i].shape),
                                              start[i], rel[i], done[i], -1 if b_ is None else b_[0], i in crit))
            out[LANES[ln]] = BlockProfile(
                compute_ns=total,
                hbm_bytes=hbm[ln],
                l2_bytes=l2b[ln],
                pipe_busy_ns={PIPES[p]: busy[p] for p in range(7)},
                breakdown={CATS[c]: bd[c] for c in range(len(CATS)) if bd[c] > 0.0},
                gm_loads=loads,
            )
        return out

    @staticmethod
    def _attribute(comp: _Compiled, cur: int, cur_end: float, start: list[float], rel: list[float],
                   done: list[float], binder: list, dseg: dict, bd: list[float]) -> None:
        """Walk the critical path back from ``cur`` and add its time per category into ``bd``."""
        lane = comp.lane[cur]
        costs = comp.costs
        while True:
            segs = dseg.get(cur) or costs[cur].segs
            t = start[cur]
            for cat, d in segs:
                if t >= cur_end:
                    break
                take = d if t + d <= cur_end else cur_end - t
                bd[cat] += take
                t += take
            if t < cur_end:  # rounding or unsegmented occupancy
                bd[PIPE_CAT[comp.pkey[cur] % 7]] += cur_end - t
            b = binder[cur]
            if b is None:
                bd[C_SYNC] += start[cur]  # only non-zero if an op starts late with no binder
                return
            p, p_end = b
            if comp.lane[p] != lane:
                bd[C_HAND] += start[cur]
                return
            gap = start[cur] - p_end
            if gap > 0:
                bd[C_SYNC] += gap
            cur, cur_end = p, p_end
            if cur_end > done[cur]:
                cur_end = done[cur]


def _fence(st: _Struct, deps: list[tuple[tuple[int, float], ...]], sync: list[list[float]]) -> None:
    """Barrier ops (``pl.system.syncall``) as fences inside one block: a lane's k-th barrier op waits for
    the lane's earlier ops, and the lane's later ops wait for the k-th barrier op of every lane (the
    block's own view, as if every other block arrived at once; the engine makes blocks wait for each
    other, :mod:`sim.engine.barriers`)."""
    lane, pkey = st.lane, st.pkey
    seen = [0, 0, 0]
    nth: dict[int, list[int]] = {}  # ordinal -> its barrier ops (one per lane)
    for i, key in enumerate(st.keys):
        if key[0][0] == BARRIER:
            nth.setdefault(seen[lane[i]], []).append(i)
            seen[lane[i]] += 1
    seen = [0, 0, 0]
    for i, key in enumerate(st.keys):
        ln = lane[i]
        sy = sync[ln]
        if key[0][0] == BARRIER:
            seen[ln] += 1
            deps[i] = tuple((d, sy[0 if pkey[d] == pkey[i] else 1]) for d in range(i) if lane[d] == ln)
        elif seen[ln]:
            extra = tuple((b, sy[0 if lane[b] == ln else 2]) for b in nth[seen[ln] - 1] if b < i)
            deps[i] = deps[i] + extra


def _active_lanes(task: Task, op_lanes: list[int]) -> tuple[int, ...]:
    """Lanes (0 aic, 1 aiv0, 2 aiv1) a task occupies: its ops' lanes plus the lanes its core shape holds."""
    s = set(op_lanes)
    if task.shape == CoreShape.AIC:
        s.add(0)
    elif task.shape == CoreShape.AIV:
        if not s:
            s.add(1)
    elif task.shape == CoreShape.MIX:
        for i, kid in enumerate(task.kernel_ids[:3]):
            if kid != -1:
                s.add(i)
        if not s:
            s.update((0, 1))
    return tuple(sorted(s))
