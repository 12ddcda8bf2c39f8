"""decode_attention_hca task graph against the pypto-lib file's structure (order, blocks, records per function).

Expected values are counted from the pypto-lib file; the model computes every data-dependent quantity itself
from the default control inputs, so these tests check the recording, not typed-in totals.
"""

from __future__ import annotations

import functools
import time
from collections import Counter

import numpy as np
import pytest

from kernels import registry
from kernels.models import decode_attention_hca as hca
from sim.ir import CoreShape, TaskGraph, TaskKind
from sim.util.errors import UserError

KIB = 1024


@functools.cache
def graph(variant: str = "precompute", gather_edges: bool = True) -> TaskGraph:
    return registry.build_graph(f"decode_attention_hca:{variant}", mode="decode", gather_edges=gather_edges)


def tasks_named(g: TaskGraph, name: str) -> list:
    return [t for t in g.kernel_tasks() if t.name == name]


def one(g: TaskGraph, name: str):
    ts = tasks_named(g, name)
    assert len(ts) == 1, (name, len(ts))
    return ts[0]


def lane_counts(block, lane: str) -> dict[str, float]:
    ops = [o for o in block.ops if o.lane == lane]
    loads = [o for o in ops if o.kind == "load" and o.name == "load"]
    gathers = [o for o in ops if o.kind == "load" and o.name == "gather_row"]
    stores = [o for o in ops if o.kind == "store"]
    return {
        "loads": len(loads),
        "kib_in": sum(o.nbytes for o in loads) / KIB,
        "gathers": len(gathers),
        "gather_kib": sum(o.nbytes for o in gathers) / KIB,
        "stores": len(stores),
        "kib_out": sum(o.nbytes for o in stores) / KIB,
        "vec": sum(1 for o in ops if o.kind == "vec"),
        "cube": sum(1 for o in ops if o.kind in ("matmul", "matmul_acc")),
        "R": sum(1 for o in ops if o.kind == "scalar" and o.name == "read"),
        "W": sum(1 for o in ops if o.kind == "scalar" and o.name == "write"),
    }


# ---- §6 task list, totals, core shapes, swimlane record counts -------------------------------------
SPEC_ORDER = [
    "hc_pre_x_matmul_pad", "hc_pre", "hca_rope", "rms_norm", "qkv_x_matmul_pad", "qr_proj_seed",
    "qr_proj_matmul", "qr_rms_norm_quant", "qproj_matmul", "qproj_dequant", "q_rope_cs",
    "q_head_rms_nope_rope", "kv_proj_seed", "kv_proj_matmul", "kv_rms_norm_rope", "kv_score_x_pad",
    "kv_score_proj", "kv_score_unpad", "state_scatter_pre", "pooled_pad_init", "softmax_pool",
    "rmsnorm_rope", "kv_finalize", "hca_overlay_topk", "build_valid", "qk_pv", "merge_norm", "rope_cs",
    "rope", "proj_o_pad", "proj_a_mm", "quant", "proj_b_mm", "proj_b_act", "hca_cache_writeback", "hc_post",
]

RECORDS = {  # kernels/README.md "Expected record counts per function" (HCA column)
    "hc_pre_x_matmul_pad": 1, "hc_pre_aic": 1, "hc_pre_aiv": 2, "hca_rope": 1, "rms_norm": 1,
    "qkv_x_matmul_pad": 1, "qr_proj_seed": 1, "qr_proj_matmul": 16, "qr_rms_norm_quant": 1,
    "qproj_matmul": 32, "qproj_dequant": 16, "q_rope_cs": 1, "q_head_rms_nope_rope": 32, "kv_proj_seed": 1,
    "kv_proj_matmul": 16, "kv_rms_norm_rope": 1, "kv_score_x_pad": 1, "kv_score_proj": 8,
    "kv_score_unpad": 1, "state_scatter_pre": 1, "pooled_pad_init": 8, "softmax_pool": 32,
    "rmsnorm_rope": 1, "kv_finalize": 1, "hca_overlay_topk": 1, "build_valid": 1, "qk_pv_aic": 8,
    "qk_pv_aiv": 16, "merge_norm": 8, "rope_cs": 2, "rope": 16, "proj_o_pad": 8, "proj_a_mm": 64,
    "quant": 8, "proj_b_mm": 32, "proj_b_act": 8, "hca_cache_writeback": 1, "hc_post": 4,
}

