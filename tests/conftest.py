"""Fixtures shared by the whole suite."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable

import pytest

from sim.app.cli import main

CliRunner = Callable[[list[str]], tuple[int, str, str]]


@pytest.fixture(scope="session")
def cli() -> CliRunner:
    """Run ``swimsim ARGV`` in this process: (exit code, stdout, stderr)."""

    def run(argv: list[str]) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(argv)
        return rc, out.getvalue(), err.getvalue()

    return run
