"""In-core cost model: per-op formulas, list scheduling, pipelining, L2 effects, MIX lanes, attribution."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwmodels import CoreCostModel, L2State, load_chip
from hwmodels.incore import PIPES, cube_cycles, drain_cycles, vector_op_parts, vector_repeats
from sim.ir import Block, Op, Region, Task, TaskGraph, Tensor

CHIP = load_chip()
BIG = Tensor(id=0, name="x", shape=[1024, 32768], dtype="FP32", kind="param")
OUT = Tensor(id=1, name="y", shape=[1024, 32768], dtype="FP32", kind="param")
TMP = Tensor(id=2, name="t", shape=[1024, 32768], dtype="FP32", kind="alloc")


def graph(*blocks: Block, shape: str = "AIV", kernel_ids: list[int] | None = None) -> TaskGraph:
    t = Task(idx=0, task_id=0, name="k", shape=shape, block_num=len(blocks), blocks=list(blocks),
             kernel_ids=kernel_ids or [-1, 0, -1])
    return TaskGraph(kernel="t", tensors=[BIG, OUT, TMP], tasks=[t])


def prof(g: TaskGraph, init: str = "inputs_warm", chip=CHIP, l2: L2State | None = None) -> dict:  # noqa: ANN001
    m = CoreCostModel(chip)
    l2 = l2 or L2State(chip, g, init)
    t = g.tasks[0]
    return m.profile(t, t.blocks[0], l2)


def load(row0: int, col0: int, rows: int, cols: int, deps: list[int] | None = None, tensor: int = 0,
         lane: str = "aiv0") -> Op:
    return Op(kind="load", name="load", pipe="MTE2", lane=lane, dtype="FP32", shape=[rows, cols],
              nbytes=rows * cols * 4, rows=rows, row_bytes=cols * 4,
              region=Region(tensor=tensor, offset=[row0, col0], shape=[rows, cols]), deps=deps or [])


def vec(name: str, shape: list[int], deps: list[int], dtype: str = "FP32", **kw) -> Op:  # noqa: ANN003
    return Op(kind="vec", name=name, pipe="VECTOR", dtype=dtype, shape=shape, deps=deps, **kw)


def store(row0: int, col0: int, rows: int, cols: int, deps: list[int], tensor: int = 1) -> Op:
    return Op(kind="store", name="store", pipe="MTE3", dtype="FP32", shape=[rows, cols], nbytes=rows * cols * 4,
              rows=rows, row_bytes=cols * 4, region=Region(tensor=tensor, offset=[row0, col0], shape=[rows, cols]),
              deps=deps)


# --- per-op formulas --------------------------------------------------------------------------------

def test_vector_cost_grows_with_repeats() -> None:
    assert vector_repeats(CHIP, [8, 64], 4) == 8  # 2 KiB = 8 x 256 B
    assert vector_repeats(CHIP, [8, 1], 4) == 1  # rows padded to 32 B
    f1, _, a1 = vector_op_parts(CHIP, "add", [8, 64], "FP32")
    f2, _, a2 = vector_op_parts(CHIP, "add", [64, 64], "FP32")
    f3, _, a3 = vector_op_parts(CHIP, "add", [64, 1024], "FP32")
    assert f1 == f2 == f3 == CHIP.vector.op_fixed_ns
    assert a1 < a2 < a3
    assert a2 == pytest.approx(64 * 1000 / CHIP.soc.vec_freq_mhz)  # 64 repeats at 1 repeat/cycle
    # op classes: reductions and transcendentals cost more per repeat; cast hops multiply
    assert vector_op_parts(CHIP, "row_sum", [64, 64], "FP32")[2] > a2
    assert vector_op_parts(CHIP, "exp", [64, 64], "FP32")[2] > a2
    one = vector_op_parts(CHIP, "cast", [64, 64], "INT8", in_dtype="FP32", hops=1)
    two = vector_op_parts(CHIP, "cast", [64, 64], "INT8", in_dtype="FP32", hops=2)
    one, two = one[0] + one[2], two[0] + two[2]  # fixed + ALU
    assert two == pytest.approx(2 * one)


def test_expand_ops_are_classified_by_exact_name_not_as_exp() -> None:
    """``row_expand_mul`` / ``col_expand_mul`` are multiplies (an add's ALU cost), not ``exp``; ``col_expand`` is
    a copy; ``row_expand_div`` is a divide; ``rsqrt`` costs a one-source op; ``col_expand_expdif`` is the
    subtract plus the exp."""
    v = CHIP.vector
    add = vector_op_parts(CHIP, "add", [64, 64], "FP32")[2]
    for name in ("row_expand_mul", "col_expand_mul", "row_expand_add", "col_expand_sub", "muls"):
        assert vector_op_parts(CHIP, name, [64, 64], "FP32")[2] == pytest.approx(add), name
    assert vector_op_parts(CHIP, "col_expand", [64, 64], "FP32")[2] == pytest.approx(v.factor_copy * add)
    assert vector_op_parts(CHIP, "row_expand_div", [64, 64], "FP32")[2] == pytest.approx(v.factor_div * add)
    assert vector_op_parts(CHIP, "rsqrt", [64, 64], "FP32")[2] == pytest.approx(add)  # measured 1.07
    assert vector_op_parts(CHIP, "col_expand_expdif", [64, 64], "FP32")[2] == pytest.approx(
        (v.factor_unary_transcendental + 1.0) * add)
    assert vector_op_parts(CHIP, "exp", [64, 64], "FP32")[2] == pytest.approx(v.factor_unary_transcendental * add)


def test_two_source_ops_cost_factor_binary_one_source_ops_one_and_sorts_their_factors() -> None:
    chip = load_chip(overrides=["vector.factor_binary=2"])
    v = chip.vector
    one = vector_op_parts(chip, "muls", [64, 64], "FP32")[2]  # a scalar operand: one vector source
    for name in ("add", "mul", "maximum", "row_expand_mul", "col_expand_sub"):
        assert vector_op_parts(chip, name, [64, 64], "FP32")[2] == pytest.approx(2 * one), name
    for name in ("adds", "maximums", "relu", "neg", "cast"):
        assert vector_op_parts(chip, name, [64, 64], "FP32")[2] == pytest.approx(one), name
    assert vector_op_parts(chip, "col_expand_expdif", [64, 64], "FP32")[2] == pytest.approx(
        (v.factor_unary_transcendental + 2) * one)
    assert vector_op_parts(chip, "mrgsort", [64, 64], "FP32")[2] == pytest.approx(v.factor_mrgsort * one)
    assert vector_op_parts(chip, "sort32", [64, 64], "FP32")[2] == pytest.approx(v.factor_sort32 * one)


def test_vector_block_duration_grows_with_repeats() -> None:
    small = prof(graph(Block(idx=0, ops=[vec("add", [8, 64], [])])))["aiv0"].compute_ns
    big = prof(graph(Block(idx=0, ops=[vec("add", [256, 64], [])])))["aiv0"].compute_ns
    assert big > small


def test_cube_formula_16x128x256_bf16() -> None:
    # L0 tile: m0=16, n0=128 (L0C ok); L0B half = 32 KiB -> k0 = 128 (128*128*2 B), so 2 K blocks.
    # C_mad = 2 * 21 + p(1) * ceil(16/16) * K_frac(2*8) * ceil(128/16) = 42 + 128 = 170 cycles
    c_mad, _, kb = cube_cycles(CHIP, 16, 128, 256, "BF16")
    assert c_mad == 170 and kb == 2
    # read as M x K x N (docs/model.md §3.4 notation): M=16, K=128, N=256 -> k0 = 64 (64*256*2 = 32 KiB),
    # 2 K blocks, K_frac = 2*4 -> 42 + 1 * 8 * 16 = 170 as well
    assert cube_cycles(CHIP, 16, 256, 128, "BF16")[0] == 170
    one_buf = load_chip(overrides=["cube.l0_double_buffer=false"])
    assert cube_cycles(one_buf, 16, 128, 256, "BF16")[0] == 21 + 16 * 8  # one K block
    # INT8: k_t = 32 -> 16x128x512: k0=256 (32 KiB), 2 blocks, K_frac = 16 -> 42 + 128
    assert cube_cycles(CHIP, 16, 128, 512, "INT8")[0] == 170
    # FP32: k_t = 8, p = 2 -> 16x16x64: one block, K_frac = 8 -> 21 + 2*8
    assert cube_cycles(CHIP, 16, 16, 64, "FP32")[0] == 21 + 16


def test_fixpipe_drain_formula() -> None:
    assert drain_cycles(CHIP, 16, 128) == pytest.approx(164 + 16 * 4.45)  # per-row floor dominates
    # n=80: N1 = 10, odd = 5 -> penalty 2.6 * 4 per row
    assert drain_cycles(CHIP, 16, 80) == pytest.approx(164 + 16 * (4.45 + 2.6 * 4))
    # wide n: throughput term 4 * 256 / 118 per row
    assert drain_cycles(CHIP, 16, 256) == pytest.approx(164 + 16 * (4 * 256 / 118))


# --- DMA, over-fetch and L2 -------------------------------------------------------------------------

def test_overfetch_narrow_rows_cost_more() -> None:
    # same 64 KiB payload: 512 rows of 128 B vs 128 rows of 512 B, cold L2
    narrow = prof(graph(Block(idx=0, ops=[load(0, 0, 512, 32)])), "cold")["aiv0"]
    wide = prof(graph(Block(idx=0, ops=[load(0, 0, 128, 128)])), "cold")["aiv0"]
    assert narrow.hbm_bytes == 512 * 512 > wide.hbm_bytes == 128 * 512
    assert narrow.compute_ns > wide.compute_ns


def test_l2_line_bytes_count_whole_lines_hit_or_miss() -> None:
    """A lane's L2 line bytes (what the aggregate L2 bandwidth limit shares) are every line its DMA ops
    move, hits included: rows under 512 B move a whole line each, wider rows their bytes."""
    narrow = Block(idx=0, ops=[load(0, 0, 512, 32)])  # 512 rows of 128 B
    for init in ("cold", "warm"):
        assert prof(graph(narrow), init)["aiv0"].l2_bytes == 512 * 512
    wide = Block(idx=0, ops=[load(0, 0, 16, 1024), store(0, 0, 16, 1024, [0])])  # 16 rows of 4 KiB, both ways
    assert prof(graph(wide), "warm")["aiv0"].l2_bytes == 2 * 16 * 4096


def test_l2_hit_vs_miss() -> None:
    blk = Block(idx=0, ops=[load(0, 0, 64, 128), vec("add", [64, 128], [0])])
    g = graph(blk)
    cold = prof(g, "cold")["aiv0"]
    warm = prof(g, "warm")["aiv0"]
    assert cold.compute_ns > warm.compute_ns
    assert cold.hbm_bytes == 64 * 512 and warm.hbm_bytes == 0
    assert cold.breakdown.get("l2_miss_latency", 0) > 0 and "l2_miss_latency" not in warm.breakdown
    # the same L2 state remembers: a second run of the block hits
    m = CoreCostModel(CHIP)
    l2 = L2State(CHIP, g, "cold")
    first = m.profile(g.tasks[0], blk, l2)["aiv0"]
    second = m.profile(g.tasks[0], blk, l2)["aiv0"]
    assert second.compute_ns < first.compute_ns and second.hbm_bytes == 0
    # inputs_warm: params resident, allocs not
    t_blk = Block(idx=0, ops=[load(0, 0, 64, 128, tensor=2)])
    assert prof(graph(t_blk), "inputs_warm")["aiv0"].hbm_bytes == 64 * 512
    assert prof(graph(Block(idx=0, ops=[load(0, 0, 64, 128, tensor=1)])), "inputs_warm")["aiv0"].hbm_bytes == 0


def test_inputs_warm_keeps_the_last_written_parameters_when_they_overfill_l2() -> None:
    """The harness writes the parameters in order before the launch, so the L2 (192 MiB) holds the last
    ones: all of ``y`` (128 MiB, written last) and the second half of ``x``, not its first half."""
    def hbm(row0: int, tensor: int) -> float:
        return prof(graph(Block(idx=0, ops=[load(row0, 0, 64, 128, tensor=tensor)])), "inputs_warm")["aiv0"].hbm_bytes

    assert hbm(0, 1) == 0 and hbm(1024 - 64, 1) == 0
    assert hbm(1024 - 64, 0) == 0 and hbm(512, 0) == 0
    assert hbm(0, 0) == hbm(512 - 64, 0) == 64 * 512


def test_store_then_load_hits_and_writes_count_once() -> None:
    g = graph(Block(idx=0, ops=[store(0, 0, 8, 128, [], tensor=2), store(0, 0, 8, 128, [], tensor=2)]))
    l2 = L2State(CHIP, g, "cold")
    p = prof(g, l2=l2)["aiv0"]
    assert p.hbm_bytes == 8 * 512  # second store re-dirties nothing new
    p2 = prof(graph(Block(idx=0, ops=[load(0, 0, 8, 128, tensor=2)])), l2=l2)["aiv0"]
    assert p2.hbm_bytes == 0


# --- scheduling ---------------------------------------------------------------------------------------

def _loop(n: int, war_distance: int) -> Block:
    """load -> mul -> row_sum per iteration; the load of i waits (WAR) for iteration i - war_distance."""
    ops: list[Op] = []
    last: list[int] = []
    for i in range(n):
        deps = [last[i - war_distance]] if i >= war_distance else []
        ops.append(load(0, 256 * i, 8, 256, deps))
        ld = len(ops) - 1
        ops.append(vec("mul", [8, 256], [ld]))
        ops.append(vec("row_sum", [8, 256], [len(ops) - 1]))
        last.append(len(ops) - 1)
    return Block(idx=0, ops=ops)


def test_stage2_pipelining_beats_serial() -> None:
    piped = prof(graph(_loop(8, 2)), "cold")["aiv0"]
    serial = prof(graph(_loop(8, 1)), "cold")["aiv0"]
    assert piped.compute_ns < serial.compute_ns
    assert piped.pipe_busy_ns == pytest.approx(serial.pipe_busy_ns)  # same work, more overlap


def test_mix_idle_lane_ends_close_to_worker() -> None:
    """MIX without split: aic matmul -> push -> aiv0 pop + vector work; aiv1 only replays handshakes."""
    ops = [
        Op(kind="load", name="load", pipe="MTE2", lane="aic", dtype="BF16", shape=[16, 256], nbytes=8192, rows=16,
           row_bytes=512, region=Region(tensor=0, offset=[0, 0], shape=[16, 256])),
        Op(kind="matmul", name="matmul", pipe="CUBE", lane="aic", dtype="FP32", shape=[16, 128], mnk=[16, 128, 256],
           in_dtype="BF16", deps=[0]),
        Op(kind="handoff", name="push", pipe="FIXPIPE", lane="aic", dtype="FP32", shape=[16, 128], nbytes=8192,
           deps=[1]),
        Op(kind="handoff", name="pop", pipe="MTE2", lane="aiv0", dtype="FP32", shape=[16, 128], nbytes=8192,
           deps=[2]),
        Op(kind="handoff", name="pop", pipe="MTE2", lane="aiv1", dtype="FP32", shape=[16, 128], nbytes=0, deps=[2]),
        vec("mul", [16, 128], [3]),
        vec("add", [16, 128], [5]),
        store(0, 0, 16, 128, [6]),
        Op(kind="handoff", name="store", pipe="MTE3", lane="aiv1", dtype="FP32", shape=[16, 128], nbytes=0,
           deps=[4]),
    ]
    g = graph(Block(idx=0, ops=ops), shape="MIX", kernel_ids=[0, 1, 1])
    p = prof(g)
    assert set(p) == {"aic", "aiv0", "aiv1"}
    a0, a1 = p["aiv0"], p["aiv1"]
    assert a1.compute_ns <= a0.compute_ns
    assert a1.compute_ns > 0.5 * a0.compute_ns  # it waits for the same cube handoff
    assert a1.breakdown["handoff_wait"] > 0 and a1.hbm_bytes == 0
    assert a1.pipe_busy_ns["VECTOR"] == 0
    assert p["aic"].pipe_busy_ns["CUBE"] > 0 and p["aic"].pipe_busy_ns["MTE1"] > 0  # implicit L1->L0 staging


def test_explicit_mte1_overlaps_cube() -> None:
    mv_a = Op(kind="move", name="l1_to_l0a", pipe="MTE1", lane="aic", dtype="BF16", shape=[128, 1024], nbytes=262144)
    mv_b = Op(kind="move", name="l1_to_l0b", pipe="MTE1", lane="aic", dtype="BF16", shape=[1024, 128], nbytes=262144)
    mm = Op(kind="matmul", name="matmul", pipe="CUBE", lane="aic", dtype="FP32", shape=[128, 128],
            mnk=[128, 128, 1024], in_dtype="BF16", deps=[0, 1])
    p = prof(graph(Block(idx=0, ops=[mv_a, mv_b, mm]), shape="AIC", kernel_ids=[0, -1, -1]))["aic"]
    busy = p.pipe_busy_ns
    serial = busy["MTE1"] + busy["CUBE"]
    assert p.compute_ns - CHIP.core.kernel_prologue_ns - CHIP.core.kernel_epilogue_ns < serial
    assert p.compute_ns - CHIP.core.kernel_prologue_ns - CHIP.core.kernel_epilogue_ns >= busy["MTE1"]


def test_identical_programs_memoised_and_deterministic() -> None:
    b0 = _loop(4, 2)
    b1 = Block(idx=1, ops=[o.model_copy(update={"region": Region(tensor=0, offset=[8, o.region.offset[1]],
                                                                 shape=o.region.shape)}) if o.region else o
                           for o in b0.ops])
    g = graph(b0, b1)
    m = CoreCostModel(CHIP)
    l2 = L2State(CHIP, g, "warm")
    p0 = m.profile(g.tasks[0], b0, l2)
    p1 = m.profile(g.tasks[0], b1, l2)
    assert p0 == p1
    p1["aiv0"].breakdown["vector"] = -1.0  # returned objects are copies
    assert m.profile(g.tasks[0], b0, l2) == p0


# --- properties over random programs ----------------------------------------------------------------

@st.composite
def programs(draw: st.DrawFn) -> list[Op]:
    n = draw(st.integers(1, 25))
    ops: list[Op] = []
    for i in range(n):
        kind = draw(st.sampled_from(["load", "vec", "store", "scalar", "vec_row", "load_narrow"]))
        deps = sorted(set(draw(st.lists(st.integers(0, i - 1), max_size=3)))) if i else []
        row = draw(st.integers(0, 64))
        col = draw(st.integers(0, 127)) * 256
        if kind == "load":
            ops.append(load(row, col, 8, 128, deps))
        elif kind == "load_narrow":
            ops.append(load(row, col, 16, 32, deps, tensor=2))
        elif kind == "vec":
            ops.append(vec(draw(st.sampled_from(["add", "exp", "cast", "gather"])), [8, 128], deps))
        elif kind == "vec_row":
            ops.append(vec("row_max", [draw(st.integers(1, 64)), 128], deps))
        elif kind == "store":
            ops.append(store(row, col, 8, 128, deps, tensor=draw(st.sampled_from([1, 2]))))
        else:
            ops.append(Op(kind="scalar", name=draw(st.sampled_from(["read", "write"])), pipe="SCALAR", shape=[1],
                          nbytes=4, region=Region(tensor=0, offset=[row, col], shape=[1, 1]), deps=deps))
    return ops


@settings(max_examples=60, deadline=None)
@given(programs(), st.sampled_from(["cold", "inputs_warm", "warm"]))
def test_profile_invariants(ops: list[Op], init: str) -> None:
    g = graph(Block(idx=0, ops=ops))
    p = prof(g, init)["aiv0"]
    assert sum(p.breakdown.values()) == pytest.approx(p.compute_ns, rel=1e-9, abs=1e-6)
    assert all(v >= -1e-9 for v in p.breakdown.values())
    body = p.compute_ns - CHIP.core.kernel_prologue_ns - CHIP.core.kernel_epilogue_ns
    for pipe in PIPES:
        assert p.pipe_busy_ns[pipe] <= body + 1e-6
    assert p == prof(g, init)["aiv0"]  # deterministic
    # slower vector issue never makes the block faster (no scheduling anomalies)
    slow = load_chip(overrides=["vector.op_fixed_ns=400"])
    assert prof(g, init, chip=slow)["aiv0"].compute_ns >= p.compute_ns - 1e-6


def test_scalar_reads_hit_the_data_cache() -> None:
    def rd(col: int) -> Op:
        return Op(kind="scalar", name="read", pipe="SCALAR", dtype="INT32", shape=[1], nbytes=4,
                  region=Region(tensor=0, offset=[0, col], shape=[1, 1]))

    same = prof(graph(Block(idx=0, ops=[rd(0) for _ in range(16)])), "warm")["aiv0"]
    spread = prof(graph(Block(idx=0, ops=[rd(128 * i) for i in range(16)])), "warm")["aiv0"]  # 16 lines
    assert same.compute_ns < spread.compute_ns
    assert spread.breakdown["l2_hit_latency"] > same.breakdown["l2_hit_latency"] > 0
    tiny = load_chip(overrides=["core.scalar_dcache_bytes=0"])
    assert prof(graph(Block(idx=0, ops=[rd(0), rd(128), rd(0)])), "warm", chip=tiny)["aiv0"].compute_ns > \
        prof(graph(Block(idx=0, ops=[rd(0), rd(128), rd(0)])), "warm")["aiv0"].compute_ns


def test_atomic_store_costs_more() -> None:
    plain = store(0, 0, 64, 128, [], tensor=2)
    atomic = plain.model_copy(update={"atomic": True})
    assert prof(graph(Block(idx=0, ops=[atomic])))["aiv0"].compute_ns > \
        prof(graph(Block(idx=0, ops=[plain])))["aiv0"].compute_ns


def test_op_timeline_matches_the_profile_and_chains_the_critical_path() -> None:
    ops = [load(0, 0, 8, 64), vec("mul", [8, 64], [0]), load(8, 0, 8, 64), vec("row_sum", [8, 64], [1]),
           vec("add", [8, 64], [2, 3]), vec("cast", [8, 64], [4], dtype="BF16")]
    g = graph(Block(idx=0, ops=ops))
    m = CoreCostModel(CHIP)
    t = g.tasks[0]
    tl = m.op_timeline(t, t.blocks[0], L2State(CHIP, g, "inputs_warm"))
    p = m.profile(t, t.blocks[0], L2State(CHIP, g, "inputs_warm"))["aiv0"]
    assert [o.index for o in tl] == list(range(len(ops)))
    pro = CHIP.core.kernel_prologue_ns + CHIP.core.kernel_epilogue_ns
    assert max(o.ready_ns for o in tl) + pro == pytest.approx(p.compute_ns)
    for o in tl:
        assert o.start_ns <= o.busy_end_ns <= o.ready_ns
        if o.waited_for >= 0:
            assert tl[o.waited_for].index < o.index
    # the critical path is a chain from the op that ends last back to an op that waited for nothing
    crit = [o for o in tl if o.critical]
    last = max(tl, key=lambda o: o.ready_ns)
    assert last.critical
    chain, cur = [], last
    while cur.waited_for >= 0 and tl[cur.waited_for].critical:
        chain.append(cur.index)
        cur = tl[cur.waited_for]
    chain.append(cur.index)
    assert sorted(chain) == [o.index for o in crit]
