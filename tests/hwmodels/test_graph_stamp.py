"""Content stamps of task graphs: the cost model's per-block memos (block structures, L2 transitions)
move to a graph with an equal stamp and never to one with another stamp or another shape."""

from __future__ import annotations

from hwmodels import CoreCostModel, L2State, load_chip
from hwmodels.incore import scheduler
from hwmodels.memory import graph_stamp, stamp_graph
from sim.ir import Block, Op, Region, Task, TaskGraph, Tensor

CHIP = load_chip()
TENSORS = [Tensor(id=0, name="x", shape=[256, 1024], dtype="FP32", kind="param"),
           Tensor(id=1, name="t", shape=[256, 1024], dtype="FP32", kind="alloc")]


def _op(kind: str, tensor: int, row0: int) -> Op:
    return Op(kind=kind, name=kind, pipe="MTE2" if kind == "load" else "MTE3", lane="aiv0", dtype="FP32",
              shape=[8, 1024], nbytes=8 * 4096, rows=8, row_bytes=4096,
              region=Region(tensor=tensor, offset=[row0, 0], shape=[8, 1024]), deps=[])


def _graph(store_row: int = 0, loads: int = 2) -> TaskGraph:
    """``w`` stores 8 rows of the alloc tensor from ``store_row``; ``r`` loads rows 0..7 of it (and the param)."""
    w = Block(idx=0, ops=[_op("store", 1, store_row)])
    r = Block(idx=0, ops=[_op("load", 1, 0), _op("load", 0, 0)][:loads])
    tasks = [Task(idx=i, task_id=i, name=n, shape="AIV", block_num=1, blocks=[b], kernel_ids=[-1, 0, -1])
             for i, (n, b) in enumerate((("w", w), ("r", r)))]
    return TaskGraph(kernel="stamp", tensors=TENSORS, tasks=tasks)


def _run(m: CoreCostModel, g: TaskGraph, init: str = "cold") -> list[float]:
    """HBM bytes of ``w`` then ``r`` profiled through the L2 transition memo."""
    l2 = L2State(CHIP, g, init)
    return [m.profile(t, t.blocks[0], l2, copy=False, chain=True)["aiv0"].hbm_bytes for t in g.tasks]


def test_a_stamp_belongs_to_its_graph_object() -> None:
    g = _graph()
    stamp_graph(g, "a")
    assert graph_stamp(g) == "a"
    assert graph_stamp(_graph()) is None


def test_an_equal_stamp_moves_the_memos_and_gives_the_same_results() -> None:
    m = CoreCostModel(CHIP)
    a, b = _graph(), _graph()
    stamp_graph(a, "same")
    stamp_graph(b, "same")
    first = _run(m, a)
    moved = _run(m, b)
    assert moved == first == _run(CoreCostModel(CHIP), _graph())
    # the transitions now name b's blocks and tasks (a's run memoised them, b's hit them)
    assert {id(e[0]) for e in m._chain.values()} == {id(t.blocks[0]) for t in b.tasks}
    assert scheduler._STRUCTS and all(s.block in (b.tasks[0].blocks[0], b.tasks[1].blocks[0])
                                      for s in scheduler._STRUCTS.values())
    # another L2 state on the moved memo: another result (a warm L2 holds the param)
    assert _run(m, b, "warm")[1] < moved[1]


def test_another_stamp_gives_the_other_graphs_own_result() -> None:
    m = CoreCostModel(CHIP)
    a, c = _graph(0), _graph(8)  # in c, w stores rows 8..15: r's alloc rows miss
    stamp_graph(a, "a")
    stamp_graph(c, "c")
    ra = _run(m, a)
    rc = _run(m, c)
    assert rc[1] > ra[1]
    assert rc == _run(CoreCostModel(CHIP), _graph(8))


def test_an_equal_stamp_on_another_shape_is_not_trusted() -> None:
    m = CoreCostModel(CHIP)
    a, d = _graph(), _graph(loads=1)  # d's r loads one tensor only
    stamp_graph(a, "same")
    stamp_graph(d, "same")
    ra = _run(m, a)
    rd = _run(m, d)
    assert rd[1] < ra[1]
    assert rd == _run(CoreCostModel(CHIP), _graph(loads=1))


def test_a_moved_structure_recomputes_its_line_sets_for_another_line_size() -> None:
    small = CHIP.model_copy(deep=True)
    small.l2.line_bytes = CHIP.l2.line_bytes // 4

    def stats(chip, g: TaskGraph) -> tuple:  # noqa: ANN001
        l2 = L2State(chip, g, "cold")
        m = CoreCostModel(chip)
        for t in g.tasks:
            m.profile(t, t.blocks[0], l2, copy=False, chain=True)
        l2.sync()
        return l2.read_hit_lines, l2.read_miss_lines, l2.write_lines, l2.resident_lines

    a, b = _graph(), _graph()
    stamp_graph(a, "lines")
    stamp_graph(b, "lines")
    big = stats(CHIP, a)
    moved = stats(small, b)  # b takes over a's structures, whose line sets are for the larger lines
    assert moved == stats(small, _graph()) != big
    assert moved[2] == 4 * big[2]
