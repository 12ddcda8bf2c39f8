"""`swimsim backtest` end to end on a tiny git repository made here (two commits of a pypto-style
kernel): clone lookup, the table and its summary, a case that fails to simulate, a metric swimsim
cannot compute, deterministic files, bad input, and the summary line `reproduce` prints."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from test_compare_files import STYLE, _changed, _git

import hwmodels
from sim.app import backtest
from sim.app.backtest import MetricRow, open_clone
from sim.app.backtest_cases import load_cases
from sim.app.backtest_report import read_summary_line
from sim.app.measurements import DEFAULT_MEASUREMENTS
from sim.util.errors import UserError

ARGS = ["--batch", "4", "--enable-l2-swimlane"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kern/k.py (row_scale) at two commits; the second adds a scale tile and a bias_tile scope."""
    r = tmp_path_factory.mktemp("bt") / "kern-repo"
    (r / "kern").mkdir(parents=True)
    shutil.copy(STYLE / "row_scale.py", r / "kern" / "k.py")
    shutil.copy(STYLE / "config.py", r / "kern" / "config.py")
    _git(r, "init", "-q")
    _git(r, "remote", "add", "origin", "https://github.com/acme/kern.git")
    _git(r, "add", ".")
    _git(r, "commit", "-q", "-m", "one")
    _changed(r / "kern")
    _git(r, "commit", "-q", "-am", "two")
    return r


def _sha(repo: Path, rev: str) -> str:
    return subprocess.run(["git", "rev-parse", rev], cwd=repo, capture_output=True, check=True,
                          text=True).stdout.strip()


def _case(repo: Path, cid: str, cset: str, measured: dict, **kw: object) -> dict:
    return {"id": cid, "set": cset, "repository": "acme/kern", "before_commit": _sha(repo, "HEAD~1"),
            "after_commit": _sha(repo, "HEAD"), "entry_file": "kern/k.py", "entry_function": "row_scale_test",
            "args": ARGS, "capture_level": 4, "measurement": "l2_swimlane", "measured": measured, **kw}


def _cases_file(repo: Path, path: Path) -> Path:
    cases = [
        _case(repo, "tiles", "fit", {
            "scale_tile.tasks": {"before": 6, "after": 7, "unit": "count"},
            "wall": {"before": 20.0, "after": 24.0, "unit": "us"},
            "total_test_time": {"before": 18.0, "after": 21.0, "unit": "us"},
            "bias_tile.avg_exec": {"before": None, "after": 2.0, "unit": "us", "note": "new task"},
            "gone_tile.span": {"before": 5.0, "after": 4.0, "unit": "us"}}),
        _case(repo, "bench", "validation", {"orch_us": {"before": 10.0, "after": 11.0, "unit": "us"},
                                            "sum_tiles.avg_exec": {"before": 3.0, "after": 3.0, "unit": "us"}},
              args=["--batch", "4"], env={"PYPTO_BENCH": "1"}, capture_level=0, measurement="pypto_bench"),
        _case(repo, "moved", "validation", {"wall": {"before": 20.0, "after": 24.0, "unit": "us"}},
              entry_file="kern/nope.py"),
    ]
    path.write_text(json.dumps({"about": "test cases", "cases": cases}))
    return path


def _run(cli, repo: Path, tmp_path: Path, out: str, *extra: str) -> tuple[int, str, str]:
    cases = _cases_file(repo, tmp_path / "cases.json")
    return cli(["backtest", "--pypto-lib", str(repo), "--cases", str(cases), "--runs", "2", "-o",
                str(tmp_path / out), *extra])


def _table(text: str) -> dict[tuple[str, str], list[str]]:
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("  ") if c.strip()]
        if len(cells) >= 3 and cells[0] in ("tiles", "bench", "moved"):
            rows[(cells[0], cells[2])] = cells
    return rows


