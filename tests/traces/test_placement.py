"""`swimsim placement`: first-use cores, rows per thread, and the Avg Exec split between them."""

from __future__ import annotations

from pathlib import Path

import pytest

import hwmodels
from kernels.registry import build_graph
from sim.app.cli import main
from sim.engine import RunOptions, simulate
from traces import write_run_dir
from traces.compare import mean_metrics
from traces.perf import PerfData, Row
from traces.placement import format_placement, placement
from traces.rundir import load_path, perf_from_result
from traces.stats import func_stats, metrics


def _pd(rows: list[Row], threads: list[int]) -> PerfData:
    return PerfData(level=4 if threads else 1, clock_hz=50_000_000, core_types=["aiv"] * 3,
                    core_to_thread=threads, rows=rows, sched=[], orch=[], base_tick=0,
                    names={1: "a", 2: "b"})


def _row(func: int, core: int, start: float, end: float, task: int = 0) -> Row:
    return Row(task_id=task, func_id=func, core_id=core, core_type="aiv", start=start, end=end)


def test_first_use_split_threads_and_excess() -> None:
    """Core 0 and 1 first run `a`; `b` reuses them and first uses core 2. Hand-computed figures."""
    rows = [_row(1, 0, 0.0, 10.0), _row(1, 1, 1.0, 13.0), _row(2, 0, 20.0, 24.0, 1), _row(2, 1, 20.0, 26.0, 1),
            _row(2, 2, 21.0, 30.0, 1)]
    cap = placement(_pd(rows, [0, 1, 1]), "x")
    a, b = cap.funcs
    assert (a.name, a.rows, a.first_use, a.reused, a.excess) == ("a", 2, [10.0, 12.0], [], None)
    assert (b.name, b.first_use, sorted(b.reused)) == ("b", [9.0], [4.0, 6.0])
    assert b.excess == pytest.approx(9.0 - 5.0)
    assert b.per_thread == {0: 1, 1: 2} and a.per_thread == {0: 1, 1: 1}
    assert cap.cores_used == {"aiv": 3} and cap.has_threads
    text = format_placement([cap, placement(_pd(rows, []), "y")], ["b"])
    lines = text.splitlines()
    assert [ln.split()[0] for ln in lines[2:5]] == ["x", "y", "all"]  # one row per capture, then pooled
    assert lines[4].split()[:4] == ["all", "2", "b", "6"]  # pooled rows of both captures
    assert "T0 1 / T1 2" in lines[2] and "y: cores with rows AIV 3; no core_to_thread" in text


def test_sim_capture_first_use_rows_are_the_models_cold_rows(tmp_path: Path) -> None:
    """On a simulated standalone run, the capture-only first-use split finds exactly the rows the
    model charged a cold-core extra, and its Avg Exec agrees with the converter's table."""
    chip = hwmodels.load_chip("910C-calibrated")
    res = simulate(build_graph("qkv_proj_rope:baseline", "decode"), chip, RunOptions(seed=0, jitter=0.03))
    write_run_dir(res, tmp_path)
    pd = load_path(tmp_path).pd
    q = next(f for f in placement(pd, "sim").funcs if f.name == "q_head_rms_nope_rope")
    cold = [s for s in res.subtasks if s.func == "q_head_rms_nope_rope" and s.on_cold_core]
    assert len(q.first_use) == len(cold) > 0
    assert q.excess is not None and q.excess > 10.0  # the fitted warm-up is ~19 µs less the head wait
    stats = next(f for f in func_stats(pd) if f.name == "q_head_rms_nope_rope")
    assert q.avg_exec == pytest.approx(stats.exec_sum / stats.count, abs=1e-9)
    # the run metrics (what reproduce and calibrate compare) carry the same split
    m = metrics(pd, 0.0)["funcs"]["q_head_rms_nope_rope"]
    assert (m["avg_exec_reused"], m["avg_exec_first_use"]) == (q.avg_reused, q.avg_first_use)
    assert sum(q.per_thread.values()) == q.rows == 32


