"""Recorder gaps met by real pypto-lib files: matmuls with a leading batch of 1, and loads / stores whose
valid extent is narrower than the tile at a tensor's edge."""

from __future__ import annotations

import numpy as np
import pytest

import kernels.language as pl
from sim.util.errors import InputWarning, UserError


# ------------------------------------------------------------------------------------------------
# pl.matmul / pl.matmul_acc with a leading-1 3-d operand: the 2-d matmul, result [1, M, N]
# ------------------------------------------------------------------------------------------------
@pl.jit
def batch1_mm(x: pl.Tensor[[16, 256], pl.BF16], w: pl.Tensor[[2, 64, 256], pl.BF16],
              out: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="mm"):
        acc = pl.matmul(x[0:16, 0:128], w[1:2, 0:64, 0:128], b_trans=True, out_dtype=pl.FP32)
        acc = pl.matmul_acc(acc, x[0:16, 128:256], w[1:2, 0:64, 128:256], b_trans=True)
        out[0:16, 0:64] = pl.reshape(acc, [16, 64])


@pl.jit
def plain_mm(x: pl.Tensor[[16, 256], pl.BF16], w: pl.Tensor[[2, 64, 256], pl.BF16],
             out: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
    w2 = pl.reshape(w, [128, 256])
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="mm"):
        acc = pl.matmul(x[0:16, 0:128], w2[64:128, 0:128], b_trans=True, out_dtype=pl.FP32)
        acc = pl.matmul_acc(acc, x[0:16, 128:256], w2[64:128, 128:256], b_trans=True)
        out[0:16, 0:64] = acc


def _cube_ops(g):
    return [o for o in g.kernel_tasks()[0].blocks[0].ops if o.kind in ("matmul", "matmul_acc")]


def test_leading_one_matmul_is_the_2d_matmul():
    got, ref = _cube_ops(pl.record(batch1_mm)), _cube_ops(pl.record(plain_mm))
    assert [o.mnk for o in got] == [[16, 64, 128], [16, 64, 128]] == [o.mnk for o in ref]
    assert [o.nbytes for o in got] == [o.nbytes for o in ref]


def test_leading_one_matmul_result_shape():
    seen = {}

    @pl.jit
    def k(x: pl.Tensor[[1, 16, 128], pl.BF16], w: pl.Tensor[[128, 64], pl.BF16]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="mm"):
            seen["a"] = pl.matmul(x[0:1, 0:16, 0:128], w[0:128, 0:64]).shape
            seen["b"] = pl.matmul(x[0:1, 0:16, 0:128], x[0:1, 0:16, 0:128], b_trans=True).shape
            seen["c"] = pl.matmul(w[0:128, 0:16], w[0:128, 0:64], a_trans=True).shape

    pl.record(k)
    assert seen == {"a": [1, 16, 64], "b": [1, 16, 16], "c": [16, 64]}


def test_real_batch_matmul_still_rejected():
    @pl.jit
    def bad(x: pl.Tensor[[16, 128], pl.BF16], w: pl.Tensor[[2, 128, 64], pl.BF16]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="mm"):
            pl.matmul(x[0:16, :], w[0:2, :, :])

    with pytest.raises(UserError, match=r"pl.matmul: 2-d operands .* got \[16, 128\] x \[2, 128, 64\]"):
        pl.record(bad)


# ------------------------------------------------------------------------------------------------
# pl.load / pl.store of a padded tile at a tensor's edge: window and bytes cut to the valid extent
# ------------------------------------------------------------------------------------------------
@pl.jit
def edge(x: pl.Tensor[[8, 4], pl.FP32], y: pl.Out[pl.Tensor[[8, 4], pl.FP32]],
         z: pl.Out[pl.Tensor[[8, 12], pl.FP32]]):
    for _b in pl.spmd(1, name_hint="edge"):
        t = pl.load(x, [0, 0], [8, 8], valid_shapes=[8, 4], target_memory=pl.MemorySpace.Vec)
        u = pl.exp(t)
        pl.store(u, [0, 0], y)
        pl.store(u, [0, 8], z)
        pl.assemble(z, u, [0, 4])


