"""The calibration: scipy search primitives, the fit, the profile, the preset file it writes."""

from __future__ import annotations

import json
import math

import pytest

import hwmodels
from hwmodels.chip import CALIBRATED_PRESET, PRESET_DIR
from sim.app.calibrated_preset import calibrated_preset_toml
from sim.app.calibration import FREE_PARAMS, fit, halton, nelder_mead, profile, start_values
from sim.app.cli import main
from sim.app.measurements import fit_targets, load_measurements


def test_nelder_mead_finds_a_quadratic_minimum() -> None:
    f = lambda x: (x[0] - 0.3) ** 2 + 2 * (x[1] - 0.7) ** 2  # noqa: E731
    x, fx, evals = nelder_mead(f, [0.5, 0.5], [0.1, 0.1], max_evals=200, tol=1e-12)
    assert math.isclose(x[0], 0.3, abs_tol=1e-3) and math.isclose(x[1], 0.7, abs_tol=1e-3)
    assert fx < 1e-6 and evals <= 200


def test_fit_is_deterministic_and_stays_in_bounds() -> None:
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
    pts = halton(64, 4)
    assert all(0.0 <= x < 1.0 for p in pts for x in p)
    assert len({tuple(p) for p in pts}) == 64
    for d in range(4):  # every coordinate visits both halves
        xs = [p[d] for p in pts]
        assert min(xs) < 0.25 and max(xs) > 0.75


def test_halton_is_the_radical_inverse_in_the_first_primes() -> None:
    assert halton(2, 4) == [[1 / 2, 1 / 3, 1 / 5, 1 / 7], [1 / 4, 2 / 3, 2 / 5, 2 / 7]]
    assert halton(0, 3) == []


def test_nelder_mead_stops_on_the_relative_spread_and_the_budget() -> None:
    """The stop is relative to the best value: a loss scaled by 1e6 takes the same path."""
    def f(x: list[float]) -> float:
        return (x[0] - 0.3) ** 2 + 2 * (x[1] - 0.7) ** 2 + 1e-3

    a = nelder_mead(f, [0.5, 0.5], [0.1, 0.1], max_evals=500, tol=1e-5)
    b = nelder_mead(lambda x: 1e6 * f(x), [0.5, 0.5], [0.1, 0.1], max_evals=500, tol=1e-5)
    assert a[0] == b[0] and a[2] == b[2] < 500 and b[1] == pytest.approx(1e6 * a[1])
    calls: list[list[float]] = []
    x, fx, evals = nelder_mead(lambda p: calls.append(p) or f(p), [0.5, 0.5], [0.1, 0.1], max_evals=7)
    assert evals == len(calls) == 7 and fx == min(f(p) for p in calls) and x in calls


def test_committed_preset_is_what_the_writer_writes() -> None:
    """The writer reproduces the committed calibrated preset byte for byte from its values and note."""
    text = (PRESET_DIR / f"{CALIBRATED_PRESET}.toml").read_text()
    chip = hwmodels.load_chip(CALIBRATED_PRESET)
    (note,) = set(chip.provenance.values())
    params = {k: v for k, v in start_values(chip).items() if k in chip.provenance}
    assert calibrated_preset_toml(hwmodels.load_chip("910C"), CALIBRATED_PRESET, params, note) == text


def test_calibrated_preset_file_keeps_the_base_chip(tmp_path) -> None:
    base = hwmodels.load_chip("910B4")
    params = {"vector.op_fixed_ns": 150.5, "runtime.orch_swimlane_record_us": 2.0}
    p = tmp_path / "fit.toml"
    p.write_text(calibrated_preset_toml(base, "fit", params, "fitted on X"))
    chip = hwmodels.load_chip(path=p)
    assert chip.vector.op_fixed_ns == 150.5 and chip.runtime.orch_swimlane_record_us == 2.0
    assert chip.provenance == {"vector.op_fixed_ns": "fitted on X", "runtime.orch_swimlane_record_us": "fitted on X"}
    a, b = chip.model_dump(), base.model_dump()
    for d in (a, b):
        d["vector"].pop("op_fixed_ns"), d["runtime"].pop("orch_swimlane_record_us")
        d.pop("name"), d.pop("provenance")
    assert a == b


def test_profile_holds_the_field_and_refits_the_others() -> None:
    """Each profile point is a fit of the other free parameters with the field held at its value;
    the search is deterministic, and a held value far from the best fit fits worse."""
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
    out = tmp_path / "prof"
    assert main(["calibrate", "--profile", "runtime.orch_swimlane_record_us=2,3", "--runs", "1", "--max-evals", "6",
                 "-o", str(out)]) == 0
    text = capsys.readouterr().out
    doc = json.loads((out / "profile.json").read_text())
    assert [p["value"] for p in doc["points"]] == [2.0, 3.0]
    assert (out / "profile.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for p in doc["points"]:
        chip = hwmodels.load_chip(path=out / p["preset"])
        assert chip.runtime.orch_swimlane_record_us == p["value"] and p["preset"] in text
        assert set(p["error_pct"]) == set(doc["targets"]) == set(fit_targets(load_measurements()))
    rec = "runtime.orch_swimlane_record_us"
    for bad, frag in ((f"{rec}=9", "bounds [0, 4]"), ("nope=1", "FIELD one of"),
                      (f"{rec}=x", "numbers"), (f"{rec}=", "at least one")):
        assert main(["calibrate", "--profile", bad, "-o", str(tmp_path / "bad")]) == 2
        err = capsys.readouterr().err
        assert frag in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()
    (tmp_path / "file").write_text("")
    assert main(["calibrate", "--profile", "runtime.orch_swimlane_record_us=2", "-o", str(tmp_path / "file")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_prior_term_is_zero_inside_the_measured_range_and_grows_in_noise_units() -> None:
    from sim.app.calibration import Prior

    pr = Prior("x", 1.0, 2.0, 0.5, "test")
    assert pr.term(1.5) == 0.0 and pr.term(1.0) == 0.0 and pr.term(2.0) == 0.0
    assert pr.term(3.0) == 4.0 and pr.term(0.5) == 1.0  # 2 and 1 noise units outside
    assert pr.term(None) == math.inf


def test_priors_cover_the_runtime_checks_and_the_cold_bound() -> None:
    from sim.app.calibration import PRIORS, prior_terms
    from traces.runtime_checks import CHECKS

    keys = {p.key for p in PRIORS}
    assert {c.key for c in CHECKS} <= keys and "core.first_kernel_cold_max_ns" in keys
    far = prior_terms({"core.first_kernel_cold_max_ns": 18207.0}, {c.key: c.lo for c in CHECKS})
    assert far["core.first_kernel_cold_max_ns"] > 5.0  # 18.2 µs is > 2 noise units above the 5.31 µs bound
    assert all(v == 0.0 for k, v in far.items() if k != "core.first_kernel_cold_max_ns")


def test_fit_with_priors_pays_for_leaving_the_measurements() -> None:
    from sim.app.calibration import PRIORS, SEED_NOISE

    targets = fit_targets(load_measurements())
    r = fit(targets, max_evals=1, runs=1, priors=PRIORS)
    assert r.terms is not None and set(r.terms) == {p.key for p in PRIORS}
    assert r.loss == pytest.approx(r.fit_loss / SEED_NOISE ** 2 + sum(r.terms.values()))