def test_backtest_end_to_end(cli, repo: Path, tmp_path: Path) -> None:
    rc, text, err = _run(cli, repo, tmp_path, "a")
    assert rc == 0, err
    rows = _table(text)
    tasks = rows[("tiles", "scale_tile.tasks")]
    assert tasks[3:8] == ["6 → 7", "+16.7", "6 → 7", "+16.7", "yes"]
    assert tasks[8] == "0.0"
    wall = rows[("tiles", "wall")]
    assert wall[6].startswith("+") and wall[7] == "yes"  # one more tile and a scope: the wall grows
    assert rows[("tiles", "bias_tile.avg_exec")][5].startswith("- → ")  # new at the after commit
    assert rows[("tiles", "gone_tile.span")][5] == "n/a"
    assert "  tiles gone_tile.span: function gone_tile is not in the simulated run" in text
    assert "  bench sum_tiles.avg_exec: sum_tiles.avg_exec: the case has no swimlane capture (level 0)" in text
    bench = rows[("bench", "orch_us")]
    assert bench[5] != "n/a" and bench[7] in ("yes", "no")
    moved = rows[("moved", "(not simulated)")]
    assert moved[3].startswith("before (") and "kern/nope.py does not exist at" in moved[3]
    doc = json.loads((tmp_path / "a" / "backtest.json").read_text())
    assert [c["id"] for c in doc["cases"]] == ["tiles", "bench", "moved"]
    assert doc["cases"][2]["error"] == moved[3]
    s = doc["summary"]
    assert s["fit"]["cases"] == 1 and s["validation"]["failed"] == 1 and s["all"]["metrics"] == 8
    assert s["fit"]["right"] == 3 and s["fit"]["scored"] == 3  # tasks, wall, total_test_time
    assert "family k" in s
    assert doc["seeds"] == [0, 1]
    assert (tmp_path / "a" / "backtest.png").stat().st_size > 1000
    assert "| tiles | fit | scale_tile.tasks | 6 → 7 |" in (tmp_path / "a" / "backtest.md").read_text()
    # where the simulated Exec of the function metric goes: one row per case and function, parts that add up
    assert "where the simulated Exec goes" in text
    parts = rows[("tiles", "bias_tile")]
    sim_after = float(rows[("tiles", "bias_tile.avg_exec")][5].split("→")[1])
    assert parts[3] == f"- → {sim_after:.2f}" and parts[4] == "- → 2.00"
    m = next(x for x in doc["cases"][0]["metrics"] if x["metric"] == "bias_tile.avg_exec")
    split = m["exec_parts_us_per_row"]
    assert split["before"] is None
    assert set(split["after"]) == {"pipe busy", "memory stall", "issue + sync", "hand-off wait", "cold core", "other"}
    assert sum(split["after"].values()) == pytest.approx(m["simulated"]["after"], abs=1e-5)
    assert "exec_parts_us_per_row" not in doc["cases"][0]["metrics"][0]  # tasks: not an Exec metric
    line = read_summary_line(tmp_path / "a" / "backtest.json")
    assert "\n" not in line and "3 cases, 1 not simulated" in line and "fit: direction 3/3 (100 %)" in line
    assert "; validation: direction " in line


def test_backtest_is_deterministic_and_seeded(cli, repo: Path, tmp_path: Path) -> None:
    for out, jobs in (("a", "2"), ("b", "1")):  # two worker processes, then one
        assert _run(cli, repo, tmp_path, out, "--only", "tiles", "bench", "--jobs", jobs)[0] == 0
    for f in ("backtest.json", "backtest.md", "backtest.png"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert _run(cli, repo, tmp_path, "c", "--only", "tiles", "--seed", "5")[0] == 0
    a = json.loads((tmp_path / "a" / "backtest.json").read_text())
    c = json.loads((tmp_path / "c" / "backtest.json").read_text())
    assert c["seeds"] == [5, 6]
    assert a["cases"][0]["metrics"][1]["simulated"] != c["cases"][0]["metrics"][1]["simulated"]


def test_write_runs_keeps_each_sides_first_run_for_the_analysis_commands(cli, repo: Path, tmp_path: Path) -> None:
    """--write-runs writes the first seed's run of each side under DIR/runs/CASE/{before,after}: a run
    directory that `explain` and `stats` read; a failed case leaves no run of an earlier backtest
    behind; --full-records keeps the op lists; --full-records alone is a one-line error."""
    runs = tmp_path / "w" / "runs"
    stale = runs / "moved" / "before"
    stale.mkdir(parents=True)
    (stale / "stats.txt").write_text("an earlier run\n")
    (stale / "notes.md").write_text("the user's own file\n")
    rc, _out, err = _run(cli, repo, tmp_path, "w", "--write-runs")
    assert rc == 0, err
    for side in ("before", "after"):
        d = runs / "tiles" / side
        assert (d / "l2_swimlane_records.json").is_file() and (d / "stats.txt").is_file()
        rr = json.loads((d / "run_records.json").read_text())
        assert not any(b.get("ops") for t in rr["graph"]["tasks"] for b in t["blocks"])  # lean by default
    assert (runs / "bench" / "before" / "l2_swimlane_records.json").is_file()  # level 0: records at level 1
    assert not (stale / "stats.txt").exists() and (stale / "notes.md").exists()  # the failed case's stale run
    rc, text, err = cli(["explain", str(runs / "tiles" / "before"), "scale_tile", "--against",
                         str(runs / "tiles" / "after")])
    assert rc == 0, err
    assert "scale_tile: A = " in text
    rc, _out, err = cli(["stats", str(runs / "tiles" / "before")])
    assert rc == 0, err
    assert _run(cli, repo, tmp_path, "f", "--only", "tiles", "--write-runs", "--full-records", "--runs", "1")[0] == 0
    rr = json.loads((tmp_path / "f" / "runs" / "tiles" / "after" / "run_records.json").read_text())
    assert any(b.get("ops") for t in rr["graph"]["tasks"] for b in t["blocks"])
    rc, out, err = _run(cli, repo, tmp_path, "g", "--full-records")
    assert rc == 2 and out == "" and "--full-records:" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "g").exists()


