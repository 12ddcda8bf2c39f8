"""The engine's use of simpy: its event loop, its timers and how its thread processes run.

Every event still goes through ``simpy.Environment.schedule`` (a heap of (time ns, priority, id,
event)), so events at equal times are processed in the order they were scheduled, as in simpy.
What is lighter than simpy's general machinery:

* :class:`Env` processes the queue in one loop (simpy's ``step`` inline).
* :class:`Timer` is an event that is triggered when scheduled (like ``simpy.Timeout``) with a fixed
  callback list and a value, the argument its callback reads (no ``functools.partial`` per timer).
  The loop is done with a timer once its callbacks ran: its owner may schedule it again.
* :func:`start` runs a generator as a thread process of an :class:`Env` (:class:`Proc`): the
  generator yields a delay in ns (a float) or a simpy event to wait for (an event already processed
  resumes it at once). A delay re-arms the process's one timer, whose only callback is the
  generator's own ``send``: :meth:`Env.run` takes the delay ``send`` returns and schedules that timer
  again, so resuming after a delay costs no Python call of its own. The start goes through an urgent
  event at the current time, as ``simpy.Environment.process``; the process's end is not an event
  (nothing waits for it). An exception raised by the generator propagates out of :meth:`Env.run`.
* A process that yields :data:`NAP` waits until another actor calls :func:`rouse` with the token of
  that nap (:meth:`Proc.nap`): its own timer is scheduled then, at the current time, like the
  ``succeed`` of an event it would wait for; a token of an earlier nap rouses nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from heapq import heappop
from typing import Any

import simpy
from simpy.events import NORMAL, URGENT, Event, Timeout

__all__ = ["NAP", "Env", "Proc", "Timer", "rouse", "start"]


class Env(simpy.Environment):
    """simpy's Environment whose :meth:`run` processes the events without a method call per event."""

    def event(self) -> Event:
        """A new untriggered event (simpy's ``event``, as a plain method: no instance binding, which
        would make the environment part of a reference cycle)."""
        return Event(self)

    def timeout(self, delay: float, value: Any = None) -> Timeout:
        """A timeout ``delay`` ns from now (simpy's ``timeout``, as a plain method)."""
        return Timeout(self, delay, value)

    def run(self, until: Any = None) -> Any:
        """Process events until none is left (``until`` given: simpy's own run). A callback that
        returns a value is a thread process's ``send`` on its timer (:class:`Proc`): the value is what
        the process waits for next."""
        if until is not None:
            return super().run(until)
        queue = self._queue
        pop = heappop
        schedule = self.schedule
        while queue:
            self._now, _, _, event = pop(queue)
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                try:
                    x = callback(event)
                except StopIteration:  # a thread process's generator returned (its timer's send)
                    event._value._end()
                    continue
                if x is not None:
                    if x.__class__ is float:  # the process's next delay: its timer (this event) again
                        event.callbacks = callbacks
                        schedule(event, NORMAL, x)
                    else:
                        event._value.wait(x)
            if not event._ok and not hasattr(event, "_defused"):
                # a failed event nobody handled, as simpy.Environment.step: a copy of its exception
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc
        return None


class Timer:
    """An event triggered when made: ``callbacks`` (a list the caller may share between timers: it is
    only read) run with the timer when it is processed; ``_value`` is their argument."""

    __slots__ = ("_ok", "_value", "callbacks")

    def __init__(self, callbacks: list[Callable[[Any], None]], value: Any) -> None:
        self.callbacks = callbacks
        self._value = value
        self._ok = True


def arm(spare: list[Timer], callbacks: list[Callable[[Any], None]], value: Any) -> Timer:
    """A timer with ``callbacks`` and ``value``: a processed one from ``spare`` (the event loop is done
    with it) armed again, else a new one; the caller schedules it."""
    if spare:
        timer = spare.pop()
        timer.callbacks = callbacks
        timer._value = value
        return timer
    return Timer(callbacks, value)


class Proc:
    """A thread process: generator ``gen`` run on ``env`` (see the module docstring). ``tick`` is its
    timer (callbacks ``[gen.send]``, value the process); ``resume`` continues it after an event."""

    __slots__ = ("env", "gen", "tick", "own", "resume", "naps", "napping", "spare")

    def __init__(self, env: Env, gen: Generator[Any, Any, Any]) -> None:
        self.env = env
        self.gen = gen
        self.own = [gen.send]  # the timer's callbacks (Env.run re-arms the timer with this list)
        self.tick = Timer(self.own, self)
        self.resume = self._resume
        self.naps = 0  # naps begun
        self.napping = -1  # the nap waited for now (-1: none)
        self.spare: list[Timer] = []  # processed timers of its naps, for its owner to arm again

    def nap(self) -> tuple[Proc, int]:
        """Begin a nap (the process yields :data:`NAP` next); returns its token for :func:`rouse`."""
        self.naps = self.napping = n = self.naps + 1
        return (self, n)

    def _first(self, _event: Any) -> None:
        """The start event: run the generator to its first yield."""
        try:
            x = self.gen.send(None)
        except StopIteration:
            self._end()
            return
        self.wait(x)

    def _resume(self, event: Any) -> None:
        """``event`` (one the process waited for) happened: run the generator to its next yield."""
        try:
            if event._ok:
                x = self.gen.send(event._value)
            else:
                event._defused = True
                x = self.gen.throw(type(event._value)(*event._value.args))
        except StopIteration:
            self._end()
            return
        if x.__class__ is float:  # wait, inline for a delay
            tick = self.tick
            tick.callbacks = self.own
            self.env.schedule(tick, NORMAL, x)
            return
        self.wait(x)

    def wait(self, x: Any) -> None:
        """Wait for what the generator yielded: a delay (ns) or an event."""
        while True:
            if x.__class__ is float or x.__class__ is int:
                tick = self.tick
                tick.callbacks = self.own
                self.env.schedule(tick, NORMAL, x)
                return
            if x is NAP:
                return
            callbacks = getattr(x, "callbacks", _NONE)
            if callbacks is _NONE:
                raise RuntimeError(f"a thread process yielded {x!r} (expected a delay in ns or an event)")
            if callbacks is not None:
                callbacks.append(self.resume)
                return
            try:  # already processed: resume at once with its value
                x = self.gen.send(x._value) if x._ok else self.gen.throw(type(x._value)(*x._value.args))
            except StopIteration:
                self._end()
                return

    def _end(self) -> None:
        """The generator returned: drop what would keep the process in a reference cycle."""
        self.tick = self.resume = None  # type: ignore[assignment]  # no cycle left through the process


_NONE = object()
NAP = object()  # what a process yields to wait for :func:`rouse`


def rouse(token: tuple[Proc, int]) -> None:
    """End the nap of ``token`` (from :meth:`Proc.nap`) if the process still waits for it: its timer is
    scheduled now (priority and delay of an event's ``succeed``)."""
    proc, n = token
    if proc.napping == n:
        proc.napping = -1
        tick = proc.tick
        tick.callbacks = proc.own
        proc.env.schedule(tick)


def start(env: Env, gen: Generator[Any, Any, Any]) -> Proc:
    """Run ``gen`` as a process of ``env`` from now on (first resumed by an urgent event at the current
    time)."""
    proc = Proc(env, gen)
    env.schedule(Timer([proc._first], proc), URGENT)
    return proc
