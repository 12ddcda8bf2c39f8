"""`swimsim overhead`: the scheduler-overhead report (simpler's
``simpler_setup/tools/sched_overhead_analysis.py``) on synthetic and simulated runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from sim.app.cli import main
from traces import write_run_dir
from traces.overhead import analyse_overhead, head_oh, percentile
from traces.perf import TICK_BASE
from traces.records import parse_records
from traces.rundir import load_path
from traces.synthetic import sized_run, tiny_run

TITLES = ("Overhead verdict", "AICore switch", "Head OH distribution", "Tail OH distribution",
          "Scheduler loop", "Critical-path attribution")


def _integrate_tracks(trace: Path) -> dict[str, float]:
    """Independent reading of the merged trace: time-weighted mean of each oh_*_overhead track over
    [min start, max end] of the Worker View kernel bars."""
    ev = json.loads(trace.read_text())["traceEvents"]
    bars = [e for e in ev if e.get("ph") == "X" and e.get("pid") == 4 and e.get("tid", 0) < 19000
            and e.get("name") != "setup"]
    lo = min(e["ts"] for e in bars)
    hi = max(e["ts"] + e["dur"] for e in bars)
    tracks: dict[str, list[tuple[float, int]]] = {}
    for e in ev:
        if e.get("ph") == "C" and e.get("cat") == "overhead" and e["name"].endswith("_overhead"):
            tracks.setdefault(e["name"], []).append((e["ts"], e["args"][e["name"]]))
    out = {}
    for name, pts in tracks.items():
        times = [max(lo, t) for t, _ in pts] + [hi]
        out[name] = sum(v * (times[i + 1] - times[i]) for i, (_, v) in enumerate(pts)) / (hi - lo)
    return out


def _check_report(d: Path, out: str) -> str:
    text = (d / "sched_overhead_report.md").read_text()
    for i, t in enumerate(TITLES, 1):
        assert f"## Part {i}: {t}" in text
        assert f"Part {i}: {t}" in out
    pcts = [float(x) for x in re.findall(r"(-?\d+(?:\.\d+)?)%", text)]
    assert pcts and all(0.0 <= p <= 100.0 for p in pcts)
    return text


def _check_tracks(d: Path, text: str) -> None:
    trace = next(d.glob("merged_swimlane_*.json"))
    want = _integrate_tracks(trace)
    assert {"oh_aic_overhead", "oh_aiv_overhead", "oh_all_overhead", "oh_has_overhead"} <= set(want)
    rep = analyse_overhead(load_path(d).pd)
    for name, v in want.items():
        assert rep.shares[name] == pytest.approx(100.0 * v, abs=1e-6)
        assert f"| {name} | {100.0 * v:.1f}% |" in text


@pytest.mark.parametrize("make", [tiny_run, lambda: sized_run(120)])
def test_synthetic_full_report(tmp_path: Path, make, capsys) -> None:
    write_run_dir(make(), tmp_path, overhead=True)
    assert main(["overhead", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    text = _check_report(tmp_path, out)
    assert "PARTIAL" not in text and "not available" not in text
    _check_tracks(tmp_path, text)
    assert "Avg Tail OH ≈" in text and "pop hit-rate:" in text


def test_real_run_report_and_md(tmp_path: Path, capsys) -> None:
    d = tmp_path / "qkv"
    assert main(["run", "qkv_proj_rope:baseline", "-o", str(d), "--overhead"]) == 0
    capsys.readouterr()
    assert main(["overhead", str(d), "--md"]) == 0
    out = capsys.readouterr().out
    text = _check_report(d, out)
    assert out == text  # --md prints exactly the file written
    _check_tracks(d, text)
    rep = analyse_overhead(load_path(d).pd)
    qs = [percentile(rep.head, p) for p in (10, 25, 50, 75, 90, 95, 99)]
    assert qs == sorted(qs) and min(rep.head) >= 0.0
    assert len(rep.tail) == len(rep.head) > 0
    first = d.joinpath("sched_overhead_report.md").read_bytes()
    assert main(["overhead", str(d)]) == 0  # deterministic
    assert d.joinpath("sched_overhead_report.md").read_bytes() == first


def test_level1_partial_report(tmp_path: Path, capsys) -> None:
    write_run_dir(tiny_run(), tmp_path, level=1)
    assert main(["overhead", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    text = _check_report(tmp_path, out)
    assert "PARTIAL REPORT: level 1 records" in text
    for i in range(1, 5):
        part = text.split(f"## Part {i}:")[1].split("## Part")[0]
        assert "not available at level 1" in part
    assert "needs scheduler phase records (level >= 3)" in text
    part6 = text.split("## Part 6:")[1]
    assert "not available" not in part6 and "compute (kernel time on the path)" in part6


def test_no_deps_partial(tmp_path: Path, capsys) -> None:
    write_run_dir(tiny_run(), tmp_path)
    (tmp_path / "deps.json").unlink()
    assert main(["overhead", str(tmp_path)]) == 0
    text = _check_report(tmp_path, capsys.readouterr().out)
    assert "PARTIAL REPORT: no deps.json" in text
    assert "needs deps.json (the happens-before DAG)" in text


def test_missing_dir_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["overhead", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("swimsim: error:") and err.count("\n") == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["overhead", str(empty)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_percentile_matches_numpy() -> None:
    xs = [3.0, 0.5, 7.25, 1.0, 1.0, 9.5, 2.0]
    for p in (0, 10, 25, 50, 90, 99, 100):
        assert percentile(xs, p) == pytest.approx(float(np.percentile(xs, p)))
    assert percentile([], 50) == 0.0


def test_head_oh_uses_previous_end_and_clamps() -> None:
    b = TICK_BASE
    meta = {"clock_freq_hz": 50_000_000, "num_cores": 2, "core_types": ["aic", "aic"]}
    # core 0: A dispatched at 50, runs 100..500; B dispatched at 400 (before A ends), starts 520.
    # core 1: C dispatched at 300 but its start stamp is 290 (clock skew) -> clamped to 0.
    rec = {"l2_swimlane_level": 2, "metadata": meta,
           "aicore_tasks": [[0, 1, 1, b + 100, b + 500, 0], [0, 2, 2, b + 520, b + 900, 0],
                            [1, 3, 1, b + 290, b + 400, 0]],
           "aicpu_tasks": [[0, 1, b + 50, b + 520], [0, 2, b + 400, b + 950], [1, 1, b + 300, b + 420]]}
    pd = parse_records(rec, "x")
    got = sorted(round(h, 6) for h in head_oh(pd))
    assert got == [0.0, 0.4, 1.0]  # C clamped; B = start - prev_end (20 ticks); A = start - dispatch (50 ticks)


def test_trace_only_dir_and_loop_figures(tmp_path: Path, capsys) -> None:
    full = tmp_path / "full"
    write_run_dir(sized_run(120), full)
    rec = json.loads((full / "l2_swimlane_records.json").read_text())
    disp = [p for g in rec["aicpu_scheduler_phases"] for p in g if p["kind"] == "dispatch"]
    hit, miss = sum(p["pop_hit"] for p in disp), sum(p["pop_miss"] for p in disp)
    assert main(["overhead", str(full)]) == 0
    text = capsys.readouterr().out
    assert f"pop hit-rate: {hit}/{hit + miss} =" in text
    loops = sum(max(p["loop_iter"] for p in g) - min(p["loop_iter"] for p in g) + 1
                for g in rec["aicpu_scheduler_phases"] if g)
    assert f"all threads: {loops} loops" in text
    only = tmp_path / "trace_only"
    only.mkdir()
    src = next(full.glob("merged_swimlane_*.json"))
    (only / src.name).write_text(src.read_text())
    assert main(["overhead", str(only)]) == 0
    text = _check_report(only, capsys.readouterr().out)
    assert "PARTIAL REPORT: no scheduler phase records; no deps.json" in text
    assert "the input holds no scheduler phase records" in text
