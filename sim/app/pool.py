"""Independent jobs (seeded simulations) over a pool of forked worker processes, results in job order."""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import connection as mp_connection
from typing import Any, TypeVar

J = TypeVar("J")
R = TypeVar("R")


def default_workers() -> int:
    """Worker processes for independent simulations: the CPUs this process may run on."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def run_jobs(fn: Callable[[J], R], jobs: Sequence[J], workers: int, progress: Callable[[], None] | None = None,
             background: Callable[[], Any] | None = None) -> list[R]:
    """``fn`` over ``jobs`` in up to ``workers`` processes (inline when 1); results in job order.

    ``fn`` and the jobs must be picklable (``fn`` a module-level function). ``progress`` (no
    arguments) runs once per finished job. ``background`` (no arguments, result ignored) runs in a
    thread of this process while the workers work, e.g. importing the plotting library the caller
    needs afterwards; with forked workers it starts only once every worker exists (forking while a
    thread imports could deadlock a child).
    """

    def collect(results: Iterable[R]) -> list[R]:
        out = []
        for r in results:
            out.append(r)
            if progress:
                progress()
        return out

    workers = max(1, min(workers, len(jobs)))
    if workers == 1:
        return collect(fn(j) for j in jobs)
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
        futs = [ex.submit(fn, j) for j in jobs]  # the first submit forks every worker
        side = None
        if background is not None:
            side = threading.Thread(target=_quietly, args=(background,), daemon=True)
            side.start()
        out = collect(f.result() for f in futs)
    if side is not None:
        side.join()
    return out


def iter_jobs(fn: Callable[[J], R], jobs: Sequence[J], workers: int) -> Iterator[tuple[int, R]]:
    """``fn`` over ``jobs`` in up to ``workers`` forked processes (inline when 1), yielding
    (job index, result) as each job finishes (completion order).

    ``fn`` and the jobs must be picklable (``fn`` a module-level function); what the parent process
    holds before the first job (e.g. built graphs in a module-level cache) is inherited by the workers.
    Closing the iterator early (an exception, Ctrl-C) cancels the jobs not yet started.
    """
    workers = max(1, min(workers, len(jobs)))
    if workers == 1:
        for i, j in enumerate(jobs):
            yield i, fn(j)
        return
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    gc.freeze()  # forked workers: no collection touches (and so copies) the pages they inherit
    ex = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    try:
        futs = {ex.submit(fn, j): i for i, j in enumerate(jobs)}
        for f in as_completed(futs):
            yield futs[f], f.result()
    finally:
        ex.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()


class WorkerDied:
    """The result of a job whose process ended without a result (killed, e.g. by the operating system's
    out-of-memory killer, or crashed): ``exitcode`` is the process's (negative: the signal);
    ``timed_out`` the time limit (s) when it was stopped for running longer."""

    def __init__(self, exitcode: int | None, timed_out: float | None = None) -> None:
        self.exitcode = exitcode
        self.timed_out = timed_out

    def __str__(self) -> str:
        if self.timed_out is not None:
            return f"its worker process ran longer than {self.timed_out:g} s and was stopped"
        code = self.exitcode
        if code is not None and code < 0:
            try:
                sig = signal.Signals(-code).name
            except ValueError:
                sig = f"signal {-code}"
            why = f"killed by {sig}" + (" (out of memory?)" if sig == "SIGKILL" else "")
        else:
            why = f"exit code {code}"
        return f"its worker process ended without a result: {why}"


def _run_one(fn: Callable[[J], R], job: J, conn: Any) -> None:
    try:
        conn.send((True, fn(job)))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        conn.send((False, exc))
    finally:
        conn.close()


def iter_isolated(fn: Callable[[J], R], jobs: Sequence[J], workers: int,
                  timeout: float | None = None) -> Iterator[tuple[int, R | WorkerDied]]:
    """Like :func:`iter_jobs`, but each job in a process of its own (forked where possible, at most
    ``workers`` at a time): a job whose process dies, or that runs longer than ``timeout`` seconds (its
    process is then killed; None or 0: no limit), yields a :class:`WorkerDied` instead of stopping the
    others. An exception ``fn`` raises is raised here."""
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    workers = max(1, min(workers, len(jobs)))
    pending = list(enumerate(jobs))
    running: dict[Any, tuple[int, Any, float]] = {}  # connection -> (job index, process, start: monotonic s)
    limit = timeout if timeout else None
    try:
        while pending or running:
            while pending and len(running) < workers:
                i, job = pending.pop(0)
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_run_one, args=(fn, job, send), daemon=True)
                proc.start()
                send.close()
                running[recv] = (i, proc, time.monotonic())
            wait = None if limit is None else max(0.0, min(r[2] for r in running.values()) + limit - time.monotonic())
            ready = mp_connection.wait(list(running), timeout=wait)
            if limit is not None:
                now = time.monotonic()
                for conn in [c for c, r in running.items() if c not in ready and now - r[2] >= limit]:
                    i, proc, _ = running.pop(conn)
                    proc.kill()
                    proc.join()
                    conn.close()
                    yield i, WorkerDied(proc.exitcode, timed_out=limit)
            for conn in ready:
                i, proc, _ = running.pop(conn)
                try:
                    ok, value = conn.recv()
                except EOFError:
                    proc.join()
                    yield i, WorkerDied(proc.exitcode)
                    continue
                finally:
                    conn.close()
                proc.join()
                if not ok:
                    raise value
                yield i, value
    finally:
        for _i, proc, _t in running.values():
            proc.kill()
            proc.join()


def in_background(fn: Callable[[], Any]) -> threading.Thread:
    """Start ``fn`` (result and errors ignored) in a daemon thread of this process, e.g. importing the
    plotting library while workers simulate; start it only once forked workers exist."""
    side = threading.Thread(target=_quietly, args=(fn,), daemon=True)
    side.start()
    return side


def _quietly(fn: Callable[[], Any]) -> None:
    """Run ``fn`` ignoring its errors: a background head start only (the caller redoes the work and
    reports any error then)."""
    try:
        fn()
    except Exception:  # noqa: BLE001
        pass
