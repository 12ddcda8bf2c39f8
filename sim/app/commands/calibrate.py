"""``swimsim calibrate``: fit the free chip parameters on the standalone baseline, or profile one.

The fit's objective adds the runtime's measured microbenchmarks as noise-weighted priors
(:data:`sim.app.calibration.PRIORS`) and prints each prior's value and term; a profile fits the
targets alone.

Without ``--profile`` the fit (:func:`sim.app.calibration.fit`) starts from the bundled calibrated
preset (or ``--start`` / ``--from-prior``) and writes a chip file with provenance into the current
directory (``<base>-calibrated.toml``) or ``-o FILE``, never into the installed presets; the file is
used with ``--chip-file``. ``--profile FIELD=v1,...`` holds one free parameter at each value,
re-fits the others and writes a table, ``profile.json``, ``profile.png`` and one preset per point
(what ``reproduce --band`` reads) into ``-o DIR`` (default ``out/calibration_profile``).
``--fit-cases --pypto-lib DIR`` adds every measured metric of the case file's fit-set cases to the
objective (each side recorded once, simulated on seed 0 per evaluation), checks the optimum against
the start on 3 seeds per side and writes the preset only when the objective improves there.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

import hwmodels
from hwmodels.chip import CALIBRATED_PRESET, PRESET_DIR, ChipConfig
from sim.app.backtest import open_clone
from sim.app.backtest_cases import load_cases
from sim.app.calibrated_preset import calibrated_preset_toml
from sim.app.calibration import (
    FREE_PARAMS,
    PRIORS,
    FitResult,
    case_noise,
    evaluate,
    fit,
    fit_set,
    free_param,
    profile,
    provenance_note,
    record_fit_cases,
    start_values,
)
from sim.app.commands import non_negative_float, positive_int
from sim.app.fidelity import DEFAULT_RUNS
from sim.app.measurements import fit_targets, load_measurements
from sim.app.paths import check_exists, check_out_dir, check_out_file, looks_like_path, wrote
from sim.util.errors import UserError
from sim.util.fileio import write_text_atomic
from sim.util.tables import render_table
from traces.plot import plot_profile
from traces.stats import error_pct, metric_value

CALIBRATED_SUFFIX = "-calibrated"
MAX_EVALS = 250  # default evaluation budget
MAX_EVALS_FIT_CASES = 120  # with --fit-cases (an evaluation also simulates ten fit-case sides)
PROFILE_DIR = "out/calibration_profile"


def _fit_progress(total: int, unit: str, label: str) -> tuple[Any, Callable[[int, float], None]]:
    """A progress bar over ``total`` evaluations and the fit's progress callback that advances it
    and shows the best value so far as ``label``."""
    bar = tqdm(total=total, desc="fitting", unit=unit, disable=not sys.stderr.isatty())
    last = [0]

    def progress(evals: int, best: float) -> None:
        bar.update(max(0, evals - last[0]))
        last[0] = evals
        bar.set_postfix({label: f"{best:.4g}"})

    return bar, progress

def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit the free parameters on the baseline and write the preset (or, with ``--profile``, the profile)."""
    prof = _parse_profile(args.profile) if args.profile else None
    if args.fit_cases and prof is not None:
        raise UserError("--fit-cases: not with --profile (a profile fits the standalone baseline alone)")
    if args.fit_cases and not args.pypto_lib:
        raise UserError("--fit-cases: expected --pypto-lib DIR (a pypto-lib clone or bare mirror holding the "
                        "fit cases' commits)")
    if args.pypto_lib and not args.fit_cases:
        raise UserError("--pypto-lib: only read with --fit-cases")
    if args.max_evals is None:
        args.max_evals = MAX_EVALS_FIT_CASES if args.fit_cases else MAX_EVALS
    base_set = _base_set(args.set or [])
    base = hwmodels.load_chip(args.base, overrides=base_set)  # a bad --base or --set fails before any work
    if prof is not None:
        out = check_out_dir(args.output or PROFILE_DIR, "-o")
    else:
        out = check_out_file(args.output or f"{base.name}{CALIBRATED_SUFFIX}.toml", "-o")
    meas = load_measurements(args.measurements)
    targets = fit_targets(meas)
    if not targets:
        raise UserError(f"{meas.path}: no fit targets (standalone baseline metrics) found")
    start_chip = None  # --start and --from-prior are mutually exclusive
    if args.start:
        is_file = looks_like_path(args.start)
        start_chip = hwmodels.load_chip(path=check_exists(args.start)) if is_file else hwmodels.load_chip(args.start)
    elif not args.from_prior and (PRESET_DIR / f"{CALIBRATED_PRESET}.toml").is_file():
        start_chip = hwmodels.load_chip(CALIBRATED_PRESET)
    start = start_values(start_chip) if start_chip is not None else None
    print("fit targets (standalone baseline, µs): " + ", ".join(f"{k}={v}" for k, v in targets.items()))
    print("free parameters: " + ", ".join(f"{p.field} [{p.lo}, {p.hi}]" for p in FREE_PARAMS))
    if start is not None:
        print(f"start: {start_chip.name} (" + ", ".join(f"{k}={v:g}" for k, v in start.items()) + ")")
    else:
        print(f"start: the priors of {args.base or '910C'}")
    if base_set:
        print("held fixed (--set): " + ", ".join(base_set))
    if prof is not None:
        return _calibrate_profile(args, out, base, targets, start, *prof, base_set=base_set)
    if args.fit_cases:
        return _calibrate_fit_cases(args, out, base, targets, start, base_set)
    bar, progress = _fit_progress(args.max_evals, "sim", "loss")

    result = fit(
        targets, base_chip=args.base, max_evals=args.max_evals, runs=args.runs, jitter=args.jitter, progress=progress,
        start=start, priors=PRIORS, base_set=base_set,
    )
    bar.close()
    write_text_atomic(out, calibrated_preset_toml(base, out.stem, result.params, provenance_note(result)))
    hwmodels.load_chip(path=out)  # the written preset must load
    for k, v in result.params.items():
        print(f"  {k} = {v}")
    print(f"objective {result.loss:.5g} (targets' squared relative errors {result.fit_loss:.5g}) "
          f"after {result.evaluations} simulations")
    _print_priors(result)
    print(f"use it: swimsim reproduce --chip-file {out}   or   swimsim run KERNEL --chip-file {out}")
    wrote([out])
    return 0


