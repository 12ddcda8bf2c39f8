"""A user's kernel file as a KERNEL argument: ``swimsim run my_kernel.py[:variant]`` and its errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kernels import registry
from sim.util.errors import UserError

if TYPE_CHECKING:
    from conftest import CliRunner

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(autouse=True)
def _restore_registry() -> Iterator[None]:
    registry.available()  # the built-in kernels are registered before the snapshot
    saved = dict(registry._REGISTRY), dict(registry._FILES), dict(registry._FROM_FILE)  # noqa: SLF001
    yield
    for live, old in zip((registry._REGISTRY, registry._FILES, registry._FROM_FILE), saved, strict=True):  # noqa: SLF001
        live.clear()
        live.update(old)


@pytest.fixture
def kernel_file(tmp_path: Path) -> Path:
    """The README's example kernel, saved as my_kernel.py."""
    section = README.read_text().split("## Writing your own kernel")[1].split("## How the model works")[0]
    src = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    path = tmp_path / "my_kernel.py"
    path.write_text(src)
    return path



def test_run_graph_and_compare_take_a_kernel_file(cli: CliRunner, kernel_file: Path, tmp_path: Path) -> None:
    rc, out, err = cli(["run", str(kernel_file), "-o", str(tmp_path / "run")])
    assert rc == 0, err
    assert out.startswith("scale_then_project:default ") and "scale_cast" in out and "project" in out
    assert (tmp_path / "run" / "stats.txt").is_file()
    rc, out, err = cli(["graph", f"{kernel_file}:default"])
    assert rc == 0 and "2 tasks / 5 blocks" in out, err
    rc, out, err = cli(["compare", str(kernel_file), str(tmp_path / "run")])  # a .py file is a spec, not a trace
    assert rc == 0 and "+0.0%" in out, err
    assert registry.load_kernel_file(kernel_file) == ["scale_then_project"]  # imported once, cached


@pytest.mark.parametrize("name, src, needle", [
    ("syn.py", "x = (\n", "syn.py: import failed (line 1): SyntaxError: '(' was never closed"),
    ("boom.py", "import math\nraise ValueError('boom')\n", "boom.py: import failed (line 2): ValueError: boom"),
    ("none.py", "y = 1\n", "none.py: registers no kernel"),
    ("missing.py", None, "missing.py: no such kernel file"),
])
def test_bad_kernel_files_are_one_line_errors(cli: CliRunner, tmp_path: Path, name: str, src: str | None,
                                              needle: str) -> None:
    if src is not None:
        (tmp_path / name).write_text(src)
    rc, out, err = cli(["graph", str(tmp_path / name)])
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("swimsim: error: ") and needle in err


def test_a_failing_kernel_body_names_its_line(cli: CliRunner, kernel_file: Path) -> None:
    src = kernel_file.read_text()
    assert "        t = x[0:16, c0:c0 + 256]\n" in src
    kernel_file.write_text(src.replace("        t = x[0:16, c0:c0 + 256]\n",
                                       "        t = x[0:16, c0:c0 + 256]\n        undefined_name\n"))
    line = kernel_file.read_text().splitlines().index("        undefined_name") + 1
    rc, _, err = cli(["graph", str(kernel_file)])
    assert rc == 2
    assert f"my_kernel.py (line {line}): recording scale_then_project:default failed: NameError" in err


_LOCATED = re.compile(r"swimsim: error: (?P<file>.+?):(?P<line>\d+): (?P<msg>.*)\n")


