"""Where independent sweep jobs run: forked local processes or a Dask distributed cluster.

Both backends yield (job index, result) in completion order; the caller orders the results.
``dask`` and ``distributed`` are imported only when the Dask backend is chosen (optional extra
``swimsim[dask]``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from sim.app.pool import iter_jobs
from sim.util.errors import UserError

J = TypeVar("J")
R = TypeVar("R")

BACKENDS = ("local", "dask")
LOCAL_CLUSTER_PROCESSES = True  # a LocalCluster of worker processes (False: threads of this process)


def run_backend(backend: str, fn: Callable[[J], R], jobs: Sequence[J], workers: int,
                scheduler: str | None = None) -> Iterator[tuple[int, R]]:
    """``fn`` over ``jobs`` on ``backend``: ``local`` (``workers`` forked processes) or ``dask`` (the
    cluster at ``scheduler``, else a LocalCluster of ``workers`` single-threaded workers)."""
    if backend == "local":
        return iter_jobs(fn, jobs, workers)
    if backend == "dask":
        return _dask_jobs(fn, jobs, workers, scheduler)
    raise UserError(f"--backend {backend}: unknown backend (expected one of {', '.join(BACKENDS)})")


def check_dask() -> None:
    """UserError unless ``dask.distributed`` is importable."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UserError("--backend dask: dask.distributed is not installed "
                        "(pip install 'swimsim[dask]' or 'dask[distributed]')") from None


def _dask_jobs(fn: Callable[[J], R], jobs: Sequence[J], workers: int,
               scheduler: str | None) -> Iterator[tuple[int, R]]:
    check_dask()
    from distributed import Client, LocalCluster, as_completed  # lazy: optional and slow to import

    cluster: Any = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout="10s")
            except OSError as exc:
                raise UserError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        else:
            cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1,
                                   processes=LOCAL_CLUSTER_PROCESSES, dashboard_address=None)
            client = Client(cluster)
        try:
            futs = client.map(fn, list(jobs), pure=False)
            index = {f.key: i for i, f in enumerate(futs)}
            for f in as_completed(futs):
                yield index[f.key], f.result()
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()
