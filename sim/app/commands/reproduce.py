"""``swimsim reproduce`` / ``calibrate`` / ``explain``: the measured comparison, the fit, the why.

* ``reproduce`` runs every workload × variant of the measurement file at its capture level,
  writes traces under ``out/<workload>/<variant>/``, prints the fidelity table and writes
  ``out/fidelity.json``.
* ``calibrate`` fits the free chip parameters on the standalone baseline only and writes a
  preset file with provenance.
* ``explain`` breaks a function's Avg Exec and span down from a run directory's records.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from hwmodels.chip import CALIBRATED_PRESET
from sim.app.band import BAND_TOL_PCT
from sim.app.commands import non_negative_float, non_negative_int, positive_int
from sim.app.fidelity import (
    DEFAULT_RUNS,
    FIT_VARIANT,
    VARIANTS,
    WORKLOADS,
    build_rows,
    cold_row_counts,
    cold_rows,
    fidelity_json,
    fit_targets,
    format_cold_rows,
    format_spread,
    format_table,
    load_measurements,
    run_spread,
    warm_run_means,
)
from sim.util.errors import UserError
from sim.util.fileio import write_text_atomic
from sim.util.tables import render_table
from traces.compare import mean_metrics
from traces.runtime_checks import CHECKS, format_checks, runtime_values


def _reproduce_job(job: tuple) -> tuple[str, str, list[dict], dict]:
    """One workload × variant: per-seed metrics, seed 0's traces and runtime checks (worker-safe)."""
    import traces
    from kernels.registry import build_graph
    from sim.engine import RunOptions, simulate

    wname, var, kernel, mode, level, chip, runs, jitter, outdir = job
    graph = build_graph(f"{kernel}:{var}", mode=mode)
    per_run = []
    checks: dict = {}
    for seed in range(runs):
        res = simulate(graph, chip, RunOptions(seed=seed, swimlane_level=level, jitter=jitter))
        m = traces.run_metrics(res, level=level)
        for f, n in cold_rows(res).items():
            if f in m["funcs"]:
                m["funcs"][f]["cold_rows"] = n
        per_run.append(m)
        if seed == 0 and outdir:
            traces.write_run_dir(res, Path(outdir), level=level)
            write_text_atomic(Path(outdir) / "run_records.json", slim_run(res).model_dump_json() + "\n")
            checks = runtime_values(res)
    return wname, var, per_run, checks


def run_jobs(fn, jobs: list, workers: int, progress=None, background=None) -> list:
    """``fn`` over ``jobs`` in up to ``workers`` processes (inline when 1); results in job order.

    ``background`` (no arguments, result ignored) runs in a thread of this process while the workers
    work, e.g. importing the plotting library the caller needs afterwards; with forked workers it
    starts only once every worker exists (forking while a thread imports could deadlock a child).
    """

    def collect(results) -> list:
        out = []
        for r in results:
            out.append(r)
            if progress:
                progress()
        return out

    workers = max(1, min(workers, len(jobs)))
    if workers == 1:
        return collect(fn(j) for j in jobs)
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
        futs = [ex.submit(fn, j) for j in jobs]  # the first submit forks every worker
        side = None
        if background is not None:
            import threading

            side = threading.Thread(target=_quietly, args=(background,), daemon=True)
            side.start()
        out = collect(f.result() for f in futs)
    if side is not None:
        side.join()
    return out


def _quietly(fn) -> None:
    """Run ``fn`` ignoring its errors: a background head start only (the caller redoes the work and
    reports any error then)."""
    try:
        fn()
    except Exception:  # noqa: BLE001
        pass


