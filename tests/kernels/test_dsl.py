"""The recording DSL on small kernels: core shapes, lanes, hand-offs, WAR slots, scopes, names."""

from __future__ import annotations

import numpy as np
import pytest

import kernels.language as pl
from sim.ir import ArgDir, CoreShape, TaskKind
from sim.util.errors import InputWarning, UserError

T = pl.dynamic("T")


@pl.jit
def three_shapes(x: pl.Tensor[[T, 256], pl.BF16], w: pl.Tensor[[256, 128], pl.BF16],
                 out: pl.Out[pl.Tensor[[T, 128], pl.FP32]], y: pl.Out[pl.Tensor[[T, 256], pl.BF16]]):
    tmp = pl.create_tensor([16, 128], pl.FP32, name="tmp")
    for _b in pl.spmd(1, name_hint="vec"):
        for k in pl.pipeline(4, stage=2):
            t = pl.cast(x[0:8, 64 * k:64 * k + 64], pl.FP32)
            y[0:8, 64 * k:64 * k + 64] = pl.cast(pl.mul(t, t), pl.BF16, mode="rint")
    with pl.spmd(2, name_hint="mm") as tid:
        b = pl.get_block_idx()
        a = pl.slice(x, [16, 128], [0, 0], valid_shape=[8, 128])
        acc = pl.matmul(a, w[0:128, 64 * b:64 * b + 64])
        acc = pl.matmul_acc(acc, pl.slice(x, [16, 128], [0, 128], valid_shape=[8, 128]),
                            w[128:256, 64 * b:64 * b + 64])
        tmp[0:16, 64 * b:64 * b + 64] = acc
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="mix", deps=[tid]):
        c = pl.matmul(pl.slice(x, [16, 256], [0, 0], valid_shape=[8, 256]), w)
        r = pl.row_sum(c)
        out[0:8, 0:128] = pl.row_expand_mul(c, r)[0:8, :]


@pytest.fixture(scope="module")
def g3():
    return pl.record(three_shapes, dyn={"T": 8})


def test_core_shapes_and_kernel_ids(g3):
    kt = g3.kernel_tasks()
    assert [(t.name, t.shape, t.block_num) for t in kt] == [
        ("vec", CoreShape.AIV, 1), ("mm", CoreShape.AIC, 2), ("mix", CoreShape.MIX, 1)]
    assert [t.kernel_ids for t in kt] == [[-1, 0, -1], [1, -1, -1], [2, 3, 3]]
    assert g3.func_names == {0: "vec", 1: "mm", 2: "mix_aic", 3: "mix_aiv"}


def test_alloc_task_first_and_creator(g3):
    assert g3.tasks[0].kind == TaskKind.ALLOC and g3.tasks[0].task_id == 1 << 32
    tmp = next(t for t in g3.tensors if t.name == "tmp")
    assert tmp.creator == 0 and tmp.kind == "alloc" and tmp.nbytes == 16 * 128 * 4


def test_aic_lowering(g3):
    mm = g3.kernel_tasks()[1]
    ops = mm.blocks[1].ops
    assert [o.kind for o in ops] == ["load", "load", "move", "move", "matmul", "load", "load", "move",
                                     "move", "matmul_acc", "store"]
    assert all(o.lane == "aic" for o in ops)
    assert ops[4].mnk == [16, 64, 128] and ops[4].deps == [2, 3]
    assert ops[9].deps == [4, 7, 8]
    assert ops[1].region.offset == [0, 64]  # block 1's column window (with-form re-executed)
    assert ops[0].nbytes == 8 * 128 * 2 and ops[2].nbytes == 16 * 128 * 2  # valid rows vs L0 tile
    assert ops[10].pipe == "FIXPIPE" and ops[10].deps == [9]


def test_mix_handoff_and_lane1_replay(g3):
    ops = g3.kernel_tasks()[2].blocks[0].ops
    push = next(i for i, o in enumerate(ops) if o.kind == "handoff" and o.name == "push")
    assert ops[push].lane == "aic" and ops[push].pipe == "FIXPIPE" and ops[push].nbytes == 16 * 128 * 4
    pops = [o for o in ops if o.kind == "handoff" and o.name == "pop"]
    assert {o.lane for o in pops} == {"aiv0", "aiv1"}
    assert all(push in o.deps for o in pops)
    assert next(o for o in pops if o.lane == "aiv1").nbytes == 0
    assert not any(o.lane == "aiv1" and o.kind != "handoff" for o in ops)
    vec = [o for o in ops if o.kind == "vec"]
    assert all(o.lane == "aiv0" for o in vec)


