"""bench/pypto_lib_history.py: which (commit, file) runs the sweep lists, on a small git repository."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("pypto_lib_history", ROOT / "bench" / "pypto_lib_history.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(repo), "PATH": "/usr/bin:/bin:/usr/local/bin"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def _commit(repo: Path, text: str, subject: str) -> str:
    (repo / "models" / "k.py").write_text(f"X = {text}\nif __name__ == '__main__':\n    pass\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", subject)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "lib"
    (r / "models").mkdir(parents=True)
    _git(r, "init", "-q", "-b", "main")
    return r


def test_history_lists_both_sides_of_a_performance_commit_and_skips_other_subjects(repo: Path) -> None:
    h = _script()
    c0 = _commit(repo, "0", "initial")
    c1 = _commit(repo, "1", "perf: widen tiles")
    _commit(repo, "2", "docs only")
    got = h.pairs(h.git_dir(str(repo)), h.GREP, h.EXCLUDE, None)
    assert got == sorted([(c1, "models/k.py"), (c0, "models/k.py")])


def test_pull_request_commits_off_head_are_listed_once_per_folder_content(repo: Path) -> None:
    h = _script()
    c0 = _commit(repo, "0", "initial")
    c1 = _commit(repo, "1", "perf: widen tiles")
    _git(repo, "checkout", "-q", "-b", "pr", c0)
    p1 = _commit(repo, "5", "perf: step one")  # its parent c0 is already on HEAD's list
    p2 = _commit(repo, "1", "perf: step two")  # the same content as c1: not run again
    p3 = _commit(repo, "7", "fuse loops")
    _git(repo, "update-ref", "refs/pull/1/head", p3)
    _git(repo, "checkout", "-q", "main")
    got = h.pairs(h.git_dir(str(repo)), h.GREP, h.EXCLUDE, None, pull_requests=True)
    assert got == sorted([(p1, "models/k.py"), (p3, "models/k.py")])
    assert (p2, "models/k.py") not in got and (c1, "models/k.py") not in got
