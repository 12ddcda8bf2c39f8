"""Recording time of a built-in kernel with and without value mode (s, best of N builds).

With values on, every input without data gets seeded normal values (bf16/fp16-rounded), so each op is
computed; the task and block counts of both recordings are printed next to the times.
usage: python bench/values_cost.py [KERNEL:VARIANT] [--repeat N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from kernels.dsl import jit, values
from kernels.registry import build_graph

_SEEDED: dict[tuple, np.ndarray] = {}  # (name, shape) -> the seeded input, built once outside the timing


def _build(spec: str, on: bool) -> tuple[float, int, int]:
    orig_begin, orig_gm = values.begin, values.gm
    rng = np.random.default_rng(0)

    def gm(base):  # noqa: ANN001, ANN202 - inputs without data get seeded values
        if base.data is None and base.kind == "param":
            key = (base.name, tuple(base.shape))
            if key not in _SEEDED:
                _SEEDED[key] = (rng.standard_normal(base.shape) * 0.1).astype(values.STORAGE[base.dtype.name])
            base.data = _SEEDED[key].copy()
        return orig_gm(base)

    jit.values_begin = lambda _on: orig_begin(on)
    values.gm = gm
    try:
        t0 = time.perf_counter()
        with threadpool_limits(1 if on else None, "blas"):  # as pl.record(values=True) runs
            g = build_graph(spec, "decode")
        dt = time.perf_counter() - t0
    finally:
        jit.values_begin = orig_begin
        values.gm = orig_gm
    tasks = g.kernel_tasks()
    return dt, len(tasks), sum(t.block_num for t in tasks)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("spec", nargs="?", default="decode_attention_hca:precompute")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    for on in (False, True):
        if on:
            _build(a.spec, on)  # seeds the inputs
        runs = [_build(a.spec, on) for _ in range(a.repeat)]
        best = min(r[0] for r in runs)
        print(f"{a.spec} values={'on ' if on else 'off'}: {best:.3f} s  tasks={runs[0][1]} blocks={runs[0][2]}")


if __name__ == "__main__":
    main()
