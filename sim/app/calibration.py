"""Calibration of the chip's unknown parameters on the standalone baseline only.

Protocol: the free parameters are chip fields no public source quantifies (status CALIBRATE,
docs/model.md; the fit is described in docs/calibration.md);
they are fitted **only** on the measured standalone ``qkv_proj_rope`` decode *baseline* metrics
(``sim.app.measurements.fit_targets``). Every other number ``swimsim reproduce`` prints is a
prediction. The search is a Halton probe of the unit cube (``scipy.stats.qmc``) followed by
restarted Nelder–Mead (``scipy.optimize.minimize``); it is deterministic (fixed seeds, no random
draws), and its result is a chip preset file with provenance.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
from scipy.optimize import minimize
from scipy.stats import qmc

import hwmodels
from kernels.registry import build_graph
from sim.app.measurements import FIT_VARIANT, FIT_WORKLOAD, WORKLOADS
from sim.engine import RunOptions, simulate
from traces import run_metrics
from traces.compare import mean_metrics
from traces.stats import metric_value


@dataclass(frozen=True)
class FreeParam:
    """One fitted parameter: dotted ChipConfig field, search bounds (field units), and why it is free."""

    field: str
    lo: float
    hi: float
    why: str


# Unknowns (CALIBRATE fields, docs/model.md §3.2, §4.3, §4.6) that the fit may move: as many as there are fit
# targets (four), so the fit is determined. Bounds are physical ranges, not targets: the spec's prior
# lies inside each. Kept at their priors: vector.op_issue_ns (the VSIM per-op constant), the
# per-GM-load cold extra (derived from the measured cold dcci + ACK), the cold head cost (measured).
FREE_PARAMS: tuple[FreeParam, ...] = (
    FreeParam("vector.op_fixed_ns", 40.0, 300.0, "docs/model.md §3.2 per-vector-instruction fixed cost"),
    FreeParam("core.first_kernel_cold_max_ns", 0.0, 40000.0,
              "docs/model.md §4.6 cold first kernel per core: bound of its warm-up (head wait + per-GM-load extra)"),
    FreeParam("runtime.sched_idle_iter_us", 0.1, 2.0, "docs/model.md §4.3 idle scheduler iteration"),
    FreeParam("runtime.orch_submit_us", 0.5, 4.0,
              "docs/model.md §4.3 submit cost (0.87-3.0 µs/task measured, simpler docs/dfx/l2-timing.md)"),
)


@lru_cache(maxsize=4)
def _fit_graph():
    """The fit workload's task graph (built once per process)."""
    kernel, mode = WORKLOADS[FIT_WORKLOAD]
    return build_graph(f"{kernel}:{FIT_VARIANT}", mode=mode)


def run_fit_workload(
    chip_overrides: dict[str, float], base_chip: str | None, *, runs: int = 1, jitter: float = 0.0
) -> dict:
    """Simulate the fit workload (standalone baseline) with the given overrides.

    Returns ``traces.run_metrics`` (µs), averaged over seeds 0..runs-1 when ``runs`` > 1.
    """
    graph = _fit_graph()
    chip = hwmodels.load_chip(base_chip, overrides=[f"{k}={v}" for k, v in chip_overrides.items()])
    level = 4
    ms = [
        run_metrics(simulate(graph, chip, RunOptions(seed=s, swimlane_level=level, jitter=jitter)), level=level)
        for s in range(runs)
    ]
    return mean_metrics(ms)


def loss(metrics: dict, targets: dict[str, float]) -> float:
    """Sum of squared relative errors over the fit targets (dimensionless)."""
    total = 0.0
    for name, meas in targets.items():
        sim = metric_value(metrics, name)
        if sim is None:
            return math.inf
        total += ((sim - meas) / meas) ** 2
    return total


