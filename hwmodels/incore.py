"""In-core cost model: list-schedule a block's ops on the core pipes and attribute its critical path.

Each op runs on one pipe of one lane (``aic``/``aiv0``/``aiv1``). Ops of one pipe of one lane run
in program order; an op starts at ``max(pipe free, every dep done + sync cost)`` where the sync
cost is 0 on the same pipe, ``core.cross_pipe_sync_cycles`` across pipes of a lane and
``core.cross_core_flag_cycles`` across lanes (MIX handoff). MTE2/MTE3 are issue-serialised but
latency-overlapped: a DMA occupies its pipe for issue + transfer and its data is ready a latency
later, with at most ``dma.mte2_outstanding`` requests in flight. All times are ns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from operator import attrgetter

from hwmodels.chip import ChipConfig
from hwmodels.memory import L2State, dtype_bytes
from sim.ir import Block, CoreShape, Op, Region, Task, TaskKind

PIPES = ("MTE2", "MTE1", "CUBE", "VECTOR", "FIXPIPE", "MTE3", "SCALAR")
P_MTE2, P_MTE1, P_CUBE, P_VEC, P_FIX, P_MTE3, P_SCAL = range(7)
_PIPE_IDX = {p: i for i, p in enumerate(PIPES)}
LANES = ("aic", "aiv0", "aiv1")
_LANE_IDX = {name: i for i, name in enumerate(LANES)}

CATS = ("vector", "cube", "mte2", "mte1", "mte3", "fixpipe", "scalar", "issue_sync", "l2_hit_latency",
        "l2_miss_latency", "handoff_wait", "prologue")
(C_VEC, C_CUBE, C_MTE2, C_MTE1, C_MTE3, C_FIX, C_SCAL, C_SYNC, C_HIT, C_MISS, C_HAND, C_PRO) = range(12)
_PIPE_CAT = (C_MTE2, C_MTE1, C_CUBE, C_VEC, C_FIX, C_MTE3, C_SCAL)

_TRANSCENDENTAL = ("exp", "log", "ln", "sqrt", "rsqrt", "div", "recip", "pow", "sigmoid", "tanh", "erf")
_REDUCE = ("row_sum", "row_max", "row_min", "col_sum", "col_max", "col_min", "argmax", "argmin", "reduce",
           "sum", "amax")
_GATHER = ("gather", "scatter")
_SORT = ("sort", "mrgsort", "topk", "merge")
_TRANSPOSE = ("transpose",)
_COPY = ("full", "expand", "concat", "copy", "fillpad", "arange", "dup", "broadcast", "fill")
_OP_KEY = attrgetter("kind", "name", "dtype", "nbytes", "rows", "row_bytes", "atomic", "in_dtype", "hops")


@dataclass
class BlockProfile:
    """One lane's cost for one block (ns), with no shared-HBM contention."""

    compute_ns: float
    hbm_bytes: float
    pipe_busy_ns: dict[str, float] = field(default_factory=dict)
    breakdown: dict[str, float] = field(default_factory=dict)
    gm_loads: int = 0  # MTE2 GM->UB/L1 load requests the lane issues (count)


@dataclass(frozen=True)
class OpTiming:
    """Where the list scheduler put one op of a block (ns from the first op, prologue excluded)."""

    index: int  # program order within the block
    lane: str  # aic / aiv0 / aiv1
    pipe: str  # MTE2, VECTOR, ...
    name: str
    shape: tuple[int, ...]
    start_ns: float  # issue on its pipe
    busy_end_ns: float  # the pipe is free again
    ready_ns: float  # its result is usable (after the latency: L2/GM for loads, sync for vector ops)
    waited_for: int  # index of the op (or pipe predecessor) that decided the start; -1 = none
    critical: bool  # on the lane's critical path (the chain that ends last)