AIC_SCOPES = {"qr_proj_matmul", "qproj_matmul", "kv_proj_matmul", "kv_score_proj", "proj_a_mm", "proj_b_mm"}
MIX_SCOPES = {"hc_pre", "qk_pv"}


def swimlane_records(g: TaskGraph) -> Counter:
    out: Counter = Counter()
    for t in g.kernel_tasks():
        if t.shape == CoreShape.MIX:
            out[f"{t.name}_aic"] += t.block_num
            out[f"{t.name}_aiv"] += 2 * t.block_num
        else:
            out[t.name] += t.block_num
    return out


@pytest.mark.parametrize("variant,tasks,blocks,records", [("precompute", 144, 336, 354),
                                                          ("baseline", 143, 335, 353)])
def test_totals_and_records(variant: str, tasks: int, blocks: int, records: int) -> None:
    g = graph(variant)
    ks = g.kernel_tasks()
    assert (len(ks), sum(t.block_num for t in ks)) == (tasks, blocks)
    rec = swimlane_records(g)
    exp = dict(RECORDS)
    if variant == "baseline":
        del exp["q_rope_cs"]
    assert dict(rec) == exp
    assert sum(rec.values()) == records
    # §6: MIX blocks 9, pure-AIC blocks 168
    assert sum(t.block_num for t in ks if t.shape == CoreShape.MIX) == 9
    assert sum(t.block_num for t in ks if t.shape == CoreShape.AIC) == 168


@pytest.mark.parametrize("variant", ["precompute", "baseline"])
def test_submission_order_and_core_shapes(variant: str) -> None:
    g = graph(variant)
    order: list[str] = []
    for t in g.kernel_tasks():
        if not order or order[-1] != t.name:
            order.append(t.name)
        exp_shape = (CoreShape.MIX if t.name in MIX_SCOPES else
                     CoreShape.AIC if t.name in AIC_SCOPES else CoreShape.AIV)
        assert t.shape == exp_shape, t.name
        exp_ids = {CoreShape.MIX: (True, True, True), CoreShape.AIC: (True, False, False),
                   CoreShape.AIV: (False, True, False)}[t.shape]
        assert tuple(k >= 0 for k in t.kernel_ids) == exp_ids, t.name
    exp = [n for n in SPEC_ORDER if variant == "precompute" or n != "q_rope_cs"]
    assert order == exp
    # per-loop-iteration submissions of the manual section (§8)
    assert [len(tasks_named(g, n)) for n in ("proj_o_pad", "proj_a_mm", "quant", "proj_b_mm")] == [8, 64, 8, 32]
    assert all(t.block_num == 1 for n in ("proj_o_pad", "proj_a_mm", "quant", "proj_b_mm")
               for t in tasks_named(g, n))


def test_function_names_in_func_map() -> None:
    g = graph("precompute")
    names = set(g.func_names.values())
    assert set(RECORDS) <= names


# ---- §11 per-block counts ----------------------------------------------------------------------------
# name: (lane, loads, KiB in, stores, KiB out, vector ops, cube ops, scalar R, scalar W)
SANITY = {
    "hc_pre_x_matmul_pad": ("aiv0", 64, 256, 64, 512, 64, 0, 0, 0),
    "hca_rope": ("aiv0", 24, 2.5, 24, 3, 40, 0, 12, 0),
    "rms_norm": ("aiv0", 96, 136, 32, 64, 293, 0, 0, 0),
    "kv_score_x_pad": ("aiv0", 8, 64, 8, 128, 8, 0, 0, 0),
    "kv_score_proj": ("aic", 24, 1152, 2, 8, 0, 16, 0, 0),
    "kv_score_unpad": ("aiv0", 128, 32, 128, 32, 0, 0, 0, 0),
    "state_scatter_pre": ("aiv0", 24, 48, 16, 32, 8, 0, 16, 0),
    "pooled_pad_init": ("aiv0", 0, 0, 1, 3, 1, 0, 0, 0),
    "rmsnorm_rope": ("aiv0", 26, 66, 8, 32, 78, 0, 0, 0),
    "kv_finalize": ("aiv0", 2, 4, 4, 6, 2, 0, 6, 0),
    "hca_overlay_topk": ("aiv0", 0, 0, 0, 0, 0, 0, 1202, 2048),
    "build_valid": ("aiv0", 1, 8, 1, 8, 6, 0, 0, 0),
    "merge_norm": ("aiv0", 28, 257.25, 68, 72, 72, 0, 0, 0),
    "rope_cs": ("aiv0", 2, 0.5, 2, 2, 18, 0, 0, 0),
    "rope": ("aiv0", 24, 24, 8, 4, 53, 0, 0, 0),
    "proj_o_pad": ("aiv0", 16, 64, 32, 128, 16, 0, 0, 0),
    "proj_a_mm": ("aic", 32, 1152, 1, 8, 0, 16, 0, 0),
    "quant": ("aiv0", 4, 64, 7, 24 + 32 / KIB, 26, 0, 0, 0),
    "proj_b_mm": ("aic", 32, 1088, 4, 64, 0, 16, 0, 0),
    "proj_b_act": ("aiv0", 17, 130.25, 1, 8, 27, 0, 0, 0),
    "hca_cache_writeback": ("aiv0", 25, 9.25, 17, 9, 40, 0, 8, 0),
    "hc_post": ("aiv0", 40, 320, 8, 64, 120, 0, 40, 0),
}
KEYS = ("loads", "kib_in", "stores", "kib_out", "vec", "cube", "R", "W")


