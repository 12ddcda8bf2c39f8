"""Per-op cost formulas of the in-core model: vector, cube (MAD + L0 staging), FIXPIPE drain, DMA, scalar.

:func:`op_cost` turns one recorded op on one lane into an :class:`OpCost` (ns): the pipe occupancy,
the latency after it and the critical-path segments; a DMA op's transfer and latency are finished
per call from its L2 hit/miss classification by the scheduler. Formulas: docs/model.md §3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hwmodels.chip import ChipConfig
from hwmodels.incore.lowering import gather_rows, hopped_lowering, loop_steps
from hwmodels.incore.pipes import (
    C_CUBE,
    C_FIX,
    C_HAND,
    C_HIT,
    C_MTE1,
    C_MTE2,
    C_MTE3,
    C_SCAL,
    C_SYNC,
    C_VEC,
    P_CUBE,
    P_FIX,
    P_MTE1,
    P_MTE2,
    P_SCAL,
    P_VEC,
    PIPE_IDX,
)
from hwmodels.memory import dtype_bytes
from sim.ir import Op

# Cost class of every recorded vector op name (kernels/dsl): the ALU cost per 256 B repeat relative to a
# one-source op. Classified by the exact name, never by substring (``row_expand_mul`` is a multiply, not an
# ``exp``).
_BASE_CLASS: dict[str, str] = {
    **dict.fromkeys(("add", "sub", "mul", "maximum", "minimum"), "binary"),
    **dict.fromkeys(("neg", "abs", "relu", "cast"), "add"),
    **dict.fromkeys(("exp", "log", "ln", "sqrt", "recip", "pow", "sigmoid", "tanh", "erf"), "transcendental"),
    "rsqrt": "add",
    "div": "div",
    **dict.fromkeys(("row_sum", "row_max", "row_min", "col_sum", "col_max", "col_min", "row_argmax", "row_argmin"),
                    "reduce"),
    **dict.fromkeys(("gather", "gather_mask", "scatter", "scatter_mask"), "gather"),
    "sort32": "sort32",
    "mrgsort": "mrgsort",
    "transpose": "transpose",
    **dict.fromkeys(("full", "col_expand", "concat", "copy", "move", "fillpad", "arange"), "copy"),
    "col_expand_expdif": "expdif",
}
_SCALAR_FORMS = ("add", "sub", "mul", "div", "maximum", "minimum")  # ``adds`` = add with a scalar operand


def vector_cost_class(name: str) -> str:
    """Cost class of a recorded vector op by its exact name ("add", a one-source op, for names outside
    the table).

    A ``row_expand_<op>`` / ``col_expand_<op>`` costs its binary ``<op>`` (the broadcast of the
    [R,1] operand is a lowering step, :mod:`hwmodels.incore.lowering`); ``<op>s`` (scalar operand)
    costs ``<op>`` with one vector source: an add/sub/mul/max/min with a scalar is "add".
    """
    n = name.lower()
    if n in _BASE_CLASS:
        return _BASE_CLASS[n]
    for prefix in ("row_expand_", "col_expand_"):
        if n.startswith(prefix) and n[len(prefix):] in _BASE_CLASS:
            return _BASE_CLASS[n[len(prefix):]]
    if n.endswith("s") and n[:-1] in _SCALAR_FORMS:
        cls = _BASE_CLASS[n[:-1]]
        return "add" if cls == "binary" else cls
    return "add"


@dataclass(frozen=True)
class OpCost:
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
    l2_bytes: float = 0.0  # DMA: L2 line bytes the op moves (rows x max(row bytes, min_row_charge_bytes))
    span: float = 1.0  # DMA read: its transfer lands span x its pipe share after it starts (one MTE2 sub-queue)


def cycle_ns(chip: ChipConfig, lane: int) -> float:
    """ns per core cycle on a lane (AIC: cube clock, AIV: vector clock)."""
    return 1000.0 / (chip.soc.cube_freq_mhz if lane == 0 else chip.soc.vec_freq_mhz)


def _odd(x: int) -> int:
    """``x`` with every factor 2 divided out (0 stays 0)."""
    while x > 0 and x % 2 == 0:
        x //= 2
    return x


def _vec_factor(chip: ChipConfig, name: str) -> float:
    """ALU cost per 256 B repeat of a vector op, relative to a one-source op, from its exact-name class."""
    v = chip.vector
    return {
        "add": 1.0,
        "binary": v.factor_binary,
        "transcendental": v.factor_unary_transcendental,
        "div": v.factor_div,
        "expdif": v.factor_unary_transcendental + v.factor_binary,  # exp(x - v): the subtract pass plus the exp
        "reduce": v.factor_reduce,
        "gather": v.factor_gather,
        "sort32": v.factor_sort32,
        "mrgsort": v.factor_mrgsort,
        "transpose": v.factor_transpose,
        "copy": v.factor_copy,
    }[vector_cost_class(name)]


def vector_repeats(chip: ChipConfig, shape: list[int], elem_bytes: float, nbytes: int = 0) -> int:
    """256 B repeats of a vector op on a [.., R, C] tile, rows padded to 32 B blocks (docs/model.md §3.2)."""
    v = chip.vector
    if shape:
        cols = shape[-1]
        rows = math.prod(shape[:-1]) if len(shape) > 1 else 1
    else:
        cols = int(nbytes / elem_bytes) if elem_bytes else 0
        rows = 1
    blocks = rows * math.ceil(cols * elem_bytes / v.block_bytes)
    return max(1, math.ceil(blocks * v.block_bytes / v.repeat_bytes))


def vector_op_parts(chip: ChipConfig, name: str, shape: list[int], dtype: str, in_dtype: str | None = None,
                    hops: int = 1, nbytes: int = 0, lane: int = 1) -> tuple[float, float, float]:
    """(fixed ns a dependent op waits for, the part of it that holds the VECTOR pipe, ALU ns) of one op.

    One step costs ``op_fixed_ns`` (issue + barrier + latency), of which ``op_issue_ns`` holds the
    pipe; every step but the last ends in a pipe barrier, so it holds the pipe in full. Further
    instructions of the op (per-row loops, like the splits past ``max_repeat``) cost
    ``extra_instr_cycles`` each, scalar-loop elements ``scalar_loop_elem_cycles``.
    """
    v = chip.vector
    cns = cycle_ns(chip, lane)
    eb = max(dtype_bytes(dtype), dtype_bytes(in_dtype, 0))
    rep = vector_repeats(chip, shape, eb, nbytes)
    n_instr = math.ceil(rep / v.max_repeat)
    cyc = _vec_factor(chip, name) * rep / v.repeats_per_cycle + (n_instr - 1) * v.extra_instr_cycles
    hops = max(1, hops)
    alu = hops * cyc * cns
    if v.lowering == "uniform":
        fixed = hops * v.op_fixed_ns
        return fixed, min(fixed, hops * v.op_issue_ns), alu
    steps, extra, scalar = hopped_lowering(chip, name, shape, eb, hops)
    issue = min(v.op_fixed_ns, v.op_issue_ns)
    loops = (extra * v.extra_instr_cycles + scalar * v.scalar_loop_elem_cycles) * cns
    if v.loop_step_cycles > 0:
        rows = loop_steps(chip, name, shape)
        if rows:  # per-row vadd/vmax: an add's ALU pass per row instead of a reduce factor
            alu = hops * (rep / v.repeats_per_cycle + (n_instr - 1) * v.extra_instr_cycles) * cns
            loops += hops * rows * v.loop_step_cycles * cns
    loops += hops * gather_rows(chip, name, shape) * v.gather_row_cycles * cns
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
    """``x`` rounded up to a multiple of ``q``, at least ``q``."""
    return max(q, -(-x // q) * q)


def _k_t(chip: ChipConfig, b_a: float) -> int:
    """K elements of one cube fractal for ``b_a``-byte inputs (docs/model.md §3.4)."""
    c = chip.cube
    if b_a <= 0.5:
        return c.int4_k
    if b_a == 1:
        return c.int8_k
    return max(1, int(c.k_frac_bytes // b_a))


def cube_cycles(chip: ChipConfig, m: int, n: int, k: int, in_dtype: str) -> tuple[float, float, int]:
    """(C_mad, C_load, K blocks) in cycles for an M x N x K matmul (docs/model.md §3.4)."""
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
    """FIXPIPE drain of an m x n accumulator tile (docs/model.md §3.4)."""
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


def op_cost(chip: ChipConfig, op: Op, lane: int, implicit_mte1: bool) -> OpCost:
    """Constants of one op on a lane (see :class:`OpCost`)."""
    cns = cycle_ns(chip, lane)
    pipe = PIPE_IDX[op.pipe]
    kind = op.kind
    elem = dtype_bytes(op.dtype)
    dma, l2, core = chip.dma, chip.l2, chip.core
    handoff = kind == "handoff"
    if pipe == P_VEC:
        fixed, issue, alu = vector_op_parts(chip, op.name, op.shape, op.dtype, op.in_dtype, op.hops, op.nbytes,
                                            lane)
        return OpCost(issue + alu, fixed - issue, ((C_SYNC, fixed), (C_VEC, alu)))
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
            return OpCost(d, 0.0, ((C_CUBE, d),), kb=kb)
        fill = c_load / max(kb, 1)
        rest = max(c_mad, c_load - fill)
        d = (fill + rest) * cns
        segs = ((C_MTE1, fill * cns), (C_CUBE, c_mad * cns), (C_MTE1, (rest - c_mad) * cns)) if rest > c_mad \
            else ((C_MTE1, fill * cns), (C_CUBE, rest * cns))
        return OpCost(d, 0.0, segs, busy_extra=((P_MTE1, c_load * cns), (P_CUBE, c_mad * cns - d)))
    if pipe == P_MTE1:
        nb = op.nbytes or (int(math.prod(op.shape) * elem) if op.shape else 0)
        n_l = op.name.lower()
        rate = chip.mte1.l0b_Bpc if ("l0b" in n_l or "right" in n_l or n_l.endswith("_b")) else chip.mte1.l0a_Bpc
        d = nb / rate * cns
        return OpCost(d, 0.0, ((C_MTE1, d),))
    if pipe == P_SCAL:
        acc = core.scalar_access_cycles * cns
        if handoff or op.region is None:
            return OpCost(acc, 0.0, ((C_SCAL, acc),))
        write = "write" in op.name.lower()
        if write:
            lat = l2.write_latency_cycles * cns
            return OpCost(acc + lat, 0.0, ((C_SCAL, acc), (C_HIT, lat)), dma=4, issue=acc, lat_hit=lat,
                          fallback_lines=1, xcat=C_SCAL)
        return OpCost(acc, 0.0, ((C_SCAL, acc),), dma=3, lat_hit=l2.hit_read_latency_cycles * cns,
                      lat_miss=l2.miss_extra_latency_cycles * cns, fallback_lines=1, xcat=C_SCAL)
    if handoff and op.nbytes == 0:  # handshake only (e.g. the idle AIV lane of a MIX task): flag set/wait
        d = core.scalar_access_cycles * cns
        return OpCost(d, 0.0, ((C_HAND, d),))
    rows, row_bytes, valid, charged = _dma_geometry(chip, op, elem)
    fallback = rows * max(1, math.ceil(max(row_bytes, 1) / l2.line_bytes))
    track = not handoff
    lines_b = max(valid, rows * max(row_bytes, l2.min_row_charge_bytes)) if track else 0.0  # whole lines moved
    if pipe == P_MTE2:
        issue = dma.mte2_request_ns
        rows_ns = (dma.mte2_row_cycles + (dma.nd2nz_row_cycles if op.nd2nz else 0.0)) * rows * cns
        xh = charged / chip.rates.l2_read * cns
        xm = charged / chip.rates.ddr * cns
        return OpCost(issue + rows_ns, 0.0, (), dma=1, issue=issue, rows_ns=rows_ns, xfer_hit=xh,
                      xfer_miss=xm if track else xh, lat_hit=l2.hit_read_latency_cycles * cns,
                      lat_miss=l2.miss_extra_latency_cycles * cns if track else 0.0,
                      fallback_lines=fallback, track=track, xcat=C_MTE2,
                      l2_bytes=lines_b, span=dma.nd2nz_load_span if op.nd2nz else 1.0)
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
        return OpCost(0.0, 0.0, (), dma=2, xfer_hit=occ, xfer_miss=occ, lat_hit=lat_w, fallback_lines=fallback,
                      track=track, xcat=C_FIX, l2_bytes=lines_b)
    # MTE3 (and any other store-like pipe)
    issue = dma.mte3_request_ns
    rows_ns = dma.mte3_row_cycles * rows * cns
    rate = min(chip.rates.ub_to_l2, chip.rates.l2_write) * atomic_f
    x = charged / rate * cns
    return OpCost(issue + rows_ns, 0.0, (), dma=2, issue=issue, rows_ns=rows_ns, xfer_hit=x, xfer_miss=x,
                  lat_hit=lat_w, fallback_lines=fallback, track=track, xcat=C_MTE3,
                  l2_bytes=lines_b)