def test_pipeline_slots_give_war_deps(g3):
    ops = g3.kernel_tasks()[0].blocks[0].ops
    loads = [i for i, o in enumerate(ops) if o.kind == "load"]
    assert ops[loads[0]].deps == [] and ops[loads[1]].deps == []
    # iteration 2 reuses slot 0: waits for the reader (cast) of iteration 0's load
    assert ops[loads[2]].deps == [loads[0] + 1]


@pl.jit
def pipelined_matmuls(x: pl.Tensor[[16, 128], pl.BF16], w: pl.Tensor[[128, 256], pl.BF16],
                      out: pl.Out[pl.Tensor[[16, 256], pl.FP32]]):
    for _b in pl.spmd(1, name_hint="mm"):
        for k in pl.pipeline(4, stage=2):
            out[0:16, 64 * k:64 * k + 64] = pl.matmul(x, w[0:128, 64 * k:64 * k + 64])


def test_a_fresh_accumulator_keeps_one_l0c_buffer_across_pipeline_stages():
    ops = pl.record(pipelined_matmuls).kernel_tasks()[0].blocks[0].ops
    mms = [i for i, o in enumerate(ops) if o.kind == "matmul"]
    drains = [i for i, o in enumerate(ops) if o.kind == "store"]
    assert len(mms) == 4 and len(drains) == 4 and all(ops[i].pipe == "FIXPIPE" for i in drains)
    assert not any(d in drains for d in ops[mms[0]].deps)
    # every later stage's matmul waits for the drain of the previous one (one accumulator buffer) ...
    for prev, nxt in zip(drains, mms[1:], strict=False):
        assert prev in ops[nxt].deps
    # ... while its operand loads still run a stage ahead (a buffer per stage)
    loads = [i for i, o in enumerate(ops) if o.kind == "load"]
    assert not any(d in drains or d in mms for i in loads[:4] for d in ops[i].deps)


def test_directions_and_explicit_edge(g3):
    vec, mm, mix = g3.kernel_tasks()
    names = {t.id: t.name for t in g3.tensors}
    assert [(names[a.region.tensor], a.dir) for a in vec.args] == [("x", ArgDir.INPUT),
                                                                  ("y", ArgDir.OUTPUT_EXISTING)]
    assert mix.explicit_deps == [mm.idx]
    assert any(e.source == "explicit" and e.pred == mm.idx and e.succ == mix.idx for e in g3.edges)


# ---------------------------------------------------------------------------------------------
@pl.jit
def loops(a: pl.Tensor[[64, 64], pl.FP32], b: pl.Out[pl.Tensor[[64, 64], pl.FP32]],
          c: pl.Out[pl.Tensor[[64, 64], pl.FP32]]):
    for i in pl.range(2):
        tmp = pl.create_tensor([8, 64], pl.FP32, name=f"tmp{i}")
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="seq"):
            tmp[0:8, :] = a[8 * i:8 * i + 8, :]
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="seq_w"):
            b[8 * i:8 * i + 8, :] = tmp[0:8, :]
    bv = [pl.slice(c, [8, 64], [16 + 8 * j, 0]) for j in range(2)]
    for j in pl.parallel(2):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="par"):
            bv[j][0:8, :] = a[0:8, :]
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="after"):
        b[32:40, :] = a[0:8, :]


