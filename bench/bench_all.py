"""Benchmark: every performance figure of the engine in one process and one run, as a markdown table.

Usage: python bench/bench_all.py [--tasks N] [--no-cli]

* graph build / simulate (cold: first run on the graph) / simulate (warm: again on the same graph) /
  write (trace files of ``write_run`` at level 1 and ``run_records.json``) for qkv decode, qkv prefill
  and the HCA layer;
* the engine's event rate on a warm HCA run against a bare simpy loop of the same event count;
* a synthetic graph of ``--tasks`` (default 100 000) single-block tasks: build, simulate, peak RSS
  (``resource.getrusage``; measured last, so it is the process's peak);
* ``swimsim run decode_attention_hca:precompute --level 1 -o DIR`` as a child process (wall), unless
  ``--no-cli``.

Times are CPU seconds (``time.process_time``; the child's user + sys): wall time swings with other
load on the machine. Targets: HCA process <= 0.5 s; HCA build + simulate + write <= 0.25 s; event ratio >= 0.25;
100k tasks <= 20 s and <= 1 GB.
"""

from __future__ import annotations

import argparse
import gc
import resource
import subprocess
import sys
import tempfile
import time

import simpy

from hwmodels.chip import load_chip
from kernels.registry import build_graph
from sim.engine import RunOptions, simulate
from sim.ir import ArgDir, Block, CoreShape, Edge, Region, Task, TaskArg, TaskGraph, Tensor
from traces import write_run, write_run_records

SPECS = (("qkv decode", "qkv_proj_rope:baseline", "decode"),
         ("qkv prefill", "qkv_proj_rope:baseline", "prefill"),
         ("HCA layer", "decode_attention_hca:precompute", "decode"))


def _t(fn, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202 - a tiny timer
    """(result, CPU seconds of this process): CPU time, as wall time swings with other load on the machine."""
    t = time.process_time()
    r = fn(*a, **k)
    return r, time.process_time() - t


def _write(result, out: str) -> None:  # noqa: ANN001
    write_run(result, out, level=1)
    write_run_records(result, out)


def count_events(graph: TaskGraph, chip, opts: RunOptions) -> int:  # noqa: ANN001
    """Events the engine schedules for ``graph`` (one counted run)."""
    n = [0]
    orig = simpy.Environment.schedule

    def schedule(self, event, priority=1, delay=0):  # noqa: ANN001, ANN202
        n[0] += 1
        return orig(self, event, priority, delay)

    simpy.Environment.schedule = schedule
    try:
        simulate(graph, chip, opts)
    finally:
        simpy.Environment.schedule = orig
    return n[0]


def bare_loop(n_events: int) -> float:
    """Seconds for a bare simpy process to go through ``n_events`` timeouts."""
    env = simpy.Environment()

    def proc():  # noqa: ANN202
        to = env.timeout
        for _ in range(n_events):
            yield to(1)

    env.process(proc())
    t = time.process_time()
    env.run()
    return time.process_time() - t


def _rss_mib() -> float:
    """The process's current resident set (MiB; Linux /proc)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def synthetic_graph(n_tasks: int, width: int = 64) -> TaskGraph:
    """``n_tasks`` single-block AIV tasks (no in-core ops) in layers of ``width``; each task depends on
    two tasks of the previous layer through one shared tensor. Like the kernels' recorder (which shares
    a program's ops), tasks share their identical argument and block objects: the IR's own size is not
    what the benchmark measures."""
    arg = TaskArg(idx=0, dir=ArgDir.INOUT, region=Region(tensor=0, offset=[0, 0], shape=[64, 64]))
    blk = Block(idx=0)
    tasks, edges = [], []
    for i in range(n_tasks):
        tasks.append(Task(idx=i, task_id=(1 << 32) | i, name=f"f{i % 8}", shape=CoreShape.AIV, block_num=1,
                          kernel_ids=[-1, i % 8, -1], args=[arg], blocks=[blk]))
        if i >= width:
            base = (i // width - 1) * width
            for p in sorted({base + i % width, base + (i + 1) % width}):
                edges.append(Edge(pred=p, succ=i, source="tensormap", arg=0, tensor=0, overlap="covered"))
    tensors = [Tensor(id=0, name="buf", shape=[64, 64], dtype="FP32")]
    return TaskGraph(kernel="synthetic", tensors=tensors, tasks=tasks, edges=edges,
                     func_names={f: f"f{f}" for f in range(8)})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--no-cli", action="store_true")
    a = ap.parse_args()
    chip = load_chip()
    opts = RunOptions(swimlane_level=1)
    rows = ["| case | build s | simulate cold s | simulate warm s | write s | build+sim+write s | tasks |",
            "|---|---|---|---|---|---|---|"]
    hca = None
    for label, spec, mode in SPECS:
        g, tb = _t(build_graph, spec, mode)
        r, ts = _t(simulate, g, chip, opts)
        _r2, tw2 = _t(simulate, g, chip, opts)
        with tempfile.TemporaryDirectory() as d:
            _, tw = _t(_write, r, d)
        rows.append(f"| {label} | {tb:.3f} | {ts:.3f} | {tw2:.3f} | {tw:.3f} | {tb + ts + tw:.3f} | {len(g.tasks)} |")
        if spec.startswith("decode_attention_hca"):
            hca = g
    assert hca is not None
    n_ev = count_events(hca, chip, opts)
    _, t_eng = _t(simulate, hca, chip, opts)
    t_bare = bare_loop(n_ev)
    lines = ["", "| event rate (warm HCA) | events | s | events/s |", "|---|---|---|---|",
             f"| engine | {n_ev} | {t_eng:.4f} | {n_ev / t_eng:,.0f} |",
             f"| bare simpy loop | {n_ev} | {t_bare:.4f} | {n_ev / t_bare:,.0f} |",
             f"| ratio engine/bare | | | {t_bare / t_eng:.3f} |"]
    if not a.no_cli:
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        with tempfile.TemporaryDirectory() as d:
            _, tc = _t(subprocess.run, [sys.executable, "-m", "sim", "run", "decode_attention_hca:precompute",
                                        "--level", "1", "-o", d], check=True, stdout=subprocess.DEVNULL)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
        lines += ["", f"`swimsim run decode_attention_hca:precompute --level 1 -o DIR` as a process: "
                      f"{cpu:.3f} s CPU (user + sys)"]
    del g, r, _r2, hca
    gc.collect()
    sg, tsb = _t(synthetic_graph, a.tasks)
    built = _rss_mib()
    _, tss = _t(simulate, sg, chip, opts)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB (Linux)
    lines += ["", f"| synthetic {a.tasks} tasks | build s | simulate s | peak RSS MiB | RSS before simulate MiB |",
              "|---|---|---|---|---|", f"| | {tsb:.2f} | {tss:.2f} | {peak:.0f} | {built:.0f} |"]
    print("\n".join(rows + lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