def default_workers() -> int:
    """Worker processes for independent simulations: the machine's CPU count (at most 4 jobs here)."""
    import os

    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def cmd_reproduce(args: argparse.Namespace) -> int:
    import hwmodels

    t0 = time.perf_counter()
    meas = load_measurements(args.measurements)
    band = _band_points(args) if args.band else None  # checked before any work
    if args.chip_file:
        chip = hwmodels.load_chip(path=args.chip_file, overrides=args.set or [])
    else:
        chip = hwmodels.load_chip(args.chip or hwmodels.recommended_preset(), overrides=args.set or [])
    out = Path(args.out)
    runs = args.runs
    jitter = args.jitter if runs > 1 else 0.0
    jobs = _variant_jobs(meas, chip, runs, jitter, out)
    workers = args.jobs if args.jobs else default_workers()
    progress = _progress(len(jobs), enabled=sys.stderr.isatty())
    simulated: dict[str, dict[str, dict]] = {}
    checks: dict[str, dict[str, dict]] = {}
    per_seed: dict[str, dict[str, list[dict]]] = {}
    from traces.plot import pyplot

    for wname, var, seeds, chk in run_jobs(_reproduce_job, jobs, workers, progress, background=pyplot):
        simulated.setdefault(wname, {})[var] = mean_metrics(seeds)
        checks.setdefault(wname, {})[var] = chk
        per_seed.setdefault(wname, {})[var] = seeds
    rows = build_rows(meas, simulated)
    table = format_table(rows, markdown=args.md)
    doc = fidelity_json(rows)
    doc["chip"] = chip.name
    doc["runs"] = runs
    write_text_atomic(out / "fidelity.json", json.dumps(doc, indent=1, sort_keys=False) + "\n")
    write_text_atomic(out / "fidelity.md", format_table(rows, markdown=True))
    print(f"chip preset: {chip.name}   runs per variant: {runs}   traces: {out}/<workload>/<variant>/")
    print(table, end="")
    cols = {_short_workload(w): per_var[FIT_VARIANT] for w, per_var in checks.items() if FIT_VARIANT in per_var}
    write_text_atomic(out / "runtime_checks.json", json.dumps(
        {"targets": {c.key: {"label": c.label, "lo": c.lo, "hi": c.hi, "source": c.source} for c in CHECKS},
         "simulated": checks}, indent=1) + "\n")
    print(f"\nruntime checks (seed 0, {FIT_VARIANT}; runtime.md §14 targets, measured on other workloads):")
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
    from traces.plot import plot_fidelity

    plot_fidelity(doc, spread, out / "fidelity.png",
                  title=f"swimsim reproduce: chip {chip.name}, {runs} seeded run(s) per variant")
    files = ["fidelity.json", "fidelity.png", "runtime_checks.json", "run_spread.json"]
    if band is not None:
        _reproduce_band(args, meas, rows, workers, jitter, *band)
        files += ["band.json", "band.png"]
    written = ", ".join(str(out / f) for f in files)
    print(f"wrote {written}  ({time.perf_counter() - t0:.1f} s)")
    return 0


def _variant_jobs(meas, chip, runs: int, jitter: float, out: Path | None, tag: str = "") -> list[tuple]:
    """One :func:`_reproduce_job` per measured workload × variant; traces under ``out/<workload>/<variant>``
    (none when ``out`` is None); ``tag`` prefixes the workload name the job returns."""
    jobs = []
    for wname in meas.values:
        kernel, mode = WORKLOADS[wname]
        for var in VARIANTS:
            outdir = "" if out is None else str(out / wname / var)
            jobs.append((tag + wname, var, kernel, mode, meas.levels[wname], chip, runs, jitter, outdir))
    return jobs


def _band_points(args: argparse.Namespace) -> tuple:
    """(held field, all profile points, the points within --band-tol and their chips) of ``--band DIR``;
    UserError if none fits or a preset does not load (checked before any simulation)."""
    import hwmodels
    from sim.app.band import load_profile, select

    field, points = load_profile(Path(args.band))
    used = select(points, args.band_tol)
    if not used:
        best = min(p.worst_pct for p in points)
        raise UserError(f"{args.band}/profile.json: no point has every fit target within ±{args.band_tol:g} % "
                        f"(best: ±{best:.2f} %)")
    chips = [hwmodels.load_chip(path=p.preset, overrides=args.set or []) for p in used]
    return field, points, used, chips


def _reproduce_band(args: argparse.Namespace, meas, rows: list, workers: int, jitter: float, field: str,
                    points: list, used: list, chips: list) -> None:
    """``reproduce --band DIR``: the same jobs for every profile preset that fits the baseline within
    the noise; prints the band table and writes ``band.json`` and ``band.png``."""
    from sim.app.band import band_json, band_rows, format_band

    runs = args.runs
    jobs = [j for k, chip in enumerate(chips) for j in _variant_jobs(meas, chip, runs, jitter, None, f"{k}|")]
    progress = _progress(len(jobs), enabled=sys.stderr.isatty())
    simulated: list[dict[str, dict[str, dict]]] = [{} for _ in used]
    for key, var, seeds, _chk in run_jobs(_reproduce_job, jobs, workers, progress):
        k, wname = key.split("|", 1)
        simulated[int(k)].setdefault(wname, {})[var] = mean_metrics(seeds)
    brows = band_rows(rows, [build_rows(meas, sim) for sim in simulated])
    print(f"\ncalibration band: {len(used)} of {len(points)} profile points of {field} fit every baseline target "
          f"within ±{args.band_tol:g} % ({', '.join(f'{p.value:g}' for p in used)}); {runs} runs each:")
    print(format_band(brows, markdown=args.md), end="")
    doc = band_json(field, args.band_tol, used, brows)
    write_text_atomic(Path(args.out) / "band.json", json.dumps(doc, indent=1) + "\n")
    from traces.plot import plot_band

    plot_band(doc, Path(args.out) / "band.png")


