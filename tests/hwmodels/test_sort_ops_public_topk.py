"""The sort ops against a public measurement: pto-isa's a2a3 topk example (hw-native-sys/pto-isa
``kernels/manual/a2a3/topk/README.md``, "Measured Performance", Ascend A3, 48 vector cores, FP32
scores, 1024 per row, top 1000), simulated as the built-in ``topk`` model."""

from __future__ import annotations

import pytest

import hwmodels
from kernels.registry import build_graph
from sim.engine.options import RunOptions
from sim.engine.run import simulate
from sim.util.errors import UserError

# rows: task duration (µs) and aiv_vec_ratio (%), as the README gives them
MEASURED = {4800: (324.106, 94.0), 2304: (161.375, 88.7)}


@pytest.fixture(scope="module")
def chip():  # noqa: ANN201
    return hwmodels.load_chip(hwmodels.recommended_preset())


@pytest.mark.parametrize("rows", sorted(MEASURED))
def test_topk_time_and_vector_busy_match_the_published_a3_measurement(chip, rows: int) -> None:  # noqa: ANN001
    graph = build_graph(f"topk:{rows}", "decode")
    blocks = [r for r in simulate(graph, chip, RunOptions(seed=0, swimlane_level=1)).subtasks if r.func == "topk"]
    assert len(blocks) == 48
    span_us = (max(r.end for r in blocks) - min(r.start for r in blocks)) / 1e3
    slowest = max(blocks, key=lambda r: r.end - r.start)
    time_us, vec_pct = MEASURED[rows]
    assert span_us == pytest.approx(time_us, rel=0.15), f"{rows} rows: simulated {span_us:.1f} µs"
    vec_us = slowest.pipe_busy["VECTOR"] / 1e3
    assert vec_us == pytest.approx(time_us * vec_pct / 100, rel=0.15), f"{rows} rows: VECTOR busy {vec_us:.1f} µs"


def test_topk_takes_no_options() -> None:
    with pytest.raises(UserError, match="topk: unknown option"):
        build_graph("topk:2304", "decode", rows=7)