def nelder_mead(
    f: Callable[[list[float]], float],
    x0: Sequence[float],
    step: Sequence[float],
    *,
    max_evals: int = 80,
    tol: float = 1e-5,
    progress: Callable[[int, float], None] | None = None,
) -> tuple[list[float], float, int]:
    """Nelder–Mead (scipy) minimising ``f`` (values >= 0) from the simplex ``x0``, ``x0 + step[i] e_i``.

    Stops when the simplex's worst and best values differ by at most ``tol × (best + tol)`` or after
    ``max_evals`` evaluations of ``f``. scipy's ``fatol`` is absolute; the method's moves depend only
    on the order of the values, so it minimises ``log(f + tol)``, on which ``fatol = log1p(tol)`` is
    exactly that relative stop. ``progress(evaluations, best f)`` runs after every iteration.
    Returns (x, f(x), evaluations).
    """
    n = len(x0)
    simplex = np.array([list(x0)] + [[x0[j] + (step[i] if j == i else 0.0) for j in range(n)] for i in range(n)],
                       dtype=float)
    seen: list[tuple[list[float], float]] = []  # every evaluation, in order

    def log_f(x: np.ndarray) -> float:
        point = [float(v) for v in x]
        value = f(point)
        seen.append((point, value))
        return math.log(value + tol)

    def each_iteration(intermediate_result: object) -> None:
        if progress:
            progress(len(seen), min(v for _, v in seen))

    res = minimize(log_f, simplex[0], method="Nelder-Mead", callback=each_iteration,
                   options={"initial_simplex": simplex, "maxfev": max_evals, "xatol": math.inf,
                            "fatol": math.log1p(tol)})
    best = [float(v) for v in res.x]
    value = next((v for p, v in seen if p == best), math.inf)  # inf: max_evals < 1, nothing evaluated
    return best, value, len(seen)


def halton(n: int, dim: int) -> list[list[float]]:
    """Points 1..n of the (unscrambled) Halton sequence in [0, 1)^dim; bases: the first ``dim`` primes."""
    return qmc.Halton(d=dim, scramble=False).random(n + 1)[1:].tolist()


@dataclass
class FitResult:
    """A fit: parameter values (field units), loss at them, evaluations spent, their run metrics (µs)
    and the targets (µs)."""

    params: dict[str, float]
    loss: float
    evaluations: int
    metrics: dict
    targets: dict[str, float]


