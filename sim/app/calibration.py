"""Calibration of the chip's unknown parameters on the standalone baseline and the runtime's measurements.

Protocol: the free parameters are chip fields no public source quantifies (status CALIBRATE,
docs/model.md; the fit is described in docs/calibration.md);
they are fitted **only** on the measured standalone ``qkv_proj_rope`` decode *baseline* metrics
(``sim.app.measurements.fit_targets``) and, as noise-weighted priors (:data:`PRIORS`), on the
runtime's own measured microbenchmarks (``traces.runtime_checks``) and the measured cold-start bound.
Every other number ``swimsim reproduce`` prints is a prediction. With ``fit_cases`` the objective also
holds every measured metric of every validation case declared ``"set": "fit"`` (both commits' values
and the measured change), each in units of the case's stated noise (:data:`FIT_CASE_NOISE`); each
side is recorded once from its pypto-lib commit and re-simulated per parameter vector, and a case of
the validation set is refused. The search is a Halton probe of
the unit cube (``scipy.stats.qmc``) followed by restarted Nelder–Mead (``scipy.optimize.minimize``);
it is deterministic (fixed seeds, no random draws), and its result is a chip preset file with
provenance.
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
from hwmodels.chip import ChipConfig
from kernels.pypto_files.loader import Recording
from kernels.registry import build_graph
from sim.app.backtest import Clone, find_clone, record_side, simulate_views
from sim.app.backtest_cases import Case, load_cases
from sim.app.backtest_metrics import RunView, Unavailable, mean_metric
from sim.app.measurements import FIT_VARIANT, FIT_WORKLOAD, WORKLOADS
from sim.engine import RunOptions, simulate
from sim.util.errors import UserError
from traces import run_metrics
from traces.compare import mean_metrics
from traces.runtime_checks import CHECKS, runtime_values
from traces.stats import delta_pct, metric_value


@dataclass(frozen=True)
class Prior:
    """A measured value the fit must pay to leave: a runtime check (key of ``traces.runtime_checks.CHECKS``,
    simulated on seed 0 of the fit workload, at level 0 when the check is not comparable at level 4) or a
    chip field, with the measured range ``lo``..``hi`` (field units / µs) and its stated noise ``sigma``
    (same units). Term: (distance outside the range / sigma)²."""

    key: str
    lo: float
    hi: float
    sigma: float
    source: str

    def term(self, value: float | None) -> float:
        """The squared noise-weighted distance of ``value`` from the measured range (inf if missing)."""
        if value is None:
            return math.inf
        d = self.lo - value if value < self.lo else (value - self.hi if value > self.hi else 0.0)
        return (d / self.sigma) ** 2


# The standalone baseline's noise: ±4 % run to run (docs/calibration.md §1), so ±2.3 % for the measured
# 3-run means; its relative errors are divided by it so that they weigh against the priors in the same
# units (squared standard deviations).
SEED_NOISE = 0.023

_CHECK = {c.key: c for c in CHECKS}
# The runtime's measured microbenchmarks (traces/runtime_checks.py, simpler docs/investigations/ and
# docs/dfx/), each weighted by the noise its source states or implies, and the measured bound of the
# cold first-task excess as a prior on the cold-core bound (docs/calibration.md §2).
PRIORS: tuple[Prior, ...] = (
    Prior("loop_t0", 1.24, 1.24, 0.19, "355-task run without swimlane, one capture: ±15 %"),
    Prior("orch_per_task", 1.52, 1.52, 0.23, "same run: ±15 %"),
    Prior("steady_head_oh", 0.2, 0.5, 0.1, "measured range 0.2-0.5 µs"),
    Prior("first_head_oh_max", 0.3, 5.6, 1.0, "measured range over 72 cores"),
    Prior("switch_mean", 0.81, 0.81, 0.08, "mean of many switches, p50 0.28 / p99 0.60 µs setup: ±10 %"),
    Prior("thread_stagger", 1.92, 1.92, 0.96, "median; minimum 0.16 µs: ±50 %"),
    Prior("core.first_kernel_cold_max_ns", 0.0, 5310.0, 5310.0,
          "largest measured cold first-task head excess 5.31 µs (cold-start investigation); the head bounds the "
          "head wait only, and a fresh AICore stream costs +3.8-4.4 % of a layer's latency (simpler #1791), so "
          "one bound's width of noise"),
)


def prior_terms(params: dict[str, float], checks: dict[str, float | None],
                priors: tuple[Prior, ...] = PRIORS) -> dict[str, float]:
    """Each prior's term for chip-field values ``params`` and simulated runtime-check values ``checks`` (µs)."""
    out: dict[str, float] = {}
    for pr in priors:
        if pr.key in _CHECK:
            out[pr.key] = pr.term(checks.get(pr.key))
        elif pr.key in params:
            out[pr.key] = pr.term(params[pr.key])
    return out


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
    FreeParam("runtime.orch_swimlane_record_us", 0.0, 4.0,
              "docs/model.md §4.1 swimlane record of one submit at level 4 (0.25 µs inferred: one 32 B record, "
              "simpler docs/dfx/chip-swimlane-profiling.md §6)"),
)


