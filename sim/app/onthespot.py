"""Simulate a compare side on the spot (µs): a kernel spec over seeded runs, a pypto kernel file through
its ``__main__`` harness, or ``FILE@REV``, a pypto kernel file as a git revision has it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwmodels import load_chip, recommended_preset
from kernels.pypto_files.loader import Recording, is_pypto_file, record_entry, run_harness
from kernels.registry import build_graph
from sim.app.paths import check_kernel_spec
from sim.app.progress import recording_counter
from sim.app.revisions import file_at_revision, split_rev
from sim.engine import RunOptions, simulate
from sim.ir import TaskGraph
from sim.util.errors import UserError
from traces.compare import metrics_of_path, metrics_of_result, with_seeds

RUN_JITTER = 0.03  # relative per-block jitter when averaging several seeded runs (≈ the ±4 % run-to-run noise)


@dataclass
class FileOptions:
    """How a pypto kernel file side runs: the arguments of its ``__main__``, the ``@pl.jit`` entry
    whose first ``run_jit`` call is compared (None: the first call), and the swimlane level (None: the
    level the file's runtime settings ask for, else the chip's)."""

    args: list[str] = field(default_factory=list)
    entry: str | None = None
    level: int | None = None


def metrics_of_graph(graph: TaskGraph, chip: str | None, overrides: list[str], runs: int,
                     level: int | None = None) -> dict[str, Any]:
    """Simulate ``graph`` for seeds 0..runs-1 at swimlane ``level`` (None: the chip's); mean metrics
    with the task count per function (and each run's metrics, :func:`traces.compare.with_seeds`)."""
    cfg = load_chip(chip or recommended_preset(), overrides)
    lvl = level if level is not None else max(1, int(cfg.runtime.swimlane_level))
    jitter = RUN_JITTER if runs > 1 else 0.0
    ms = [metrics_of_result(simulate(graph, cfg, RunOptions(seed=s, jitter=jitter, swimlane_level=lvl)), lvl)
          for s in range(runs)]
    return with_seeds(ms)


def metrics_of_spec(spec: str, mode: str, runs: int, chip: str | None, overrides: list[str],
                    level: int = 4) -> dict[str, Any]:
    """Simulate kernel ``spec`` (e.g. ``qkv_proj_rope:baseline``) for seeds 0..runs-1; mean metrics (and
    each run's, :func:`traces.compare.with_seeds`)."""
    graph = build_graph(spec, mode)
    cfg = load_chip(chip or recommended_preset(), overrides)
    jitter = RUN_JITTER if runs > 1 else 0.0
    ms = [metrics_of_result(simulate(graph, cfg, RunOptions(seed=s, jitter=jitter)), level) for s in range(runs)]
    return with_seeds(ms)


def first_recording(path: str | Path, args: list[str], entry: str | None = None, *, hint: str) -> Recording:
    """A pypto kernel file's first ``run_jit`` call, its ``__main__`` run with ``args`` (of ``entry`` when
    given; recorded from its annotations when the ``__main__`` makes none). No call: a UserError ending in
    ``hint``."""
    recs = run_harness(path, args, seed=0, entry=entry)
    if not recs and entry:
        recs = [record_entry(path, entry, seed=0)]
    if not recs:
        raise UserError(f"{path}: its __main__ made no run_jit call (arguments: {args}); {hint}")
    return recs[0]


def metrics_of_file(path: str | Path, runs: int, chip: str | None, overrides: list[str],
                    opts: FileOptions) -> dict[str, Any]:
    """Record a pypto kernel file's first ``run_jit`` call (of ``opts.entry`` when given; recorded
    from its annotations when the ``__main__`` makes none) and simulate it."""
    with recording_counter(f"recording {Path(path).name}"):
        rec = first_recording(path, opts.args, opts.entry, hint="name a @pl.jit function with --entry NAME")
    level = opts.level if opts.level is not None else rec.level
    return metrics_of_graph(rec.graph, chip, overrides, runs, level)


def resolve_side(arg: str, mode: str, runs: int, chip: str | None, overrides: list[str],
                 file_opts: FileOptions | None = None) -> dict[str, Any]:
    """The metrics of one compare side.

    ``FILE@REV`` is a pypto kernel file of a git work tree at revision REV; a pypto kernel file runs
    through its harness; a directory or other file is loaded; anything else is a kernel spec
    simulated on the spot. A missing path (:func:`sim.app.paths.looks_like_path`) is reported as
    such, not as a kernel."""
    if runs < 1:
        raise UserError(f"--runs {runs}: expected a positive integer")
    fopts = file_opts or FileOptions()
    at = split_rev(arg) if not Path(arg).exists() else None
    if at is not None:
        with file_at_revision(*at) as path:
            if not is_pypto_file(path):
                raise UserError(f"{arg}: not a pypto kernel file (a .py file importing pypto)")
            return metrics_of_file(path, runs, chip, overrides, fopts)
    p = Path(arg)
    if is_pypto_file(p):
        return metrics_of_file(p, runs, chip, overrides, fopts)
    if p.is_dir() or (p.is_file() and p.suffix != ".py"):  # my_kernel.py is a kernel spec
        return metrics_of_path(p)
    return metrics_of_spec(check_kernel_spec(arg), mode, runs, chip, overrides)
