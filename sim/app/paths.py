"""Command-line paths: telling a missing path from a kernel name, checking output paths, and the
one line that names the files a command wrote.

Rules every command follows:

* An argument that looks like a path (it contains a path separator, ends in ``.json``, ``.txt``
  or ``.py``, or exists) and does not exist is reported as ``PATH: no such file or directory``,
  not as an unknown kernel.
* An output FILE (``-o FILE``, ``--plot FILE``) that exists is overwritten; an output DIR is created
  when missing. A path of the wrong kind (a directory where a file is expected, a file where a
  directory is expected, or a file on the way to either) is refused with one line.
* A command that writes files ends with one line ``wrote PATH, PATH, ...`` (on stderr when stdout
  carries the command's table or report; ``plot`` prints the bare path of its PNG).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from sim.util.errors import UserError

PATH_SUFFIXES = (".json", ".txt", ".py", ".toml", ".png", ".md")


def looks_like_path(arg: str) -> bool:
    """True when ``arg`` is meant as a file or directory rather than a kernel name: it contains a
    path separator, ends in a file suffix (a kernel file ``k.py[:VARIANT]`` too), or exists."""
    if os.path.exists(arg):
        return True
    head = arg.partition(":")[0]
    return "/" in arg or os.sep in arg or arg.endswith(PATH_SUFFIXES) or head.endswith(PATH_SUFFIXES)


def check_exists(arg: str | Path) -> Path:
    """``arg`` as a Path; UserError ``ARG: no such file or directory`` when it does not exist."""
    p = Path(arg)
    if not p.exists():
        raise UserError(f"{arg}: no such file or directory")
    return p


def check_kernel_spec(spec: str) -> str:
    """A ``KERNEL[:VARIANT]`` argument: a path-like one whose file part is missing is reported as
    such (the kernel registry would call it an unknown kernel; a missing ``.py`` file it reports
    itself)."""
    head = spec.partition(":")[0]
    if os.path.exists(spec) or not looks_like_path(spec) or head.endswith(".py") or os.path.exists(head):
        return spec
    raise UserError(f"{head}: no such file or directory")


def _file_on_the_way(p: Path) -> Path | None:
    """The first existing ancestor of ``p`` that is not a directory (None if there is none)."""
    for parent in p.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def check_out_file(path: str | Path, option: str) -> Path:
    """An output file path for ``option`` (e.g. ``-o``): an existing file is fine (it is overwritten);
    a directory, or a file on the way, is a UserError."""
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{option} {path}: is a directory (expected a file name)")
    blocker = _file_on_the_way(p)
    if blocker is not None:
        raise UserError(f"{option} {path}: {blocker} is a file, not a directory")
    return p


def check_out_dir(path: str | Path, option: str) -> Path:
    """An output directory path for ``option``: created later when missing; an existing file (or a
    file on the way) is a UserError."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UserError(f"{option} {path}: exists and is not a directory")
    blocker = _file_on_the_way(p)
    if blocker is not None:
        raise UserError(f"{option} {path}: {blocker} is a file, not a directory")
    return p


def wrote(paths: Iterable[str | Path], stream: TextIO | None = None, note: str = "") -> None:
    """Print the one line naming the files (and run directories) a command wrote, then ``note``
    (stdout unless ``stream``)."""
    print("wrote " + ", ".join(str(p) for p in paths) + note, file=stream or sys.stdout)
