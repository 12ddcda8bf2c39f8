"""Backtest: simulate each validation case's entry file at its two measured commits and compare the
simulated change of every measured metric with the measured one.

A case's repository is found among the given pypto-lib clones (work trees or bare mirrors): an
explicit ``owner/name=DIR``, else a clone whose ``git remote -v`` URLs name ``owner/name``, else a
directory whose path names it (``owner/name`` or ``owner+name``), else the first clone holding both
commits. The entry file's folder at each commit is written with plain ``git archive`` into a
temporary directory and run unmodified (:func:`kernels.pypto_files.loader.run_harness`, as ``swimsim
run FILE.py -- ARGS`` does) with the case's arguments and environment; the case's entry function is
simulated at the case's capture level for each seed (level 0: no swimlane capture, so no profiling
costs). Metrics: :mod:`sim.app.backtest_metrics`.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import traces
from hwmodels.chip import ChipConfig
from kernels.pypto_files.loader import Recording, record_entry, run_harness
from sim.app.backtest_cases import UNITS, Case
from sim.app.backtest_metrics import RunView, Unavailable, mean_exec_parts, mean_metric, run_view
from sim.engine import RunOptions, simulate
from sim.ir.records import RunResult
from sim.util.errors import UserError
from sim.util.fileio import extract_tar
from traces.stats import delta_pct, error_pct

DIRECTION_TOL_PCT = 2.0  # both changes within ±this: the direction counts as right (a no-change call)


# --------------------------------------------------------------------------------------------
# Clones
# --------------------------------------------------------------------------------------------


@dataclass
class Clone:
    """One ``--pypto-lib`` clone: its git directory, the repository it is declared for (``owner/name``
    or None) and its remote URLs."""

    arg: str
    git_dir: Path
    declared: str | None
    urls: list[str]


def _git(git_dir: Path | None, args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    pre = ["git"] if git_dir is None else ["git", "--git-dir", str(git_dir)]
    try:
        return subprocess.run([*pre, *args], cwd=cwd, capture_output=True, check=False)
    except OSError as exc:
        raise UserError(f"git: {exc.strerror or exc}") from None


def _first_line(proc: subprocess.CompletedProcess[bytes]) -> str:
    text = proc.stderr.decode(errors="replace").strip()
    return text.splitlines()[0] if text else f"git exited with status {proc.returncode}"


def open_clone(arg: str) -> Clone:
    """The clone named by a ``--pypto-lib`` value ``DIR`` or ``owner/name=DIR``; one-line
    :class:`UserError` when DIR is not a git repository."""
    declared, eq, path = arg.partition("=")
    if not eq:
        declared, path = "", arg
    elif declared.count("/") != 1 or not all(declared.split("/")):
        raise UserError(f"--pypto-lib {arg}: expected DIR or OWNER/NAME=DIR")
    d = Path(path)
    if not d.is_dir():
        raise UserError(f"--pypto-lib {arg}: no such directory {path}")
    proc = _git(None, ["rev-parse", "--absolute-git-dir"], cwd=d)
    if proc.returncode != 0:
        raise UserError(f"--pypto-lib {arg}: {path} is not a git repository ({_first_line(proc)})")
    git_dir = Path(proc.stdout.decode().strip())
    remotes = _git(git_dir, ["remote", "-v"]).stdout.decode(errors="replace").split()
    urls = sorted({u for u in remotes if "/" in u or ":" in u})
    return Clone(arg, git_dir, declared.lower() or None, urls)


def _names(url: str, repo: str) -> bool:
    """Whether remote ``url`` names repository ``owner/name`` (https, ssh or scp-like form)."""
    u = url.lower().rstrip("/").removesuffix(".git")
    return u.endswith("/" + repo) or u.endswith(":" + repo)


def _has(clone: Clone, commit: str) -> bool:
    return _git(clone.git_dir, ["cat-file", "-e", f"{commit}^{{commit}}"]).returncode == 0


def find_clone(case: Case, clones: list[Clone]) -> Clone:
    """The clone of the case's repository (module docstring); :class:`UserError` when none is."""
    repo = case.repository.lower()
    for test in (lambda c: c.declared == repo,
                 lambda c: c.declared is None and any(_names(u, repo) for u in c.urls),
                 lambda c: c.declared is None and not c.urls and (
                     repo in str(c.git_dir).lower() or repo.replace("/", "+") in str(c.git_dir).lower()),
                 lambda c: c.declared is None and _has(c, case.before_commit) and _has(c, case.after_commit)):
        for c in clones:
            if test(c):
                return c
    raise UserError(f"no --pypto-lib clone of {case.repository} (give --pypto-lib {case.repository}=DIR)")


