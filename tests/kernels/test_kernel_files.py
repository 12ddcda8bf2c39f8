"""A user's kernel file as a KERNEL argument: ``swimsim run my_kernel.py[:variant]`` and its errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kernels import registry

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
