"""The fast paths keep results: shared block shapes, the paused GC, lean run records."""

from __future__ import annotations

import gc
import json
from pathlib import Path

from hwmodels import CoreCostModel, L2State
from hwmodels.chip import load_chip
from sim.engine import simulate
from sim.ir import Block, CoreShape, Op, Pipe, Region, Task, TaskGraph, Tensor
from sim.ir.records import RunResult
from traces import dump_run_records, write_run_records


def _graph(n_blocks: int) -> TaskGraph:
    """One AIV task whose blocks load and store their own row of a tensor: one program, per-block regions."""
    blocks = []
    for b in range(n_blocks):
        ld = Op(kind="load", name="load", pipe=Pipe.MTE2, lane="aiv0", dtype="FP32", shape=[8, 64], nbytes=2048,
                rows=8, row_bytes=256, region=Region(tensor=0, offset=[8 * b, 0], shape=[8, 64]))
        add = Op(kind="vec", name="add", pipe=Pipe.VECTOR, lane="aiv0", dtype="FP32", shape=[8, 64], deps=[0])
        st = Op(kind="store", name="store", pipe=Pipe.MTE3, lane="aiv0", dtype="FP32", shape=[8, 64], nbytes=2048,
                rows=8, row_bytes=256, region=Region(tensor=1, offset=[8 * b, 0], shape=[8, 64]), deps=[1])
        blocks.append(Block(idx=b, ops=[ld, add, st]))
    task = Task(idx=0, task_id=1 << 32, name="k", shape=CoreShape.AIV, block_num=n_blocks,
                kernel_ids=[-1, 0, -1], blocks=blocks)
    tensors = [Tensor(id=0, name="x", shape=[8 * n_blocks, 64], dtype="FP32"),
               Tensor(id=1, name="y", shape=[8 * n_blocks, 64], dtype="FP32")]
    return TaskGraph(kernel="k", tasks=[task], tensors=tensors)


def test_blocks_of_one_program_share_a_shape_but_keep_their_regions() -> None:
    g = _graph(4)
    chip = load_chip()
    m = CoreCostModel(chip)
    l2 = L2State(chip, g, "cold")
    task = g.tasks[0]
    sts = [m._prepare(b, l2)[0] for b in task.blocks]
    assert len({st.sig for st in sts}) == 1
    assert sts[0].keys is sts[1].keys  # one shared shape
    # each block classified its own rows: all misses on a cold L2, every block alike
    profs = [CoreCostModel(chip).profile(task, b, L2State(chip, g, "cold")) for b in task.blocks]
    assert all(p == profs[0] for p in profs)


def test_simulate_restores_the_gc_state() -> None:
    g = _graph(2)
    assert gc.isenabled()
    simulate(g, load_chip())
    assert gc.isenabled()
    gc.disable()
    try:
        simulate(g, load_chip())
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_run_records_full_by_default_lean_on_request(tmp_path: Path) -> None:
    r = simulate(_graph(2), load_chip())
    assert dump_run_records(r) == r.model_dump_json() + "\n"
    lean = json.loads(dump_run_records(r, full_ops=False))
    assert [b for t in lean["graph"]["tasks"] for b in t["blocks"]] == [{"idx": 0}, {"idx": 1}]
    back = RunResult.model_validate(lean)
    assert back.subtasks == r.subtasks
    p = write_run_records(r, tmp_path, full_ops=False)
    assert p.name == "run_records.json" and json.loads(p.read_text()) == lean
