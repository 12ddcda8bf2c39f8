"""Recorder gaps met by real pypto-lib files: matmuls with a leading batch of 1, and loads / stores whose
valid extent is narrower than the tile at a tensor's edge."""

from __future__ import annotations

import pytest

import kernels.language as pl
from sim.util.errors import UserError


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
    def bad(x: pl.Tensor[[4, 64], pl.FP32], y: pl.Out[pl.Tensor[[4, 64], pl.FP32]]):
        for _b in pl.spmd(1, name_hint="edge"):
            t = pl.slice(x, [16, 64], [0, 0], valid_shape=[4, 64])
            y[2:18, 0:64] = pl.exp(t)

    with pytest.raises(UserError, match=r"slice \[2:18\] out of bounds on dim 0 of y \[4, 64\]"):
        pl.record(bad)


def test_row_argmax_is_an_int32_row_reduction():
    @pl.jit
    def k(x: pl.Tensor[[8, 64], pl.FP32], y: pl.Out[pl.Tensor[[8, 1], pl.INT32]]):
        for _b in pl.spmd(1, name_hint="am"):
            y[0:8, 0:1] = pl.row_argmax(x[0:8, 0:64])

    ops = pl.record(k).kernel_tasks()[0].blocks[0].ops
    am = next(o for o in ops if o.name == "row_argmax")
    assert am.pipe == "VECTOR" and am.shape == [8, 64] and am.dtype == "INT32" and am.in_dtype == "FP32"
