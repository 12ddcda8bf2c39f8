"""simpy glue for HBM and L2 bandwidth sharing: lanes that run at the same time slow each other down.

The memory model is :class:`hwmodels.memory.HbmShare` (fluid, max-min fair). This module only
turns it into events: after every change of the set of running lanes it arms one timer at the
next lane end; a timer armed before a later change is stale and ignored. A processed timer is armed
again at a later change (the event loop is done with it once its callback ran).
"""

from __future__ import annotations

from collections.abc import Callable

import simpy
from simpy.events import NORMAL

from hwmodels.memory import HbmFlow, HbmShare
from sim.engine.cores import Subtask
from sim.engine.events import Timer, arm

__all__ = ["HbmLanes"]


class HbmLanes:
    """Running lanes sharing ``bw`` bytes/ns of HBM and ``l2_bw`` bytes/ns of L2 line bandwidth (0: no
    limit); calls ``on_end(sub)`` at each lane's end."""

    def __init__(self, env: simpy.Environment, bw: float, on_end: Callable[[Subtask], None],
                 l2_bw: float = 0.0) -> None:
        self.env = env
        self.share = HbmShare(bw, l2_bw)
        self.on_end = on_end
        self.version = 0  # bumped at every change: only the latest armed timer fires
        self._fires = [self._fire]  # the timers' shared callback list
        self._spare: list[Timer] = []  # processed timers, armed again instead of new ones

    def release(self) -> None:
        """After the run: drop the references to the owner's and its own methods (reference cycles)."""
        self.on_end = _ignore
        self._fires = []
        self._spare = []

    def add(self, sub: Subtask, compute_ns: float, demand: float, l2: float = 0.0) -> None:
        """Start ``sub``'s lane now: ``compute_ns`` of work at full speed, ``demand`` bytes/ns of HBM and
        ``l2`` bytes/ns of L2 lines."""
        self.version = ver = self.version + 1
        dt = self.share.add_next(HbmFlow(sub, compute_ns, demand, l2), self.env._now)
        assert dt is not None  # the flow just added runs
        self.env.schedule(arm(self._spare, self._fires, ver), NORMAL, 0.0 if 0.0 > dt else dt)  # max(dt, 0.0)

    def _fire(self, timer: Timer) -> None:
        """The timer armed at change ``timer._value`` fires: unless stale, end the lanes done now and arm
        the next."""
        ver = timer._value
        if ver != self.version:
            self._spare.append(timer)  # processed: armed again at a later change
            return
        done, dt = self.share.finish_next(self.env._now)
        self.version = ver = ver + 1
        if dt is not None:  # the timer itself (processed) is armed again
            timer.callbacks = self._fires
            timer._value = ver
            self.env.schedule(timer, NORMAL, 0.0 if 0.0 > dt else dt)  # max(dt, 0.0)
        else:
            self._spare.append(timer)
        for j in done:
            self.on_end(j.owner)


def _ignore(_sub: Subtask) -> None:
    """The lane-end callback of a released :class:`HbmLanes`."""