@lru_cache(maxsize=4)
def _fit_graph():
    """The fit workload's task graph (built once per process)."""
    kernel, mode = WORKLOADS[FIT_WORKLOAD]
    return build_graph(f"{kernel}:{FIT_VARIANT}", mode=mode)


def fit_chip(base_chip: str | None, base_set: Sequence[str], params: dict[str, float]) -> ChipConfig:
    """Preset ``base_chip`` with the ``--set`` overrides ``base_set`` (``KEY=VALUE``, the structure held
    fixed) and then the free-parameter values ``params``."""
    return hwmodels.load_chip(base_chip, overrides=[*base_set, *(f"{k}={v}" for k, v in params.items())])


def run_fit_workload(
    chip_overrides: dict[str, float], base_chip: str | None, *, runs: int = 1, jitter: float = 0.0,
    base_set: Sequence[str] = (),
) -> dict:
    """Simulate the fit workload (standalone baseline) with the given overrides.

    Returns ``traces.run_metrics`` (µs), averaged over seeds 0..runs-1 when ``runs`` > 1.
    """
    return run_fit_workload_checks(chip_overrides, base_chip, runs=runs, jitter=jitter, base_set=base_set)[0]


def run_fit_workload_checks(
    chip_overrides: dict[str, float], base_chip: str | None, *, runs: int = 1, jitter: float = 0.0,
    base_set: Sequence[str] = (),
) -> tuple[dict, dict[str, float | None]]:
    """:func:`run_fit_workload` and the runtime-check values (µs) of its seed-0 run; a check not comparable
    at level 4 (measured without swimlane capture) takes its value from a seed-0 run at level 0."""
    graph = _fit_graph()
    chip = fit_chip(base_chip, base_set, chip_overrides)
    level = 4
    ms = []
    checks: dict[str, float | None] = {}
    for s in range(max(1, runs)):
        res = simulate(graph, chip, RunOptions(seed=s, swimlane_level=level, jitter=jitter))
        if s == 0:
            checks = runtime_values(res, level=level)
        ms.append(run_metrics(res, level=level))
    bare_keys = [c.key for c in CHECKS if not c.comparable(level) and c.comparable(0)]
    if bare_keys:
        bare = runtime_values(simulate(graph, chip, RunOptions(seed=0, swimlane_level=0, jitter=jitter)), level=0)
        checks.update({k: bare[k] for k in bare_keys})
    return mean_metrics(ms), checks


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


# --------------------------------------------------------------------------------------------
# Fit-set cases (validation cases declared "set": "fit")
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseNoise:
    """The relative noise ``side`` (σ as a fraction of the value) of one measured side of a case, as the
    case states it, and where it comes from. A measured change between two sides has the noise
    √2 × ``side`` × 100 percentage points (two independent sides)."""

    side: float
    why: str


# Each fit case's stated noise (its ``noise_note`` and ``runs``; docs/calibration.md §2). A fit case not
# listed gets DEFAULT_CASE_NOISE, the upper end of the ±3-5 % the kernel authors state for single-run
# L2-swimlane walls. Counts (``tasks``) carry the same weight; they do not depend on the free parameters.
DEFAULT_CASE_NOISE = CaseNoise(0.05, "single-run L2-swimlane walls ±3-5 % (authors): 5 %")
FIT_CASE_NOISE: dict[str, CaseNoise] = {
    "pr648-qkv-standalone": CaseNoise(0.023, "standalone qkv ±4 % run to run, 3-run means: 4 %/√3 = 2.3 %"),
    "pr648-hca-layer": CaseNoise(0.144, "HCA layer on a shared device up to ±25 %, 3-run means: 25 %/√3 = 14.4 %"),
    "pr641-hca-layer": CaseNoise(0.144, "HCA layer on a shared device up to ±25 %, 3-run means: 25 %/√3 = 14.4 %"),
    "pr641-compressor128": CaseNoise(0.05, "single-run L2-swimlane ±3-5 %, runs not stated: 5 %"),
    "pr641-csa-layer": CaseNoise(0.5, "CSA union span varies up to 2.7x between captures, single runs: 50 %"),
    "pr445-expert-routed": CaseNoise(0.05, "single-run L2-swimlane ±3-5 %; baseline n=2, optimized n=8: 5 %"),
}


