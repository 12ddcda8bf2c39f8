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
