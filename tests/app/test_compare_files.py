"""`swimsim compare` on pypto kernel files: two files, and FILE@REV sides taken from a git repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sim.app.cli import main
from sim.app.revisions import split_rev

STYLE = Path(__file__).resolve().parents[1] / "kernels" / "pypto_style"
EXTRA_SCOPE = ('    with pl.at(level=pl.Level.CORE_GROUP, name_hint="bias_tile"):\n'
               '        y[0:ROW_TILE, :] = pl.mul(x[0:ROW_TILE, :], scale)\n'
               '    return y\n')


def _changed(folder: Path) -> None:
    """The second version: one more scale tile in the config and an extra scope in the kernel."""
    k = folder / "k.py"
    k.write_text(k.read_text().replace("    return y\n", EXTRA_SCOPE, 1))
    c = folder / "config.py"
    c.write_text(c.read_text().replace("[1, 3, 0, 2]", "[2, 3, 0, 2]"))


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
                    *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    (r / "kern").mkdir(parents=True)
    shutil.copy(STYLE / "row_scale.py", r / "kern" / "k.py")
    shutil.copy(STYLE / "config.py", r / "kern" / "config.py")
    _git(r, "init", "-q")
    _git(r, "add", ".")
    _git(r, "commit", "-q", "-m", "one")
    _changed(r / "kern")
    _git(r, "commit", "-q", "-am", "two")
    return r


def _rows(out: str) -> dict[str, list[str]]:
    return {line.rsplit(None, 3)[0]: line.rsplit(None, 3)[1:] for line in out.splitlines()
            if line.count("  ") and not line.startswith(("-", "metric", " "))}


def test_compare_revisions(repo: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "kern")
    assert main(["compare", "k.py@HEAD~1", "k.py@HEAD", "--", "--batch", "4"]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    assert rows["scale_tile tasks"] == ["6", "7", "+1"]
    assert rows["bias_tile tasks"] == ["-", "1", "added"]
    assert rows["bias_tile Avg Exec (us)"][0] == "-" and rows["bias_tile Avg Exec (us)"][2] == "added"
    wall = rows["swimlane wall (us)"]
    assert float(wall[1]) > float(wall[0]) and wall[2].startswith("+")
    assert "  bias_tile: added (1 task)" in out
    assert "  scale_tile: 6 -> 7 tasks (+1)" in out
    assert not list(Path("/tmp").glob("swimsim-rev-*/tree/kern/k.py"))  # the copies are removed


def test_compare_two_files_and_level(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        shutil.copy(STYLE / "row_scale.py", d / "k.py")
        shutil.copy(STYLE / "config.py", d / "config.py")
    _changed(b)
    assert main(["compare", str(a / "k.py"), str(b / "k.py"), "--md", "--level", "1"]) == 0
    out = capsys.readouterr().out
    assert "| bias_tile tasks | - | 1 | added |" in out
    assert out.endswith("tasks added/removed per function:\n"
                        "- scale_tile: 6 -> 7 tasks (+1)\n- bias_tile: added (1 task)\n")
    assert "| Total Test Time (us) | n/a (level 1) | n/a (level 1) | - |" in out
    assert main(["compare", str(b / "k.py"), str(a / "k.py"), "--entry", "row_scale_test"]) == 0
    out = capsys.readouterr().out
    assert "  bias_tile: removed (1 task)" in out
    assert _rows(out)["bias_tile tasks"] == ["1", "-", "removed"]


@pytest.mark.parametrize(("side", "msg"), [
    ("k.py@nosuchrev", "unknown revision 'nosuchrev'"),
    ("gone.py@HEAD", "kern/gone.py does not exist at HEAD"),
])
def test_bad_revision_is_one_line(repo: Path, side: str, msg: str, capsys: pytest.CaptureFixture,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "kern")
    assert main(["compare", "k.py@HEAD", side]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and msg in err


def test_not_a_git_work_tree(tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    shutil.copy(STYLE / "row_scale.py", tmp_path / "k.py")
    assert main(["compare", str(tmp_path / "k.py@HEAD"), str(tmp_path / "k.py")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "is not in a git work tree" in err


def test_split_rev() -> None:
    assert split_rev("a/k.py@HEAD~1") == ("a/k.py", "HEAD~1")
    assert split_rev("k.py@v1@x") is None  # only FILE.py@REV
    assert split_rev("qkv_proj_rope:baseline") is None
    assert split_rev("k.py@") is None


def test_run_directory_task_counts_match_the_simulated_run(tmp_path: Path) -> None:
    from traces import write_run_dir
    from traces.compare import metrics_of_path, metrics_of_result, task_changes
    from traces.synthetic import tiny_run

    run = tiny_run(0)
    write_run_dir(run, tmp_path / "d")
    m = metrics_of_path(tmp_path / "d")
    assert m["tasks"] == metrics_of_result(run)["tasks"]
    assert set(m["tasks"]) == set(m["funcs"])  # a mixed task's halves are counted as their functions
    other = {**m, "tasks": dict(m["tasks"])}
    first = next(iter(m["tasks"]))
    other["tasks"][first] += 2
    assert task_changes(m, other) == [f"{first}: {m['tasks'][first]} -> {m['tasks'][first] + 2} tasks (+2)"]


def test_error_in_a_revision_names_rev_and_path(repo: Path, capsys: pytest.CaptureFixture,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    k = repo / "kern" / "k.py"
    k.write_text(k.read_text().replace("    return y\n", "    undefined_name()\n    return y\n", 1))
    _git(repo, "commit", "-q", "-am", "three")
    monkeypatch.chdir(repo / "kern")
    assert main(["compare", "k.py@HEAD~1", "k.py@HEAD"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "HEAD:kern/k.py:" in err and "undefined_name" in err
    assert "swimsim-rev-" not in err


def test_compare_shows_a_recording_counter_per_file_side_on_a_terminal(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture) -> None:
    import io
    import sys

    from kernels.dsl.ir_build import GUARD

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        shutil.copy(STYLE / "row_scale.py", tmp_path / d / "k.py")
        shutil.copy(STYLE / "config.py", tmp_path / d / "config.py")
    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    monkeypatch.setattr(GUARD, "every", 4)
    assert main(["compare", str(tmp_path / "a" / "k.py"), str(tmp_path / "b" / "k.py")]) == 0
    assert term.getvalue().count("recording k.py") >= 2  # one counter per side
    assert GUARD.observer is None
    capsys.readouterr()
