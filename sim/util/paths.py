"""A source file's path as messages show it."""

from __future__ import annotations

import os

__all__ = ["shown"]

_SHOWN: dict[tuple[str, str], str] = {}  # (file, working directory) -> the file as messages show it


def shown(filename: str) -> str:
    """``filename`` relative to the working directory when it lies below it, else as it is (memoised per
    working directory: value mode names a kernel line for every op it cannot compute)."""
    if not os.path.isabs(filename):
        return filename
    key = (filename, os.getcwd())
    out = _SHOWN.get(key)
    if out is None:
        try:
            rel = os.path.relpath(filename)
        except (ValueError, OSError):  # another drive; no working directory
            rel = os.pardir
        out = _SHOWN[key] = filename if rel.startswith(os.pardir) else rel
    return out
