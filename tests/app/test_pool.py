"""The worker pool: results in job order, the background task."""

from __future__ import annotations

from sim.app.pool import run_jobs


def _square(x: int) -> int:
    return x * x


def test_run_jobs_runs_the_background_task_and_ignores_its_errors() -> None:
    seen: list[str] = []
    assert run_jobs(_square, [1, 2, 3], 2, background=lambda: seen.append("ran")) == [1, 4, 9]
    assert seen == ["ran"]  # joined before run_jobs returns

    def broken() -> None:
        raise ImportError("no plotting library")

    assert run_jobs(_square, [4, 5], 2, background=broken) == [16, 25]
    assert run_jobs(_square, [6], 1, background=broken) == [36]  # inline: no thread at all


def _maybe_die(x: int) -> int:
    import os
    import signal

    if x == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    if x == 5:
        raise ValueError("five")
    return x * 10


def test_a_job_whose_process_dies_fails_alone() -> None:
    from sim.app.pool import WorkerDied, iter_isolated

    got = dict(iter_isolated(_maybe_die, [1, 2, 3, 4], 2))
    assert sorted(got) == [0, 1, 2, 3]
    assert [got[0], got[2], got[3]] == [10, 30, 40]
    assert isinstance(got[1], WorkerDied) and str(got[1]) == (
        "its worker process ended without a result: killed by SIGKILL (out of memory?)")


def test_an_exception_in_an_isolated_job_is_raised() -> None:
    import pytest

    from sim.app.pool import iter_isolated

    with pytest.raises(ValueError, match="five"):
        list(iter_isolated(_maybe_die, [5, 1], 1))


def _sleepy(x: int) -> int:
    import time

    time.sleep(x)
    return x


def test_an_isolated_job_over_its_time_limit_is_stopped_and_fails_alone() -> None:
    import time

    from sim.app.pool import WorkerDied, iter_isolated

    t0 = time.monotonic()
    got = dict(iter_isolated(_sleepy, [0, 30, 0], 2, timeout=1.0))
    assert time.monotonic() - t0 < 15  # the 30 s job did not run to its end
    assert got[0] == 0 and got[2] == 0
    assert isinstance(got[1], WorkerDied) and got[1].timed_out == 1.0
    assert str(got[1]) == "its worker process ran longer than 1 s and was stopped"
