"""Seeded runs of each measured workload × variant: the jobs `swimsim reproduce` hands to the pool.

A job simulates one variant's graph for seeds 0..runs-1 at the workload's capture level and
returns each seed's ``traces.run_metrics`` (µs, plus ``cold_rows`` per function); with an output
directory it also writes seed 0's traces, its run records (lean: without the op lists, unless
asked) and its runtime checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from hwmodels.chip import ChipConfig
from kernels.registry import build_graph
from sim.app.fidelity import cold_rows
from sim.app.measurements import VARIANTS, WORKLOADS, Measurements
from sim.engine import RunOptions, simulate
from traces import run_metrics, write_run_dir, write_run_records
from traces.runtime_checks import runtime_values


class VariantJob(NamedTuple):
    """One workload × variant to simulate (picklable: it crosses into a worker process)."""

    key: str  # the workload name, with a caller's prefix (e.g. "0|" per band point)
    variant: str
    kernel: str  # kernel spec without the variant
    mode: str
    level: int  # swimlane level of the capture
    chip: ChipConfig
    runs: int  # seeds 0..runs-1
    jitter: float  # relative lane-duration jitter
    outdir: str  # where seed 0's traces go; "" = none
    full_records: bool = False  # run_records.json with every block's op list (else lean)


class VariantRuns(NamedTuple):
    """A job's result: per-seed run metrics (µs) and seed 0's runtime checks ({} without traces)."""

    key: str
    variant: str
    per_seed: list[dict]
    checks: dict


def variant_jobs(meas: Measurements, chip: ChipConfig, runs: int, jitter: float, out: Path | None,
                 tag: str = "", full_records: bool = False) -> list[VariantJob]:
    """One job per measured workload × variant; traces under ``out/<workload>/<variant>`` (none when
    ``out`` is None); ``tag`` prefixes the key (the workload name) the job returns; ``full_records``
    writes run_records.json with the op lists."""
    jobs = []
    for wname in meas.values:
        kernel, mode = WORKLOADS[wname]
        for var in VARIANTS:
            outdir = "" if out is None else str(out / wname / var)
            jobs.append(VariantJob(tag + wname, var, kernel, mode, meas.levels[wname], chip, runs, jitter, outdir,
                                   full_records))
    return jobs


def run_variant(job: VariantJob) -> VariantRuns:
    """Simulate one job's seeds (safe to run in a worker process)."""
    graph = build_graph(f"{job.kernel}:{job.variant}", mode=job.mode)
    per_run = []
    checks: dict = {}
    for seed in range(job.runs):
        res = simulate(graph, job.chip, RunOptions(seed=seed, swimlane_level=job.level, jitter=job.jitter))
        m = run_metrics(res, level=job.level)
        for f, n in cold_rows(res).items():
            if f in m["funcs"]:
                m["funcs"][f]["cold_rows"] = n
        per_run.append(m)
        if seed == 0 and job.outdir:
            write_run_dir(res, Path(job.outdir), level=job.level)
            write_run_records(res, job.outdir, full_ops=job.full_records)
            checks = runtime_values(res, level=job.level)
    return VariantRuns(job.key, job.variant, per_run, checks)

