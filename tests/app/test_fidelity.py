"""Fidelity table, measurement parsing and the calibration protocol (no engine needed)."""

from __future__ import annotations

import copy
import json
import math
import re

import pytest

from sim.app.calibration import nelder_mead
from sim.app.cli import main
from sim.app.fidelity import (
    DEFAULT_MEASUREMENTS,
    FIT_VARIANT,
    FIT_WORKLOAD,
    build_rows,
    cold_row_counts,
    cold_rows,
    delta_pct,
    fidelity_json,
    fit_targets,
    format_cold_rows,
    format_spread,
    format_table,
    load_measurements,
    metric_value,
    run_spread,
    warm_run_means,
)
from sim.util.errors import UserError


def _fake_metrics(scale: float) -> dict:
    return {
        "total_test_time": 220.0 * scale,
        "swimlane_wall": 250.0 * scale,
        "aicore_span": 200.0 * scale,
        "funcs": {
            "q_head_rms_nope_rope": {"avg_exec": 20.0 * scale, "span": 30.0 * scale, "count": 32},
            "q_rope_cs": {"avg_exec": 5.0, "span": 5.0, "count": 1},
        },
    }


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


def test_rows_roles_and_deltas() -> None:
    meas = load_measurements()
    sim = {w: {"baseline": _fake_metrics(1.0), "precompute": _fake_metrics(0.9)} for w in meas.values}
    rows = build_rows(meas, sim)
    doc = fidelity_json(rows)
    q = doc["workloads"][FIT_WORKLOAD]["metrics"]["q_head_rms_nope_rope.avg_exec"]
    assert q["baseline"]["role"] == "fitted" and q["precompute"]["role"] == "predicted"
    assert q["baseline"]["simulated"] == 20.0
    assert q["baseline"]["error_pct"] == pytest.approx((20.0 - 22.227) / 22.227 * 100, abs=0.01)
    assert q["delta_pct"]["simulated"] == pytest.approx(-10.0)
    hca = doc["workloads"]["decode_attention_hca"]["metrics"]["swimlane_wall"]
    assert hca["baseline"]["role"] == "predicted"
    assert "total_test_time" not in doc["workloads"]["decode_attention_hca"]["metrics"]
    text = format_table(rows)
    assert "F" in text and "-10.0%" in text
    md = format_table(rows, markdown=True)
    assert md.startswith("| workload |")


def test_delta_pct() -> None:
    assert delta_pct(100.0, 98.5) == pytest.approx(-1.5)
    assert delta_pct(None, 1.0) is None


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("{not json", "not valid JSON"),
        ('{"workloads": {"nope": {"metrics": {}}}}', "workloads.nope"),
        ('{"workloads": {"qkv_proj_rope_decode": {"metrics": {"swimlane_wall": {"baseline": "x"}}}}}', "baseline"),
        ('{"workloads": {"qkv_proj_rope_decode": {"metrics": {"wall": {"baseline": 1}}}}}', "metrics.wall: unknown"),
        ('{"workloads": {"qkv_proj_rope_decode": {"metrics": {"q.avg": {"baseline": 1}}}}}', "FUNCTION.<avg_exec|"),
        ('{"workloads": {"qkv_proj_rope_decode": {"metrics": {"swimlane_wall": 3}}}}', "per-variant values"),
    ],
)
def test_bad_measurement_file_is_one_line_error(tmp_path, content: str, fragment: str) -> None:
    p = tmp_path / "m.json"
    p.write_text(content)
    with pytest.raises(UserError) as ei:
        load_measurements(p)
    assert fragment in str(ei.value) and "\n" not in str(ei.value)


