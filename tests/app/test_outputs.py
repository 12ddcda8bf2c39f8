"""Output paths and missing inputs: every command names the files it wrote, output files are
overwritten, paths of the wrong kind are refused in one line, a missing path is reported as such."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CliRunner

from sim.app.measurements import DEFAULT_MEASUREMENTS
from sim.app.paths import looks_like_path
from traces import write_run_dir
from traces.synthetic import tiny_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("run") / "r"
    write_run_dir(tiny_run(), d)
    return d


def _one_line_error(rc: int, out: str, err: str, *parts: str) -> None:
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("swimsim: error: "), err
    for p in parts:
        assert p in err, err


# --- a missing path is reported as such ---------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["compare", "/no/such/dir", "qkv_proj_rope"],
    ["compare", "qkv_proj_rope", "/no/such/dir"],
    ["compare", "no_such_run.json", "qkv_proj_rope"],
    ["stats", "/no/such/dir"],
    ["plot", "/no/such/dir"],
    ["placement", "/no/such/dir"],
    ["critical-path", "/no/such/dir"],
    ["overhead", "/no/such/dir"],
    ["explain", "/no/such/dir", "f"],
    ["run", "/no/such/dir"],
    ["sweep", "/no/such/dir", "--vary", "soc.hbm_bw_gbps=800,1600"],
    ["graph", "some/dir/kernel"],
    ["run", "qkv_proj_rope", "--chip-file", "/no/such/dir"],
    ["chips", "--file", "/no/such/dir"],
    ["reproduce", "--measurements", "/no/such/dir"],
    ["reproduce", "--band", "/no/such/dir"],
    ["calibrate", "--start", "/no/such/dir", "-o", "/tmp/never-written.toml"],
])
def test_a_missing_path_says_no_such_file_or_directory(cli: CliRunner, argv: list[str]) -> None:
    rc, out, err = cli(argv)
    missing = next(a for a in argv if a.startswith(("/no/", "no_such", "some/")))
    _one_line_error(rc, out, err, f"{missing}: no such file or directory")
    assert "unknown kernel" not in err


def test_looks_like_path() -> None:
    assert looks_like_path("a/b") and looks_like_path("x.json") and looks_like_path("k.py:baseline")
    assert looks_like_path("x.txt") and not looks_like_path("qkv_proj_rope:baseline")


# --- what a command wrote ------------------------------------------------------------------------


def test_analysis_commands_name_the_files_they_wrote(cli: CliRunner, run_dir: Path, tmp_path: Path) -> None:
    rc, out, err = cli(["critical-path", str(run_dir)])
    assert rc == 0 and err.strip().splitlines()[-1] == (
        f"wrote {run_dir / 'critical_path_report.md'}, {run_dir / 'CPM_static.json'}, "
        f"{run_dir / 'CPM_observed.json'}")
    assert "makespan=" in out and "wrote" not in out  # stdout keeps the result only
    rc, out, err = cli(["overhead", str(run_dir), "--md"])
    assert rc == 0 and err.strip().splitlines()[-1] == f"wrote {run_dir / 'sched_overhead_report.md'}"
    assert "wrote" not in out
    dest = tmp_path / "g.json"
    rc, out, _ = cli(["graph", "qkv_proj_rope", "--format", "deps", "-o", str(dest)])
    assert rc == 0 and out == f"wrote {dest}\n"


def test_reproduce_names_every_file_it_wrote_and_drops_an_earlier_band(cli: CliRunner, tmp_path: Path) -> None:
    doc = json.loads(DEFAULT_MEASUREMENTS.read_text())
    doc["workloads"] = {k: v for k, v in doc["workloads"].items() if k == "qkv_proj_rope_decode"}
    meas = tmp_path / "m.json"
    meas.write_text(json.dumps(doc))
    out = tmp_path / "out"
    out.mkdir()
    (out / "band.json").write_text("{}")  # of an earlier `reproduce --band`
    (out / "mine.txt").write_text("x")
    rc, text, _ = cli(["reproduce", "--measurements", str(meas), "--runs", "1", "--jobs", "1", "-o", str(out)])
    assert rc == 0
    last = text.rstrip("\n").splitlines()[-1]
    assert last.startswith("wrote ")
    named = last[len("wrote "):].rsplit("  (", 1)[0].split(", ")
    files = sorted(str(p) for p in out.iterdir() if p.is_file() and p.name != "mine.txt")
    assert sorted(n for n in named if not n.endswith("/")) == files
    assert str(out / "fidelity.md") in named and not (out / "band.json").exists()
    assert sorted(n for n in named if n.endswith("/")) == sorted(
        f"{p}/" for p in (out / "qkv_proj_rope_decode").iterdir())


# --- output files and directories ----------------------------------------------------------------


def test_plot_without_o_writes_swimlane_png_here_and_says_so(cli: CliRunner, run_dir: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rc, out, _ = cli(["plot", str(run_dir)])
    assert rc == 0 and out == "swimlane.png\n"
    assert (tmp_path / "swimlane.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_existing_output_file_is_overwritten(cli: CliRunner, tmp_path: Path) -> None:
    dest = tmp_path / "g.txt"
    dest.write_text("old\n")
    rc, out, _ = cli(["graph", "qkv_proj_rope", "-o", str(dest)])
    assert rc == 0 and out == f"wrote {dest}\n" and dest.read_text().startswith("qkv_proj_rope:")


@pytest.mark.parametrize("argv", [
    ["plot", "RUN", "-o", "DIR"],
    ["compare", "RUN", "RUN", "--plot", "DIR"],
    ["placement", "RUN", "--plot", "DIR"],
    ["graph", "qkv_proj_rope", "-o", "DIR"],
    ["calibrate", "-o", "DIR"],
])
def test_a_directory_where_a_file_is_expected_is_refused(cli: CliRunner, run_dir: Path, tmp_path: Path,
                                                         argv: list[str]) -> None:
    argv = [str(run_dir) if a == "RUN" else str(tmp_path) if a == "DIR" else a for a in argv]
    before = sorted(tmp_path.iterdir())
    rc, out, err = cli(argv)
    _one_line_error(rc, out, err, f"{tmp_path}: is a directory (expected a file name)")
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.parametrize("argv", [
    ["run", "qkv_proj_rope", "-o", "FILE"],
    ["sweep", "qkv_proj_rope", "--vary", "soc.hbm_bw_gbps=800,1600", "-o", "FILE"],
    ["reproduce", "-o", "FILE"],
    ["calibrate", "--profile", "runtime.orch_swimlane_record_us=2", "-o", "FILE"],
    ["plot", "RUN", "-o", "FILE/x.png"],
    ["graph", "qkv_proj_rope", "-o", "FILE/g.txt"],
])
def test_a_file_where_a_directory_is_expected_is_refused(cli: CliRunner, run_dir: Path, tmp_path: Path,
                                                         argv: list[str]) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    argv = [str(run_dir) if a == "RUN" else a.replace("FILE", str(f)) for a in argv]
    rc, out, err = cli(argv)
    _one_line_error(rc, out, err, str(f))
    assert "not a directory" in err
    assert f.read_text() == "x"