# --- per-op constants ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _OpCost:
    """Constants of one op signature. DMA ops finish their cost per call from the L2 classification."""

    occ: float  # pipe occupancy (non-DMA) / issue+row part (DMA), ns
    lat: float  # ready delay after the occupancy (non-DMA), ns
    segs: tuple[tuple[int, float], ...]  # (category, ns) in time order, summing to occ + lat (non-DMA)
    busy_extra: tuple[tuple[int, float], ...] = ()  # extra PMU busy on other pipes (implicit MTE1)
    dma: int = 0  # 0 none, 1 read (MTE2 load), 2 write (MTE3/FIXPIPE store), 3 scalar GM read, 4 scalar write
    issue: float = 0.0  # DMA: fixed request issue (-> issue_sync)
    rows_ns: float = 0.0  # DMA: per-row request cost (-> pipe category)
    xfer_hit: float = 0.0  # DMA read: transfer ns if every line hits; write: transfer ns
    xfer_miss: float = 0.0  # DMA read: transfer ns if every line misses
    lat_hit: float = 0.0  # read: L2 hit latency; write: write latency
    lat_miss: float = 0.0  # read: extra latency when any line misses
    fallback_lines: int = 0  # lines charged when the op has no trackable region
    track: bool = True  # classify in L2 / count HBM bytes (False for MIX ring handoffs)
    xcat: int = C_MTE2  # category of the transfer time
    kb: int = 1  # cube: K blocks x output tiles (explicit MTE1 moves overlap all but one block)


def _cycles_ns(chip: ChipConfig, lane: int) -> float:
    """ns per core cycle on a lane (AIC: cube clock, AIV: vector clock)."""
    return 1000.0 / (chip.soc.cube_freq_mhz if lane == 0 else chip.soc.vec_freq_mhz)


def _odd(x: int) -> int:
    while x > 0 and x % 2 == 0:
        x //= 2
    return x


def _vec_factor(chip: ChipConfig, name: str) -> float:
    v = chip.vector
    n = name.lower()
    if any(k in n for k in _SORT):
        return v.factor_sort
    if any(k in n for k in _REDUCE) and "expand" not in n:
        return v.factor_reduce
    if any(k in n for k in _GATHER):
        return v.factor_gather
    if any(k in n for k in _TRANSPOSE):
        return v.factor_transpose
    if any(k in n for k in _TRANSCENDENTAL):
        return v.factor_unary_transcendental + (1.0 if "expdif" in n else 0.0)
    if any(k in n for k in _COPY):
        return v.factor_copy
    return 1.0


def vector_repeats(chip: ChipConfig, shape: list[int], elem_bytes: float, nbytes: int = 0) -> int:
    """256 B repeats of a vector op on a [.., R, C] tile, rows padded to 32 B blocks (dsl-surface.md §7)."""
    v = chip.vector
    if shape:
        cols = shape[-1]
        rows = math.prod(shape[:-1]) if len(shape) > 1 else 1
    else:
        cols = int(nbytes / elem_bytes) if elem_bytes else 0
        rows = 1
    blocks = rows * math.ceil(cols * elem_bytes / v.block_bytes)
    return max(1, math.ceil(blocks * v.block_bytes / v.repeat_bytes))


def _row_expand_instrs(chip: ChipConfig, rows: int, cols: int, elem_bytes: float) -> int:
    """Instructions of a row_expand binary op after its broadcast (a2a3 TRowExpandBinOp, 2026-05 on).

    Count mode, one instruction per row, only when a row holds more full 256 B repeats than the
    tile has rows; otherwise norm mode: one instruction (``rows`` repeats) per 256 B column slice
    of the row, or a single one when a row is shorter than a repeat.
    """
    per_repeat = max(1, int(chip.vector.repeat_bytes / elem_bytes)) if elem_bytes else cols
    if cols // per_repeat > rows:
        return max(1, rows)
    return max(1, math.ceil(cols / per_repeat))


def vector_lowering(chip: ChipConfig, name: str, shape: list[int], elem_bytes: float) -> tuple[int, int, int]:
    """(barrier-separated steps, further instructions, scalar-loop elements) of one recorded vector op.

    ``vector.lowering = "a2a3"`` follows the structure of the a2a3 tile-op implementations
    (pto-isa ``include/pto/npu/a2a3``); ``"uniform"`` makes every op one instruction.
    """
    v = chip.vector
    if v.lowering == "uniform" or not shape:
        return 1, 0, 0
    n = name.lower()
    cols = shape[-1]
    rows = math.prod(shape[:-1]) if len(shape) > 1 else 1
    if n == "gather":  # index form: per row, offsets = idx * elem (vmuls), barrier, vgather
        return rows, rows, 0
    if n.startswith("row_expand"):  # broadcast the [R,1] operand (vbrcb), barrier, the binary op
        return 2, _row_expand_instrs(chip, rows, cols, elem_bytes) - 1, 0
    if n in ("row_sum", "row_max", "row_min"):  # pairwise adds of a row's repeats, then the reduce
        return max(1, math.ceil(cols * elem_bytes / v.repeat_bytes)), 0, 0
    if n == "arange":  # a scalar loop writing each element into UB, then the S->V hand-over
        return 1, 0, cols
    return 1, 0, 0


