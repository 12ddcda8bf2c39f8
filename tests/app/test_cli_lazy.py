"""Lazy CLI start-up: the static command table matches what the command modules register."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from sim.app.cli import COMMAND_MODULES, COMMANDS, build_parser


def test_command_table_matches_modules() -> None:
    got = []
    for module in COMMAND_MODULES:
        p = argparse.ArgumentParser()
        sub = p.add_subparsers()
        importlib.import_module(module).register(sub)
        got += [(a.dest, module, a.help) for a in sub._choices_actions]  # noqa: SLF001
    assert got == COMMANDS


def test_help_lists_every_command_and_stays_light() -> None:
    code = ("import sys; from sim.app.cli import build_parser; h = build_parser('').format_help(); "
            "print(h); print('HEAVY', sorted(m for m in ('numpy', 'simpy', 'matplotlib', 'pydantic', "
            "'kernels.registry', 'hwmodels') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    for name, _, help_ in COMMANDS:
        assert name in out
        assert help_.split()[0] in out
    assert "HEAVY []" in out


def test_full_parser_parses_every_command() -> None:
    p = build_parser()
    ns = p.parse_args(["graph", "qkv_proj_rope:baseline"])
    assert callable(ns.func)
