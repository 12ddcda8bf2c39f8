"""Value mode's numeric ops against numpy references (hypothesis): bf16/fp16 rounding, cast rounding modes,
sort order and stability, gather/scatter out-of-range errors, and the one-line stop when a value an op
cannot compute is read."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import kernels.language as pl
from kernels.dsl.types import BF16, FP16, FP32, INT8, INT32
from kernels.dsl.values import bf16_round, cast_values, narrow, sort_pairs
from sim.util.errors import UserError

FINITE32 = arrays(np.float32, st.integers(1, 64), elements=st.floats(-2.0**127, 2.0**127, width=32, allow_nan=False))


def _bf16_reference(x: np.ndarray) -> np.ndarray:
    """Nearest bfloat16 by exhaustive neighbour choice in float64 (ties to an even mantissa)."""
    out = []
    for v in x.astype(np.float64):
        bits = int(np.float32(v).view(np.uint32))
        lo = np.uint32(bits & 0xFFFF0000).view(np.float32).astype(np.float64)
        hi = np.uint32((bits & 0xFFFF0000) + 0x10000).view(np.float32).astype(np.float64)
        dl, dh = abs(v - lo), abs(hi - v)
        if dl < dh or (dl == dh and not (bits >> 16) & 1):
            out.append(lo)
        else:
            out.append(hi)
    return np.array(out, np.float32)


@given(FINITE32)
def test_bf16_round_is_nearest_even(x: np.ndarray) -> None:
    np.testing.assert_array_equal(bf16_round(x), _bf16_reference(x))


def test_bf16_round_of_a_large_array_matches_the_small_array_path_chunk_by_chunk() -> None:
    """Arrays above one chunk round piece by piece (a harness tensor's 10^8 elements with one small
    temporary): the same bits as rounding each piece alone, NaN kept, ties to even; the caller's array is
    left alone unless it is given up (``own``), then rounded in place."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal(3 * (1 << 16) + 5).astype(np.float32)
    u = x.view(np.uint32)
    u[::7] = (u[::7] & np.uint32(0xFFFF0000)) | np.uint32(0x8000)  # exact ties
    x[::13] = np.nan
    x[3] = np.inf
    keep = x.copy()
    want = np.concatenate([bf16_round(x[i:i + 1000]) for i in range(0, x.size, 1000)])
    got = bf16_round(x)
    np.testing.assert_array_equal(got.view(np.uint32)[~np.isnan(want)], want.view(np.uint32)[~np.isnan(want)])
    assert np.isnan(got[::13]).all() and np.isnan(got).sum() == np.isnan(want).sum()
    np.testing.assert_array_equal(x.view(np.uint32), keep.view(np.uint32))
    given_up = x.copy()
    assert bf16_round(given_up, own=True) is given_up
    np.testing.assert_array_equal(np.isnan(given_up), np.isnan(want))
    assert bf16_round(got) is got  # already bfloat16 values: returned as they are


@given(FINITE32)
def test_bf16_directed_modes_bracket_the_value(x: np.ndarray) -> None:
    fl, ce, tr = bf16_round(x, "floor"), bf16_round(x, "ceil"), bf16_round(x, "trunc")
    x64 = x.astype(np.float64)
    assert (fl.astype(np.float64) <= x64).all() and (ce.astype(np.float64) >= x64).all()
    assert (np.abs(tr.astype(np.float64)) <= np.abs(x64)).all()
    assert ((bf16_round(fl) == fl) & (bf16_round(ce) == ce)).all()  # results are bf16 values


@given(arrays(np.float32, st.integers(1, 64), elements=st.floats(-6e4 + 32, 6e4 - 32, width=32)))
def test_fp16_rint_matches_numpy_and_round_goes_half_away(x: np.ndarray) -> None:
    np.testing.assert_array_equal(narrow(x, np.float16, "rint"), x.astype(np.float16))
    r = narrow(x, np.float16, "round").astype(np.float64)
    fl = narrow(x, np.float16, "floor").astype(np.float64)
    ce = narrow(x, np.float16, "ceil").astype(np.float64)
    x64 = x.astype(np.float64)
    assert ((r == fl) | (r == ce)).all()
    ties = np.abs(x64 - fl) == np.abs(ce - x64)
    assert (np.abs(r[ties & (fl != ce)]) >= np.abs(x64[ties & (fl != ce)])).all()


