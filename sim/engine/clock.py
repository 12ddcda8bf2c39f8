"""Thread-local clocks.

Every AICPU thread (the orchestrator and each scheduler thread) carries its own clock ``t`` in ns.
It runs ahead of the simpy clock ``env.now`` while the thread does work no other actor can observe,
and the thread yields to simpy (:func:`at`) only before it reads or changes state that peers or
cores share, so everything that happened in between is seen in simulated-time order. The engine's hot
paths read ``env._now``, the attribute behind simpy's ``now`` property, directly.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

__all__ = ["EPS", "at", "ceil_nonneg"]

EPS = 1e-9  # ns: tolerance of time comparisons


def at(env: simpy.Environment, t: float) -> Generator[Any, Any, None]:
    """Advance simulated time to the thread-local clock ``t`` (ns); no event if ``t <= env.now``."""
    dt = t - env.now
    if dt > 0:
        yield dt


def ceil_nonneg(x: float) -> int:
    """``ceil(x)`` for a count of loop iterations, 0 for ``x <= EPS`` (float slack tolerated)."""
    if x <= EPS:
        return 0
    return int(math.ceil(x - 1e-9))
