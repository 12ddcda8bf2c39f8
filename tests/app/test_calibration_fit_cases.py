"""The calibration objective with the fit-set cases: terms in the case's stated noise, the objective's
composition, and the refusal of validation cases (synthetic metrics; no pypto-lib needed)."""

from __future__ import annotations

import math

import pytest

import hwmodels
from hwmodels.chip import CALIBRATED_PRESET
from sim.app.backtest_cases import Case, load_cases
from sim.app.calibration import (
    DEFAULT_CASE_NOISE,
    FIT_CASE_NOISE,
    PRIORS,
    SEED_NOISE,
    RecordedCase,
    case_noise,
    case_terms,
    evaluate,
    fit,
    fit_set,
    record_fit_cases,
    require_fit,
    start_values,
)
from sim.app.cli import main
from sim.app.measurements import fit_targets, load_measurements
from sim.util.errors import UserError


def _case(cid: str = "synthetic-fit", set_: str = "fit", **measured: tuple[float | None, float | None]) -> Case:
    return Case.model_validate({
        "id": cid, "set": set_, "repository": "owner/repo", "before_commit": "a" * 40, "after_commit": "b" * 40,
        "entry_file": "models/x.py", "entry_function": "f", "capture_level": 4, "measurement": "l2_swimlane",
        "measured": {k: {"before": b, "after": a, "unit": "us"} for k, (b, a) in measured.items()},
    })


def test_fit_case_terms_are_value_errors_and_change_error_in_noise_units() -> None:
    case = _case(wall=(100.0, 90.0))  # not listed: the default 5 % noise
    assert case_noise(case) == DEFAULT_CASE_NOISE and DEFAULT_CASE_NOISE.side == 0.05
    t = case_terms(case, {"wall": 105.0}, {"wall": 90.0})
    assert set(t) == {"synthetic-fit:wall:before", "synthetic-fit:wall:after", "synthetic-fit:wall:delta"}
    assert t["synthetic-fit:wall:before"] == pytest.approx(1.0)  # +5 % = one noise unit
    assert t["synthetic-fit:wall:after"] == 0.0
    sim_delta = (90.0 - 105.0) / 105.0 * 100.0  # −14.29 % against the measured −10 %
    assert t["synthetic-fit:wall:delta"] == pytest.approx(((sim_delta + 10.0) / (math.sqrt(2) * 5.0)) ** 2)


def test_fit_case_terms_skip_what_is_not_measured_or_not_simulated() -> None:
    case = _case(wall=(100.0, 90.0), **{"k.avg_exec": (None, 5.0)})
    t = case_terms(case, {"wall": None, "k.avg_exec": None}, {"wall": 90.0, "k.avg_exec": 6.0})
    assert set(t) == {"synthetic-fit:wall:after", "synthetic-fit:k.avg_exec:after"}  # no before, so no change
    assert t["synthetic-fit:k.avg_exec:after"] == pytest.approx((0.2 / 0.05) ** 2)


def test_fit_case_terms_are_weighted_by_the_cases_stated_noise() -> None:
    quiet, noisy = "pr648-qkv-standalone", "pr648-hca-layer"
    assert FIT_CASE_NOISE[quiet].side < DEFAULT_CASE_NOISE.side < FIT_CASE_NOISE[noisy].side
    same = {"before": {"wall": 110.0}, "after": {"wall": 99.0}}
    terms = {cid: case_terms(_case(cid, wall=(100.0, 90.0)), **same)[f"{cid}:wall:before"]
             for cid in (quiet, noisy, "synthetic-fit")}
    for cid, term in terms.items():
        assert term == pytest.approx((0.1 / case_noise(_case(cid, wall=(1.0, 1.0))).side) ** 2)
    assert terms[quiet] > terms["synthetic-fit"] > terms[noisy]


def test_bundled_fit_cases_have_their_noise_stated() -> None:
    cases, _ = load_cases()
    assert {c.id for c in fit_set(cases.cases)} <= set(FIT_CASE_NOISE)


def test_objective_is_seed_plus_priors_plus_fit_case_terms(monkeypatch) -> None:
    import sim.app.calibration as cal

    case = _case(wall=(100.0, 90.0))
    monkeypatch.setattr(cal, "simulate_case_values", lambda rc, chip, seeds, jitter: ({"wall": 110.0}, {"wall": 90.0}))
    targets = fit_targets(load_measurements())
    params = start_values(hwmodels.load_chip(CALIBRATED_PRESET))
    ev = evaluate(params, targets, runs=1, priors=PRIORS, cases=[RecordedCase(case, object(), object())])
    expected_case = case_terms(case, {"wall": 110.0}, {"wall": 90.0})
    assert ev.case_terms == expected_case and sum(expected_case.values()) > 4.0
    assert set(ev.terms) == {p.key for p in PRIORS}
    seed = ev.fit_loss / SEED_NOISE ** 2
    assert ev.total == pytest.approx(seed + sum(ev.terms.values()) + sum(expected_case.values()))
    plain = evaluate(params, targets, runs=1, priors=PRIORS)
    assert ev.total == pytest.approx(plain.total + sum(expected_case.values()))
    # a case that could not be recorded adds nothing
    left_out = evaluate(params, targets, runs=1, priors=PRIORS, cases=[RecordedCase(case, error="no torch")])
    assert left_out.total == pytest.approx(plain.total) and left_out.case_terms == {}


def test_validation_case_is_refused_by_the_fit(monkeypatch) -> None:
    import sim.app.calibration as cal

    held_out = _case("held-out", "validation", wall=(100.0, 90.0))
    ran: list[str] = []
    monkeypatch.setattr(cal, "record_side", lambda *a, **k: ran.append("record"))
    monkeypatch.setattr(cal, "simulate_views", lambda *a, **k: ran.append("simulate"))
    with pytest.raises(UserError, match="held-out.*validation"):
        require_fit(held_out)
    with pytest.raises(UserError, match="held-out"):
        case_terms(held_out, {"wall": 100.0}, {"wall": 90.0})
    with pytest.raises(UserError, match="held-out"):
        record_fit_cases([_case(wall=(1.0, 1.0)), held_out], [])
    with pytest.raises(UserError, match="held-out"):
        fit(fit_targets(load_measurements()), max_evals=1, runs=1, cases=[RecordedCase(held_out, object(), object())])
    assert ran == []  # nothing of the validation case was recorded or simulated
    bundled, _ = load_cases()
    chosen = fit_set(bundled.cases)
    assert chosen and all(c.set == "fit" for c in chosen)
    assert len(chosen) < len(bundled.cases)


def test_calibrate_fit_cases_needs_a_pypto_lib_clone(tmp_path, capsys) -> None:
    out = tmp_path / "x.toml"
    assert main(["calibrate", "--fit-cases", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--pypto-lib" in err and len(err.strip().splitlines()) == 1 and not out.exists()
    assert main(["calibrate", "--pypto-lib", str(tmp_path), "-o", str(out)]) == 2
    assert "--fit-cases" in capsys.readouterr().err and not out.exists()