FIT_CHECK_SEEDS = 3  # seeds per side of the fit cases when the optimum is checked (as `swimsim backtest`)
FIT_CHECK_JITTER = 0.03


def _calibrate_fit_cases(args: argparse.Namespace, out: Path, base: ChipConfig, targets: dict[str, float],
                         start: dict[str, float] | None, base_set: list[str]) -> int:
    """``calibrate --fit-cases``: the objective adds the fit set's cases (each side recorded once, simulated
    on seed 0 per evaluation); the optimum and the start are then compared on 3 seeds per side, and the
    preset is written only when the objective improves there."""
    clones = [open_clone(a) for a in args.pypto_lib]
    cf, shown = load_cases(args.cases)
    cases = fit_set(cf.cases)  # the validation cases are dropped here, unread
    if not cases:
        raise UserError(f"{shown}: no case declared \"set\": \"fit\"")
    print(f"fit cases ({shown}): " + ", ".join(f"{c.id} (noise {case_noise(c).side * 100:g} %)" for c in cases))
    bar = tqdm(total=2 * len(cases), desc="recording fit cases", unit="side", disable=not sys.stderr.isatty())
    recorded = record_fit_cases(cases, clones, tick=bar.update)
    bar.close()
    for rc in recorded:
        if rc.error is not None:
            print(f"  {rc.case.id}: left out of the fit: {rc.error}")
    if all(rc.error is not None for rc in recorded):
        raise UserError("--fit-cases: no fit case could be recorded")
    bar, progress = _fit_progress(args.max_evals, "eval", "objective")

    result = fit(targets, base_chip=args.base, max_evals=args.max_evals, runs=args.runs, jitter=args.jitter,
                 progress=progress, start=start, priors=PRIORS, cases=recorded, base_set=base_set)
    bar.close()
    seeds = list(range(FIT_CHECK_SEEDS))
    start_params = start if start is not None else start_values(base)
    checked = {}
    for label, params in (("start", start_params), ("fitted", result.params)):
        checked[label] = evaluate(params, targets, base_chip=args.base, runs=args.runs, jitter=args.jitter,
                                  priors=PRIORS, cases=recorded, case_seeds=seeds, case_jitter=FIT_CHECK_JITTER,
                                  base_set=base_set)
    _print_fit_cases(result, recorded, checked)
    s0, s1 = checked["start"].total, checked["fitted"].total
    print(f"objective on {len(seeds)} seeds per fit-case side: start {s0:.5g}, fitted {s1:.5g}")
    if not s1 < s0:
        print("the fitted point does not improve the objective on the check: no preset written")
        return 0
    note = provenance_note(result, args.cases)
    write_text_atomic(out, calibrated_preset_toml(base, out.stem, result.params, note))
    hwmodels.load_chip(path=out)  # the written preset must load
    print(f"use it: swimsim reproduce --chip-file {out}   or   swimsim backtest --chip-file {out} ...")
    wrote([out])
    return 0


