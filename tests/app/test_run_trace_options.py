"""`swimsim run -o` trace options: pipe lanes, overhead tracks, June style, later layout."""

from __future__ import annotations

import json

import pytest

from sim.app.cli import main
from traces.validate import trace_problems


@pytest.mark.parametrize("level", [1, 4])
def test_trace_options_keep_the_importer_rules(tmp_path, level: int) -> None:
    out = tmp_path / "run"
    argv = ["run", "qkv_proj_rope:baseline", "--level", str(level), "-o", str(out),
            "--pipe-lanes", "--overhead", "--style", "june", "--later-names"]
    assert main(argv) == 0
    (trace,) = out.glob("merged_swimlane_*.json")
    doc = json.loads(trace.read_text())
    assert trace_problems(doc) == []
    events = doc["traceEvents"]
    assert any(e.get("cat") == "overhead" for e in events)
    assert 5 in {e.get("pid") for e in events}  # the "Core Pipes" process
    assert any(e.get("name", "").endswith("_spmd(r1t3)") for e in events if e.get("ph") == "X")  # June labels
    assert (out / "chip_swimlane_records.json").is_file() and not (out / "l2_swimlane_records.json").exists()