def test_padded_tile_at_the_edge():
    ops = pl.record(edge).kernel_tasks()[0].blocks[0].ops
    ld = next(o for o in ops if o.kind == "load")
    assert ld.region.offset == [0, 0] and ld.region.shape == [8, 4] and ld.nbytes == 8 * 4 * 4
    st = [o for o in ops if o.kind == "store"]
    assert [(s.region.offset, s.region.shape, s.nbytes) for s in st] == [
        ([0, 0], [8, 4], 128), ([0, 8], [8, 4], 128), ([0, 4], [8, 4], 128)]


def test_store_past_the_valid_extent_still_rejected():
    @pl.jit
    def bad(x: pl.Tensor[[8, 4], pl.FP32], y: pl.Out[pl.Tensor[[8, 4], pl.FP32]]):
        for _b in pl.spmd(1, name_hint="edge"):
            t = pl.load(x, [0, 0], [8, 8], valid_shapes=[8, 4], target_memory=pl.MemorySpace.Vec)
            pl.store(t, [0, 2], y)

    with pytest.raises(UserError, match=r"slice \[2:6\] out of bounds on dim 1 of y \[8, 4\]"):
        pl.record(bad)


def test_load_past_the_valid_extent_still_rejected():
    @pl.jit
    def bad(x: pl.Tensor[[8, 4], pl.FP32]):
        for _b in pl.spmd(1, name_hint="edge"):
            pl.load(x, [0, 0], [8, 8], target_memory=pl.MemorySpace.Vec)

    with pytest.raises(UserError, match=r"slice \[0:8\] out of bounds on dim 1 of x \[8, 4\]"):
        pl.record(bad)


