"""DeepSeek-V4 ``qkv_proj_rope`` (mirrors pypto-lib ``models/deepseek/v4/qkv_proj_rope.py`` before and after
https://github.com/hw-native-sys/pypto-lib/pull/648), two variants.

``baseline`` (9d923d9): every ``q_head_rms_nope_rope`` block rebuilds the RoPE index/sign tables
and the interleaved cos/sin. ``precompute`` (bff20f4, PR #648): a single-block ``q_rope_cs`` task
builds them once into GM and ``q_head_rms_nope_rope`` loads them.

Reusable entry for other kernels (the HCA layer inlines these scopes)::

    qkv_proj_rope_inline(x, wq_a, wq_b, wq_b_scale, wkv, rope_cos, rope_sin, gamma_cq, gamma_ckv,
                         q, kv, qr, qr_scale, *, variant: str)

It is a ``@pl.jit.inline`` function: call it from orchestration code with GM tensors
x [T,4096] BF16, wq_a [4096,1024] BF16, wq_b [1024,32768] INT8, wq_b_scale [32768] FP32,
wkv [4096,512] BF16, rope_cos/rope_sin [T,64] BF16, gamma_cq [1024] BF16, gamma_ckv [512] BF16 and
outputs q [T,64,512] BF16, kv [T,512] BF16, qr [T,1024] INT8, qr_scale [T,1] FP32. It allocates its
intermediates with ``pl.create_tensor`` (in the caller's runtime scope) and submits 10 tasks
(baseline) or 11 (precompute). T must be a multiple of 8 and at most 128.

Counts (loads, ops, blocks) come out of the recording; tests compare them with counts taken from the pypto-lib file.
"""

from __future__ import annotations

from typing import Any

import kernels.language as pl
from sim.util.errors import UserError

# model constants (pypto-lib models/deepseek/v4/config.py, preset FLASH)
D = 4096
H = 64
HEAD_DIM = 512
ROPE_DIM = 64
NOPE_DIM = HEAD_DIM - ROPE_DIM
Q_LORA = 1024
KV_DIM = 512
EPS = 1e-6
INT8_SCALE_MAX = 127.0
INT8_AMAX_EPS = 1e-4

# tiling constants
Q_PROJ_OUT_TILE = 128
QPROJ_MM_N_TILE = 128
QPROJ_MM_GROUP = 8
Q_PROJ_TILE = 512
Q_LORA_TILE = 32
KV_TILE = 32
T_TILE = 8
M_TILE = 16
QR_N_TILE, QR_K_TILE, QR_OK, QR_K_SLICE = 128, 256, 2, 2048
KV_N_TILE, KV_K_TILE, KV_OK, KV_K_SLICE = 128, 256, 4, 1024
PAD_K_TILE = 512
T_MAX = 128

VARIANTS = ["baseline", "precompute"]
MODES = {"decode": 8, "prefill": 128}


@pl.jit.inline
def rope_index_build(rows: int) -> tuple[Any, Any, Any]:
    """In-kernel RoPE index/sign build on [rows, 64] (16 vector ops): (dup_idx, swap_idx, sign)."""
    ones = pl.full([rows, ROPE_DIM], pl.FP32, 1.0)
    lane_i = pl.arange(0, [1, ROPE_DIM], pl.INT32)
    lane_f = pl.cast(lane_i, pl.FP32)
    col = pl.col_expand_mul(ones, lane_f)  # col[j] = j
    half = pl.mul(col, 0.5)
    half_i = pl.cast(half, pl.INT32, mode="trunc")
    dup = pl.cast(half_i, pl.FP32)  # j >> 1
    dup_idx = pl.cast(dup, pl.INT32)
    dup2 = pl.mul(dup, 2.0)
    lane = pl.sub(col, dup2)  # j mod 2
    lane2 = pl.mul(lane, 2.0)
    sign = pl.sub(lane2, 1.0)  # -1 on even j, +1 on odd j
    colp1 = pl.add(col, 1.0)
    lane2b = pl.mul(lane, 2.0)
    swap = pl.sub(colp1, lane2b)  # j xor 1
    swap_idx = pl.cast(swap, pl.INT32)
    return dup_idx, swap_idx, sign


