"""A progress bar on stderr for counted work (simulations, jobs, recorded ops), or nothing."""

from __future__ import annotations

import sys
from collections.abc import Callable


def ticker(total: int, *, enabled: bool, desc: str, unit: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """(tick, close): ``tick()`` advances a tqdm bar of ``total`` steps on stderr, ``close()`` removes
    it; both do nothing when not ``enabled``."""
    if not enabled:
        return (lambda: None), (lambda: None)
    from tqdm import tqdm  # lazy: start-up time

    bar = tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr)
    return (lambda: bar.update(1)), bar.close


def counter(*, enabled: bool, desc: str, unit: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    """(add, close): ``add(n)`` advances a tqdm counter without a total on stderr (count and rate),
    ``close()`` removes it; both do nothing when not ``enabled``."""
    if not enabled:
        return (lambda n: None), (lambda: None)
    from tqdm import tqdm  # lazy: start-up time

    bar = tqdm(desc=desc, unit=unit, unit_scale=True, leave=False, file=sys.stderr)
    return bar.update, bar.close
