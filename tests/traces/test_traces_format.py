"""Writers: records layout per level, merged trace importer rules, determinism, golden tiny trace."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from traces import write_run_dir
from traces.depsjson import dumps, parse_deps, to_deps_json
from traces.jsontext import Encoder
from traces.merged import build_events
from traces.records import build_records
from traces.rundir import load_path, perf_from_result
from traces.stats import format_table
from traces.synthetic import sized_run, tiny_run
from traces.trace_writer import dump_trace
from traces.validate import trace_problems

GOLDEN = Path(__file__).parent / "golden"


def check_perfetto_rules(obj: dict) -> None:
    assert trace_problems(obj) == []


@pytest.mark.parametrize("level", [1, 2, 3, 4])
@pytest.mark.parametrize("style", ["pypto", "june"])
def test_merged_trace_follows_importer_rules(tmp_path: Path, level: int, style: str) -> None:
    write_run_dir(sized_run(100), tmp_path, level=level, style=style, pipe_lanes=True)
    obj = json.loads(next(tmp_path.glob("merged_swimlane_*.json")).read_text())
    check_perfetto_rules(obj)
    pids = {e["pid"] for e in obj["traceEvents"] if e["ph"] != "M"}
    expected = {1: {4, 5}, 2: {3, 4, 5}, 3: {2, 3, 4, 5}, 4: {1, 2, 3, 4, 5}}[level]
    assert pids == expected


def test_level4_has_all_flow_kinds_and_bars(tmp_path: Path) -> None:
    write_run_dir(tiny_run(), tmp_path)
    ev = json.loads(next(tmp_path.glob("merged_swimlane_*.json")).read_text())["traceEvents"]
    kinds = Counter(e["name"] for e in ev if e["ph"] == "s")
    assert {"dependency", "complete", "dispatch", "submit→dispatch", "complete→ready"} <= set(kinds)
    names = {e["name"] for e in ev if e["ph"] == "X"}
    assert {"setup", "qk_matmul(r1t1)", "softmax(r1t2)", "pv_aic(r1t3)", "pv_aiv(r1t3)", "alloc(r1t0)",
            "dummy(t4)", "submit(r1t0)"} <= names
    procs = {e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "process_name"}
    assert procs == {"AICPU Orchestrator", "AICPU Scheduler", "Scheduler View", "Worker View"}
    phase = [e for e in ev if e.get("cat") == "scheduler"]
    assert phase and all(e["cname"] in ("good", "terrible") for e in phase)
    assert any(e["name"] == "local_ready_buf_T0" for e in ev) and any(e["name"] == "shared_ready_queue" for e in ev)
    # every row owned by a thread is counted in exactly one complete bar
    done = sum(e["args"]["finishes_processed"] for e in phase if e["args"]["phase"] == "complete")
    assert done == len(tiny_run().subtasks)


def test_spmd_labels_and_anchoring_by_style() -> None:
    pd = perf_from_result(sized_run(60))[0]
    pyp = build_events(pd, "pypto")
    jun = build_events(pd, "june")
    assert not any("_spmd(" in e["name"] for e in pyp if e["ph"] == "X")
    assert any("_spmd(" in e["name"] for e in jun if e["ph"] == "X")
    dp = [e for e in pyp if e["ph"] == "s" and e["name"] in ("dependency", "hb_violation") and e["pid"] == 4]
    dj = [e for e in jun if e["ph"] == "s" and e["name"] in ("dependency", "hb_violation") and e["pid"] == 4]
    assert len(dp) > len(dj) > 0  # every row x every row vs one anchor per core type
    assert all("input_task_count" in e for e in dj) and not any("input_task_count" in e for e in dp)


def test_records_layout_per_level() -> None:
    run = tiny_run()
    for level in (1, 2, 3, 4):
        rec = build_records(run, level)
        keys = list(rec)
        assert keys[:4] == ["l2_swimlane_level", "metadata", "aicore_tasks", "aicpu_tasks"]
        assert ("aicpu_scheduler_phases" in rec) == (level >= 3)
        assert ("aicpu_orchestrator_phases" in rec) == (level >= 4)
        assert ("core_to_thread" in rec["metadata"]) == (level >= 3)
        assert (rec["aicpu_tasks"] == []) == (level == 1)
        rows = rec["aicore_tasks"]
        assert all(len(r) == 6 and all(isinstance(x, int) and x >= 0 for x in r) for r in rows)
        assert all(r[3] > 0 and r[4] >= r[3] for r in rows)
        assert [r[0] for r in rows] == sorted(r[0] for r in rows)
        assert len({(r[0], r[2]) for r in rows}) == len(rows)  # reg_task_id unique per core
        if level >= 2:
            assert {(r[0], r[1]) for r in rec["aicpu_tasks"]} == {(r[0], r[2]) for r in rows}
    ph = build_records(run, 3)["aicpu_scheduler_phases"]
    d = next(p for g in ph for p in g if p["kind"] == "dispatch")
    assert list(d) == ["kind", "start_cycles", "end_cycles", "loop_iter", "tasks_processed", "pop_hit", "pop_miss",
                       "local_at_start", "shared_at_start", "local_at_end", "shared_at_end"]
    c = next(p for g in ph for p in g if p["kind"] == "complete")
    assert "pop_hit" not in c


def test_deps_and_name_map_files(tmp_path: Path) -> None:
    run = tiny_run()
    write_run_dir(run, tmp_path)
    deps = json.loads((tmp_path / "deps.json").read_text())
    ids = [t["task_id"] for t in deps["tasks"]]
    assert all(isinstance(i, str) for i in ids)
    assert str(run.graph.tasks[0].task_id) not in ids  # alloc task omitted
    assert any(e["pred"] == str(run.graph.tasks[0].task_id) and e["source"] == "creator" for e in deps["edges"])
    info = parse_deps(deps)
    assert info.block_num[run.graph.tasks[1].task_id] == 2
    nm = json.loads((tmp_path / "name_map_synthetic.json").read_text())
    assert nm["callable_id_to_name"] == {"0": "qk_matmul", "1": "softmax", "2": "pv_aic", "3": "pv_aiv"}


def test_outputs_are_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    pa = write_run_dir(sized_run(100, seed=5), a, pipe_lanes=True)
    pb = write_run_dir(sized_run(100, seed=5), b, pipe_lanes=True)
    assert [p.name for p in pa] == [p.name for p in pb]
    for x, y in zip(pa, pb, strict=True):
        assert x.read_bytes() == y.read_bytes(), x.name
    assert not [f for f in os.listdir(a) if f.startswith(".")]  # no temp files left


def test_trace_text_equals_json_indent2() -> None:
    ev = build_events(perf_from_result(sized_run(40))[0], "june")
    assert dump_trace(ev) == json.dumps({"traceEvents": ev}, indent=2, ensure_ascii=False) + "\n"


def test_pipe_lanes_are_separate_and_named(tmp_path: Path) -> None:
    write_run_dir(tiny_run(), tmp_path, pipe_lanes=True)
    ev = json.loads(next(tmp_path.glob("merged_swimlane_*.json")).read_text())["traceEvents"]
    pipes = [e for e in ev if e["pid"] == 5 and e["ph"] == "X"]
    assert pipes and all(e["cat"] == "pipe" for e in pipes)
    assert any(e["name"].startswith("CUBE qk_matmul") for e in pipes)
    names = {e["args"]["name"] for e in ev if e["ph"] == "M" and e["pid"] == 5 and e["name"] == "thread_name"}
    assert "AIC_0 CUBE" in names or any(n.endswith(" CUBE") for n in names)


def test_golden_tiny_merged_trace() -> None:
    """Format golden file: pid/tid numbering, labels, cname, args keys and flow kinds of a tiny run.

    Regenerate with SWIMSIM_REGEN_GOLDEN=1 after an intended format change.
    """
    text = dump_trace(build_events(perf_from_result(tiny_run())[0]))
    path = GOLDEN / "tiny_merged_swimlane.json"
    if os.environ.get("SWIMSIM_REGEN_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_validator_catches_broken_traces() -> None:
    ev = build_events(perf_from_result(tiny_run())[0])
    assert trace_problems({"traceEvents": ev}) == []
    flow = next(i for i, e in enumerate(ev) if e["ph"] == "f")
    assert any("flow id" in p for p in trace_problems({"traceEvents": ev[:flow] + ev[flow + 1:]}))
    meta = next(i for i, e in enumerate(ev) if e["ph"] == "M" and e["name"] == "thread_name")
    assert any("has no thread_name" in p for p in trace_problems({"traceEvents": ev[:meta] + ev[meta + 1:]}))
    x = next(i for i, e in enumerate(ev) if e["ph"] == "X")
    bad = [dict(e) for e in ev]
    bad[x]["dur"] = "1"
    assert trace_problems({"traceEvents": bad}) == [f"traceEvents[{x}]: X event needs a numeric non-negative 'dur'"]
    assert trace_problems([]) == ["top level: expected an object with a 'traceEvents' array"]


def test_later_names_layout_round_trip(tmp_path: Path) -> None:
    run = sized_run(50)
    paths = write_run_dir(run, tmp_path / "later", later_names=True)
    assert paths[0].name == "chip_swimlane_records.json"
    rec = json.loads(paths[0].read_text())
    assert "chip_swimlane_level" in rec and "l2_swimlane_level" not in rec
    assert all("local_at_start" not in p for g in rec["aicpu_scheduler_phases"] for p in g)
    write_run_dir(run, tmp_path / "june")
    a, b = load_path(tmp_path / "later"), load_path(tmp_path / "june")
    assert format_table(a.pd) == format_table(b.pd)
    ev = json.loads(next((tmp_path / "later").glob("merged_swimlane_*.json")).read_text())["traceEvents"]
    assert not any(e["name"].startswith("local_ready_buf") for e in ev)


def test_fast_json_text_equals_stdlib() -> None:
    doc = to_deps_json(sized_run(40).graph)
    assert dumps(doc) == json.dumps(doc, indent=1) + "\n"
    odd = {"a": [1, 2.5, -0.0, 1e300, True, None, "é\n\"x\""], 3: {}, "e": [], "n": {"k": [[1], {}]}}
    for step in (1, 2, 4):
        for asc in (True, False):
            assert Encoder(step, asc).encode(odd) == json.dumps(odd, indent=step, ensure_ascii=asc)


def test_overhead_counters(tmp_path: Path) -> None:
    run = sized_run(60)
    write_run_dir(run, tmp_path, overhead=True)
    obj = json.loads(next(tmp_path.glob("merged_swimlane_*.json")).read_text())
    assert trace_problems(obj, counter_tids=False) == []
    oh = [e for e in obj["traceEvents"] if e.get("cat") == "overhead"]
    names = {e["name"] for e in oh}
    assert names == {"oh_aic_idle", "oh_aic_ready", "oh_aic_overhead", "oh_aiv_idle", "oh_aiv_ready",
                     "oh_aiv_overhead", "oh_all_overhead", "oh_has_overhead"}
    pd = perf_from_result(run)[0]
    n_aic = len({r.core_id for r in pd.rows if r.core_type == "aic"})
    idle = [e["args"]["oh_aic_idle"] for e in oh if e["name"] == "oh_aic_idle"]
    assert idle[-1] == n_aic and 0 <= min(idle) and max(idle) <= n_aic
    for name in names:  # written only when the value changes
        vals = [e["args"][name] for e in oh if e["name"] == name]
        assert all(a != b for a, b in zip(vals, vals[1:], strict=False))
    assert all(e["pid"] == 2 and e["ts"] == round(e["ts"], 3) for e in oh)
    # the default trace has none, and the wall is the same with and without them
    plain = build_events(pd)
    assert not any(e.get("cat") == "overhead" for e in plain)