@pl.jit.inline
def qkv_proj_rope_inline(x: Any, wq_a: Any, wq_b: Any, wq_b_scale: Any, wkv: Any, rope_cos: Any,
                         rope_sin: Any, gamma_cq: Any, gamma_ckv: Any, q: Any, kv: Any, qr: Any,
                         qr_scale: Any, *, variant: str) -> None:
    """Submit the qkv_proj_rope scopes (see the module docstring)."""
    if variant not in VARIANTS:
        pl.error(f"unknown variant {variant!r} (expected one of {', '.join(VARIANTS)})")
    t_dim = x.shape[0]
    pl.check_divisible(t_dim, T_TILE, "T", scope="qr_rms_norm_quant")
    if t_dim > T_MAX:
        pl.error(f"T={t_dim} exceeds T_MAX={T_MAX} (intermediate allocations)")
    t_matmul = max(t_dim, M_TILE)
    pl.check_divisible(t_matmul, M_TILE, "max(T, 16)", scope="qkv_x_matmul_pad")
    n_tc = t_matmul // M_TILE
    n_tg = t_dim // T_TILE
    precompute = variant == "precompute"

    # intermediates (GM tensors the pypto-lib file creates)
    x_matmul = pl.create_tensor([T_MAX, D], pl.BF16, name="x_matmul")
    qr_fp32 = pl.create_tensor([T_MAX, Q_LORA], pl.FP32, name="qr_fp32")
    qr_i8_matmul = pl.create_tensor([T_MAX, Q_LORA], pl.INT8, name="qr_i8_matmul")
    q_proj_i32 = pl.create_tensor([T_MAX, H * HEAD_DIM], pl.INT32, name="q_proj_i32")
    q_proj_fp32 = pl.create_tensor([T_MAX, H * HEAD_DIM], pl.FP32, name="q_proj_fp32")
    kv_fp32 = pl.create_tensor([T_MAX, KV_DIM], pl.FP32, name="kv_fp32")
    if precompute:
        q_rope_cos_il = pl.create_tensor([t_dim, ROPE_DIM], pl.FP32, name="q_rope_cos_il")
        q_rope_sin_signed = pl.create_tensor([t_dim, ROPE_DIM], pl.FP32, name="q_rope_sin_signed")
        q_rope_swap_idx = pl.create_tensor([T_TILE, ROPE_DIM], pl.INT32, name="q_rope_swap_idx")

    # orchestration views
    q_flat = pl.reshape(q, [t_dim, H * HEAD_DIM])
    gamma_cq_row = pl.reshape(gamma_cq, [1, Q_LORA])
    gamma_ckv_row = pl.reshape(gamma_ckv, [1, KV_DIM])
    wq_b_scale_row = pl.reshape(wq_b_scale, [1, H * HEAD_DIM])

    # #1 qkv_x_matmul_pad: zero-pad x to 16-row cube tiles
    for b in pl.spmd(n_tc, name_hint="qkv_x_matmul_pad"):
        p0 = M_TILE * b
        vr = min(M_TILE, t_dim - p0)
        for k0 in pl.range(0, D, PAD_K_TILE):
            t = pl.slice(x, [M_TILE, PAD_K_TILE], [p0, k0], valid_shape=[vr, PAD_K_TILE])
            t = pl.fillpad(t, pad_value=pl.PadValue.zero)
            x_matmul[p0:p0 + M_TILE, k0:k0 + PAD_K_TILE] = t

    # #2 qr_proj_seed: zero the split-K accumulator
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="qr_proj_seed"):
        for tc in pl.range(n_tc):
            for nb in pl.range(Q_LORA // QR_N_TILE):
                z = pl.full([M_TILE, QR_N_TILE], pl.FP32, 0.0)
                x0, n0 = M_TILE * tc, QR_N_TILE * nb
                qr_fp32[x0:x0 + M_TILE, n0:n0 + QR_N_TILE] = z

    # #3 qr_proj_matmul: qr = x . wq_a, split-K over 2 halves, atomic accumulate
    for b in pl.spmd((Q_LORA // QR_N_TILE) * QR_OK, name_hint="qr_proj_matmul"):
        n0 = QR_N_TILE * (b // QR_OK)
        kb0 = QR_K_SLICE * (b % QR_OK)
        for tc in pl.range(n_tc):
            m0 = M_TILE * tc
            acc = None
            for db in pl.pipeline(QR_K_SLICE // QR_K_TILE, stage=2):
                k = kb0 + QR_K_TILE * db
                a = x_matmul[m0:m0 + M_TILE, k:k + QR_K_TILE]
                w = wq_a[k:k + QR_K_TILE, n0:n0 + QR_N_TILE]
                acc = pl.matmul(a, w, out_dtype=pl.FP32) if db == 0 else pl.matmul_acc(acc, a, w)
            pl.assemble(qr_fp32, acc, [m0, n0], atomic=pl.AtomicType.Add)

    # #4 qr_rms_norm_quant: RMSNorm(qr) * gamma, per-row INT8 quantisation
    n_c = Q_LORA // Q_LORA_TILE
    for b in pl.spmd(n_tg, name_hint="qr_rms_norm_quant"):
        tg = T_TILE * b
        sq_sum = pl.full([1, T_TILE], pl.FP32, 0.0)
        amax = pl.full([1, T_TILE], pl.FP32, INT8_AMAX_EPS)
        for i in pl.pipeline(n_c, stage=2):
            c = Q_LORA_TILE * i
            t = qr_fp32[tg:tg + T_TILE, c:c + Q_LORA_TILE]
            sq = pl.mul(t, t)
            rs = pl.row_sum(sq)
            sq_sum = pl.add(sq_sum, pl.reshape(rs, [1, T_TILE]))
        ms = pl.mul(sq_sum, 1.0 / Q_LORA)
        ms = pl.add(ms, EPS)
        rms = pl.sqrt(ms)
        inv_rms = pl.reshape(pl.recip(rms), [T_TILE, 1])
        for i in pl.pipeline(n_c, stage=2):
            c = Q_LORA_TILE * i
            t = qr_fp32[tg:tg + T_TILE, c:c + Q_LORA_TILE]
            g = pl.cast(gamma_cq_row[0:1, c:c + Q_LORA_TILE], pl.FP32)
            y = pl.row_expand_mul(t, inv_rms)
            y = pl.col_expand_mul(y, g)
            ny = pl.neg(y)
            ay = pl.maximum(y, ny)
            rm = pl.row_max(ay)
            amax = pl.maximum(amax, pl.reshape(rm, [1, T_TILE]))
        smax = pl.full([1, T_TILE], pl.FP32, INT8_SCALE_MAX)
        qscale = pl.div(smax, amax)
        dqscale = pl.recip(qscale)
        qr_scale[tg:tg + T_TILE, 0:1] = pl.reshape(dqscale, [T_TILE, 1])
        qscale_col = pl.reshape(qscale, [T_TILE, 1])
        for i in pl.pipeline(n_c, stage=2):
            c = Q_LORA_TILE * i
            t = qr_fp32[tg:tg + T_TILE, c:c + Q_LORA_TILE]
            g = pl.cast(gamma_cq_row[0:1, c:c + Q_LORA_TILE], pl.FP32)
            y = pl.row_expand_mul(t, inv_rms)
            y = pl.col_expand_mul(y, g)
            y = pl.row_expand_mul(y, qscale_col)
            yi = pl.cast(y, pl.INT32, mode="rint")
            yh = pl.cast(yi, pl.FP16, mode="round")
            y8 = pl.cast(yh, pl.INT8, mode="trunc")
            qr[tg:tg + T_TILE, c:c + Q_LORA_TILE] = y8
            qr_i8_matmul[tg:tg + T_TILE, c:c + Q_LORA_TILE] = y8

    # #5 qproj_matmul: q = qr_i8 . wq_b (INT8 -> INT32)
    n_qgroups = (H * HEAD_DIM // QPROJ_MM_N_TILE) // QPROJ_MM_GROUP
    for b in pl.spmd(n_qgroups, name_hint="qproj_matmul"):
        for j in pl.range(QPROJ_MM_GROUP):
            n0 = QPROJ_MM_N_TILE * (QPROJ_MM_GROUP * b + j)
            for tc in pl.range(n_tc):
                m0 = M_TILE * tc
                a0 = qr_i8_matmul[m0:m0 + M_TILE, 0:Q_PROJ_TILE]
                b0 = wq_b[0:Q_PROJ_TILE, n0:n0 + QPROJ_MM_N_TILE]
                acc = pl.matmul(a0, b0, out_dtype=pl.INT32)
                for kt in pl.pipeline(1, Q_LORA // Q_PROJ_TILE, stage=2):
                    k = Q_PROJ_TILE * kt
                    a1 = qr_i8_matmul[m0:m0 + M_TILE, k:k + Q_PROJ_TILE]
                    b1 = wq_b[k:k + Q_PROJ_TILE, n0:n0 + QPROJ_MM_N_TILE]
                    acc = pl.matmul_acc(acc, a1, b1)
                q_proj_i32[m0:m0 + M_TILE, n0:n0 + QPROJ_MM_N_TILE] = acc

    # #6 qproj_dequant: INT32 -> FP32 with activation and weight scales
    n_dq_groups = 16
    n_dq_blocks = (H * HEAD_DIM // Q_PROJ_OUT_TILE) // n_dq_groups
    for b in pl.spmd(n_dq_blocks, name_hint="qproj_dequant"):
        for j in pl.range(n_dq_groups):
            w0 = Q_PROJ_OUT_TILE * (n_dq_groups * b + j)
            ws = wq_b_scale_row[0:1, w0:w0 + Q_PROJ_OUT_TILE]
            for tc in pl.pipeline(0, t_dim, T_TILE, stage=2):
                ti = q_proj_i32[tc:tc + T_TILE, w0:w0 + Q_PROJ_OUT_TILE]
                tf = pl.cast(ti, pl.FP32, mode="none")
                s = qr_scale[tc:tc + T_TILE, 0:1]
                y = pl.row_expand_mul(tf, s)
                y = pl.col_expand_mul(y, ws)
                q_proj_fp32[tc:tc + T_TILE, w0:w0 + Q_PROJ_OUT_TILE] = y

    # #7 q_rope_cs (precompute only): head-invariant RoPE factors, built once
    if precompute:
        for _b in pl.spmd(1, name_hint="q_rope_cs"):
            dup_idx, swap_idx, sign = rope_index_build(T_TILE)
            q_rope_swap_idx[0:T_TILE, 0:ROPE_DIM] = swap_idx
            for tg_i in pl.range(n_tg):
                r = T_TILE * tg_i
                cos = pl.cast(rope_cos[r:r + T_TILE, 0:ROPE_DIM // 2], pl.FP32)
                sin = pl.cast(rope_sin[r:r + T_TILE, 0:ROPE_DIM // 2], pl.FP32)
                cos_il = pl.gather(cos, dim=-1, index=dup_idx)
                q_rope_cos_il[r:r + T_TILE, 0:ROPE_DIM] = cos_il
                sin_il = pl.gather(sin, dim=-1, index=dup_idx)
                q_rope_sin_signed[r:r + T_TILE, 0:ROPE_DIM] = pl.mul(sin_il, sign)

    # #8 q_head_rms_nope_rope: per-head RMSNorm + NOPE writeback + interleaved RoPE
    heads_per_block = 2
    for b in pl.spmd(H // heads_per_block, name_hint="q_head_rms_nope_rope"):
        if precompute:
            swap_idx = q_rope_swap_idx[0:T_TILE, 0:ROPE_DIM]
        else:
            dup_idx, swap_idx, sign = rope_index_build(T_TILE)
        for tg_i in pl.range(n_tg):
            r = T_TILE * tg_i
            if precompute:
                cos_il = q_rope_cos_il[r:r + T_TILE, 0:ROPE_DIM]
                sin_signed = q_rope_sin_signed[r:r + T_TILE, 0:ROPE_DIM]
            else:
                cos = pl.cast(rope_cos[r:r + T_TILE, 0:ROPE_DIM], pl.FP32)
                cos_il = pl.gather(cos, dim=-1, index=dup_idx)
                sin = pl.cast(rope_sin[r:r + T_TILE, 0:ROPE_DIM], pl.FP32)
                sin_il = pl.gather(sin, dim=-1, index=dup_idx)
            for h_inner in pl.range(heads_per_block):
                h0 = HEAD_DIM * (heads_per_block * b + h_inner)
                ss = pl.full([1, T_TILE], pl.FP32, 0.0)
                for db in pl.pipeline(HEAD_DIM // ROPE_DIM, stage=2):
                    c = h0 + ROPE_DIM * db
                    t = q_proj_fp32[r:r + T_TILE, c:c + ROPE_DIM]
                    sq = pl.mul(t, t)
                    rs = pl.row_sum(sq)
                    ss = pl.add(ss, pl.reshape(rs, [1, T_TILE]))
                ms = pl.mul(ss, 1.0 / HEAD_DIM)
                ms = pl.add(ms, EPS)
                rms = pl.sqrt(ms)
                inv_rms = pl.reshape(pl.recip(rms), [T_TILE, 1])
                for nb in pl.pipeline(NOPE_DIM // ROPE_DIM, stage=2):
                    c = h0 + ROPE_DIM * nb
                    t = q_proj_fp32[r:r + T_TILE, c:c + ROPE_DIM]
                    y = pl.row_expand_mul(t, inv_rms)
                    q_flat[r:r + T_TILE, c:c + ROPE_DIM] = pl.cast(y, pl.BF16, mode="rint")
                c = h0 + NOPE_DIM
                xr = q_proj_fp32[r:r + T_TILE, c:c + ROPE_DIM]
                swapped = pl.gather(xr, dim=-1, index=swap_idx)
                xc = pl.mul(xr, cos_il)
                if precompute:
                    xs = pl.mul(swapped, sin_signed)
                else:
                    xs = pl.mul(swapped, sign)
                    xs = pl.mul(xs, sin_il)
                y = pl.add(xc, xs)
                y = pl.row_expand_mul(y, inv_rms)
                q_flat[r:r + T_TILE, c:c + ROPE_DIM] = pl.cast(y, pl.BF16, mode="rint")

    # #9 kv_proj_seed
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="kv_proj_seed"):
        for tc in pl.range(n_tc):
            for nb in pl.range(KV_DIM // KV_N_TILE):
                z = pl.full([M_TILE, KV_N_TILE], pl.FP32, 0.0)
                x0, n0 = M_TILE * tc, KV_N_TILE * nb
                kv_fp32[x0:x0 + M_TILE, n0:n0 + KV_N_TILE] = z

    # #10 kv_proj_matmul: kv = x . wkv, split-K over 4 quarters, atomic accumulate
    for b in pl.spmd((KV_DIM // KV_N_TILE) * KV_OK, name_hint="kv_proj_matmul"):
        n0 = KV_N_TILE * (b // KV_OK)
        kb0 = KV_K_SLICE * (b % KV_OK)
        for tc in pl.range(n_tc):
            m0 = M_TILE * tc
            acc = None
            for db in pl.pipeline(KV_K_SLICE // KV_K_TILE, stage=2):
                k = kb0 + KV_K_TILE * db
                a = x_matmul[m0:m0 + M_TILE, k:k + KV_K_TILE]
                w = wkv[k:k + KV_K_TILE, n0:n0 + KV_N_TILE]
                acc = pl.matmul(a, w, out_dtype=pl.FP32) if db == 0 else pl.matmul_acc(acc, a, w)
            pl.assemble(kv_fp32, acc, [m0, n0], atomic=pl.AtomicType.Add)

    # #11 kv_rms_norm_rope: RMSNorm * gamma + NOPE writeback + interleaved RoPE
    for b in pl.spmd(n_tg, name_hint="kv_rms_norm_rope"):
        r = T_TILE * b
        ss = pl.full([1, T_TILE], pl.FP32, 0.0)
        for kb in pl.pipeline(KV_DIM // KV_TILE, stage=2):
            c = KV_TILE * kb
            t = kv_fp32[r:r + T_TILE, c:c + KV_TILE]
            sq = pl.mul(t, t)
            rs = pl.row_sum(sq)
            ss = pl.add(ss, pl.reshape(rs, [1, T_TILE]))
        ms = pl.mul(ss, 1.0 / KV_DIM)
        ms = pl.add(ms, EPS)
        rms = pl.sqrt(ms)
        inv_rms = pl.reshape(pl.recip(rms), [T_TILE, 1])
        for nb in pl.pipeline(NOPE_DIM // KV_TILE, stage=2):
            c = KV_TILE * nb
            t = kv_fp32[r:r + T_TILE, c:c + KV_TILE]
            g = pl.cast(gamma_ckv_row[0:1, c:c + KV_TILE], pl.FP32)
            y = pl.row_expand_mul(t, inv_rms)
            y = pl.col_expand_mul(y, g)
            kv[r:r + T_TILE, c:c + KV_TILE] = pl.cast(y, pl.BF16, mode="rint")
        g = pl.cast(gamma_ckv_row[0:1, NOPE_DIM:KV_DIM], pl.FP32)
        t = kv_fp32[r:r + T_TILE, NOPE_DIM:KV_DIM]
        y = pl.row_expand_mul(t, inv_rms)
        y = pl.col_expand_mul(y, g)
        dup_idx, swap_idx, sign = rope_index_build(T_TILE)
        cos = pl.cast(rope_cos[r:r + T_TILE, 0:ROPE_DIM], pl.FP32)
        cos_il = pl.gather(cos, dim=-1, index=dup_idx)
        sin = pl.cast(rope_sin[r:r + T_TILE, 0:ROPE_DIM], pl.FP32)
        sin_il = pl.gather(sin, dim=-1, index=dup_idx)
        swapped = pl.gather(y, dim=-1, index=swap_idx)
        yc = pl.mul(y, cos_il)
        ys = pl.mul(swapped, sign)
        ys = pl.mul(ys, sin_il)
        out = pl.add(yc, ys)
        kv[r:r + T_TILE, NOPE_DIM:KV_DIM] = pl.cast(out, pl.BF16, mode="rint")


T = pl.dynamic("T")


@pl.jit
def qkv_proj_rope(
    x: pl.Tensor[[T, D], pl.BF16],
    wq_a: pl.Tensor[[D, Q_LORA], pl.BF16],
    wq_b: pl.Tensor[[Q_LORA, H * HEAD_DIM], pl.INT8],
    wq_b_scale: pl.Tensor[[H * HEAD_DIM], pl.FP32],
    wkv: pl.Tensor[[D, KV_DIM], pl.BF16],
    rope_cos: pl.Tensor[[T, ROPE_DIM], pl.BF16],
    rope_sin: pl.Tensor[[T, ROPE_DIM], pl.BF16],
    gamma_cq: pl.Tensor[[Q_LORA], pl.BF16],
    gamma_ckv: pl.Tensor[[KV_DIM], pl.BF16],
    q: pl.Out[pl.Tensor[[T, H, HEAD_DIM], pl.BF16]],
    kv: pl.Out[pl.Tensor[[T, KV_DIM], pl.BF16]],
    qr: pl.Out[pl.Tensor[[T, Q_LORA], pl.INT8]],
    qr_scale: pl.Out[pl.Tensor[[T, 1], pl.FP32]],
    variant: str = "baseline",
) -> None:
    """Standalone entry (the pypto-lib file's test program)."""
    qkv_proj_rope_inline(x, wq_a, wq_b, wq_b_scale, wkv, rope_cos, rope_sin, gamma_cq, gamma_ckv,
                         q, kv, qr, qr_scale, variant=variant)


def build(variant: str = "baseline", mode: str = "decode", **options: Any) -> Any:
    """TaskGraph of the standalone kernel; ``options`` may override ``T``."""
    if mode not in MODES:
        raise UserError(f"qkv_proj_rope: unknown mode {mode!r} (expected one of {', '.join(MODES)})")
    t = int(options.pop("T", MODES[mode]))
    if options:
        raise UserError(f"qkv_proj_rope: unknown option(s) {', '.join(sorted(options))} (known: T)")
    return pl.record(qkv_proj_rope, kernel="qkv_proj_rope", variant=variant, mode=mode, dyn={"T": t},
                     params={"T": t}, args={"variant": variant})
