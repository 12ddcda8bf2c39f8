"""Bare `swimsim` prints the help (exit 0), `--version` prints the version, every argument has help."""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

import pytest

from sim.app import cli
from sim.app.cli import build_parser, main


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]  # noqa: SLF001
    return dict(sub.choices)


def test_every_argument_of_every_command_has_help() -> None:
    parser = build_parser()
    missing = [f"swimsim {a.dest}" for a in parser._actions  # noqa: SLF001
               if not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)  # noqa: SLF001
               and not (a.help or "").strip()]
    subs = _subparsers(parser)
    assert set(subs) == {c for c, _, _ in cli.COMMANDS}
    for name, p in subs.items():
        for a in p._actions:  # noqa: SLF001
            if isinstance(a, argparse._HelpAction):  # noqa: SLF001
                continue
            if not (a.help or "").strip():
                missing.append(f"swimsim {name} {'/'.join(a.option_strings) or a.dest}")
    assert missing == []


def test_bare_swimsim_prints_the_help_and_exits_0(capsys: pytest.CaptureFixture) -> None:
    assert main([]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("usage: swimsim") and err == ""
    for name, _, _ in cli.COMMANDS:
        assert re.search(rf"^\s+{re.escape(name)}\b", out, re.M), name


def test_version_prints_swimsim_and_the_version(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    pyproject = tomllib.loads((Path(cli.__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert capsys.readouterr().out == f"swimsim {pyproject['project']['version']}\n"


def test_version_falls_back_to_pyproject(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    pyproject = tomllib.loads((Path(cli.__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert cli.version() == pyproject["project"]["version"]
