"""The cost model's memo of L2 transitions (``profile(..., chain=True)``): a block's result depends on
the L2 state it meets, and deferred line updates leave the state exactly as eager profiling does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hwmodels import CoreCostModel, L2State, load_chip
from sim.ir import Block, Op, Region, Task, TaskGraph, Tensor

CHIP = load_chip()
TENSORS = [Tensor(id=0, name="x", shape=[256, 1024], dtype="FP32", kind="param"),
           Tensor(id=1, name="t", shape=[256, 1024], dtype="FP32", kind="alloc")]


def _op(kind: str, tensor: int, row0: int, deps: list[int]) -> Op:
    return Op(kind=kind, name=kind, pipe="MTE2" if kind == "load" else "MTE3", lane="aiv0", dtype="FP32",
              shape=[8, 1024], nbytes=8 * 4096, rows=8, row_bytes=4096,
              region=Region(tensor=tensor, offset=[row0, 0], shape=[8, 1024]), deps=deps)


def _graph() -> TaskGraph:
    """Two tasks: ``w`` stores rows 0..7 of the alloc tensor, ``r`` loads them (and the param)."""
    w = Block(idx=0, ops=[_op("store", 1, 0, [])])
    r = Block(idx=0, ops=[_op("load", 1, 0, []), _op("load", 0, 0, [])])
    tasks = [Task(idx=i, task_id=i, name=n, shape="AIV", block_num=1, blocks=[b], kernel_ids=[-1, 0, -1])
             for i, (n, b) in enumerate((("w", w), ("r", r)))]
    return TaskGraph(kernel="chain", tensors=TENSORS, tasks=tasks)


def _state(l2: L2State) -> tuple:
    l2.sync()
    return (bytes(l2.tensors[0].arr), bytes(l2.tensors[1].arr), l2.resident_lines, l2.read_hit_lines,
            l2.read_miss_lines, l2.write_lines)


def test_the_l2_state_decides_the_result() -> None:
    g = _graph()
    w, r = g.tasks
    m = CoreCostModel(CHIP)
    # r first: its alloc rows miss; after w stored them they hit: same block, other L2 state, other result
    a = L2State(CHIP, g, "cold")
    miss = m.profile(r, r.blocks[0], a, copy=False, chain=True)["aiv0"]
    b = L2State(CHIP, g, "cold")
    m.profile(w, w.blocks[0], b, copy=False, chain=True)
    hit = m.profile(r, r.blocks[0], b, copy=False, chain=True)["aiv0"]
    assert hit.hbm_bytes < miss.hbm_bytes
    # the initial state is part of the key: a warm L2 hits the param rows the cold one missed
    c = L2State(CHIP, g, "warm")
    warm = m.profile(r, r.blocks[0], c, copy=False, chain=True)["aiv0"]
    assert warm.hbm_bytes == 0 < miss.hbm_bytes


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 1), min_size=1, max_size=6), st.sampled_from(["cold", "inputs_warm", "warm"]))
def test_replayed_runs_match_eager_profiling(order: list[int], init: str) -> None:
    g = _graph()
    m = CoreCostModel(CHIP)
    runs = []
    for chain in (False, True, True):  # the second chained run hits the memo and defers its updates
        l2 = L2State(CHIP, g, init)
        res = [m.profile(g.tasks[i], g.tasks[i].blocks[0], l2, copy=False, chain=chain) for i in order]
        runs.append((res, _state(l2)))
    assert runs[0] == runs[1] == runs[2]
    # a deferred run leaves the memo when the order differs, after applying what it deferred
    l2 = L2State(CHIP, g, init)
    res = [m.profile(g.tasks[i], g.tasks[i].blocks[0], l2, copy=False, chain=True) for i in [*order, 1 - order[-1]]]
    eager = L2State(CHIP, g, init)
    ref = [m.profile(g.tasks[i], g.tasks[i].blocks[0], eager, copy=False) for i in [*order, 1 - order[-1]]]
    assert res == ref and _state(l2) == _state(eager)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.booleans()), min_size=1, max_size=6))
def test_mixed_eager_and_memoised_calls_match_eager_profiling(calls: list[tuple[int, bool]]) -> None:
    """A state changed by an eager call or by a direct access is no longer named by a token: the
    memoised path then profiles it as it is, and leaves no memo entry another state could meet."""
    g = _graph()
    m = CoreCostModel(CHIP)
    for pre in (True, False, True):
        states = [L2State(CHIP, g, "cold") for _ in range(2)]
        if pre:  # the alloc rows resident before any profile
            for s in states:
                s.read(s.lines_of(g.tasks[1].blocks[0].ops[0].region))
        l2, eager = states
        for i, chain in calls:
            t = g.tasks[i]
            assert (m.profile(t, t.blocks[0], l2, copy=False, chain=chain)
                    == m.profile(t, t.blocks[0], eager, copy=False))
        assert _state(l2) == _state(eager)


def test_an_eager_call_detaches_the_state_from_its_token() -> None:
    g = _graph()
    w, r = g.tasks
    m = CoreCostModel(CHIP)
    a = L2State(CHIP, g, "cold")
    m.profile(w, w.blocks[0], a, copy=False, chain=True)
    m.profile(r, r.blocks[0], a, copy=False)  # eager: r's param rows now resident in a
    m.profile(r, r.blocks[0], a, copy=False, chain=True)  # must not be remembered as "r after w"
    b = L2State(CHIP, g, "cold")
    m.profile(w, w.blocks[0], b, copy=False, chain=True)
    got = m.profile(r, r.blocks[0], b, copy=False, chain=True)
    ref = L2State(CHIP, g, "cold")
    m.profile(w, w.blocks[0], ref, copy=False)
    assert got == m.profile(r, r.blocks[0], ref, copy=False)