def _short_workload(name: str) -> str:
    """Column label of a workload: its first word (``qkv``, ``decode``)."""
    return name.split("_")[0]


def slim_run(res):
    """The RunResult without the per-block op lists (what `explain` and the readers need)."""
    g = res.graph
    tasks = [t.model_copy(update={"blocks": []}) for t in g.tasks]
    return res.model_copy(update={"graph": g.model_copy(update={"tasks": tasks})})


def _progress(total: int, enabled: bool):
    if not enabled:
        return lambda: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc="simulating", unit="job", leave=False)
    return lambda: bar.update(1)


def cmd_calibrate(args: argparse.Namespace) -> int:
    import hwmodels
    from hwmodels.chip import PRESET_DIR
    from sim.app.calibration import FREE_PARAMS, fit, provenance_note, start_values

    prof = _parse_profile(args.profile) if args.profile else None
    meas = load_measurements(args.measurements)
    targets = fit_targets(meas)
    if not targets:
        raise UserError(f"{meas.path}: no fit targets (standalone baseline metrics) found")
    print("fit targets (standalone baseline, µs): " + ", ".join(f"{k}={v}" for k, v in targets.items()))
    print("free parameters: " + ", ".join(f"{p.field} [{p.lo}, {p.hi}]" for p in FREE_PARAMS))
    start_chip = None  # --start and --from-prior are mutually exclusive
    if args.start:
        is_file = Path(args.start).suffix in (".toml", ".json")
        start_chip = hwmodels.load_chip(path=args.start) if is_file else hwmodels.load_chip(args.start)
    elif not args.from_prior and (PRESET_DIR / f"{CALIBRATED_PRESET}.toml").is_file():
        start_chip = hwmodels.load_chip(CALIBRATED_PRESET)
    start = start_values(start_chip) if start_chip is not None else None
    if start is not None:
        print(f"start: {start_chip.name} (" + ", ".join(f"{k}={v:g}" for k, v in start.items()) + ")")
    else:
        print(f"start: the priors of {args.base or '910C'}")
    from tqdm import tqdm

    if prof is not None:
        return _calibrate_profile(args, targets, start, *prof)
    bar = tqdm(total=args.max_evals, desc="fitting", unit="sim", disable=not sys.stderr.isatty())
    last = [0]

    def progress(evals: int, best: float) -> None:
        bar.update(max(0, evals - last[0]))
        last[0] = evals
        bar.set_postfix(loss=f"{best:.4g}")

    result = fit(
        targets, base_chip=args.base, max_evals=args.max_evals, runs=args.runs, jitter=args.jitter, progress=progress,
        start=start,
    )
    bar.close()
    base = hwmodels.load_chip(args.base)
    out = (
        Path(args.output) if args.output else Path(hwmodels.__file__).parent / "presets" / f"{CALIBRATED_PRESET}.toml"
    )
    write_text_atomic(out, calibrated_preset_toml(base, out.stem, result, provenance_note(result)))
    hwmodels.load_chip(path=out)  # the written preset must load
    for k, v in result.params.items():
        print(f"  {k} = {v}")
    print(f"loss {result.loss:.5g} after {result.evaluations} simulations; wrote {out}")
    return 0


def _parse_profile(spec: str) -> tuple[str, list[float]]:
    """``FIELD=v1,v2,...`` -> (field, values); UserError naming what is wrong."""
    from sim.app.calibration import FREE_PARAMS, free_param

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


