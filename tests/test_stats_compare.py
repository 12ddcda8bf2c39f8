"""`swimsim compare` on run directories: before/after table and markdown."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from traces import run_metrics, write_run_dir
from traces.compare import compare_rows, format_compare, mean_metrics
from traces.synthetic import sized_run, tiny_run


def test_compare_dirs_text_and_md(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write_run_dir(tiny_run(0), a)
    write_run_dir(tiny_run(1), b)
    assert main(["compare", str(a), str(b), "--md"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "| metric | before | after | delta % |"
    ma, mb = run_metrics(tiny_run(0)), run_metrics(tiny_run(1))
    wall = f"| swimlane wall (us) | {ma['swimlane_wall']:.2f} | {mb['swimlane_wall']:.2f} | " \
           f"{(mb['swimlane_wall'] - ma['swimlane_wall']) / ma['swimlane_wall'] * 100:+.1f}% |"
    assert out[2] == wall
    assert any(line.startswith("| softmax Avg Exec (us) |") for line in out)
    assert any(line.startswith("| qk_matmul span (us) |") for line in out)
    assert main(["compare", str(a), str(b)]) == 0
    assert capsys.readouterr().out.splitlines()[0].split() == ["metric", "before", "after", "delta", "%"]


def test_missing_function_and_mean() -> None:
    m1, m2 = run_metrics(tiny_run()), run_metrics(sized_run(30))
    rows = compare_rows(m1, m2)
    assert ("softmax Avg Exec (us)", m1["funcs"]["softmax"]["avg_exec"], None) in rows
    assert " - " in format_compare(m1, m2, md=True)
    avg = mean_metrics([run_metrics(tiny_run(0)), run_metrics(tiny_run(1))])
    assert avg["swimlane_wall"] == pytest.approx((run_metrics(tiny_run(0))["swimlane_wall"]
                                                  + run_metrics(tiny_run(1))["swimlane_wall"]) / 2)