# ------------------------------------------------------------------------------------------------
# pl.tensor.scatter: one vec op into dst (mask form: every other lane; index form: data-dependent lanes)
# ------------------------------------------------------------------------------------------------
@pl.jit
def scat(x: pl.Tensor[[16, 64], pl.FP32], ix: pl.Tensor[[16, 32], pl.INT32],
         y: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
    for _b in pl.spmd(1, name_hint="scat"):
        even = pl.gather(x[0:16, 0:64], mask_pattern=pl.tile.MaskPattern.P0101)
        buf = pl.full([16, 64], dtype=pl.FP32, value=0.0)
        buf = pl.tensor.scatter(even, mask_pattern=pl.tile.MaskPattern.P0101, dst=buf)
        buf = pl.tensor.scatter(even, index=ix[0:16, 0:32], dst=buf)
        y[0:16, 0:64] = buf


def test_scatter_records_vec_ops_into_dst():
    ops = pl.record(scat).kernel_tasks()[0].blocks[0].ops
    sc = [o for o in ops if o.name.startswith("scatter")]
    assert [(o.name, o.pipe, o.shape) for o in sc] == [("scatter_mask", "VECTOR", [16, 32]),
                                                       ("scatter", "VECTOR", [16, 32])]
    full = next(i for i, o in enumerate(ops) if o.name == "full")
    assert full in sc[0].deps and ops.index(sc[0]) in sc[1].deps
    st = next(o for o in ops if o.kind == "store")
    assert ops.index(sc[1]) in st.deps and st.nbytes == 16 * 64 * 4


def test_scatter_needs_a_form():
    @pl.jit
    def bad(x: pl.Tensor[[16, 64], pl.FP32]):
        for _b in pl.spmd(1, name_hint="scat"):
            pl.tensor.scatter(x[0:16, 0:32])

    with pytest.raises(UserError, match=r"pl.scatter: give index= or mask_pattern="):
        pl.record(bad)


# ------------------------------------------------------------------------------------------------
# pl.tile.create / pl.tensor.create; names the recorder lacks rejected with one line
# ------------------------------------------------------------------------------------------------
def test_namespace_create_aliases_and_unsupported_names():
    assert pl.tile.create is pl.create_tile and pl.tensor.create is pl.create_tensor
    with pytest.raises(pl.UnsupportedOp, match=r"^pl.tile.nosuch is not supported"):
        pl.tile.nosuch  # noqa: B018
    assert not hasattr(pl.tensor, "nosuch")


def test_store_with_shapes_names_the_gm_window():
    @pl.jit
    def k(x: pl.Tensor[[4, 64], pl.FP32], y: pl.Out[pl.Tensor[[4, 64], pl.FP32]]):
        for b in pl.spmd(4, name_hint="rows"):
            t = pl.tile.load(x, [b, 0], [1, 64])
            pl.tile.store(pl.exp(t), [b, 0], y, shapes=[1, 64])

    ops = pl.record(k).kernel_tasks()[0].blocks[3].ops
    st = next(o for o in ops if o.kind == "store")
    assert st.region.offset == [3, 0] and st.region.shape == [1, 64] and st.nbytes == 64 * 4


def test_slice_assignment_of_a_narrow_tile_at_the_edge():
    @pl.jit
    def k(x: pl.Tensor[[4, 64], pl.FP32], y: pl.Out[pl.Tensor[[4, 64], pl.FP32]]):
        for _b in pl.spmd(1, name_hint="edge"):
            t = pl.slice(x, [16, 64], [0, 0], valid_shape=[4, 64])
            y[0:16, 0:64] = pl.exp(t)

    ops = pl.record(k).kernel_tasks()[0].blocks[0].ops
    st = next(o for o in ops if o.kind == "store")
    assert st.region.shape == [4, 64] and st.nbytes == 4 * 64 * 4

    @pl.jit
    def past(x: pl.Tensor[[4, 64], pl.FP32], y: pl.Out[pl.Tensor[[4, 64], pl.FP32]]):
        for _b in pl.spmd(1, name_hint="edge"):
            t = pl.slice(x, [16, 64], [0, 0], valid_shape=[4, 64])
            y[2:18, 0:64] = pl.exp(t)  # its 4 valid rows from row 2: 2 of them past the end

    with pytest.warns(InputWarning, match=r"store slice \[2:18\] runs past dim 0 of y \[4, 64\]: only \[2, 64\]"):
        ops = pl.record(past).kernel_tasks()[0].blocks[0].ops
    st = next(o for o in ops if o.kind == "store")
    assert st.region.offset == [2, 0] and st.region.shape == [2, 64] and st.nbytes == 2 * 64 * 4


def test_row_argmax_is_an_int32_row_reduction():
    @pl.jit
    def k(x: pl.Tensor[[8, 64], pl.FP32], y: pl.Out[pl.Tensor[[8, 1], pl.INT32]]):
        for _b in pl.spmd(1, name_hint="am"):
            y[0:8, 0:1] = pl.row_argmax(x[0:8, 0:64])

    ops = pl.record(k).kernel_tasks()[0].blocks[0].ops
    am = next(o for o in ops if o.name == "row_argmax")
    assert am.pipe == "VECTOR" and am.shape == [8, 64] and am.dtype == "INT32" and am.in_dtype == "FP32"


# ------------------------------------------------------------------------------------------------
# pl.jit.inline(auto_scope=False): the helper's loop bodies open no AUTO runtime scope
# ------------------------------------------------------------------------------------------------
def _looped(auto: bool):
    @pl.jit.inline(auto_scope=auto)
    def helper(x, y):
        for i in pl.range(2):
            with pl.at(level=pl.Level.CORE_GROUP, name_hint="cp"):
                y[16 * i:16 * i + 16, :] = pl.exp(x[16 * i:16 * i + 16, :])

    @pl.jit
    def entry(x: pl.Tensor[[32, 64], pl.FP32], y: pl.Out[pl.Tensor[[32, 64], pl.FP32]]):
        helper(x, y)
        for _ in pl.range(1):
            with pl.at(level=pl.Level.CORE_GROUP, name_hint="after"):
                y[0:16, :] = pl.exp(x[0:16, :])

    return pl.record(entry)


def test_inline_auto_scope_false_keeps_loop_tasks_on_the_callers_ring():
    rings = {t.name: t.task_id >> 32 for t in _looped(False).tasks}
    assert rings == {"cp": 1, "after": 2}  # the caller's own loop still opens a scope
    assert {t.name: t.task_id >> 32 for t in _looped(True).tasks} == {"cp": 2, "after": 2}


# ------------------------------------------------------------------------------------------------
# pl.Array[n, dtype] parameter annotations
# ------------------------------------------------------------------------------------------------
def test_array_annotation_on_entry_and_helper():
    @pl.jit.inline
    def step(x, y, prev: pl.Array[1, pl.TASK_ID]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="s", deps=[prev[0]]) as tid:
            y[0:16, :] = pl.exp(x[0:16, :])
        prev[0] = tid

    @pl.jit
    def entry(x: pl.Tensor[[16, 64], pl.FP32], y: pl.Out[pl.Tensor[[16, 64], pl.FP32]],
              prev: pl.Array[1, pl.TASK_ID]):
        step(x, y, prev)
        step(x, y, prev)

    g = pl.record(entry)
    assert [t.explicit_deps for t in g.tasks] == [[], [0]]
    with pytest.raises(UserError, match=r"pl\.Array\[.*\]: expected pl\.Array\[n, dtype\]"):
        pl.Array[pl.TASK_ID]


# ------------------------------------------------------------------------------------------------
# tiles that outlive their pl.at scope; pl.assemble in orchestration code
# ------------------------------------------------------------------------------------------------
@pl.jit
def escaping(a: pl.Tensor[[16, 64], pl.FP32], out: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="prod"):
        t = pl.exp(a)
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="cons"):
        out[0:16, :] = pl.add(t, t)


