"""The orchestrator's level-4 cost of the first submit of each kernel in a first launch
(``runtime.orch_first_submit_per_kernel_us``, docs/model.md §4.1): paid once per kernel, not by
alloc tasks, not below level 4 and not in a repeated launch. Own task graphs."""

from __future__ import annotations

import pytest

import hwmodels
from sim.engine import RunOptions, simulate
from sim.ir import Block, CoreShape, Op, Pipe, Task, TaskGraph, TaskKind

FIRST_US = 2.0


def _graph(kernels: list[int]) -> TaskGraph:
    """An alloc task, then one single-block AIV task per entry of ``kernels`` (its kernel id)."""
    tasks = [Task(idx=0, task_id=1 << 32, kind=TaskKind.ALLOC, name="alloc")]
    for i, k in enumerate(kernels, start=1):
        ops = [Op(kind="vec", name="add", pipe=Pipe.VECTOR, lane="aiv0")]
        tasks.append(Task(idx=i, task_id=(1 << 32) | i, name=f"k{k}", shape=CoreShape.AIV,
                          kernel_ids=[-1, k, -1], blocks=[Block(idx=0, ops=ops)]))
    return TaskGraph(kernel="g", tasks=tasks, func_names={k: f"k{k}" for k in set(kernels)})


def _submit_us(kernels: list[int], first_us: float, **opts: object) -> list[float]:
    chip = hwmodels.load_chip(overrides=[f"runtime.orch_first_submit_per_kernel_us={first_us}"])
    res = simulate(_graph(kernels), chip, RunOptions(seed=0, **opts))
    return [(s.end - s.start) / 1000.0 for s in sorted(res.submits, key=lambda s: s.submit_idx)]


def test_first_submit_of_each_kernel_pays_once_at_level_4() -> None:
    kernels = [7, 7, 8, 7, 8, 9]
    extra = [a - b for a, b in zip(_submit_us(kernels, FIRST_US), _submit_us(kernels, 0.0), strict=True)]
    # alloc, k7 (first), k7, k8 (first), k7, k8, k9 (first)
    assert extra == pytest.approx([0.0, FIRST_US, 0.0, FIRST_US, 0.0, 0.0, FIRST_US])


@pytest.mark.parametrize("opts", [{"swimlane_level": 3}, {"swimlane_level": 0},
                                  {"swimlane_level": 4, "launch": "repeat"}])
def test_no_first_submit_cost_below_level_4_or_in_a_repeated_launch(opts: dict) -> None:
    kernels = [7, 8, 9]
    assert _submit_us(kernels, FIRST_US, **opts) == pytest.approx(_submit_us(kernels, 0.0, **opts))
