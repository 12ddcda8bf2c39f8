"""Built-in kernels against public A3 measurements of the same schedules (docs/calibration.md §3):

* the cube path: pto-isa's a2a3 GEMM performance example (hw-native-sys/pto-isa
  ``kernels/manual/a2a3/gemm_performance/README.md``, "Measured Performance": 24 cube cores, FP16 in,
  FP32 out; execution time and the TMATMUL busy ratio), as the ``gemm`` model;
* the sort ops: pto-isa's a2a3 topk example (``kernels/manual/a2a3/topk/README.md``: 48 vector cores,
  top 1000 of 1024 FP32 scores per row; task duration and aiv_vec_ratio), as the ``topk`` model.
"""

from __future__ import annotations

import pytest

import hwmodels
from kernels.registry import build_graph
from sim.engine.options import RunOptions
from sim.engine.run import simulate
from sim.util.errors import UserError

# spec, blocks, measured time (µs), the pipe whose busy ratio is checked, its measured ratio (%), tolerance
CASES = [
    ("gemm:1536", 24, 38.8, "CUBE", 54.5, 0.05),
    ("gemm:3072", 24, 206.7, "CUBE", 79.0, 0.05),
    ("gemm:6144", 24, 1506.0, "CUBE", 86.7, 0.05),
    ("topk:4800", 48, 324.106, "VECTOR", 94.0, 0.15),
    ("topk:2304", 48, 161.375, "VECTOR", 88.7, 0.15),
]


@pytest.mark.parametrize(("spec", "blocks", "time_us", "pipe", "ratio_pct", "rel"), CASES)
def test_time_and_busiest_pipe_match_the_published_a3_measurement(spec: str, blocks: int, time_us: float,
                                                                    pipe: str, ratio_pct: float, rel: float) -> None:
    chip = hwmodels.load_chip(hwmodels.recommended_preset())
    func = spec.split(":")[0]
    rows = [r for r in simulate(build_graph(spec, "decode"), chip, RunOptions(seed=0, swimlane_level=1)).subtasks
            if r.func == func]
    assert len(rows) == blocks
    span_us = (max(r.end for r in rows) - min(r.start for r in rows)) / 1e3
    assert span_us == pytest.approx(time_us, rel=0.15), f"{spec}: simulated {span_us:.1f} µs"
    slowest = max(rows, key=lambda r: r.end - r.start)
    busy_us = slowest.pipe_busy[pipe] / 1e3
    assert busy_us == pytest.approx(time_us * ratio_pct / 100, rel=rel), f"{spec}: {pipe} busy {busy_us:.1f} µs"


def test_gemm_sizes_and_topk_options_are_checked() -> None:
    with pytest.raises(UserError, match="N=1000: expected a positive multiple of 1536"):
        build_graph("gemm:1536", "decode", N=1000)
    with pytest.raises(UserError, match="topk: unknown option"):
        build_graph("topk:2304", "decode", rows=7)


def test_an_aggregate_l2_limit_below_the_gemms_line_traffic_lengthens_it() -> None:
    """``l2.bw_gbps`` shares whole-line L2 traffic among running lanes: unlimited (0, the presets) and at
    4 TB/s the 3072 GEMM runs as before, at 3 TB/s its 24 blocks are held back past the published time's
    tolerance, so the public GEMM bounds the limit from below (docs/calibration.md §7)."""
    spans = {}
    for bw in (0.0, 4000.0, 3000.0):
        chip = hwmodels.load_chip(hwmodels.recommended_preset(), [f"l2.bw_gbps={bw}"])
        rows = simulate(build_graph("gemm:3072", "decode"), chip, RunOptions(seed=0, swimlane_level=1)).subtasks
        spans[bw] = (max(r.end for r in rows) - min(r.start for r in rows)) / 1e3
    assert spans[4000.0] == pytest.approx(spans[0.0], rel=1e-9)
    assert spans[3000.0] > 206.7 * 1.15 > spans[0.0]