def _calibrate_profile(args: argparse.Namespace, targets: dict[str, float], start: dict[str, float] | None,
                       field: str, values: list[float]) -> int:
    """``calibrate --profile FIELD=v1,...``: the best fit with FIELD held at each value; table, JSON,
    PNG and one preset per point (to run `reproduce --chip-file` on)."""
    import hwmodels
    from sim.app.calibration import profile
    from traces.plot import plot_profile
    from traces.stats import error_pct, metric_value

    out = Path(args.output or "out/calibration_profile")
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a directory (with --profile, -o names the output directory)")
    base = hwmodels.load_chip(args.base)
    from tqdm import tqdm

    bar = tqdm(total=len(values) * args.max_evals, desc=f"profile {field}", unit="sim",
               disable=not sys.stderr.isatty())
    points = []
    for i, v in enumerate(values):
        def progress(evals: int, best: float, done: int = i * args.max_evals, v: float = v) -> None:
            bar.n = min(done + evals, bar.total)
            bar.set_postfix(value=f"{v:g}", loss=f"{best:.4g}")

        points += profile(targets, field, [v], base_chip=args.base, max_evals=args.max_evals, runs=args.runs,
                          jitter=args.jitter, start=start, progress=progress)
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
        write_text_atomic(out / f"{stem}.toml", calibrated_preset_toml(base, stem, r, note))
        fitted = {k: v for k, v in r.params.items() if k != field}
        rms = (r.loss / max(1, len(names))) ** 0.5 * 100.0
        rows.append([f"{pt.value:g}", f"{r.loss:.3g}", f"{rms:.2f}",
                     *(f"{errs[n]:+.2f}" for n in names), ", ".join(f"{k.rsplit('.', 1)[-1]}={v:.4g}"
                                                                    for k, v in fitted.items()), f"{stem}.toml"])
        doc["points"].append({"value": pt.value, "loss": r.loss, "rms_error_pct": rms, "evaluations": r.evaluations,
                              "params": r.params, "error_pct": errs, "preset": f"{stem}.toml"})
    head = [field, "loss", "rms err %", *(f"{n} err %" for n in names), "fitted", "preset"]
    print(render_table(head, rows, markdown=False, left=(0, len(head) - 2, len(head) - 1)))
    write_text_atomic(out / "profile.json", json.dumps(doc, indent=1) + "\n")
    plot_profile(field, values, errors, out / "profile.png")
    print(f"wrote {out}/profile.json, {out}/profile.png and {len(points)} presets "
          f"(predictions: swimsim reproduce --chip-file {out}/<preset>.toml)")
    return 0


def calibrated_preset_toml(base, name: str, result, note: str) -> str:
    """A preset file: the base chip's non-default fields plus the fitted ones (with provenance)."""
    from hwmodels.chip import SECTIONS, _toml_value, chip_from_dict

    default = chip_from_dict({"name": "defaults"}, "defaults").model_dump()
    have = base.model_dump()
    fields: dict[str, dict[str, object]] = {}
    for sec in SECTIONS:
        for k, v in have[sec].items():
            if v != default[sec][k]:
                fields.setdefault(sec, {})[k] = v
    for k, v in result.params.items():
        sec, field = k.split(".", 1)
        fields.setdefault(sec, {})[field] = v
    lines = [
        f"# {name}: preset {base.name} with the free parameters fitted by `swimsim calibrate`.",
        f"# {note}",
        f'name = "{name}"',
        "",
        "[provenance]",
    ]
    lines += [f'"{k}" = "{note}"' for k in sorted(result.params)]
    for sec in SECTIONS:
        if sec in fields:
            lines += ["", f"[{sec}]", *(f"{k} = {_toml_value(v)}" for k, v in sorted(fields[sec].items()))]
    return "\n".join(lines) + "\n"


def _load_run(dirpath: Path):
    from sim.ir.records import RunResult

    f = dirpath / "run_records.json"
    if not f.is_file():
        raise UserError(f"{dirpath}: no run_records.json (expected a directory written by `swimsim run -o`)")
    try:
        return RunResult.model_validate_json(f.read_text())
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise UserError(f"{f}: not a valid run record dump ({first})") from exc


_EXEC_GROUPS = {
    "pipe busy (critical path)": ("vector", "cube", "mte2", "mte1", "mte3", "fixpipe", "scalar"),
    "memory stall": ("l2_hit_latency", "l2_miss_latency", "hbm_contention"),
    "issue / sync overhead": ("issue_sync", "prologue", "handoff_wait"),
    "cold core (first kernel on the core)": ("cold_core",),
}


