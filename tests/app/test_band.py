"""Calibration band (`swimsim reproduce --band`): profile points, band rows, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.app.band import band_json, band_rows, format_band, load_profile, select
from sim.app.cli import main
from sim.app.fidelity import MetricRow
from sim.util.errors import UserError


def _row(base: float | None, prec: float | None, meas: tuple[float | None, float | None] = (10.0, 8.0)) -> MetricRow:
    r = MetricRow("w", "f.avg_exec")
    r.measured = {"baseline": meas[0], "precompute": meas[1]}
    r.simulated = {"baseline": base, "precompute": prec}
    return r


def test_band_is_min_max_over_the_committed_run_and_the_points() -> None:
    main_rows = [_row(11.0, 9.0)]
    rows = band_rows(main_rows, [[_row(10.5, 8.8)], [_row(12.0, 7.5)]])
    (b,) = rows
    assert (b.lo["baseline"], b.hi["baseline"]) == (10.5, 12.0)
    assert (b.lo["precompute"], b.hi["precompute"]) == (7.5, 9.0)
    assert b.inside("baseline") is False and b.inside("precompute") is True
    # Δ per point (committed 11 -> 9, 10.5 -> 8.8, 12 -> 7.5), not from the band's ends
    assert b.delta_lo == pytest.approx((7.5 - 12.0) / 12.0 * 100)
    assert b.delta_hi == pytest.approx((8.8 - 10.5) / 10.5 * 100)
    text = format_band(rows)
    assert "10.500..12.000" in text and "+5.0%..+20.0%" in text and "Δ %" in text
    doc = band_json("vector.op_fixed_ns", 2.3, [], rows)
    assert doc["workloads"]["w"]["f.avg_exec"]["baseline"] == {
        "measured": 10.0, "simulated": 11.0, "lo": 10.5, "hi": 12.0, "measured_in_band": False}


def test_band_skips_missing_values() -> None:
    (b,) = band_rows([_row(None, 4.0, (None, 5.0))], [[_row(None, 4.5, (None, 5.0))]])
    assert "baseline" not in b.lo and (b.lo["precompute"], b.hi["precompute"]) == (4.0, 4.5)
    assert b.delta_lo is None and b.inside("baseline") is None
    assert "baseline" not in format_band([b])


def _profile(tmp: Path, points: list[dict]) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    for p in points:
        (tmp / p["preset"]).write_text('name = "x"\n')
    (tmp / "profile.json").write_text(json.dumps({"field": "runtime.orch_swimlane_record_us", "points": points}))
    return tmp


def test_load_profile_and_select(tmp_path: Path) -> None:
    d = _profile(tmp_path / "p", [{"value": 2.0, "preset": "a.toml", "error_pct": {"x": 1.0, "y": -2.0}},
                                  {"value": 3.0, "preset": "b.toml", "error_pct": {"x": 3.5, "y": 0.1}}])
    field, pts = load_profile(d)
    assert field == "runtime.orch_swimlane_record_us" and [p.worst_pct for p in pts] == [2.0, 3.5]
    assert [p.value for p in select(pts, 2.3)] == [2.0] and select(pts, 1.0) == []


@pytest.mark.parametrize("content, fragment", [
    (None, "no such file or directory"),
    ("{oops", "invalid JSON"),
    ('{"points": []}', "non-empty 'points'"),
    ('{"points": [{"value": 1}]}', "points[0]"),
    ('{"points": [{"value": "x", "preset": "a.toml", "error_pct": {}}]}',
     "profile.json: points[0].value: 'x' (expected a number)"),
    ('{"points": [{"value": 1, "preset": "a.toml", "error_pct": {"w": null}}]}',
     "points[0].error_pct.w: None (expected a number)"),
    ('{"points": [{"value": 1, "preset": "gone.toml", "error_pct": {}}]}', "gone.toml: no such file or directory"),
])
def test_bad_profile_is_one_line_error(tmp_path: Path, content: str | None, fragment: str) -> None:
    if content is not None:
        (tmp_path / "profile.json").write_text(content)
    with pytest.raises(UserError) as ei:
        load_profile(tmp_path)
    assert fragment in str(ei.value) and "\n" not in str(ei.value)


def test_reproduce_band_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A two-point profile, then `reproduce --band`: the band covers both points and the committed
    run; a tolerance no point meets is a one-line error before anything is written."""
    prof = tmp_path / "prof"
    assert main(["calibrate", "--profile", "runtime.orch_swimlane_record_us=2.5,3.5", "--runs", "1", "--max-evals", "3",
                 "-o", str(prof)]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad"
    assert main(["reproduce", "--runs", "1", "--band", str(prof), "--band-tol", "0", "-o", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "no point has every fit target within ±0 %" in err and len(err.strip().splitlines()) == 1
    assert not bad.exists()
    out = tmp_path / "out"
    assert main(["reproduce", "--runs", "1", "--jobs", "1", "--band", str(prof), "--band-tol", "1000",
                 "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "calibration band: 2 of 2 profile points of runtime.orch_swimlane_record_us" in text
    doc = json.loads((out / "band.json").read_text())
    fid = json.loads((out / "fidelity.json").read_text())
    assert doc["points"] == [2.5, 3.5]
    wall = doc["workloads"]["qkv_proj_rope_decode"]["swimlane_wall"]["baseline"]
    assert wall["lo"] <= fid["workloads"]["qkv_proj_rope_decode"]["metrics"]["swimlane_wall"]["baseline"][
        "simulated"] <= wall["hi"]
    assert wall["lo"] < wall["hi"]  # a cheaper submit shortens the wall
    assert (out / "band.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "band.png" in text