def _check(c: dict[str, float], exp: tuple, where: str) -> None:
    got = tuple(c[k] for k in KEYS)
    assert got == pytest.approx(exp), f"{where}: {dict(zip(KEYS, got, strict=True))} vs {exp}"


@pytest.mark.parametrize("name", sorted(SANITY))
def test_sanity_table_per_block(name: str) -> None:
    lane, *exp = SANITY[name]
    for variant in ("precompute", "baseline"):
        for t in tasks_named(graph(variant), name):
            for blk in t.blocks:
                _check(lane_counts(blk, lane), tuple(exp), f"{variant} {name} block {blk.idx}")
                other = [o for o in blk.ops if o.lane != lane]
                assert not other, f"{name}: unexpected ops on other lanes"


QKV_SANITY = {  # qkv_proj_rope.md §9 (the same scopes inlined into the layer), per block
    "qkv_x_matmul_pad": ("aiv0", 8, 64, 8, 128, 8, 0, 0, 0),
    "qr_proj_seed": ("aiv0", 0, 0, 8, 64, 8, 0, 0, 0),
    "qr_proj_matmul": ("aic", 16, 576, 1, 8, 0, 8, 0, 0),
    "qr_rms_norm_quant": ("aiv0", 160, 100, 65, 16 + 32 / KIB, 553, 0, 0, 0),
    "qproj_matmul": ("aic", 32, 1152, 8, 64, 0, 16, 0, 0),
    "qproj_dequant": ("aiv0", 48, 72.5, 16, 64, 48, 0, 0, 0),
    "kv_proj_seed": ("aiv0", 0, 0, 4, 32, 4, 0, 0, 0),
    "kv_proj_matmul": ("aic", 8, 288, 1, 8, 0, 4, 0, 0),
    "kv_rms_norm_rope": ("aiv0", 48, 35, 15, 8, 138, 0, 0, 0),
}


@pytest.mark.parametrize("name", sorted(QKV_SANITY))
def test_qkv_scopes_in_layer(name: str) -> None:
    lane, *exp = QKV_SANITY[name]
    for t in tasks_named(graph("baseline"), name) + tasks_named(graph("precompute"), name):
        for blk in t.blocks:
            _check(lane_counts(blk, lane), tuple(exp), f"{name} block {blk.idx}")


def test_hc_pre_mix_counts() -> None:
    blk = one(graph(), "hc_pre").blocks[0]
    aic, aiv = lane_counts(blk, "aic"), lane_counts(blk, "aiv0")
    _check(aic, (64, 1536, 1, 2, 0, 64, 0, 0), "hc_pre aic")
    # §11 gives ~1027 KiB in and ~65.6 KiB out (tile-payload basis, errata 5); vector ops 970 by §7.2's sum
    assert (aiv["loads"], aiv["stores"], aiv["vec"], aiv["cube"]) == (205, 22, 970, 0)
    assert aiv["kib_in"] == pytest.approx(1027, abs=1.0)
    assert aiv["kib_out"] == pytest.approx(65.6, abs=0.1)
    ho = [o for o in blk.ops if o.kind == "handoff"]
    pops_aic = [o for o in ho if o.lane == "aic" and o.name == "pop"]
    pushes_aiv = [o for o in ho if o.lane == "aiv0" and o.name == "push"]
    assert len(pops_aic) == 64 and sum(o.nbytes for o in pops_aic) == 1024 * KIB  # V->C A operand
    assert len(pushes_aiv) == 64
    # C->V only a sync token (mix_raw_gm store -> vector load)
    tok = [o for o in ho if o.lane == "aic" and o.name == "push"]
    assert len(tok) == 1 and tok[0].nbytes == 0
    # lane 1 only replays the hand-overs
    assert {o.kind for o in blk.ops if o.lane == "aiv1"} == {"handoff"}
    assert sum(1 for o in blk.ops if o.lane == "aiv1") == 65


