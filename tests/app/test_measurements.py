"""The measurement file: parsing, one-line errors, and the fit targets the calibration may see."""

from __future__ import annotations

import copy
import json

import pytest

from sim.app.measurements import DEFAULT_MEASUREMENTS, FIT_VARIANT, FIT_WORKLOAD, fit_targets, load_measurements
from sim.util.errors import UserError
from traces.stats import metric_value


def test_fit_targets_are_only_the_standalone_baseline() -> None:
    meas = load_measurements()
    targets = fit_targets(meas)
    raw = json.loads(DEFAULT_MEASUREMENTS.read_text())
    expected = {
        m: v[FIT_VARIANT]
        for m, v in raw["workloads"][FIT_WORKLOAD]["metrics"].items()
        if v.get(FIT_VARIANT) is not None
    }
    assert targets == expected
    assert "q_head_rms_nope_rope.avg_exec" in targets


def test_poisoned_validation_numbers_do_not_reach_the_fit(tmp_path) -> None:
    """Replacing every non-fit number changes nothing the calibration sees."""
    raw = json.loads(DEFAULT_MEASUREMENTS.read_text())
    poisoned = copy.deepcopy(raw)
    for wname, w in poisoned["workloads"].items():
        for m in w["metrics"].values():
            for var in ("baseline", "precompute"):
                if (wname, var) != (FIT_WORKLOAD, FIT_VARIANT) and m.get(var) is not None:
                    m[var] = 1e9
    p = tmp_path / "poisoned.json"
    p.write_text(json.dumps(poisoned))
    assert fit_targets(load_measurements(p)) == fit_targets(load_measurements())


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("{not json", "invalid JSON"),
        ('{"workloads": {"nope": {"metrics": {}}}}', "workloads.nope"),
        ('{"workloads": {"qkv_proj_rope_decode": {"metrics": {"swimlane_wall": {"baseline": "x"}}}}}', "baseline"),
        ('{"workloads": {"qkv_proj_rope_decode": {"metrics": {"wall": {"baseline": 1}}}}}', "metrics.wall: unknown"),
        ('{"workloads": {"qkv_proj_rope_decode": {"metrics": {"q.avg": {"baseline": 1}}}}}', "FUNCTION.<avg_exec|"),
        ('{"workloads": {"qkv_proj_rope_decode": {"metrics": {"swimlane_wall": 3}}}}', "per-variant values"),
        ("[]", "m.json: expected an object with a 'workloads' object"),
        ('{"workloads": {"qkv_proj_rope_decode": {"swimlane_level": 7, "metrics": {}}}}',
         "workloads.qkv_proj_rope_decode.swimlane_level: 7 (expected 1..4)"),
        ('{"workloads": {"qkv_proj_rope_decode": {}}}',
         "m.json: workloads.qkv_proj_rope_decode.metrics: expected an object"),
        ('{"workloads": {"qkv_proj_rope_decode": 3}}', "workloads.qkv_proj_rope_decode: expected an object"),
    ],
)
def test_bad_measurement_file_is_one_line_error(tmp_path, content: str, fragment: str) -> None:
    p = tmp_path / "m.json"
    p.write_text(content)
    with pytest.raises(UserError) as ei:
        load_measurements(p)
    assert fragment in str(ei.value) and "\n" not in str(ei.value)


def test_reused_core_avg_exec_is_one_more_fit_target(tmp_path) -> None:
    """A standalone-baseline reused-core Avg Exec (what `swimsim placement` reads off a hardware
    capture) joins the fit targets; the same split of another variant or workload does not."""
    raw = json.loads(DEFAULT_MEASUREMENTS.read_text())
    name = "q_head_rms_nope_rope.avg_exec_reused"
    raw["workloads"][FIT_WORKLOAD]["metrics"][name] = {"baseline": 14.5, "precompute": 11.5}
    raw["workloads"]["decode_attention_hca"]["metrics"][name] = {"baseline": 14.0}
    p = tmp_path / "m.json"
    p.write_text(json.dumps(raw))
    targets = fit_targets(load_measurements(p))
    assert targets == {**fit_targets(load_measurements()), name: 14.5}
    sim = {"funcs": {"q_head_rms_nope_rope": {"avg_exec_reused": None, "avg_exec": 20.0}}}
    assert metric_value(sim, name) is None and metric_value(sim, "q_head_rms_nope_rope.avg_exec") == 20.0