@given(arrays(np.float32, st.integers(1, 64), elements=st.floats(-1024.0, 1024.0, width=32)))
def test_float_to_int_cast_modes(x: np.ndarray) -> None:
    x64 = x.astype(np.float64)
    np.testing.assert_array_equal(cast_values(x, FP32, INT32, "floor"), np.floor(x64).astype(np.int32))
    np.testing.assert_array_equal(cast_values(x, FP32, INT32, "ceil"), np.ceil(x64).astype(np.int32))
    np.testing.assert_array_equal(cast_values(x, FP32, INT32, "trunc"), np.trunc(x64).astype(np.int32))
    np.testing.assert_array_equal(cast_values(x, FP32, INT32, "rint"), np.rint(x64).astype(np.int32))
    half_away = np.sign(x64) * np.floor(np.abs(x64) + 0.5)
    np.testing.assert_array_equal(cast_values(x, FP32, INT32, "round"), half_away.astype(np.int32))


def test_casts_saturate_and_narrow_to_the_format() -> None:
    np.testing.assert_array_equal(cast_values(np.array([300.0, -300.0, np.nan], np.float32), FP32, INT8, "rint"),
                                  np.array([127, -128, 0], np.int8))
    assert cast_values(np.array([1 + 2 ** -12], np.float32), FP32, FP16, "rint")[0] == 1.0
    assert cast_values(np.array([1 + 2 ** -12], np.float32), FP32, FP16, "ceil")[0] == np.float32(1 + 2 ** -10)
    assert cast_values(np.array([257.0], np.float32), FP32, BF16, "rint")[0] == 256.0
    assert cast_values(np.array([16777217], np.int32), INT32, FP32, "rint")[0] == 16777216.0


@given(arrays(np.float32, st.tuples(st.integers(1, 4), st.integers(1, 40)),
              elements=st.sampled_from([0.0, 1.0, -1.0, 2.5, 3.0])))
def test_sort_is_descending_and_stable(s: np.ndarray) -> None:
    idx = np.broadcast_to(np.arange(s.shape[1], dtype=np.int32), s.shape)
    vals, order = sort_pairs(s, idx)
    assert (np.diff(vals, axis=1) <= 0).all()
    for r in range(s.shape[0]):
        ref = sorted(range(s.shape[1]), key=lambda j, r=r: (-s[r, j], j))  # equal scores keep index order
        assert list(order[r]) == ref


def _record(body, **data):  # noqa: ANN001, ANN003, ANN202
    return pl.record(body, values=True, data=data)


