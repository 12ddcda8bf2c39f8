"""`swimsim run FILE -- ARGS` on a pypto-style kernel file: harness mode, annotation mode, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import CliRunner

KERNEL = Path(__file__).resolve().parents[1] / "kernels" / "pypto_style" / "row_scale.py"


def test_harness_mode_writes_one_run_directory_per_run_jit(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "run"
    rc, stdout, err = cli(["run", str(KERNEL), "-o", str(out), "--", "--enable-l2-swimlane", "--twice"])
    assert rc == 0, err
    assert "level=4" in stdout
    assert "scale_tile                       6      6" in stdout
    assert "scale_tile                       4      4" in stdout
    for d in (out, out / "2"):
        records = json.loads((d / "run_records.json").read_text())
        assert records["graph"]["kernel"] == "row_scale_test"
        # a file kernel cannot be rebuilt by name: its run records keep the op lists
        assert any(b.get("ops") for t in records["graph"]["tasks"] for b in t["blocks"])
    rc, stdout, _ = cli(["run", str(KERNEL), "--level", "2", "--", "--enable-l2-swimlane"])
    assert rc == 0 and "level=2" in stdout


def test_annotation_mode(cli: CliRunner) -> None:
    rc, stdout, err = cli(["run", str(KERNEL), "--entry", "row_scale_test", "--dyn", "T_DYN=128",
                           "--dyn", "B_DYN=2", "--scalar", "scale=0.5"])
    assert rc == 0, err
    assert "sum_tiles                        1      8" in stdout
    assert "scale_tile" not in stdout


def test_errors_are_one_line(cli: CliRunner) -> None:
    rc, _, err = cli(["run", str(KERNEL), "--dyn", "T_DYN=128"])
    assert rc == 2 and err.strip() == ("swimsim: error: --dyn/--scalar record an entry from its annotations: "
                                       "name it with --entry NAME")
    rc, _, err = cli(["run", str(KERNEL), "--entry", "row_scale_test", "--scalar", "scale=1"])
    assert rc == 2 and err.strip().endswith("row_scale_test: parameter x: dynamic dim T_DYN is not bound "
                                            "(give --dyn T_DYN=N)")
    rc, _, err = cli(["run", str(KERNEL), "--entry", "row_scale_test", "--dyn", "T_DYN=64", "--dyn", "B_DYN=1"])
    assert rc == 2 and err.strip().endswith("row_scale_test: parameter scale has no value (give --scalar scale=VALUE)")
    rc, _, err = cli(["run", "qkv_proj_rope", "--", "--x"])
    assert rc == 2 and "are for pypto kernel files" in err
    rc, _, err = cli(["run", str(KERNEL), "--", "--no-such-flag"])
    assert rc == 2 and err.strip().splitlines()[-1] == f"swimsim: error: {KERNEL}: exited with status 2"


def test_a_recording_that_runs_the_machine_out_of_memory_stops_with_one_line(
        cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kernels.dsl import ir_build  # noqa: PLC0415
    from sim.util import memory  # noqa: PLC0415

    monkeypatch.setattr(memory, "_meminfo_mib", lambda: (100.0, 16384.0))  # 100 MiB of 16 GiB left
    monkeypatch.setattr(ir_build.GUARD, "enabled", True)
    monkeypatch.setattr(ir_build.GUARD, "every", 1)
    out = tmp_path / "run"
    rc, _, err = cli(["run", str(KERNEL), "-o", str(out)])
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "memory is nearly used up" in lines[0] and "100 MiB of 16,384 MiB left" in lines[0]
    assert "row_scale.py" in lines[0]
    assert not out.exists() or not any(out.iterdir())


def test_recording_a_file_shows_an_op_counter_on_a_terminal(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture) -> None:
    import io
    import sys

    from kernels.dsl.ir_build import GUARD
    from sim.app.cli import main

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    monkeypatch.setattr(GUARD, "every", 4)  # the file records a few dozen ops: count them in fours
    assert main(["run", str(KERNEL)]) == 0
    shown = term.getvalue()
    assert "recording" in shown and "op" in shown
    assert GUARD.observer is None  # the counter is removed when the recording ends
    # not on a terminal (a pipe, a file): nothing
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert main(["run", str(KERNEL)]) == 0
    assert "recording" not in sys.stderr.getvalue()
    capsys.readouterr()