@contextmanager
def folder_at(clone: Clone, commit: str, relfile: str) -> Iterator[Path]:
    """``relfile`` as ``commit`` has it, in a temporary copy of its folder (``git archive``); removed
    on exit. One-line :class:`UserError` when the commit or the file is missing."""
    if not _has(clone, commit):
        raise UserError(f"commit {commit[:12]} is not in {clone.arg} (fetch it, e.g. a PR's refs/pull/N/head)")
    if _git(clone.git_dir, ["cat-file", "-e", f"{commit}:{relfile}"]).returncode != 0:
        raise UserError(f"{relfile} does not exist at {commit[:12]}")
    reldir = Path(relfile).parent.as_posix()
    args = ["archive", "--format=tar", commit]
    proc = _git(clone.git_dir, [*args, "--", reldir] if reldir != "." else args)
    if proc.returncode != 0:
        raise UserError(f"git archive {commit[:12]} {reldir}: {_first_line(proc)}")
    tmp = Path(tempfile.mkdtemp(prefix="swimsim-backtest-"))
    try:
        with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
            extract_tar(tar, tmp)
        try:
            yield tmp / relfile
        except UserError as exc:
            raise UserError(str(exc).replace(f"{tmp}{os.sep}", f"{commit[:12]}:")) from None
        except Exception as exc:  # noqa: BLE001 - one line naming the revision's file, not the copy's
            msg = f"{type(exc).__name__}: {exc}".replace(f"{tmp}{os.sep}", f"{commit[:12]}:")
            raise UserError(msg) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Simulating one side
# --------------------------------------------------------------------------------------------


@contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``env`` set, restored on exit."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def record_case(case: Case, path: Path, seed: int) -> Recording:
    """The case's entry function as the file's ``__main__`` runs it with the case's arguments and
    environment (its first ``run_jit`` call), else recorded from its annotations with the case's
    dynamic dims. What the file prints and the recorder's warnings stay out of the report."""
    with _environment(case.env), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        recs = run_harness(path, list(case.args), seed=seed, entry=case.entry_function)
        if recs:
            return recs[0]
        return record_entry(path, case.entry_function, {k: str(v) for k, v in case.dynamic_dims.items()},
                            seed=seed)


def record_side(case: Case, clone: Clone, commit: str, relfile: str, seed: int) -> Recording:
    """The case's entry recorded from ``relfile`` as ``commit`` has it (record once, simulate often)."""
    with folder_at(clone, commit, relfile) as path:
        return record_case(case, path, seed)


def simulate_views(case: Case, rec: Recording, chip: ChipConfig, seeds: list[int], jitter: float,
                   tick: Callable[[], None] = lambda: None, keep: RunKeep | None = None) -> list[RunView]:
    """A recorded side simulated once per seed at the case's capture level and launch; with ``keep``,
    the first seed's run is also written as a run directory."""
    views = []
    for i, s in enumerate(seeds):
        opts = RunOptions(seed=s, swimlane_level=case.capture_level, jitter=jitter, launch=case.launch)
        result = simulate(rec.graph, chip, opts)
        if keep is not None and i == 0:
            keep.write(result, case.capture_level)
        views.append(run_view(result, case.capture_level))
        tick()
    return views


