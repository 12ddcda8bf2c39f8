"""The points of a what-if sweep, the job that simulates one, and the line-per-point results file.

A sweep grid is the cartesian product of the ``--vary`` values (first axis outermost) times the
kernel specs (innermost). Every point carries its chip, validated before any simulation. A job
simulates one point for seeds 0..runs-1 and returns the averaged :func:`traces.run_metrics` (µs).
Graphs are built (a pypto kernel file: recorded) once per kernel spec into a module-level cache before
the workers start, so forked workers inherit them; a worker started otherwise (a Dask worker on another
host) builds each graph once on first use.

``points.jsonl`` holds one JSON line per finished point, appended and flushed as it completes::

    {"key": {"spec", "sets", "chip", "mode", "l2", "runs", "overrides"}, "metrics": {...}}

The key names everything the metrics depend on, so ``--resume`` reuses exactly the lines whose key
is a point of the current grid; an incomplete last line (an interrupted write) is dropped.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NamedTuple

from hwmodels.chip import ChipConfig
from kernels.pypto_files.loader import is_pypto_file
from kernels.registry import build_graph
from sim.app.onthespot import first_recording
from sim.engine import RunOptions, simulate
from sim.ir.graph import TaskGraph
from sim.util.errors import UserError
from sim.util.fileio import write_text_atomic
from traces import run_metrics
from traces.compare import mean_metrics

POINTS_FILE = "points.jsonl"

# (spec, mode, file arguments) -> graph; filled before the workers fork
_GRAPHS: dict[tuple[str, str, tuple[str, ...]], TaskGraph] = {}


def graph_of(spec: str, mode: str, file_args: tuple[str, ...] = ()) -> TaskGraph:
    """The graph of kernel ``spec`` in ``mode``, built on first use and cached in this process. A pypto
    kernel file is recorded from its ``__main__`` run with ``file_args``: its first ``run_jit`` call."""
    key = (spec, mode, tuple(file_args))
    g = _GRAPHS.get(key)
    if g is None:
        if is_pypto_file(spec):
            g = first_recording(spec, list(file_args), hint="a sweep simulates a file's first run_jit call").graph
        else:
            g = build_graph(spec, mode)
        _GRAPHS[key] = g
    return g


def file_digest(path: str) -> str:
    """SHA-256 (hex, 16 digits) of a pypto kernel file's folder: every ``.py`` file in it, name and bytes (the
    file imports its ``config.py`` and helpers from there)."""
    h = hashlib.sha256()
    folder = Path(path).resolve().parent
    for f in sorted(folder.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


class PointJob(NamedTuple):
    """One grid point × kernel spec to simulate (picklable: it crosses into a worker process)."""

    spec: str
    mode: str
    chip: ChipConfig
    l2: str  # initial L2 state
    runs: int  # seeds 0..runs-1
    jitter: float  # relative lane-duration jitter
    file_args: tuple[str, ...] = ()  # a pypto kernel file's __main__ arguments (after --)


def run_point(job: PointJob) -> dict[str, Any]:
    """Simulate one point for every seed; the metrics (µs) averaged over the seeds."""
    graph = graph_of(job.spec, job.mode, job.file_args)
    per_run = [run_metrics(simulate(graph, job.chip, RunOptions(seed=s, jitter=job.jitter, l2_init=job.l2)))
               for s in range(job.runs)]
    return json.loads(json.dumps(mean_metrics(per_run)))  # plain JSON values: identical to a points.jsonl line


class Point(NamedTuple):
    """One point of the grid: its overrides (``field=raw``), typed values and validated chip."""

    combo: tuple[int, ...]  # value index per --vary axis
    sets: list[str]
    params: dict[str, Any]
    chip: ChipConfig


def grid(vary: list[tuple[str, list[str], list[Any]]], load: Callable[[list[str]], ChipConfig]) -> list[Point]:
    """Every combination of the ``vary`` values (first axis outermost), each chip built by ``load``
    from the point's overrides; a combination the chip rejects (a cross-field check) is a UserError
    naming it, raised before any simulation."""
    points = []
    for combo in itertools.product(*[range(len(raws)) for _, raws, _ in vary]):
        sets = [f"{field}={raws[i]}" for (field, raws, _), i in zip(vary, combo, strict=True)]
        params = {field: typed[i] for (field, _, typed), i in zip(vary, combo, strict=True)}
        try:
            chip = load(sets)
        except UserError as exc:
            raise UserError(f"--vary point {', '.join(sets)}: {exc}") from None
        points.append(Point(combo, sets, params, chip))
    return points


def point_key(spec: str, sets: list[str], common: dict[str, Any]) -> str:
    """The canonical JSON text of a point's key (``common``: chip, mode, l2, runs, overrides)."""
    return json.dumps({"spec": spec, "sets": list(sets), **common}, sort_keys=True, ensure_ascii=False)


def read_points(path: Path) -> dict[str, dict[str, Any]]:
    """key text -> metrics of the complete lines of ``path`` (none when missing); later lines win."""
    done: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return done
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if not line.endswith("\n"):
            break  # an interrupted write
        try:
            rec = json.loads(line)
            key, metrics = rec["key"], rec["metrics"]
        except (ValueError, KeyError, TypeError):
            continue
        if isinstance(key, dict) and isinstance(metrics, dict):
            done[json.dumps(key, sort_keys=True, ensure_ascii=False)] = metrics
    return done


class PointsFile:
    """``points.jsonl`` opened for appending; :meth:`add` writes one flushed line per point."""

    def __init__(self, path: Path, keep: dict[str, dict[str, Any]]) -> None:
        """Rewrite ``path`` atomically with the lines of ``keep`` (nothing: an empty file), then append."""
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, "".join(_line(k, m) for k, m in keep.items()))
        self.path = path
        self._f: IO[str] = open(path, "a", encoding="utf-8")

    def add(self, key: str, metrics: dict[str, Any]) -> None:
        """Append one point's line in a single write and flush it to the OS."""
        self._f.write(_line(key, metrics))
        self._f.flush()

    def close(self) -> None:
        self._f.close()

    def finish(self, order: list[str], done: dict[str, dict[str, Any]]) -> None:
        """Close, then rewrite the file atomically with the points of ``order`` in that order: a
        finished sweep's file is the same whatever order its points completed in."""
        self.close()
        write_text_atomic(self.path, "".join(_line(k, done[k]) for k in order))


def _line(key: str, metrics: dict[str, Any]) -> str:
    return json.dumps({"key": json.loads(key), "metrics": metrics}, ensure_ascii=False) + "\n"