def test_explain_unknown_dir_exits_2(tmp_path, capsys) -> None:
    rc = main(["explain", str(tmp_path), "q_head_rms_nope_rope"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "run_records.json" in err and len(err.strip().splitlines()) == 1


def test_nelder_mead_finds_a_quadratic_minimum() -> None:
    f = lambda x: (x[0] - 0.3) ** 2 + 2 * (x[1] - 0.7) ** 2  # noqa: E731
    x, fx, evals = nelder_mead(f, [0.5, 0.5], [0.1, 0.1], max_evals=200, tol=1e-12)
    assert math.isclose(x[0], 0.3, abs_tol=1e-3) and math.isclose(x[1], 0.7, abs_tol=1e-3)
    assert fx < 1e-6 and evals <= 200


def test_fit_is_deterministic_and_stays_in_bounds() -> None:
    from sim.app.calibration import FREE_PARAMS, fit

    targets = fit_targets(load_measurements())
    a = fit(targets, max_evals=9, runs=1)
    b = fit(targets, max_evals=9, runs=1)
    assert a.params == b.params and a.loss == b.loss
    assert a.evaluations <= 9 + len(FREE_PARAMS) + 1
    for p in FREE_PARAMS:
        assert p.lo <= a.params[p.field] <= p.hi


def test_fit_starts_from_the_given_point() -> None:
    """A start point (an earlier calibration) is the first probe: with no budget left for the
    simplex, the fit keeps it when it beats the one Halton probe."""
    import hwmodels
    from hwmodels.chip import CALIBRATED_PRESET
    from sim.app.calibration import fit, start_values

    targets = fit_targets(load_measurements())
    start = start_values(hwmodels.load_chip(CALIBRATED_PRESET))
    r = fit(targets, max_evals=6, runs=1, start=start)
    assert r.evaluations == 2
    assert r.params == pytest.approx(start, rel=1e-6)
    prior = fit(targets, max_evals=6, runs=1)
    assert prior.params != r.params and prior.loss > r.loss


def test_calibrate_bad_start_is_one_line_error(tmp_path, capsys) -> None:
    out = tmp_path / "x.toml"
    assert main(["calibrate", "--start", str(tmp_path / "missing.toml"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "missing.toml" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_halton_points_fill_the_unit_cube() -> None:
    from sim.app.calibration import _halton

    pts = [_halton(i, 4) for i in range(1, 65)]
    assert all(0.0 <= x < 1.0 for p in pts for x in p)
    assert len({tuple(p) for p in pts}) == 64
    for d in range(4):  # every coordinate visits both halves
        xs = [p[d] for p in pts]
        assert min(xs) < 0.25 and max(xs) > 0.75


def test_calibrated_preset_file_keeps_the_base_chip(tmp_path) -> None:
    import hwmodels
    from sim.app.calibration import FitResult
    from sim.app.commands.reproduce import calibrated_preset_toml

    base = hwmodels.load_chip("910B4")
    res = FitResult({"vector.op_fixed_ns": 150.5, "runtime.orch_submit_us": 2.0}, 0.01, 10, {}, {})
    p = tmp_path / "fit.toml"
    p.write_text(calibrated_preset_toml(base, "fit", res, "fitted on X"))
    chip = hwmodels.load_chip(path=p)
    assert chip.vector.op_fixed_ns == 150.5 and chip.runtime.orch_submit_us == 2.0
    assert chip.provenance == {"vector.op_fixed_ns": "fitted on X", "runtime.orch_submit_us": "fitted on X"}
    a, b = chip.model_dump(), base.model_dump()
    for d in (a, b):
        d["vector"].pop("op_fixed_ns"), d["runtime"].pop("orch_submit_us")
        d.pop("name"), d.pop("provenance")
    assert a == b


def test_run_spread_is_min_median_max_per_seed() -> None:
    meas = load_measurements()
    seeds = [_fake_metrics(x) for x in (1.0, 1.2, 0.9)]
    per_seed = {w: {"baseline": seeds, "precompute": seeds[:1]} for w in meas.values}
    spread = run_spread(meas, per_seed)
    qh = spread[FIT_WORKLOAD]["q_head_rms_nope_rope.avg_exec"]
    assert qh["baseline"] == [pytest.approx(18.0), pytest.approx(20.0), pytest.approx(24.0)]
    assert qh["precompute"] == [20.0, 20.0, 20.0]
    assert spread[FIT_WORKLOAD]["q_rope_cs.avg_exec"]["baseline"] == [5.0, 5.0, 5.0]
    text = format_spread(meas, spread)
    assert "18.00 / 20.00 / 24.00" in text
    md = format_spread(meas, spread, markdown=True)
    assert md.splitlines()[1].startswith("|---|---|---:|")


def test_cold_rows_are_counted_per_function_and_run() -> None:
    from types import SimpleNamespace

    from sim.ir.records import SubtaskRecord

    def row(func: str, cold: float) -> SubtaskRecord:
        return SubtaskRecord(task=0, task_id=0, func=func, func_id=0, block=0, lane="aiv0", core_id=24,
                             reg_task_id=1, thread=0, dispatch=0.0, receive=0.0, start=0.0, end=1.0, finish=1.0,
                             breakdown={"cold_core": cold} if cold else {})

    res = SimpleNamespace(subtasks=[row("a", 5.0), row("a", 0.0), row("a", 2.0), row("b", 0.0)])
    assert cold_rows(res) == {"a": 2}
    meas = load_measurements()

    def seed(n: int) -> dict:
        m = _fake_metrics(1.0)
        m["funcs"]["q_head_rms_nope_rope"]["cold_rows"] = n
        return m

    per_seed = {w: {"baseline": [seed(0), seed(13), seed(0)], "precompute": [seed(0)]} for w in meas.values}
    counts = cold_row_counts(meas, per_seed)
    assert counts[FIT_WORKLOAD]["q_head_rms_nope_rope"] == {"baseline": [0, 13, 0], "precompute": [0]}
    assert counts[FIT_WORKLOAD]["q_rope_cs"]["baseline"] == [0, 0, 0]
    text = format_cold_rows(counts)
    assert "q_head_rms_nope_rope baseline: 0 13 0  (1 of 3 runs)" in text
    assert "precompute" not in text and "q_rope_cs" not in text  # runs without cold rows are not listed
    assert format_cold_rows(cold_row_counts(meas, {w: {"baseline": [seed(0)]} for w in meas.values})) == ""
    per_seed[FIT_WORKLOAD]["baseline"][1]["funcs"]["q_head_rms_nope_rope"]["avg_exec"] = 99.0
    warm = warm_run_means(meas, per_seed)
    qh = warm[FIT_WORKLOAD]["q_head_rms_nope_rope"]["baseline"]
    assert qh == {"avg_exec": 20.0, "span": 30.0, "runs": 2}  # the cold run (99 µs) is left out
    assert "the other 2: Avg Exec 20.00, span 30.00 µs" in format_cold_rows(counts, warm)


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


def test_profile_holds_the_field_and_refits_the_others() -> None:
    """Each profile point is a fit of the other free parameters with the field held at its value;
    the search is deterministic, and a held value far from the best fit fits worse."""
    import hwmodels
    from hwmodels.chip import CALIBRATED_PRESET
    from sim.app.calibration import FREE_PARAMS, profile, start_values

    targets = fit_targets(load_measurements())
    start = start_values(hwmodels.load_chip(CALIBRATED_PRESET))
    field = "vector.op_fixed_ns"
    pts = profile(targets, field, [start[field], 200.0], max_evals=8, runs=1, start=start)
    again = profile(targets, field, [200.0], max_evals=8, runs=1, start=start)
    assert [p.value for p in pts] == [start[field], 200.0]
    for p in pts:
        assert p.result.params[field] == p.value
        assert all(q.lo <= p.result.params[q.field] <= q.hi for q in FREE_PARAMS)
    assert again[0].result.params == pts[1].result.params and again[0].result.loss == pts[1].result.loss
    assert pts[1].result.loss > 10 * pts[0].result.loss  # 200 ns per op is far off the standalone baseline


def test_calibrate_profile_writes_table_json_png_and_presets(tmp_path, capsys) -> None:
    import hwmodels

    out = tmp_path / "prof"
    assert main(["calibrate", "--profile", "runtime.orch_submit_us=2,3", "--runs", "1", "--max-evals", "6",
                 "-o", str(out)]) == 0
    text = capsys.readouterr().out
    doc = json.loads((out / "profile.json").read_text())
    assert [p["value"] for p in doc["points"]] == [2.0, 3.0]
    assert (out / "profile.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for p in doc["points"]:
        chip = hwmodels.load_chip(path=out / p["preset"])
        assert chip.runtime.orch_submit_us == p["value"] and p["preset"] in text
        assert set(p["error_pct"]) == set(doc["targets"]) == set(fit_targets(load_measurements()))
    for bad, frag in (("runtime.orch_submit_us=9", "bounds [0.5, 4]"), ("nope=1", "FIELD one of"),
                      ("runtime.orch_submit_us=x", "numbers"), ("runtime.orch_submit_us=", "at least one")):
        assert main(["calibrate", "--profile", bad, "-o", str(tmp_path / "bad")]) == 2
        err = capsys.readouterr().err
        assert frag in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()
    (tmp_path / "file").write_text("")
    assert main(["calibrate", "--profile", "runtime.orch_submit_us=2", "-o", str(tmp_path / "file")]) == 2
    assert "not a directory" in capsys.readouterr().err


def _square(x: int) -> int:
    return x * x


def test_run_jobs_runs_the_background_task_and_ignores_its_errors() -> None:
    from sim.app.commands.reproduce import run_jobs

    seen: list[str] = []
    assert run_jobs(_square, [1, 2, 3], 2, background=lambda: seen.append("ran")) == [1, 4, 9]
    assert seen == ["ran"]  # joined before run_jobs returns

    def broken() -> None:
        raise ImportError("no plotting library")

    assert run_jobs(_square, [4, 5], 2, background=broken) == [16, 25]
    assert run_jobs(_square, [6], 1, background=broken) == [36]  # inline: no thread at all