def _mean_breakdown(rows: list) -> dict[str, float]:
    """Mean critical-path breakdown per row (µs), by breakdown key."""
    keys: dict[str, float] = {}
    for s in rows:
        for k, v in s.breakdown.items():
            keys[k] = keys.get(k, 0.0) + v / 1000.0 / len(rows)
    return keys


def explain_function(result, func: str) -> str:
    """Text breakdown of ``func``'s Avg Exec and span (µs) from a RunResult."""
    rows = _function_rows(result, func)
    n = len(rows)
    execs = [(s.end - s.start) / 1000.0 for s in rows]
    fig = _context_figures(rows)
    avg = fig["avg"]
    keys = _mean_breakdown(rows)
    pipes: dict[str, float] = {}
    for s in rows:
        for k, v in s.pipe_busy.items():
            pipes[k] = pipes.get(k, 0.0) + v / 1000.0 / n
    groups = _EXEC_GROUPS
    lines = [f"{func}: {n} rows, Avg Exec {avg:.3f} µs (min {min(execs):.3f}, max {max(execs):.3f})", ""]
    lines.append("Avg Exec breakdown (µs per row, critical-path attribution):")
    seen = set()
    for g, ks in groups.items():
        sub = {k: keys[k] for k in ks if k in keys}
        seen.update(sub)
        lines.append(f"  {g:<28} {sum(sub.values()):8.3f}")
        for k, v in sorted(sub.items(), key=lambda kv: -kv[1]):
            lines.append(f"    {k:<26} {v:8.3f}")
    rest = {k: v for k, v in keys.items() if k not in seen}
    for k, v in sorted(rest.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {k:<28} {v:8.3f}")
    cold = [s for s in rows if s.on_cold_core]
    lines.append(f"  rows that were their core's first kernel in the launch: {len(cold)} of {n}")
    if cold:
        cold_ex = [(s.end - s.start) / 1000.0 for s in cold]
        extra = sum(s.breakdown["cold_core"] for s in cold) / len(cold) / 1000.0
        core = (result.chip_params or {}).get("core", {})
        rule = ""
        if core:
            rule = (f" = min({core.get('first_kernel_extra_ns', 0.0):g} ns + GM loads x "
                    f"{core.get('first_kernel_extra_per_load_ns', 0.0):g} ns, bound "
                    f"{core.get('first_kernel_cold_max_ns', 0.0):g} ns)")
            if core.get("first_kernel_cold_counts_head"):
                rule += " - the cold head wait the core already paid before start"
        each = "on average" if len({round(s.breakdown["cold_core"], 3) for s in cold}) > 1 else "each"
        lines.append(f"    cold rows: Avg Exec {sum(cold_ex) / len(cold_ex):.3f} µs, extra {extra:.3f} µs {each}{rule}")
        if len(cold) < n:
            lines.append(f"    warm rows: Avg Exec {fig['warm_avg']:.3f} µs")
    lines.append("")
    lines.append("Pipe busy (PMU view, µs per row): " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(pipes.items())))
    # span: dispatch staggering and waves
    first_end = min(s.end for s in rows)
    later_wave = [s for s in rows if s.start >= first_end]
    dispatches = sorted({s.dispatch for s in rows})
    by_thread: dict[int, float] = {}
    for s in rows:
        by_thread[s.thread] = min(by_thread.get(s.thread, s.dispatch), s.dispatch)
    lines.append("")
    lines.append(f"Span {fig['span']:.3f} µs = start stagger {fig['stagger']:.3f} µs "
                 f"(first start -> last start) + last row's exec {fig['last_exec']:.3f} µs "
                 "(approx. when the last-starting row also ends last)")
    lines.append(f"  dispatch batches: {len(dispatches)}; first dispatch per scheduler thread (µs after the "
                 "function's first dispatch): "
                 + ", ".join(f"T{t} +{(d - dispatches[0]) / 1000.0:.3f}" for t, d in sorted(by_thread.items())))
    lines.append(f"  waves: {1 + (1 if later_wave else 0)} ({len(later_wave)} rows started after the first row ended)")
    heads = [(s.start - s.dispatch) / 1000.0 for s in rows]
    lines.append(f"  Head OH mean {sum(heads) / n:.3f} µs, max {max(heads):.3f} µs")
    return "\n".join(lines) + "\n"


