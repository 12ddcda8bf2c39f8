"""Statistics table: byte layout vs the June converter (golden; level 1 deliberately n/a), round trip
to the tick, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.app.cli import main
from traces import run_metrics, write_run_dir
from traces.depsjson import parse_deps
from traces.perf import TICK_BASE
from traces.records import parse_records
from traces.rundir import load_path, perf_from_result
from traces.stats import format_extras, format_table, metrics
from traces.synthetic import sized_run, tiny_run

GOLDEN = Path(__file__).parent / "golden"
B = TICK_BASE
# Two rows reproducing the June converter's example table (ticks of 20 ns): qk_matmul on AIC 0, softmax on AIV 24.
DEPS = {"tasks": [{"task_id": str((1 << 32) | 0), "kernel_ids": [0, -1, -1], "block_num": 1},
                  {"task_id": str((1 << 32) | 1), "kernel_ids": [-1, 1, -1], "block_num": 1}],
        "edges": [{"pred": str(1 << 32), "succ": str((1 << 32) | 1), "arg": 0, "source": "tensormap"}]}
NAMES = {0: "qk_matmul", 1: "softmax"}


def _records(level: int) -> dict:
    meta = {"clock_freq_hz": 50_000_000, "num_cores": 72, "core_types": ["aic"] * 24 + ["aiv"] * 48}
    if level == 1:  # starts 0.10 / 12.10 µs, ends 10.10 / 16.10 µs
        aicore = [[0, 1 << 32, 1, B + 5, B + 505, 5], [24, (1 << 32) | 1, 1, B + 605, B + 805, 3]]
        return {"l2_swimlane_level": 1, "metadata": meta, "aicore_tasks": aicore, "aicpu_tasks": []}
    aicore = [[0, 1 << 32, 1, B + 10, B + 510, 5], [24, (1 << 32) | 1, 1, B + 610, B + 810, 3]]
    aicpu = [[0, 1, B + 0, B + 520], [24, 1, B + 585, B + 825]]
    return {"l2_swimlane_level": 2, "metadata": meta, "aicore_tasks": aicore, "aicpu_tasks": aicpu}


def test_table_matches_june_converter_example_level4() -> None:
    pd = parse_records(_records(2), "x", parse_deps(DEPS), NAMES)
    assert format_table(pd) == (GOLDEN / "stats_june_level4.txt").read_text()


def test_level1_table_prints_total_test_time_na_and_no_latency_columns() -> None:
    """Level 1 has no dispatch/finish: the June converter prints Total Test Time 0.00 us and negative
    Tail OH; swimsim prints n/a (level 1) and '-' in the latency columns (golden changed on purpose)."""
    pd = parse_records(_records(1), "x", parse_deps(DEPS), NAMES)
    text = format_table(pd)
    assert text.endswith((GOLDEN / "stats_june_level1_tail.txt").read_text())
    assert "Total Test Time: n/a (level 1)" in text
    assert "Total Test Time: 0.00" not in text and "-10.10" not in text
    assert "Per-task (all)" not in text
    extras = format_extras(pd, None)
    assert "AICore Observed Span: 16.10 us" in extras  # max end 16.10 − min receive 0.00


def test_unresolved_func_ids_without_deps() -> None:
    pd = parse_records(_records(2), "x", None, {})
    text = format_table(pd)
    assert "\n-1       func_-1_         2 " in text


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_round_trip_file_equals_memory_to_the_tick(tmp_path: Path, level: int) -> None:
    run = sized_run(120, seed=3)
    write_run_dir(run, tmp_path, level=level)
    mem = perf_from_result(run, level)[0]
    disk = load_path(tmp_path)
    assert [(r.task_id, r.core_id, r.start_t, r.end_t, r.receive_t, r.dispatch_t, r.finish_t, r.func_id)
            for r in disk.pd.rows] == \
        [(r.task_id, r.core_id, r.start_t, r.end_t, r.receive_t, r.dispatch_t, r.finish_t, r.func_id)
         for r in mem.rows]
    assert metrics(disk.pd, disk.wall) == run_metrics(run, level)
    stats_txt = (tmp_path / "stats.txt").read_text()
    assert stats_txt == format_table(disk.pd) + format_extras(disk.pd, disk.wall)


def test_quantisation_uses_truncated_ticks() -> None:
    run = tiny_run()
    s = run.subtasks[0]
    pd = perf_from_result(run)[0]
    row = next(r for r in pd.rows if r.core_id == s.core_id and r.reg_task_id == s.reg_task_id)
    assert row.start_t == B + int(s.start // 20)
    assert row.end_t == B + int(s.end // 20)


def test_level1_run_dir_prints_total_test_time_na_and_aicore_span(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    write_run_dir(tiny_run(), tmp_path, level=1)
    assert main(["stats", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Total Test Time: n/a (level 1)" in out and "Total Test Time: 0.00" not in out
    assert "Total Test Time: n/a (level 1)" in (tmp_path / "stats.txt").read_text()
    assert "AICore Observed Span:" in out
    m = run_metrics(tiny_run(), level=1)
    assert m["total_test_time"] is None
    pd = perf_from_result(tiny_run(), 1)[0]
    assert m["swimlane_wall"] == pytest.approx(max(r.end for r in pd.rows) - min(r.start for r in pd.rows))


def test_stats_from_merged_trace_matches_records(tmp_path: Path) -> None:
    run = sized_run(80)
    write_run_dir(run, tmp_path)
    trace = next(tmp_path.glob("merged_swimlane_*.json"))
    a = load_path(trace)
    b = load_path(tmp_path / "l2_swimlane_records.json")
    ma, mb = metrics(a.pd, a.wall), metrics(b.pd, b.wall)
    assert ma["funcs"].keys() == mb["funcs"].keys()
    for f in ma["funcs"]:
        for k, v in ma["funcs"][f].items():
            assert v == pytest.approx(mb["funcs"][f][k], abs=1e-6), (f, k)
    assert ma["total_test_time"] == pytest.approx(mb["total_test_time"], abs=1e-6)
    assert ma["swimlane_wall"] == pytest.approx(mb["swimlane_wall"], abs=1e-9)


def test_later_chip_layout_with_five_column_rows(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rec = _records(2)
    rec["chip_swimlane_level"] = rec.pop("l2_swimlane_level")
    rec["aicore_tasks"] = [r[:5] for r in rec["aicore_tasks"]]
    (tmp_path / "chip_swimlane_records.json").write_text(json.dumps(rec))
    (tmp_path / "deps.json").write_text(json.dumps(DEPS))
    (tmp_path / "name_map_x.json").write_text(json.dumps({"callable_id_to_name": {"0": "qk_matmul",
                                                                                  "1": "softmax"}}))
    assert main(["stats", str(tmp_path / "chip_swimlane_records.json")]) == 0
    out = capsys.readouterr().out
    assert "qk_matmul" in out and "Avg Local" in out
    assert "\n0        qk_matmul        1          10.00" in out


BAD_CASES = [
    ("truncated", lambda t: t[: len(t) // 2], "invalid JSON"),
    ("bad_row", None, "aicore_tasks[3]: expected 6 integers"),
    ("bad_level", None, "l2_swimlane_level: expected 1, 2, 3 or 4"),
    ("bad_aicpu", None, "aicpu_tasks[1]: expected 4 integers"),
    ("bad_clock", None, "metadata.clock_freq_hz: expected a positive integer, got 0"),
    ("bad_phase", None, "aicpu_scheduler_phases[0][1]: expected integer 'start_cycles', got 1.5"),
    ("bad_kind", None, "aicpu_scheduler_phases[0][0]: expected an object with a string 'kind'"),
    ("bad_core", None, "aicore_tasks[2]: core_id 99 outside 0..71"),
    ("bad_deps", None, "deps.json: tasks[0]: expected task_id and kernel_ids"),
    ("bad_name_map", None, "callable_id_to_name['x']: expected an integer key"),
]


@pytest.mark.parametrize("case,cut,msg", BAD_CASES)
def test_malformed_records_exit_2_without_table(tmp_path: Path, capsys: pytest.CaptureFixture, case: str,
                                                cut, msg: str) -> None:
    d = tmp_path / "run"
    write_run_dir(tiny_run(), d)
    f = bad = d / "l2_swimlane_records.json"
    if cut is not None:
        f.write_text(cut(f.read_text()))
    else:
        rec = json.loads(f.read_text())
        if case == "bad_row":
            rec["aicore_tasks"][3] = [1, 2, "x", 4, 5, 6]
        elif case == "bad_level":
            rec["l2_swimlane_level"] = 7
        elif case == "bad_aicpu":
            rec["aicpu_tasks"][1] = [1, 2, 3]
        elif case == "bad_clock":
            rec["metadata"]["clock_freq_hz"] = 0
        elif case == "bad_phase":
            rec["aicpu_scheduler_phases"][0][1]["start_cycles"] = 1.5
        elif case == "bad_kind":
            del rec["aicpu_scheduler_phases"][0][0]["kind"]
        elif case == "bad_core":
            rec["aicore_tasks"][2][0] = 99
        elif case == "bad_deps":
            bad = d / "deps.json"
            bad.write_text(json.dumps({"tasks": [{"task_id": "x"}]}))
        else:
            bad = next(d.glob("name_map_*.json"))
            bad.write_text(json.dumps({"callable_id_to_name": {"x": "f"}}))
        f.write_text(json.dumps(rec))
    rc = main(["stats", str(f)])
    cap = capsys.readouterr()
    assert rc == 2
    assert cap.out == ""
    assert str(bad) in cap.err and msg in cap.err
    assert len(cap.err.strip().splitlines()) == 1


def test_malformed_trace_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_run_dir(tiny_run(), tmp_path)
    f = next(tmp_path.glob("merged_swimlane_*.json"))
    obj = json.loads(f.read_text())
    xs = [i for i, e in enumerate(obj["traceEvents"]) if e["ph"] == "X"]
    obj["traceEvents"][xs[2]]["dur"] = "long"
    f.write_text(json.dumps(obj))
    assert main(["stats", str(f)]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and f"traceEvents[{xs[2]}]" in cap.err and str(f) in cap.err


@pytest.mark.parametrize("field,value,msg", [
    ("ts", "0", "expected numeric ts, got '0'"),
    ("ph", 4, "expected an object with a string 'ph'"),
    ("args", [1], "expected an object 'args'"),
])
def test_malformed_trace_event_one_line(tmp_path: Path, capsys: pytest.CaptureFixture, field: str, value,
                                        msg: str) -> None:
    write_run_dir(tiny_run(), tmp_path)
    f = next(tmp_path.glob("merged_swimlane_*.json"))
    obj = json.loads(f.read_text())
    i = next(i for i, e in enumerate(obj["traceEvents"]) if e["ph"] == "X")
    obj["traceEvents"][i][field] = value
    f.write_text(json.dumps(obj))
    assert main(["stats", str(f)]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err.count("\n") == 1
    assert f"{f}: traceEvents[{i}]: {msg}" in cap.err


def test_missing_path_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["stats", str(tmp_path / "nope.json")]) == 2
    assert "nope.json" in capsys.readouterr().err


def test_later_layout_trace_without_setup_bars(tmp_path: Path) -> None:
    """Later converter: the Worker View bar spans receive -> end and carries kernel-duration-us."""
    ev = [{"args": {"name": "Worker View"}, "cat": "__metadata", "name": "process_name", "ph": "M", "pid": 4},
          {"args": {"name": "AIC_0"}, "cat": "__metadata", "name": "thread_name", "ph": "M", "pid": 4,
           "tid": 10000},
          {"args": {"event-hint": "Task:r1t0, FuncId:0, CoreId:0", "kernel-duration-us": 10.0,
                    "local_setup_us": 0.5, "taskId": 1 << 32},
           "cat": "event", "id": 0, "name": "mm(r1t0)", "ph": "X", "pid": 4, "tid": 10000, "ts": 1.0, "dur": 10.5}]
    f = tmp_path / "merged_swimlane.json"
    f.write_text(json.dumps({"traceEvents": ev}))
    ld = load_path(f)
    (r,) = ld.pd.rows
    assert (r.receive, r.start, r.end, r.func_id) == (1.0, 1.5, 11.5, 0)
    m = metrics(ld.pd, ld.wall)
    assert m["funcs"]["mm"]["avg_exec"] == 10.0 and m["swimlane_wall"] == 10.5


def test_unmatched_and_unwritten_records_warn(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rec = _records(2)
    rec["aicpu_tasks"].append([5, 9, B + 1, B + 2])  # no AICore row on core 5
    rec["aicore_tasks"].append([7, 3, 1, 0, B + 9, 0])  # slot never written
    f = tmp_path / "l2_swimlane_records.json"
    f.write_text(json.dumps(rec))
    assert main(["stats", str(f)]) == 0
    cap = capsys.readouterr()
    assert "TOTAL                     2" in cap.out
    assert "1 aicpu_task(s) had no matching AICore record" in cap.err
    assert "skipped 1 AICore record slot(s) with start_time=0" in cap.err