def case_noise(case: Case) -> CaseNoise:
    """The stated noise of a fit case's measured sides."""
    return FIT_CASE_NOISE.get(case.id, DEFAULT_CASE_NOISE)


def require_fit(case: Case) -> None:
    """One-line :class:`UserError` unless ``case`` is declared in the fit set (the fit never runs or reads
    a validation case)."""
    if case.set != "fit":
        raise UserError(f"case {case.id}: declared \"set\": \"{case.set}\"; the fit uses only \"fit\" cases")


def fit_set(cases: Sequence[Case]) -> list[Case]:
    """The cases declared in the fit set, in file order (the validation cases are dropped unread)."""
    return [c for c in cases if c.set == "fit"]


def case_terms(case: Case, before: dict[str, float | None], after: dict[str, float | None]) -> dict[str, float]:
    """The objective's terms of one fit case from its simulated metric values at each commit (µs, counts, %;
    None: the run cannot give it). Per measured metric: each side's relative error in units of the case's
    noise σ, squared (``ID:METRIC:before`` / ``:after``), and the simulated minus measured change in units
    of √2·σ·100 points, squared (``ID:METRIC:delta``). A metric missing on either side has no term."""
    require_fit(case)
    sigma = case_noise(case).side
    out: dict[str, float] = {}
    for key, m in case.measured.items():
        sb, sa = before.get(key), after.get(key)
        for side, meas, sim in (("before", m.before, sb), ("after", m.after, sa)):
            if meas is not None and sim is not None and meas != 0:
                out[f"{case.id}:{key}:{side}"] = ((sim - meas) / meas / sigma) ** 2
        md, sd = delta_pct(m.before, m.after), delta_pct(sb, sa)
        if md is not None and sd is not None:
            out[f"{case.id}:{key}:delta"] = ((sd - md) / (math.sqrt(2.0) * sigma * 100.0)) ** 2
    return out


@dataclass
class RecordedCase:
    """A fit case recorded once at both commits (its graphs are re-simulated per parameter vector), or the
    one-line error that kept it out of the fit."""

    case: Case
    before: Recording | None = None
    after: Recording | None = None
    error: str | None = None


def record_fit_cases(cases: Sequence[Case], clones: list[Clone],
                     tick: Callable[[], None] = lambda: None) -> list[RecordedCase]:
    """Record both sides of every case (seed 0, as ``swimsim backtest`` records); each must be a fit case.
    A side that cannot be recorded leaves its case out with the reason (``error``); ``tick`` runs per side."""
    for c in cases:
        require_fit(c)
    out = []
    for c in cases:
        rc = RecordedCase(c)
        side = ""
        try:
            clone = find_clone(c, clones)
            side = f"before ({c.before_commit[:12]}): "
            rc.before = record_side(c, clone, c.before_commit, c.file_before, 0)
            tick()
            side = f"after ({c.after_commit[:12]}): "
            rc.after = record_side(c, clone, c.after_commit, c.file_after, 0)
            tick()
        except Exception as exc:  # noqa: BLE001 - a file swimsim cannot record stays out of the fit, reported
            lines = str(exc).strip().splitlines()
            rc.error = side + (lines[0] if lines else type(exc).__name__)
            rc.before = rc.after = None
        out.append(rc)
    return out


