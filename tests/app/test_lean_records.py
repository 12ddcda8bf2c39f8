"""run_records.json is lean by default (no op lists), full with --full-records; explain --ops reads both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import CliRunner


def _ops(d: Path) -> int:
    rec = json.loads((d / "run_records.json").read_text())
    return sum(len(b.get("ops", [])) for t in rec["graph"]["tasks"] for b in t["blocks"])


def test_lean_by_default_full_on_request_same_explain(cli: CliRunner, tmp_path: Path) -> None:
    lean, full = tmp_path / "lean", tmp_path / "full"
    assert cli(["run", "qkv_proj_rope:baseline", "-o", str(lean)])[0] == 0
    assert cli(["run", "qkv_proj_rope:baseline", "-o", str(full), "--full-records"])[0] == 0
    assert _ops(lean) == 0 < _ops(full)
    assert (lean / "run_records.json").stat().st_size < (full / "run_records.json").stat().st_size
    for name in ("l2_swimlane_records.json", "deps.json", "stats.txt"):
        assert (lean / name).read_bytes() == (full / name).read_bytes()
    func = "qr_proj_matmul"
    a = cli(["explain", str(lean), func, "--ops"])
    b = cli(["explain", str(full), func, "--ops"])
    assert a[0] == 0 and a[1] == b[1]


def test_lean_records_of_a_kernel_not_rebuildable_say_how_to_get_ops(cli: CliRunner, tmp_path: Path) -> None:
    d = tmp_path / "run"
    assert cli(["run", "qkv_proj_rope:baseline", "-o", str(d)])[0] == 0
    rec = json.loads((d / "run_records.json").read_text())
    rec["graph"]["kernel"] = "no_such_kernel"
    (d / "run_records.json").write_text(json.dumps(rec))
    rc, _, err = cli(["explain", str(d), "qr_proj_matmul", "--ops"])
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "--full-records" in err
