"""``swimsim reproduce``: simulate the measured comparison and print the fidelity table.

Runs every workload × variant of the measurement file at its capture level (seeded runs in the
worker pool, :mod:`sim.app.variant_runs`), writes seed 0's traces under
``out/<workload>/<variant>/``, prints the fidelity table, the runtime checks and the run-to-run
spread, and writes ``fidelity.json``/``.md``/``.png``, ``runtime_checks.json`` and
``run_spread.json``. ``--band DIR`` adds the calibration band over a ``calibrate --profile``
directory (``band.json``, ``band.png``); without it, those two files of an earlier ``--band`` run
are removed, so that no file in the output directory belongs to another run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import hwmodels
from hwmodels.chip import ChipConfig
from sim.app.band import BAND_TOL_PCT, ProfilePreset, band_json, band_rows, format_band, load_profile, select
from sim.app.commands import non_negative_float, non_negative_int, positive_int
from sim.app.fidelity import (
    DEFAULT_RUNS,
    MetricRow,
    build_rows,
    cold_row_counts,
    fidelity_json,
    format_cold_rows,
    format_spread,
    format_table,
    run_spread,
    warm_run_means,
)
from sim.app.measurements import FIT_VARIANT, Measurements, load_measurements
from sim.app.paths import check_exists, check_out_dir, wrote
from sim.app.pool import default_workers, run_jobs
from sim.app.progress import ticker
from sim.app.seed_checks import format_seed_checks, seed_checks, seed_checks_json
from sim.app.variant_runs import run_variant, variant_jobs
from sim.util.errors import UserError
from sim.util.fileio import write_text_atomic
from traces.compare import mean_metrics
from traces.plot import plot_band, plot_fidelity, pyplot
from traces.runtime_checks import CHECKS, format_checks


def cmd_reproduce(args: argparse.Namespace) -> int:
    """Simulate every measured workload × variant, print the tables, write the files under ``-o``."""
    t0 = time.perf_counter()
    out = check_out_dir(args.out, "-o")
    meas = load_measurements(args.measurements)
    backtest_line = _backtest_line(args, out)  # checked before any work
    band = _band_points(args) if args.band else None  # checked before any work
    if args.chip_file:
        chip = hwmodels.load_chip(path=check_exists(args.chip_file), overrides=args.set or [])
    else:
        chip = hwmodels.load_chip(args.chip or hwmodels.recommended_preset(), overrides=args.set or [])
    runs = args.runs
    jitter = args.jitter if runs > 1 else 0.0
    jobs = variant_jobs(meas, chip, runs, jitter, out, full_records=args.full_records)
    workers = args.jobs if args.jobs else default_workers()
    tick, close = ticker(len(jobs), enabled=sys.stderr.isatty(), desc="simulating", unit="job")
    simulated: dict[str, dict[str, dict]] = {}
    checks: dict[str, dict[str, dict]] = {}
    per_seed: dict[str, dict[str, list[dict]]] = {}
    for wname, var, seeds, chk in run_jobs(run_variant, jobs, workers, tick, background=pyplot):
        simulated.setdefault(wname, {})[var] = mean_metrics(seeds)
        checks.setdefault(wname, {})[var] = chk
        per_seed.setdefault(wname, {})[var] = seeds
    close()
    rows = build_rows(meas, simulated)
    table = format_table(rows, markdown=args.md)
    verdicts = seed_checks(rows)
    doc = fidelity_json(rows)
    doc["chip"] = chip.name
    doc["runs"] = runs
    if verdicts:
        doc["seed_checks"] = seed_checks_json(verdicts)
    write_text_atomic(out / "fidelity.json", json.dumps(doc, indent=1, sort_keys=False) + "\n")
    md = format_table(rows, markdown=True)
    if verdicts:
        md += "\n" + format_seed_checks(verdicts, markdown=True)
    write_text_atomic(out / "fidelity.md", md)
    print(f"chip preset: {chip.name}   runs per variant: {runs}   traces: {out}/<workload>/<variant>/")
    print(table, end="")
    if verdicts:
        print("\n" + format_seed_checks(verdicts, markdown=args.md), end="")
    cols = {_short_workload(w): per_var[FIT_VARIANT] for w, per_var in checks.items() if FIT_VARIANT in per_var}
    write_text_atomic(out / "runtime_checks.json", json.dumps(
        {"targets": {c.key: {"label": c.label, "lo": c.lo, "hi": c.hi, "source": c.source} for c in CHECKS},
         "simulated": checks}, indent=1) + "\n")
    print(f"\nruntime checks (seed 0, {FIT_VARIANT}; targets measured on silicon on other workloads, "
          "simpler docs/investigations/ and docs/dfx/):")
    print(format_checks(cols, markdown=args.md), end="")
    spread = run_spread(meas, per_seed)
    cold = cold_row_counts(meas, per_seed)
    warm = warm_run_means(meas, per_seed)
    write_text_atomic(out / "run_spread.json", json.dumps(
        {"runs": runs, "workloads": spread, "cold_rows": cold, "without_cold_rows": warm}, indent=1) + "\n")
    if runs > 1:
        print(f"\nrun-to-run spread of the simulated values (min / median / max over {runs} seeded runs):")
        print(format_spread(meas, spread, markdown=args.md), end="")
        print(format_cold_rows(cold, warm), end="")
    plot_fidelity(doc, spread, out / "fidelity.png",
                  title=f"swimsim reproduce: chip {chip.name}, {runs} seeded run(s) per variant")
    files = ["fidelity.json", "fidelity.md", "fidelity.png", "runtime_checks.json", "run_spread.json"]
    if band is not None:
        _reproduce_band(args, meas, rows, workers, jitter, *band)
        files += BAND_FILES
    else:
        for f in BAND_FILES:  # of an earlier --band run: they would not match this one
            (out / f).unlink(missing_ok=True)
    if backtest_line:
        print(f"\n{backtest_line}")
    run_dirs = [f"{j.outdir}{os.sep}" for j in jobs if j.outdir]
    wrote([*(out / f for f in files), *run_dirs], note=f"  ({time.perf_counter() - t0:.1f} s)")
    return 0


def _backtest_line(args: argparse.Namespace, out: Path) -> str | None:
    """The one-line summary of ``--backtest FILE`` (one-line error if it cannot be read), else of
    ``OUT/backtest.json`` when there is one (a note on stderr if it cannot be read), else None."""
    from sim.app.backtest_report import read_summary_line  # lazy: only with a backtest.json

    if args.backtest:
        return read_summary_line(check_exists(args.backtest))
    found = out / "backtest.json"
    if not found.is_file():
        return None
    try:
        return read_summary_line(found)
    except UserError as exc:
        print(f"swimsim: note: {exc}; no backtest summary", file=sys.stderr)
        return None


def _band_points(args: argparse.Namespace) -> tuple[str, list[ProfilePreset], list[ProfilePreset], list[ChipConfig]]:
    """(held field, all profile points, the points within --band-tol and their chips) of ``--band DIR``;
    UserError if none fits or a preset does not load (checked before any simulation)."""
    field, points = load_profile(check_exists(args.band))
    used = select(points, args.band_tol)
    if not used:
        best = min(p.worst_pct for p in points)
        raise UserError(f"{args.band}/profile.json: no point has every fit target within ±{args.band_tol:g} % "
                        f"(best: ±{best:.2f} %)")
    chips = [hwmodels.load_chip(path=p.preset, overrides=args.set or []) for p in used]
    return field, points, used, chips


def _reproduce_band(args: argparse.Namespace, meas: Measurements, rows: list[MetricRow], workers: int,
                    jitter: float, field: str, points: list[ProfilePreset], used: list[ProfilePreset],
                    chips: list[ChipConfig]) -> None:
    """``reproduce --band DIR``: the same jobs for every profile preset that fits the baseline within
    the noise; prints the band table and writes ``band.json`` and ``band.png``."""
    runs = args.runs
    jobs = [j for k, chip in enumerate(chips) for j in variant_jobs(meas, chip, runs, jitter, None, f"{k}|")]
    tick, close = ticker(len(jobs), enabled=sys.stderr.isatty(), desc="simulating", unit="job")
    simulated: list[dict[str, dict[str, dict]]] = [{} for _ in used]
    for key, var, seeds, _chk in run_jobs(run_variant, jobs, workers, tick):
        k, wname = key.split("|", 1)
        simulated[int(k)].setdefault(wname, {})[var] = mean_metrics(seeds)
    close()
    brows = band_rows(rows, [build_rows(meas, sim) for sim in simulated])
    print(f"\ncalibration band: {len(used)} of {len(points)} profile points of {field} fit every baseline target "
          f"within ±{args.band_tol:g} % ({', '.join(f'{p.value:g}' for p in used)}); {runs} runs each:")
    print(format_band(brows, markdown=args.md), end="")
    doc = band_json(field, args.band_tol, used, brows)
    write_text_atomic(Path(args.out) / "band.json", json.dumps(doc, indent=1) + "\n")
    plot_band(doc, Path(args.out) / "band.png")


BAND_FILES = ["band.json", "band.png"]


def _short_workload(name: str) -> str:
    """Column label of a workload: its first word (``qkv``, ``decode``)."""
    return name.split("_")[0]


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser("reproduce", help="simulate the measured comparison and print the fidelity table")
    p.add_argument("--measurements", help="measurement JSON (default: the bundled PR #648 data)")
    p.add_argument("--chip", metavar="NAME",
                   help="chip preset (default: the calibrated preset if present, else 910C; see `swimsim chips`)")
    p.add_argument("--chip-file", metavar="FILE", help="chip TOML/JSON file (e.g. written by `swimsim calibrate`)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a chip field (repeatable)")
    p.add_argument("--runs", type=positive_int, default=DEFAULT_RUNS,
                   help=f"seeded runs per variant (seeds 0..N-1), averaged (default {DEFAULT_RUNS}: the expected "
                   "value of the measured 3-run mean, with little Monte-Carlo noise)")
    p.add_argument("--jobs", type=non_negative_int, default=0, help="worker processes (default: the CPU count)")
    p.add_argument("--jitter", type=non_negative_float, default=0.03, help="relative jitter when --runs > 1")
    p.add_argument("-o", "--out", default="out", metavar="DIR",
                   help="output directory (default: out); its fidelity, runtime-check, spread and band files and "
                        "the run directories DIR/<workload>/<variant>/ are replaced")
    p.add_argument("--md", action="store_true", help="print the table as markdown")
    p.add_argument("--full-records", action="store_true",
                   help="write each run_records.json with every block's op list (default: lean, without them; "
                        "`explain --ops` rebuilds them from the kernel name)")
    p.add_argument("--band", metavar="PROFILE_DIR",
                   help="also run every preset of a `swimsim calibrate --profile` directory that fits the baseline "
                        "within --band-tol, and print each metric's band (min..max) over them: the part of each "
                        "prediction the calibration does not determine; writes band.json")
    p.add_argument("--band-tol", type=non_negative_float, default=BAND_TOL_PCT,
                   help=f"largest fit-target error %% a profile point may have (default {BAND_TOL_PCT}: the "
                        "reported ±4 %% run-to-run noise of a 3-run mean)")
    p.add_argument("--backtest", metavar="FILE",
                   help="print the one-line summary of this `swimsim backtest` result under the report "
                        "(default: DIR/backtest.json when it exists)")
    p.set_defaults(func=cmd_reproduce)
