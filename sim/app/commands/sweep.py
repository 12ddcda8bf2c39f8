"""`swimsim sweep KERNEL[:VARIANT] ... --vary section.field=v1,v2`: what-if hardware sweeps.

The grid is the cartesian product of the ``--vary`` values times the kernel specs; every point's chip
(``--chip``/``--set`` plus the point's overrides) is validated before any simulation. Each kernel graph
is built once, before the workers start; each point is simulated for seeds 0..N-1 (jitter
:data:`sim.app.onthespot.RUN_JITTER` when N > 1, averaged with :func:`traces.compare.mean_metrics`) on
``--workers`` forked processes or a Dask cluster (``--backend dask``). With ``-o DIR`` each finished
point is appended to ``DIR/points.jsonl`` (``--resume`` skips the points already there; a finished sweep
rewrites it in grid order), and sweep.json, sweep.md and sweep.png are written at the end from the points
in grid order. Prints one table (µs, Δ% relative to the first point)"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hwmodels.chip import ChipConfig, canonical_field, descriptive_fields, load_chip, recommended_preset
from kernels.pypto_files.loader import is_pypto_file
from sim.app.backends import BACKENDS, check_dask, run_backend
from sim.app.commands import positive_int
from sim.app.fileargs import split_file_args
from sim.app.onthespot import RUN_JITTER
from sim.app.paths import check_exists, check_kernel_spec, check_out_dir, wrote
from sim.app.pool import default_workers, in_background
from sim.app.progress import recording_counter, ticker
from sim.app.sweep_grid import (
    POINTS_FILE,
    PointJob,
    PointsFile,
    file_digest,
    graph_of,
    grid,
    point_key,
    read_points,
    run_point,
)
from sim.util.errors import UserError
from sim.util.fileio import write_text_atomic
from traces.plot import pyplot
from traces.sweep import check_metric, default_metrics, format_table, plot_sweep, sweep_doc, sweep_json

MAX_POINTS = 2000
SWEEP_FILES = ("sweep.json", "sweep.md", "sweep.png")
PROGRESS_MIN_POINTS = 50  # without a TTY, show progress only from this many points on


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser("sweep", help="what-if hardware sweep: metrics over a grid of chip parameters",
                       description="Simulate each KERNEL[:VARIANT] at every point of the cartesian product of "
                                   "the --vary values (chip overrides) and print the metrics (µs) with their "
                                   "change relative to the first point. Points run in parallel (--workers, "
                                   "--backend); the output is in grid order whatever finishes first. A progress "
                                   f"bar with ETA goes to stderr on a terminal or from {PROGRESS_MIN_POINTS} points "
                                   "on.")
    p.add_argument("specs", nargs="+", metavar="KERNEL[:VARIANT]",
                   help="registered kernel(s), e.g. qkv_proj_rope:baseline qkv_proj_rope:precompute, or pypto "
                        "kernel files (each simulated at its first run_jit call; arguments after -- go to the "
                        "files' __main__)")
    p.add_argument("--mode", default="decode", help="kernel mode (default decode)")
    p.add_argument("--vary", action="append", default=[], metavar="SECTION.FIELD=V1,V2,...", required=True,
                   help="chip field and the values to sweep (repeatable; the grid is the product of all --vary "
                        f"values and the KERNEL args, at most {MAX_POINTS} combinations; every point's chip is "
                        "checked before any simulation)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--chip", metavar="NAME", help="chip preset (default: the calibrated preset if present, else "
                   "910C); see `swimsim chips`")
    g.add_argument("--chip-file", metavar="FILE", help="TOML/JSON chip file instead of a preset")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="fixed chip override applied under every point (repeatable)")
    p.add_argument("--l2", choices=["cold", "inputs_warm", "warm"], default="inputs_warm",
                   help="initial L2 state (default inputs_warm; use cold to see HBM bandwidth effects)")
    p.add_argument("--runs", type=positive_int, default=1,
                   help="seeds 0..N-1 averaged per point (jitter 0.03 when N > 1; default 1)")
    p.add_argument("--metric", action="append", default=[], metavar="METRIC",
                   help="wall | total_test_time | aicore_span | FUNC.avg_exec | FUNC.span | FUNC.avg_latency | "
                        "... (repeatable; default: wall, total_test_time and the Avg Exec of the 3 functions "
                        "with the largest total exec)")
    p.add_argument("-o", "--out", metavar="DIR",
                   help="write points.jsonl (one line per point, appended as each finishes), then sweep.json, "
                        "sweep.md and sweep.png into DIR from those lines in grid order (created if missing; files "
                        "of these names from an earlier sweep are removed first; Ctrl-C keeps the finished points)")
    p.add_argument("--resume", action="store_true",
                   help="with -o: keep the points of DIR/points.jsonl that belong to this grid (same chip, --set, "
                        "--mode, --l2 and --runs) and simulate only the others")
    p.add_argument("--workers", type=positive_int, default=None, metavar="N",
                   help="worker processes (default: every CPU this process may use)")
    p.add_argument("--backend", choices=BACKENDS, default="local",
                   help="local: forked processes on this machine (default); dask: a Dask distributed cluster "
                        "(needs swimsim[dask])")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="with --backend dask: the scheduler, e.g. tcp://host:8786 (default: a local cluster of "
                        "--workers single-threaded worker processes)")
    p.add_argument("--md", action="store_true", help="print the table as markdown")
    p.__class__ = type("SweepParser", (type(p),), {"parse_known_args": split_file_args})
    p.set_defaults(func=cmd_sweep, file_args=[])


def _load(args: argparse.Namespace, extra: list[str]) -> ChipConfig:
    """The chip of ``--chip``/``--chip-file`` with ``--set`` and then ``extra`` overrides applied."""
    if args.chip_file:
        return load_chip(path=args.chip_file, overrides=[*args.overrides, *extra])
    return load_chip(args.chip or recommended_preset(), [*args.overrides, *extra])


def parse_vary(args: argparse.Namespace) -> list[tuple[str, list[str], list[Any]]]:
    """(dotted field, raw values, typed values) per --vary, each value checked by load_chip."""
    out: list[tuple[str, list[str], list[Any]]] = []
    seen: set[str] = set()
    for item in args.vary:
        key, eq, rest = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise UserError(f"--vary {item}: expected SECTION.FIELD=V1,V2,...")
        raws = [v.strip() for v in rest.split(",")] if rest.strip() else []
        if not raws or any(not v for v in raws):
            raise UserError(f"--vary {item}: empty value list or empty value (expected V1,V2,...)")
        typed: list[Any] = []
        field = None
        for raw in raws:
            try:
                chip = _load(args, [f"{key}={raw}"])
            except UserError as exc:
                msg = str(exc)
                if msg.startswith("--set "):
                    raise UserError("--vary " + msg[len("--set "):]) from None
                raise UserError(f"--vary {key}={raw}: {msg}") from None
            field = canonical_field(key)
            sec, fname = field.split(".")
            typed.append(getattr(getattr(chip, sec), fname))
        assert field is not None
        if field in descriptive_fields():
            raise UserError(f"--vary {field}: descriptive field, not read by the timing model, so every point "
                            "would give the same numbers (`swimsim chips --show` marks these fields)")
        if field in seen:
            raise UserError(f"--vary {item}: {field} is already varied")
        seen.add(field)
        dups = [raws[i] for i, v in enumerate(typed) if v in typed[:i]]
        if dups:
            raise UserError(f"--vary {item}: duplicate value {dups[0]} (each value once)")
        out.append((field, raws, typed))
    n = 1
    for _, raws, _ in out:
        n *= len(raws)
    if n > MAX_POINTS:
        shape = " x ".join(str(len(r)) for _, r, _ in out)
        raise UserError(f"--vary: {shape} = {n} points, at most {MAX_POINTS} allowed")
    return out


def cmd_sweep(args: argparse.Namespace) -> int:
    """Validate the whole grid, simulate its points not yet in ``points.jsonl`` (``--resume``) on the
    chosen backend, appending each as it finishes; print the table and write sweep.json/.md/.png
    (``-o``) from the finished points in grid order."""
    out = check_out_dir(args.out, "-o") if args.out else None
    if args.resume and out is None:
        raise UserError("--resume: needs -o DIR (the sweep to continue)")
    if args.scheduler and args.backend != "dask":
        raise UserError("--scheduler: only with --backend dask")
    if args.backend == "dask":
        check_dask()
    if args.chip_file:
        check_exists(args.chip_file)
    base = _load(args, [])  # bad --chip/--set fails before anything else
    vary = parse_vary(args)
    specs = list(dict.fromkeys(args.specs))
    for s in specs:
        check_kernel_spec(s)
    points = grid(vary, lambda sets: _load(args, sets))  # every point's chip, validated before any work
    file_args = tuple(args.file_args)
    files = {s: file_digest(s) for s in specs if is_pypto_file(s)}
    if file_args and not files:
        raise UserError(f"arguments after -- ({' '.join(file_args)}) are for pypto kernel files; no KERNEL is one")
    with recording_counter():  # built (files: recorded) once, before the workers fork
        graphs = {s: graph_of(s, args.mode, file_args) for s in specs}
    funcs = {s: list(dict.fromkeys(f for t in g.kernel_tasks() for f in g.function_names(t)))
             for s, g in graphs.items()}
    chosen = [check_metric(m.strip(), funcs) for m in args.metric]

    runs = args.runs
    jitter = RUN_JITTER if runs > 1 else 0.0
    common = {"chip": base.name, "mode": args.mode, "l2": args.l2, "runs": runs, "overrides": list(args.overrides)}
    if files:  # a file's points belong to its content and its arguments
        common = {**common, "files": files, "file_args": list(file_args)}
    cells = [(p, s) for p in points for s in specs]  # grid order: specs innermost
    keys = [point_key(s, p.sets, common) for p, s in cells]
    done: dict[str, dict[str, Any]] = {}
    if out is not None and args.resume:
        wanted = set(keys)
        done = {k: m for k, m in read_points(out / POINTS_FILE).items() if k in wanted}
    todo = [i for i, k in enumerate(keys) if k not in done]
    jobs = [PointJob(cells[i][1], args.mode, cells[i][0].chip, args.l2, runs, jitter, file_args) for i in todo]
    sink = None
    if out is not None:
        for name in SWEEP_FILES:  # written again at the end: none stale beside an interrupted points.jsonl
            (out / name).unlink(missing_ok=True)
        sink = PointsFile(out / POINTS_FILE, done)
    tick, close = ticker(len(jobs), enabled=sys.stderr.isatty() or len(jobs) >= PROGRESS_MIN_POINTS,
                         desc="sweep", unit="point")
    side = None
    try:
        for j, metrics in run_backend(args.backend, run_point, jobs, args.workers or default_workers(),
                                      args.scheduler):
            done[keys[todo[j]]] = metrics
            if side is None and out is not None:  # the workers exist: import the plotting library meanwhile
                side = in_background(pyplot)
            if sink is not None:
                sink.add(keys[todo[j]], metrics)
            tick()
    except KeyboardInterrupt:
        close()
        where = f"; {out / POINTS_FILE} holds them, --resume continues" if out is not None else ""
        print(f"swimsim: interrupted: {len(done)} of {len(keys)} points finished{where}", file=sys.stderr)
        return 130
    finally:
        close()
        if sink is not None:
            sink.close()

    if sink is not None:
        sink.finish(keys, done)  # grid order, as the completion order depends on the workers
    results = [(p.params, {s: done[keys[k * len(specs) + n]] for n, s in enumerate(specs)})
               for k, p in enumerate(points)]
    metrics = {s: (chosen or default_metrics(results[0][1][s])) for s in specs}
    doc = sweep_doc(chip=base.name, mode=args.mode, l2=args.l2, runs=runs, jitter=jitter,
                    overrides=list(args.overrides), vary=[(f, typed) for f, _, typed in vary], specs=specs,
                    metrics=metrics, points=results)
    sets_note = f"  --set {' '.join(args.overrides)}" if args.overrides else ""
    print(f"sweep: chip={base.name} mode={args.mode} l2={args.l2} runs={runs} points={len(points)} "
          f"(µs; Δ% vs the first point){sets_note}")
    print(format_table(doc, markdown=args.md), end="")
    if out is not None:
        wrote([out / POINTS_FILE,
               write_text_atomic(out / "sweep.json", sweep_json(doc)),
               write_text_atomic(out / "sweep.md", format_table(doc, markdown=True)),
               plot_sweep(doc, out / "sweep.png")])
    return 0
