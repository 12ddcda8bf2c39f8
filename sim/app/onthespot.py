"""Simulate a kernel spec on the spot: seeded runs of one graph on one chip, averaged metrics (µs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hwmodels import load_chip, recommended_preset
from kernels.registry import build_graph
from sim.app.paths import check_kernel_spec
from sim.engine import RunOptions, simulate
from sim.util.errors import UserError
from traces.compare import mean_metrics, metrics_of_path
from traces.rundir import run_metrics

RUN_JITTER = 0.03  # relative per-block jitter when averaging several seeded runs (≈ the ±4 % run-to-run noise)


def metrics_of_spec(spec: str, mode: str, runs: int, chip: str | None, overrides: list[str],
                    level: int = 4) -> dict[str, Any]:
    """Simulate kernel ``spec`` (e.g. ``qkv_proj_rope:baseline``) for seeds 0..runs-1; mean metrics."""
    graph = build_graph(spec, mode)
    cfg = load_chip(chip or recommended_preset(), overrides)
    jitter = RUN_JITTER if runs > 1 else 0.0
    ms = [run_metrics(simulate(graph, cfg, RunOptions(seed=s, jitter=jitter)), level) for s in range(runs)]
    return mean_metrics(ms)


def resolve_side(arg: str, mode: str, runs: int, chip: str | None, overrides: list[str]) -> dict[str, Any]:
    """A directory/file argument is loaded; anything else is a kernel spec simulated on the spot. A
    missing path (:func:`sim.app.paths.looks_like_path`) is reported as such, not as a kernel."""
    p = Path(arg)
    if p.is_dir() or (p.is_file() and p.suffix != ".py"):  # my_kernel.py is a kernel spec
        return metrics_of_path(p)
    if runs < 1:
        raise UserError(f"--runs {runs}: expected a positive integer")
    return metrics_of_spec(check_kernel_spec(arg), mode, runs, chip, overrides)
