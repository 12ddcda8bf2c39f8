"""Analysis sub-commands: stats, compare, critical-path, plot (placeholder until implemented)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    for name in ("stats", "compare", "critical-path", "plot"):
        p = sub.add_parser(name, help="(not implemented yet)")
        p.set_defaults(func=lambda args: print("not implemented") or 1)
