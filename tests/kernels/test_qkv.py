"""qkv_proj_rope graphs against counts taken from the pypto-lib file (tasks, edges, loads, ops per block)."""

from __future__ import annotations

import pytest

from kernels.registry import build_graph
from sim.ir import CoreShape, TaskGraph, TaskKind

KiB = 1024
MiB = 1024 * 1024

# §9, decode, per block: core, blocks, loads, bytes in, stores, bytes out, vector ops, cube ops
DECODE = {
    "qkv_x_matmul_pad": ("AIV", 1, 8, 64 * KiB, 8, 128 * KiB, 8, 0),
    "qr_proj_seed": ("AIV", 1, 0, 0, 8, 64 * KiB, 8, 0),
    "qr_proj_matmul": ("AIC", 16, 16, 576 * KiB, 1, 8 * KiB, 0, 8),
    "qr_rms_norm_quant": ("AIV", 1, 160, 100 * KiB, 65, 16 * KiB + 32, 553, 0),
    "qproj_matmul": ("AIC", 32, 32, 1152 * KiB, 8, 64 * KiB, 0, 16),
    "qproj_dequant": ("AIV", 16, 48, 72 * KiB + 512, 16, 64 * KiB, 48, 0),
    "q_rope_cs": ("AIV", 1, 2, 1 * KiB, 3, 6 * KiB, 21, 0),
    "kv_proj_seed": ("AIV", 1, 0, 0, 4, 32 * KiB, 4, 0),
    "kv_proj_matmul": ("AIC", 16, 8, 288 * KiB, 1, 8 * KiB, 0, 4),
    "kv_rms_norm_rope": ("AIV", 1, 48, 35 * KiB, 15, 8 * KiB, 138, 0),
}
Q_HEAD = {
    "baseline": ("AIV", 32, 34, 66 * KiB, 16, 16 * KiB, 120, 0),
    "precompute": ("AIV", 32, 35, 70 * KiB, 16, 16 * KiB, 98, 0),
}
ORDER = ["qkv_x_matmul_pad", "qr_proj_seed", "qr_proj_matmul", "qr_rms_norm_quant", "qproj_matmul",
         "qproj_dequant", "q_rope_cs", "q_head_rms_nope_rope", "kv_proj_seed", "kv_proj_matmul",
         "kv_rms_norm_rope"]
# edges (producer, consumer); creator edges omitted
EDGES = {
    ("qkv_x_matmul_pad", "qr_proj_matmul"), ("qkv_x_matmul_pad", "kv_proj_matmul"),
    ("qr_proj_seed", "qr_proj_matmul"), ("qr_proj_matmul", "qr_rms_norm_quant"),
    ("qr_rms_norm_quant", "qproj_matmul"), ("qproj_matmul", "qproj_dequant"),
    ("qr_rms_norm_quant", "qproj_dequant"), ("qproj_dequant", "q_head_rms_nope_rope"),
    ("kv_proj_seed", "kv_proj_matmul"), ("kv_proj_matmul", "kv_rms_norm_rope"),
}
E9 = ("q_rope_cs", "q_head_rms_nope_rope")
# §10, prefill, per block: blocks, loads, stores, vector ops, cube ops
PREFILL = {
    "qkv_x_matmul_pad": (8, 8, 8, 8, 0),
    "qr_proj_seed": (1, 0, 64, 64, 0),
    "qr_proj_matmul": (16, 128, 8, 0, 64),
    "qr_rms_norm_quant": (16, 160, 65, 553, 0),
    "qproj_matmul": (32, 256, 64, 0, 128),
    "qproj_dequant": (16, 528, 256, 768, 0),
    "q_rope_cs": (1, 32, 33, 96, 0),
    "kv_proj_seed": (1, 0, 32, 32, 0),
    "kv_proj_matmul": (16, 64, 8, 0, 32),
    "kv_rms_norm_rope": (16, 48, 15, 138, 0),
}
PREFILL_Q_HEAD = {"baseline": (32, 544, 256, 1680, 0), "precompute": (32, 545, 256, 1568, 0)}


@pytest.fixture(scope="module")
def graphs() -> dict[tuple[str, str], TaskGraph]:
    return {(v, m): build_graph(f"qkv_proj_rope:{v}", m) for v in ("baseline", "precompute")
            for m in ("decode", "prefill")}


def _by_name(g: TaskGraph) -> dict:
    return {t.name: t for t in g.kernel_tasks()}


