"""Writing output files safely: temp file in the same directory, then an atomic rename."""

from __future__ import annotations

import os
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from sim.util.errors import UserError


def write_atomic(path: str | Path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp_path)`` on a temp file next to ``path``, then rename it onto ``path``.

    Creates the parent directory. Never leaves a half-written file or a stray temp file; an OS error
    (read-only or missing location, full disk) becomes a one-line :class:`UserError` naming ``path``.
    """
    path = Path(path)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise UserError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`write_atomic`)."""

    def _write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    return write_atomic(path, _write)


def extract_tar(tar: tarfile.TarFile, dest: str | Path) -> None:
    """Extract ``tar`` (a ``git archive``) under ``dest``, refusing members that would land outside it.

    Python 3.11.4 and later do this with tarfile's ``data`` filter; earlier 3.11 releases have no
    ``filter`` argument, so the members are checked here: regular files and directories only (git
    archives hold nothing else swimsim reads), at relative paths without ``..``.
    """
    if hasattr(tarfile, "data_filter"):
        tar.extractall(dest, filter="data")
        return
    safe = []
    for m in tar.getmembers():
        parts = Path(m.name).parts
        if (m.isfile() or m.isdir()) and not Path(m.name).is_absolute() and ".." not in parts:
            safe.append(m)
    tar.extractall(dest, members=safe)
