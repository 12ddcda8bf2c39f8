"""Backtest metrics on hand-built run records (traces.synthetic): each metric kind, a function the run
lacks, a MIX task's _aic/_aiv halves, and what a level-0 / level-1 capture cannot give."""

from __future__ import annotations

import pytest

from sim.app.backtest_metrics import (
    Unavailable,
    mean_exec_parts,
    mean_metric,
    metric_value,
    run_view,
    union_length,
)
from sim.ir.records import RunResult
from traces import run_metrics
from traces.synthetic import tiny_run

TICK = 0.02  # µs: rows are quantised to 50 MHz ticks, the raw records are not


@pytest.fixture(scope="module")
def run() -> RunResult:
    return tiny_run(seed=3)


def _rows(run: RunResult, *funcs: str) -> list:
    return [s for s in run.subtasks if s.func in funcs]


def test_run_wide_metrics(run: RunResult) -> None:
    v = run_view(run, 4)
    m = run_metrics(run, 4)
    assert metric_value(v, "wall") == pytest.approx(m["swimlane_wall"])
    assert metric_value(v, "total_test_time") == pytest.approx(m["total_test_time"])
    exec_us = sum(s.end - s.start for s in run.subtasks) / 1000
    assert metric_value(v, "total_exec") == pytest.approx(exec_us, abs=TICK * len(run.subtasks))
    assert metric_value(v, "tasks") == len(run.subtasks) == 6  # rows, as the converter's TOTAL Count


def test_per_function_metrics(run: RunResult) -> None:
    v = run_view(run, 4)
    rows = _rows(run, "qk_matmul")
    assert len(rows) == 2
    ex = [(s.end - s.start) / 1000 for s in rows]
    m = run_metrics(run, 4)["funcs"]["qk_matmul"]
    assert metric_value(v, "qk_matmul.avg_exec") == pytest.approx(m["avg_exec"])
    assert metric_value(v, "qk_matmul.exec") == metric_value(v, "qk_matmul.avg_exec")
    assert metric_value(v, "qk_matmul.avg_exec") == pytest.approx(sum(ex) / 2, abs=2 * TICK)
    assert metric_value(v, "qk_matmul.span") == pytest.approx(m["span"])
    assert metric_value(v, "qk_matmul.time") == metric_value(v, "qk_matmul.span")
    assert metric_value(v, "qk_matmul.sum_exec") == pytest.approx(sum(ex), abs=4 * TICK)
    assert metric_value(v, "qk_matmul.tasks") == 2  # rows (blocks), as the converter's Count
    assert metric_value(v, "qk_matmul.task_ids") == 1
    lat = sum(s.finish - s.dispatch for s in rows) / 1000
    assert metric_value(v, "qk_matmul.exec_pct") == pytest.approx(sum(ex) / lat * 100, abs=1.0)
    assert metric_value(v, "qk_matmul.avg_latency") == pytest.approx(lat / 2, abs=2 * TICK)
    assert metric_value(v, "qk_matmul.busy") == metric_value(v, "qk_matmul.sum_exec")
    assert metric_value(v, "qk_matmul.count") == metric_value(v, "qk_matmul.tasks")
    lo, hi = min(s.start for s in rows) / 1000, max(s.end for s in rows) / 1000
    overlapping = max(s.start for s in rows) < min(s.end for s in rows)
    union = hi - lo if overlapping else sum(ex)
    assert metric_value(v, "qk_matmul.union_span") == pytest.approx(union, abs=2 * TICK)


def test_run_wide_per_task_line_and_aicore_span(run: RunResult) -> None:
    v = run_view(run, 4)
    n = len(run.subtasks)
    exec_us = sum(s.end - s.start for s in run.subtasks) / 1000
    lat_us = sum(s.finish - s.dispatch for s in run.subtasks) / 1000
    assert metric_value(v, "avg_exec") == pytest.approx(exec_us / n, abs=TICK)
    assert metric_value(v, "avg_latency") == pytest.approx(lat_us / n, abs=TICK)
    assert metric_value(v, "exec_pct") == pytest.approx(exec_us / lat_us * 100, abs=1.0)
    lo = min(min(s.receive, s.start) for s in run.subtasks) / 1000
    assert metric_value(v, "aicore_span") == pytest.approx(max(s.end for s in run.subtasks) / 1000 - lo, abs=2 * TICK)
    assert metric_value(v, "aicore_span") <= metric_value(v, "total_test_time")


