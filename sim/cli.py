"""``swimsim`` command line: one sub-command per capability.

Each command module exposes ``register(subparsers)`` which adds its sub-parser and sets
``func`` (a callable taking the parsed namespace and returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from sim.errors import UserError

# Modules that register sub-commands, in help order.
COMMAND_MODULES = [
    "sim.commands.graph",
    "sim.commands.chips",
    "sim.commands.run",
    "sim.commands.analysis",
    "sim.commands.reproduce",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="swimsim",
        description="Cycle-approximate simulator of the Ascend a2a3 NPU and the PTO runtime.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        rc = args.func(args)
    except UserError as exc:
        print(f"swimsim: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