@dataclass
class RunKeep:
    """Where a side's first simulated run is written as a run directory (for ``explain``,
    ``critical-path``, ``placement``): records at the case's capture level (level 1 for a level-0
    case, from the same run), no dependency arrows in the merged trace, ``run_records.json`` with
    the op lists only when ``full_records``."""

    out: Path
    full_records: bool = False

    def write(self, result: RunResult, level: int) -> None:
        """Write ``result`` into :attr:`out`, all files or none."""
        written = traces.write_run(result, self.out, level=max(level, 1), arrows=False)
        with traces.all_or_none(written.paths):
            traces.write_run_records(result, self.out, full_ops=self.full_records)


def kept_run_dir(runs_dir: Path, case_id: str, side: str) -> Path:
    """The run directory of one side (``before`` or ``after``) of a case under ``runs_dir``."""
    return runs_dir / case_id / side


def simulate_side(case: Case, clone: Clone, commit: str, relfile: str, chip: ChipConfig, seeds: list[int],
                  jitter: float, tick: Callable[[], None],
                  keep: RunKeep | None = None) -> tuple[list[RunView], str]:
    """The case's entry at ``commit``, simulated once per seed at the case's capture level, and how its
    values were recorded when not plainly ("" when they were)."""
    rec = record_side(case, clone, commit, relfile, seeds[0])
    how = ("recorded without values (value mode stopped at a value swimsim does not compute)" if not rec.values
           else "recorded with unwritten intermediate GM elements read as 0" if rec.unwritten_zero else "")
    return simulate_views(case, rec, chip, seeds, jitter, tick, keep), how


# --------------------------------------------------------------------------------------------
# Comparing
# --------------------------------------------------------------------------------------------


@dataclass
class MetricRow:
    """One measured metric of a case: measured and simulated (mean over runs) before/after values
    and changes (%), the direction verdict, |Δ error| (points) and each side's error (% of measured)."""

    metric: str
    unit: str
    meas_before: float | None
    meas_after: float | None
    sim_before: float | None = None
    sim_after: float | None = None
    note: str = ""  # why a simulated value is missing
    # a per-function Exec metric: the simulated Exec per row by part (µs; sim.ir.records.EXEC_PARTS + "other")
    parts_before: dict[str, float] | None = None
    parts_after: dict[str, float] | None = None

    @property
    def meas_delta(self) -> float | None:
        return delta_pct(self.meas_before, self.meas_after)

    @property
    def sim_delta(self) -> float | None:
        return delta_pct(self.sim_before, self.sim_after)

    @property
    def direction_ok(self) -> bool | None:
        """Same sign of change, or both within ±2 % (None: a change is missing)."""
        m, s = self.meas_delta, self.sim_delta
        if m is None or s is None:
            return None
        if abs(m) <= DIRECTION_TOL_PCT and abs(s) <= DIRECTION_TOL_PCT:
            return True
        return m * s > 0

    @property
    def delta_error(self) -> float | None:
        """|simulated Δ % − measured Δ %| in percentage points."""
        m, s = self.meas_delta, self.sim_delta
        return None if m is None or s is None else abs(s - m)

    @property
    def err_before(self) -> float | None:
        return error_pct(self.sim_before, self.meas_before)

    @property
    def err_after(self) -> float | None:
        return error_pct(self.sim_after, self.meas_after)


@dataclass
class CaseResult:
    """A case's rows, or the one-line error that stopped it."""

    case: Case
    rows: list[MetricRow] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)  # e.g. a side recorded without values, and why


def _side_values(case: Case, views: list[RunView] | None) -> dict[str, float | str]:
    """Per metric the mean over runs, or the reason it is unavailable."""
    out: dict[str, float | str] = {}
    for key in case.measured:
        if views is None:
            out[key] = "not simulated"
            continue
        unit = case.measured[key].unit
        if unit not in UNITS:
            out[key] = f"unit {unit!r}: swimsim computes metrics in {', '.join(UNITS)}"
            continue
        try:
            out[key] = mean_metric(views, key)
        except Unavailable as exc:
            out[key] = str(exc)
    return out