def test_clone_lookup(cli, repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "mirror"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True, capture_output=True)
    subprocess.run(["git", "--git-dir", str(bare), "remote", "remove", "origin"], check=True, capture_output=True)
    assert open_clone(str(repo)).urls == ["https://github.com/acme/kern.git"]
    # a bare mirror declared for the repository, ahead of the work tree
    rc, text, _ = _run(cli, repo, tmp_path, "x", "--only", "tiles", "--pypto-lib", f"acme/kern={bare}")
    assert rc == 0 and ("tiles", "scale_tile.tasks") in _table(text)
    # no clone of another repository: the case is listed with its error, the backtest goes on
    doc = json.loads(_cases_file(repo, tmp_path / "c.json").read_text())
    doc["cases"][0]["repository"] = "other/lib"
    (tmp_path / "c.json").write_text(json.dumps(doc))
    rc, text, _ = cli(["backtest", "--pypto-lib", f"acme/kern={repo}", "--cases", str(tmp_path / "c.json"),
                       "--only", "tiles", "--runs", "1", "-o", str(tmp_path / "y")])
    assert rc == 0
    assert "no --pypto-lib clone of other/lib (give --pypto-lib other/lib=DIR)" in text
    with pytest.raises(UserError, match="is not a git repository"):
        open_clone(str(tmp_path))
    with pytest.raises(UserError, match="expected DIR or OWNER/NAME=DIR"):
        open_clone(f"kern={repo}")


@pytest.mark.parametrize("argv_tail, msg", [
    (["--only", "nope"], "--only nope: no such case in"),
    (["--pypto-lib", "/no/such/dir"], "no such directory /no/such/dir"),
])
def test_bad_arguments_are_one_line(cli, repo: Path, tmp_path: Path, argv_tail: list[str], msg: str) -> None:
    rc, out, err = _run(cli, repo, tmp_path, "z", *argv_tail)
    assert rc == 2 and out == "" and msg in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "z" / "backtest.json").exists()


def test_schema_error_exits_2_with_one_line(cli, repo: Path, tmp_path: Path) -> None:
    doc = json.loads(_cases_file(repo, tmp_path / "c.json").read_text())
    doc["cases"][1]["capture_level"] = 9
    (tmp_path / "c.json").write_text(json.dumps(doc))
    rc, out, err = cli(["backtest", "--pypto-lib", str(repo), "--cases", str(tmp_path / "c.json"), "-o",
                        str(tmp_path / "z")])
    assert rc == 2 and out == ""
    assert err.strip() == (f"swimsim: error: {tmp_path / 'c.json'}: case bench: capture_level: Input should be "
                           "less than or equal to 4 (got 9)")
    assert not (tmp_path / "z" / "backtest.json").exists()


