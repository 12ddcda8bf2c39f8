"""Fixtures shared by the whole suite."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable

import pytest

from sim.app.cli import main

# tests record graphs from the sources as they are (some patch a model's constants): no on-disk graph
# cache, unless a test turns it on itself (tests/app/test_graph_cache.py)
os.environ["SWIMSIM_GRAPH_CACHE"] = "off"

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
