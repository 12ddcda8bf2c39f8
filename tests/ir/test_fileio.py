"""Atomic output files: no half-written or stray temp files, and unwritable locations are user errors."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from sim.app.cli import main
from sim.util.errors import UserError
from sim.util.fileio import write_atomic, write_text_atomic


def test_write_replaces_the_file_whole(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "a.txt"
    write_text_atomic(out, "one\n")
    write_text_atomic(out, "two\n")
    assert out.read_text() == "two\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["a.txt"]


def test_unwritable_location_is_a_one_line_user_error(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(UserError) as exc:
        write_text_atomic(blocker / "out.json", "{}")
    assert str(blocker / "out.json") in str(exc.value) and "cannot write" in str(exc.value)
    assert "\n" not in str(exc.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_failing_writer_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    out = tmp_path / "a.txt"
    out.write_text("old")

    def boom(tmp: str) -> None:
        Path(tmp).write_text("half")
        raise RuntimeError("writer failed")

    with pytest.raises(RuntimeError):
        write_atomic(out, boom)
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_cli_reports_an_unwritable_output(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        rc = main(["graph", "qkv_proj_rope:baseline", "--format", "json", "-o", str(blocker / "g.json")])
    assert rc == 2
    assert err.getvalue().count("\n") == 1 and f"{blocker} is a file, not a directory" in err.getvalue()