def test_metrics_split_is_none_without_such_rows_and_the_run_mean_skips_it() -> None:
    rows = [_row(1, 0, 0.0, 10.0), _row(1, 1, 1.0, 13.0), _row(2, 0, 20.0, 24.0, 1)]
    fa = metrics(_pd(rows, []), 30.0)["funcs"]
    assert (fa["a"]["avg_exec_first_use"], fa["a"]["avg_exec_reused"]) == (11.0, None)
    assert (fa["b"]["avg_exec_first_use"], fa["b"]["avg_exec_reused"]) == (None, 4.0)
    other = metrics(_pd([_row(1, 0, 0.0, 8.0), _row(1, 0, 9.0, 15.0, 1)], []), 15.0)
    assert other["funcs"]["a"]["avg_exec_reused"] == 6.0
    mean = mean_metrics([metrics(_pd(rows, []), 30.0), other])
    assert mean["funcs"]["a"]["avg_exec_reused"] == 6.0  # the run without reused rows does not count
    assert mean["funcs"]["a"]["avg_exec_first_use"] == pytest.approx((11.0 + 8.0) / 2)


def test_no_cold_model_no_first_use_excess() -> None:
    """With the cold first-kernel extra switched off, rows on first-use cores cost what reused ones do."""
    chip = hwmodels.load_chip("910C-calibrated", overrides=["core.first_kernel_extra_per_load_ns=0"])
    res = simulate(build_graph("qkv_proj_rope:baseline", "decode"), chip, RunOptions(seed=0, jitter=0.03))
    q = next(f for f in placement(perf_from_result(res)[0], "sim").funcs if f.name == "q_head_rms_nope_rope")
    assert q.first_use and q.reused
    assert abs(q.excess or 0.0) < 1.0


def test_cli_table_pooling_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", "qkv_proj_rope:precompute", "-o", str(a)]) == 0
    assert main(["run", "qkv_proj_rope:precompute", "--seed", "1", "--level", "1", "-o", str(b)]) == 0
    capsys.readouterr()
    assert main(["placement", str(a), str(b), "--func", "q_rope_cs", "--md"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("| capture | function | rows | rows per thread |")
    body = out[2:5]
    assert [ln.split(" | ")[1] for ln in body] == ["q_rope_cs"] * 3
    assert body[2].startswith("| all 2 | q_rope_cs | 2 |")
    assert "no core_to_thread" in "\n".join(out) and out[-1].startswith("first-use = ")
    trace = next(a.glob("merged_swimlane_*.json"))
    assert main(["placement", str(trace), "--func", "q_head_rms_nope_rope", "--md"]) == 0
    from_trace = capsys.readouterr().out.splitlines()[2].split(" | ")[2:]
    assert main(["placement", str(a), "--func", "q_head_rms_nope_rope", "--md"]) == 0
    from_dir = capsys.readouterr().out.splitlines()[2].split(" | ")[2:]
    assert from_trace[0] == from_dir[0] == "32" and from_trace[1] == "-" != from_dir[1]  # no threads in a trace
    assert from_trace[2:] == from_dir[2:]  # first-use split and Avg Exec agree with the records
    assert main(["placement", str(a), "--func", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("swimsim: error: --func nope: no such function in")
    assert main(["placement", str(tmp_path / "missing")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_plot_is_a_deterministic_png(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    d = tmp_path / "run"
    write_run_dir(simulate(build_graph("qkv_proj_rope:baseline", "decode"), hwmodels.load_chip("910C-calibrated"),
                           RunOptions(seed=0)), d)
    pngs = []
    for name in ("one.png", "two.png"):
        assert main(["placement", str(d), "--plot", str(tmp_path / name)]) == 0
        assert capsys.readouterr().err.rstrip().endswith(f"wrote {tmp_path / name}")
        pngs.append((tmp_path / name).read_bytes())
    assert pngs[0][:8] == b"\x89PNG\r\n\x1a\n" and pngs[0] == pngs[1]