def test_a_tile_used_after_its_scope_gets_an_exit_store_and_a_load():
    g = pl.record(escaping)
    by = {t.name: t for t in g.tasks}
    assert [t.name for t in g.tasks] == ["alloc_tensors", "prod", "cons"]
    assert [o.name for o in by["prod"].blocks[0].ops] == ["load", "exp", "store"]
    assert [o.name for o in by["cons"].blocks[0].ops] == ["load", "add", "store"]  # one load for both uses
    (carrier,) = [x for x in g.tensors if x.name.startswith("prod_out")]
    assert carrier.kind == "alloc" and carrier.shape == [16, 64] and carrier.nbytes == 16 * 64 * 4
    assert (by["prod"].idx, by["cons"].idx, "tensormap") in {(e.pred, e.succ, e.source) for e in g.edges}


@pl.jit
def loaded_later(a: pl.Tensor[[16, 64], pl.FP32], out: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="prod"):
        t = pl.exp(a)
    for b in pl.spmd(2, name_hint="cons"):
        part = pl.load(t, [8 * b, 0], [8, 64], target_memory=pl.MemorySpace.Vec)
        pl.store(pl.add(part, part), [8 * b, 0], out)


def test_pl_load_of_a_closed_scope_tile_reads_its_exit_store():
    a = np.linspace(-1.0, 1.0, 16 * 64, dtype=np.float32).reshape(16, 64)
    out = np.zeros((16, 64), np.float32)
    g = pl.record(loaded_later, data={"a": a, "out": out}, values=True)
    by = {t.name: t for t in g.tasks}
    assert [o.name for o in by["prod"].blocks[0].ops] == ["load", "exp", "store"]
    assert [o.name for o in by["cons"].blocks[1].ops] == ["load", "add", "store"]
    (carrier,) = [x for x in g.tensors if x.name.startswith("prod_out")]
    assert by["cons"].blocks[1].ops[0].region.tensor == carrier.id
    assert by["cons"].blocks[1].ops[0].region.offset == [8, 0]
    assert (by["prod"].idx, by["cons"].idx) in {(e.pred, e.succ) for e in g.edges}
    np.testing.assert_allclose(out, 2 * np.exp(a), rtol=1e-6)  # the load read the exit store's values


