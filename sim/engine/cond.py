"""The dual slot per core as the AICPU sees it through the core's COND register (docs/model.md §4.4).

A COND value becomes visible to the AICPU ``fin_vis`` ns after the core changes it (ACK at a lane's
start, FIN at its end). These rules say what a read at time ``t`` (ns) tells the owning thread
about the running and pending slots, and when the next new value can become visible. The scheduler's
hottest loops (:mod:`sim.engine.scheduler`) carry inline copies of :func:`observe` for an empty
pending slot and of :func:`next_change`: the rules change in both places.
"""

from __future__ import annotations

from sim.engine.cores import Core, Subtask
from sim.engine.threads import SchedulerThread

__all__ = ["next_change", "observe", "polled", "polled_now"]


def polled(th: SchedulerThread) -> list[Core]:
    """Cores whose COND this thread reads: running slot set, gated early-dispatch cores excluded."""
    return [c for c in th.cores if c.running is not None and not (c.running.gated and c.running.rung is None)]


def polled_now(th: SchedulerThread) -> list[Core]:
    """:func:`polled`, kept per thread until the thread's ``polled_ver`` changes (every change of a
    running slot or a staged subtask's doorbell bumps it, :meth:`SchedulerThread.touch`); the list is
    shared and only read."""
    if th.polled_key != th.polled_ver:
        th.polled_list = polled(th)
        th.polled_key = th.polled_ver
    return th.polled_list


def observe(core: Core, t: float, vis: float) -> tuple[Subtask, ...]:
    """Interpret the COND value read at ``t``; update the slots and return the subtasks completed."""
    r, pd = core.running, core.pending
    assert r is not None
    if pd is not None:
        if pd.end is not None and pd.end + vis <= t:
            core.running = core.pending = None
            return (r, pd)
        if pd.start is not None and pd.start + vis <= t:
            core.running, core.pending, core.ack_seen = pd, None, True
            return (r,)
        if pd.gated and r.end is not None and r.end + vis <= t:
            core.running, core.pending, core.ack_seen = pd, None, False  # promote the gated task
            return (r,)
        return ()
    if r.end is not None and r.end + vis <= t:
        core.running = None
        return (r,)
    if not core.ack_seen and r.start is not None and r.start + vis <= t:
        core.ack_seen = True
    return ()


def next_change(core: Core, vis: float) -> float | None:
    """Earliest known time (ns) a new COND value of this core becomes visible (None: not known yet)."""
    r, pd = core.running, core.pending
    if pd is not None:
        if pd.start is not None:
            return pd.start + vis
        if pd.gated and r.end is not None:
            return r.end + vis
        return None
    cands = []
    if r.end is not None:
        cands.append(r.end + vis)
    if not core.ack_seen and r.start is not None:
        cands.append(r.start + vis)
    return min(cands) if cands else None
