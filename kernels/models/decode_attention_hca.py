"""DeepSeek-V4 HCA decode attention layer ``decode_attention_hca`` (compress ratio 128).

Mirrors pypto-lib ``models/deepseek/v4/decode_attention_hca.py`` at the commits of
https://github.com/hw-native-sys/pypto-lib/pull/648 (decode, B = 4 requests x S = 2 MTP tokens, T = 8).
Variants: ``baseline`` (9d923d9) and ``precompute`` (bff20f4, PR #648); they differ only in the
inlined ``qkv_proj_rope`` (kernels.models.qkv_proj_rope).

One orchestration program that inlines, in submission order: hc_pre (2 scopes, the second MIX),
hca_rope, rms_norm, qkv_proj_rope (10/11 scopes), the ratio-128 compressor (8 scopes with
explicit deps), hca_overlay_topk, sparse attention (build_valid, the MIX qk_pv, merge_norm, rope_cs,
rope), the manual-dependency grouped output projection (proj_o_pad, proj_a_mm, quant, proj_b_mm
per group/chunk, then proj_b_act), hca_cache_writeback and hc_post.

Data-dependent control flow (softmax_pool / kv_finalize gates, topk contents, qk_pv gather sources)
is resolved by the recording itself: the control inputs of the pypto-lib harness are built by
:func:`default_inputs` and bound to the entry parameters, ``hca_overlay_topk`` writes ``topk_all``
element by element (``pl.write`` updates the bound array) and ``qk_pv`` reads it back.

Builder options: ``gather_edges`` (default True) keeps qk_pv's gather-only sources ``kv`` and
``cmp_kv`` as tracked inputs (edges kv_rms_norm_rope -> qk_pv and kv_finalize -> qk_pv);
False passes them as NoDep arguments. ``start_pos`` gives every batch the same start position
instead of the default pattern.

Modelling choices where the pypto-lib file leaves room:
- softmax_pool's [128, 64] state tiles and rmsnorm_rope's cos/sin rows are filled by loads straight
  into rows of an on-chip tile (``pl.load_into``): one DMA each, no vector copy.
- hc_pre's comb-group ``hc_attn_base`` loads count their 16 valid bytes (the 4th [1,8] window would
  run past the 24-entry tensor), so the AIV lane reads 1026.6 KiB where §11 says "~1027" (tile
  payload basis, errata 5).
- ``attn_rope_stage`` ([512, 64] FP32 in the source) is allocated as [8, 64, 64], the shape both
  users address, so the rope loads are exact 8-row strided boxes (same bytes, same dependencies).
- The orchestrator's three ``hc_attn_scale`` reads are plain values (no task, no op).

The module is one kernel's model, kept whole (over 500 lines) so it reads in the pypto-lib file's submission order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import kernels.language as pl
from kernels.models.qkv_proj_rope import qkv_proj_rope_inline
from sim.util.errors import UserError

# ---- layer constants (pypto-lib config.py) ------------------------------------------------------
B = 4
S = 2
T = B * S
D = 4096
H = 64
HEAD_DIM = 512
ROPE = 64
NOPE = HEAD_DIM - ROPE
Q_LORA = 1024
WIN = 128
BLOCK_SIZE = 128
COMPRESS_RATIO = 128
MAX_SEQ_LEN = 8192
ORI_MAX_BLOCKS, ORI_BLOCK_NUM = 1, 4
CMP_MAX_BLOCKS, CMP_BLOCK_NUM = 8, 32
STATE_MAX_BLOCKS, STATE_BLOCK_NUM, STATE_BLOCK_SIZE = 64, 256, 8
STATE_DIM = 1024
CMP_TOPK = MAX_SEQ_LEN // COMPRESS_RATIO  # 64
HCA_TOPK_LIMIT = min(CMP_TOPK, 512)  # 64
TOPK = WIN + S + HCA_TOPK_LIMIT  # 194
SPARSE_BLOCKS = max(2, -(-TOPK // 128))  # 2
PADDED_TOPK = SPARSE_BLOCKS * 128  # 256
SOFTMAX_SCALE = HEAD_DIM ** -0.5
O_LORA, O_GROUPS = 1024, 8
HEADS_PER_GROUP = H // O_GROUPS  # 8
O_GROUP_IN = HEADS_PER_GROUP * HEAD_DIM  # 4096
EPS = 1e-6
HC_EPS = 1e-6
NEG_INF = -1e20
T_MAX = 128

# hc_pre / hc_post
HC_MULT = 4
HC_DIM = HC_MULT * D  # 16384
MIX_HC, MIX_PAD, HC_PAD = 24, 32, 8
HC_T_TILE = 8
LINEAR_T_TILE, LINEAR_K_TILE = 16, 256
HC_D_TILE = 256
SINKHORN_ITERS = 20
MIX_RAW_ROWS = 256

# rms_norm
RMS_D_TILE = 128

# compressor_ratio128
CMP_OUT = 512
CMP_K_TILE = 512
CMP_OUT_TILE = 64
CMP_HEAD_TILE = 64
STATE_LEN = 128

# sparse_attn_hca
H_TILE = 16
QK_M_TILE = 32
A_K_TILE = 256
PA_N_TILE = 128
PA_NFRAGS = O_LORA // PA_N_TILE  # 8
MM_T_TILE = 16
B_K_TILE = 256
PB_N_TILE = 256
PB_D_CHUNK = 1024
PB_DCHUNKS = D // PB_D_CHUNK  # 4
PB_ACT_N_TILE = 512
QUANT_TILE = 512

VARIANTS = ["baseline", "precompute"]
MODES = ["decode"]
START_PATTERN = (10, 126, 127, 128, 254, 383)


# ---- default control inputs (as the pypto-lib harness builds them) ------------------------------
def default_inputs(start_pos: int | None = None) -> dict[str, np.ndarray]:
    """Control tensors of the test (positions, block tables, slot mappings) as numpy arrays.

    ``start_pos`` None = the first B entries of the default start pattern; an int = that start for
    every batch (the test's ``--start-pos``).
    """
    starts = [START_PATTERN[b] if start_pos is None else int(start_pos) for b in range(B)]
    pos = np.array([starts[b] + s for b in range(B) for s in range(S)], dtype=np.int32)
    kv_seq_lens = np.array([st + S for st in starts], dtype=np.int32)
    ori_bt = np.arange(B, dtype=np.int32).reshape(B, ORI_MAX_BLOCKS)
    cmp_bt = np.arange(B * CMP_MAX_BLOCKS, dtype=np.int32).reshape(B, CMP_MAX_BLOCKS)
    state_bt = np.arange(B * STATE_MAX_BLOCKS, dtype=np.int32).reshape(B, STATE_MAX_BLOCKS)
    ori_slot = np.zeros(T, dtype=np.int64)
    cmp_slot = np.zeros(T, dtype=np.int64)
    state_slot = np.zeros(T, dtype=np.int64)
    for t in range(T):
        b, p = t // S, int(pos[t])
        ori_slot[t] = BLOCK_SIZE * ori_bt[b, 0] + p % BLOCK_SIZE
        if (p + 1) % COMPRESS_RATIO == 0:
            cp = p // COMPRESS_RATIO
            cmp_slot[t] = BLOCK_SIZE * cmp_bt[b, cp // BLOCK_SIZE] + cp % BLOCK_SIZE
        else:
            cmp_slot[t] = -1
        state_slot[t] = STATE_BLOCK_SIZE * state_bt[b, p // STATE_BLOCK_SIZE] + p % STATE_BLOCK_SIZE
    return {
        "position_ids": pos,
        "kv_seq_lens": kv_seq_lens,
        "ori_block_table": ori_bt,
        "cmp_block_table": cmp_bt,
        "compress_state_block_table": state_bt,
        "ori_slot_mapping": ori_slot,
        "cmp_slot_mapping": cmp_slot,
        "state_slot_mapping": state_slot,
        "hc_attn_scale": np.array([1.0, 1.0, 1.0], dtype=np.float32),
    }


# ---- shared in-kernel helpers -----------------------------------------------------------------
@pl.jit.inline
def _rope_tables16(rows: int, cols: int, signed: bool) -> tuple[Any, Any]:
    """13-op index build on [rows, cols]: (dup_idx, sign) if ``signed`` else (swap_idx, None)."""
    ones = pl.full([rows, cols], pl.FP32, 1.0)
    lane_i = pl.arange(0, [1, cols], pl.INT32)
    lane_f = pl.cast(lane_i, pl.FP32)
    col = pl.col_expand_mul(ones, lane_f)
    half = pl.mul(col, 0.5)
    half_i = pl.cast(half, pl.INT32, mode="trunc")
    dup = pl.cast(half_i, pl.FP32)
    if signed:  # rope_cs: dup index + conjugate sign (+1 even, -1 odd)
        dup_idx = pl.cast(dup, pl.INT32)
        dup2 = pl.mul(dup, 2.0)
        lane = pl.sub(col, dup2)
        lane2 = pl.mul(lane, 2.0)
        sg = pl.sub(lane2, 1.0)
        return dup_idx, pl.neg(sg)
    dup2 = pl.mul(dup, 2.0)  # rope: swap index j xor 1
    lane = pl.sub(col, dup2)
    colp1 = pl.add(col, 1.0)
    lane2 = pl.mul(lane, 2.0)
    swap = pl.sub(colp1, lane2)
    return pl.cast(swap, pl.INT32), None


@pl.jit.inline
def _rope_index16(rows: int) -> tuple[Any, Any, Any]:
    """16-op index/sign build on [rows, 64] (qkv_proj_rope.md #7 step 1): dup_idx, swap_idx, sign."""
    ones = pl.full([rows, ROPE], pl.FP32, 1.0)
    lane_i = pl.arange(0, [1, ROPE], pl.INT32)
    lane_f = pl.cast(lane_i, pl.FP32)
    col = pl.col_expand_mul(ones, lane_f)
    half = pl.mul(col, 0.5)
    half_i = pl.cast(half, pl.INT32, mode="trunc")
    dup = pl.cast(half_i, pl.FP32)
    dup_idx = pl.cast(dup, pl.INT32)
    dup2 = pl.mul(dup, 2.0)
    lane = pl.sub(col, dup2)
    lane2 = pl.mul(lane, 2.0)
    sign = pl.sub(lane2, 1.0)
    colp1 = pl.add(col, 1.0)
    lane2b = pl.mul(lane, 2.0)
    swap = pl.sub(colp1, lane2b)
    return dup_idx, pl.cast(swap, pl.INT32), sign


# ---- hc_pre (§7.1, §7.2) ------------------------------------------------------------------------
@pl.jit.inline
def hc_pre_inline(x_hc: Any, hc_attn_fn: Any, hc_attn_scale: Any, hc_attn_base: Any, x_mixed: Any,
                  post_t: Any, comb_t: Any) -> None:
    """hc_pre_x_matmul_pad (AIV) then the MIX hc_pre scope."""
    hc_xmm = pl.create_tensor([T_MAX, HC_DIM], pl.BF16, name="hc_x_matmul")
    mixes_gm = pl.create_tensor([T_MAX, MIX_PAD], pl.FP32, name="mixes_gm")
    mix_raw_gm = pl.create_tensor([MIX_RAW_ROWS, MIX_PAD], pl.FP32, name="mix_raw_gm")
    x_flat = pl.reshape(x_hc, [T, HC_DIM])
    base_row = pl.reshape(hc_attn_base, [1, MIX_HC])
    n_kb = HC_DIM // LINEAR_K_TILE

    for _b in pl.spmd(max(T, LINEAR_T_TILE) // LINEAR_T_TILE, name_hint="hc_pre_x_matmul_pad"):
        for kb in pl.range(n_kb):
            k = kb * LINEAR_K_TILE
            xt = pl.slice(x_flat, [LINEAR_T_TILE, LINEAR_K_TILE], [0, k], valid_shape=[T, LINEAR_K_TILE])
            xt = pl.fillpad(xt, pad_value=pl.PadValue.zero)
            hc_xmm[0:LINEAR_T_TILE, k:k + LINEAR_K_TILE] = xt

    # the orchestrator reads the three scales and passes them as scalars
    s0 = pl.read(hc_attn_scale, [0])
    s1 = pl.read(hc_attn_scale, [1])
    s2 = pl.read(hc_attn_scale, [2])

    for _b in pl.spmd(T // HC_T_TILE, name_hint="hc_pre"):
        sq_acc = pl.full([1, HC_T_TILE], pl.FP32, 0.0)
        acc = None
        for kb in pl.pipeline(n_kb, stage=2):
            k = kb * LINEAR_K_TILE
            xt = pl.cast(x_flat[0:T, k:k + LINEAR_K_TILE], pl.FP32)
            xm = pl.cast(hc_xmm[0:LINEAR_T_TILE, k:k + LINEAR_K_TILE], pl.FP32)
            w = pl.slice(hc_attn_fn, [MIX_PAD, LINEAR_K_TILE], [0, k], valid_shape=[MIX_HC, LINEAR_K_TILE])
            acc = pl.matmul(xm, w, b_trans=True) if kb == 0 else pl.matmul_acc(acc, xm, w, b_trans=True)
            sq = pl.mul(xt, xt)
            rs = pl.row_sum(sq)
            sq_acc = pl.add(sq_acc, pl.reshape(rs, [1, HC_T_TILE]))
        mix_raw_gm[0:LINEAR_T_TILE, 0:MIX_PAD] = acc
        ms = pl.mul(sq_acc, 1.0 / HC_DIM)
        ms = pl.add(ms, HC_EPS)
        inv_rms = pl.reshape(pl.rsqrt(ms, high_precision=True), [HC_T_TILE, 1])
        raw = mix_raw_gm[0:HC_T_TILE, 0:MIX_PAD]
        mixes = pl.row_expand_mul(raw, inv_rms)
        mixes_gm[0:HC_T_TILE, 0:MIX_PAD] = mixes
        base_pre = base_row[0:1, 0:HC_PAD]
        base_post = base_row[0:1, HC_MULT:HC_MULT + HC_PAD]
        # pre = sigmoid(mix * s0 + base) + eps
        pre = mixes_gm[0:HC_T_TILE, 0:HC_PAD]
        pre = pl.mul(pre, s0)
        pre = pl.add(pre, pl.col_expand(pre, base_pre))
        pre = pl.neg(pre)
        pre = pl.exp(pre)
        pre = pl.add(pre, 1.0)
        pre = pl.recip(pre)
        pre = pl.add(pre, HC_EPS)
        # post = 2 * sigmoid(mix * s1 + base)
        post = mixes_gm[0:HC_T_TILE, HC_MULT:HC_MULT + HC_PAD]
        post = pl.mul(post, s1)
        post = pl.add(post, pl.col_expand(post, base_post))
        post = pl.neg(post)
        post = pl.exp(post)
        post = pl.add(post, 1.0)
        post = pl.recip(post)
        post = pl.mul(post, 2.0)
        post_t[0:HC_T_TILE, 0:HC_MULT] = post
        # per-stream scale columns
        pre_t = pl.transpose(pre, 0, 1)
        pre_cols = [pl.mul(pl.reshape(pre_t[h:h + 1, :], [HC_T_TILE, 1]), 1.0) for h in range(HC_MULT)]
        # x_mixed = sum_h pre[h] * x[h]
        for db in pl.range(D // HC_D_TILE):
            d = db * HC_D_TILE
            xs = [pl.cast(x_flat[0:T, D * h + d:D * h + d + HC_D_TILE], pl.FP32) for h in range(HC_MULT)]
            ys = [pl.row_expand_mul(xs[h], pre_cols[h]) for h in range(HC_MULT)]
            y = pl.add(ys[0], ys[1])
            y = pl.add(y, ys[2])
            y = pl.add(y, ys[3])
            x_mixed[0:T, d:d + HC_D_TILE] = pl.cast(y, pl.BF16, mode="rint")
        # comb: softmax + Sinkhorn on a 4x4 matrix per token (group i = row i of the matrix)
        groups = []
        for i in range(HC_MULT):
            c0 = 2 * HC_MULT + HC_MULT * i
            g = mixes_gm[0:HC_T_TILE, c0:c0 + HC_PAD]
            g = pl.set_validshape(g, HC_T_TILE, HC_MULT)
            bi = pl.slice(base_row, [1, HC_PAD], [0, c0], valid_shape=[1, HC_MULT])
            g = pl.mul(g, s2)
            g = pl.add(g, pl.col_expand(g, bi))
            groups.append(g)
        groups = [pl.fillpad(g, pad_value=pl.PadValue.min) for g in groups]
        mx = [pl.row_max(g) for g in groups]
        groups = [pl.row_expand_sub(g, m) for g, m in zip(groups, mx, strict=True)]
        groups = [pl.exp(g) for g in groups]
        sm = [pl.row_sum(g) for g in groups]
        groups = [pl.row_expand_div(g, s) for g, s in zip(groups, sm, strict=True)]
        groups = [pl.add(g, HC_EPS) for g in groups]
        groups = [pl.fillpad(pl.set_validshape(g, HC_T_TILE, HC_MULT), pad_value=pl.PadValue.zero)
                  for g in groups]
        cs = pl.add(groups[0], groups[1])
        cs = pl.add(cs, groups[2])
        cs = pl.add(cs, groups[3])
        cs = pl.add(cs, HC_EPS)
        groups = [pl.div(g, cs) for g in groups]
        for _it in pl.pipeline(SINKHORN_ITERS - 1, stage=2):
            rsum = [pl.row_sum(g) for g in groups]
            rsum = [pl.add(r, HC_EPS) for r in rsum]
            groups = [pl.row_expand_div(g, r) for g, r in zip(groups, rsum, strict=True)]
            cs = pl.add(groups[0], groups[1])
            cs = pl.add(cs, groups[2])
            cs = pl.add(cs, groups[3])
            cs = pl.add(cs, HC_EPS)
            groups = [pl.div(g, cs) for g in groups]
        for i in range(HC_MULT):
            comb_t[0:HC_T_TILE, HC_MULT * i:HC_MULT * i + HC_MULT] = groups[i]


# ---- hca_rope (§7.3) and rms_norm (§7.4) --------------------------------------------------------
@pl.jit.inline
def hca_rope_inline(position_ids: Any, freqs_cos: Any, freqs_sin: Any, rope_cos_t: Any, rope_sin_t: Any,
                    cmp_cos: Any, cmp_sin: Any) -> None:
    """Single-block gather of RoPE rows by position (per-token rows and compressed rows)."""
    half = ROPE // 2
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="hca_rope"):
        for b in pl.range(B):
            p = pl.read(position_ids, [S * b])
            r = p - p % COMPRESS_RATIO
            cmp_cos[b:b + 1, 0:half] = pl.cast(freqs_cos[r:r + 1, 0:half], pl.FP32)
            cmp_sin[b:b + 1, 0:half] = pl.cast(freqs_sin[r:r + 1, 0:half], pl.FP32)
            for s in pl.range(S):
                t = S * b + s
                pt = pl.read(position_ids, [t])
                c = pl.cast(pl.cast(freqs_cos[pt:pt + 1, 0:ROPE], pl.FP32), pl.BF16, mode="rint")
                rope_cos_t[t:t + 1, 0:ROPE] = c
                sn = pl.cast(pl.cast(freqs_sin[pt:pt + 1, 0:ROPE], pl.FP32), pl.BF16, mode="rint")
                rope_sin_t[t:t + 1, 0:ROPE] = sn


@pl.jit.inline
def rms_norm_inline(x_mixed: Any, attn_norm_w: Any, x_normed: Any) -> None:
    """Attention RMSNorm over D = 4096 in [8,128] tiles."""
    w_row = pl.reshape(attn_norm_w, [1, D])
    n_d = D // RMS_D_TILE
    for _b in pl.spmd(T // HC_T_TILE, name_hint="rms_norm"):
        acc = pl.full([1, HC_T_TILE], pl.FP32, 0.0)
        for i in pl.pipeline(n_d, stage=2):
            d = i * RMS_D_TILE
            xt = pl.cast(x_mixed[0:T, d:d + RMS_D_TILE], pl.FP32)
            sq = pl.mul(xt, xt)
            acc = pl.add(acc, pl.reshape(pl.row_sum(sq), [1, HC_T_TILE]))
        acc = pl.mul(acc, 1.0 / D)
        acc = pl.add(acc, EPS)
        acc = pl.sqrt(acc)
        inv = pl.reshape(pl.recip(acc), [HC_T_TILE, 1])
        for i in pl.pipeline(n_d, stage=2):
            d = i * RMS_D_TILE
            xt = pl.cast(x_mixed[0:T, d:d + RMS_D_TILE], pl.FP32)
            wt = pl.cast(w_row[0:1, d:d + RMS_D_TILE], pl.FP32)
            y = pl.row_expand_mul(xt, inv)
            y = pl.col_expand_mul(y, wt)
            x_normed[0:T, d:d + RMS_D_TILE] = pl.cast(y, pl.BF16, mode="rint")


# ---- compressor_ratio128 (§7.6 - §7.13) ---------------------------------------------------------
@pl.jit.inline
def compressor_inline(x_normed: Any, cmp_wkv: Any, cmp_wgate: Any, cmp_ape: Any, cmp_norm_w: Any,
                      compress_state: Any, state_block_table: Any, position_ids: Any,
                      state_slot_mapping: Any, cmp_slot_mapping: Any, cmp_cos: Any, cmp_sin: Any,
                      cmp_kv: Any) -> Any:
    """The ratio-128 KV compressor: 8 scopes; returns the kv_finalize task handle."""
    cmp_xmm = pl.create_tensor([MM_T_TILE, D], pl.BF16, name="cmp_x_matmul")
    kv_proj_pad = pl.create_tensor([MM_T_TILE, CMP_OUT], pl.FP32, name="kv_proj_pad")
    score_proj_pad = pl.create_tensor([MM_T_TILE, CMP_OUT], pl.FP32, name="score_proj_pad")
    kv_proj_scratch = pl.create_tensor([T, CMP_OUT], pl.FP32, name="kv_proj_scratch")
    score_proj_scratch = pl.create_tensor([T, CMP_OUT], pl.FP32, name="score_proj_scratch")
    pooled_kv = pl.create_tensor([MM_T_TILE, CMP_OUT], pl.FP32, name="pooled_kv")
    normed_kv = pl.create_tensor([MM_T_TILE, CMP_OUT], pl.FP32, name="normed_kv")
    cmp_kv_proj = pl.create_tensor([B, S, CMP_OUT], pl.FP32, name="cmp_kv_proj")
    kv_scr_b = pl.reshape(kv_proj_scratch, [B, S * CMP_OUT])
    score_scr_b = pl.reshape(score_proj_scratch, [B, S * CMP_OUT])
    state_flat = pl.reshape(compress_state, [STATE_BLOCK_NUM, STATE_BLOCK_SIZE * STATE_DIM])
    cmp_kv_flat = pl.reshape(cmp_kv, [CMP_BLOCK_NUM * BLOCK_SIZE, CMP_OUT])
    cmp_kv_proj_rows = pl.reshape(cmp_kv_proj, [B * S, CMP_OUT])
    norm_w_row = pl.reshape(cmp_norm_w, [1, CMP_OUT])

    # #16 kv_score_x_pad
    for _b in pl.spmd(max(T, MM_T_TILE) // MM_T_TILE, name_hint="kv_score_x_pad"):
        for kb in pl.pipeline(D // CMP_K_TILE, stage=2):
            k = kb * CMP_K_TILE
            xt = pl.slice(x_normed, [MM_T_TILE, CMP_K_TILE], [0, k], valid_shape=[T, CMP_K_TILE])
            xt = pl.fillpad(xt, pad_value=pl.PadValue.zero)
            cmp_xmm[0:MM_T_TILE, k:k + CMP_K_TILE] = xt

    # #17 kv_score_proj: kv and score projections (B transposed)
    for b in pl.spmd(MM_T_TILE * CMP_OUT // (MM_T_TILE * CMP_OUT_TILE), name_hint="kv_score_proj"):
        o0 = CMP_OUT_TILE * b
        kv_acc = None
        sc_acc = None
        for kb in pl.pipeline(D // CMP_K_TILE, stage=2):
            k = kb * CMP_K_TILE
            a = cmp_xmm[0:MM_T_TILE, k:k + CMP_K_TILE]
            wk = cmp_wkv[o0:o0 + CMP_OUT_TILE, k:k + CMP_K_TILE]
            wg = cmp_wgate[o0:o0 + CMP_OUT_TILE, k:k + CMP_K_TILE]
            if kb == 0:
                kv_acc = pl.matmul(a, wk, b_trans=True)
                sc_acc = pl.matmul(a, wg, b_trans=True)
            else:
                kv_acc = pl.matmul_acc(kv_acc, a, wk, b_trans=True)
                sc_acc = pl.matmul_acc(sc_acc, a, wg, b_trans=True)
        kv_proj_pad[0:MM_T_TILE, o0:o0 + CMP_OUT_TILE] = kv_acc
        score_proj_pad[0:MM_T_TILE, o0:o0 + CMP_OUT_TILE] = sc_acc

    # #18 kv_score_unpad: copy the 8 real rows out of the padded results
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="kv_score_unpad"):
        for ob in pl.pipeline(CMP_OUT // CMP_OUT_TILE, stage=2):
            o0 = ob * CMP_OUT_TILE
            for row in pl.range(T):
                kv_proj_scratch[row:row + 1, o0:o0 + CMP_OUT_TILE] = kv_proj_pad[row:row + 1, o0:o0 + CMP_OUT_TILE]
                score_proj_scratch[row:row + 1, o0:o0 + CMP_OUT_TILE] = \
                    score_proj_pad[row:row + 1, o0:o0 + CMP_OUT_TILE]

    # #19 state_scatter_pre: this step's kv and score(+ape) rows into the paged state
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="state_scatter_pre") as ssp_tid:
        for b in pl.range(B):
            for s in pl.pipeline(S, stage=2):
                t = S * b + s
                p = pl.read(position_ids, [t])
                row = pl.read(state_slot_mapping, [t])
                blk, slot = row // STATE_BLOCK_SIZE, row % STATE_BLOCK_SIZE
                ape = cmp_ape[p % STATE_LEN:p % STATE_LEN + 1, 0:CMP_OUT]
                kvr = kv_scr_b[b:b + 1, CMP_OUT * s:CMP_OUT * (s + 1)]
                scr = score_scr_b[b:b + 1, CMP_OUT * s:CMP_OUT * (s + 1)]
                scr = pl.add(scr, ape)
                c0 = STATE_DIM * slot
                state_flat[blk:blk + 1, c0:c0 + CMP_OUT] = kvr
                state_flat[blk:blk + 1, c0 + CMP_OUT:c0 + 2 * CMP_OUT] = scr

    # #20 pooled_pad_init: zero the pad rows 4..15 of pooled_kv
    with pl.spmd(MM_T_TILE * CMP_OUT // (MM_T_TILE * CMP_HEAD_TILE), name_hint="pooled_pad_init") as ppi_tid:
        _pooled_pad_init_body(pl.get_block_idx(), pooled_kv)

    # #21 softmax_pool: gated softmax pooling over the 128-slot state window
    with pl.spmd(B * CMP_OUT // CMP_HEAD_TILE, name_hint="softmax_pool", deps=[ssp_tid, ppi_tid]) as sp_tid:
        _softmax_pool_body(pl.get_block_idx(), position_ids, state_block_table, compress_state, pooled_kv)

    # #22 rmsnorm_rope
    with pl.spmd(B // 4, name_hint="rmsnorm_rope", deps=[sp_tid]) as rr_tid:
        _rmsnorm_rope_body(pooled_kv, norm_w_row, cmp_cos, cmp_sin, normed_kv)

    # #23 kv_finalize
    with pl.spmd(B // 4, name_hint="kv_finalize", deps=[rr_tid]) as kf_tid:
        _kv_finalize_body(position_ids, cmp_slot_mapping, normed_kv, cmp_kv_proj_rows, cmp_kv_flat)
    return kf_tid


def _pooled_pad_init_body(b: int, pooled_kv: Any) -> None:
    h0 = CMP_HEAD_TILE * b
    z = pl.full([MM_T_TILE - B, CMP_HEAD_TILE], pl.FP32, 0.0)
    pooled_kv[B:MM_T_TILE, h0:h0 + CMP_HEAD_TILE] = z


def _softmax_pool_body(b: int, position_ids: Any, state_block_table: Any, state: Any,
                       pooled_kv: Any) -> None:
    c = b // (CMP_OUT // CMP_HEAD_TILE)
    h0 = CMP_HEAD_TILE * (b % (CMP_OUT // CMP_HEAD_TILE))
    p = pl.read(position_ids, [S * c])
    if p % COMPRESS_RATIO + S < COMPRESS_RATIO:
        return  # no compression boundary in this batch's step
    score = pl.create_tensor([STATE_LEN, CMP_HEAD_TILE], pl.FP32)
    kvs = pl.create_tensor([STATE_LEN, CMP_HEAD_TILE], pl.FP32)
    for s in pl.pipeline(STATE_LEN, stage=2):
        p = pl.read(position_ids, [S * c])
        q = p + (COMPRESS_RATIO - 1) - p % COMPRESS_RATIO - (STATE_LEN - 1) + s
        blk = pl.read(state_block_table, [c, q // STATE_BLOCK_SIZE])
        slot = q % STATE_BLOCK_SIZE
        score = pl.load_into(score, pl.view(state, [1, 1, CMP_HEAD_TILE], [blk, slot, CMP_OUT + h0]), [s, 0])
        kvs = pl.load_into(kvs, pl.view(state, [1, 1, CMP_HEAD_TILE], [blk, slot, h0]), [s, 0])
    sc_t = pl.transpose(score, 0, 1)
    kv_t = pl.transpose(kvs, 0, 1)
    m = pl.row_max(sc_t)
    e = pl.row_expand_sub(sc_t, m)
    e = pl.exp(e)
    den = pl.row_sum(e)
    prob = pl.row_expand_div(e, den)
    wkv = pl.mul(kv_t, prob)
    pooled = pl.reshape(pl.row_sum(wkv), [1, CMP_HEAD_TILE])
    pooled_kv[c:c + 1, h0:h0 + CMP_HEAD_TILE] = pooled


def _rmsnorm_rope_body(pooled_kv: Any, norm_w_row: Any, cmp_cos: Any, cmp_sin: Any, normed_kv: Any) -> None:
    half = ROPE // 2
    rows = MM_T_TILE
    cos_b = pl.full([rows, half], pl.FP32, 0.0)
    sin_b = pl.full([rows, half], pl.FP32, 0.0)
    cos_b = pl.load_into(cos_b, pl.view(cmp_cos, [B, half], [0, 0]), [0, 0])
    sin_b = pl.load_into(sin_b, pl.view(cmp_sin, [B, half], [0, 0]), [0, 0])
    acc = pl.full([1, rows], pl.FP32, 0.0)
    n_c = CMP_OUT // CMP_HEAD_TILE
    for i in pl.pipeline(n_c, stage=2):
        xt = pooled_kv[0:rows, CMP_HEAD_TILE * i:CMP_HEAD_TILE * (i + 1)]
        sq = pl.mul(xt, xt)
        acc = pl.add(acc, pl.reshape(pl.row_sum(sq), [1, rows]))
    acc = pl.mul(acc, 1.0 / CMP_OUT)
    acc = pl.add(acc, EPS)
    acc = pl.sqrt(acc)
    inv = pl.reshape(pl.recip(acc), [rows, 1])
    for i in pl.pipeline(NOPE // CMP_HEAD_TILE, stage=2):
        c0 = CMP_HEAD_TILE * i
        xt = pooled_kv[0:rows, c0:c0 + CMP_HEAD_TILE]
        wt = pl.cast(norm_w_row[0:1, c0:c0 + CMP_HEAD_TILE], pl.FP32)
        y = pl.row_expand_mul(xt, inv)
        y = pl.col_expand_mul(y, wt)
        normed_kv[0:rows, c0:c0 + CMP_HEAD_TILE] = y
    xt = pooled_kv[0:rows, NOPE:CMP_OUT]
    wt = pl.cast(norm_w_row[0:1, NOPE:CMP_OUT], pl.FP32)
    y = pl.row_expand_mul(xt, inv)
    y = pl.col_expand_mul(y, wt)
    dup_idx, swap_idx, sign = _rope_index16(rows)
    cos_il = pl.gather(cos_b, index=dup_idx)
    sin_il = pl.gather(sin_b, index=dup_idx)
    sw = pl.gather(y, index=swap_idx)
    a = pl.mul(y, cos_il)
    bb = pl.mul(sw, sign)
    bb = pl.mul(bb, sin_il)
    normed_kv[0:rows, NOPE:CMP_OUT] = pl.add(a, bb)


def _kv_finalize_body(position_ids: Any, cmp_slot_mapping: Any, normed_kv: Any, cmp_kv_proj_rows: Any,
                      cmp_kv_flat: Any) -> None:
    for c in pl.range(B):
        p = pl.read(position_ids, [S * c])
        if p % COMPRESS_RATIO + S >= COMPRESS_RATIO:
            s_b = COMPRESS_RATIO - 1 - p % COMPRESS_RATIO
            row_t = normed_kv[c:c + 1, 0:CMP_OUT]
            cmp_kv_proj_rows[S * c:S * c + 1, 0:CMP_OUT] = row_t
            row = pl.read(cmp_slot_mapping, [S * c + s_b])
            if row >= 0:
                cmp_kv_flat[row:row + 1, 0:CMP_OUT] = pl.cast(row_t, pl.BF16, mode="rint")


# ---- hca_overlay_topk (§7.14) --------------------------------------------------------------------
@pl.jit.inline
def hca_overlay_topk_inline(position_ids: Any, kv_seq_lens: Any, topk_all: Any) -> None:
    """Scalar-only build of the sparse index table topk_all [8, 256] INT32."""
    for _b in pl.spmd(T // HC_T_TILE, name_hint="hca_overlay_topk"):
        for t in pl.range(T):
            b, s = t // S, t % S
            p = pl.read(position_ids, [t])
            for k in pl.range(WIN):
                v = -1
                if k <= p:
                    v = k
                    for s2 in pl.range(s + 1):
                        ps = pl.read(position_ids, [S * b + s2])
                        if k == ps % WIN:
                            v = -1
                pl.write(topk_all, [t, k], v)
            for s2 in pl.range(S):
                pl.write(topk_all, [t, WIN + s2], WIN + s2 if s2 <= s else -1)
            seq = pl.read(kv_seq_lens, [b])
            n = min(HCA_TOPK_LIMIT, (p + 1) // COMPRESS_RATIO, seq // COMPRESS_RATIO)
            for ck in pl.range(PADDED_TOPK - WIN - S):
                pl.write(topk_all, [t, WIN + S + ck], WIN + S + ck if ck < n else -1)


# ---- sparse_attn_hca (§7.15 - §7.24) -------------------------------------------------------------
def _qk_pv_body(t: int, ori_block_table: Any, cmp_block_table: Any, topk_all: Any, kv_flat: Any, kv: Any,
                cmp_kv_flat: Any, q_flat: Any, sparse_bias: Any, blk_mi: Any, blk_li: Any,
                blk_oi: Any) -> None:
    b = t // S
    page = pl.read(ori_block_table, [b, 0])
    base = BLOCK_SIZE * page
    kv_tiles = [kv_flat[base:base + BLOCK_SIZE, 0:HEAD_DIM]]  # sparse block 0: direct window slice
    l1 = pl.create_l1([BLOCK_SIZE, HEAD_DIM], pl.BF16)
    for r in pl.range(BLOCK_SIZE):  # sparse block 1: overlay / compressed / fallback rows
        if BLOCK_SIZE + r < TOPK:
            idx = pl.read(topk_all, [t, BLOCK_SIZE + r])
            if idx < 0:
                l1 = pl.gather_row(l1, kv_flat, [r, 0], [0, 0], [1, HEAD_DIM])
            elif idx < WIN:
                l1 = pl.gather_row(l1, kv_flat, [r, 0], [base + idx, 0], [1, HEAD_DIM])
            elif idx < WIN + S:
                l1 = pl.gather_row(l1, kv, [r, 0], [S * b + idx - WIN, 0], [1, HEAD_DIM])
            else:
                cidx = idx - WIN - S
                cblk = pl.read(cmp_block_table, [b, cidx // BLOCK_SIZE])
                l1 = pl.gather_row(l1, cmp_kv_flat, [r, 0], [BLOCK_SIZE * cblk + cidx % BLOCK_SIZE, 0],
                                   [1, HEAD_DIM])
    kv_tiles.append(l1)
    for sb in range(SPARSE_BLOCKS):
        kvt = kv_tiles[sb]
        bias_row = sparse_bias[t:t + 1, 128 * sb:128 * (sb + 1)]
        for hb in pl.pipeline(H // QK_M_TILE, stage=2):
            qt = q_flat[H * t + QK_M_TILE * hb:H * t + QK_M_TILE * (hb + 1), 0:HEAD_DIM]
            scores = pl.matmul(qt, kvt, b_trans=True)
            sc = pl.mul(scores, SOFTMAX_SCALE)
            bias = pl.full([QK_M_TILE, 128], pl.FP32, 0.0)
            bias = pl.col_expand(bias, bias_row)
            sc = pl.add(sc, bias)
            mi = pl.row_max(sc)
            e = pl.row_expand_sub(sc, mi)
            e = pl.exp(e)
            li = pl.row_sum(e)
            prob = pl.cast(e, pl.BF16, mode="rint")
            oi = pl.matmul(prob, kvt)
            for sub in range(QK_M_TILE // H_TILE):
                r0 = 128 * t + 32 * (2 * hb + sub) + 16 * sb
                blk_oi[r0:r0 + H_TILE, 0:HEAD_DIM] = oi[H_TILE * sub:H_TILE * (sub + 1), :]
            for sub in range(QK_M_TILE // H_TILE):
                r0 = 128 * t + 32 * (2 * hb + sub) + 16 * sb
                blk_mi[r0:r0 + H_TILE, 0:1] = mi[H_TILE * sub:H_TILE * (sub + 1), :]
                blk_li[r0:r0 + H_TILE, 0:1] = li[H_TILE * sub:H_TILE * (sub + 1), :]


def _merge_norm_body(t: int, blk_mi: Any, blk_li: Any, blk_oi: Any, attn_sink: Any, attn_rope_stage: Any,
                     o_packed: Any) -> None:
    for hi in pl.range(H // H_TILE):
        h0 = H_TILE * hi
        r = 128 * t + 32 * hi
        mi0, li0, oi0 = blk_mi[r:r + 16, 0:1], blk_li[r:r + 16, 0:1], blk_oi[r:r + 16, 0:HEAD_DIM]
        mi1, li1, oi1 = blk_mi[r + 16:r + 32, 0:1], blk_li[r + 16:r + 32, 0:1], blk_oi[r + 16:r + 32, 0:HEAD_DIM]
        m = pl.maximum(mi0, mi1)
        al = pl.exp(pl.sub(mi0, m))
        be = pl.exp(pl.sub(mi1, m))
        li = pl.add(pl.mul(al, li0), pl.mul(be, li1))
        o = pl.add(pl.row_expand_mul(oi0, al), pl.row_expand_mul(oi1, be))
        sink = pl.reshape(attn_sink[h0:h0 + H_TILE], [H_TILE, 1])
        z = pl.sub(m, m)
        sk = pl.add(z, sink)
        d = pl.exp(pl.sub(sk, m))
        den = pl.add(li, d)
        o = pl.row_expand_div(o, den)
        ob = pl.cast(o, pl.BF16, mode="rint")
        attn_rope_stage[t, h0:h0 + H_TILE, 0:ROPE] = o[:, NOPE:HEAD_DIM]
        for n in pl.range(H_TILE):
            gh = h0 + n
            g, hh = gh // HEADS_PER_GROUP, gh % HEADS_PER_GROUP
            o_packed[T * g + t:T * g + t + 1, HEAD_DIM * hh:HEAD_DIM * hh + NOPE] = ob[n:n + 1, 0:NOPE]


def _rope_cs_body(c: int, rope_cos_t: Any, rope_sin_t: Any, rope_cos_il: Any, rope_sin_signed: Any) -> None:
    dup_idx, sign = _rope_tables16(T, 32, True)
    cos = pl.cast(rope_cos_t[0:T, 16 * c:16 * (c + 1)], pl.FP32)
    sin = pl.cast(rope_sin_t[0:T, 16 * c:16 * (c + 1)], pl.FP32)
    rope_cos_il[0:T, 32 * c:32 * (c + 1)] = pl.gather(cos, index=dup_idx)
    rope_sin_signed[0:T, 32 * c:32 * (c + 1)] = pl.mul(pl.gather(sin, index=dup_idx), sign)


def _rope_body(b: int, stage3: Any, rope_cos_il: Any, rope_sin_signed: Any, o_packed: Any) -> None:
    swap_idx, _ = _rope_tables16(T, 32, False)
    for hl in pl.range(4):
        gh = 4 * b + hl
        g, hh = gh // HEADS_PER_GROUP, gh % HEADS_PER_GROUP
        for c0 in (0, 32):
            x = pl.reshape(stage3[0:T, gh:gh + 1, c0:c0 + 32], [T, 32])
            cs = rope_cos_il[0:T, c0:c0 + 32]
            sn = rope_sin_signed[0:T, c0:c0 + 32]
            sw = pl.gather(x, index=swap_idx)
            y = pl.add(pl.mul(x, cs), pl.mul(sw, sn))
            c1 = HEAD_DIM * hh + NOPE + c0
            o_packed[T * g:T * g + T, c1:c1 + 32] = pl.cast(y, pl.BF16, mode="rint")


def _proj_b_act_body(n: int, wo_b_scale_row: Any, partials: Any, act_scale_dq: Any, attn_out: Any) -> None:
    o = PB_ACT_N_TILE * n
    ws = wo_b_scale_row[0:1, o:o + PB_ACT_N_TILE]
    acc = pl.full([T, PB_ACT_N_TILE], pl.FP32, 0.0)
    for g in pl.range(O_GROUPS):
        part = partials[0:T, D * g + o:D * g + o + PB_ACT_N_TILE]
        sc = pl.reshape(act_scale_dq[g:g + 1, 0:T], [T, 1])
        pf = pl.cast(part, pl.FP32)
        acc = pl.add(acc, pl.row_expand_mul(pf, sc))
    y = pl.col_expand_mul(acc, ws)
    attn_out[0:T, o:o + PB_ACT_N_TILE] = pl.cast(y, pl.BF16, mode="rint")


@pl.jit.inline
def sparse_attn_hca_inline(q: Any, kv: Any, kv_cache: Any, cmp_kv: Any, topk_all: Any, ori_block_table: Any,
                           cmp_block_table: Any, attn_sink: Any, rope_cos_t: Any, rope_sin_t: Any, wo_a: Any,
                           wo_b: Any, wo_b_scale: Any, attn_out: Any, *, gather_edges: bool = True) -> None:
    """Sparse attention + inverse RoPE + grouped output projection (manual-dependency section)."""
    sparse_bias = pl.create_tensor([T, PADDED_TOPK], pl.FP32, name="sparse_bias")
    n_rows = T * H * SPARSE_BLOCKS  # 1024
    blk_mi = pl.create_tensor([n_rows, 1], pl.FP32, name="sparse_blk_mi")
    blk_li = pl.create_tensor([n_rows, 1], pl.FP32, name="sparse_blk_li")
    blk_oi = pl.create_tensor([n_rows, HEAD_DIM], pl.FP32, name="sparse_blk_oi")
    # [512, 64] FP32 in the source, addressed as [token, head, 64] by both users
    attn_rope_stage = pl.create_tensor([T, H, ROPE], pl.FP32, name="attn_rope_stage")
    o_packed = pl.create_tensor([O_GROUPS * T, O_GROUP_IN], pl.BF16, name="o_packed")
    rope_cos_il = pl.create_tensor([T, ROPE], pl.FP32, name="rope_cos_il")
    rope_sin_signed = pl.create_tensor([T, ROPE], pl.FP32, name="rope_sin_signed")
    o_packed_mm = pl.create_tensor([O_GROUPS * MM_T_TILE, O_GROUP_IN], pl.BF16, name="o_packed_mm")
    o_r_pad = pl.create_tensor([MM_T_TILE, O_GROUPS * O_LORA], pl.FP32, name="o_r_pad")
    o_r_i8 = pl.create_tensor([T, O_GROUPS * O_LORA], pl.INT8, name="o_r_i8")
    o_r_i8_pad = pl.create_tensor([MM_T_TILE, O_GROUPS * O_LORA], pl.INT8, name="o_r_i8_pad")
    act_scale_dq = pl.create_tensor([O_GROUPS, T], pl.FP32, name="act_scale_dq")
    partials = pl.create_tensor([MM_T_TILE, O_GROUPS * D], pl.INT32, name="partials")

    kv_flat = pl.reshape(kv_cache, [ORI_BLOCK_NUM * BLOCK_SIZE, HEAD_DIM])
    cmp_kv_flat = pl.reshape(cmp_kv, [CMP_BLOCK_NUM * BLOCK_SIZE, HEAD_DIM])
    q_flat = pl.reshape(q, [T * H, HEAD_DIM])
    wo_a_flat = pl.reshape(wo_a, [O_GROUPS * O_LORA, O_GROUP_IN])
    wo_b_scale_row = pl.reshape(wo_b_scale, [1, D])

    # #25 build_valid: additive bias (0 valid, -1e20 invalid)
    for _b in pl.spmd(T // HC_T_TILE, name_hint="build_valid"):
        v = pl.cast(topk_all[0:T, 0:PADDED_TOPK], pl.FP32)
        v = pl.add(v, 1.0)
        v = pl.maximum(v, 0.0)
        v = pl.minimum(v, 1.0)
        v = pl.sub(v, 1.0)
        sparse_bias[0:T, 0:PADDED_TOPK] = pl.mul(v, -NEG_INF)

    # #26 qk_pv (MIX): flash-decode over 2 sparse blocks x 2 head batches per token
    untracked = None if gather_edges else [kv, cmp_kv_flat]
    for t in pl.spmd(T, name_hint="qk_pv", no_dep_args=untracked):
        _qk_pv_body(t, ori_block_table, cmp_block_table, topk_all, kv_flat, kv, cmp_kv_flat, q_flat,
                    sparse_bias, blk_mi, blk_li, blk_oi)

    # #27 merge_norm
    with pl.spmd(T, name_hint="merge_norm") as merge_tid:
        _merge_norm_body(pl.get_block_idx(), blk_mi, blk_li, blk_oi, attn_sink, attn_rope_stage, o_packed)

    # #28 rope_cs: inverse-RoPE tables
    for c in pl.spmd(ROPE // 2 // 16, name_hint="rope_cs"):
        _rope_cs_body(c, rope_cos_t, rope_sin_t, rope_cos_il, rope_sin_signed)

    # #29 rope: inverse RoPE of the rope columns into o_packed
    with pl.spmd((H // 4) * (T // 8), name_hint="rope") as rope_tid:
        _rope_body(pl.get_block_idx(), attn_rope_stage, rope_cos_il, rope_sin_signed, o_packed)

    # #30-#33 grouped output projection with explicit dependencies only
    pad_tids = pl.array.create(O_GROUPS, pl.TASK_ID)
    pa_tids = pl.array.create(O_GROUPS * PA_NFRAGS, pl.TASK_ID)
    quant_tids = pl.array.create(O_GROUPS, pl.TASK_ID)
    pb_tids = pl.array.create(PB_DCHUNKS * O_GROUPS, pl.TASK_ID)
    with pl.manual_scope():
        for g in pl.parallel(O_GROUPS):
            with pl.at(level=pl.Level.CORE_GROUP, name_hint="proj_o_pad", deps=[merge_tid, rope_tid]) as tid:
                for kb in pl.pipeline(O_GROUP_IN // A_K_TILE, stage=2):
                    k = kb * A_K_TILE
                    o_packed_mm[MM_T_TILE * g:MM_T_TILE * g + T, k:k + A_K_TILE] = \
                        o_packed[T * g:T * g + T, k:k + A_K_TILE]
                    z = pl.full([T, A_K_TILE], pl.BF16, 0.0)
                    o_packed_mm[MM_T_TILE * g + T:MM_T_TILE * (g + 1), k:k + A_K_TILE] = z
            pad_tids[g] = tid
        for g in pl.parallel(O_GROUPS):
            for nf in pl.parallel(PA_NFRAGS):
                with pl.at(level=pl.Level.CORE_GROUP, name_hint="proj_a_mm", deps=[pad_tids[g]]) as tid:
                    n0 = PA_N_TILE * nf
                    w0 = O_LORA * g + n0
                    a = o_packed_mm[MM_T_TILE * g:MM_T_TILE * (g + 1), 0:A_K_TILE]
                    w = wo_a_flat[w0:w0 + PA_N_TILE, 0:A_K_TILE]
                    acc = pl.matmul(a, w, b_trans=True)
                    for kb in pl.pipeline(1, O_GROUP_IN // A_K_TILE, stage=2):
                        k = kb * A_K_TILE
                        a = o_packed_mm[MM_T_TILE * g:MM_T_TILE * (g + 1), k:k + A_K_TILE]
                        w = wo_a_flat[w0:w0 + PA_N_TILE, k:k + A_K_TILE]
                        acc = pl.matmul_acc(acc, a, w, b_trans=True)
                    o_r_pad[0:MM_T_TILE, O_LORA * g + n0:O_LORA * g + n0 + PA_N_TILE] = acc
                pa_tids[PA_NFRAGS * g + nf] = tid
        for g in pl.parallel(O_GROUPS):
            deps = [pa_tids[PA_NFRAGS * g + nf] for nf in range(PA_NFRAGS)]
            with pl.at(level=pl.Level.CORE_GROUP, name_hint="quant", deps=deps) as tid:
                _quant_body(g, o_r_pad, act_scale_dq, o_r_i8, o_r_i8_pad)
            quant_tids[g] = tid
        for dc in pl.parallel(PB_DCHUNKS):
            for g in pl.parallel(O_GROUPS):
                with pl.at(level=pl.Level.CORE_GROUP, name_hint="proj_b_mm", deps=[quant_tids[g]]) as tid:
                    _proj_b_mm_body(dc, g, o_r_i8_pad, wo_b, partials)
                pb_tids[O_GROUPS * dc + g] = tid

    # #34 proj_b_act: automatic tracking again, plus explicit deps on all proj_b_mm tasks
    with pl.spmd(D // PB_ACT_N_TILE, name_hint="proj_b_act", deps=[pb_tids]):
        _proj_b_act_body(pl.get_block_idx(), wo_b_scale_row, partials, act_scale_dq, attn_out)


def _quant_body(g: int, o_r_pad: Any, act_scale_dq: Any, o_r_i8: Any, o_r_i8_pad: Any) -> None:
    amax = pl.full([1, T], pl.FP32, 1e-4)
    c0 = O_LORA * g
    for k1 in (0, QUANT_TILE):
        x = o_r_pad[0:T, c0 + k1:c0 + k1 + QUANT_TILE]
        ab = pl.maximum(x, pl.neg(x))
        amax = pl.maximum(amax, pl.reshape(pl.row_max(ab), [1, T]))
    qmax = pl.full([1, T], pl.FP32, 127.0)
    qs = pl.div(qmax, amax)
    dq = pl.recip(qs)
    act_scale_dq[g:g + 1, 0:T] = dq
    qs_col = pl.reshape(qs, [T, 1])
    for k1 in (0, QUANT_TILE):
        x = o_r_pad[0:T, c0 + k1:c0 + k1 + QUANT_TILE]
        y = pl.row_expand_mul(x, qs_col)
        yi = pl.cast(y, pl.INT32, mode="rint")
        yh = pl.cast(yi, pl.FP16, mode="round")
        y8 = pl.cast(yh, pl.INT8, mode="trunc")
        o_r_i8[0:T, c0 + k1:c0 + k1 + QUANT_TILE] = y8
        o_r_i8_pad[0:T, c0 + k1:c0 + k1 + QUANT_TILE] = y8
        z = pl.full([MM_T_TILE - T, QUANT_TILE], pl.INT32, 0)
        z8 = pl.cast(pl.cast(z, pl.FP16), pl.INT8)
        o_r_i8_pad[T:MM_T_TILE, c0 + k1:c0 + k1 + QUANT_TILE] = z8


def _proj_b_mm_body(dc: int, g: int, o_r_i8_pad: Any, wo_b: Any, partials: Any) -> None:
    d0 = PB_D_CHUNK * dc
    k0 = O_LORA * g
    for nf in pl.range(PB_D_CHUNK // PB_N_TILE):
        n0 = d0 + PB_N_TILE * nf
        a = o_r_i8_pad[0:MM_T_TILE, k0:k0 + B_K_TILE]
        w = wo_b[n0:n0 + PB_N_TILE, k0:k0 + B_K_TILE]
        acc = pl.matmul(a, w, b_trans=True)
        for kb in pl.pipeline(1, O_LORA // B_K_TILE, stage=2):
            k = k0 + B_K_TILE * kb
            a = o_r_i8_pad[0:MM_T_TILE, k:k + B_K_TILE]
            w = wo_b[n0:n0 + PB_N_TILE, k:k + B_K_TILE]
            acc = pl.matmul_acc(acc, a, w, b_trans=True)
        partials[0:MM_T_TILE, D * g + n0:D * g + n0 + PB_N_TILE] = acc


# ---- hca_cache_writeback (§7.25) and hc_post (§7.26) --------------------------------------------
@pl.jit.inline
def hca_cache_writeback_inline(ori_slot_mapping: Any, attn_out: Any, kv: Any, kv_cache: Any) -> None:
    """Write this step's kv rows into the sliding-window cache (attn_out x 0 as an ordering guard)."""
    kv_flat = pl.reshape(kv_cache, [ORI_BLOCK_NUM * BLOCK_SIZE, HEAD_DIM])
    g = 16
    for blk in pl.spmd(T // HC_T_TILE, name_hint="hca_cache_writeback"):
        if blk == 0:
            kv_flat[0:1, 0:HEAD_DIM] = kv_flat[0:1, 0:HEAD_DIM]
        for t in pl.range(T):
            row = pl.read(ori_slot_mapping, [t])
            if row >= 0:
                guard = pl.mul(pl.cast(attn_out[t:t + 1, 0:g], pl.FP32), 0.0)
                head = pl.add(guard, pl.cast(kv[t:t + 1, 0:g], pl.FP32))
                kv_flat[row:row + 1, 0:g] = pl.cast(head, pl.BF16)
                kv_flat[row:row + 1, g:HEAD_DIM] = kv[t:t + 1, g:HEAD_DIM]


@pl.jit.inline
def hc_post_inline(x_hc: Any, attn_out: Any, post_t: Any, comb_t: Any, x_out: Any) -> None:
    """Hyper-connection post-mix: out[o] = post[o] * attn_out + sum_i comb[i, o] * x[i]."""
    x_flat = pl.reshape(x_hc, [T, HC_DIM])
    out_flat = pl.reshape(x_out, [T, HC_DIM])
    for o in pl.spmd((T // HC_T_TILE) * HC_MULT, name_hint="hc_post"):
        for t in pl.pipeline(T, stage=2):
            pv = pl.read(post_t, [t, o])
            acc = pl.mul(pl.cast(attn_out[t:t + 1, 0:D], pl.FP32), pv)
            for i in pl.pipeline(HC_MULT, stage=4):
                cv = pl.read(comb_t, [t, HC_MULT * i + o])
                xh = pl.mul(pl.cast(x_flat[t:t + 1, D * i:D * (i + 1)], pl.FP32), cv)
                acc = pl.add(acc, xh)
            out_flat[t:t + 1, D * o:D * (o + 1)] = pl.cast(acc, pl.BF16, mode="rint")


# ---- the layer entry ------------------------------------------------------------------------------
@pl.jit
def decode_attention_hca(
    x_hc: pl.Tensor[[T, HC_MULT, D], pl.BF16],
    hc_attn_fn: pl.Tensor[[MIX_HC, HC_DIM], pl.FP32],
    hc_attn_scale: pl.Tensor[[3], pl.FP32],
    hc_attn_base: pl.Tensor[[MIX_HC], pl.FP32],
    attn_norm_w: pl.Tensor[[D], pl.BF16],
    wq_a: pl.Tensor[[D, Q_LORA], pl.BF16],
    wq_b: pl.Tensor[[Q_LORA, H * HEAD_DIM], pl.INT8],
    wq_b_scale: pl.Tensor[[H * HEAD_DIM], pl.FP32],
    wkv: pl.Tensor[[D, HEAD_DIM], pl.BF16],
    gamma_cq: pl.Tensor[[Q_LORA], pl.BF16],
    gamma_ckv: pl.Tensor[[HEAD_DIM], pl.BF16],
    freqs_cos: pl.Tensor[[MAX_SEQ_LEN, ROPE], pl.BF16],
    freqs_sin: pl.Tensor[[MAX_SEQ_LEN, ROPE], pl.BF16],
    cmp_wkv: pl.Tensor[[CMP_OUT, D], pl.BF16],
    cmp_wgate: pl.Tensor[[CMP_OUT, D], pl.BF16],
    cmp_ape: pl.Tensor[[COMPRESS_RATIO, CMP_OUT], pl.FP32],
    cmp_norm_w: pl.Tensor[[CMP_OUT], pl.BF16],
    compress_state: pl.InOut[pl.Tensor[[STATE_BLOCK_NUM, STATE_BLOCK_SIZE, STATE_DIM], pl.FP32]],
    compress_state_block_table: pl.Tensor[[B, STATE_MAX_BLOCKS], pl.INT32],
    kv_cache: pl.InOut[pl.Tensor[[ORI_BLOCK_NUM, BLOCK_SIZE, 1, HEAD_DIM], pl.BF16]],
    ori_block_table: pl.Tensor[[B, ORI_MAX_BLOCKS], pl.INT32],
    cmp_kv: pl.InOut[pl.Tensor[[CMP_BLOCK_NUM, BLOCK_SIZE, 1, HEAD_DIM], pl.BF16]],
    cmp_block_table: pl.Tensor[[B, CMP_MAX_BLOCKS], pl.INT32],
    ori_slot_mapping: pl.Tensor[[T], pl.INT64],
    cmp_slot_mapping: pl.Tensor[[T], pl.INT64],
    state_slot_mapping: pl.Tensor[[T], pl.INT64],
    position_ids: pl.Tensor[[T], pl.INT32],
    kv_seq_lens: pl.Tensor[[B], pl.INT32],
    attn_sink: pl.Tensor[[H], pl.FP32],
    wo_a: pl.Tensor[[O_GROUPS, O_LORA, O_GROUP_IN], pl.BF16],
    wo_b: pl.Tensor[[D, O_GROUPS * O_LORA], pl.INT8],
    wo_b_scale: pl.Tensor[[D], pl.FP32],
    x_out: pl.Out[pl.Tensor[[T, HC_MULT, D], pl.BF16]],
    qkv_variant: str = "precompute",
    gather_edges: bool = True,
) -> None:
    """One HCA decode attention layer (the pypto-lib file's submission order)."""
    x_mixed = pl.create_tensor([T, D], pl.BF16, name="x_mixed")
    post_t = pl.create_tensor([T, HC_MULT], pl.FP32, name="post_t")
    comb_t = pl.create_tensor([T, HC_MULT * HC_MULT], pl.FP32, name="comb_t")
    rope_cos_t = pl.create_tensor([T, ROPE], pl.BF16, name="rope_cos_t")
    rope_sin_t = pl.create_tensor([T, ROPE], pl.BF16, name="rope_sin_t")
    cmp_cos = pl.create_tensor([B, ROPE // 2], pl.FP32, name="cmp_cos")
    cmp_sin = pl.create_tensor([B, ROPE // 2], pl.FP32, name="cmp_sin")
    x_normed = pl.create_tensor([T, D], pl.BF16, name="x_normed")
    q = pl.create_tensor([T, H, HEAD_DIM], pl.BF16, name="q")
    kv = pl.create_tensor([T, HEAD_DIM], pl.BF16, name="kv")
    qr = pl.create_tensor([T, Q_LORA], pl.INT8, name="qr")
    qr_scale = pl.create_tensor([T, 1], pl.FP32, name="qr_scale")
    topk_all = pl.create_tensor([T, PADDED_TOPK], pl.INT32, name="topk_all")
    attn_out = pl.create_tensor([T, D], pl.BF16, name="attn_out")
    pl.set_data(topk_all, np.full((T, PADDED_TOPK), -1, dtype=np.int32))  # values written by #24

    hc_pre_inline(x_hc, hc_attn_fn, hc_attn_scale, hc_attn_base, x_mixed, post_t, comb_t)
    hca_rope_inline(position_ids, freqs_cos, freqs_sin, rope_cos_t, rope_sin_t, cmp_cos, cmp_sin)
    rms_norm_inline(x_mixed, attn_norm_w, x_normed)
    qkv_proj_rope_inline(x_normed, wq_a, wq_b, wq_b_scale, wkv, rope_cos_t, rope_sin_t, gamma_cq, gamma_ckv,
                         q, kv, qr, qr_scale, variant=qkv_variant)
    compressor_inline(x_normed, cmp_wkv, cmp_wgate, cmp_ape, cmp_norm_w, compress_state,
                      compress_state_block_table, position_ids, state_slot_mapping, cmp_slot_mapping,
                      cmp_cos, cmp_sin, cmp_kv)
    hca_overlay_topk_inline(position_ids, kv_seq_lens, topk_all)
    sparse_attn_hca_inline(q, kv, kv_cache, cmp_kv, topk_all, ori_block_table, cmp_block_table, attn_sink,
                           rope_cos_t, rope_sin_t, wo_a, wo_b, wo_b_scale, attn_out, gather_edges=gather_edges)
    hca_cache_writeback_inline(ori_slot_mapping, attn_out, kv, kv_cache)
    hc_post_inline(x_hc, attn_out, post_t, comb_t, x_out)


def build(variant: str = "precompute", mode: str = "decode", **options: Any) -> Any:
    """Record the layer's TaskGraph (decode only).

    Options: ``gather_edges`` (bool/int, default True), ``start_pos`` (int, default the
    harness's pattern). Shapes are fixed (B = 4, S = 2, T = 8).
    """
    if variant not in VARIANTS:
        raise UserError(f"decode_attention_hca: unknown variant {variant!r} (expected {', '.join(VARIANTS)})")
    if mode not in MODES:
        raise UserError(f"decode_attention_hca: mode {mode!r} is not modelled (expected decode)")
    gather_edges = bool(options.pop("gather_edges", True))
    start_pos = options.pop("start_pos", None)
    if options:
        raise UserError(f"decode_attention_hca: unknown option(s) {', '.join(sorted(options))} "
                        "(known: gather_edges, start_pos; shapes are fixed at B=4, S=2, T=8)")
    # the last start whose S positions the harness's block tables still cover
    max_start = min(MAX_SEQ_LEN, STATE_MAX_BLOCKS * STATE_BLOCK_SIZE, CMP_MAX_BLOCKS * BLOCK_SIZE * COMPRESS_RATIO) - S
    if start_pos is not None and not 0 <= int(start_pos) <= max_start:
        raise UserError(f"decode_attention_hca: start_pos={start_pos} outside [0, {max_start}] "
                        "(the positions the block tables cover)")
    data = default_inputs(None if start_pos is None else int(start_pos))
    params = {"T": T, "B": B, "S": S}
    return pl.record(decode_attention_hca, kernel="decode_attention_hca", variant=variant, mode=mode,
                     params=params, data=data, qkv_variant=variant, gather_edges=gather_edges)
