"""`swimsim run` end to end: output files, per-task table, error handling."""

from __future__ import annotations

import json

import pytest

from sim.app.cli import main
from sim.ir.records import RunResult


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    out = tmp_path_factory.mktemp("run")
    return out, main(["run", "qkv_proj_rope:baseline", "--mode", "decode", "-o", str(out)])


def test_run_writes_records_and_prints_table(run_dir: tuple, capsys: pytest.CaptureFixture) -> None:
    out, rc = run_dir
    assert rc == 0
    r = RunResult.model_validate_json((out / "run_records.json").read_text())
    assert r.graph.kernel == "qkv_proj_rope"
    assert r.subtasks and r.phases and r.submits
    blocks = {(t.idx, b) for t in r.graph.kernel_tasks() for b in range(t.block_num)}
    assert {(s.task, s.block) for s in r.subtasks} == blocks  # every block ran
    for s in r.subtasks:
        assert s.dispatch <= s.receive <= s.start <= s.end <= s.finish
    # the trace writer (when present) produced the swimlane records next to ours
    rec = out / "l2_swimlane_records.json"
    if rec.exists():
        assert json.loads(rec.read_text())["l2_swimlane_level"] == 4


def test_run_is_deterministic(tmp_path, run_dir: tuple) -> None:  # noqa: ANN001
    out, _ = run_dir
    assert main(["run", "qkv_proj_rope:baseline", "--mode", "decode", "-o", str(tmp_path)]) == 0
    assert (tmp_path / "run_records.json").read_bytes() == (out / "run_records.json").read_bytes()


@pytest.mark.parametrize("args, needle", [
    (["--set", "soc.clusters=0"], "clusters"),
    (["--set", "runtime.no_such_field=1"], "no_such_field"),
    (["--l2", "cold", "--chip", "nonexistent"], "nonexistent"),
])
def test_bad_input_is_one_line_error(args: list[str], needle: str, capsys: pytest.CaptureFixture) -> None:
    rc = main(["run", "qkv_proj_rope", *args])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("swimsim: error:") and err.count("\n") == 1
    assert needle in err


def test_unknown_kernel(capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "no_such_kernel"]) == 2
    assert "no_such_kernel" in capsys.readouterr().err


def test_run_launch_repeat_has_no_cold_first_kernel(run_dir: tuple, tmp_path) -> None:  # noqa: ANN001
    """`--launch repeat` (a timing loop's later round) runs every core's first kernel warm."""
    out, _ = run_dir
    first = RunResult.model_validate_json((out / "run_records.json").read_text())
    assert any("cold_core" in s.breakdown for s in first.subtasks)
    assert main(["run", "qkv_proj_rope:baseline", "--mode", "decode", "--launch", "repeat", "-o", str(tmp_path)]) == 0
    repeat = RunResult.model_validate_json((tmp_path / "run_records.json").read_text())
    assert not any("cold_core" in s.breakdown for s in repeat.subtasks)
    assert max(s.finish for s in repeat.subtasks) < max(s.finish for s in first.subtasks)


def test_the_printed_table_has_a_row_for_each_kernel_of_a_mix_task(capsys: pytest.CaptureFixture) -> None:
    # the HCA layer's hc_pre is one MIX task: its AIC and AIV kernels are two functions, as in stats.txt
    assert main(["run", "decode_attention_hca:baseline", "--level", "1"]) == 0
    rows = {line.split()[0]: line.split()[1:3] for line in capsys.readouterr().out.splitlines()[2:]
            if line and not line.startswith("Total")}
    assert "hc_pre" not in rows
    assert rows["hc_pre_aic"] == ["1", "1"] and rows["hc_pre_aiv"] == ["1", "1"]
    assert rows["hca_rope"] == ["1", "1"]  # a single-kernel task keeps its own name