def _print_priors(result: FitResult) -> None:
    """Each prior's fitted (or simulated) value beside its measured range, noise and objective term."""
    for pr in PRIORS:
        val = result.params.get(pr.key, (result.checks or {}).get(pr.key))
        shown = "-" if val is None else f"{val:g}"
        rng = f"{pr.lo:g}" if pr.lo == pr.hi else f"{pr.lo:g}-{pr.hi:g}"
        print(f"  prior {pr.key}: {shown} (measured {rng}, noise {pr.sigma:g}; term "
              f"{(result.terms or {}).get(pr.key, 0.0):.3g})")


def _print_fit_cases(result: FitResult, recorded: list, checked: dict) -> None:
    """The fitted values beside their priors and the objective's parts at the start and the fitted point."""
    for k, v in result.params.items():
        print(f"  {k} = {v}")
    print(f"search objective {result.loss:.5g} after {result.evaluations} evaluations (fit cases on seed 0)")
    _print_priors(result)
    rows = []
    for label, ev in checked.items():
        per_case = {rc.case.id: sum(t for k, t in ev.case_terms.items() if k.split(":", 1)[0] == rc.case.id)
                    for rc in recorded if rc.error is None}
        rows.append([label, f"{ev.total:.4g}", f"{ev.seed_part:.4g}", f"{sum(ev.terms.values()):.4g}",
                     f"{sum(ev.case_terms.values()):.4g}", *(f"{v:.4g}" for v in per_case.values())])
        head_cases = list(per_case)
    head = ["point", "objective", "seed", "priors", "fit cases", *head_cases]
    print(render_table(head, rows, markdown=False, left=(0,)))


def _base_set(items: list[str]) -> list[str]:
    """The ``--set KEY=VALUE`` overrides, each naming a field that is not a free parameter of the fit."""
    for item in items:
        key = item.partition("=")[0].strip()
        if free_param(key) is not None:
            raise UserError(f"--set {item}: {key} is a free parameter of the fit; start it with --start, or hold "
                            "it at values with --profile")
    return list(items)


def _parse_profile(spec: str) -> tuple[str, list[float]]:
    """``FIELD=v1,v2,...`` -> (field, values); UserError naming what is wrong."""
    field, sep, vals = spec.partition("=")
    p = free_param(field.strip())
    if not sep or p is None:
        raise UserError(f"--profile {spec!r}: expected FIELD=v1,v2,... with FIELD one of "
                        + ", ".join(q.field for q in FREE_PARAMS))
    try:
        values = [float(v) for v in vals.split(",") if v.strip()]
    except ValueError as exc:
        raise UserError(f"--profile {spec!r}: values must be numbers ({exc})") from exc
    if not values:
        raise UserError(f"--profile {spec!r}: expected at least one value after '='")
    if any(not p.lo <= v <= p.hi for v in values):
        raise UserError(f"--profile {spec!r}: expected values within the search bounds [{p.lo:g}, {p.hi:g}]")
    return p.field, values