def _hopped_lowering(chip: ChipConfig, name: str, shape: list[int], elem_bytes: float,
                     hops: int) -> tuple[int, int, int]:
    """:func:`vector_lowering` with every step repeated per cast hop."""
    steps, extra, scalar = vector_lowering(chip, name, shape, elem_bytes)
    return steps * max(1, hops), extra, scalar


def op_lowering(chip: ChipConfig, op: Op) -> tuple[int, int, int]:
    """:func:`vector_lowering` of a recorded VECTOR op, cast hops included ((0, 0, 0) for other pipes)."""
    if op.pipe != "VECTOR":
        return 0, 0, 0
    return _hopped_lowering(chip, op.name, op.shape, max(dtype_bytes(op.dtype), dtype_bytes(op.in_dtype, 0)),
                            op.hops)


def vector_op_parts(chip: ChipConfig, name: str, shape: list[int], dtype: str, in_dtype: str | None = None,
                    hops: int = 1, nbytes: int = 0, lane: int = 1) -> tuple[float, float, float]:
    """(fixed ns a dependent op waits for, the part of it that holds the VECTOR pipe, ALU ns) of one op.

    One step costs ``op_fixed_ns`` (issue + barrier + latency), of which ``op_issue_ns`` holds the
    pipe; every step but the last ends in a pipe barrier, so it holds the pipe in full. Further
    instructions of the op (per-row loops, like the splits past ``max_repeat``) cost
    ``extra_instr_cycles`` each, scalar-loop elements ``scalar_loop_elem_cycles``.
    """
    v = chip.vector
    cns = _cycles_ns(chip, lane)
    eb = max(dtype_bytes(dtype), dtype_bytes(in_dtype, 0))
    rep = vector_repeats(chip, shape, eb, nbytes)
    n_instr = math.ceil(rep / v.max_repeat)
    cyc = _vec_factor(chip, name) * rep / v.repeats_per_cycle + (n_instr - 1) * v.extra_instr_cycles
    hops = max(1, hops)
    alu = hops * cyc * cns
    if v.lowering == "uniform":
        fixed = hops * v.op_fixed_ns
        return fixed, min(fixed, hops * v.op_issue_ns), alu
    steps, extra, scalar = _hopped_lowering(chip, name, shape, eb, hops)
    issue = min(v.op_fixed_ns, v.op_issue_ns)
    loops = (extra * v.extra_instr_cycles + scalar * v.scalar_loop_elem_cycles) * cns
    held = (steps - 1) * v.op_fixed_ns + issue + loops
    return held + v.op_fixed_ns - issue, held, alu