@settings(max_examples=25, deadline=None)
@given(st.integers(-40, 80))
def test_gather_index_out_of_range_is_one_line(bad: int) -> None:
    @pl.jit
    def k(x: pl.Tensor[[1, 32], pl.FP32], i: pl.Tensor[[1, 8], pl.INT32], y: pl.Out[pl.Tensor[[1, 8], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="g"):
            y[:, :] = pl.gather(x[:, :], index=i[:, :])

    idx = np.arange(8, dtype=np.int32).reshape(1, 8)
    idx[0, 3] = bad
    x = np.arange(32, dtype=np.float32).reshape(1, 32)
    y = np.zeros((1, 8), np.float32)
    if 0 <= bad < 32:
        _record(k, x=x, i=idx, y=y)
        np.testing.assert_array_equal(y, x[:, idx[0]])
        return
    with pytest.raises(UserError) as e:
        _record(k, x=x, i=idx, y=y)
    msg = str(e.value)
    assert "\n" not in msg and f"pl.gather: index {bad} at [0, 3] is outside source row [0, 32)" in msg


@settings(max_examples=25, deadline=None)
@given(st.integers(-40, 80))
def test_scatter_index_out_of_range_is_one_line(bad: int) -> None:
    @pl.jit
    def k(s: pl.Tensor[[1, 4], pl.FP32], i: pl.Tensor[[1, 4], pl.INT32], y: pl.Out[pl.Tensor[[1, 16], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="s"):
            y[:, :] = pl.scatter(s[:, :], index=i[:, :], dst=pl.full([1, 16], pl.FP32, 0.0))

    idx = np.array([[0, 5, 9, 1]], np.int32)
    idx[0, 2] = bad
    src = np.array([[1, 2, 3, 4]], np.float32)
    y = np.zeros((1, 16), np.float32)
    if 0 <= bad < 16:
        _record(k, s=src, i=idx, y=y)
        ref = np.zeros(16, np.float32)
        for j in range(4):
            ref[idx[0, j]] = src[0, j]  # lane order: a repeated index keeps the last write
        np.testing.assert_array_equal(y[0], ref)
        return
    with pytest.raises(UserError) as e:
        _record(k, s=src, i=idx, y=y)
    assert "\n" not in str(e.value) and f"pl.scatter: index {bad} at [0, 2] is outside destination row" in str(e.value)


def test_reading_a_value_no_op_computes_stops_with_the_op_and_line() -> None:
    @pl.jit
    def k(x: pl.Tensor[[1, 8], pl.FP32], y: pl.Out[pl.Tensor[[1, 8], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="a"):
            t = pl.record_vec_op("mystery_op", [1, 8], pl.FP32, [x[:, :]])
            y[:, :] = t
        pl.read(y, [0, 2])

    with pytest.raises(UserError) as e:
        _record(k, x=np.ones((1, 8), np.float32), y=np.zeros((1, 8), np.float32))
    msg = str(e.value)
    assert "\n" not in msg and "pl.read of y[0, 2] needs a value that is not computed" in msg
    line = next(i for i, src in enumerate(open(__file__).read().splitlines(), 1) if '"mystery_op", [1, 8]' in src)
    assert f"pl.mystery_op at tests/kernels/test_values.py:{line} has no value semantics" in msg


def test_input_without_data_is_never_read_as_zero() -> None:
    @pl.jit
    def k(n: pl.Tensor[[4], pl.INT32], y: pl.Out[pl.Tensor[[1, 8], pl.FP32]]):
        for _ in range(pl.read(n, [1])):
            with pl.at(level=pl.Level.CORE_GROUP, name_hint="a"):
                y[:, :] = pl.full([1, 8], pl.FP32, 1.0)

    with pytest.raises(UserError, match=r"pl.read of n\[1\] needs a value that is not computed: input n has no data"):
        pl.record(k, values=True)
    g = pl.record(k, values=True, data={"n": np.array([0, 3, 0, 0], np.int32)})
    assert len(g.kernel_tasks()) == 3


def test_values_mode_matches_numpy_on_elementwise_and_matmul() -> None:
    @pl.jit
    def k(a: pl.Tensor[[16, 32], pl.BF16], b: pl.Tensor[[32, 16], pl.BF16], y: pl.Out[pl.Tensor[[16, 16], pl.FP16]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="mm"):
            c = pl.matmul(a[:, :], b[:, :])
            y[:, :] = pl.cast(pl.exp(pl.mul(c, 0.125)), pl.FP16, mode="rint")

    rng = np.random.default_rng(3)
    a = bf16_round(rng.standard_normal((16, 32)).astype(np.float32))
    b = bf16_round(rng.standard_normal((32, 16)).astype(np.float32))
    y = np.zeros((16, 16), np.float32)
    _record(k, a=a, b=b, y=y)
    ref = np.exp((a @ b).astype(np.float32) * np.float32(0.125)).astype(np.float16).astype(np.float32)
    np.testing.assert_allclose(y, ref, rtol=2e-3)
    assert FP16.size == 2


def test_binary_ops_broadcast_a_row_or_a_column_operand() -> None:
    @pl.jit
    def k(a: pl.Tensor[[16, 32], pl.FP32], r: pl.Tensor[[16, 1], pl.FP32], c: pl.Tensor[[1, 32], pl.FP32],
          y: pl.Out[pl.Tensor[[16, 32], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="bc"):
            y[:, :] = pl.sub(pl.mul(a[:, :], c[:, :]), r[:, :])

    rng = np.random.default_rng(5)
    a, r, c = (rng.standard_normal(s).astype(np.float32) for s in ((16, 32), (16, 1), (1, 32)))
    y = np.zeros((16, 32), np.float32)
    g = _record(k, a=a, r=r, c=c, y=y)
    vec = [(o.name, o.shape) for o in g.tasks[0].blocks[0].ops if o.kind == "vec"]
    assert vec == [("col_expand_mul", [16, 32]), ("row_expand_sub", [16, 32])]
    np.testing.assert_allclose(y, a * c - r, rtol=1e-6)


def test_unwritten_rows_stay_unknown_while_written_rows_compute() -> None:
    @pl.jit
    def k(x: pl.Tensor[[4, 16], pl.FP32], y: pl.Out[pl.Tensor[[8, 1], pl.FP32]]):
        pad = pl.create_tensor([8, 16], dtype=pl.FP32)
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="fill"):
            pad[0:4, :] = pl.mul(x[:, :], 2.0)  # rows 4..7 are never written
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="sum"):
            y[:, :] = pl.row_sum(pl.exp(pad[:, :]))
        pl.read(y, [ROW, 0])

    x = np.arange(64, dtype=np.float32).reshape(4, 16) / 64
    y = np.zeros((8, 1), np.float32)
    global ROW
    ROW = 2
    _record(k, x=x, y=y)
    np.testing.assert_allclose(y[:4, 0], np.exp(2 * x).sum(1), rtol=1e-6)
    ROW = 5
    with pytest.raises(UserError, match=r"pl.read of y\[5, 0\] needs a value that is not computed: "
                                        r"tensor_\d+ element read before any store wrote it"):
        _record(k, x=x, y=y)


ROW = 0


def test_a_lower_rank_tile_written_past_its_row_dim_continues_linearly() -> None:
    from sim.util.errors import InputWarning

    @pl.jit
    def k(x: pl.Tensor[[3, 8], pl.FP32], y: pl.Out[pl.Tensor[[2, 1, 4, 8], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="w"):
            pl.assemble(y, x[:, :], [0, 0, 2, 0])

    x = np.arange(1, 25, dtype=np.float32).reshape(3, 8)
    y = np.zeros((2, 1, 4, 8), np.float32)
    # rows 2 and 3 of y[0, 0], then row 0 of y[1, 0]: the target's trailing strides, as pypto writes it
    with pytest.warns(InputWarning, match=r"its rows run past dim 2 \(4\)"):
        _record(k, x=x, y=y)
    flat = y.reshape(8, 8)
    np.testing.assert_array_equal(flat[2:5], x)
    assert not flat[[0, 1, 5, 6, 7]].any()


def test_a_lower_rank_tile_wider_than_the_target_row_is_out_of_bounds() -> None:
    @pl.jit
    def k(x: pl.Tensor[[3, 8], pl.FP32], y: pl.Out[pl.Tensor[[2, 1, 4, 6], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="w"):
            pl.assemble(y, x[:, :], [0, 0, 0, 0])

    with pytest.raises(UserError, match="out of bounds on dim 3"):
        _record(k, x=np.zeros((3, 8), np.float32), y=np.zeros((2, 1, 4, 6), np.float32))


def test_scatter_in_pyptos_index_form_writes_src_into_the_first_operand() -> None:
    @pl.jit
    def k(s: pl.Tensor[[2, 4], pl.FP32], i: pl.Tensor[[2, 4], pl.INT32], y: pl.Out[pl.Tensor[[2, 8], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="s"):
            base = pl.full([2, 8], dtype=pl.FP32, value=-1.0)
            y[:, :] = pl.tensor.scatter(base, dim=-1, index=i[:, :], src=s[:, :])

    src = np.array([[1, 2, 3, 4], [5, 6, 7, 8]], np.float32)
    idx = np.array([[0, 2, 4, 6], [7, 5, 3, 1]], np.int32)
    y = np.zeros((2, 8), np.float32)
    _record(k, s=src, i=idx, y=y)
    ref = np.full((2, 8), -1.0, np.float32)
    for r in range(2):
        ref[r, idx[r]] = src[r]
    np.testing.assert_array_equal(y, ref)
    g = pl.record(k)
    (op,) = [o for o in g.tasks[0].blocks[0].ops if o.name == "scatter"]
    assert op.shape == [2, 4]  # one op over the source region


def test_write_to_a_tile_element_updates_its_value_for_later_reads_and_ops() -> None:
    @pl.jit
    def k(ids: pl.Tensor[[2, 3], pl.INT32], s: pl.Tensor[[2, 8], pl.FP32], idx: pl.Out[pl.Tensor[[2, 4], pl.INT32]],
          tot: pl.Out[pl.Tensor[[2, 1], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="pick"):
            ibuf = pl.full([2, 4], dtype=pl.INT32, value=0)
            vbuf = pl.full([2, 8], dtype=pl.FP32, value=0.0)
            for r in pl.range(2):
                for j in pl.range(3):
                    e = pl.read(ids, [r, j])
                    pl.write(ibuf, [r, j], e)
                    pl.write(vbuf, [r, j], pl.read(s, [r, e]))
            tot[:, :] = pl.reshape(pl.row_sum(vbuf), [2, 1])
            for r in pl.range(2):
                for j in pl.range(4):
                    pl.write(idx, [r, j], pl.read(ibuf, [r, j]))

    ids = np.array([[1, 4, 6], [0, 2, 7]], np.int32)
    s = np.arange(16, dtype=np.float32).reshape(2, 8) / 4
    idx = np.full((2, 4), -1, np.int32)
    tot = np.zeros((2, 1), np.float32)
    _record(k, ids=ids, s=s, idx=idx, tot=tot)
    np.testing.assert_array_equal(idx, np.array([[1, 4, 6, 0], [0, 2, 7, 0]], np.int32))
    np.testing.assert_allclose(tot[:, 0], [s[0, [1, 4, 6]].sum(), s[1, [0, 2, 7]].sum()], rtol=1e-6)


def test_write_outside_a_tile_is_one_line() -> None:
    @pl.jit
    def k(y: pl.Out[pl.Tensor[[2, 4], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="w"):
            buf = pl.full([2, 4], dtype=pl.FP32, value=0.0)
            pl.write(buf, [1, 4], 1.0)
            y[:, :] = buf

    with pytest.raises(UserError) as e:
        _record(k, y=np.zeros((2, 4), np.float32))
    assert "\n" not in str(e.value) and "pl.write: index [1, 4] out of bounds of a tile [2, 4]" in str(e.value)
