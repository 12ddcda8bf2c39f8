"""An input swimsim accepts with an assumption prints one `swimsim: warning:` line per kernel line."""

from __future__ import annotations

from pathlib import Path

KERNEL = '''import pypto.language as pl


@pl.jit
def past(a: pl.Tensor[[8, 64], pl.FP32], o: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
    for _b in pl.spmd(4, name_hint="pad"):
        o[:, :] = pl.add(a[0:16, :], 1.0)
    return o
'''


def test_a_load_past_a_dim_warns_once_on_one_line(cli, tmp_path: Path) -> None:
    f = tmp_path / "past.py"
    f.write_text(KERNEL)
    rc, stdout, err = cli(["run", str(f), "--entry", "past"])
    assert rc == 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("swimsim: warning: ")
    assert "past.py:7: scope pad: slice [0:16] runs past dim 0" in lines[0]
    assert "pad " in stdout