def cube_tiles(chip: ChipConfig, m: int, n: int, k: int, b_a: float) -> tuple[int, int, int]:
    """L0 tile (m0, n0, k0) for an M x N x K matmul: fit L0C (m0*n0*4) and L0A/L0B (halved if double-buffered)."""
    c = chip.cube
    div = 2 if c.l0_double_buffer else 1
    l0c = chip.aic_buffers.l0c_bytes // div
    l0a = chip.aic_buffers.l0a_bytes // div
    l0b = chip.aic_buffers.l0b_bytes // div
    fm, fn = c.frac_m, c.frac_n
    kt = _k_t(chip, b_a)
    m0 = min(_ceil_to(m, fm), 128 if m > 128 else _ceil_to(m, fm))
    n0 = _ceil_to(n, fn)
    while m0 * n0 * 4 > l0c and n0 > fn:
        n0 = _ceil_to(n0 // 2, fn)
    while m0 * n0 * 4 > l0c and m0 > fm:
        m0 = _ceil_to(m0 // 2, fm)
    k0 = _ceil_to(k, kt)
    while k0 > kt and (m0 * k0 * b_a > l0a or k0 * n0 * b_a > l0b):
        k0 = max(kt, (k0 // 2) // kt * kt)
    return m0, n0, k0


def _ceil_to(x: int, q: int) -> int:
    return max(q, -(-x // q) * q)


def _k_t(chip: ChipConfig, b_a: float) -> int:
    c = chip.cube
    if b_a <= 0.5:
        return c.int4_k
    if b_a == 1:
        return c.int8_k
    return max(1, int(c.k_frac_bytes // b_a))


def cube_cycles(chip: ChipConfig, m: int, n: int, k: int, in_dtype: str) -> tuple[float, float, int]:
    """(C_mad, C_load, K blocks) in cycles for an M x N x K matmul (hardware.md §8.1, §8.2)."""
    c = chip.cube
    b_a = dtype_bytes(in_dtype, 2)
    kt = _k_t(chip, b_a)
    p = c.fp32_passes if b_a >= 4 else 1
    m0, n0, k0 = cube_tiles(chip, m, n, k, b_a)
    t_tiles = math.ceil(m / m0) * math.ceil(n / n0)
    kb = math.ceil(k / k0)
    k_frac = (k // k0) * math.ceil(k0 / kt) + math.ceil((k - (k // k0) * k0) / kt)
    c_mad = t_tiles * (kb * c.mad_head_cycles + p * math.ceil(m0 / c.frac_m) * k_frac * math.ceil(n0 / c.frac_n))
    ra, rb = chip.mte1.l0a_Bpc, chip.mte1.l0b_Bpc
    nt, mt = math.ceil(n / n0), math.ceil(m / m0)
    if k0 < k:
        c_load = b_a * m * k * nt / ra + b_a * k * n * mt / rb
    else:
        c_load = min(b_a * m * k / ra + b_a * k * n * mt / rb, b_a * m * k * nt / ra + b_a * k * n / rb)
    return c_mad, c_load, kb * t_tiles


def drain_cycles(chip: ChipConfig, m: int, n: int) -> float:
    """FIXPIPE drain of an m x n accumulator tile (hardware.md §8.3)."""
    f = chip.fixpipe
    n0 = max(1, f.c0_bytes // f.acc_bytes)
    n1 = math.ceil(n / n0)
    per_row = max(f.drain_row_cycles, f.acc_bytes * n / f.drain_Bpc) + f.drain_penalty_cycles * (_odd(n1) - 1)
    return f.drain_fixed_cycles + m * per_row


def _dma_geometry(chip: ChipConfig, op: Op, elem: float) -> tuple[int, int, int, float]:
    """(rows, row_bytes, valid bytes, core-charged bytes) of a DMA op with the 512 B row rule."""
    nbytes = op.nbytes
    if not nbytes and op.shape:
        nbytes = int(math.ceil(math.prod(op.shape) * elem))
    rows = op.rows or 1
    row_bytes = op.row_bytes or (nbytes // rows if rows else nbytes)
    charged_rows = rows * max(row_bytes, chip.l2.min_row_charge_bytes)
    valid = max(nbytes, rows * row_bytes)
    charged = valid + chip.l2.overfetch_core_fraction * max(0.0, charged_rows - valid)
    return rows, row_bytes, valid, charged


def op_cost(chip: ChipConfig, op: Op, lane: int, implicit_mte1: bool) -> _OpCost:
    """Constants of one op on a lane (see :class:`_OpCost`)."""
    cns = _cycles_ns(chip, lane)
    pipe = _PIPE_IDX[op.pipe]
    kind = op.kind
    elem = dtype_bytes(op.dtype)
    dma, l2, core = chip.dma, chip.l2, chip.core
    handoff = kind == "handoff"
    if pipe == P_VEC:
        fixed, issue, alu = vector_op_parts(chip, op.name, op.shape, op.dtype, op.in_dtype, op.hops, op.nbytes,
                                            lane)
        return _OpCost(issue + alu, fixed - issue, ((C_SYNC, fixed), (C_VEC, alu)))
    if pipe == P_CUBE:
        if op.mnk and len(op.mnk) >= 3:
            m, n, k = op.mnk[:3]
        elif len(op.shape) >= 2:
            m, n, k = op.shape[-2], op.shape[-1], op.shape[-1]
        else:
            m = n = k = 16
        c_mad, c_load, kb = cube_cycles(chip, m, n, k, op.in_dtype or "BF16")
        if not implicit_mte1:
            d = c_mad * cns
            return _OpCost(d, 0.0, ((C_CUBE, d),), kb=kb)
        fill = c_load / max(kb, 1)
        rest = max(c_mad, c_load - fill)
        d = (fill + rest) * cns
        segs = ((C_MTE1, fill * cns), (C_CUBE, c_mad * cns), (C_MTE1, (rest - c_mad) * cns)) if rest > c_mad \
            else ((C_MTE1, fill * cns), (C_CUBE, rest * cns))
        return _OpCost(d, 0.0, segs, busy_extra=((P_MTE1, c_load * cns), (P_CUBE, c_mad * cns - d)))
    if pipe == P_MTE1:
        nb = op.nbytes or (int(math.prod(op.shape) * elem) if op.shape else 0)
        n_l = op.name.lower()
        rate = chip.mte1.l0b_Bpc if ("l0b" in n_l or "right" in n_l or n_l.endswith("_b")) else chip.mte1.l0a_Bpc
        d = nb / rate * cns
        return _OpCost(d, 0.0, ((C_MTE1, d),))
    if pipe == P_SCAL:
        acc = core.scalar_access_cycles * cns
        if handoff or op.region is None:
            return _OpCost(acc, 0.0, ((C_SCAL, acc),))
        write = "write" in op.name.lower()
        if write:
            lat = l2.write_latency_cycles * cns
            return _OpCost(acc + lat, 0.0, ((C_SCAL, acc), (C_HIT, lat)), dma=4, issue=acc, lat_hit=lat,
                           fallback_lines=1, xcat=C_SCAL)
        return _OpCost(acc, 0.0, ((C_SCAL, acc),), dma=3, lat_hit=l2.hit_read_latency_cycles * cns,
                       lat_miss=l2.miss_extra_latency_cycles * cns, fallback_lines=1, xcat=C_SCAL)
    if handoff and op.nbytes == 0:  # handshake only (e.g. the idle AIV lane of a MIX task): flag set/wait
        d = core.scalar_access_cycles * cns
        return _OpCost(d, 0.0, ((C_HAND, d),))
    rows, row_bytes, valid, charged = _dma_geometry(chip, op, elem)
    fallback = rows * max(1, math.ceil(max(row_bytes, 1) / l2.line_bytes))
    track = not handoff
    if pipe == P_MTE2:
        issue = dma.mte2_request_ns
        rows_ns = dma.mte2_row_cycles * rows * cns
        xh = charged / chip.rates.l2_read * cns
        xm = charged / chip.rates.ddr * cns
        return _OpCost(issue + rows_ns, 0.0, (), dma=1, issue=issue, rows_ns=rows_ns, xfer_hit=xh,
                       xfer_miss=xm if track else xh, lat_hit=l2.hit_read_latency_cycles * cns,
                       lat_miss=l2.miss_extra_latency_cycles * cns if track else 0.0,
                       fallback_lines=fallback, track=track, xcat=C_MTE2)
    atomic_f = dma.atomic_rate_factor if op.atomic else 1.0
    lat_w = l2.write_latency_cycles * cns
    if pipe == P_FIX:
        if len(op.shape) >= 2:
            m, n = math.prod(op.shape[:-1]), op.shape[-1]
        elif op.mnk:
            m, n = op.mnk[0], op.mnk[1]
        else:
            m, n = 16, max(1, int(valid / elem / 16))
        drain = drain_cycles(chip, m, n) * cns
        wr = charged / (chip.rates.l2_write * atomic_f) * cns
        occ = max(drain, wr)
        return _OpCost(0.0, 0.0, (), dma=2, xfer_hit=occ, xfer_miss=occ, lat_hit=lat_w, fallback_lines=fallback,
                       track=track, xcat=C_FIX)
    # MTE3 (and any other store-like pipe)
    issue = dma.mte3_request_ns
    rows_ns = dma.mte3_row_cycles * rows * cns
    rate = min(chip.rates.ub_to_l2, chip.rates.l2_write) * atomic_f
    x = charged / rate * cns
    return _OpCost(issue + rows_ns, 0.0, (), dma=2, issue=issue, rows_ns=rows_ns, xfer_hit=x, xfer_miss=x,
                   lat_hit=lat_w, fallback_lines=fallback, track=track, xcat=C_MTE3)


# --- compiled blocks -------------------------------------------------------------------------------

@dataclass
class _Struct:
    """Chip-independent form of one block: op keys, lanes/pipes, deps with their sync class, L2 lines."""

    block: Block
    graph_id: int
    lane: list[int]
    pkey: list[int]  # lane * 7 + pipe
    keys: list[tuple]  # op-cost cache keys
    deps: tuple[tuple[int, ...], ...]  # dep indices per op, as recorded
    dma_cand: list[int]  # ops that may touch GM (DMA pipes, scalar GM access)
    lines: list[object]  # per candidate: None (untracked), a Region (geometry not computed yet) or a LineSet
    sig: int  # structure id: blocks with equal sig have identical costs on any chip
    has_mte1: list[bool]  # per lane: explicit MTE1 ops present (else cube ops stage L0 implicitly)


_STRUCTS: dict[int, _Struct] = {}
_SIGS: dict[tuple, int] = {}


def _structure(block: Block, l2: L2State) -> _Struct:
    st = _STRUCTS.get(id(block))
    if st is not None and st.block is block and st.graph_id == id(l2.graph):
        return st
    if len(_STRUCTS) > 200_000:
        _STRUCTS.clear()
    ops = block.ops
    lane_idx, pipe_idx, opkey = _LANE_IDX, _PIPE_IDX, _OP_KEY
    lanes = [lane_idx[o.lane] for o in ops]
    pipes = [pipe_idx[o.pipe] for o in ops]
    has_mte1 = [False, False, False]
    for ln, p in zip(lanes, pipes, strict=True):
        if p == P_MTE1:
            has_mte1[ln] = True
    keys = [(opkey(o), tuple(o.shape), tuple(o.mnk) if o.mnk else None, o.region is None) for o in ops]
    deps = tuple([tuple(o.deps) for o in ops])
    pkey = [ln * 7 + p for ln, p in zip(lanes, pipes, strict=True)]
    cand = [i for i, p in enumerate(pipes)
            if p == P_MTE2 or p == P_MTE3 or p == P_FIX or (p == P_SCAL and ops[i].region is not None)]
    # regions of GM-touching ops; their line sets are computed lazily (a read of a fully resident
    # tensor needs no geometry)
    lines = [ops[i].region if (ops[i].region is not None and ops[i].kind != "handoff") else None for i in cand]
    sig = _SIGS.setdefault((tuple(keys), deps, tuple(pkey), tuple(has_mte1)), len(_SIGS))
    st = _Struct(block, id(l2.graph), lanes, pkey, keys, deps, cand, lines, sig, has_mte1)
    _STRUCTS[id(block)] = st
    return st


@dataclass
class _Compiled:
    """Chip-dependent costs of one block structure."""

    lane: list[int]
    pkey: list[int]
    deps: list[tuple[tuple[int, float], ...]]  # (dep index, sync ns); pipelined MTE1 deps of cube ops excluded
    costs: list[_OpCost]
    dma_pos: list[int]  # positions in _Struct.dma_cand of ops with an L2/GM part
    dma_ops: list[int]  # their op indices
    pipelined: dict[int, tuple[tuple[tuple[int, float], ...], float]]  # cube op -> (MTE1 deps, 1/K-blocks)


class CoreCostModel:
    """Per-block in-core cost model for one chip (see module docstring)."""

    def __init__(self, chip: ChipConfig) -> None:
        self.chip = chip
        self._op_cache: dict[tuple, _OpCost] = {}
        self._by_sig: dict[int, _Compiled] = {}
        self._memo: dict[tuple, dict[str, BlockProfile]] = {}
        self._pro = chip.core.kernel_prologue_ns
        self._epi = chip.core.kernel_epilogue_ns
        self._out2 = chip.dma.mte2_outstanding
        self._out3 = chip.dma.mte3_outstanding
        self._line = chip.l2.line_bytes
        self._dc_lines = max(1, chip.core.scalar_dcache_bytes // chip.l2.line_bytes)

    # ---- compile ----------------------------------------------------------------------------
    def _compile(self, st: _Struct) -> _Compiled:
        chip = self.chip
        ops = st.block.ops
        sync = [[0.0, chip.core.cross_pipe_sync_cycles * _cycles_ns(chip, ln),
                 chip.core.cross_core_flag_cycles * _cycles_ns(chip, ln)] for ln in range(3)]
        costs: list[_OpCost] = []
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
                    l2.touch(ls.tensor)
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

    def profile(self, task: Task, block: Block, l2: L2State) -> dict[str, BlockProfile]:
        """Profiles of the block's active lanes ("aic"/"aiv0"/"aiv1"); classifies and marks L2 lines now."""
        if task.kind != TaskKind.KERNEL:
            return {}
        st, comp, cls = self._prepare(block, l2)
        lanes_active = _active_lanes(task, comp.lane)
        mkey = (st.sig, tuple(cls), lanes_active)
        hit = self._memo.get(mkey)
        if hit is None:
            hit = self._schedule(comp, cls, lanes_active)
            self._memo[mkey] = hit
        return {k: BlockProfile(v.compute_ns, v.hbm_bytes, dict(v.pipe_busy_ns), dict(v.breakdown), v.gm_loads)
                for k, v in hit.items()}

    def op_timeline(self, task: Task, block: Block, l2: L2State) -> list[OpTiming]:
        """Every op of the block as the list scheduler placed it (ns from the block's first op, after the
        prologue), with what it waited for and whether it is on its lane's critical path."""
        if task.kind != TaskKind.KERNEL:
            return []
        _st, comp, cls = self._prepare(block, l2)
        trace: list[OpTiming] = []
        self._schedule(comp, cls, _active_lanes(task, comp.lane), trace=trace, ops=block.ops)
        return trace

    def _schedule(self, comp: _Compiled, cls: list[tuple[int, int, int]],
                  lanes_active: tuple[int, ...], trace: list[OpTiming] | None = None,
                  ops: list[Op] | None = None) -> dict[str, BlockProfile]:
        n = len(comp.costs)
        costs = comp.costs
        occ = [c.occ for c in costs]
        lat = [c.lat for c in costs]
        dseg: dict[int, tuple[tuple[int, float], ...]] = {}
        hbm = [0.0, 0.0, 0.0]
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
                lat[i] = c.lat_hit + lm
                dseg[i] = ((C_SYNC, c.issue), (C_MTE2, c.rows_ns + x), (C_HIT, c.lat_hit), (C_MISS, lm))
                hbm[ln] += (nl - hits) * line
            elif c.dma == 2:
                occ[i] = c.issue + c.rows_ns + c.xfer_hit
                lat[i] = c.lat_hit
                if c.xcat == C_FIX:
                    dseg[i] = ((C_FIX, c.xfer_hit), (C_HIT, c.lat_hit))
                else:
                    dseg[i] = ((C_SYNC, c.issue), (C_MTE3, c.rows_ns + c.xfer_hit), (C_HIT, c.lat_hit))
                hbm[ln] += newdirty * line
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
        bocc = occ[:]  # PMU busy per op (before pipelining stalls)
        start = [0.0] * n
        rel = [0.0] * n
        done = [0.0] * n
        # binder: (pred index, pred end time used) or None
        binder: list[tuple[int, float] | None] = [None] * n
        pipe_free = [0.0] * 21
        pipe_last = [-1] * 21
        q_mte = {}
        out2, out3 = self._out2, self._out3
        pkey = comp.pkey
        deps = comp.deps
        pipelined = comp.pipelined
        for i in range(n):
            k = pkey[i]
            t = pipe_free[k]
            b = pipe_last[k]
            bt = t
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
                if len(q) >= lim:
                    o = q[-lim]
                    if done[o] > t:
                        t = done[o]
                        b = o
                        bt = done[o]
                q.append(i)
            start[i] = t
            r = t + occ[i]
            rel[i] = r
            done[i] = r + lat[i]
            pipe_free[k] = r
            pipe_last[k] = i
            binder[i] = (b, bt) if b >= 0 else None
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
            bd = [0.0] * 12
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
                pipe_busy_ns={PIPES[p]: busy[p] for p in range(7)},
                breakdown={CATS[c]: bd[c] for c in range(12) if bd[c] > 0.0},
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
                bd[_PIPE_CAT[comp.pkey[cur] % 7]] += cur_end - t
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


def _active_lanes(task: Task, op_lanes: list[int]) -> tuple[int, ...]:
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
