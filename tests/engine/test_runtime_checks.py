"""Runtime-model checks (the runtime checks of docs/calibration.md §3) computed from a run."""

from __future__ import annotations

import pytest
from stub_cost import StubCostModel

import hwmodels
from sim.engine import RunOptions, simulate
from sim.ir import Block, CoreShape, Edge, Op, Pipe, Task, TaskGraph
from traces.runtime_checks import CHECKS, RuntimeCheck, format_checks, runtime_values


def _chain(n: int, blocks: int = 1) -> TaskGraph:
    tasks = []
    for i in range(n):
        ops = [Op(kind="vec", name="add", pipe=Pipe.VECTOR, lane="aiv0") for _ in range(4)]
        tasks.append(Task(idx=i, task_id=(1 << 32) | i, name=f"k{i}", shape=CoreShape.AIV, kernel_ids=[-1, i, -1],
                          block_num=blocks,
                          blocks=[Block(idx=b, ops=ops) for b in range(blocks)]))
    edges = [Edge(pred=i, succ=i + 1, source="explicit") for i in range(n - 1)]
    return TaskGraph(kernel="chain", tasks=tasks, edges=edges, func_names={i: f"k{i}" for i in range(n)})


def test_values_follow_the_records_of_a_one_core_chain() -> None:
    chip = hwmodels.load_chip(overrides=["soc.clusters=1", "soc.aiv_per_cluster=1"])
    res = simulate(_chain(3), chip, RunOptions(seed=1, swimlane_level=1), cost_model=StubCostModel())
    rows = sorted(res.subtasks, key=lambda r: r.start)
    assert len({r.core_id for r in rows}) == 1
    v = runtime_values(res, level=1)
    # a chain: each successor is dispatched only after its producer ended -> IDLE dispatches
    assert all(b.dispatch >= a.end for a, b in zip(rows, rows[1:], strict=False))
    idle = sorted((r.start - r.dispatch) / 1e3 for r in rows[1:])
    assert v["steady_head_oh"] == pytest.approx((idle[0] + idle[1]) / 2)
    assert v["first_head_oh_max"] == pytest.approx((rows[0].start - rows[0].dispatch) / 1e3)
    assert v["switch_mean"] is None  # no PENDING dispatch
    assert v["thread_stagger"] is None  # single-block tasks
    assert v["orch_per_task"] == pytest.approx(
        (max(s.end for s in res.submits) - min(s.start for s in res.submits)) / 1e3 / len(res.submits))
    assert v["loop_t0"] is not None and v["loop_t0"] > 0


def test_stagger_appears_when_blocks_span_threads() -> None:
    res = simulate(_chain(1, blocks=40), hwmodels.load_chip(), RunOptions(seed=0),
                   cost_model=StubCostModel(op_ns=5000.0))
    assert len({r.thread for r in res.subtasks}) > 1
    assert runtime_values(res, level=4)["thread_stagger"] is not None


def test_verdicts_and_table() -> None:
    rng = RuntimeCheck("a", "a", 0.2, 0.5, "s")
    one = RuntimeCheck("b", "b", 2.0, 2.0, "s")
    assert (rng.verdict(0.1), rng.verdict(0.3), rng.verdict(0.9), rng.verdict(None)) == (
        "below", "in range", "above", "-")
    assert one.verdict(2.5) == "+25%"
    cols = {"x": dict.fromkeys((c.key for c in CHECKS), 1.0), "y": {}}
    text = format_checks(cols)
    assert all(c.label in text for c in CHECKS)
    md = format_checks(cols, markdown=True)
    assert md.splitlines()[0].startswith("| check |") and len(md.splitlines()) == 2 + len(CHECKS)


def test_a_target_measured_without_swimlane_is_not_compared_with_a_run_that_records_more() -> None:
    chip = hwmodels.load_chip(overrides=["soc.clusters=1", "soc.aiv_per_cluster=1"])
    res = simulate(_chain(3), chip, RunOptions(seed=1, swimlane_level=4), cost_model=StubCostModel())
    full, bare = runtime_values(res, level=4), runtime_values(res, level=0)
    # orchestrator records (level 4) lengthen a submit, phase records (level >= 3) a scheduler loop
    assert full["orch_per_task"] is None and full["loop_t0"] is None
    assert bare["orch_per_task"] is not None and bare["loop_t0"] is not None
    assert runtime_values(res, level=3)["orch_per_task"] is not None and runtime_values(res, level=3)["loop_t0"] is None
    gated = {"orch_per_task", "loop_t0"}
    assert {k: v for k, v in full.items() if k not in gated} == {k: v for k, v in bare.items() if k not in gated}