def test_qk_pv_mix_counts() -> None:
    t = one(graph(), "qk_pv")
    n_cmp = [0, 0, 0, 1, 1, 1, 1, 1]  # §4: compressed slots per token
    for blk in t.blocks:
        aic, aiv = lane_counts(blk, "aic"), lane_counts(blk, "aiv0")
        assert (aic["loads"], aic["kib_in"], aic["gathers"], aic["gather_kib"]) == (5, 256, 66, 66)
        assert (aic["stores"], aic["kib_out"], aic["cube"], aic["vec"]) == (8, 256, 8, 0)
        assert aic["R"] == 67 + n_cmp[blk.idx]
        assert (aiv["loads"], aiv["kib_in"], aiv["stores"], aiv["kib_out"], aiv["vec"], aiv["cube"]) == \
            (2, 1, 16, 1, 36, 0)
        ho = [o for o in blk.ops if o.kind == "handoff"]
        c2v = [o for o in ho if o.lane == "aic" and o.name == "push"]
        v2c = [o for o in ho if o.lane == "aic" and o.name == "pop"]
        assert len(c2v) == 4 and sum(o.nbytes for o in c2v) == 64 * KIB
        assert len(v2c) == 4 and sum(o.nbytes for o in v2c) == 32 * KIB
        assert sum(1 for o in blk.ops if o.lane == "aiv1") == 8
        assert {o.kind for o in blk.ops if o.lane == "aiv1"} == {"handoff"}


def test_softmax_pool_gates() -> None:
    t = one(graph(), "softmax_pool")
    active = []
    for blk in t.blocks:
        c = lane_counts(blk, "aiv0")
        if c["loads"]:
            active.append(blk.idx)
            _check(c, (256, 64, 1, 0.25, 9, 0, 257, 0), f"softmax_pool active block {blk.idx}")
            vec = [o for o in blk.ops if o.kind == "vec"]
            assert all(o.shape in ([64, 128], [64, 1]) for o in vec[2:])  # 9 ops on [64,128]
        else:
            _check(c, (0, 0, 0, 0, 0, 0, 1, 0), f"softmax_pool inactive block {blk.idx}")
    assert active == list(range(8, 24))  # §4: batches 1 and 2 gated on
    # state window: positions 0..127 = state blocks b*64 + 0..15
    state = next(x for x in graph().tensors if x.name == "compress_state").id
    blocks_read = {o.region.offset[0] for b in t.blocks for o in b.ops if o.kind == "load"
                   and o.region.tensor == state}
    assert blocks_read == {64 + j for j in range(16)} | {128 + j for j in range(16)}


def test_q_head_variants() -> None:
    for variant, loads, kib, vec in (("precompute", 35, 70, 98), ("baseline", 34, 66, 120)):
        for blk in one(graph(variant), "q_head_rms_nope_rope").blocks:
            c = lane_counts(blk, "aiv0")
            assert (c["loads"], c["kib_in"], c["stores"], c["vec"]) == (loads, kib, 16, vec)
    c = lane_counts(one(graph("precompute"), "q_rope_cs").blocks[0], "aiv0")
    assert (c["loads"], c["stores"], c["vec"]) == (2, 3, 21)


def test_cube_shapes() -> None:
    g = graph()
    exp = {
        "hc_pre": {((16, 32, 256), "FP32")},
        "kv_score_proj": {((16, 64, 512), "BF16")},
        "qk_pv": {((32, 128, 512), "BF16"), ((32, 512, 128), "BF16")},
        "proj_a_mm": {((16, 128, 256), "BF16")},
        "proj_b_mm": {((16, 256, 256), "INT8")},
    }
    for name, shapes in exp.items():
        got = {(tuple(o.mnk), o.in_dtype) for t in tasks_named(g, name) for b in t.blocks for o in b.ops
               if o.kind in ("matmul", "matmul_acc")}
        assert got == shapes, name
    pb = [o for b in tasks_named(g, "proj_b_mm")[0].blocks for o in b.ops if o.kind.startswith("matmul")]
    assert {o.dtype for o in pb} == {"INT32"}
    # accumulate structure: hc_pre 1 matmul + 63 matmul_acc; qk_pv never accumulates
    hc = Counter(o.kind for o in one(g, "hc_pre").blocks[0].ops if o.kind.startswith("matmul"))
    assert hc == {"matmul": 1, "matmul_acc": 63}
    qk = Counter(o.kind for o in one(g, "qk_pv").blocks[0].ops if o.kind.startswith("matmul"))
    assert qk == {"matmul": 8}


