"""`swimsim run` (placeholder until implemented)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser("run", help="(not implemented yet)")
    p.set_defaults(func=lambda args: print("not implemented") or 1)