def test_per_function_extremes_and_overhead_columns(run: RunResult) -> None:
    v = run_view(run, 4)
    rows = _rows(run, "qk_matmul")
    ex = [(s.end - s.start) / 1000 for s in rows]
    assert metric_value(v, "qk_matmul.max_exec") == pytest.approx(max(ex), abs=2 * TICK)
    assert metric_value(v, "qk_matmul.min_exec") == pytest.approx(min(ex), abs=2 * TICK)
    assert metric_value(v, "qk_matmul.min_exec") <= metric_value(v, "qk_matmul.avg_exec") \
        <= metric_value(v, "qk_matmul.max_exec")
    n = len(rows)
    cols = {"avg_head_oh": [(s.start - s.dispatch) / 1000 for s in rows],
            "avg_tail_oh": [(s.finish - s.end) / 1000 for s in rows],
            "avg_prop": [(s.receive - s.dispatch) / 1000 for s in rows],
            "avg_local": [(s.start - s.receive) / 1000 for s in rows]}
    for key, vals in cols.items():
        assert metric_value(v, f"qk_matmul.{key}") == pytest.approx(sum(vals) / n, abs=2 * TICK), key
        assert metric_value(v, f"qk_matmul.{key.removeprefix('avg_')}") == metric_value(v, f"qk_matmul.{key}")
    # head = prop + local; latency = head + exec + tail
    head = metric_value(v, "qk_matmul.head_oh")
    assert head == pytest.approx(metric_value(v, "qk_matmul.prop") + metric_value(v, "qk_matmul.local"))
    assert metric_value(v, "qk_matmul.avg_latency") == pytest.approx(
        head + metric_value(v, "qk_matmul.avg_exec") + metric_value(v, "qk_matmul.tail_oh"))
    # a MIX task's halves pooled: the extremes over both halves' rows
    mix = [(s.end - s.start) / 1000 for s in _rows(run, "pv_aic", "pv_aiv")]
    assert metric_value(v, "pv.max_exec") == pytest.approx(max(mix), abs=2 * TICK)
    assert metric_value(v, "pv.head_oh") == pytest.approx(
        sum(s.start - s.dispatch for s in _rows(run, "pv_aic", "pv_aiv")) / 1000 / len(mix), abs=2 * TICK)


def test_bench_windows(run: RunResult) -> None:
    v = run_view(run, 0)
    orch = (min(s.start for s in run.submits) / 1000, max(s.end for s in run.submits) / 1000)
    last_finish = max(s.finish for s in run.subtasks) / 1000
    assert min(s.dispatch for s in run.subtasks) > 0  # the first dispatch comes after the launch
    assert metric_value(v, "orch_us") == pytest.approx(orch[1] - orch[0])
    # the scheduler threads' window opens at the launch (their loops start before any submit)
    assert metric_value(v, "sched_us") == pytest.approx(last_finish)
    assert metric_value(v, "effective_us") == pytest.approx(max(orch[1], last_finish) - min(orch[0], 0.0))
    assert metric_value(v, "device_wall_us") == pytest.approx(max(orch[1], last_finish))
    for key in ("host_wall_us", "fast_effective_us"):
        with pytest.raises(Unavailable, match="not modelled|one device"):
            metric_value(v, key)


def test_union_length_counts_overlaps_once() -> None:
    assert union_length([(0, 2), (1, 3), (5, 6)]) == 4
    assert union_length([(5, 6), (0, 1)]) == 2
    assert union_length([]) == 0


def test_mix_task_reads_both_halves(run: RunResult) -> None:
    v = run_view(run, 4)
    assert "pv" not in v.funcs and {"pv_aic", "pv_aiv"} <= set(v.funcs)
    rows = _rows(run, "pv_aic", "pv_aiv")
    assert len(rows) == 3
    ex = [(s.end - s.start) / 1000 for s in rows]
    assert metric_value(v, "pv.avg_exec") == pytest.approx(sum(ex) / 3, abs=2 * TICK)
    assert metric_value(v, "pv.sum_exec") == pytest.approx(sum(ex), abs=6 * TICK)
    assert metric_value(v, "pv.tasks") == 3  # rows of both halves
    assert metric_value(v, "pv.task_ids") == 1
    span = (max(s.end for s in rows) - min(s.start for s in rows)) / 1000
    assert metric_value(v, "pv.span") == pytest.approx(span, abs=2 * TICK)
    # a half by its own name reads only that half
    aiv = [(s.end - s.start) / 1000 for s in _rows(run, "pv_aiv")]
    assert metric_value(v, "pv_aiv.avg_exec") == pytest.approx(sum(aiv) / len(aiv), abs=2 * TICK)