def test_dma_row_structure() -> None:
    """§7 DMA shapes: K-contiguous weight rows, strided rope-stage rows, 1 KiB gathered rows."""
    g = graph()
    nm = {x.id: x.name for x in g.tensors}

    def runs(name: str, tensor: str) -> set[tuple[int, int]]:
        return {(o.rows, o.row_bytes) for t in tasks_named(g, name) for b in t.blocks for o in b.ops
                if o.kind == "load" and o.region is not None and nm[o.region.tensor] == tensor}

    assert runs("kv_score_proj", "cmp_wkv") == {(64, 1024)}
    assert runs("proj_a_mm", "wo_a") == {(128, 512)}
    assert runs("proj_b_mm", "wo_b") == {(256, 256)}
    assert runs("hc_pre", "hc_attn_fn") == {(24, 1024)}
    assert runs("rope", "attn_rope_stage") == {(8, 128)}
    assert runs("qk_pv", "cmp_kv") == {(1, 1024)}
    assert runs("softmax_pool", "compress_state") == {(1, 256)}


def test_data_streamed_per_step() -> None:
    """§10: bytes moved per decode step, per source tensor (loads by DMA kind) and hand-overs."""
    g = graph()
    nm = {x.id: x.name for x in g.tensors}
    ld: Counter = Counter()
    st: Counter = Counter()
    ho: Counter = Counter()
    for t in g.kernel_tasks():
        for b in t.blocks:
            for o in b.ops:
                if o.kind == "load":
                    ld[(t.name, nm[o.region.tensor], o.name)] += o.nbytes
                elif o.kind == "store":
                    st[nm[o.region.tensor]] += o.nbytes
                elif o.kind == "handoff" and o.name == "pop" and o.lane != "aiv1":
                    ho[t.name] += o.nbytes

    def loaded(tensor: str, kind: str = "load", task: str | None = None) -> float:
        return sum(v for (tn, x, k), v in ld.items() if x == tensor and k == kind
                   and (task is None or tn == task)) / KIB

    weights = {"hc_attn_fn": 1536, "attn_norm_w": 8, "wq_a": 8192, "wq_b": 32768, "wq_b_scale": 128,
               "wkv": 4096, "cmp_wkv": 4096, "cmp_wgate": 4096, "cmp_ape": 16, "wo_a": 65536,
               "wo_b": 32768, "wo_b_scale": 16}
    assert {w: loaded(w) for w in weights} == weights
    assert sum(weights.values()) / KIB == pytest.approx(149.7, abs=0.05)
    assert loaded("kv_cache", task="qk_pv") == 1024
    assert loaded("kv_cache", "gather_row") == 511
    assert (loaded("kv", "gather_row"), loaded("cmp_kv", "gather_row")) == (12, 5)
    assert loaded("compress_state") == 1024
    assert loaded("q") == 1024  # errata 1: 4 x 32 KiB per block
    assert loaded("sparse_blk_oi") == 2048 and st["sparse_blk_oi"] / KIB == 2048
    assert {k: v / KIB for k, v in ho.items()} == {"hc_pre": 1024, "qk_pv": 768}


# ---- §4 data-dependent resolution -------------------------------------------------------------------
def _tensor(g: TaskGraph, name: str) -> int:
    return next(x.id for x in g.tensors if x.name == name)


def test_default_inputs_match_the_harness() -> None:
    d = hca.default_inputs()
    assert d["position_ids"].tolist() == [10, 11, 126, 127, 127, 128, 128, 129]
    assert d["kv_seq_lens"].tolist() == [12, 128, 129, 130]
    assert d["ori_slot_mapping"].tolist() == [10, 11, 254, 255, 383, 256, 384, 385]
    assert d["cmp_slot_mapping"].tolist() == [-1, -1, -1, 1024, 2048, -1, -1, -1]
    assert d["state_slot_mapping"].tolist() == [10, 11, 638, 639, 1151, 1152, 1664, 1665]