def fit(
    targets: dict[str, float],
    *,
    base_chip: str | None = None,
    free: tuple[FreeParam, ...] = FREE_PARAMS,
    max_evals: int = 60,
    runs: int = 1,
    jitter: float = 0.0,
    progress: Callable[[int, float], None] | None = None,
    start: dict[str, float] | None = None,
    fixed: dict[str, float] | None = None,
) -> FitResult:
    """Fit ``free`` parameters to ``targets`` (µs metrics of the fit workload).

    The search runs in the unit cube (each parameter scaled to its bounds, clamped), starting from
    ``start`` (field -> value, e.g. an earlier calibration) where given, else from the spec's prior
    (the base preset's value). ``fixed`` (field -> value) is applied to every simulation and
    returned with the fitted values (a profile point). Every step is deterministic, so the result
    is reproducible.
    """
    fixed = dict(fixed or {})
    chip = hwmodels.load_chip(base_chip)
    x0: list[float] = []
    for p in free:
        v = float(start[p.field]) if start and p.field in start else float(_get_field(chip, p.field))
        x0.append(min(1.0, max(0.0, (v - p.lo) / (p.hi - p.lo))))

    def to_params(x: list[float]) -> dict[str, float]:
        fitted = {p.field: round(p.lo + min(1.0, max(0.0, xi)) * (p.hi - p.lo), 4)
                  for p, xi in zip(free, x, strict=True)}
        return {**fitted, **fixed}

    cache: dict[tuple, float] = {}

    def objective(x: list[float]) -> float:
        params = to_params(x)
        key = tuple(sorted(params.items()))
        if key not in cache:
            cache[key] = loss(run_fit_workload(params, base_chip, runs=runs, jitter=jitter), targets)
        return cache[key]

    # Global stage: the start point plus a deterministic Halton sample of the unit cube; then Nelder–Mead
    # from the two best starts, restarted around its best point while that still improves (the
    # jittered loss has plateaus and two basins on the qkv baseline: slow ops + cheap runtime vs the
    # reverse). Every step is deterministic, so the fit is reproducible.
    n_probe = min(max(0, max_evals // 6), 24)
    probes = [x0] + halton(n_probe, len(free))
    scored = sorted(((objective(p), k, p) for k, p in enumerate(probes)), key=lambda t: (t[0], t[1]))
    evals = len(probes)
    x, best = scored[0][2], scored[0][0]
    starts = [t[2] for t in scored[:2]]
    for k, start in enumerate(starts):
        budget = (max_evals - evals) // (len(starts) - k)
        if budget <= len(free) + 1:
            break
        xs, bs, used = _nm_restarts(objective, start, budget, progress, evals)
        evals += used
        if bs < best:
            x, best = xs, bs
    params = to_params(x)
    return FitResult(params, best, evals, run_fit_workload(params, base_chip, runs=runs, jitter=jitter), targets)


def _nm_restarts(objective: Callable[[list[float]], float], x: list[float], budget: int,
                 progress: Callable[[int, float], None] | None, done: int) -> tuple[list[float], float, int]:
    """Nelder–Mead from ``x``, restarted with a smaller simplex while a restart still improves."""
    n = len(x)
    prog = (lambda e, v: progress(done + e, v)) if progress else None
    x, best, used = nelder_mead(objective, x, [0.15] * n, max_evals=budget, progress=prog)
    step = 0.1
    while used < budget:
        prog = (lambda e, v, d=done + used: progress(d + e, v)) if progress else None
        x2, b2, e2 = nelder_mead(objective, x, [step] * n, max_evals=budget - used, progress=prog)
        used += e2
        improved = b2 < best * (1.0 - 1e-3)
        if b2 < best:
            x, best = x2, b2
        if not improved:
            break
        step = max(0.02, step * 0.5)
    return x, best, used


def _get_field(obj: object, dotted: str) -> object:
    """``obj``'s attribute at the dotted path (``vector.op_fixed_ns``)."""
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def start_values(chip: object) -> dict[str, float]:
    """The free parameters' values in ``chip`` (a start point for :func:`fit`)."""
    return {p.field: float(_get_field(chip, p.field)) for p in FREE_PARAMS}


def free_param(field: str) -> FreeParam | None:
    """The free parameter named ``field`` (dotted ChipConfig path), or None."""
    return next((p for p in FREE_PARAMS if p.field == field), None)


@dataclass
class ProfilePoint:
    """One point of a fit-loss profile: ``field`` held at ``value``, the other free parameters fitted."""

    field: str
    value: float
    result: FitResult


def profile(
    targets: dict[str, float],
    field: str,
    values: list[float],
    *,
    base_chip: str | None = None,
    max_evals: int = 70,
    runs: int = 1,
    jitter: float = 0.0,
    start: dict[str, float] | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> list[ProfilePoint]:
    """Fit-loss profile along one free parameter (an identifiability check of the calibration).

    For each value the other free parameters are re-fitted from ``start``. A flat profile means the
    fit targets do not pin ``field``: predictions that depend on it are uncertain by the spread
    across the flat part, whatever the best fit says.
    """
    free = tuple(p for p in FREE_PARAMS if p.field != field)
    return [ProfilePoint(field, v, fit(targets, base_chip=base_chip, free=free, max_evals=max_evals, runs=runs,
                                       jitter=jitter, start=start, fixed={field: v}, progress=progress))
            for v in values]


def provenance_note(result: FitResult) -> str:
    """The provenance line a calibrated preset carries: targets, evaluations, loss, date."""
    keys = ", ".join(sorted(result.targets))
    return (
        f"fitted on {FIT_WORKLOAD} {FIT_VARIANT} ({keys}) by `swimsim calibrate` "
        f"({result.evaluations} simulations, loss {result.loss:.4g}, {date.today().isoformat()}); "
        "validated on the precompute variant and on decode_attention_hca"
    )
