"""Fidelity rows and tables, run-to-run spread and cold rows (no engine needed)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from sim.app.fidelity import (
    build_rows,
    cold_row_counts,
    cold_rows,
    fidelity_json,
    format_cold_rows,
    format_spread,
    format_table,
    run_spread,
    warm_run_means,
)
from sim.app.measurements import FIT_WORKLOAD, load_measurements
from sim.ir.records import SubtaskRecord
from traces.stats import delta_pct


def _fake_metrics(scale: float) -> dict:
    return {
        "total_test_time": 220.0 * scale,
        "swimlane_wall": 250.0 * scale,
        "aicore_span": 200.0 * scale,
        "funcs": {
            "q_head_rms_nope_rope": {"avg_exec": 20.0 * scale, "span": 30.0 * scale, "count": 32},
            "q_rope_cs": {"avg_exec": 5.0, "span": 5.0, "count": 1},
        },
    }


def test_rows_roles_and_deltas() -> None:
    meas = load_measurements()
    sim = {w: {"baseline": _fake_metrics(1.0), "precompute": _fake_metrics(0.9)} for w in meas.values}
    rows = build_rows(meas, sim)
    doc = fidelity_json(rows)
    q = doc["workloads"][FIT_WORKLOAD]["metrics"]["q_head_rms_nope_rope.avg_exec"]
    assert q["baseline"]["role"] == "fitted" and q["precompute"]["role"] == "predicted"
    assert q["baseline"]["simulated"] == 20.0
    assert q["baseline"]["error_pct"] == pytest.approx((20.0 - 22.227) / 22.227 * 100, abs=0.01)
    assert q["delta_pct"]["simulated"] == pytest.approx(-10.0)
    hca = doc["workloads"]["decode_attention_hca"]["metrics"]["swimlane_wall"]
    assert hca["baseline"]["role"] == "predicted"
    assert "total_test_time" not in doc["workloads"]["decode_attention_hca"]["metrics"]
    text = format_table(rows)
    assert "F" in text and "-10.0%" in text
    md = format_table(rows, markdown=True)
    assert md.startswith("| workload |")


def test_delta_pct() -> None:
    assert delta_pct(100.0, 98.5) == pytest.approx(-1.5)
    assert delta_pct(None, 1.0) is None


def test_run_spread_is_min_median_max_per_seed() -> None:
    meas = load_measurements()
    seeds = [_fake_metrics(x) for x in (1.0, 1.2, 0.9)]
    per_seed = {w: {"baseline": seeds, "precompute": seeds[:1]} for w in meas.values}
    spread = run_spread(meas, per_seed)
    qh = spread[FIT_WORKLOAD]["q_head_rms_nope_rope.avg_exec"]
    assert qh["baseline"] == [pytest.approx(18.0), pytest.approx(20.0), pytest.approx(24.0)]
    assert qh["precompute"] == [20.0, 20.0, 20.0]
    assert spread[FIT_WORKLOAD]["q_rope_cs.avg_exec"]["baseline"] == [5.0, 5.0, 5.0]
    text = format_spread(meas, spread)
    assert "18.00 / 20.00 / 24.00" in text
    md = format_spread(meas, spread, markdown=True)
    assert md.splitlines()[1].startswith("|---|---|---:|")


def test_cold_rows_are_counted_per_function_and_run() -> None:
    def row(func: str, cold: float) -> SubtaskRecord:
        return SubtaskRecord(task=0, task_id=0, func=func, func_id=0, block=0, lane="aiv0", core_id=24,
                             reg_task_id=1, thread=0, dispatch=0.0, receive=0.0, start=0.0, end=1.0, finish=1.0,
                             breakdown={"cold_core": cold} if cold else {})

    res = SimpleNamespace(subtasks=[row("a", 5.0), row("a", 0.0), row("a", 2.0), row("b", 0.0)])
    assert cold_rows(res) == {"a": 2}
    meas = load_measurements()

    def seed(n: int) -> dict:
        m = _fake_metrics(1.0)
        m["funcs"]["q_head_rms_nope_rope"]["cold_rows"] = n
        return m

    per_seed = {w: {"baseline": [seed(0), seed(13), seed(0)], "precompute": [seed(0)]} for w in meas.values}
    counts = cold_row_counts(meas, per_seed)
    assert counts[FIT_WORKLOAD]["q_head_rms_nope_rope"] == {"baseline": [0, 13, 0], "precompute": [0]}
    assert counts[FIT_WORKLOAD]["q_rope_cs"]["baseline"] == [0, 0, 0]
    text = format_cold_rows(counts)
    assert "q_head_rms_nope_rope baseline: 0 13 0  (1 of 3 runs)" in text
    assert "precompute" not in text and "q_rope_cs" not in text  # runs without cold rows are not listed
    assert format_cold_rows(cold_row_counts(meas, {w: {"baseline": [seed(0)]} for w in meas.values})) == ""
    per_seed[FIT_WORKLOAD]["baseline"][1]["funcs"]["q_head_rms_nope_rope"]["avg_exec"] = 99.0
    warm = warm_run_means(meas, per_seed)
    qh = warm[FIT_WORKLOAD]["q_head_rms_nope_rope"]["baseline"]
    assert qh == {"avg_exec": 20.0, "span": 30.0, "runs": 2}  # the cold run (99 µs) is left out
    assert "the other 2: Avg Exec 20.00, span 30.00 µs" in format_cold_rows(counts, warm)
