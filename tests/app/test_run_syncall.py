"""`swimsim run FILE` on a pypto-style kernel with a ``pl.system.syncall`` between two phases: the
records show the barrier, and a launch larger than the chip is a one-line error at the syncall's line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import CliRunner

KERNEL = Path(__file__).resolve().parents[1] / "kernels" / "pypto_style" / "syncall_phases.py"
SYNCALL_LINE = next(i for i, ln in enumerate(KERNEL.read_text().splitlines(), 1) if "pl.system.syncall(" in ln)


def test_syncall_kernel_blocks_start_phase_two_after_the_last_block_ends_phase_one(cli: CliRunner,
                                                                                  tmp_path: Path) -> None:
    out = tmp_path / "run"
    rc, stdout, err = cli(["run", str(KERNEL), "-o", str(out), "--", "--enable-l2-swimlane"])
    assert rc == 0, err
    assert "square_shift                     1      8" in stdout
    rec = json.loads((out / "run_records.json").read_text())
    (task,) = [t for t in rec["graph"]["tasks"] if t["kind"] == "kernel"]
    sites = {o["site"] for b in task["blocks"] for o in b["ops"] if o["kind"] == "barrier"}
    assert len(sites) == 1 and sites.pop().endswith(f"syncall_phases.py:{SYNCALL_LINE}")
    rows = [s for s in rec["subtasks"] if s["task"] == task["idx"]]
    assert sorted(s["block"] for s in rows) == list(range(8))
    assert all(len(s["barriers"]) == 1 for s in rows)
    phase1_end = [s["barriers"][0][0] for s in rows]  # arrival at the barrier
    phase2_start = [s["barriers"][0][1] for s in rows]  # departure from it
    assert min(phase2_start) >= max(phase1_end)
    # blocks with two tiles reach the barrier later than blocks with one, and the early ones wait
    assert max(phase1_end) - min(phase1_end) > 500
    for s in rows:
        assert s["start"] < s["barriers"][0][0] and s["barriers"][0][1] < s["end"]
        assert s["breakdown"]["barrier_wait"] >= 0
        assert abs(sum(s["breakdown"].values()) - (s["end"] - s["start"])) < 1e-3
    assert len({s["dispatch"] for s in rows}) == 1  # launched all at once


def test_syncall_kernel_larger_than_the_chip_names_the_syncall_line(cli: CliRunner) -> None:
    rc, _, err = cli(["run", str(KERNEL), "--set", "soc.clusters=2", "--", "--enable-l2-swimlane"])
    assert rc == 2
    line = err.strip()
    assert "\n" not in line
    assert f"syncall_phases.py:{SYNCALL_LINE}: task 1 (square_shift): a barrier across 8 blocks needs them all " \
           "resident at once, the chip has 4 AIV cores (expected block_num <= 4)" in line
