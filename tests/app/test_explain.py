"""`swimsim explain`: the breakdown, --ops and --against."""

from __future__ import annotations

import re

import pytest

from sim.app.cli import main


def test_explain_unknown_dir_exits_2(tmp_path, capsys) -> None:
    rc = main(["explain", str(tmp_path), "q_head_rms_nope_rope"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "run_records.json" in err and len(err.strip().splitlines()) == 1


def test_explain_ops_critical_shares_add_up(tmp_path, capsys) -> None:
    d = tmp_path / "run"
    assert main(["run", "qkv_proj_rope:precompute", "-o", str(d)]) == 0
    capsys.readouterr()
    assert main(["explain", str(d), "q_head_rms_nope_rope", "--ops", "--block", "5"]) == 0
    text = capsys.readouterr().out
    head = text.splitlines()[0]
    ops_us = float(head.split("ops ")[1].split(" µs")[0])
    shares = [float(ln.split()[2]) for ln in text.split("critical path by op")[1].splitlines()[1:] if ln.strip()]
    assert sum(shares) == pytest.approx(ops_us, abs=0.01)
    # the steps column: an [8,64] index gather is 8 barrier steps + 8 further instructions on a2a3
    gathers = [ln for ln in text.splitlines() if " VECTOR " in ln and " gather " in ln]
    assert gathers and all("8 +8i" in ln for ln in gathers)
    assert main(["explain", str(d), "q_head_rms_nope_rope", "--ops", "--block", "32"]) == 2
    assert "--block 32: q_head_rms_nope_rope has blocks 0..31" in capsys.readouterr().err


def test_explain_against_splits_the_difference_into_warm_and_cold_rows(tmp_path, capsys) -> None:
    """Standalone vs in-layer q_head: the Avg Exec difference is the warm rows' difference plus the
    cold rows' share, and each side's parts add up to its Avg Exec."""
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", "qkv_proj_rope:baseline", "-o", str(a)]) == 0
    assert main(["run", "decode_attention_hca:baseline", "--level", "1", "-o", str(b)]) == 0
    capsys.readouterr()
    assert main(["explain", str(a), "q_head_rms_nope_rope", "--against", str(b)]) == 0
    text = capsys.readouterr().out
    cells = [re.split(r"\s{2,}", ln.strip()) for ln in text.splitlines()[4:] if ln.strip()]
    rows = {c[0]: c[1:] for c in cells if len(c) > 1}
    avg = [float(x) for x in rows["Avg Exec"]]
    parts = [k for k in rows if k.startswith(("pipe busy", "memory stall", "issue / sync", "cold core", "other"))]
    assert len(parts) == 5
    for col in (0, 1):
        assert sum(float(rows[k][col]) for k in parts) == pytest.approx(avg[col], abs=0.01)
    last = text.strip().splitlines()[-1]
    total, warm, cold = (float(x.split(" µs")[0]) for x in
                         (last.split("= ")[1], last.split("warm rows ")[1], last.split("cold cores ")[1]))
    assert total == pytest.approx(avg[2], abs=1e-3) and warm + cold == pytest.approx(total, abs=2e-3)
    # standalone, some q_head rows run on cores that never ran anything (whether the layer's seed
    # draws such rows too is a race, so only the standalone side is asserted)
    assert int(rows["rows on cold cores / rows"][0].split(" / ")[0]) > 0
    share = [float(x) for x in rows["cold rows' share of Avg Exec"]]
    assert share[0] > 0 and cold == pytest.approx(share[0] - share[1], abs=2e-3)
    assert main(["explain", str(a), "q_head_rms_nope_rope", "--against", str(b), "--ops"]) == 2


def test_explain_names_where_the_cold_extra_was_charged(tmp_path, capsys) -> None:
    """Summed into the kernel (the presets) the cold rows' extra is given with its rule; charged in the
    schedule (``core.first_kernel_cold_in_schedule``) it is the cold loads' share of the critical path."""
    lump, sched = tmp_path / "lump", tmp_path / "sched"
    assert main(["run", "qkv_proj_rope:baseline", "-o", str(lump)]) == 0
    assert main(["run", "qkv_proj_rope:baseline", "-o", str(sched), "--set",
                 "core.first_kernel_cold_in_schedule=true"]) == 0
    capsys.readouterr()
    assert main(["explain", str(lump), "q_head_rms_nope_rope"]) == 0
    text = capsys.readouterr().out
    assert "first kernel in the launch" in text and "GM loads x 880 ns" in text
    assert main(["explain", str(sched), "q_head_rms_nope_rope"]) == 0
    text = capsys.readouterr().out
    assert "on their critical path" in text and "in the schedule" in text and "GM loads x" not in text