def test_pl_load_reads_the_values_of_a_tile_an_operand_use_materialized_first():
    @pl.jit
    def k(a: pl.Tensor[[16, 64], pl.FP32], o1: pl.Out[pl.Tensor[[16, 64], pl.FP32]],
          out: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="prod"):
            t = pl.exp(a)
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="use"):
            o1[:, :] = pl.add(t, t)
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="cons"):
            out[:, :] = pl.load(t, [0, 0], [16, 64])

    a = np.linspace(-1.0, 1.0, 16 * 64, dtype=np.float32).reshape(16, 64)
    o1, out = np.zeros_like(a), np.zeros_like(a)
    pl.record(k, data={"a": a, "o1": o1, "out": out}, values=True)
    np.testing.assert_allclose(o1, 2 * np.exp(a), rtol=1e-6)
    np.testing.assert_allclose(out, np.exp(a), rtol=1e-6)


def test_pl_load_of_a_tile_of_the_same_scope_is_its_window_without_an_op():
    @pl.jit
    def same(a: pl.Tensor[[16, 64], pl.FP32], out: pl.Out[pl.Tensor[[8, 32], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="k"):
            buf = pl.create_tensor([16, 64], dtype=pl.FP32)
            buf[:, :] = pl.exp(a)
            out[:, :] = pl.load(buf, [8, 32], [8, 32])

    a = np.linspace(-1.0, 1.0, 16 * 64, dtype=np.float32).reshape(16, 64)
    out = np.zeros((8, 32), np.float32)
    g = pl.record(same, data={"a": a, "out": out}, values=True)
    assert [o.name for o in g.tasks[0].blocks[0].ops] == ["load", "exp", "copy", "store"]
    np.testing.assert_allclose(out, np.exp(a[8:, 32:]), rtol=1e-6)


@pl.jit
def assembled(a: pl.Tensor[[16, 64], pl.FP32], out: pl.Out[pl.Tensor[[64, 64], pl.FP32]]):
    for i in pl.parallel(4):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="prod"):
            t = pl.exp(a)
        out = pl.assemble(out, t, [16 * i, 0])


def test_orchestration_assemble_is_the_producers_store_into_the_window():
    g = pl.record(assembled)
    assert [t.name for t in g.tasks] == ["prod"] * 4  # no copy task, no intermediate
    for i, t in enumerate(g.tasks):
        store = t.blocks[0].ops[-1]
        assert store.name == "store" and store.region.offset == [16 * i, 0] and store.region.shape == [16, 64]
        assert [(a.dir.value, a.region.offset) for a in t.args][-1] == ("OUTPUT_EXISTING", [16 * i, 0])
    assert g.edges == []  # disjoint windows of a pl.parallel loop


@pl.jit
def row_assembled(a: pl.Tensor[[1, 64], pl.FP32], out: pl.Out[pl.Tensor[[2, 4, 64], pl.FP32]]):
    for b in pl.range(2):
        row = pl.create_tensor([1, 64], dtype=pl.FP32)
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="prod"):
            row = pl.assemble(row, pl.exp(pl.slice(a, [1, 64], [0, 0])), [0, 0])
        out = pl.assemble(out, row, [b, 3, 0])


def test_orchestration_assemble_of_a_lower_rank_tensor_covers_the_trailing_dims():
    g = pl.record(row_assembled)
    prods = [t for t in g.tasks if t.name == "prod"]
    assert len(prods) == 2
    out = next(x.id for x in g.tensors if x.name == "out")
    for b, t in enumerate(prods):  # each row's writer writes the [1, 64] row of out at [b, 3, :]
        (w,) = [a.region for a in t.args if a.region.tensor == out]
        assert w.offset == [b, 3, 0] and w.shape == [1, 1, 64]


