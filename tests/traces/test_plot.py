"""`swimsim plot`: a PNG with one row per core that has rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.app.cli import main
from traces import write_run_dir
from traces.synthetic import tiny_run


def test_plot_writes_png(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_run_dir(tiny_run(), tmp_path / "run")
    out = tmp_path / "swimlane.png"
    assert main(["plot", str(tmp_path / "run"), "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert capsys.readouterr().out.strip() == str(out)


def test_plot_bad_dir_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["plot", str(tmp_path), "-o", str(tmp_path / "x.png")]) == 2
    assert str(tmp_path) in capsys.readouterr().err
