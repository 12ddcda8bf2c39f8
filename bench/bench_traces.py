"""Benchmark: time to write all trace files for a ~350-subtask run (target < 0.5 s).

Usage: python bench/bench_traces.py [--subtasks N] [--repeat R] [--engine [SPEC]]
``--engine`` runs the real engine on SPEC (default decode_attention_hca, decode mode) instead of the
synthetic layered run (which has denser dependency arrows than real graphs).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from hwmodels.chip import load_chip
from kernels.registry import build_graph
from sim.engine import RunOptions, simulate
from traces import run_metrics, write_run_dir
from traces.synthetic import sized_run


def main() -> None:
    """Time ``write_run_dir`` and ``run_metrics`` on a synthetic or engine run and print the medians."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--subtasks", type=int, default=350)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--engine", nargs="?", const="decode_attention_hca", default=None, metavar="SPEC")
    ap.add_argument("--pipe-lanes", action="store_true")
    args = ap.parse_args()
    if args.engine:
        run = simulate(build_graph(args.engine, "decode"), load_chip(None, []), RunOptions(seed=0))
    else:
        run = sized_run(args.subtasks)
    times, cpu, mtimes = [], [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as d:
            t0, c0 = time.perf_counter(), time.process_time()
            paths = write_run_dir(run, d, pipe_lanes=args.pipe_lanes)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            size = sum(p.stat().st_size for p in paths)
        t0 = time.perf_counter()
        run_metrics(run)
        mtimes.append(time.perf_counter() - t0)
    print(f"subtasks={len(run.subtasks)} phases={len(run.phases)} submits={len(run.submits)} "
          f"bytes={size}")
    print(f"write_run_dir: median {statistics.median(times):.3f} s  min {min(times):.3f} s wall; "
          f"median {statistics.median(cpu):.3f} s CPU  (target < 0.5 s; wall inflates on a loaded machine)")
    print(f"run_metrics:   median {statistics.median(mtimes):.3f} s")


if __name__ == "__main__":
    main()
