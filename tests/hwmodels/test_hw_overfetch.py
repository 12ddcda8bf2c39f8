"""The L2-line over-fetch calibration (docs/model.md §3.5): 128 B rows cost ~+20 %, not 4x."""

from __future__ import annotations

import pytest

import hwmodels
from hwmodels import CoreCostModel, L2State
from sim.ir import Block, CoreShape, Op, Pipe, Region, Task, TaskGraph, Tensor


def _stream(rows: int, row_bytes: int, n_loads: int = 16) -> tuple[TaskGraph, Task, Block]:
    """One AIC block loading ``n_loads`` INT8 weight tiles of rows x row_bytes from a wide tensor."""
    w = Tensor(id=0, name="w", shape=[8192, 4096], dtype="INT8", kind="param", nbytes=8192 * 4096)
    ops = [
        Op(kind="load", name="load", pipe=Pipe.MTE2, lane="aic", dtype="INT8", shape=[rows, row_bytes],
           nbytes=rows * row_bytes, rows=rows, row_bytes=row_bytes,
           region=Region(tensor=0, offset=[rows * i, 0], shape=[rows, row_bytes]))
        for i in range(n_loads)
    ]
    blk = Block(idx=0, ops=ops)
    task = Task(idx=0, task_id=1 << 32, name="w_stream", shape=CoreShape.AIC, blocks=[blk])
    return TaskGraph(kernel="w_stream", tensors=[w], tasks=[task]), task, blk


@pytest.mark.parametrize("l2_init", ["cold", "warm"])
def test_128b_rows_cost_about_20_percent_more(l2_init: str) -> None:
    chip = hwmodels.load_chip()
    times = []
    for rows, row_bytes in ((512, 128), (128, 512)):  # same 64 KiB per load
        g, task, blk = _stream(rows, row_bytes)
        times.append(CoreCostModel(chip).profile(task, blk, L2State(chip, g, l2_init))["aic"].compute_ns)
    ratio = times[0] / times[1]
    assert 1.14 <= ratio <= 1.26, f"128 B rows / 512 B rows = {ratio:.3f} (measured +16..25 %)"


def test_128b_rows_still_move_4x_hbm_bytes() -> None:
    chip = hwmodels.load_chip()
    hbm = []
    for rows, row_bytes in ((512, 128), (128, 512)):
        g, task, blk = _stream(rows, row_bytes)
        hbm.append(CoreCostModel(chip).profile(task, blk, L2State(chip, g, "cold"))["aic"].hbm_bytes)
    assert hbm[0] == pytest.approx(4 * hbm[1], rel=0.01)


def test_nd2nz_rows_cost_their_cycles_on_converted_loads_only() -> None:
    """``dma.nd2nz_row_cycles``: an untransposed cube operand's load pays it per source row, a plain load not."""
    base = hwmodels.load_chip()
    off = base.model_copy(update={"dma": base.dma.model_copy(update={"nd2nz_row_cycles": 0.0})})
    g, task, blk = _stream(512, 128, n_loads=1)
    conv = blk.model_copy(update={"ops": [blk.ops[0].model_copy(update={"nd2nz": True})]})

    def ns(chip: object, b: Block) -> float:
        return CoreCostModel(chip).profile(task, b, L2State(chip, g, "warm"))["aic"].compute_ns

    assert ns(base, blk) == pytest.approx(ns(off, blk))  # a plain load: unchanged
    assert ns(off, conv) == pytest.approx(ns(off, blk))  # switched off: unchanged
    extra = ns(base, conv) - ns(off, conv)
    assert extra == pytest.approx(512 * base.dma.nd2nz_row_cycles / base.soc.cube_freq_mhz * 1e3, rel=0.01)


def test_nd2nz_weight_stream_runs_at_the_measured_rate_per_core() -> None:
    """A stream of L2-resident [512 x 128 B] ND2NZ tiles moves at the measured per-sub-queue rate times the
    measured busy sub-queues (pypto-lib PR #628: ~21 GB/s x 3.62 = ~76 GB/s per core), not at one sub-queue's."""
    chip = hwmodels.load_chip()
    g, task, blk = _stream(512, 128)
    conv = blk.model_copy(update={"ops": [o.model_copy(update={"nd2nz": True}) for o in blk.ops]})
    ns = CoreCostModel(chip).profile(task, conv, L2State(chip, g, "warm"))["aic"].compute_ns
    cns = 1e3 / chip.soc.cube_freq_mhz
    per_tile = (ns - chip.core.kernel_prologue_ns - chip.core.kernel_epilogue_ns
                - chip.l2.hit_read_latency_cycles * cns) / len(conv.ops)
    gbps = 65536 / per_tile
    m = chip.measured
    assert gbps == pytest.approx(m.nd2nz_lane_gbps * m.nd2nz_lanes_busy, rel=0.03)
    assert gbps > 2 * m.nd2nz_lane_gbps


def test_nd2nz_load_span_lengthens_a_lone_load_but_not_a_stream() -> None:
    """``dma.nd2nz_load_span``: a converted load lands span x its pipe share after it starts (one MTE2
    sub-queue), while the pipe takes the next load after its share, so a stream of independent loads keeps
    its per-core rate and only the last load's landing moves."""
    base = hwmodels.load_chip()
    span = base.model_copy(update={"dma": base.dma.model_copy(update={"nd2nz_load_span": 3.62})})
    g, task, blk = _stream(512, 128)
    conv = blk.model_copy(update={"ops": [o.model_copy(update={"nd2nz": True}) for o in blk.ops]})
    one = conv.model_copy(update={"ops": conv.ops[:1]})

    def ns(chip: object, b: Block) -> float:
        return CoreCostModel(chip).profile(task, b, L2State(chip, g, "warm"))["aic"].compute_ns

    cns = 1e3 / base.soc.cube_freq_mhz
    share = ns(base, one) - base.core.kernel_prologue_ns - base.core.kernel_epilogue_ns \
        - base.l2.hit_read_latency_cycles * cns - base.dma.mte2_request_ns
    assert ns(span, one) - ns(base, one) == pytest.approx(2.62 * share, rel=0.01)
    assert ns(span, conv) - ns(base, conv) == pytest.approx(2.62 * share, rel=0.01)
    assert ns(span, blk) == pytest.approx(ns(base, blk))  # a plain load: unchanged
