"""Bad command-line values fail in argparse with one line naming the argument (exit 2, no usage dump)."""

from __future__ import annotations

import argparse

import pytest

from sim.app.cli import main
from sim.app.commands import non_negative_float, non_negative_int, positive_int


@pytest.mark.parametrize("argv, names", [
    (["run", "qkv_proj_rope", "--jitter", "nan"], "argument --jitter: expected a finite number >= 0, got nan"),
    (["run", "qkv_proj_rope", "--jitter", "-1"], "argument --jitter"),
    (["run", "qkv_proj_rope", "--level", "7"], "argument --level: invalid choice"),
    (["reproduce", "--runs", "0"], "argument --runs: expected a positive integer, got 0"),
    (["reproduce", "--jobs", "-2"], "argument --jobs: expected an integer >= 0, got -2"),
    (["reproduce", "--jitter", "-0.5"], "argument --jitter"),
    (["calibrate", "--max-evals", "0"], "argument --max-evals"),
    (["calibrate", "--runs", "x"], "argument --runs: expected an integer, got 'x'"),
    (["sweep", "qkv_proj_rope", "--vary", "vector.op_fixed_ns=1", "--runs", "0"], "argument --runs"),
    (["compare", "a", "b", "--runs", "-1"], "argument --runs"),
    (["critical-path", "d", "--tol", "-5"], "argument --tol"),
    (["no-such-command"], "argument COMMAND: invalid choice"),
])
def test_bad_values_give_one_line(argv: list[str], names: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("swimsim: error: argument ") and names in lines[0]
    assert lines[0].endswith("--help`)")


def test_value_types() -> None:
    assert positive_int("3") == 3 and non_negative_int("0") == 0 and non_negative_float("0.25") == 0.25
    for fn, bad in ((positive_int, "0"), (positive_int, "1.5"), (non_negative_int, "-1"),
                    (non_negative_float, "inf"), (non_negative_float, "-0.1"), (non_negative_float, "x")):
        with pytest.raises(argparse.ArgumentTypeError):
            fn(bad)
