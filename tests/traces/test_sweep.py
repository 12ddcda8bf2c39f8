"""`swimsim sweep`: what-if hardware sweeps (table, sweep.json/md/png, input errors)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sim.util.errors import UserError
from traces.sweep import check_metric, default_metrics, format_table, metric_value, sweep_doc

if TYPE_CHECKING:
    from conftest import CliRunner

SPEC = "qkv_proj_rope:baseline"



@pytest.fixture(scope="module")
def bw_sweep(cli: CliRunner, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp("sweep")
    rc, text, err = cli(["sweep", SPEC, "--vary", "soc.hbm_bw_gbps=800,1600", "-o", str(out)])
    assert rc == 0, err
    return text, out


def test_bandwidth_sweep_table_and_json(bw_sweep: tuple[str, Path]) -> None:
    text, out = bw_sweep
    lines = text.splitlines()
    assert lines[0].startswith("sweep: chip=")
    assert "soc.hbm_bw_gbps" in lines[2] and "wall" in lines[2] and "total_test_time" in lines[2]
    rows = [ln for ln in lines if ln.startswith(("800 ", "1600 "))]
    assert len(rows) == 2
    doc = json.loads((out / "sweep.json").read_text())
    assert [p["params"] for p in doc["points"]] == [{"soc.hbm_bw_gbps": 800.0}, {"soc.hbm_bw_gbps": 1600.0}]
    assert doc["specs"] == [SPEC]
    keys = doc["metrics"][SPEC]
    assert keys[:2] == ["wall", "total_test_time"] and len(keys) == 5
    assert all(k.endswith(".avg_exec") for k in keys[2:])
    walls = [p["results"][SPEC]["swimlane_wall"] for p in doc["points"]]
    assert all(w > 0 for w in walls)
    assert walls[1] <= walls[0]  # doubling HBM bandwidth never slows the kernel down
    md = (out / "sweep.md").read_text().splitlines()
    assert md[0].startswith("| soc.hbm_bw_gbps |") and len(md) == 4


def test_png_written(bw_sweep: tuple[str, Path]) -> None:
    png = bw_sweep[1] / "sweep.png"
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert not list(bw_sweep[1].glob(".*.tmp"))


def test_core_count_sweep_runs_with_fewer_clusters(cli: CliRunner) -> None:
    rc, text, err = cli(["sweep", SPEC, "--vary", "soc.clusters=8,24", "--metric", "wall",
                          "--metric", "qproj_matmul.span", "--md"])
    assert rc == 0, err
    rows = [ln for ln in text.splitlines() if ln.startswith(("| 8 |", "| 24 |"))]
    assert len(rows) == 2
    wall8 = float(rows[0].split("|")[2])
    wall24 = float(rows[1].split("|")[2].split()[0])
    assert wall8 > 0 and wall24 > 0 and wall8 != wall24


@pytest.mark.parametrize("extra, needle", [
    (["--vary", "soc.nope=1,2"], "unknown key 'nope'"),
    (["--vary", "nosec.x=1"], "unknown section 'nosec'"),
    (["--vary", "soc.clusters=a,b"], "soc.clusters"),
    (["--vary", "soc.clusters="], "empty value"),
    (["--vary", "soc.clusters=16,,24"], "empty value"),
    (["--vary", "soc.clusters=16,16"], "duplicate value"),
    (["--vary", "vector.op_fixed_ns=" + ",".join(str(i) for i in range(1, 42)),
      "--vary", "soc.hbm_bw_gbps=" + ",".join(str(100 * i) for i in range(1, 51))], "at most 2000"),
    (["--vary", "soc.clusters=16", "--metric", "bogus"], "unknown metric"),
    (["--vary", "soc.clusters=16", "--metric", "nofunc.avg_exec"], "functions: qkv_x_matmul_pad"),
])  # bad --runs values fail in argparse: tests/test_cli_args.py
def test_bad_input_is_one_line_exit_2(cli: CliRunner, extra: list[str], needle: str) -> None:
    rc, text, err = cli(["sweep", SPEC, *extra])
    assert rc == 2
    assert text == ""
    assert err.count("\n") == 1 and err.startswith("swimsim: error: --")
    assert needle in err


def _metrics(wall: float, funcs: dict[str, tuple[int, float]]) -> dict:
    return {"total_test_time": wall - 10, "swimlane_wall": wall, "aicore_span": wall - 20,
            "funcs": {f: {"count": n, "avg_exec": a, "span": a * 2, "avg_latency": a, "avg_head_oh": 0.0,
                          "avg_tail_oh": 0.0} for f, (n, a) in funcs.items()}}


def test_default_metrics_rank_by_total_exec() -> None:
    m = _metrics(100.0, {"a": (1, 50.0), "b": (32, 10.0), "c": (16, 4.0), "d": (2, 1.0)})
    assert default_metrics(m) == ["wall", "total_test_time", "b.avg_exec", "c.avg_exec", "a.avg_exec"]
    assert metric_value(m, "wall") == 100.0
    assert metric_value(m, "b.span") == 20.0
    assert metric_value(m, "zz.avg_exec") is None


def test_check_metric_accepts_function_of_any_spec() -> None:
    funcs = {"k:x": ["a"], "k:y": ["a", "b"]}
    assert check_metric("b.avg_exec", funcs) == "b.avg_exec"
    with pytest.raises(UserError, match="unknown function 'c'"):
        check_metric("c.span", funcs)
    with pytest.raises(UserError, match="unknown metric"):
        check_metric("a.bogus", funcs)
    assert check_metric("a.avg_exec_reused", funcs) == "a.avg_exec_reused"


def test_reused_core_split_is_a_sweep_metric() -> None:
    m = _metrics(100.0, {"a": (2, 5.0)})
    m["funcs"]["a"].update(avg_exec_reused=None, avg_exec_first_use=5.0)
    assert metric_value(m, "a.avg_exec_reused") is None and metric_value(m, "a.avg_exec_first_use") == 5.0


def test_table_deltas_relative_to_first_point() -> None:
    pts = [({"soc.clusters": c}, {"k:x": _metrics(w, {"a": (1, 5.0)}), "k:y": _metrics(w * 2, {"b": (1, 1.0)})})
           for c, w in ((24, 200.0), (16, 250.0))]
    doc = sweep_doc(chip="c", mode="decode", l2="inputs_warm", runs=1, jitter=0.0, overrides=[],
                    vary=[("soc.clusters", [24, 16])], specs=["k:x", "k:y"],
                    metrics={"k:x": ["wall", "b.avg_exec"], "k:y": ["wall"]}, points=pts)
    text = format_table(doc)
    lines = text.splitlines()
    assert lines[0].split() == ["|", "x", "|", "y"]
    assert "250.00 (+25.0%)" in lines[4] and "500.00 (+25.0%)" in lines[4]
    assert " - " in lines[3] + " "  # b is not a function of k:x
    md = format_table(doc, markdown=True).splitlines()
    assert md[0] == "| soc.clusters | x wall | x b avg | y wall |"
    assert md[3] == "| 16 | 250.00 (+25.0%) | - | 500.00 (+25.0%) |"
