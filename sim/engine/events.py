"""The engine's use of simpy: its event loop, its timers and how its thread processes run.

Every event still goes through ``simpy.Environment.schedule`` (a heap of (time ns, priority, id,
event)), so events at equal times are processed in the order they were scheduled, as in simpy.
What is lighter than simpy's general machinery:

* :class:`Env` processes the queue in one loop (simpy's ``step`` inline).
* :class:`Timer` is an event that is triggered when scheduled (like ``simpy.Timeout``) with a fixed
  callback list and a value, the argument its callback reads (no ``functools.partial`` per timer).
* :func:`start` runs a generator as a thread process (:class:`Driver`): the generator yields a
  delay in ns (a float; the driver schedules its one reused timer) or a simpy event to wait for
  (an event already processed resumes it at once). The start goes through an urgent event at the
  current time, as ``simpy.Environment.process``; the process's end is not an event (nothing waits
  for it). An exception raised by the generator propagates out of :meth:`Env.run`.

A plain ``simpy.Environment`` runs timers and driven processes as well (tests use it).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from heapq import heappop
from typing import Any

import simpy
from simpy.events import NORMAL, URGENT, Event, Timeout

__all__ = ["Driver", "Env", "Timer", "later", "start"]


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
        """Process events until none is left (``until`` given: simpy's own run)."""
        if until is not None:
            return super().run(until)
        queue = self._queue
        pop = heappop
        while queue:
            self._now, _, _, event = pop(queue)
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                # a failed event nobody handled, as simpy.Environment.step: a copy of its exception
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc
        return None


class Timer:
    """An event triggered when made: ``callbacks`` (a list the caller may share between timers: it is
    only read) run with the timer when it is processed; ``_value`` is their argument."""

    __slots__ = ("_value", "callbacks")
    _ok = True

    def __init__(self, callbacks: list[Callable[[Any], None]], value: Any) -> None:
        self.callbacks = callbacks
        self._value = value


def later(env: simpy.Environment, delay: float, callbacks: list[Callable[[Any], None]], value: Any) -> None:
    """Schedule a :class:`Timer` ``delay`` ns from now (>= 0) with ``callbacks`` and ``value``."""
    env.schedule(Timer(callbacks, value), NORMAL, delay)


class Driver:
    """Runs generator ``gen`` as a process of ``env``: see the module docstring for what it yields."""

    __slots__ = ("env", "gen", "resume", "own", "tick")

    def __init__(self, env: simpy.Environment, gen: Generator[Any, Any, Any]) -> None:
        self.env = env
        self.gen = gen
        self.resume = self._resume
        self.own = [self._resume]  # the reused timer's callbacks
        self.tick = Timer(self.own, None)

    def _resume(self, event: Any) -> None:
        """``event`` happened: run the generator to its next yield and wait for what it yields."""
        gen = self.gen
        try:
            if event._ok:
                x = gen.send(event._value)
            else:
                event._defused = True
                x = gen.throw(type(event._value)(*event._value.args))
            while True:
                if x.__class__ is float:
                    tick = self.tick
                    tick.callbacks = self.own
                    self.env.schedule(tick, NORMAL, x)
                    return
                callbacks = getattr(x, "callbacks", _NONE)
                if callbacks is _NONE:
                    if isinstance(x, int | float):
                        x = float(x)
                        continue
                    raise RuntimeError(f"a thread process yielded {x!r} (expected a delay in ns or an event)")
                if callbacks is not None:
                    callbacks.append(self.resume)
                    return
                # already processed: resume at once with its value
                x = gen.send(x._value) if x._ok else gen.throw(type(x._value)(*x._value.args))
        except StopIteration:
            self.own = self.tick = self.resume = None  # no cycle left through the driver
            return


_NONE = object()


def start(env: simpy.Environment, gen: Generator[Any, Any, Any]) -> Driver:
    """Run ``gen`` as a process from now on (first resumed by an urgent event at the current time)."""
    d = Driver(env, gen)
    env.schedule(Timer([d.resume], None), URGENT)
    return d
