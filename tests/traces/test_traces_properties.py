"""Property tests over random synthetic runs: round trip, importer rules, tiling, wall >= Total Test Time."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traces import run_metrics
from traces.critical_path import analyse
from traces.depsjson import parse_deps, to_deps_json
from traces.merged import build_events
from traces.records import dump_records, parse_records
from traces.rundir import perf_from_result
from traces.stats import wall_of_events
from traces.synthetic import sized_run
from traces.trace_writer import dump_trace
from traces.validate import trace_problems


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(10, 90), seed=st.integers(0, 10_000), level=st.integers(1, 4),
       style=st.sampled_from(["pypto", "june"]))
def test_random_runs(n: int, seed: int, level: int, style: str) -> None:
    run = sized_run(n, seed=seed)
    pd, rec, deps, nm = perf_from_result(run, level)
    # records text -> parse gives the same rows (file round trip without touching disk)
    pd2 = parse_records(json.loads(dump_records(rec)), "mem", parse_deps(deps),
                        {int(k): v for k, v in nm["callable_id_to_name"].items()})
    assert [(r.task_id, r.start_t, r.end_t, r.finish_t) for r in pd.rows] == \
        [(r.task_id, r.start_t, r.end_t, r.finish_t) for r in pd2.rows]
    events = build_events(pd, style)
    assert trace_problems(json.loads(dump_trace(events))) == []
    m = run_metrics(run, level)
    if level == 1:  # no dispatch/finish: no Total Test Time
        assert m["total_test_time"] is None
    else:
        assert m["swimlane_wall"] >= m["total_test_time"] - 1e-9
    # the metrics' wall skips formatting the events but must be the wall of the written trace
    assert m["swimlane_wall"] == wall_of_events(build_events(pd))
    assert deps == to_deps_json(run.graph)  # the per-graph memo hands out this graph's deps
    cp = analyse(pd)
    assert cp.tiling_error == 0 and cp.static_len <= cp.makespan


def test_the_metrics_wall_counts_an_arrow_that_reaches_past_every_bar() -> None:
    from traces.merged import FLOW_EPS, events_wall
    from traces.synthetic import tiny_run

    pd = perf_from_result(tiny_run(0), 1)[0]
    producers = {p for p, _ in pd.deps.pairs}
    first = min(range(len(pd.rows)), key=lambda i: pd.rows[i].start)
    assert pd.rows[first].task_id in producers
    # the earliest bar lasts less than the arrow's offset, so the arrow starts before every bar
    r = pd.rows[first]
    r.end = r.start + FLOW_EPS / 4
    events = build_events(pd)
    bars_only = wall_of_events([e for e in events if e.get("cat") != "flow"])
    assert wall_of_events(events) > bars_only
    assert events_wall(pd) == wall_of_events(events)
