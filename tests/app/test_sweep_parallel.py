"""`swimsim sweep` on several workers and backends: identical output, resumable points.jsonl, and a
bad grid failing before any simulation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import sim.app.commands.sweep as sweep_cmd
import sim.app.sweep_grid as sweep_grid

if TYPE_CHECKING:
    from conftest import CliRunner

SPEC = "qkv_proj_rope:baseline"
GRID = ["--vary", "soc.clusters=8,16,24", "--vary", "soc.hbm_bw_gbps=800,1600,2400", "--l2", "cold"]


def _sweep(cli: CliRunner, out: Path, *extra: str) -> tuple[int, str, str]:
    return cli(["sweep", SPEC, *GRID, "-o", str(out), *extra])


@pytest.fixture(scope="module")
def serial(cli: CliRunner, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("serial")
    rc, _, err = _sweep(cli, out, "--workers", "1")
    assert rc == 0, err
    return out


def test_serial_writes_one_line_per_point_in_grid_order(serial: Path) -> None:
    doc = json.loads((serial / "sweep.json").read_text())
    assert [p["params"] for p in doc["points"]][:4] == [
        {"soc.clusters": 8, "soc.hbm_bw_gbps": 800.0}, {"soc.clusters": 8, "soc.hbm_bw_gbps": 1600.0},
        {"soc.clusters": 8, "soc.hbm_bw_gbps": 2400.0}, {"soc.clusters": 16, "soc.hbm_bw_gbps": 800.0}]
    lines = (serial / "points.jsonl").read_text().splitlines()
    assert len(lines) == 9
    assert [json.loads(x)["key"]["sets"] for x in lines[:2]] == [
        ["soc.clusters=8", "soc.hbm_bw_gbps=800"], ["soc.clusters=8", "soc.hbm_bw_gbps=1600"]]


def test_two_workers_give_identical_output(cli: CliRunner, serial: Path, tmp_path: Path) -> None:
    rc, _, err = _sweep(cli, tmp_path, "--workers", "2")
    assert rc == 0, err
    assert (tmp_path / "sweep.json").read_bytes() == (serial / "sweep.json").read_bytes()
    assert (tmp_path / "sweep.md").read_bytes() == (serial / "sweep.md").read_bytes()
    assert (tmp_path / "points.jsonl").read_bytes() == (serial / "points.jsonl").read_bytes()


def test_dask_local_cluster_gives_identical_output(cli: CliRunner, serial: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    rc, _, err = _sweep(cli, tmp_path, "--backend", "dask", "--workers", "2")
    assert rc == 0, err
    assert (tmp_path / "sweep.json").read_bytes() == (serial / "sweep.json").read_bytes()
    assert (tmp_path / "points.jsonl").read_bytes() == (serial / "points.jsonl").read_bytes()


def _count_simulations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = sweep_grid.simulate

    def counting(*a: Any, **k: Any) -> Any:
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(sweep_grid, "simulate", counting)
    return calls


def test_resume_after_truncation_equals_an_uninterrupted_sweep(cli: CliRunner, serial: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(serial / "points.jsonl", tmp_path / "points.jsonl")
    text = (tmp_path / "points.jsonl").read_text()
    lines = text.splitlines(keepends=True)
    (tmp_path / "points.jsonl").write_text("".join(lines[:4]) + lines[4][:40])  # 4 points and a torn line
    calls = _count_simulations(monkeypatch)
    rc, _, err = _sweep(cli, tmp_path, "--workers", "1", "--resume")
    assert rc == 0, err
    assert len(calls) == 5
    assert (tmp_path / "sweep.json").read_bytes() == (serial / "sweep.json").read_bytes()
    assert (tmp_path / "points.jsonl").read_bytes() == (serial / "points.jsonl").read_bytes()


def test_interrupt_leaves_valid_points_and_resume_completes(cli: CliRunner, serial: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    real = sweep_cmd.run_point
    done: list[int] = []

    def interrupted(job: Any) -> Any:
        if len(done) == 3:
            raise KeyboardInterrupt
        done.append(1)
        return real(job)

    monkeypatch.setattr(sweep_cmd, "run_point", interrupted)
    rc, _, err = _sweep(cli, tmp_path, "--workers", "1")
    assert rc == 130 and "3 of 9 points" in err and "--resume" in err
    assert [json.loads(x) for x in (tmp_path / "points.jsonl").read_text().splitlines()] == [
        json.loads(x) for x in (serial / "points.jsonl").read_text().splitlines()[:3]]
    assert not (tmp_path / "sweep.json").exists()
    monkeypatch.setattr(sweep_cmd, "run_point", real)
    rc, _, err = _sweep(cli, tmp_path, "--workers", "1", "--resume")
    assert rc == 0, err
    assert (tmp_path / "sweep.json").read_bytes() == (serial / "sweep.json").read_bytes()


def test_without_resume_points_start_afresh(cli: CliRunner, serial: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(serial / "points.jsonl", tmp_path / "points.jsonl")
    calls = _count_simulations(monkeypatch)
    rc, _, err = cli(["sweep", SPEC, "--vary", "soc.clusters=8", "--l2", "cold", "-o", str(tmp_path),
                      "--workers", "1"])
    assert rc == 0, err
    assert len(calls) == 1 and len((tmp_path / "points.jsonl").read_text().splitlines()) == 1


@pytest.mark.parametrize("extra, needle", [
    (["--vary", "soc.clusters=8,16", "--vary", "soc.nope=1,2"], "unknown key 'nope'"),
    (["--vary", "soc.clusters=8,16", "--vary", "soc.hbm_bw_gbps=800,fast"], "soc.hbm_bw_gbps"),
    (["--vary", "soc.clusters=8,sixteen"], "soc.clusters"),
    (["--vary", "soc.clusters=8", "--resume"], "--resume: needs -o"),
    (["--vary", "soc.clusters=8", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler: only with --backend dask"),
])
def test_bad_grid_fails_before_any_simulation(cli: CliRunner, monkeypatch: pytest.MonkeyPatch,
                                              extra: list[str], needle: str) -> None:
    def never(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("simulate called")

    monkeypatch.setattr(sweep_grid, "simulate", never)
    rc, text, err = cli(["sweep", SPEC, *extra])
    assert rc == 2 and text == ""
    assert len(err.strip().splitlines()) == 1 and needle in err


def test_point_rejected_by_a_cross_field_check_fails_up_front(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.util.errors import UserError

    def load(sets: list[str]) -> Any:
        if sets == ["a.x=2", "b.y=1"]:
            raise UserError("x and y disagree")
        return object()

    vary = [("a.x", ["1", "2"], [1, 2]), ("b.y", ["0", "1"], [0, 1])]
    with pytest.raises(UserError, match=r"--vary point a\.x=2, b\.y=1: x and y disagree"):
        sweep_grid.grid(vary, load)


def test_an_interrupted_rerun_leaves_no_stale_tables(cli: CliRunner, serial: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("sweep.json", "sweep.md", "sweep.png", "points.jsonl"):
        shutil.copy(serial / name, tmp_path / name)

    def interrupted(_job: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep_cmd, "run_point", interrupted)
    rc, _, err = _sweep(cli, tmp_path, "--workers", "1")
    assert rc == 130, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["points.jsonl"]
    assert (tmp_path / "points.jsonl").read_text() == ""


def test_a_pypto_file_sweeps_at_its_first_run_jit_call(cli: CliRunner, tmp_path: Path) -> None:
    style = Path(__file__).resolve().parents[1] / "kernels" / "pypto_style"
    folder = tmp_path / "k"
    folder.mkdir()
    for name in ("row_scale.py", "config.py"):
        shutil.copy(style / name, folder / name)
    kernel = str(folder / "row_scale.py")
    out = tmp_path / "sweep"
    rc, stdout, err = cli(["sweep", kernel, "--vary", "soc.clusters=4,24", "--workers", "2", "-o", str(out),
                           "--", "--enable-l2-swimlane"])
    assert rc == 0, err
    assert "scale_tile avg" in stdout
    doc = json.loads((out / "sweep.json").read_text())
    assert [p["params"] for p in doc["points"]] == [{"soc.clusters": 4}, {"soc.clusters": 24}]
    keys = [json.loads(line)["key"] for line in (out / "points.jsonl").read_text().splitlines()]
    assert all(k["file_args"] == ["--enable-l2-swimlane"] and kernel in k["files"] for k in keys)
    # a point belongs to the file's folder as it was: an edit there makes --resume simulate it again
    before = sweep_grid.file_digest(kernel)
    (folder / "config.py").write_text((folder / "config.py").read_text() + "\n# edited\n")
    assert sweep_grid.file_digest(kernel) != before
    # arguments after -- with no pypto file among the KERNELs are a clear error
    rc, _, err = cli(["sweep", SPEC, "--vary", "soc.clusters=4,24", "--", "--enable-l2-swimlane"])
    assert rc == 2 and "are for pypto kernel files" in err


def test_a_metric_names_a_mix_tasks_kernels_as_the_statistics_do(cli: CliRunner) -> None:
    # the HCA layer's hc_pre is one MIX task: its functions are hc_pre_aic and hc_pre_aiv
    rc, stdout, err = cli(["sweep", "decode_attention_hca:baseline", "--vary", "vector.op_fixed_ns=80,100",
                           "--metric", "hc_pre_aiv.avg_exec"])
    assert rc == 0, err
    rows = [line.split("|")[1].split() for line in stdout.splitlines() if line.split("|")[0].strip() in ("80", "100")]
    assert len(rows) == 2 and all(r and r[0] != "-" for r in rows)
    rc, _, err = cli(["sweep", "decode_attention_hca:baseline", "--vary", "vector.op_fixed_ns=80,100",
                      "--metric", "hc_pre.avg_exec"])
    assert rc == 2 and "unknown function 'hc_pre'" in err and "hc_pre_aic" in err
