"""Critical path (simpler simpler_setup/tools/critical_path.py) on a hand-built capture with known answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.app.cli import main
from traces import write_run_dir
from traces.critical_path import analyse, family, mark_path, report_md, summary_line
from traces.depsjson import parse_deps
from traces.perf import TICK_BASE as B
from traces.records import parse_records
from traces.rundir import perf_from_result
from traces.synthetic import sized_run

T = [(1 << 32) | i for i in range(5)]


def _capture() -> tuple[dict, dict, dict]:
    """A(core 0) -> B(core 1), A -> D(core 2); C runs on core 1 right after B without a dependency."""
    meta = {"clock_freq_hz": 50_000_000, "num_cores": 72, "core_types": ["aic"] * 24 + ["aiv"] * 48}
    aicore = [[0, T[1], 1, B + 100, B + 500, 0], [1, T[2], 1, B + 600, B + 1000, 0],
              [1, T[3], 2, B + 1001, B + 1500, 0], [2, T[4], 1, B + 520, B + 700, 0]]
    rec = {"l2_swimlane_level": 1, "metadata": meta, "aicore_tasks": aicore, "aicpu_tasks": []}
    deps = {"tasks": [{"task_id": str(t), "kernel_ids": [i, -1, -1], "block_num": 1} for i, t in enumerate(T[1:])],
            "edges": [{"pred": str(T[0]), "succ": str(T[1]), "source": "creator", "arg": 0},
                      {"pred": str(T[1]), "succ": str(T[2]), "source": "tensormap", "arg": 0},
                      {"pred": str(T[1]), "succ": str(T[4]), "source": "tensormap", "arg": 0}]}
    names = {"callable_id_to_name": {"0": "a_kernel_aic", "1": "b_kernel_3", "2": "c", "3": "d"}}
    return rec, deps, names


def _pd():
    rec, deps, names = _capture()
    return parse_records(rec, "x", parse_deps(deps), {int(k): v for k, v in names["callable_id_to_name"].items()})


def test_known_paths_and_blame() -> None:
    cp = analyse(_pd())
    assert cp.makespan == 1400 and cp.n_tasks == 4 and cp.n_edges == 2
    assert cp.static_path == [T[1], T[2]] and cp.static_len == 800
    assert [s.task for s in cp.observed] == [T[1], T[2], T[3]]
    assert [s.kind for s in cp.observed] == ["front-gap", "data-wait", "core-wait"]
    assert [(s.compute, s.stall) for s in cp.observed] == [(400, 0), (400, 100), (499, 1)]
    assert cp.tiling_error == 0
    assert cp.stall_by_kind() == {"data-wait": 100, "core-wait": 1, "front-gap": 0}


def test_core_wait_needs_tolerance() -> None:
    cp = analyse(_pd(), tol=0)  # C starts 1 tick after B ends: still a same-core predecessor (end <= start)
    assert cp.observed[-1].kind == "core-wait"
    rec, deps, names = _capture()
    rec["aicore_tasks"][2][3] = B + 990  # C starts before B ends: B is no longer a core predecessor
    pd = parse_records(rec, "x", parse_deps(deps), {})
    cp = analyse(pd)
    assert [s.task for s in cp.observed] == [T[3]] and cp.observed[0].kind == "front-gap"
    assert cp.tiling_error == 0


def test_report_tables_and_summary() -> None:
    cp = analyse(_pd())
    md = report_md(cp, "run1")
    assert "| kernel family | compute µs | % makespan | stall µs | # on path |" in md
    assert "- **makespan**: 28.00 µs (1400 ticks)" in md
    assert "| # | kernel | task µs | compute µs (%mk) | stall µs (%mk) | stall kind |" in md
    assert "Observed critical path — all 3 tasks" in md and "tiling check: exact" in md
    assert "| 2 | b_kernel_3(r1t2) | 8.00 | 8.00 (28.6%) | 2.00 (7.1%) | data-wait |" in md
    assert "| 1 | a_kernel_aic(r1t1) | 8.00 | 8.00 (28.6%) | 0.00 (0.0%) |  |" in md
    line = summary_line(cp, "run1")
    assert line == ("[run1] makespan=28.00 us CPM=16.00 us (57.1%) compute=92.8% stall=7.2% "
                    "(data-wait 7.1%, core-wait 0.1%, front-gap 0.0%)")
    assert " ms" not in md and "ms " not in line
    assert family("a_kernel_aic") == "a_kernel" and family("b_kernel_3") == "b_kernel" and family("x_2_aiv") == "x"


def test_tiling_exact_on_synthetic_runs() -> None:
    for seed in range(3):
        cp = analyse(perf_from_result(sized_run(150, seed=seed))[0])
        assert cp.tiling_error == 0
        assert cp.static_len <= cp.makespan


def test_mark_path_renames_off_path_bars() -> None:
    ev = [{"ph": "X", "pid": 4, "name": "b(r1t2)", "args": {"taskId": T[2]}},
          {"ph": "X", "pid": 4, "name": "c(r1t3)", "args": {"taskId": T[3]}}]
    out = mark_path(ev, {T[2]})
    assert [e["name"] for e in out] == ["b(r1t2)", "·(r1t3)"]


def test_cli_writes_report(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_run_dir(sized_run(60), tmp_path)
    assert main(["critical-path", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"[{tmp_path.name}] makespan=") and out.count("\n") == 1
    assert (tmp_path / "critical_path_report.md").read_text().startswith("# Critical path")
    for f in ("CPM_static.json", "CPM_observed.json"):
        obj = json.loads((tmp_path / f).read_text())
        assert any(e["name"].startswith("·(") for e in obj["traceEvents"])
    assert main(["critical-path", str(tmp_path), "--md"]) == 0
    assert "## Observed critical path" in capsys.readouterr().out
