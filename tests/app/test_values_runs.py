"""Value mode on pypto-style kernel files (`swimsim run FILE --check-golden`): the task list follows data
computed by earlier tasks (top-k picks, per-row valid lengths, positions), and the computed outputs
match each file's golden."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from conftest import CliRunner

KERNELS = Path(__file__).resolve().parents[1] / "kernels" / "pypto_style"


def _tasks(stdout: str, name: str) -> int:
    """The task count the run's table prints for ``name`` (0 when it has no row)."""
    for line in stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == name:
            return int(parts[1])
    return 0


def _golden_ok(stdout: str, out: Path, outputs: list[str]) -> None:
    for name in outputs:
        assert f"golden check {name}: match" in stdout, stdout
    res = json.loads((out / "golden_check.json").read_text())
    assert res["golden"] == "ran"
    assert [o["output"] for o in res["outputs"]] == outputs
    assert all(o["result"] == "match" for o in res["outputs"])


def _load(name: str) -> dict:
    ns: dict = {}
    exec(compile((KERNELS / f"{name}.py").read_text().split("@pl.jit")[0].replace("import pypto.language as pl", ""),
                 name, "exec"), ns)
    return ns


def test_topk_picks_decide_the_expert_tasks(cli: CliRunner, tmp_path: Path) -> None:
    ns = _load("topk_experts")
    picks = np.argsort(-ns["scores_data"](), axis=1, kind="stable")[:, : ns["TOPK"]]
    distinct = len(np.unique(picks))
    assert distinct < picks.size  # rows share picks: one task per distinct expert, not per pick
    rc, stdout, err = cli(["run", str(KERNELS / "topk_experts.py"), "-o", str(tmp_path), "--check-golden"])
    assert rc == 0, err
    assert _tasks(stdout, "route_topk") == 1
    assert _tasks(stdout, "expert") == distinct
    _golden_ok(stdout, tmp_path, ["sel", "out"])
    rc, stdout, err = cli(["run", str(KERNELS / "topk_experts.py"), "--no-values"])
    assert rc == 0, err
    assert _tasks(stdout, "expert") == 1  # shapes only: the picks are not computed, every read is 0


def test_per_row_valid_lengths_decide_the_masked_tasks(cli: CliRunner, tmp_path: Path) -> None:
    lens = _load("masked_rows")["LENS"]
    rc, stdout, err = cli(["run", str(KERNELS / "masked_rows.py"), "-o", str(tmp_path), "--check-golden"])
    assert rc == 0, err
    assert _tasks(stdout, "masked_sum") == sum(1 for n in lens if n > 0)
    _golden_ok(stdout, tmp_path, ["lens", "sums"])
    records = json.loads((tmp_path / "run_records.json").read_text())
    sums = [t for t in records["graph"]["tasks"] if t["name"] == "masked_sum"]
    assert len(sums) == sum(1 for n in lens if n > 0)


def test_position_guarded_branch_follows_device_positions(cli: CliRunner, tmp_path: Path) -> None:
    ns = _load("position_branch")
    closing = sum(1 for p in ns["START"] if (p + 1) % ns["RATIO"] == ns["RATIO"] - 1)
    assert 0 < closing < len(ns["START"])
    rc, stdout, err = cli(["run", str(KERNELS / "position_branch.py"), "-o", str(tmp_path), "--check-golden"])
    assert rc == 0, err
    assert _tasks(stdout, "compress") == closing
    _golden_ok(stdout, tmp_path, ["new_pos", "pooled"])


def test_golden_mismatch_names_the_first_index(cli: CliRunner, tmp_path: Path) -> None:
    # row_scale's kernel scales only the row tiles its counts name; its golden scales every row
    rc, stdout, _ = cli(["run", str(KERNELS / "row_scale.py"), "-o", str(tmp_path), "--check-golden"])
    assert rc == 1
    assert "golden check y: MISMATCH at [16, 0]: swimsim 0.0 vs golden" in stdout
    res = json.loads((tmp_path / "golden_check.json").read_text())
    assert res["outputs"][0]["index"] == [16, 0]


def test_check_golden_needs_values(cli: CliRunner) -> None:
    rc, _, err = cli(["run", str(KERNELS / "masked_rows.py"), "--check-golden", "--no-values"])
    assert rc == 2 and err.strip().endswith("--check-golden compares computed values: it cannot be combined "
                                            "with --no-values")


