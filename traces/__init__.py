"""Trace writers/readers, statistics, comparison, critical path, plots.

Public entry points:

* :func:`write_run_dir` — records, deps.json, name map, merged trace and stats.txt for a RunResult.
* :func:`run_metrics` — the statistics of a RunResult (µs) as the written files give them.
* :func:`load_path` — a run directory, records file or merged trace back into joined rows.
"""

from traces.rundir import load_path, run_metrics, write_run_dir

__all__ = ["write_run_dir", "run_metrics", "load_path"]