def _values(case: Case, views: list[RunView]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key in case.measured:
        try:
            out[key] = mean_metric(views, key)
        except Unavailable:
            out[key] = None
    return out


def simulate_case_values(rc: RecordedCase, chip: ChipConfig, seeds: list[int], jitter: float
                         ) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """(before, after) metric values of a recorded fit case on ``chip``, averaged over ``seeds``."""
    require_fit(rc.case)
    if rc.before is None or rc.after is None:
        raise ValueError(f"case {rc.case.id}: not recorded ({rc.error})")
    vb = simulate_views(rc.case, rc.before, chip, seeds, jitter)
    va = simulate_views(rc.case, rc.after, chip, seeds, jitter)
    return _values(rc.case, vb), _values(rc.case, va)


def fit_case_terms(recorded: Sequence[RecordedCase], chip: ChipConfig, seeds: list[int], jitter: float
                   ) -> tuple[dict[str, float], dict[str, tuple[dict, dict]]]:
    """Every recorded fit case's terms on ``chip`` and its simulated values (case id -> (before, after))."""
    terms: dict[str, float] = {}
    values: dict[str, tuple[dict, dict]] = {}
    for rc in recorded:
        if rc.error is not None:
            continue
        b, a = simulate_case_values(rc, chip, seeds, jitter)
        values[rc.case.id] = (b, a)
        terms.update(case_terms(rc.case, b, a))
    return terms, values


@dataclass
class Evaluation:
    """The objective at one parameter vector and its parts: seed terms (noise units²; the plain sum of
    squared relative errors without priors), prior terms, fit-case terms, and what was simulated."""

    total: float
    fit_loss: float  # the seed targets' squared relative errors (dimensionless)
    metrics: dict
    checks: dict[str, float | None]
    terms: dict[str, float]
    case_terms: dict[str, float]
    case_values: dict[str, tuple[dict, dict]]

    @property
    def seed_part(self) -> float:
        """The seed targets' part of the objective."""
        return self.total - sum(self.terms.values()) - sum(self.case_terms.values())


def evaluate(params: dict[str, float], targets: dict[str, float], *, base_chip: str | None = None,
             runs: int = 1, jitter: float = 0.0, priors: tuple[Prior, ...] | None = None,
             cases: Sequence[RecordedCase] = (), case_seeds: Sequence[int] = (0,),
             case_jitter: float = 0.0, base_set: Sequence[str] = ()) -> Evaluation:
    """The objective at chip-field values ``params``: the seed targets (``runs`` seeds of the fit workload),
    the priors when given, and the recorded fit ``cases`` (``case_seeds``, ``case_jitter``); ``base_set``
    (``KEY=VALUE``) is applied to the base preset before ``params``."""
    metrics, checks = run_fit_workload_checks(params, base_chip, runs=runs, jitter=jitter, base_set=base_set)
    fl = loss(metrics, targets)
    if priors is None and not cases:
        return Evaluation(fl, fl, metrics, checks, {}, {}, {})
    terms = prior_terms(params, checks, priors) if priors is not None else {}
    cterms: dict[str, float] = {}
    cvals: dict[str, tuple[dict, dict]] = {}
    if cases:
        chip = fit_chip(base_chip, base_set, params)
        cterms, cvals = fit_case_terms(cases, chip, list(case_seeds), case_jitter)
    total = fl / SEED_NOISE ** 2 + sum(terms.values()) + sum(cterms.values())
    return Evaluation(total, fl, metrics, checks, terms, cterms, cvals)


@dataclass
class FitResult:
    """A fit: parameter values (field units), loss at them, evaluations spent, their run metrics (µs)
    and the targets (µs)."""

    params: dict[str, float]
    loss: float  # the objective: seed errors in noise units² + prior terms (only the former without priors)
    evaluations: int
    metrics: dict
    targets: dict[str, float]
    fit_loss: float = 0.0  # sum of squared relative errors over the targets alone (dimensionless)
    checks: dict[str, float | None] | None = None  # runtime-check values at the fitted point (µs)
    terms: dict[str, float] | None = None  # each prior's term at the fitted point
    case_terms: dict[str, float] | None = None  # each fit-case term at the fitted point (ID:METRIC:side)
    case_ids: tuple[str, ...] = ()  # the fit cases the objective held


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
    priors: tuple[Prior, ...] | None = None,
    cases: Sequence[RecordedCase] = (),
    base_set: Sequence[str] = (),
) -> FitResult:
    """Fit ``free`` parameters to ``targets`` (µs metrics of the fit workload).

    The search runs in the unit cube (each parameter scaled to its bounds, clamped), starting from
    ``start`` (field -> value, e.g. an earlier calibration) where given, else from the spec's prior
    (the base preset's value). ``fixed`` (field -> value) is applied to every simulation and
    returned with the fitted values (a profile point). With ``priors`` (e.g. :data:`PRIORS`) the
    objective is the targets' relative errors in units of the seed's noise (:data:`SEED_NOISE`),
    squared, plus every prior's term, so a parameter cannot leave its measurement unpaid; without,
    it is :func:`loss`. Recorded fit ``cases`` add their terms (:func:`case_terms`, seed 0 per side,
    no jitter). ``base_set`` (``KEY=VALUE``: switches and other fields held fixed) is applied to the
    base preset in every simulation. Every step is deterministic, so the result is reproducible.
    """
    for rc in cases:
        require_fit(rc.case)
    fixed = dict(fixed or {})
    chip = fit_chip(base_chip, base_set, {})
    x0: list[float] = []
    for p in free:
        v = float(start[p.field]) if start and p.field in start else float(_get_field(chip, p.field))
        x0.append(min(1.0, max(0.0, (v - p.lo) / (p.hi - p.lo))))

    def to_params(x: list[float]) -> dict[str, float]:
        fitted = {p.field: round(p.lo + min(1.0, max(0.0, xi)) * (p.hi - p.lo), 4)
                  for p, xi in zip(free, x, strict=True)}
        return {**fitted, **fixed}

    cache: dict[tuple, float] = {}

    def score(params: dict[str, float]) -> Evaluation:
        return evaluate(params, targets, base_chip=base_chip, runs=runs, jitter=jitter, priors=priors,
                        cases=cases, base_set=base_set)

    def objective(x: list[float]) -> float:
        params = to_params(x)
        key = tuple(sorted(params.items()))
        if key not in cache:
            cache[key] = score(params).total
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
    ev = score(params)
    return FitResult(params, ev.total, evals, ev.metrics, targets, ev.fit_loss, ev.checks, ev.terms,
                     ev.case_terms if cases else None, tuple(rc.case.id for rc in cases if rc.error is None))


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
    base_set: Sequence[str] = (),
) -> list[ProfilePoint]:
    """Fit-loss profile along one free parameter (an identifiability check of the calibration).

    For each value the other free parameters are re-fitted from ``start``. A flat profile means the
    fit targets do not pin ``field``: predictions that depend on it are uncertain by the spread
    across the flat part, whatever the best fit says.
    """
    free = tuple(p for p in FREE_PARAMS if p.field != field)
    return [ProfilePoint(field, v, fit(targets, base_chip=base_chip, free=free, max_evals=max_evals, runs=runs,
                                       jitter=jitter, start=start, fixed={field: v}, progress=progress,
                                       base_set=base_set))
            for v in values]