def _expected_topk() -> np.ndarray:
    """topk_all as the pypto-lib harness builds it, computed independently of the model."""
    pos = [10, 11, 126, 127, 127, 128, 128, 129]
    out = np.full((8, 256), -1)
    for t in range(8):
        b, s = divmod(t, 2)
        p = pos[t]
        own = {pos[2 * b + s2] % 128 for s2 in range(s + 1)}
        for k in range(128):
            if k <= p and k not in own:
                out[t, k] = k
        for s2 in range(s + 1):
            out[t, 128 + s2] = 128 + s2
        if t >= 3:
            out[t, 130] = 130
    return out


def test_qk_pv_gather_sources() -> None:
    g = graph()
    kv, cache, cmp = _tensor(g, "kv"), _tensor(g, "kv_cache"), _tensor(g, "cmp_kv")
    t = one(g, "qk_pv")
    overlay, comp, fallback, cmp_rows = [], [], [], []
    for blk in t.blocks:
        gs = [o for o in blk.ops if o.name == "gather_row"]
        assert all(o.nbytes == KIB for o in gs)
        overlay.append(sum(1 for o in gs if o.region.tensor == kv))
        comp.append(sum(1 for o in gs if o.region.tensor == cmp))
        fb = [o for o in gs if o.region.tensor == cache]
        assert all(o.region.offset[:2] == [0, 0] for o in fb)  # row 0 of the cache
        fallback.append(len(fb))
        cmp_rows += [o.region.offset[0] * 128 + o.region.offset[1] for o in gs if o.region.tensor == cmp]
    assert overlay == [1, 2, 1, 2, 1, 2, 1, 2]
    assert comp == [0, 0, 0, 1, 1, 1, 1, 1]
    assert fallback == [65, 64, 65, 63, 64, 63, 64, 63]
    assert (sum(overlay), sum(comp), sum(fallback)) == (12, 5, 511)
    assert cmp_rows == [1024, 2048, 2048, 3072, 3072]
    # window slots valid per token follow from the topk contents the model wrote
    topk = _expected_topk()
    assert [(topk[t, :128] >= 0).sum() for t in range(8)] == [10, 10, 126, 126, 127, 126, 127, 126]


def test_topk_written_elements() -> None:
    g = graph()
    topk = _tensor(g, "topk_all")
    w = [o for o in one(g, "hca_overlay_topk").blocks[0].ops if o.name == "write"]
    assert all(o.region.tensor == topk for o in w)
    cells = {(o.region.offset[0], o.region.offset[1]) for o in w}
    assert cells == {(t, c) for t in range(8) for c in range(256)}


def test_writes_by_data() -> None:
    g = graph()
    cmp, cache, state = _tensor(g, "cmp_kv"), _tensor(g, "kv_cache"), _tensor(g, "compress_state")
    kf = [o for o in one(g, "kv_finalize").blocks[0].ops if o.kind == "store" and o.region.tensor == cmp]
    assert sorted(o.region.offset[0] * 128 + o.region.offset[1] for o in kf) == [1024, 2048]
    wb = [o for o in one(g, "hca_cache_writeback").blocks[0].ops if o.kind == "store"]
    rows = sorted({o.region.offset[0] * 128 + o.region.offset[1] for o in wb if o.region.tensor == cache})
    assert rows == [0, 10, 11, 254, 255, 256, 383, 384, 385]
    ss = [o for o in one(g, "state_scatter_pre").blocks[0].ops if o.kind == "store"]
    assert {(o.region.offset[0], o.region.offset[1]) for o in ss if o.region.tensor == state} == \
        {(1, 2), (1, 3), (79, 6), (79, 7), (143, 7), (144, 0), (208, 0), (208, 1)}
    rope = [o for o in one(g, "hca_rope").blocks[0].ops if o.kind == "load"]
    fc = _tensor(g, "freqs_cos")
    assert [o.region.offset[0] for o in rope if o.region.tensor == fc] == \
        [0, 10, 11, 0, 126, 127, 0, 127, 128, 128, 128, 129]


def test_start_pos_option_changes_gates() -> None:
    g = registry.build_graph("decode_attention_hca:precompute", mode="decode", start_pos=200)
    sp = one(g, "softmax_pool")
    assert all(lane_counts(b, "aiv0")["loads"] == 0 for b in sp.blocks)  # (200 mod 128) + 2 < 128
    qk = one(g, "qk_pv")
    assert all(lane_counts(b, "aic")["gathers"] == 66 for b in qk.blocks)  # §12.1: stays 66