def _calibrate_profile(args: argparse.Namespace, out: Path, base: ChipConfig, targets: dict[str, float],
                       start: dict[str, float] | None, field: str, values: list[float],
                       base_set: list[str]) -> int:
    """``calibrate --profile FIELD=v1,...``: the best fit with FIELD held at each value; table, JSON,
    PNG and one preset per point (to run `reproduce --chip-file` on) in ``out``."""
    bar = tqdm(total=len(values) * args.max_evals, desc=f"profile {field}", unit="sim",
               disable=not sys.stderr.isatty())
    points = []
    paths: list[Path] = []
    for i, v in enumerate(values):
        def progress(evals: int, best: float, done: int = i * args.max_evals, v: float = v) -> None:
            bar.n = min(done + evals, bar.total)
            bar.set_postfix(value=f"{v:g}", loss=f"{best:.4g}")

        points += profile(targets, field, [v], base_chip=args.base, max_evals=args.max_evals, runs=args.runs,
                          jitter=args.jitter, start=start, progress=progress, base_set=base_set)
        bar.n = (i + 1) * args.max_evals
        bar.refresh()
    bar.close()
    names = sorted(targets)
    errors: dict[str, list[float]] = {n: [] for n in names}
    rows, doc = [], {"field": field, "targets": targets, "runs": args.runs, "points": []}
    for pt in points:
        r = pt.result
        errs = {}
        for n in names:
            e = error_pct(metric_value(r.metrics, n), targets[n])
            errs[n] = float("nan") if e is None else e
            errors[n].append(errs[n])
        stem = f"profile_{field.rsplit('.', 1)[-1]}_{pt.value:g}"
        note = (f"{field} held at {pt.value:g} by `swimsim calibrate --profile`; the others fitted on "
                f"{', '.join(names)} ({r.evaluations} simulations, loss {r.loss:.4g})")
        paths.append(write_text_atomic(out / f"{stem}.toml", calibrated_preset_toml(base, stem, r.params, note)))
        fitted = {k: v for k, v in r.params.items() if k != field}
        rms = (r.fit_loss / max(1, len(names))) ** 0.5 * 100.0
        rows.append([f"{pt.value:g}", f"{r.loss:.3g}", f"{rms:.2f}",
                     *(f"{errs[n]:+.2f}" for n in names), ", ".join(f"{k.rsplit('.', 1)[-1]}={v:.4g}"
                                                                    for k, v in fitted.items()), f"{stem}.toml"])
        doc["points"].append({"value": pt.value, "loss": r.loss, "rms_error_pct": rms, "evaluations": r.evaluations,
                              "params": r.params, "error_pct": errs, "preset": f"{stem}.toml"})
    head = [field, "loss", "rms err %", *(f"{n} err %" for n in names), "fitted", "preset"]
    print(render_table(head, rows, markdown=False, left=(0, len(head) - 2, len(head) - 1)))
    paths.insert(0, write_text_atomic(out / "profile.json", json.dumps(doc, indent=1) + "\n"))
    paths.insert(1, plot_profile(field, values, errors, out / "profile.png"))
    print(f"use them: swimsim reproduce --band {out}   or   swimsim reproduce --chip-file {out}/<preset>.toml")
    wrote(paths)
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    c = sub.add_parser("calibrate", help="fit the free chip parameters on the standalone baseline",
                       description="Fit the free chip parameters on the standalone baseline of the measurement "
                                   "file, with the runtime's measured microbenchmarks (loop time, submit window, "
                                   "Head OH, switch, dispatch stagger) and the measured cold-start bound as "
                                   "noise-weighted priors (with --fit-cases also every measured metric of the fit-set "
                                   "cases), and write a chip file (TOML) to use with --chip-file. "
                                   "The installed presets are never modified.")
    c.add_argument("--measurements", metavar="FILE",
                   help="measurement JSON (default: the bundled PR #648 data; only the standalone baseline is "
                        "read for fitting)")
    c.add_argument("--base", metavar="NAME", help="preset whose other fields the result keeps (default: 910C)")
    c.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="hold a chip field that is not a free parameter at VALUE in every simulation of the fit "
                        "(repeatable), e.g. a switch of docs/calibration.md §7: the fit and the fit-case "
                        "objective of that structure; the written preset keeps it")
    st = c.add_mutually_exclusive_group()
    st.add_argument("--start", help="preset or chip file whose free-parameter values start the search "
                                    f"(default: the bundled {CALIBRATED_PRESET} preset when installed)")
    st.add_argument("--from-prior", action="store_true",
                    help="start the search from the base preset's priors instead (a cold start)")
    c.add_argument("--max-evals", type=positive_int, default=None,
                   help=f"evaluation budget, each averaging --runs seeds of the standalone baseline (default "
                        f"{MAX_EVALS}; with --fit-cases {MAX_EVALS_FIT_CASES}, about 7 minutes on two cores)")
    c.add_argument("--runs", type=positive_int, default=DEFAULT_RUNS,
                   help=f"seeds averaged per evaluation (default {DEFAULT_RUNS}, as `reproduce`)")
    c.add_argument("--jitter", type=non_negative_float, default=0.03, help="relative per-block jitter when --runs > 1")
    c.add_argument("-o", "--output", metavar="PATH",
                   help=f"chip file to write (default: <base>{CALIBRATED_SUFFIX}.toml in the current directory, "
                        f"e.g. ./910C{CALIBRATED_SUFFIX}.toml; an existing file is overwritten); with --profile, "
                        f"the output directory (default: {PROFILE_DIR})")
    c.add_argument("--fit-cases", action="store_true",
                   help="add every measured metric of the fit-set cases of the case file (both commits' values "
                        "and the measured change, weighted by each case's stated noise) to the objective; each "
                        "side is recorded once from --pypto-lib and simulated on seed 0 per evaluation, and the "
                        "optimum is checked against the start on 3 seeds per side (preset written only if it "
                        "improves). Validation cases are never run")
    c.add_argument("--pypto-lib", action="append", metavar="[OWNER/NAME=]DIR",
                   help="with --fit-cases: a pypto-lib clone or bare mirror (repeatable), as for `swimsim backtest`")
    c.add_argument("--cases", metavar="FILE",
                   help="with --fit-cases: validation case file (default: the bundled one); only its \"fit\" "
                        "cases are read")
    c.add_argument("--profile", metavar="FIELD=V1,V2,...",
                   help="identifiability check instead of a fit: hold one free parameter at each value, re-fit "
                        "the others (--max-evals each), and report how well each point still fits; writes "
                        "profile.json, profile.png and one preset per point")
    c.set_defaults(func=cmd_calibrate)