def _context_figures(rows: list) -> dict[str, float]:
    """Avg Exec, its parts, the warm/cold split and the span parts of one function's rows (µs)."""
    n = len(rows)
    execs = [(s.end - s.start) / 1000.0 for s in rows]
    avg = sum(execs) / n
    keys = _mean_breakdown(rows)
    out: dict[str, float] = {"avg": avg, "rows": float(n)}
    for g, ks in _EXEC_GROUPS.items():
        out[g] = sum(keys.get(k, 0.0) for k in ks)
    out["other"] = avg - sum(out[g] for g in _EXEC_GROUPS)
    warm = [e for e, s in zip(execs, rows, strict=True) if not s.on_cold_core]
    cold = [e for e, s in zip(execs, rows, strict=True) if s.on_cold_core]
    out["cold_rows"] = float(len(cold))
    out["warm_avg"] = sum(warm) / len(warm) if warm else float("nan")
    # Avg Exec = warm-row mean + (cold rows / rows) x (cold-row mean - warm-row mean)
    out["cold_share"] = avg - out["warm_avg"] if warm else float("nan")
    starts = sorted(s.start for s in rows)
    end = max(s.end for s in rows)
    out["span"] = (end - starts[0]) / 1000.0
    out["stagger"] = (starts[-1] - starts[0]) / 1000.0
    out["last_exec"] = (end - starts[-1]) / 1000.0
    return out


def explain_against(result_a, result_b, func: str, name_a: str, name_b: str) -> str:
    """Why ``func``'s Avg Exec and span differ between two runs (µs): the same breakdown side by side,
    and the difference split into the warm rows' cost and the share of rows on cold cores."""
    a = _context_figures(_function_rows(result_a, func))
    b = _context_figures(_function_rows(result_b, func))

    def snap(v: float) -> float:  # no "-0.000"
        return 0.0 if abs(v) < 5e-4 else v

    def num(v: float) -> str:
        return "-" if v != v else f"{snap(v):.3f}"

    def diff(k: str) -> str:
        d = a[k] - b[k]
        return "-" if d != d else f"{snap(d):+.3f}"

    body = [["Avg Exec", num(a["avg"]), num(b["avg"]), diff("avg")]]
    for g in _EXEC_GROUPS:
        body.append(["  " + g, num(a[g]), num(b[g]), diff(g)])
    body.append(["  other (not attributed)", num(a["other"]), num(b["other"]), diff("other")])
    body.append(["rows on cold cores / rows", f"{a['cold_rows']:.0f} / {a['rows']:.0f}",
                 f"{b['cold_rows']:.0f} / {b['rows']:.0f}", ""])
    body.append(["warm rows' Avg Exec", num(a["warm_avg"]), num(b["warm_avg"]), diff("warm_avg")])
    body.append(["cold rows' share of Avg Exec", num(a["cold_share"]), num(b["cold_share"]), diff("cold_share")])
    body.append(["Span", num(a["span"]), num(b["span"]), diff("span")])
    body.append(["  start stagger (first start -> last start)", num(a["stagger"]), num(b["stagger"]),
                 diff("stagger")])
    body.append(["  last-starting row's start -> last end", num(a["last_exec"]), num(b["last_exec"]),
                 diff("last_exec")])
    lines = [f"{func}: A = {name_a}, B = {name_b} (µs per row; critical-path attribution)", ""]
    lines.append(render_table(["", "A", "B", "A - B"], body, left=(0,)).rstrip("\n"))
    d_w = a["warm_avg"] - b["warm_avg"]
    d_c = a["cold_share"] - b["cold_share"]
    if d_w == d_w and d_c == d_c:
        d_w, d_c = snap(d_w), snap(d_c)
        lines += ["", f"Avg Exec A - B = {a['avg'] - b['avg']:+.3f} µs: warm rows {d_w:+.3f} µs, "
                      f"rows on cold cores {d_c:+.3f} µs "
                      "(cold rows' share = Avg Exec - warm rows' Avg Exec)"]
    return "\n".join(lines) + "\n"


def _function_rows(result, func: str) -> list:
    """The run's subtask records of ``func``; UserError listing the functions if it has none."""
    rows = [s for s in result.subtasks if s.func == func]
    if not rows:
        names = sorted({s.func for s in result.subtasks})
        raise UserError(f"function {func!r} not in this run (functions: {', '.join(names)})")
    return rows


