"""The cube path against a public measurement: pto-isa's a2a3 GEMM performance example
(hw-native-sys/pto-isa ``kernels/manual/a2a3/gemm_performance/README.md``, "Measured Performance",
Ascend A3, 24 cube cores, FP16 in, FP32 out), simulated as the built-in ``gemm`` model."""

from __future__ import annotations

import pytest

import hwmodels
from kernels.registry import build_graph
from sim.engine.options import RunOptions
from sim.engine.run import simulate

# m = k = n: execution time (µs) and the TMATMUL (CUBE) busy ratio (%), as the README gives them
MEASURED = {1536: (38.8, 54.5), 3072: (206.7, 79.0), 6144: (1506.0, 86.7)}


@pytest.fixture(scope="module")
def chip():  # noqa: ANN201
    return hwmodels.load_chip(hwmodels.recommended_preset())


@pytest.mark.parametrize("size", sorted(MEASURED))
def test_gemm_time_and_cube_busy_match_the_published_a3_measurement(chip, size: int) -> None:  # noqa: ANN001
    graph = build_graph(f"gemm:{size}", "decode")
    rows = [r for r in simulate(graph, chip, RunOptions(seed=0, swimlane_level=1)).subtasks if r.func == "gemm"]
    assert len(rows) == 24
    span_us = (max(r.end for r in rows) - min(r.start for r in rows)) / 1e3
    slowest = max(rows, key=lambda r: r.end - r.start)
    time_us, cube_pct = MEASURED[size]
    assert span_us == pytest.approx(time_us, rel=0.15), f"{size}^3: simulated {span_us:.1f} µs"
    cube_us = slowest.pipe_busy["CUBE"] / 1e3
    assert cube_us == pytest.approx(time_us * cube_pct / 100, rel=0.05), f"{size}^3: CUBE busy {cube_us:.1f} µs"


def test_gemm_sizes_are_checked() -> None:
    from sim.util.errors import UserError

    with pytest.raises(UserError, match="N=1000: expected a positive multiple of 1536"):
        build_graph("gemm:1536", "decode", N=1000)