def test_a_timing_loop_median_is_simulated_as_a_repeated_launch(repo: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """PYPTO_BENCH medians time rounds after warm-up launches; a swimlane capture is a first launch."""
    cf, _ = load_cases(_cases_file(repo, tmp_path / "c.json"))
    assert {c.id: c.launch for c in cf.cases} == {"tiles": "first", "bench": "repeat", "moved": "first"}
    seen: list[str] = []

    def spy(graph, chip, opts):  # noqa: ANN001, ANN202
        seen.append(opts.launch)
        return real(graph, chip, opts)

    real = backtest.simulate
    monkeypatch.setattr(backtest, "simulate", spy)
    clone = open_clone(str(repo))
    for case in cf.cases[:2]:
        backtest.run_case(case, [clone], hwmodels.load_chip(), [0], 0.0, lambda: None)
    assert seen == ["first", "first", "repeat", "repeat"]


def test_direction_rule() -> None:
    def row(mb: float, ma: float, sb: float, sa: float) -> MetricRow:
        return MetricRow("wall", "us", mb, ma, sb, sa)

    assert row(100, 101, 100, 98.5).direction_ok is True  # both within ±2 %
    assert row(100, 101, 100, 97).direction_ok is False
    assert row(100, 90, 100, 95).direction_ok is True
    assert row(100, 90, 100, 95).delta_error == pytest.approx(5.0)
    assert row(100, 90, 110, 95).err_before == pytest.approx(10.0)
    assert MetricRow("x", "us", None, 5.0, None, 4.0).direction_ok is None


def test_reproduce_prints_the_backtest_line(cli, repo: Path, tmp_path: Path) -> None:
    assert _run(cli, repo, tmp_path, "a", "--only", "tiles", "--runs", "1")[0] == 0
    bt = tmp_path / "a" / "backtest.json"
    doc = json.loads(DEFAULT_MEASUREMENTS.read_text())
    doc["workloads"] = {k: v for k, v in doc["workloads"].items() if k == "qkv_proj_rope_decode"}
    meas = tmp_path / "m.json"
    meas.write_text(json.dumps(doc))
    base = ["reproduce", "--measurements", str(meas), "--runs", "1", "--jobs", "1"]
    rc, plain, _ = cli([*base, "-o", str(tmp_path / "r1")])
    assert rc == 0
    rc, with_bt, _ = cli([*base, "-o", str(tmp_path / "r2"), "--backtest", str(bt)])
    assert rc == 0
    p, w = plain.splitlines(), with_bt.splitlines()
    line = read_summary_line(bt)
    assert w[:-3] == [x.replace("r1", "r2") for x in p[:-1]] and w[-3:-1] == ["", line]  # only the line added
    shutil.copy(bt, tmp_path / "r1" / "backtest.json")  # found in the output directory
    rc, found, _ = cli([*base, "-o", str(tmp_path / "r1")])
    assert rc == 0 and found.splitlines()[-2] == read_summary_line(tmp_path / "r1" / "backtest.json")
    rc, _, err = cli([*base, "-o", str(tmp_path / "r3"), "--backtest", str(meas)])
    assert rc == 2 and "not a backtest.json" in err


def test_a_side_recorded_with_zero_filled_buffers_and_an_unknown_unit_are_named(cli, tmp_path: Path) -> None:
    r = tmp_path / "lim-repo"
    (r / "kern").mkdir(parents=True)
    shutil.copy(STYLE / "unwritten_read.py", r / "kern" / "u.py")
    _git(r, "init", "-q")
    _git(r, "remote", "add", "origin", "https://github.com/acme/kern.git")
    _git(r, "add", ".")
    _git(r, "commit", "-q", "-m", "one")
    _git(r, "commit", "-q", "--allow-empty", "-m", "two")
    case = _case(r, "limit", "fit", {"wall": {"before": 10.0, "after": 10.0, "unit": "us"},
                                     "total_exec": {"before": 1.0, "after": 1.0, "unit": "furlongs"}},
                 entry_file="kern/u.py", entry_function="unwritten_read", args=[])
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps({"about": "test", "cases": [case]}))
    rc, text, err = cli(["backtest", "--pypto-lib", str(r), "--cases", str(cases), "--runs", "1", "-o",
                         str(tmp_path / "o")])
    assert rc == 0, err
    assert "recording:" in text
    assert "  limit: before recorded with unwritten intermediate GM elements read as 0" in text
    assert "  limit: after recorded with unwritten intermediate GM elements read as 0" in text
    assert "  limit total_exec: unit 'furlongs': swimsim computes metrics in us, count, %" in text
    doc = json.loads((tmp_path / "o" / "backtest.json").read_text())
    assert doc["cases"][0]["error"] is None and len(doc["cases"][0]["notes"]) == 2