def _block_stats(block) -> tuple[int, int, int, int, int, int]:
    loads = [o for o in block.ops if o.kind == "load"]
    stores = [o for o in block.ops if o.kind == "store"]
    vec = [o for o in block.ops if o.kind == "vec"]
    cube = [o for o in block.ops if o.kind in ("matmul", "matmul_acc")]
    return (len(loads), sum(o.nbytes for o in loads), len(stores), sum(o.nbytes for o in stores),
            len(vec), len(cube))


@pytest.mark.parametrize("variant,tasks,blocks", [("baseline", 10, 117), ("precompute", 11, 118)])
def test_decode_totals(graphs, variant, tasks, blocks):
    g = graphs[(variant, "decode")]
    kt = g.kernel_tasks()
    assert len(kt) == tasks
    assert sum(t.block_num for t in kt) == blocks
    names = [t.name for t in kt]
    assert names == [n for n in ORDER if variant == "precompute" or n != "q_rope_cs"]


@pytest.mark.parametrize("variant", ["baseline", "precompute"])
def test_decode_scopes_match_sanity_table(graphs, variant):
    g = graphs[(variant, "decode")]
    tasks = _by_name(g)
    table = dict(DECODE)
    table["q_head_rms_nope_rope"] = Q_HEAD[variant]
    if variant == "baseline":
        table.pop("q_rope_cs")
    assert set(tasks) == set(table)
    for name, (core, nblk, loads, bin_, stores, bout, vec, cube) in table.items():
        t = tasks[name]
        assert t.shape == CoreShape(core), name
        assert t.block_num == nblk == len(t.blocks), name
        for b in t.blocks:  # every block runs the same program in decode
            assert _block_stats(b) == (loads, bin_, stores, bout, vec, cube), (name, b.idx)


def test_q_head_vector_ops_differ_by_22(graphs):
    vb = _block_stats(_by_name(graphs[("baseline", "decode")])["q_head_rms_nope_rope"].blocks[0])[4]
    vp = _block_stats(_by_name(graphs[("precompute", "decode")])["q_head_rms_nope_rope"].blocks[0])[4]
    assert (vb, vp) == (120, 98)


def test_matmul_shapes_and_atomics(graphs):
    tasks = _by_name(graphs[("precompute", "decode")])
    expect = {"qr_proj_matmul": ([16, 128, 256], "BF16", "FP32", True),
              "qproj_matmul": ([16, 128, 512], "INT8", "INT32", False),
              "kv_proj_matmul": ([16, 128, 256], "BF16", "FP32", True)}
    for name, (mnk, din, dout, atomic) in expect.items():
        for b in tasks[name].blocks:
            cube = [o for o in b.ops if o.kind in ("matmul", "matmul_acc")]
            assert all(o.mnk == mnk and o.in_dtype == din and o.dtype == dout for o in cube), name
            assert cube[0].kind == "matmul"
            stores = [o for o in b.ops if o.kind == "store"]
            assert all(o.atomic == atomic and o.pipe == "FIXPIPE" and o.lane == "aic" for o in stores)
            assert all(o.pipe == "MTE2" and o.lane == "aic" for o in b.ops if o.kind == "load")
            assert sum(1 for o in b.ops if o.kind == "move") == 2 * len(cube)
    whole = sum(o.nbytes for b in tasks["qproj_matmul"].blocks for o in b.ops
                if o.kind == "load" and o.region.tensor == _tensor(graphs[("precompute", "decode")], "wq_b"))
    assert whole == 32 * MiB  # wq_b streamed once


def _tensor(g: TaskGraph, name: str) -> int:
    return next(t.id for t in g.tensors if t.name == name)


def _named_edges(g: TaskGraph) -> set[tuple[str, str]]:
    idx = {t.idx: t for t in g.tasks}
    return {(idx[e.pred].name, idx[e.succ].name) for e in g.edges if e.source != "creator"}


def test_edges_baseline(graphs):
    assert _named_edges(graphs[("baseline", "decode")]) == EDGES


def test_edges_precompute(graphs):
    g = graphs[("precompute", "decode")]
    assert _named_edges(g) == EDGES | {E9}
    idx = {t.idx: t for t in g.tasks}
    e9 = {g.tensors[e.tensor].name for e in g.edges
          if (idx[e.pred].name, idx[e.succ].name) == E9}
    assert e9 == {"q_rope_cos_il", "q_rope_sin_signed", "q_rope_swap_idx"}


def test_waw_edges_come_from_inout_promotion(graphs):
    g = graphs[("baseline", "decode")]
    tasks = _by_name(g)
    for name, tensor in (("qr_proj_matmul", "qr_fp32"), ("kv_proj_matmul", "kv_fp32")):
        arg = next(a for a in tasks[name].args if g.tensors[a.region.tensor].name == tensor)
        assert arg.dir == "INOUT"  # R-prior: the seed scope wrote it first


