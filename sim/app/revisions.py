"""``FILE@REV`` arguments: a file of a git work tree as it is at revision REV.

The file's folder at REV is written with plain ``git archive`` into a temporary directory (removed on
exit), so the file's siblings (e.g. its ``config.py``) come from the same revision.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sim.util.errors import UserError
from sim.util.fileio import extract_tar


def split_rev(arg: str) -> tuple[str, str] | None:
    """``(FILE, REV)`` of ``FILE@REV`` when FILE names a ``.py`` file, else None."""
    path, at, rev = arg.rpartition("@")
    if not at or not path.endswith(".py") or not rev:
        return None
    return path, rev


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError as exc:
        raise UserError(f"git: {exc.strerror or exc}") from None


def _first_line(proc: subprocess.CompletedProcess[bytes]) -> str:
    text = proc.stderr.decode(errors="replace").strip()
    return text.splitlines()[0] if text else f"git exited with status {proc.returncode}"


@contextmanager
def file_at_revision(path: str, rev: str) -> Iterator[Path]:
    """The path of ``path`` as revision ``rev`` has it, inside a temporary copy of its folder.

    An error raised inside names the copy's files as ``REV:PATH`` (git's notation), e.g.
    ``HEAD~1:kern/k.py:12: NameError: ...``. One-line :class:`UserError` when the folder is not in a
    git work tree, ``rev`` is unknown or the file does not exist at ``rev``."""
    p = Path(path).absolute()
    folder = p.parent
    if not folder.is_dir():
        raise UserError(f"{path}@{rev}: no such folder {folder}")
    top = _git(["rev-parse", "--show-toplevel"], folder)
    if top.returncode != 0:
        raise UserError(f"{path}@{rev}: {folder} is not in a git work tree")
    root = Path(top.stdout.decode().strip())
    rel = p.resolve().relative_to(root.resolve()) if p.exists() else \
        folder.resolve().relative_to(root.resolve()) / p.name
    commit = _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root)
    if commit.returncode != 0:
        raise UserError(f"{path}@{rev}: unknown revision {rev!r} in {root}")
    sha = commit.stdout.decode().strip()
    if _git(["cat-file", "-e", f"{sha}:{rel.as_posix()}"], root).returncode != 0:
        raise UserError(f"{path}@{rev}: {rel.as_posix()} does not exist at {rev} ({sha[:12]})")
    tmp = Path(tempfile.mkdtemp(prefix="swimsim-rev-"))
    try:
        reldir = rel.parent.as_posix()
        archive = tmp / "folder.tar"
        args = ["archive", "--format=tar", "-o", str(archive), sha]
        proc = _git([*args, "--", reldir] if reldir != "." else args, root)
        if proc.returncode != 0:
            raise UserError(f"{path}@{rev}: git archive: {_first_line(proc)}")
        tree = tmp / "tree"
        with tarfile.open(archive) as tar:
            extract_tar(tar, tree)
        archive.unlink()
        try:
            yield tree / rel
        except UserError as exc:
            raise UserError(str(exc).replace(f"{tree}{os.sep}", f"{rev}:")) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