def _graph_with_ops(result):
    """The run's task graph with its per-block op lists (rebuilt from the registry when the run
    directory stored a slim graph, as `reproduce` does)."""
    g = result.graph
    if any(t.blocks for t in g.tasks):
        return g
    from kernels.registry import build_graph

    try:
        full = build_graph(f"{g.kernel}:{g.variant}", g.mode)
    except UserError as exc:
        raise UserError(f"this run directory holds no op lists and its kernel cannot be rebuilt ({exc})") from None
    if len(full.tasks) != len(g.tasks) or full.params != g.params:
        raise UserError(f"the rebuilt {g.kernel}:{g.variant} graph differs from the recorded one "
                        f"(params {full.params} vs {g.params}); re-run it with `swimsim run`")
    return full


def explain_ops(result, func: str, block: int) -> str:
    """In-core timeline of one block of ``func`` (µs): every op as the list scheduler placed it, the
    critical path, and the critical time per op name. L2 is replayed over the run's earlier blocks."""
    from hwmodels.chip import chip_from_dict
    from hwmodels.incore import CoreCostModel, op_lowering
    from hwmodels.memory import L2State

    rows = _function_rows(result, func)
    mine = [s for s in rows if s.block == block]
    if not mine:
        raise UserError(f"--block {block}: {func} has blocks 0..{max(s.block for s in rows)}")
    row = mine[0]
    graph = _graph_with_ops(result)
    chip = chip_from_dict(result.chip_params, "run_records.json chip_params")
    model = CoreCostModel(chip)
    l2 = L2State(chip, graph, init="inputs_warm")
    done: set[tuple[int, int]] = set()
    for s in sorted(result.subtasks, key=lambda s: (s.start, s.core_id)):  # earlier blocks warm L2
        if s is row:
            break
        if (s.task, s.block) not in done:
            done.add((s.task, s.block))
            t = graph.tasks[s.task]
            model.profile(t, t.blocks[s.block], l2)
    task = graph.tasks[row.task]
    ops = [o for o in model.op_timeline(task, task.blocks[block], l2) if o.lane == row.lane]
    pro = (chip.core.kernel_prologue_ns + chip.core.kernel_epilogue_ns) / 1000.0
    total = max((o.ready_ns for o in ops), default=0.0) / 1000.0
    exec_us = (row.end - row.start) / 1000.0
    lines = [f"{func} block {block} ({row.lane} of core {row.core_id}): ops {total:.3f} µs + prologue/epilogue "
             f"{pro:.3f} µs = {total + pro:.3f} µs; the row's Exec is {exec_us:.3f} µs (the rest: cold-core "
             "extra, HBM contention, jitter)",
             "L2 replayed over the run's earlier blocks; times from the first op; * = on the critical path; "
             f"steps = barrier-separated vector steps (vector.lowering = {chip.vector.lowering}), "
             "+Ni further instructions, +Ns scalar-loop elements", ""]
    recorded = task.blocks[block].ops

    def steps(i: int) -> str:
        n, extra, scalar = op_lowering(chip, recorded[i])
        return "" if not n else str(n) + (f" +{extra}i" if extra else "") + (f" +{scalar}s" if scalar else "")

    head = ["#", "pipe", "op", "shape", "steps", "start", "busy end", "ready", "waits on", ""]
    body = [[str(o.index), o.pipe, o.name, "x".join(str(d) for d in o.shape), steps(o.index),
             f"{o.start_ns / 1000:.3f}", f"{o.busy_end_ns / 1000:.3f}", f"{o.ready_ns / 1000:.3f}",
             "-" if o.waited_for < 0 else f"#{o.waited_for}", "*" if o.critical else ""] for o in ops]
    lines.append(render_table(head, body).rstrip("\n"))
    by_idx = {o.index: o for o in ops}
    crit: dict[str, list[float]] = {}
    for o in ops:
        if o.critical:
            prev = by_idx.get(o.waited_for)
            share = o.ready_ns - (prev.ready_ns if prev is not None and prev.critical else 0.0)
            c = crit.setdefault(o.name, [0, 0.0])
            c[0] += 1
            c[1] += share / 1000.0
    lines += ["", f"critical path by op ({sum(c[0] for c in crit.values())} ops, {total:.3f} µs):"]
    for name, (k, us) in sorted(crit.items(), key=lambda kv: -kv[1][1]):
        lines.append(f"  {name:<22} x{k:<4} {us:8.3f} µs  ({us / total * 100 if total else 0:5.1f} %)")
    return "\n".join(lines) + "\n"