@pytest.mark.parametrize("body, msg", [
    ("    with pl.at(level=pl.Level.CORE_GROUP):\n        t = pl.exp(a)\n"
     "    out = pl.assemble(out, t, [0, 0], atomic=pl.AtomicType.Add)\n", r"atomic writes are only legal inside"),
    ("    out = pl.assemble(out, a, [0, 0])\n", r"tensor a: only a whole tensor created in orchestration code"),
    ("    for b in pl.spmd(2):\n        t = pl.exp(a)\n"
     "    with pl.at(level=pl.Level.CORE_GROUP):\n        out[0:16, :] = pl.add(t, t)\n",
     r"a tile computed in pl\.spmd scope .* \(2 blocks\) is used after the scope"),
    ("    for b in pl.spmd(2):\n        if b == 0:\n            keep = pl.exp(a)\n"
     "        out[0:16, :] = pl.add(keep, keep)\n", r"earlier block of the same scope is used in block 1"),
])
def test_unsupported_escapes_are_one_line(body: str, msg: str):
    src = ("import kernels.language as pl\n\n@pl.jit\n"
           "def k(a: pl.Tensor[[16, 64], pl.FP32], out: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):\n" + body)
    ns: dict = {}
    exec(compile(src, "escape_case.py", "exec"), ns)  # noqa: S102 - a kernel built from the case's lines
    with pytest.raises(UserError, match=msg) as err:
        pl.record(ns["k"])
    assert "\n" not in str(err.value)


# ------------------------------------------------------------------------------------------------
# pl.row_expand: broadcast of a [R, 1] column to the target's [R, C] shape
# ------------------------------------------------------------------------------------------------
def test_row_expand_broadcasts_to_the_target_shape():
    seen = {}

    @pl.jit
    def k(x: pl.Tensor[[16, 64], pl.FP32], y: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="rx"):
            col = pl.row_max(x)
            full = pl.row_expand(pl.full([16, 64], dtype=pl.FP32, value=0.0), col)
            seen["shape"] = full.shape
            y[0:16, :] = full

    g = pl.record(k)
    op = next(o for o in g.tasks[0].blocks[0].ops if o.name == "row_expand")
    assert seen["shape"] == [16, 64] and op.shape == [16, 64] and op.pipe.value == "VECTOR"


def test_transpose_view_swaps_the_last_two_dims_without_an_op():
    seen = {}

    @pl.jit
    def k(x: pl.Tensor[[16, 64], pl.BF16], w: pl.Tensor[[32, 64], pl.BF16], y: pl.Out[pl.Tensor[[16, 32], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="tv"):
            wt = pl.load(w, [0, 0], [32, 64], valid_shape=[24, 64], target_memory=pl.MemorySpace.Mat)
            v = pl.tile.transpose_view(wt)
            seen["v"] = (v.shape, v.valid)
            y[0:16, :] = pl.matmul(x, v)

    g = pl.record(k)
    assert seen["v"] == ([64, 32], [64, 24])
    mm = next(o for o in g.tasks[0].blocks[0].ops if o.name == "matmul")
    assert mm.mnk == [16, 32, 64]
    assert [o.name for o in g.tasks[0].blocks[0].ops].count("load") == 2  # the view adds no op


def test_escaped_tile_into_load_into_and_as_accumulator():
    @pl.jit
    def rows(x: pl.Tensor[[16, 64], pl.FP32], y: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="init"):
            state = pl.full([16, 64], dtype=pl.FP32, value=0.0)
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="fill"):
            state = pl.load_into(state, pl.view(x, [1, 64], [0, 0]), [0, 0])
            y[0:16, :] = state

    g = pl.record(rows)
    fill = next(t for t in g.tasks if t.name == "fill")
    init = next(t for t in g.tasks if t.name == "init")
    assert [o.name for o in init.blocks[0].ops] == ["full", "store"]
    assert [o.name for o in fill.blocks[0].ops] == ["load", "load", "store"]
    assert (init.idx, fill.idx) in {(e.pred, e.succ) for e in g.edges}

    @pl.jit
    def acc_across(x: pl.Tensor[[16, 64], pl.BF16], w: pl.Tensor[[64, 64], pl.BF16],
                   y: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="a"):
            acc = pl.matmul(x, w)
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="b"):
            y[0:16, :] = pl.matmul_acc(acc, x, w)

    with pytest.raises(UserError, match=r"pl\.matmul_acc: the accumulator is a tile of another block or a closed"):
        pl.record(acc_across)