def test_golden_that_cannot_run_says_why(cli: CliRunner, tmp_path: Path) -> None:
    src = (KERNELS / "masked_rows.py").read_text()
    src = src.replace('    m = tensors["mask"].numpy()', "    torch.special_function_the_stand_in_lacks(1)\n    m = 0")
    f = tmp_path / "k" / "masked_rows_nogolden.py"
    f.parent.mkdir()
    f.write_text(src)
    rc, stdout, err = cli(["run", str(f), "-o", str(tmp_path / "o"), "--check-golden"])
    assert rc == 0, err
    line = next(x for x in stdout.splitlines() if x.startswith("golden check"))
    assert line.startswith("golden check: cannot run: ") and "special_function_the_stand_in_lacks" in line
    assert _tasks(stdout, "masked_sum") == 4


def test_an_unwritten_element_is_read_as_zero_on_a_second_recording(cli: CliRunner, tmp_path: Path) -> None:
    kernel = str(KERNELS / "unwritten_read.py")
    rc, stdout, err = cli(["run", kernel, "-o", str(tmp_path)])
    assert rc == 0, err
    lines = [x for x in err.splitlines() if x.startswith("swimsim: warning:")]
    assert len(lines) == 1, err
    assert "unwritten_read.py:20" in lines[0] and "element read before any store wrote it" in lines[0]
    assert lines[0].endswith("recorded again with unwritten intermediate elements read as 0")
    assert _tasks(stdout, "fill") == 1 and _tasks(stdout, "positive") == 0  # the element reads 0: not > 0
    rc, stdout, err = cli(["run", kernel, "--check-golden"])  # values were computed: the golden check runs
    assert rc == 1 and "golden check out: MISMATCH" in stdout, stdout + err  # the device would read stale data


def test_a_value_swimsim_does_not_compute_falls_back_to_recording_without_values(monkeypatch) -> None:
    from kernels.dsl.context import ValueNotComputed
    from kernels.pypto_files import loader
    from sim.util.errors import InputWarning

    calls: list[tuple[bool, bool]] = []

    def fake(path, args, seed, entry, with_values, check_golden):  # noqa: ANN001, ANN202
        calls.append((with_values, loader.values.STATE.zero_unwritten))
        if with_values:
            raise ValueNotComputed("k.py:3: pl.read of t[0] needs a value that is not computed: pl.sort at k.py:2 "
                                   "has no value semantics in swimsim")
        return ["recorded"]

    monkeypatch.setattr(loader, "_run_harness", fake)
    with pytest.warns(InputWarning) as told:
        assert loader.run_harness("k.py", []) == ["recorded"]
    assert calls == [(True, False), (False, False)]  # not an unwritten element: no zero-filled second try
    assert len(told) == 1 and str(told[0].message).endswith("recorded without values (data-dependent decisions "
                                                            "take static assumptions, as with --no-values)")
    calls.clear()
    with pytest.raises(ValueNotComputed):  # a golden check needs the values
        loader.run_harness("k.py", [], check_golden=True)
    assert calls == [(True, False)]


def test_an_assembled_orchestration_tensor_is_a_window_of_its_target(cli: CliRunner, tmp_path: Path) -> None:
    rc, stdout, err = cli(["run", str(KERNELS / "tensor_assemble.py"), "-o", str(tmp_path), "--check-golden"])
    assert rc == 0, err
    _golden_ok(stdout, tmp_path, ["y", "s"])
    g = json.loads((tmp_path / "run_records.json").read_text())["graph"]
    names = {t["idx"]: t["name"] for t in g["tasks"]}
    y = next(t["id"] for t in g["tensors"] if t["name"] == "y")
    scale = [t for t in g["tasks"] if t["name"] == "scale"]
    # each scale task writes its row tile of y (no copy task), and total waits for both
    assert [[a["region"]["offset"] for a in t["args"] if a["region"]["tensor"] == y] for t in scale] == [[[0, 0]],
                                                                                                       [[8, 0]]]
    assert sorted(names[e["pred"]] for e in g["edges"] if names[e["succ"]] == "total") == ["scale", "scale"]
    assert set(names.values()) == {"alloc_tensors", "scale", "total"}
