"""``swimsim`` command line: one sub-command per capability.

Each command module exposes ``register(subparsers)`` which adds its sub-parser(s) and sets
``func`` (a callable taking the parsed namespace and returning an exit code).

Start-up is lazy: only the module of the command being run is imported; the other commands get a
stub sub-parser carrying their one-line help (from :data:`COMMANDS`), so ``swimsim --help`` lists
every command without importing numpy, pydantic models, simpy or matplotlib. Bare ``swimsim``
prints the same help (exit 0); ``swimsim --version`` prints ``swimsim <version>``.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
import warnings
from pathlib import Path
from typing import Any, NoReturn

from sim.util.errors import InputWarning, UserError

# (command, module registering it, one-line help) in help order. A module registering several
# commands lists them contiguously; the help text must match the module's add_parser(help=...)
# (tests/app/test_cli_lazy.py checks it).
COMMANDS: list[tuple[str, str, str]] = [
    ("graph", "sim.app.commands.graph", "build a kernel's task graph (summary, IR JSON or deps.json)"),
    ("chips", "sim.app.commands.chips", "list chip presets or show one"),
    ("run", "sim.app.commands.run", "simulate a kernel and write its run records"),
    ("stats", "sim.app.commands.analysis",
     "print the converter's statistics table for a run dir, records or trace"),
    ("compare", "sim.app.commands.analysis", "before/after table: wall, Total Test Time, tasks, Avg Exec and span"),
    ("critical-path", "sim.app.commands.analysis", "static CPM and observed blame path of a run directory"),
    ("plot", "sim.app.commands.analysis", "matplotlib swimlane PNG of a run directory"),
    ("placement", "sim.app.commands.analysis",
     "where each function's blocks ran: threads, first-use cores and their Avg Exec (simulated or hardware "
     "captures)"),
    ("overhead", "sim.app.commands.overhead",
     "scheduler-overhead report (parts 1-6 of simpler's sched_overhead_analysis) of a run directory"),
    ("sweep", "sim.app.commands.sweep", "what-if hardware sweep: metrics over a grid of chip parameters"),
    ("reproduce", "sim.app.commands.reproduce", "simulate the measured comparison and print the fidelity table"),
    ("backtest", "sim.app.commands.backtest",
     "simulate measured pypto-lib changes at both commits and score the simulated changes"),
    ("calibrate", "sim.app.commands.calibrate", "fit the free chip parameters on the standalone baseline"),
    ("explain", "sim.app.commands.explain",
     "break a function's Avg Exec and span down (pipes, memory, overhead)"),
]

# Modules that register sub-commands, in help order.
COMMAND_MODULES = list(dict.fromkeys(m for _, m, _ in COMMANDS))


def _selected(argv: list[str]) -> str | None:
    """The command named on the command line (first non-option word), if it is a known one."""
    for a in argv:
        if a.startswith("-"):
            continue
        return a if any(a == c for c, _, _ in COMMANDS) else None
    return None


class _Parser(argparse.ArgumentParser):
    """argparse with the tool's error style: one line naming the argument, exit status 2, no usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"swimsim: error: {message} (see `{self.prog} --help`)\n")


def version() -> str:
    """swimsim's version: the installed distribution's, else the ``pyproject.toml`` of a source tree."""
    from importlib.metadata import PackageNotFoundError  # lazy: start-up time
    from importlib.metadata import version as dist_version

    try:
        return dist_version("swimsim")
    except PackageNotFoundError:
        pass
    import tomllib  # lazy: start-up time

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    try:
        return str(tomllib.loads(pyproject.read_text())["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


class _Version(argparse.Action):
    """``--version``: print ``swimsim <version>`` and exit 0 (the version is looked up only then)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kw: Any) -> None:
        super().__init__(option_strings, dest=dest, nargs=0, default=argparse.SUPPRESS, **kw)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(f"swimsim {version()}")
        parser.exit(0)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser. ``only=None`` imports every command module; ``only=NAME`` imports just the
    module of command NAME (``""``: none) and registers stubs (help line only) for the others."""
    parser = _Parser(
        prog="swimsim",
        description="Cycle-approximate simulator of the Ascend a2a3 NPU and the PTO runtime. "
                    "Run `swimsim COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action=_Version, help="print swimsim's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    load = set(COMMAND_MODULES) if only is None else {m for c, m, _ in COMMANDS if c == only}
    done: set[str] = set()
    for name, module, help_ in COMMANDS:
        if module in load:
            if module not in done:
                importlib.import_module(module).register(sub)  # lazy: start-up time
                done.add(module)
        else:
            sub.add_parser(name, help=help_)
    return parser


def _note_descriptive_overrides(args: argparse.Namespace) -> None:
    """One stderr line per ``--set`` of a field the timing model does not read (not for ``chips``)."""
    overrides = getattr(args, "overrides", None) or getattr(args, "set", None) or []
    if not overrides or args.command == "chips":
        return
    from hwmodels.chip import canonical_field, descriptive_fields  # lazy: start-up time

    desc = set(descriptive_fields())
    for item in overrides:
        key = item.partition("=")[0]
        try:
            field = canonical_field(key)
        except UserError:
            continue  # the command reports the bad key itself
        if field in desc:
            print(f"swimsim: note: --set {field}: descriptive field, not read by the timing model; "
                  "the results do not change", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run one command; ``argv=None`` (the process entry point) reads ``sys.argv``."""
    # a short-lived process allocating many small objects: collect young objects less often
    gc.set_threshold(max(gc.get_threshold()[0], 50_000), 20, 20)
    entry = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_selected(argv) or "")
    if not argv:  # bare `swimsim`: the help, not an error
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    if entry and getattr(args, "one_shot", False):
        # one simulation in its own process: the cyclic GC would only rescan the graph and the
        # records it keeps to the end; reference counting still frees every acyclic object
        gc.disable()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default", InputWarning)  # once per kernel line
            warnings.showwarning = _show_warning
            _note_descriptive_overrides(args)
            rc = args.func(args)
    except UserError as exc:
        print(f"swimsim: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    finally:
        if entry:  # the process ends next: spare the interpreter's final pass over every live object
            gc.freeze()
    return int(rc or 0)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """An :class:`InputWarning` as one line on stderr; other warnings as Python prints them."""
    if issubclass(category, InputWarning):
        print(f"swimsim: warning: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


if __name__ == "__main__":
    sys.exit(main())