def compare_case(case: Case, before: list[RunView], after: list[RunView]) -> CaseResult:
    """The rows of a case from its simulated runs at both commits."""
    b, a = _side_values(case, before), _side_values(case, after)
    rows = []
    for key, m in case.measured.items():
        row = MetricRow(key, m.unit, m.before, m.after)
        vb, va = b[key], a[key]
        row.sim_before = vb if isinstance(vb, float) else None
        row.sim_after = va if isinstance(va, float) else None
        notes = []
        if isinstance(vb, str) and m.before is not None:
            notes.append(f"before: {vb}")
        if isinstance(va, str) and m.after is not None:
            notes.append(f"after: {va}")
        if isinstance(vb, str) and isinstance(va, str) and vb == va:
            notes = [vb]
        row.note = "; ".join(notes)
        row.parts_before = mean_exec_parts(before, key) if row.sim_before is not None else None
        row.parts_after = mean_exec_parts(after, key) if row.sim_after is not None else None
        rows.append(row)
    return CaseResult(case, rows)


@dataclass
class CaseJob:
    """One case to backtest in a worker process (picklable)."""

    case: Case
    clones: list[Clone]
    chip: ChipConfig
    seeds: list[int]
    jitter: float
    runs_dir: Path | None = None  # write each side's first run under runs_dir/<case id>/<side>
    full_records: bool = False


def run_case_job(job: CaseJob) -> CaseResult:
    """:func:`run_case` of a job (module level: a worker process runs it)."""
    return run_case(job.case, job.clones, job.chip, job.seeds, job.jitter, lambda: None, job.runs_dir,
                    job.full_records)


def _one_line(text: str, fallback: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else fallback


def run_case(case: Case, clones: list[Clone], chip: ChipConfig, seeds: list[int], jitter: float,
             tick: Callable[[], None], runs_dir: Path | None = None, full_records: bool = False) -> CaseResult:
    """Backtest one case; a case that cannot be simulated comes back with its one-line error. With
    ``runs_dir``, each side's first run is written to :func:`kept_run_dir` (the caller removes an
    earlier run's files there first, so that a side that fails leaves none)."""
    done = 0
    keeps = {name: RunKeep(kept_run_dir(runs_dir, case.id, name), full_records) if runs_dir is not None else None
             for name in ("before", "after")}

    def step() -> None:
        nonlocal done
        done += 1
        tick()

    side = ""
    try:
        clone = find_clone(case, clones)
        side = f"before ({case.before_commit[:12]}): "
        before, vb = simulate_side(case, clone, case.before_commit, case.file_before, chip, seeds, jitter, step,
                                   keeps["before"])
        side = f"after ({case.after_commit[:12]}): "
        after, va = simulate_side(case, clone, case.after_commit, case.file_after, chip, seeds, jitter, step,
                                  keeps["after"])
    except UserError as exc:
        res = CaseResult(case, error=side + _one_line(str(exc), type(exc).__name__))
    except Exception as exc:  # noqa: BLE001 - a file swimsim cannot run must not stop the backtest
        res = CaseResult(case, error=side + f"{type(exc).__name__}: {_one_line(str(exc), '')}".rstrip(": "))
    else:
        res = compare_case(case, before, after)
        res.notes = [f"{name} {how}" for name, how in (("before", vb), ("after", va)) if how]
    for _ in range(2 * len(seeds) - done):
        tick()
    if res.error is not None:
        return failed_case(case, res.error)
    return res


def failed_case(case: Case, error: str) -> CaseResult:
    """A case that could not be simulated: its one-line error and its measured metrics, unscored."""
    return CaseResult(case, [MetricRow(k, m.unit, m.before, m.after, note="case not simulated")
                             for k, m in case.measured.items()], error)