def test_creator_edges_and_alloc(graphs):
    g = graphs[("precompute", "decode")]
    allocs = [t for t in g.tasks if t.kind == TaskKind.ALLOC]
    assert len(allocs) == 1 and allocs[0].idx == 0 and allocs[0].task_id == 1 << 32
    assert len(allocs[0].allocates) == 9
    for t in g.kernel_tasks():
        assert t.task_id >> 32 == 1
        uses_alloc = any(g.tensors[a.region.tensor].kind == "alloc" for a in t.args)
        has_creator = any(e.source == "creator" and e.succ == t.idx and e.pred == 0 for e in g.edges)
        assert uses_alloc == has_creator


def test_func_ids(graphs):
    g = graphs[("precompute", "decode")]
    assert [g.func_names[i] for i in sorted(g.func_names)] == ORDER
    for t in g.kernel_tasks():
        fid = g.func_names
        lane = 0 if t.shape == CoreShape.AIC else 1
        assert fid[t.kernel_ids[lane]] == t.name


@pytest.mark.parametrize("variant", ["baseline", "precompute"])
def test_prefill_block_counts(graphs, variant):
    g = graphs[(variant, "prefill")]
    kt = g.kernel_tasks()
    assert sum(t.block_num for t in kt) == {"baseline": 154, "precompute": 155}[variant]
    table = dict(PREFILL)
    table["q_head_rms_nope_rope"] = PREFILL_Q_HEAD[variant]
    if variant == "baseline":
        table.pop("q_rope_cs")
    tasks = _by_name(g)
    assert set(tasks) == set(table)
    t_dim, t_matmul = 128, 128
    formulas = {"qkv_x_matmul_pad": t_matmul // 16, "qr_rms_norm_quant": t_dim // 8,
                "kv_rms_norm_rope": t_dim // 8}
    for name, (nblk, loads, stores, vec, cube) in table.items():
        t = tasks[name]
        assert t.block_num == nblk == formulas.get(name, nblk), name
        s = _block_stats(t.blocks[0])
        assert (s[0], s[2], s[4], s[5]) == (loads, stores, vec, cube), name


def test_prefill_bytes(graphs):
    tasks = _by_name(graphs[("baseline", "prefill")])
    s = _block_stats(tasks["q_head_rms_nope_rope"].blocks[0])
    assert (s[1], s[3]) == (1056 * KiB, 256 * KiB)
    s = _block_stats(tasks["qr_proj_matmul"].blocks[0])
    assert s[1] == 4 * MiB + 512 * KiB
    tasks = _by_name(graphs[("precompute", "prefill")])
    assert _block_stats(tasks["q_head_rms_nope_rope"].blocks[0])[1] == 1090 * KiB


def test_decode_pad_reads_valid_rows_only(graphs):
    b = _by_name(graphs[("baseline", "decode")])["qkv_x_matmul_pad"].blocks[0]
    load = next(o for o in b.ops if o.kind == "load")
    assert load.shape == [8, 512] and load.rows == 8 and load.row_bytes == 1024
    store = next(o for o in b.ops if o.kind == "store")
    assert store.shape == [16, 512] and store.nbytes == 16 * KiB


def test_q_store_region_maps_through_reshape(graphs):
    g = graphs[("baseline", "decode")]
    t = _by_name(g)["q_head_rms_nope_rope"]
    q = _tensor(g, "q")
    stores = [o for o in t.blocks[3].ops if o.kind == "store"]
    assert all(o.region.tensor == q and o.region.shape == [8, 1, 64] for o in stores)
    assert {o.region.offset[1] for o in stores} == {6, 7}  # block 3 = heads 6 and 7
    assert all(o.rows == 8 and o.row_bytes == 128 for o in stores)


def test_pipeline_double_buffering_has_war_deps(graphs):
    b = _by_name(graphs[("baseline", "decode")])["qr_proj_matmul"].blocks[0]
    loads = [i for i, o in enumerate(b.ops) if o.kind == "load"]
    # with stage=2 the third A load reuses the first A slot: it waits for that slot's move
    third_a = loads[4]
    assert b.ops[third_a].deps, "ring-slot reuse must create a WAR dep"
    assert all(b.ops[d].kind == "move" for d in b.ops[third_a].deps)
    assert not b.ops[loads[2]].deps  # second A load uses the other slot


def test_bad_T_is_a_user_error():
    from sim.util.errors import UserError

    with pytest.raises(UserError, match=r"qkv_proj_rope: scope qr_rms_norm_quant: T=12"):
        build_graph("qkv_proj_rope", "decode", T=12)