# ------------------------------------------------------------------------------------------------
# pl.prefetch: an SDMA L2 warm issued from a kernel, recorded as its issue only
# ------------------------------------------------------------------------------------------------
def test_prefetch_is_one_scalar_issue_op_per_call_with_a_warning():
    @pl.jit
    def warm(w: pl.Tensor[[64, 64], pl.BF16], v: pl.Tensor[[64, 64], pl.BF16]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="warm"):
            ctx = pl.prefetch.make_context()
            pl.prefetch.async_prefetch(w, ctx)
            pl.prefetch.async_prefetch(v, ctx)

    with pytest.warns(InputWarning) as rec:
        g = pl.record(warm)
    assert [str(w.message).split(": ", 2)[2] for w in rec] == [
        f"pl.prefetch.async_prefetch of {x} is recorded as its issue only (the SDMA warm of L2 is not modelled; "
        "--l2 sets the inputs' L2 state)" for x in ("w", "v")]
    (t,) = g.kernel_tasks()
    ops = t.blocks[0].ops
    assert [(o.kind, o.name, o.pipe.name, o.nbytes, o.region) for o in ops] == [("scalar", "prefetch", "SCALAR", 0,
                                                                                None)] * 2
    assert t.args == []  # a cache hint: the task reads and writes no tensor


def test_prefetch_needs_a_tensor():
    @pl.jit
    def bad(w: pl.Tensor[[64, 64], pl.BF16]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="warm"):
            pl.prefetch.async_prefetch(pl.full([8, 8], dtype=pl.FP32, value=0.0), pl.prefetch.make_context())

    with pytest.raises(UserError, match="pl.prefetch.async_prefetch: expects a GM tensor, got Tile"):
        pl.record(bad)


# ------------------------------------------------------------------------------------------------
# pl.gather_row with valid_shape: bounds-checked over the rows the DMA moves
# ------------------------------------------------------------------------------------------------
def test_gather_row_at_the_end_of_a_tensor_moves_its_valid_rows():
    @pl.jit
    def tail(kv: pl.Tensor[[100, 64], pl.BF16], o: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="gath"):
            l1 = pl.create_l1([16, 64], pl.BF16)
            l1 = pl.gather_row(l1, kv, [0, 0], [90, 0], [16, 64], valid_shape=[10, 64])
            o[:, :] = pl.matmul(l1, kv[0:64, :])

    ops = pl.record(tail).kernel_tasks()[0].blocks[0].ops
    g = next(op for op in ops if op.name == "gather_row")
    assert g.region.offset == [90, 0] and g.region.shape == [10, 64] and g.nbytes == 10 * 64 * 2

    @pl.jit
    def past(kv: pl.Tensor[[100, 64], pl.BF16], o: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="gath"):
            l1 = pl.create_l1([16, 64], pl.BF16)
            l1 = pl.gather_row(l1, kv, [0, 0], [90, 0], [16, 64], valid_shape=[12, 64])
            o[:, :] = pl.matmul(l1, kv[0:64, :])

    with pytest.raises(UserError, match=r"slice \[90:102\] out of bounds on dim 0 of kv \[100, 64\]"):
        pl.record(past)