@pytest.mark.parametrize("old, new, needle", [
    ("t = x[0:16, c0:c0 + 256]", "t = x[0:16, 1024:2048]",
     "scale_then_project: scope scale_cast: block 0: slice [1024:2048] out of bounds on dim 1 of x [16, 1024]"),
    ("b_ = w[256 * k:256 * k + 256, 0:128]", "b_ = w[256 * k:256 * k + 128, 0:128]",
     "scale_then_project: scope project: block 0: pl.matmul: K mismatch [16, 256] x [128, 128]"),
], ids=["out-of-bounds-slice", "matmul-K-mismatch"])
def test_a_dsl_misuse_names_its_file_and_line(cli: CliRunner, kernel_file: Path, old: str, new: str,
                                              needle: str) -> None:
    src = kernel_file.read_text()
    assert src.count(old) == 1
    kernel_file.write_text(src.replace(old, new))
    lines = kernel_file.read_text().splitlines()
    at = "pl.matmul(" if "K mismatch" in needle else new  # the op that fails
    line = next(i for i, text in enumerate(lines, 1) if at in text)
    rc, out, err = cli(["graph", str(kernel_file)])
    assert rc == 2 and out == "" and err.count("\n") == 1
    m = _LOCATED.fullmatch(err)
    assert m is not None, err
    assert Path(m["file"]).resolve() == kernel_file.resolve() and int(m["line"]) == line
    assert m["msg"].startswith(needle)


KERNEL_RECORDED_AT_IMPORT = """\
import kernels.language as pl


@pl.jit
def k(x: pl.Tensor[[16, 16], pl.FP32], y: pl.Out[pl.Tensor[[16, 16], pl.FP32]]) -> None:
    with pl.at(level=pl.Level.CORE_GROUP):
        y[0:16, 0:16] = pl.exp(x[0:16, 16:32])


g = pl.record(k)
"""

KERNEL_MISSING_ARGUMENT = """\
import kernels.language as pl
from kernels.registry import register


@pl.jit
def k(x: pl.Tensor[[16, 16], pl.FP32], n: int) -> None:
    pass


def build(variant="default", mode="decode", **options):
    return pl.record(k, kernel="k")


register("k", build, ["default"], ["decode"])
"""

KERNEL_WITH_FORM = """\
import kernels.language as pl
from kernels.registry import register


@pl.jit
def k(x: pl.Tensor[[16, 64], pl.FP32]) -> None:
    with pl.spmd(3):
        b = pl.get_block_idx()
        t = x[0:16, 32 * b:32 * b + 32]
        x[0:16, 32 * b:32 * b + 32] = t


def build(variant="default", mode="decode", **options):
    return pl.record(k, kernel="k")


register("k", build, ["default"], ["decode"])
"""


@pytest.mark.parametrize("src, line, needle", [
    (KERNEL_WITH_FORM, 9, "k: scope k_incore_0: block 2: slice [64:96] out of bounds on dim 1 of x [16, 64]"),
    (KERNEL_RECORDED_AT_IMPORT, 7, "k: scope k_incore_0: block 0: slice [16:32] out of bounds on dim 1 of x [16, 16]"),
    (KERNEL_MISSING_ARGUMENT, 11, "k: no value for parameter n"),  # raised by pl.record: its call
], ids=["with-form-block-2", "recorded-at-import", "pl.record-argument"])
def test_a_location_is_given_once(cli: CliRunner, tmp_path: Path, src: str, line: int, needle: str) -> None:
    path = tmp_path / "located.py"
    path.write_text(src)
    rc, _, err = cli(["graph", str(path)])
    assert rc == 2 and err.count("\n") == 1 and err.count("located.py") == 1
    m = _LOCATED.fullmatch(err)
    assert m is not None and int(m["line"]) == line and m["msg"] == needle, err


def test_a_built_in_kernel_error_names_its_model_line() -> None:
    model = Path(registry.__file__).parent / "models" / "qkv_proj_rope.py"
    line = next(i for i, text in enumerate(model.read_text().splitlines(), 1)
                if "pl.check_divisible(t_dim, T_TILE" in text)
    with pytest.raises(UserError) as exc:
        registry.build_graph("qkv_proj_rope", T=3)
    where, _, msg = str(exc.value).partition(": ")
    file, _, n = where.rpartition(":")
    assert Path(file).resolve() == model.resolve() and int(n) == line
    assert msg.startswith("qkv_proj_rope: scope qr_rms_norm_quant: T=3 is not a multiple")