def test_missing_function_is_unavailable(run: RunResult) -> None:
    with pytest.raises(Unavailable, match="function q_rope_cs is not in the simulated run"):
        metric_value(run_view(run, 4), "q_rope_cs.avg_exec")


def test_unknown_metric_kind_is_unavailable(run: RunResult) -> None:
    with pytest.raises(Unavailable, match="not a metric swimsim computes"):
        metric_value(run_view(run, 4), "qk_matmul.p99")
    with pytest.raises(Unavailable, match="not a metric swimsim computes"):
        metric_value(run_view(run, 4), "bandwidth")


def test_capture_level_limits(run: RunResult) -> None:
    v1 = run_view(run, 1)
    assert metric_value(v1, "wall") > 0
    with pytest.raises(Unavailable, match="level-1 capture"):
        metric_value(v1, "total_test_time")
    with pytest.raises(Unavailable, match="capture level 2-4"):
        metric_value(v1, "qk_matmul.exec_pct")
    with pytest.raises(Unavailable, match="Latency needs dispatch/finish stamps"):
        metric_value(v1, "qk_matmul.avg_latency")
    for key in ("qk_matmul.head_oh", "qk_matmul.avg_tail_oh", "avg_latency", "exec_pct"):
        with pytest.raises(Unavailable, match="capture level 2-4"):
            metric_value(v1, key)
    assert metric_value(v1, "avg_exec") > 0 and metric_value(v1, "qk_matmul.max_exec") > 0
    v0 = run_view(run, 0)
    for key in ("wall", "softmax.avg_exec", "total_exec", "avg_exec", "softmax.max_exec"):
        with pytest.raises(Unavailable, match="level 0"):
            metric_value(v0, key)


def test_mean_over_runs() -> None:
    views = [run_view(tiny_run(seed=s), 4) for s in (0, 1)]
    vals = [metric_value(v, "softmax.avg_exec") for v in views]
    assert vals[0] != vals[1]
    assert mean_metric(views, "softmax.avg_exec") == pytest.approx(sum(vals) / 2)


def test_exec_parts_split_a_function_metric_by_critical_path_part(run: RunResult) -> None:
    from sim.ir.records import EXEC_PARTS

    r = run.model_copy(deep=True)
    for s in r.subtasks:  # a third of each row cold, a quarter vector issue, the rest unattributed
        ex = s.end - s.start
        s.breakdown = {"cold_core": ex / 3, "issue_sync": ex / 4}
    v = run_view(r, 4)
    parts = mean_exec_parts([v], "qk_matmul.avg_exec")
    assert parts is not None and set(parts) == {*EXEC_PARTS, "other"}
    rows = _rows(r, "qk_matmul")
    ex = sum(s.end - s.start for s in rows) / 1000 / len(rows)
    assert parts["cold core (first kernel on the core)"] == pytest.approx(ex / 3)
    assert parts["issue / sync overhead"] == pytest.approx(ex / 4)
    assert parts["other"] == pytest.approx(ex - ex / 3 - ex / 4, abs=TICK)  # with the ticks' quantisation
    assert parts["pipe busy (critical path)"] == 0.0
    assert sum(parts.values()) == pytest.approx(metric_value(v, "qk_matmul.avg_exec"))
    # sum_exec is split per row too; a MIX function pools its halves; other metrics have no parts
    assert mean_exec_parts([v], "qk_matmul.sum_exec") == parts
    mix = mean_exec_parts([v], "pv.exec")
    assert mix is not None and sum(mix.values()) == pytest.approx(metric_value(v, "pv.avg_exec"))
    for key in ("qk_matmul.span", "wall", "nothere.avg_exec"):
        assert mean_exec_parts([v], key) is None
    # the mean over runs
    two = mean_exec_parts([v, run_view(run, 4)], "qk_matmul.avg_exec")
    assert two is not None and two["cold core (first kernel on the core)"] == pytest.approx(ex / 6)