def test_untransposed_matmul_operands_are_marked_nd2nz() -> None:
    @pl.jit
    def mm(a: pl.Tensor[[16, 256], pl.BF16], w: pl.Tensor[[256, 128], pl.BF16], wt: pl.Tensor[[128, 256], pl.BF16],
           o: pl.Out[pl.Tensor[[16, 128], pl.FP32]], ot: pl.Out[pl.Tensor[[16, 128], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="mm"):
            o[:, :] = pl.matmul(a[:, :], w[:, :], out_dtype=pl.FP32)
            ot[:, :] = pl.matmul(a[:, :], wt[:, :], out_dtype=pl.FP32, b_trans=True)

    g = pl.record(mm)
    names = {t.id: t.name for t in g.tensors}
    loads = [(names[o.region.tensor], o.nd2nz) for o in g.kernel_tasks()[0].blocks[0].ops if o.kind == "load"]
    assert sorted(set(loads)) == [("a", True), ("w", True), ("wt", False)]
    assert '"nd2nz"' not in g.kernel_tasks()[0].blocks[0].ops[-1].model_dump_json()  # default: not written


def test_a_transposed_load_is_a_swapped_view_without_nd2nz_and_with_its_values() -> None:
    @pl.jit
    def mm(a: pl.Tensor[[16, 64], pl.FP32], w: pl.Tensor[[32, 64], pl.FP32], o: pl.Out[pl.Tensor[[16, 32], pl.FP32]],
           o2: pl.Out[pl.Tensor[[16, 32], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="mm"):
            am = pl.load(a, [0, 0], [16, 64], target_memory=pl.MemorySpace.Mat)
            wt = pl.load(w, [0, 0], [32, 64], target_memory=pl.MemorySpace.Mat, transpose=True)
            o[:, :] = pl.matmul(am, wt)
            o2[:, :] = pl.matmul(am, pl.tile.transpose_view(pl.load(w, [0, 0], [32, 64],
                                                                    target_memory=pl.MemorySpace.Mat)))

    a = np.linspace(-1, 1, 16 * 64, dtype=np.float32).reshape(16, 64)
    w = np.linspace(1, -1, 32 * 64, dtype=np.float32).reshape(32, 64)
    o, o2 = np.zeros((16, 32), np.float32), np.zeros((16, 32), np.float32)
    g = pl.record(mm, data={"a": a, "w": w, "o": o, "o2": o2}, values=True)
    ops = g.kernel_tasks()[0].blocks[0].ops
    assert [op.mnk for op in ops if op.name == "matmul"] == [[16, 32, 64], [16, 32, 64]]
    names = {t.id: t.name for t in g.tensors}
    assert [(names[op.region.tensor], op.nd2nz) for op in ops if op.kind == "load"] == \
        [("a", True), ("w", False), ("w", False)]
    np.testing.assert_allclose(o, a @ w.T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(o2, a @ w.T, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------------------------------
# pl.const: a typed scalar constant
# ------------------------------------------------------------------------------------------------
def test_const_is_the_number_in_the_dtype_kind_and_counts_in_a_kernel():
    assert pl.const(3, pl.INT32) == 3 and type(pl.const(3.0, pl.INT32)) is int
    assert type(pl.const(1, pl.FP32)) is float and pl.const(0.5, pl.FP32) == 0.5

    @pl.jit
    def count(x: pl.Tensor[[1, 8], pl.INT32], n: pl.Out[pl.Tensor[[1, 1], pl.INT32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="count"):
            c = pl.const(0, pl.INT32)
            for i in pl.range(8):
                if pl.read(x, [0, i]) > 0:
                    c = c + pl.const(1, pl.INT32)
            pl.write(n, [0, 0], c)

    x = np.array([[1, 0, 2, 0, 3, 0, 4, 5]], np.int32)
    n = np.zeros((1, 1), np.int32)
    pl.record(count, data={"x": x, "n": n}, values=True)
    assert int(n[0, 0]) == 5


def test_write_returns_its_target_for_the_ssa_spelling():
    @pl.jit
    def k(x: pl.Tensor[[1, 8], pl.INT32], y: pl.Out[pl.Tensor[[1, 8], pl.INT32]]):
        flat = pl.reshape(y, [8])
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="w"):
            buf = pl.full([1, 8], dtype=pl.INT32, value=0)
            for i in pl.range(8):
                buf = pl.write(buf, [0, i], pl.read(x, [0, i]) * 2)
            for i in pl.range(8):
                flat = pl.write(flat, [i], pl.read(buf, [0, i]))

    x = np.arange(8, dtype=np.int32).reshape(1, 8)
    y = np.zeros((1, 8), np.int32)
    g = pl.record(k, data={"x": x, "y": y}, values=True)
    np.testing.assert_array_equal(y, 2 * x)
    assert sum(o.name == "write" for o in g.tasks[0].blocks[0].ops) == 8  # the GM writes are scalar ops
