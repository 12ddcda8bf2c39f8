"""A progress bar on stderr for counted work (simulations, jobs, recorded ops), or nothing."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def ticker(total: int, *, enabled: bool, desc: str, unit: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """(tick, close): ``tick()`` advances a tqdm bar of ``total`` steps on stderr, ``close()`` removes
    it; both do nothing when not ``enabled``."""
    if not enabled:
        return (lambda: None), (lambda: None)
    from tqdm import tqdm  # lazy: start-up time

    bar = tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr)
    return (lambda: bar.update(1)), bar.close


@contextmanager
def recording_counter(desc: str = "recording") -> Iterator[None]:
    """While the block records, a tqdm counter of the recorded ops (count and rate) on stderr when it is
    a terminal; removed when the block ends."""
    if not sys.stderr.isatty():
        yield
        return
    from tqdm import tqdm  # lazy: start-up time

    from kernels.pypto_files.loader import ops_watched  # lazy: start-up time

    bar = tqdm(desc=desc, unit="op", unit_scale=True, leave=False, file=sys.stderr)
    try:
        with ops_watched(bar.update):
            yield
    finally:
        bar.close()
