"""`swimsim run -o DIR`: a second run replaces the first one's files (and only those), the printed
summary shows the numbers of stats.txt, and the last line names every file written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.app.cli import main
from traces.rundir import RUN_DIR_FILES, earlier_run_files


def _run(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[str, str]:
    assert main(argv) == 0
    return capsys.readouterr()


def test_second_run_into_the_same_dir_leaves_only_its_own_files(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture) -> None:
    d, fresh = tmp_path / "d", tmp_path / "fresh"
    _run(["run", "qkv_proj_rope:baseline", "--later-names", "--level", "4", "-o", str(d)], capsys)
    _run(["critical-path", str(d)], capsys)
    _run(["overhead", str(d)], capsys)
    (d / "notes.txt").write_text("mine\n")
    (d / "sub").mkdir()
    first = {p.name for p in d.iterdir()}
    assert {"chip_swimlane_records.json", "CPM_static.json", "critical_path_report.md",
            "sched_overhead_report.md"} <= first
    second = ["run", "qkv_proj_rope:precompute", "--style", "june", "--level", "2"]
    _, err = _run([*second, "-o", str(d)], capsys)
    assert "removed the files of an earlier run" in err and "chip_swimlane_records.json" in err
    _run([*second, "-o", str(fresh)], capsys)
    assert {p.name for p in d.iterdir()} == {p.name for p in fresh.iterdir()} | {"notes.txt", "sub"}
    assert (d / "notes.txt").read_text() == "mine\n"
    for name in (p.name for p in fresh.iterdir()):
        assert (d / name).read_bytes() == (fresh / name).read_bytes(), name
    out_d, _ = _run(["stats", str(d)], capsys)
    out_fresh, _ = _run(["stats", str(fresh)], capsys)
    assert out_d == out_fresh
    assert "func_-1_" not in out_d and "q_rope_cs" in out_d


def test_earlier_run_files_are_only_swimsims_names(tmp_path: Path) -> None:
    keep = ["notes.txt", "deps.json.bak", "my_records.json", "stats.md", "swimlane.png"]
    gone = ["l2_swimlane_records.json", "chip_swimlane_records.json", "deps.json", "name_map_k.json",
            "merged_swimlane_1.json", "stats.txt", "run_records.json", "CPM_static.json", "CPM_observed.json",
            "critical_path_report.md", "sched_overhead_report.md"]
    for n in keep + gone:
        (tmp_path / n).write_text("x")
    assert [p.name for p in earlier_run_files(tmp_path)] == sorted(gone)
    assert len(RUN_DIR_FILES) >= 10


@pytest.mark.parametrize("blocked", ["merged_swimlane_20260630_000000.json", "run_records.json"])
def test_a_run_whose_write_fails_part_way_leaves_no_file_of_the_run(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                                     blocked: str) -> None:
    """A write that fails after others succeeded (here: a directory where a file of the run goes, as a
    full disk would fail it) removes the run's files written before it: all or nothing."""
    d = tmp_path / "d"
    (d / blocked).mkdir(parents=True)
    (d / "notes.txt").write_text("mine\n")
    assert main(["run", "qkv_proj_rope:baseline", "--level", "1", "-o", str(d)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and blocked in err and "cannot write" in err
    assert sorted(p.name for p in d.iterdir()) == sorted([blocked, "notes.txt"])


def test_run_leaves_out_the_dependency_arrows_on_request_and_says_when_there_are_many(
        tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    import sim.app.commands.run as run_cmd

    def arrows(d: Path) -> int:
        ev = json.loads(next(d.glob("merged_swimlane_*.json")).read_text())["traceEvents"]
        return sum(1 for e in ev if e.get("name") in ("dependency", "hb_violation") and e.get("ph") == "s")

    monkeypatch.setattr(run_cmd, "MANY_ARROWS", 10)
    _, err = _run(["run", "qkv_proj_rope:baseline", "-o", str(tmp_path / "with")], capsys)
    n = arrows(tmp_path / "with")
    assert n >= 10 and f"holds {n:,} dependency arrows" in err and "--no-dependency-arrows" in err
    _, err = _run(["run", "qkv_proj_rope:baseline", "--no-dependency-arrows", "-o", str(tmp_path / "without")],
                  capsys)
    assert arrows(tmp_path / "without") == 0 and "dependency arrows" not in err
    assert (tmp_path / "with" / "stats.txt").read_text() == (tmp_path / "without" / "stats.txt").read_text()


def test_run_out_that_is_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    assert main(["run", "qkv_proj_rope", "-o", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exists and is not a directory" in err
    assert f.read_text() == "x"


@pytest.mark.parametrize("level", [4, 1])
def test_run_prints_the_numbers_stats_txt_writes(tmp_path: Path, capsys: pytest.CaptureFixture, level: int) -> None:
    out, _ = _run(["run", "qkv_proj_rope:baseline", "--level", str(level), "-o", str(tmp_path)], capsys)
    stats = (tmp_path / "stats.txt").read_text()
    ttt = re.search(r"^Total Test Time: (n/a \(level 1\)|\S+)", stats, re.M).group(1)
    wall = re.search(r"^Swimlane wall: (\S+) us", stats, re.M).group(1)
    printed = re.search(r"^Total Test Time: (n/a \(level 1\)|\S+)(?: us)?   wall: (\S+) us", out, re.M)
    assert printed.groups() == (ttt, wall)
    # per function: Avg Exec of the converter's table, span of swimsim's extra table
    avg = {ln.split()[1]: ln.split()[3] for ln in stats.splitlines() if re.match(r"^\d+ +\S+ +\d+ ", ln)}
    span = {ln.split()[1]: ln.split()[2] for ln in stats.split("Span(us)")[1].splitlines()
            if re.match(r"^\d+ ", ln)}
    rows = [ln.split() for ln in out.splitlines() if ln.split() and ln.split()[0] in avg]
    assert len(rows) == len(avg) > 5
    for name, _tasks, _blocks, a, s in rows:
        assert (a, s) == (avg[name], span[name]), name


def test_run_names_every_file_it_wrote(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out, _ = _run(["run", "qkv_proj_rope:baseline", "-o", str(tmp_path)], capsys)
    last = out.rstrip("\n").splitlines()[-1]
    assert last.startswith("wrote ")
    assert sorted(last[len("wrote "):].split(", ")) == sorted(str(p) for p in tmp_path.iterdir())
