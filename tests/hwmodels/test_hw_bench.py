"""Benchmark (``pytest -m bench -s``): time to profile every block of the big graphs.

Not part of the default suite (timings depend on the machine); it prints the figures.
"""

from __future__ import annotations

import gc
import time

import pytest

from hwmodels import CoreCostModel, L2State, load_chip
from kernels.registry import build_graph


@pytest.mark.bench
@pytest.mark.parametrize("spec", ["qkv_proj_rope:baseline", "decode_attention_hca:baseline"])
def test_profile_all_blocks_time(spec: str) -> None:
    g = build_graph(spec)
    chip = load_chip()
    tasks = g.kernel_tasks()
    n_blocks = sum(len(t.blocks) for t in tasks)
    n_ops = sum(len(b.ops) for t in tasks for b in t.blocks)
    gc.collect()
    for label in ("first (builds block structures)", "again (structures cached)"):
        model = CoreCostModel(chip)
        l2 = L2State(chip, g, "inputs_warm")
        t0, c0 = time.perf_counter(), time.process_time()
        for t in tasks:
            for b in t.blocks:
                model.profile(t, b, l2)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{spec}: {n_blocks} blocks, {n_ops} ops, {label}: wall {wall:.3f} s, cpu {cpu:.3f} s")