def test_orchestration_loops_scopes_and_promotion():
    g = pl.record(loops)
    kinds = [(t.kind.value, t.name, t.task_id >> 32, t.task_id & 0xFFFFFFFF) for t in g.tasks]
    assert kinds == [("alloc", "alloc_tensors", 2, 0), ("kernel", "seq", 2, 1), ("kernel", "seq_w", 2, 2),
                     ("alloc", "alloc_tensors", 2, 3), ("kernel", "seq", 2, 4), ("kernel", "seq_w", 2, 5),
                     ("kernel", "par", 2, 6), ("kernel", "par", 2, 7), ("kernel", "after", 1, 0)]
    dirs = {t.idx: [a.dir for a in t.args] for t in g.tasks}
    assert dirs[2] == [ArgDir.INPUT, ArgDir.INOUT]  # R-seq inside pl.range
    assert dirs[6] == [ArgDir.INPUT, ArgDir.OUTPUT_EXISTING]  # no R-seq in pl.parallel (and no prior write)
    assert dirs[8] == [ArgDir.INPUT, ArgDir.INOUT]  # R-prior: b was written earlier in the function
    pairs = {(e.pred, e.succ, e.source) for e in g.edges}
    assert (0, 1, "creator") in pairs and (3, 4, "creator") in pairs
    assert (1, 2, "tensormap") in pairs and (4, 5, "tensormap") in pairs
    assert (2, 5, "tensormap") in pairs  # b chained across iterations (INOUT lookup)
    assert not any(p in (6, 7) and s in (6, 7) for p, s, _ in pairs)  # disjoint parallel views
    # the parallel views' regions are the orchestration windows
    assert g.tasks[6].args[1].region.offset == [16, 0] and g.tasks[7].args[1].region.offset == [24, 0]


@pl.jit
def manual(a: pl.Tensor[[16, 64], pl.FP32], b: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
    tids = pl.array.create(2, pl.TASK_ID)
    with pl.manual_scope():
        for i in pl.range(2):
            with pl.at(level=pl.Level.CORE_GROUP, name_hint="w") as t:
                b[8 * i:8 * i + 8, :] = a[8 * i:8 * i + 8, :]
            tids[i] = t
    d = pl.system.task_dummy(deps=[tids])
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="r", deps=[d]):
        a[0:8, :] = b[0:8, :]


def test_manual_scope_dummy_and_arrays():
    g = pl.record(manual)
    w0, w1, dummy, r = g.tasks
    assert (w0.scope, w1.scope, dummy.kind, dummy.shape) == ("manual", "manual", TaskKind.DUMMY, CoreShape.DUMMY)
    assert dummy.kernel_ids == [-1, -1, -1] and dummy.explicit_deps == [0, 1]
    assert r.explicit_deps == [2]
    # nothing written inside the manual scope is registered: r's read of b finds no writer
    assert {(e.pred, e.succ, e.source) for e in g.edges} == {(0, 2, "explicit"), (1, 2, "explicit"),
                                                              (2, 3, "explicit")}
    # function body 1, manual scope 2; loop bodies inside a manual scope open no AUTO scope (pypto
    # MaterializeRuntimeScopes)
    assert w0.task_id >> 32 == 2 and w1.task_id >> 32 == 2


@pl.jit
def manual_loop_alloc(a: pl.Tensor[[16, 64], pl.FP32], b: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
    with pl.manual_scope():
        for i in pl.range(2):
            c = pl.create_tensor([8, 64], dtype=pl.FP32)
            with pl.at(level=pl.Level.CORE_GROUP, name_hint="w"):
                c[0:8, :] = a[8 * i:8 * i + 8, :]
            with pl.at(level=pl.Level.CORE_GROUP, name_hint="w2"):
                b[8 * i:8 * i + 8, :] = c[0:8, :]
    for i in pl.range(2):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="auto"):
            b[8 * i:8 * i + 8, :] = a[8 * i:8 * i + 8, :]


def test_manual_scope_loop_bodies_stay_on_manual_ring():
    g = pl.record(manual_loop_alloc)
    rings = [(t.kind.value, t.name, t.task_id >> 32, t.scope) for t in g.tasks]
    # the per-iteration creates batch into the manual scope's alloc task (ring 2, at scope entry)
    assert rings[0] == ("alloc", "alloc_tensors", 2, "manual")
    assert [r for r in rings if r[1] in ("w", "w2")] == [("kernel", n, 2, "manual") for n in ("w", "w2") * 2]
    assert len(g.tasks[0].allocates) == 2
    # loops outside the manual scope still get their own AUTO scope per iteration
    assert [r[2] for r in rings if r[1] == "auto"] == [2, 2]
    ids = [t.task_id for t in g.tasks]
    assert len(ids) == len(set(ids))
    # R-seq promotion still applies inside the manual-scope loop (b written in a sequential loop)
    w2 = [t for t in g.tasks if t.name == "w2"]
    assert all(t.args[-1].dir == ArgDir.INOUT for t in w2)


