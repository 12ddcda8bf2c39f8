"""The README's "Writing your own kernel" snippets run as written."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from kernels import registry

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_kernel_example_runs(tmp_path, monkeypatch, capsys) -> None:
    text = README.read_text()
    section = text[text.index("## Writing your own kernel"):text.index("## How the model works")]
    kernel_src, driver_src = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    (tmp_path / "my_kernel.py").write_text(kernel_src)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        exec(compile(driver_src, "README-driver", "exec"), {})  # noqa: S102
    finally:
        sys.modules.pop("my_kernel", None)
        registry._REGISTRY.pop("scale_then_project", None)  # keep the registry as other tests expect it
    out = capsys.readouterr().out
    assert "scale_cast" in out and "project" in out
    assert (tmp_path / "runs" / "mine" / "stats.txt").is_file()
