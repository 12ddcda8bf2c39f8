"""Benchmark: wall time of `swimsim run qkv_proj_rope:baseline --mode decode` end to end (subprocess).

Usage: python bench/bench_run.py [--repeat N] [--spec KERNEL[:VARIANT]] [--mode MODE] [--no-compile]
Prints each run's wall (s), the min/median, and an in-process breakdown (graph build, chip load,
simulate, trace writing) so a regression can be located. Target: < 1 s end to end.

By default the project's bytecode is compiled first (``compileall``, what an install or the first
ordinary run does): with PYTHONDONTWRITEBYTECODE set, as in some sandboxes, every run would otherwise
recompile each edited module from source (~0.1 s). ``--no-compile`` measures without that step.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def end_to_end(spec: str, mode: str, repeat: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + sys of the child) seconds per run; CPU is less sensitive to machine load."""
    times, cpu = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as out:
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "sim", "run", spec, "--mode", mode, "-o", out],
                           check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - t0)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return times, cpu


def breakdown(spec: str, mode: str) -> dict[str, float]:
    """Seconds per stage of one run in this process: imports, graph build, chip load, simulation,
    trace writing, records JSON. The imports are timed here (after the bytecode is compiled)."""
    out: dict[str, float] = {}
    t = time.perf_counter()
    import traces  # lazy: start-up time
    from hwmodels.chip import load_chip  # lazy: start-up time
    from kernels.registry import build_graph  # lazy: start-up time
    from sim.engine import simulate  # lazy: start-up time

    out["imports"] = time.perf_counter() - t
    t = time.perf_counter()
    g = build_graph(spec, mode)
    out["build_graph"] = time.perf_counter() - t
    t = time.perf_counter()
    chip = load_chip()
    out["load_chip"] = time.perf_counter() - t
    t = time.perf_counter()
    r = simulate(g, chip)
    out["simulate"] = time.perf_counter() - t
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        traces.write_run_dir(r, d)
        out["write_traces"] = time.perf_counter() - t
        t = time.perf_counter()
        r.model_dump_json()
        out["records_json"] = time.perf_counter() - t
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--spec", default="qkv_proj_rope:baseline")
    ap.add_argument("--mode", default="decode")
    ap.add_argument("--no-compile", action="store_true", help="do not precompile the project's bytecode")
    a = ap.parse_args()
    if not a.no_compile:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        for pkg in ("sim", "kernels", "hwmodels", "traces"):
            compileall.compile_dir(os.path.join(root, pkg), quiet=1)
    times, cpu = end_to_end(a.spec, a.mode, a.repeat)
    print(f"swimsim run {a.spec} --mode {a.mode} ({'no precompile' if a.no_compile else 'bytecode precompiled'})"
          f": wall " + " ".join(f"{x:.2f}" for x in times) + " s")
    print(f"wall min {min(times):.2f} s  median {statistics.median(times):.2f} s  (target < 1 s); "
          f"cpu min {min(cpu):.2f} s  median {statistics.median(cpu):.2f} s")
    print("in-process breakdown (s): " + "  ".join(f"{k} {v:.3f}" for k, v in breakdown(a.spec, a.mode).items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
