"""The founding comparison's ten checks (``reproduce``): each kind met and missed, and no checks for
a measurement file without the comparison's workloads."""

from __future__ import annotations

import pytest

from sim.app.fidelity import MetricRow
from sim.app.seed_checks import HCA, QKV, SPECS, format_seed_checks, seed_checks

_QH = "q_head_rms_nope_rope"
_MEASURED = {  # PR #648 (µs): baseline, precompute
    (QKV, "total_test_time"): (220.967, 221.673),
    (QKV, "swimlane_wall"): (258.613, 262.353),
    (QKV, f"{_QH}.avg_exec"): (22.227, 19.130),
    (QKV, f"{_QH}.span"): (34.420, 31.347),
    (QKV, "q_rope_cs.avg_exec"): (None, 5.047),
    (HCA, "swimlane_wall"): (578.607, 569.740),
    (HCA, f"{_QH}.avg_exec"): (14.197, 11.007),
    (HCA, f"{_QH}.span"): (16.867, 14.873),
    (HCA, "q_rope_cs.avg_exec"): (None, 4.127),
}


def _rows(scale: dict[tuple[str, str, str], float] | None = None) -> list[MetricRow]:
    """Rows whose simulated values equal the measured ones, times ``scale[(workload, metric, variant)]``."""
    scale = scale or {}
    rows = []
    for (w, m), (b, p) in _MEASURED.items():
        r = MetricRow(workload=w, metric=m)
        for var, v in (("baseline", b), ("precompute", p)):
            r.measured[var] = v
            r.simulated[var] = None if v is None else v * scale.get((w, m, var), 1.0)
            r.role[var] = "fitted" if (w == QKV and var == "baseline") else "predicted"
        rows.append(r)
    return rows


def _by_name(rows: list[MetricRow]) -> dict[str, bool]:
    return {c.name: c.met for c in seed_checks(rows)}


def test_a_perfect_simulation_meets_all_ten_checks() -> None:
    checks = seed_checks(_rows())
    assert len(checks) == len(SPECS) == 10 and all(c.met for c in checks)
    assert format_seed_checks(checks).startswith("seed checks (docs/calibration.md §3): 10 of 10 met\n")


@pytest.mark.parametrize(("scale", "missed"), [
    # +5.1 % on a fitted value; the wall's change moves by 5 points as well
    ({(QKV, "swimlane_wall", "baseline"): 1.051}, {"fitted metrics", "standalone wall change"}),
    # -11 % on a predicted span: no change check reads the span
    ({(QKV, f"{_QH}.span", "precompute"): 0.89}, {"standalone precompute predictions"}),
    # +10.1 % on the HCA q-head's precompute Avg Exec: its change moves by 8 points as well
    ({(HCA, f"{_QH}.avg_exec", "precompute"): 1.101}, {"HCA q-head Avg Exec and span, both variants",
                                                        "HCA q-head change"}),
    ({(QKV, "q_rope_cs.avg_exec", "precompute"): 1.16}, {"standalone q_rope_cs"}),  # +16 % > ±15 %
])
def test_a_value_out_of_its_band_misses_the_checks_that_read_it(scale: dict, missed: set[str]) -> None:
    met = _by_name(_rows(scale))
    assert {name for name, ok in met.items() if not ok} == missed


def test_changes_are_judged_in_points_and_by_sign() -> None:
    # standalone wall: measured +1.4 %; precompute 3 % lower gives about -1.6 %: 3 points off a ±2 band
    assert not _by_name(_rows({(QKV, "swimlane_wall", "precompute"): 0.97}))["standalone wall change"]
    assert _by_name(_rows({(QKV, "swimlane_wall", "precompute"): 0.99}))["standalone wall change"]
    # HCA wall: measured -1.5 %; a rising simulated wall has the wrong sign
    assert not _by_name(_rows({(HCA, "swimlane_wall", "precompute"): 1.03}))["HCA wall change"]
    # q-head change: measured -13.9 %; 6 points less steep misses, 4 points does not
    assert not _by_name(_rows({(QKV, f"{_QH}.avg_exec", "precompute"): 1.07}))["standalone q-head change"]
    assert _by_name(_rows({(QKV, f"{_QH}.avg_exec", "precompute"): 1.045}))["standalone q-head change"]


def test_other_measurement_files_get_no_checks() -> None:
    r = MetricRow(workload="some_kernel", metric="swimlane_wall")
    r.measured = {"baseline": 10.0, "precompute": 9.0}
    r.simulated = {"baseline": 10.0, "precompute": 9.0}
    assert seed_checks([r]) == []
    rows = [r for r in _rows() if r.metric != "q_rope_cs.avg_exec"]
    assert len(seed_checks(rows)) == 8  # the two q_rope_cs checks need their rows
