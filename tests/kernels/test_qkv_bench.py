"""Graph-build timing of qkv_proj_rope (``pytest -m bench -s``; not part of the unit suite)."""

from __future__ import annotations

import time

import pytest

from kernels.registry import build_graph


@pytest.mark.bench
@pytest.mark.parametrize("spec,mode", [("qkv_proj_rope:baseline", "decode"), ("qkv_proj_rope:precompute", "decode"),
                                       ("qkv_proj_rope:baseline", "prefill")])
def test_build_time(spec, mode):
    build_graph(spec, mode)  # warm imports
    wall, cpu = [], []
    for _ in range(3 if mode == "decode" else 1):
        w, c = time.perf_counter(), time.process_time()
        g = build_graph(spec, mode)
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    ops = sum(len(b.ops) for t in g.tasks for b in t.blocks)
    print(f"\n{spec} {mode}: best wall {min(wall) * 1e3:.0f} ms, best cpu {min(cpu) * 1e3:.0f} ms, {ops} ops")
