"""Level-1 captures have no Total Test Time: every table prints it as "n/a (level 1)" and no change
is computed from it (the June converter prints 0.00 us, which made `compare` report -100 %)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.app.cli import main
from sim.app.measurements import DEFAULT_MEASUREMENTS, load_measurements
from sim.util.errors import UserError
from traces import run_metrics, write_run_dir
from traces.compare import TTT_ROW, compare_rows, format_compare, mean_metrics, metrics_of_path, plot_rows
from traces.sweep import _fmt_value
from traces.synthetic import tiny_run

NA = "n/a (level 1)"


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same run captured at level 4 and at level 1."""
    d = tmp_path_factory.mktemp("lvl")
    write_run_dir(tiny_run(), d / "l4", level=4)
    write_run_dir(tiny_run(), d / "l1", level=1)
    return d / "l4", d / "l1"


def _ttt_line(text: str) -> str:
    return next(ln for ln in text.splitlines() if "Total Test Time" in ln)


@pytest.mark.parametrize("md", [False, True])
def test_compare_level4_to_level1_prints_na_and_no_change(dirs: tuple[Path, Path], md: bool,
                                                          capsys: pytest.CaptureFixture) -> None:
    l4, l1 = dirs
    assert main(["compare", str(l4), str(l1), *(["--md"] if md else [])]) == 0
    line = _ttt_line(capsys.readouterr().out)
    cells = [c.strip() for c in line.strip("|").split("|")] if md else line.split("  ")
    cells = [c.strip() for c in cells if c.strip()]
    assert cells[2] == NA and cells[3] == "-"  # after: n/a; delta: none
    assert float(cells[1]) > 0  # before: the level-4 value
    assert "-100.0%" not in line and "0.00" not in cells[2]


def test_compare_plot_data_leaves_out_a_level1_total_test_time(dirs: tuple[Path, Path]) -> None:
    l4, l1 = dirs
    m4, m1 = metrics_of_path(l4), metrics_of_path(l1)
    assert m1["total_test_time"] is None and m4["total_test_time"] > 0
    assert any(r[0] == TTT_ROW for r in compare_rows(m4, m1))
    assert not any(r[0] == TTT_ROW for r in plot_rows(m4, m1))
    assert any(r[0] == TTT_ROW for r in plot_rows(m4, m4))
    assert _ttt_line(format_compare(m1, m1)).split()[-3:] == ["(level", "1)", "-"]


def test_mean_of_level1_runs_keeps_total_test_time_na() -> None:
    m = mean_metrics([run_metrics(tiny_run(0), level=1), run_metrics(tiny_run(1), level=1)])
    assert m["total_test_time"] is None and m["swimlane_wall"] > 0


def test_run_at_level1_prints_na(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "qkv_proj_rope:baseline", "--level", "1", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"Total Test Time: {NA}   wall:" in out
    assert f"Total Test Time: {NA}" in (tmp_path / "stats.txt").read_text()


def test_sweep_table_prints_na_for_a_missing_total_test_time() -> None:
    assert _fmt_value("total_test_time", None) == NA
    assert _fmt_value("f.avg_exec", None) == "-"


def test_measurement_file_refuses_total_test_time_at_level1(tmp_path: Path) -> None:
    doc = json.loads(DEFAULT_MEASUREMENTS.read_text())
    lvl1 = next(w for w, v in doc["workloads"].items() if v.get("swimlane_level") == 1)
    doc["workloads"][lvl1]["metrics"]["total_test_time"] = {"baseline": 0.0, "precompute": 0.0}
    f = tmp_path / "m.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(UserError, match="total_test_time: not measured at swimlane level 1"):
        load_measurements(f)
