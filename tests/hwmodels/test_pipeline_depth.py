"""Software-pipeline depth inside a kernel: ``pl.pipeline(stage=s)`` buffer replicas hide DMA latency,
plain ``pl.range`` loops share one replica per enclosing iteration, and a scalar ``pl.read`` of GM holds
the lane's instruction issue until its value returns (docs/model.md §3.6).

Own kernels: a DMA-bound row loop (one GM row load, two vector ops, one row store per iteration)."""

from __future__ import annotations

import numpy as np
import pytest

import kernels.language as pl
from hwmodels import CoreCostModel, L2State, load_chip

CHIP = load_chip()
R, C = 256, 512  # rows, FP32 columns (2 KiB rows)
STRIDE = 128  # INT32 elements between the indices a read kernel uses: one 512 B line each


def row_loop(outer: int, ostage: int, inner: int, istage: int, read: bool = False):  # noqa: ANN201
    """Rows ``o * inner + i``; a loop with stage 0 is a ``pl.range``, else ``pl.pipeline(stage=...)``.
    With ``read`` the row index comes from ``pl.read`` of an index tensor (as decode kernels read
    positions or block tables)."""

    @pl.jit
    def k(x: pl.Tensor[[R, C], pl.FP32], idx: pl.Tensor[[R * STRIDE], pl.INT32],
          y: pl.Out[pl.Tensor[[R, C], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="rows"):
            for o in (pl.pipeline(outer, stage=ostage) if ostage else pl.range(outer)):
                for i in (pl.pipeline(inner, stage=istage) if istage else pl.range(inner)):
                    r = o * inner + i
                    if read:
                        r = int(pl.read(idx, [r * STRIDE]))
                    t = x[r:r + 1, :]
                    t = pl.add(pl.mul(t, t), t)
                    y[r:r + 1, :] = t

    return k


def record(k):  # noqa: ANN001, ANN201
    idx = np.zeros(R * STRIDE, dtype=np.int32)
    idx[::STRIDE] = np.arange(R, dtype=np.int32)
    return pl.record(k, data={"idx": idx})


def block_ns(k, chip=CHIP, init: str = "cold") -> float:  # noqa: ANN001
    """Simulated duration (ns) of the kernel's single block on AIV lane 0."""
    g = record(k)
    t = g.kernel_tasks()[0]
    return CoreCostModel(chip).profile(t, t.blocks[0], L2State(chip, g, init))["aiv0"].compute_ns


def loads_and_readers(k) -> tuple[list, list[int]]:  # noqa: ANN001
    ops = record(k).kernel_tasks()[0].blocks[0].ops
    return ops, [i for i, o in enumerate(ops) if o.kind == "load"]


def test_flat_loop_latency_hidden_by_slots_until_saturated() -> None:
    """A DMA-bound row loop gets faster with more slots (ping-pong), and more slots than the load
    latency needs (or the MTE2 outstanding limit allows) gain nothing."""
    t = {s: block_ns(row_loop(16, s, 1, 0)) for s in (0, 1, 2, 4, 8, 16)}
    assert t[0] == pytest.approx(t[1])  # pl.range = one slot per call site
    assert t[1] > t[2] * 1.3 > t[4] * 1.3
    assert t[8] == pytest.approx(t[16])  # saturated
    assert t[8] <= t[4]


def test_mte2_outstanding_limit_caps_the_gain_of_deep_pipelines() -> None:
    """With one MTE2 request in flight, deep slot rings cannot overlap load latencies any more."""
    one = load_chip(overrides=["dma.mte2_outstanding=1"])
    deep, shallow = block_ns(row_loop(16, 8, 1, 0), one), block_ns(row_loop(16, 2, 1, 0), one)
    assert deep == pytest.approx(shallow, rel=0.05)
    assert block_ns(row_loop(16, 8, 1, 0)) < 0.8 * deep  # the default limit lets them overlap


def copy_loop(rows: int, stage: int):  # noqa: ANN201
    """A row-by-row GM copy (one row load, one row store per iteration, no compute)."""

    @pl.jit
    def k(x: pl.Tensor[[R, C], pl.FP32], y: pl.Out[pl.Tensor[[R, C], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="copy"):
            for r in (pl.pipeline(rows, stage=stage) if stage else pl.range(rows)):
                y[r:r + 1, :] = x[r:r + 1, :]

    return k


def test_lane_outstanding_one_makes_a_pipelined_row_copy_as_slow_as_a_serial_one() -> None:
    """``dma.lane_outstanding = 1``: one transfer of the lane in flight at a time, so a row copy pays
    its load and store latencies in turn whatever its buffering; with the default (per-pipe limits
    only) the pipelined copy overlaps rows and is faster."""
    one = load_chip(overrides=["dma.lane_outstanding=1"])
    serial, piped = block_ns(copy_loop(32, 0), one), block_ns(copy_loop(32, 4), one)
    assert piped == pytest.approx(serial, rel=0.05)
    assert block_ns(copy_loop(32, 4)) < 0.6 * block_ns(copy_loop(32, 0))
    assert block_ns(copy_loop(32, 0)) == pytest.approx(serial, rel=0.02)  # a serial copy already waits


def test_inner_range_in_outer_pipeline_shares_one_slot() -> None:
    """Outer ``pl.pipeline(stage=4)`` around an inner ``pl.range``: the inner loads of one outer
    iteration reuse one buffer, so each waits for the previous inner iteration's reader (WAR)."""
    ops, loads = loads_and_readers(row_loop(4, 4, 4, 0))
    for a, b in zip(loads[:3], loads[1:4], strict=True):  # outer iteration 0, inner 0..3
        assert a + 1 in ops[b].deps, (a, b, ops[b].deps)  # the reader of the previous row (mul)
    assert ops[loads[4]].deps == []  # outer iteration 1 has its own replica
    ops, loads = loads_and_readers(row_loop(4, 2, 4, 4))
    assert all(ops[i].deps == [] for i in loads[:4])  # inner pl.pipeline(stage=4): four replicas


def test_inner_pipeline_overlaps_where_inner_range_serialises() -> None:
    """Block time: outer stage 4 with an inner range is slower than outer stage 2 with an inner
    pipeline of stage 4, and no faster than the inner range under a plain outer loop by more than
    the overlap at outer-iteration boundaries."""
    outer4_range = block_ns(row_loop(4, 4, 4, 0))
    outer2_pipe4 = block_ns(row_loop(4, 2, 4, 4))
    all_range = block_ns(row_loop(4, 0, 4, 0))
    assert outer4_range > 1.5 * outer2_pipe4
    assert outer4_range < all_range
    assert outer2_pipe4 == pytest.approx(block_ns(row_loop(16, 4, 1, 0)), rel=0.02)


HOLD = load_chip(overrides=["core.scalar_read_holds_issue=true"])


def test_scalar_read_holds_the_issue_of_later_ops() -> None:
    """With ``core.scalar_read_holds_issue``, a ``pl.read`` of GM (an index) stalls the lane's in-order
    issue: the load it addresses starts only after the value is back, so reads that miss the scalar
    data cache add their latency."""
    k = row_loop(16, 4, 1, 0, read=True)
    g = record(k)
    t = g.kernel_tasks()[0]
    tl = CoreCostModel(HOLD).op_timeline(t, t.blocks[0], L2State(HOLD, g, "cold"))
    by = {o.index: o for o in tl}
    ops = t.blocks[0].ops
    reads = [i for i, o in enumerate(ops) if o.kind == "scalar"]
    assert len(reads) == 16
    for r in reads:
        later = [i for i in range(r + 1, len(ops)) if ops[i].lane == ops[r].lane]
        assert all(by[i].start_ns >= by[r].ready_ns - 1e-9 for i in later)
    with_read, without = block_ns(k, HOLD), block_ns(row_loop(16, 4, 1, 0), HOLD)
    cns = 1000.0 / CHIP.soc.vec_freq_mhz
    assert with_read - without > 4 * CHIP.l2.hit_read_latency_cycles * cns  # read latencies exposed
    assert block_ns(k) - without < with_read - without  # off: the reads only occupy the SCALAR pipe