# ---- §8 explicit-dependency section and §9 layer edges -----------------------------------------------
def test_manual_section_explicit_edges() -> None:
    g = graph()
    idx = {t.idx: t for t in g.tasks}
    manual = {"proj_o_pad", "proj_a_mm", "quant", "proj_b_mm"}
    for t in g.kernel_tasks():
        assert (t.scope == "manual") == (t.name in manual), t.name
    merge, rope = one(g, "merge_norm").idx, one(g, "rope").idx
    pad = [t.idx for t in tasks_named(g, "proj_o_pad")]
    pa = [t.idx for t in tasks_named(g, "proj_a_mm")]
    qt = [t.idx for t in tasks_named(g, "quant")]
    pb = [t.idx for t in tasks_named(g, "proj_b_mm")]
    act = one(g, "proj_b_act").idx
    exp: Counter = Counter()
    for gi in range(8):
        exp.update({(merge, pad[gi]): 1, (rope, pad[gi]): 1})
        for nf in range(8):
            exp[(pad[gi], pa[8 * gi + nf])] += 1
            exp[(pa[8 * gi + nf], qt[gi])] += 1
    for dc in range(4):
        for gi in range(8):
            exp[(qt[gi], pb[8 * dc + gi])] += 1
            exp[(pb[8 * dc + gi], act)] += 1
    assert sum(exp.values()) == 208
    got = Counter((e.pred, e.succ) for e in g.edges if e.source == "explicit"
                  and idx[e.succ].name in manual | {"proj_b_act"})
    assert got == exp
    # inside the manual scope only explicit edges exist (no creator / tensormap)
    assert not [e for e in g.edges if idx[e.succ].name in manual and e.source != "explicit"]
    # nothing written inside the manual scope is visible to later automatic lookups
    assert not [e for e in g.edges if e.source == "tensormap" and idx[e.pred].name in manual]
    # the other explicit edges of the layer: compressor chain (4)
    other = sorted((idx[e.pred].name, idx[e.succ].name) for e in g.edges if e.source == "explicit"
                   and idx[e.succ].name not in manual | {"proj_b_act"})
    assert other == [("pooled_pad_init", "softmax_pool"), ("rmsnorm_rope", "kv_finalize"),
                     ("softmax_pool", "rmsnorm_rope"), ("state_scatter_pre", "softmax_pool")]
    assert sum(1 for e in g.edges if e.source == "explicit") == 212


QKV_EDGES = {
    ("qkv_x_matmul_pad", "qr_proj_matmul"), ("qkv_x_matmul_pad", "kv_proj_matmul"),
    ("qr_proj_seed", "qr_proj_matmul"), ("qr_proj_matmul", "qr_rms_norm_quant"),
    ("qr_rms_norm_quant", "qproj_matmul"), ("qproj_matmul", "qproj_dequant"),
    ("qr_rms_norm_quant", "qproj_dequant"), ("qproj_dequant", "q_head_rms_nope_rope"),
    ("kv_proj_seed", "kv_proj_matmul"), ("kv_proj_matmul", "kv_rms_norm_rope"),
}
LAYER_EDGES = {  # §9 automatic edges
    ("hc_pre_x_matmul_pad", "hc_pre"), ("hc_pre", "rms_norm"), ("hc_pre", "hc_post"),
    ("hca_rope", "kv_rms_norm_rope"), ("hca_rope", "rope_cs"), ("hca_rope", "rmsnorm_rope"),
    ("rms_norm", "qkv_x_matmul_pad"), ("rms_norm", "kv_score_x_pad"),
    ("kv_score_x_pad", "kv_score_proj"), ("kv_score_proj", "kv_score_unpad"),
    ("kv_score_unpad", "state_scatter_pre"), ("state_scatter_pre", "softmax_pool"),
    ("pooled_pad_init", "softmax_pool"), ("softmax_pool", "rmsnorm_rope"), ("rmsnorm_rope", "kv_finalize"),
    ("hca_overlay_topk", "build_valid"), ("hca_overlay_topk", "qk_pv"), ("build_valid", "qk_pv"),
    ("q_head_rms_nope_rope", "qk_pv"), ("kv_rms_norm_rope", "hca_cache_writeback"),
    ("qk_pv", "merge_norm"), ("merge_norm", "rope"), ("rope_cs", "rope"),
    ("proj_b_act", "hca_cache_writeback"), ("proj_b_act", "hc_post"),
}
GATHER_EDGES = {("kv_rms_norm_rope", "qk_pv"), ("kv_finalize", "qk_pv")}
EXPLICIT_EDGES = {
    ("merge_norm", "proj_o_pad"), ("rope", "proj_o_pad"), ("proj_o_pad", "proj_a_mm"),
    ("proj_a_mm", "quant"), ("quant", "proj_b_mm"), ("proj_b_mm", "proj_b_act"),
}


