"""The engine's event loop, timers and thread processes (sim.engine.events) against simpy's semantics."""

from __future__ import annotations

import gc
from collections.abc import Generator
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from hwmodels.chip import load_chip
from kernels.registry import build_graph
from sim.engine import RunOptions, simulate
from sim.engine.events import NAP, Env, Timer, rouse, start


def _trace_simpy(delays: list[list[float]]) -> list[tuple[float, int, int]]:
    """(time, process, step) of each resume of processes that sleep ``delays[i]``, run by simpy."""
    env = simpy.Environment()
    seen: list[tuple[float, int, int]] = []

    def proc(i: int, ds: list[float]) -> Generator[Any, Any, None]:
        for k, d in enumerate(ds):
            seen.append((env.now, i, k))
            yield env.timeout(d)
        seen.append((env.now, i, len(ds)))

    for i, ds in enumerate(delays):
        env.process(proc(i, ds))
    env.run()
    return seen


def _trace_driven(delays: list[list[float]], env: Env) -> list[tuple[float, int, int]]:
    """The same processes as :func:`_trace_simpy`, driven by :func:`start` yielding delays."""
    seen: list[tuple[float, int, int]] = []

    def proc(i: int, ds: list[float]) -> Generator[Any, Any, None]:
        for k, d in enumerate(ds):
            seen.append((env.now, i, k))
            yield d
        seen.append((env.now, i, len(ds)))

    for i, ds in enumerate(delays):
        start(env, proc(i, ds))
    env.run()
    return seen


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from([0.0, 1.0, 2.5, 4.0]), max_size=6), min_size=1, max_size=4))
def test_driven_processes_resume_in_simpys_order_at_equal_times(delays: list[list[float]]) -> None:
    assert _trace_driven(delays, Env()) == _trace_simpy(delays)


def test_a_driven_process_waits_for_an_event_and_resumes_at_once_on_a_processed_one() -> None:
    env = Env()
    done = env.event()
    seen: list[tuple[str, float, Any]] = []

    def waiter() -> Generator[Any, Any, None]:
        v = yield done  # pending: resumed when it is processed, with its value
        seen.append(("pending", env.now, v))
        v = yield done  # already processed: resumed at once, no time passes
        seen.append(("processed", env.now, v))
        yield 1.5
        seen.append(("delay", env.now, None))

    def trigger() -> Generator[Any, Any, None]:
        yield 2.0
        done.succeed("x")

    start(env, waiter())
    start(env, trigger())
    env.run()
    assert seen == [("pending", 2.0, "x"), ("processed", 2.0, "x"), ("delay", 3.5, None)]


def test_a_driven_process_end_schedules_nothing_and_its_error_propagates() -> None:
    env = Env()

    def short() -> Generator[Any, Any, None]:
        yield 1.0

    start(env, short())
    env.run()
    assert env.now == 1.0 and not env._queue  # its start and its one delay: nothing after the end

    def bad() -> Generator[Any, Any, None]:
        yield 1.0
        raise ValueError("boom")

    start(env, bad())
    with pytest.raises(ValueError, match="boom"):
        env.run()


def test_timers_share_a_callback_list_and_pass_their_value() -> None:
    env = Env()
    got: list[tuple[float, Any]] = []
    cbs = [lambda t: got.append((env.now, t._value))]
    env.schedule(Timer(cbs, "b"), simpy.events.NORMAL, 3.0)
    env.schedule(Timer(cbs, "a"), simpy.events.NORMAL, 1.0)
    env.schedule(Timer(cbs, "c"), simpy.events.NORMAL, 3.0)  # same time as "b", scheduled after it
    env.run()
    assert got == [(1.0, "a"), (3.0, "b"), (3.0, "c")]


def test_env_run_raises_a_failed_event_nobody_handled() -> None:
    env = Env()
    env.event().fail(KeyError("lost"))
    with pytest.raises(KeyError, match="lost"):
        env.run()


def test_a_run_leaves_no_reference_cycles_behind() -> None:
    """Everything a run made but its result is freed by reference counting when it returns (nothing
    left for the cyclic garbage collector)."""
    chip = load_chip()
    graph = build_graph("qkv_proj_rope:baseline", "decode")
    opts = RunOptions(swimlane_level=1)
    simulate(graph, chip, opts)  # the memos filled
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        result = simulate(graph, chip, opts)
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()
    assert result.subtasks


def test_a_nap_ends_at_its_first_rouse_and_an_earlier_naps_token_rouses_nothing() -> None:
    env = Env()
    seen: list[float] = []
    tokens: list[tuple[Any, int]] = []

    def napper() -> Generator[Any, Any, None]:
        for _ in range(2):
            tokens.append(proc.nap())
            yield NAP
            seen.append(env.now)

    def rouser() -> Generator[Any, Any, None]:
        yield 1.0
        rouse(tokens[0])  # ends nap 1 at 1.0
        rouse(tokens[0])  # the same nap again: nothing
        yield 1.0
        rouse(tokens[0])  # nap 1's token while nap 2 lasts: nothing
        yield 1.0
        rouse(tokens[1])  # ends nap 2 at 3.0

    proc = start(env, napper())
    start(env, rouser())
    env.run()
    assert seen == [1.0, 3.0] and len(tokens) == 2