@pl.jit
def names(a: pl.Tensor[[8, 64], pl.FP32]):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="k"):
        pl.add(a[0:8, :], 1.0)
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="k"):
        pl.add(a[0:8, :], 1.0)
    with pl.at(level=pl.Level.CORE_GROUP):
        pl.add(a[0:8, :], 1.0)
    with pl.at(level=pl.Level.CORE_GROUP):
        pl.read(a, [0, 3])


def test_scope_names_and_scalar_only_scope():
    g = pl.record(names)
    assert [t.name for t in g.tasks] == ["k", "k_0", "names_incore_0", "names_incore_1"]
    last = g.tasks[-1]
    assert last.shape == CoreShape.AIV and [o.pipe for o in last.blocks[0].ops] == ["SCALAR"]
    assert last.blocks[0].ops[0].region.offset == [0, 3]


def test_cast_hops_and_reductions():
    @pl.jit
    def k(a: pl.Tensor[[8, 64], pl.FP32], o: pl.Out[pl.Tensor[[8, 64], pl.INT8]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="q"):
            t = a[0:8, :]
            s = pl.row_sum(t)
            o[0:8, :] = pl.cast(pl.row_expand_mul(t, s), pl.INT8)

    g = pl.record(k)
    ops = g.tasks[0].blocks[0].ops
    assert [(o.name, o.shape) for o in ops if o.kind == "vec"] == [
        ("row_sum", [8, 64]), ("row_expand_mul", [8, 64]), ("cast", [8, 64])]
    cast = [o for o in ops if o.name == "cast"][0]
    assert (cast.hops, cast.in_dtype, cast.dtype, cast.nbytes) == (2, "FP32", "INT8", 512)


# ---------------------------------------------------------------------------------------------
def _raises(fn, pattern):
    with pytest.raises(UserError, match=pattern):
        pl.record(fn)


def test_slice_out_of_bounds_names_scope_and_value():
    @pl.jit
    def bad(a: pl.Tensor[[8, 64], pl.FP32]):
        for _b in pl.spmd(2, name_hint="oob"):
            pl.add(a[0:8, 64:96], 1.0)

    _raises(bad, r"bad: scope oob: block 0: slice \[64:96\] out of bounds on dim 1 of a \[8, 64\]")


def test_a_load_running_past_a_dim_is_a_padded_tile_with_one_warning():
    @pl.jit
    def past(a: pl.Tensor[[8, 64], pl.FP32], o: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
        for _b in pl.spmd(2, name_hint="pad"):
            o[:, :] = pl.add(a[0:16, :], 1.0)

    with pytest.warns(InputWarning) as rec:
        g = pl.record(past)
    msgs = [str(w.message) for w in rec if issubclass(w.category, InputWarning)]
    assert len(msgs) == 2 and msgs[0] == msgs[1]  # one per block, the same line: printed once
    assert "scope pad: slice [0:16] runs past dim 0 of a [8, 64]: loaded as a padded tile with [8, 64] in bounds" \
        in msgs[0]
    ld = next(op for op in g.kernel_tasks()[0].blocks[0].ops if op.kind == "load")
    assert ld.region.shape == [8, 64] and ld.nbytes == 8 * 64 * 4  # only the in-bounds rows move


def test_a_store_running_past_a_dim_writes_its_in_bounds_part_with_a_warning():
    @pl.jit
    def past(a: pl.Tensor[[16, 64], pl.FP32], o: pl.Out[pl.Tensor[[8, 64], pl.FP32]]):
        for _b in pl.spmd(1, name_hint="st"):
            o[0:16, :] = pl.add(a[0:16, :], 1.0)

    with pytest.warns(InputWarning, match=r"scope st: store slice \[0:16\] runs past dim 0 of o \[8, 64\]: only "
                                          r"\[8, 64\] in bounds is written"):
        g = pl.record(past)
    st = next(op for op in g.kernel_tasks()[0].blocks[0].ops if op.kind == "store")
    assert st.region.shape == [8, 64] and st.nbytes == 8 * 64 * 4

    @pl.jit
    def bad(a: pl.Tensor[[16, 64], pl.FP32], o: pl.Out[pl.Tensor[[8, 64], pl.FP32]]):
        for _b in pl.spmd(1, name_hint="st"):
            o[8:16, :] = pl.add(a[0:8, :], 1.0)

    _raises(bad, r"bad: scope st: block 0: slice \[8:16\] out of bounds on dim 0 of o \[8, 64\]")


def test_matmul_dtype_mismatch():
    @pl.jit
    def bad(a: pl.Tensor[[16, 64], pl.BF16], w: pl.Tensor[[64, 64], pl.INT8]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="mm"):
            pl.matmul(a[0:16, :], w[0:64, :])

    _raises(bad, r"bad: scope mm: block 0: pl.matmul: operand dtype mismatch BF16 x INT8")


def test_misplaced_and_unknown_ops():
    @pl.jit
    def bad(a: pl.Tensor[[8, 64], pl.FP32]):
        pl.exp(a)

    _raises(bad, r"misplaced tensor op pl.exp")
    with pytest.raises(UserError, match=r"pl.frobnicate is not supported"):
        pl.frobnicate  # noqa: B018
    assert not hasattr(pl, "frobnicate")


def test_unbound_dynamic_dim():
    with pytest.raises(UserError, match=r"dynamic dim T is not bound"):
        pl.record(three_shapes)


def test_illegal_cast_and_bad_level():
    @pl.jit
    def bad(a: pl.Tensor[[8, 64], pl.INT8]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="c"):
            pl.cast(a[0:8, :], pl.BF16)

    _raises(bad, r"pl.cast INT8 -> BF16 has no legal instruction chain")

    @pl.jit
    def bad2(a: pl.Tensor[[8, 64], pl.INT8]):
        with pl.at(level=pl.Level.CHIP):
            pass

    _raises(bad2, r"only pl.Level.CORE_GROUP")


def test_unroll_makes_distinct_kernels_and_range_reuses_one():
    @pl.jit
    def k(a: pl.Tensor[[16, 64], pl.FP32], b: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
        for i in pl.unroll(2):
            with pl.at(level=pl.Level.CORE_GROUP, name_hint="u"):
                b[8 * i:8 * i + 8, :] = pl.exp(a[8 * i:8 * i + 8, :])
        for i in pl.range(2):
            with pl.at(level=pl.Level.CORE_GROUP, name_hint="r"):
                b[8 * i:8 * i + 8, :] = pl.exp(a[8 * i:8 * i + 8, :])

    g = pl.record(k)
    assert [t.name for t in g.tasks] == ["u_0", "u_1", "r", "r"]
    assert [t.task_id >> 32 for t in g.tasks] == [1, 1, 2, 2]
    assert sorted(g.func_names.values()) == ["r", "u_0", "u_1"]
    assert g.tasks[1].args[1].dir == ArgDir.INOUT  # R-prior: copy 0 already wrote b


def test_with_form_blocks_see_their_index_and_tail():
    @pl.jit
    def k(a: pl.Tensor[[20, 64], pl.FP32], b: pl.Out[pl.Tensor[[20, 64], pl.FP32]]):
        with pl.spmd(3, name_hint="tail"):
            i = pl.get_block_idx()
            rows = min(8, 20 - 8 * i)
            t = pl.slice(a, [8, 64], [8 * i, 0], valid_shape=[rows, 64])
            b[8 * i:8 * i + rows, :] = pl.exp(t)[0:rows, :]

    g = pl.record(k)
    loads = [next(o for o in b.ops if o.kind == "load") for b in g.tasks[0].blocks]
    assert [(o.region.offset[0], o.region.shape[0], o.nbytes) for o in loads] == [
        (0, 8, 2048), (8, 8, 2048), (16, 4, 1024)]


def test_call_site_keys_survive_instruction_specialisation():
    # a hot loop gets its subscript specialised by CPython after a few runs; every iteration must
    # still map to the same buffer slot, so each load waits for the previous iteration's reader
    @pl.jit
    def k(a: pl.Tensor[[8, 1024], pl.FP32], o: pl.Out[pl.Tensor[[8, 1024], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="l"):
            for i in pl.range(32):
                t = a[0:8, 32 * i:32 * i + 32]
                o[0:8, 32 * i:32 * i + 32] = pl.exp(t)

    ops = pl.record(k).tasks[0].blocks[0].ops
    loads = [i for i, o in enumerate(ops) if o.kind == "load"]
    assert len(loads) == 32
    assert all(ops[i].deps == [loads[n] + 1] for n, i in enumerate(loads[1:]))


@pl.jit
def strided_reshape(a: pl.Tensor[[512, 64], pl.BF16], o: pl.Out[pl.Tensor[[16, 64], pl.BF16]]):
    v = pl.reshape(a, [8, 64, 64])
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="strided"):
        t = v[0:8, 5, 16:48]  # 8 rows of 32 elements, 64 rows apart in a
        o[0:8, 0:32] = t
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="box"):
        t2 = v[2, 0:2, :]  # rows 128..129 of a: an exact box
        o[8:10, :] = t2
    w = pl.reshape(o, [16, 2, 32])
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="strided_store"):
        x = a[0:4, 0:32]
        w[0:4, 1, :] = x  # 4 runs of 32 elements (the odd halves of rows 0..3)


def test_reshape_of_strided_window_has_exact_dma_rows():
    g = pl.record(strided_reshape)
    by = {t.name: t for t in g.tasks}
    ld = by["strided"].blocks[0].ops[0]
    assert ld.kind == "load" and (ld.rows, ld.row_bytes, ld.nbytes) == (8, 64, 512)
    assert ld.shape == [8, 32]
    assert ld.region.offset == [5, 16] and ld.region.shape == [449, 32]  # covering box (IR regions are boxes)
    ld2 = by["box"].blocks[0].ops[0]
    assert ld2.region.offset == [128, 0] and ld2.region.shape == [2, 64]
    assert (ld2.rows, ld2.row_bytes, ld2.nbytes) == (1, 256, 256)  # exact box: one contiguous run
    st = [o for o in by["strided_store"].blocks[0].ops if o.kind == "store"][0]
    assert (st.rows, st.row_bytes, st.nbytes) == (4, 64, 256)
    assert st.region.offset == [0, 32] and st.region.shape == [4, 32]  # box in o's [16, 64] shape


def test_exact_runs_matches_enumeration():
    from kernels.dsl.tasks import Recorder
    from kernels.dsl.types import FP32

    with Recorder("t") as rec:
        base = rec.new_tensor("a", (6, 4, 10), FP32, "param")
        r = pl.reshape(base, [24, 10])
        win = r.window([3, 2], [15, 5])
        v = pl.reshape(win, [3, 5, 5])
        off, shp = [1, 0, 1], [2, 5, 3]
        idx = np.array([[off[0] + i, off[1] + j, off[2] + k]
                        for i in range(shp[0]) for j in range(shp[1]) for k in range(shp[2])], dtype=np.int64)
        addrs = v._addrs(idx).tolist()
        # oracle: numpy's logical (row-major) reshape of the same window chain
        ref = np.arange(240).reshape(24, 10)[3:18, 2:7].reshape(3, 5, 5)[1:3, 0:5, 1:4].ravel().tolist()
        assert addrs == ref
        runs = 1 + sum(1 for x, y in zip(ref, ref[1:], strict=False) if y != x + 1)
        assert v.exact_runs(off, shp) == (runs, len(ref))


def test_exact_runs_of_random_boxes_match_numpy_views_of_the_base():
    """Runs counted at once against numpy's own view chains over an arange of the base: boxes of
    windows of reshapes of windows, including rows that cross gaps of the base."""
    from kernels.dsl.tasks import Recorder
    from kernels.dsl.types import FP32

    rng = np.random.default_rng(5)
    ref_base = np.arange(240).reshape(6, 4, 10)
    win = ref_base.reshape(24, 10)[3:18, 2:7]
    with Recorder("t") as rec:
        base = rec.new_tensor("a", (6, 4, 10), FP32, "param")
        w = pl.reshape(base, [24, 10]).window([3, 2], [15, 5])
        cases = [(w, win), (pl.reshape(w, [3, 5, 5]), win.reshape(3, 5, 5)),
                 (pl.reshape(w, [75]), win.reshape(75)),  # rows that cross the window's gaps
                 (pl.reshape(w, [5, 15]), win.reshape(5, 15)),  # so do these
                 (pl.reshape(base, [240]).window([7], [200]), ref_base.reshape(240)[7:207]),
                 (base.window([1, 1, 3], [4, 3, 6]), ref_base[1:5, 1:4, 3:9])]
        checked = 0
        for v, ref in cases:
            assert list(ref.shape) == list(v.shape)
            for _ in range(40):
                off = [int(rng.integers(0, n)) for n in v.shape]
                shp = [int(rng.integers(1, n - o + 1)) for o, n in zip(off, v.shape, strict=True)]
                addrs = ref[tuple(slice(o, o + n) for o, n in zip(off, shp, strict=True))].ravel()
                runs = 1 + int(np.count_nonzero(np.diff(addrs) != 1))
                assert v.exact_runs(off, shp) == (runs, addrs.size), (v.shape, off, shp)
                checked += 1
        assert checked == 240


_EDITABLE = '''
import kernels.language as pl


@pl.jit
def k(x: pl.Tensor[[8, 64], pl.FP32], y: pl.Out[pl.Tensor[[8, 64], pl.FP32]]):
    with pl.spmd(2, name_hint="v"):
        t = x[0:8, 0:64]
        y[0:8, 0:64] = {body}
'''


def test_with_form_body_follows_an_edited_source(tmp_path, monkeypatch):
    """The with-form body is re-read when its file changes (cached per source text, not per path)."""
    import importlib
    import sys

    monkeypatch.syspath_prepend(str(tmp_path))
    src = tmp_path / "editable_kernel.py"
    counts = []
    for body in ("pl.mul(t, t)", "pl.add(pl.mul(t, t), t)"):
        src.write_text(_EDITABLE.format(body=body))
        sys.modules.pop("editable_kernel", None)
        importlib.invalidate_caches()
        mod = importlib.import_module("editable_kernel")
        g = pl.record(mod.k)
        counts.append(sum(o.pipe == "VECTOR" for o in g.kernel_tasks()[0].blocks[1].ops))
    sys.modules.pop("editable_kernel", None)
    assert counts == [1, 2]


@pl.jit
def mix_store_then_load(x: pl.Tensor[[16, 64], pl.BF16], w: pl.Tensor[[64, 64], pl.BF16],
                        out: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
    scratch = pl.create_tensor([16, 64], pl.BF16, name="scratch")
    for b in pl.spmd(2, name_hint="mixo"):  # for-form: every block runs the same code (same sites)
        t = pl.cast(x[8 * b:8 * b + 8, :], pl.FP32)
        scratch[8 * b:8 * b + 8, :] = pl.cast(pl.mul(t, t), pl.BF16, mode="rint")  # AIV store
        c = pl.matmul(scratch[0:8, :], w)  # AIC load of rows 0..8: overlaps block 0's store only
        out[8 * b:8 * b + 8, :] = c


def test_blocks_of_one_program_differing_in_a_gm_overlap_lower_apart():
    """Blocks with the same signature share a lowering, except where a cross-lane GM store/load
    overlap (which adds a sync hand-off) differs between them: that depends on region offsets."""
    g = pl.record(mix_store_then_load)
    task = next(t for t in g.tasks if t.name.startswith("mixo"))
    syncs = [sum(1 for o in blk.ops if o.kind == "handoff" and o.nbytes == 0 and o.lane != "aiv1")
             for blk in task.blocks]
    assert syncs[0] > 0 and syncs[1] == 0


def test_an_empty_slice_assignment_writes_nothing():
    @pl.jit
    def k(a: pl.Tensor[[8, 64], pl.FP32], o: pl.Out[pl.Tensor[[8, 64], pl.FP32]]):
        for _b in pl.spmd(1, name_hint="st"):
            t = pl.add(a[0:8, :], 1.0)
            o[:, 0:64] = t
            o[:, 64:64] = t  # a tile width that works out to 0 (pypto-lib decode_attention_swa, a1ff5a6)

    ops = pl.record(k).kernel_tasks()[0].blocks[0].ops
    assert [o.kind for o in ops].count("store") == 1
