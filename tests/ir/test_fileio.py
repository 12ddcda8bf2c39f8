"""Atomic output files: no half-written or stray temp files, and unwritable locations are user errors."""

from __future__ import annotations

import contextlib
import io
import tarfile
from pathlib import Path

import pytest

from sim.app.cli import main
from sim.util.errors import UserError
from sim.util.fileio import extract_tar, write_atomic, write_text_atomic


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


def _tar_with(tmp_path: Path, members: dict[str, bytes], link: str | None = None) -> Path:
    path = tmp_path / "a.tar"
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if link is not None:
            info = tarfile.TarInfo("models/link")
            info.type = tarfile.SYMTYPE
            info.linkname = link
            tar.addfile(info)
    return path


@pytest.mark.parametrize("has_filter", [True, False])
def test_extract_tar_writes_the_archive_and_nothing_outside_the_destination(tmp_path: Path, has_filter: bool,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    if not has_filter:  # a Python 3.11 release before 3.11.4: tarfile has no extraction filters
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    elif not hasattr(tarfile, "data_filter"):
        pytest.skip("this Python has no tarfile extraction filters")
    path = _tar_with(tmp_path, {"models/k.py": b"X = 1\n"})
    dest = tmp_path / "out"
    with tarfile.open(path) as tar:
        extract_tar(tar, dest)
    assert (dest / "models" / "k.py").read_bytes() == b"X = 1\n"
    bad = _tar_with(tmp_path, {"../evil.py": b"boom\n"}, link="/etc/passwd")
    with tarfile.open(bad) as tar, contextlib.suppress(tarfile.TarError):  # the data filter refuses; 3.11.0-3 skips
        extract_tar(tar, tmp_path / "out2")
    assert not (tmp_path / "evil.py").exists()
    assert not (tmp_path / "out2" / "models" / "link").is_symlink()
