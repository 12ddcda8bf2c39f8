"""Property tests of the recorder's lowering on random small kernels (op order and lane invariants)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import kernels.language as pl
from sim.ir import CoreShape

step = st.sampled_from(["vec", "mm", "store", "read"])


def make(program: list[str], stage: int, iters: int):
    @pl.jit
    def k(a: pl.Tensor[[64, 64], pl.FP32], w: pl.Tensor[[64, 64], pl.FP32], o: pl.Out[pl.Tensor[[64, 64], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="p"):
            for i in pl.pipeline(iters, stage=stage):
                t = a[16 * (i % 4):16 * (i % 4) + 16, :]
                for s in program:
                    if s == "vec":
                        t = pl.exp(t)
                    elif s == "mm":
                        t = pl.matmul(t, w[0:64, :])
                    elif s == "store":
                        o[16 * (i % 4):16 * (i % 4) + 16, :] = t
                    else:
                        pl.read(a, [i % 64, 0])
                o[0:16, :] = t
    return k


@settings(max_examples=40, deadline=None)
@given(st.lists(step, min_size=1, max_size=6), st.integers(1, 3), st.integers(1, 4))
def test_lowering_invariants(program, stage, iters):
    g = pl.record(make(program, stage, iters))
    task = g.tasks[0]
    ops = task.blocks[0].ops
    lanes = {o.lane for o in ops}
    cube = any(o.lane == "aic" and o.kind != "scalar" for o in ops)
    vec = any(o.lane == "aiv0" and o.kind != "scalar" for o in ops)
    assert task.shape == (CoreShape.MIX if cube and vec else CoreShape.AIC if cube else CoreShape.AIV)
    assert "aiv1" not in lanes or task.shape == CoreShape.MIX
    for i, o in enumerate(ops):
        assert all(0 <= d < i for d in o.deps)
        if o.lane == "aiv1":
            assert o.kind == "handoff" and o.nbytes == 0
        if o.kind in ("matmul", "matmul_acc"):
            assert o.lane == "aic" and [ops[i - 2].name, ops[i - 1].name] == ["l1_to_l0a", "l1_to_l0b"]
            assert {i - 2, i - 1} <= set(o.deps)
        if o.kind == "handoff" and o.name == "pop":
            assert any(ops[d].kind == "handoff" and ops[d].name == "push" and ops[d].lane != o.lane for d in o.deps)
        if o.kind == "vec":
            assert o.lane == "aiv0"
    n_load_a = sum(1 for o in ops if o.kind == "load" and o.region.tensor == 0 and o.region.shape == [16, 64])
    assert n_load_a in (iters, 2 * iters)
    # no hand-off ever pushes a raw GM load (a tile needed on both sides is loaded twice)
    assert not any(o.kind == "handoff" and o.name == "push" and o.deps and ops[o.deps[0]].kind == "load"
                   for o in ops)
    assert sum(o.kind in ("matmul", "matmul_acc") for o in ops) == iters * program.count("mm")
    assert sum(o.kind == "vec" for o in ops) == iters * program.count("vec")