def case_ids(path: str | None = None) -> tuple[list[str], list[str]]:
    """(fit-set ids, validation-set ids) of a validation case file (default: the bundled one,
    sim/app/validation); only the ids and sets are read."""
    cases, _ = load_cases(path)
    return ([c.id for c in cases.cases if c.set == "fit"], [c.id for c in cases.cases if c.set == "validation"])


def provenance_note(result: FitResult, cases_path: str | None = None) -> str:
    """The provenance line a calibrated preset carries: what the objective held, evaluations, loss, date,
    and the held-out validation cases."""
    keys = ", ".join(sorted(result.targets))
    fit_ids, val_ids = case_ids(cases_path)
    if result.case_ids:
        left = [i for i in fit_ids if i not in result.case_ids]
        out = f" ({', '.join(left)}: not recordable, left out)" if left else ""
        return (
            f"fitted on {', '.join(result.case_ids)}{out} + seed standalone baseline ({FIT_WORKLOAD} {FIT_VARIANT}: "
            f"{keys}) + runtime priors by `swimsim calibrate --fit-cases` ({result.evaluations} simulations, "
            f"objective {result.loss:.4g}, {date.today().isoformat()}); validated on {', '.join(val_ids)}"
        )
    priors = f" + runtime priors ({', '.join(sorted(result.terms))})" if result.terms else ""
    return (
        f"fitted on {FIT_WORKLOAD} {FIT_VARIANT} ({keys}; the seed baseline of {fit_ids[0] if fit_ids else 'PR 648'})"
        f"{priors} by `swimsim calibrate` ({result.evaluations} simulations, objective {result.loss:.4g}, "
        f"{date.today().isoformat()}); fit set {', '.join(fit_ids)} scored by `swimsim backtest`, not fitted; "
        f"validated on {', '.join(val_ids)}"
    )
