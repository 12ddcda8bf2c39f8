"""Trace writers/readers, statistics, comparison, critical path, plots.

Public entry points:

* :func:`write_run_dir` / :func:`write_run` — records, deps.json, name map, merged trace and stats.txt
  for a RunResult (after removing the files of an earlier run in the directory).
* :func:`run_metrics` — the statistics of a RunResult (µs) as the written files give them.
* :func:`all_or_none` — remove the files written so far when a later write of the same run fails.
* :func:`remove_earlier_run` — remove swimsim's files of an earlier run from a directory.
* :func:`load_path` — a run directory, records file or merged trace back into joined rows.

Modules import one way only (top to bottom; an import-linter layers contract keeps it so):
analyses (compare, sweep, overhead) > run directories (rundir), plots, critical path > the merged
trace (merged, pipe_lanes) > readers and statistics (records, depsjson, trace_reader, stats,
overhead_tracks) > lanes, placement, trace_writer > the capture model (perf), jsontext > file
schemas and helpers (schemas, validate, synthetic, runtime_checks).
"""

from traces.rundir import (
    all_or_none,
    dump_run_records,
    load_path,
    remove_earlier_run,
    run_metrics,
    write_run,
    write_run_dir,
    write_run_records,
)

__all__ = ["write_run_dir", "write_run", "write_run_records", "dump_run_records", "run_metrics", "load_path",
           "all_or_none", "remove_earlier_run"]