def kernel_edges(g: TaskGraph) -> set[tuple[str, str]]:
    idx = {t.idx: t for t in g.tasks}
    return {(idx[e.pred].name, idx[e.succ].name) for e in g.edges
            if idx[e.pred].kind == TaskKind.KERNEL and idx[e.succ].kind == TaskKind.KERNEL}


@pytest.mark.parametrize("variant,gather_edges", [("precompute", True), ("baseline", True),
                                                  ("precompute", False)])
def test_layer_edges(variant: str, gather_edges: bool) -> None:
    g = graph(variant, gather_edges)
    exp = LAYER_EDGES | QKV_EDGES | EXPLICIT_EDGES
    if variant == "precompute":
        exp |= {("hca_rope", "q_rope_cs"), ("q_rope_cs", "q_head_rms_nope_rope")}
    else:
        exp |= {("hca_rope", "q_head_rms_nope_rope")}
    if gather_edges:
        exp |= GATHER_EDGES
    assert kernel_edges(g) == exp
    # §9 WAW edges: pooled_pad_init -> softmax_pool and merge_norm -> rope are tracked writes
    idx = {t.idx: t for t in g.tasks}
    waw = {(idx[e.pred].name, idx[e.succ].name) for e in g.edges if e.source == "tensormap"
           and next(a for a in idx[e.succ].args if a.idx == e.arg).dir.value == "INOUT"}
    assert {("pooled_pad_init", "softmax_pool"), ("merge_norm", "rope")} <= waw


def test_tasks_without_predecessor() -> None:
    for variant in ("precompute", "baseline"):
        g = graph(variant)
        has_pred = {s for _, s in kernel_edges(g)}
        roots = [t.name for t in g.kernel_tasks() if t.name not in has_pred]
        assert roots == ["hc_pre_x_matmul_pad", "hca_rope", "qr_proj_seed", "kv_proj_seed", "pooled_pad_init",
                         "hca_overlay_topk"]


def test_gather_edge_switch_only_changes_qk_pv_args() -> None:
    a, b = graph("precompute", True), graph("precompute", False)
    qa, qb = one(a, "qk_pv"), one(b, "qk_pv")
    da = {a.tensors[x.region.tensor].name: x.dir.value for x in qa.args}
    db = {b.tensors[x.region.tensor].name: x.dir.value for x in qb.args}
    assert da["kv"] == "INPUT" and da["cmp_kv"] == "INPUT"
    assert db["kv"] == "NODEP" and db["cmp_kv"] == "NODEP"
    assert {k: v for k, v in da.items() if k not in ("kv", "cmp_kv")} == \
        {k: v for k, v in db.items() if k not in ("kv", "cmp_kv")}
    # two separate recordings in one process: identical programs (op lists incl. deps) in every task
    assert [(t.name, t.kernel_ids, t.blocks) for t in a.tasks] == [(t.name, t.kernel_ids, t.blocks) for t in b.tasks]
    assert [t.model_dump_json() for t in a.tensors] == [t.model_dump_json() for t in b.tensors]


# ---- registry / errors / build time ---------------------------------------------------------------
def test_registry_and_errors() -> None:
    assert set(registry.available()["decode_attention_hca"]) == {"baseline", "precompute"}
    with pytest.raises(UserError, match="mode"):
        registry.build_graph("decode_attention_hca:precompute", mode="prefill")
    with pytest.raises(UserError, match="variant"):
        registry.build_graph("decode_attention_hca:nope", mode="decode")
    with pytest.raises(UserError, match="unknown option.*T"):
        registry.build_graph("decode_attention_hca:baseline", mode="decode", T=16)
    with pytest.raises(UserError, match="start_pos"):
        registry.build_graph("decode_attention_hca:baseline", mode="decode", start_pos=9000)
    with pytest.raises(UserError, match=r"start_pos=511 outside \[0, 510\]"):  # past the state block table
        registry.build_graph("decode_attention_hca:baseline", mode="decode", start_pos=511)


@pytest.mark.bench
def test_bench_build_time() -> None:
    t0 = time.perf_counter()
    registry.build_graph("decode_attention_hca:precompute", mode="decode")
    dt = time.perf_counter() - t0
    print(f"decode_attention_hca:precompute build {dt * 1e3:.0f} ms")
    assert dt < 1.0
