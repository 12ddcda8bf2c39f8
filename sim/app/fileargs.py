"""Arguments after ``--`` on a sub-command: they go to a pypto kernel file's ``__main__``."""

from __future__ import annotations

import argparse
import sys


def split_file_args(self: argparse.ArgumentParser, args: list[str] | None = None,
                    namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
    """argparse's parse_known_args, with everything after the first ``--`` kept as ``file_args``."""
    args = list(sys.argv[1:] if args is None else args)
    tail: list[str] = []
    if "--" in args:
        i = args.index("--")
        args, tail = args[:i], args[i + 1:]
    ns, extra = argparse.ArgumentParser.parse_known_args(self, args, namespace)
    ns.file_args = tail
    return ns, extra
