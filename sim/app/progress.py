"""A progress bar on stderr for counted work (simulations, jobs), or nothing."""

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