def cmd_explain(args: argparse.Namespace) -> int:
    result = _load_run(Path(args.trace_dir))
    if args.against:
        if args.ops:
            raise UserError("--against compares two runs' breakdowns; use --ops on one run at a time")
        other = _load_run(Path(args.against))
        print(explain_against(result, other, args.func_name, args.trace_dir, args.against), end="")
    elif args.ops:
        print(explain_ops(result, args.func_name, args.block), end="")
    else:
        print(explain_function(result, args.func_name), end="")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reproduce", help="simulate the measured comparison and print the fidelity table")
    p.add_argument("--measurements", help="measurement JSON (default: the bundled PR #648 data)")
    p.add_argument("--chip", help="chip preset (default: the calibrated preset if present, else 910C)")
    p.add_argument("--chip-file", help="chip TOML/JSON file (e.g. written by `swimsim calibrate -o`)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a chip field")
    p.add_argument("--runs", type=positive_int, default=DEFAULT_RUNS,
                   help=f"seeded runs per variant (seeds 0..N-1), averaged (default {DEFAULT_RUNS}: the expected "
                   "value of the measured 3-run mean, with little Monte-Carlo noise)")
    p.add_argument("--jobs", type=non_negative_int, default=0, help="worker processes (default: the CPU count)")
    p.add_argument("--jitter", type=non_negative_float, default=0.03, help="relative jitter when --runs > 1")
    p.add_argument("-o", "--out", default="out", help="output directory (default: out)")
    p.add_argument("--md", action="store_true", help="print the table as markdown")
    p.add_argument("--band", metavar="PROFILE_DIR",
                   help="also run every preset of a `swimsim calibrate --profile` directory that fits the baseline "
                        "within --band-tol, and print each metric's band (min..max) over them: the part of each "
                        "prediction the calibration does not determine; writes band.json")
    p.add_argument("--band-tol", type=non_negative_float, default=BAND_TOL_PCT,
                   help=f"largest fit-target error %% a profile point may have (default {BAND_TOL_PCT}: the "
                        "reported ±4 %% run-to-run noise of a 3-run mean)")
    p.set_defaults(func=cmd_reproduce)

    c = sub.add_parser("calibrate", help="fit the free chip parameters on the standalone baseline")
    c.add_argument("--measurements", help="measurement JSON (only the standalone baseline is read for fitting)")
    c.add_argument("--base", help="preset whose other fields the result keeps (default: 910C)")
    st = c.add_mutually_exclusive_group()
    st.add_argument("--start", help="preset or chip file whose free-parameter values start the search "
                                    f"(default: {CALIBRATED_PRESET} when present, i.e. refine the last fit)")
    st.add_argument("--from-prior", action="store_true",
                    help="start the search from the base preset's priors instead (a cold start)")
    c.add_argument("--max-evals", type=positive_int, default=250, help="evaluation budget (each averages --runs seeds)")
    c.add_argument("--runs", type=positive_int, default=DEFAULT_RUNS,
                   help=f"seeds averaged per evaluation (default {DEFAULT_RUNS}, as `reproduce`)")
    c.add_argument("--jitter", type=non_negative_float, default=0.03, help="relative per-block jitter when --runs > 1")
    c.add_argument("-o", "--output", help=f"preset file to write (default: hwmodels/presets/{CALIBRATED_PRESET}.toml); "
                   "with --profile, the output directory (default: out/calibration_profile)")
    c.add_argument("--profile", metavar="FIELD=V1,V2,...",
                   help="identifiability check instead of a fit: hold one free parameter at each value, re-fit "
                        "the others (--max-evals each), and report how well each point still fits; writes "
                        "profile.json, profile.png and one preset per point")
    c.set_defaults(func=cmd_calibrate)

    e = sub.add_parser("explain", help="break a function's Avg Exec and span down (pipes, memory, overhead)")
    e.add_argument("trace_dir", help="run directory written by `swimsim run -o` or `swimsim reproduce`")
    e.add_argument("func_name", metavar="FUNC", help="function name, e.g. q_head_rms_nope_rope")
    e.add_argument("--ops", action="store_true",
                   help="print one block's in-core op timeline (start, end, what it waited for, critical path) "
                        "and the critical time per op name")
    e.add_argument("--block", type=non_negative_int, default=0, help="block for --ops (default 0)")
    e.add_argument("--against", metavar="TRACE_DIR_B",
                   help="a second run directory: the same breakdown side by side and the difference split "
                        "into the warm rows' cost and the rows on cold cores")
    e.set_defaults(func=cmd_explain)
