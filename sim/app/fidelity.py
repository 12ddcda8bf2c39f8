"""Reproduction of a measured before/after comparison: simulate, compare, tabulate.

The measurement file (``sim/app/validation/pr648_measurements.json`` by default, same layout as
``shared/data/pr648_measurements.json``) names workloads, their capture level and per-metric
measured values per variant. Metric names are ``total_test_time``, ``swimlane_wall`` or
``<function>.avg_exec`` / ``<function>.span``; all values in µs.

Which numbers are *fitted* is decided by :data:`FIT_WORKLOAD` / :data:`FIT_VARIANT` (the
calibration protocol: only the standalone baseline is used for fitting); everything else is a
prediction.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sim.ir.records import RunResult
from sim.util.errors import UserError
from sim.util.tables import render_table
from traces.stats import FUNC_FIELDS, RUN_FIELDS, delta_pct, error_pct, metric_value

DEFAULT_MEASUREMENTS = Path(__file__).parent / "validation" / "pr648_measurements.json"

# The calibration protocol: free parameters are fitted only on these numbers.
FIT_WORKLOAD = "qkv_proj_rope_decode"
FIT_VARIANT = "baseline"

# Workload name in the measurement file -> (kernel spec without variant, mode).
WORKLOADS: dict[str, tuple[str, str]] = {
    "qkv_proj_rope_decode": ("qkv_proj_rope", "decode"),
    "decode_attention_hca": ("decode_attention_hca", "decode"),
}
VARIANTS = ("baseline", "precompute")

# Seeded runs averaged per variant by `reproduce` and per evaluation by `calibrate` (same seeds):
# the simulator estimates the expected 3-run measured mean, so it averages enough seeds that its own
# Monte-Carlo noise (cold-core placement, jitter) stays well below the hardware's run-to-run noise.
DEFAULT_RUNS = 20


@dataclass
class Measurements:
    """Parsed measurement file: workload -> metric -> variant -> µs (None = not applicable)."""

    path: Path
    levels: dict[str, int]
    values: dict[str, dict[str, dict[str, float | None]]]


def load_measurements(path: Path | str | None = None) -> Measurements:
    """Read and check a measurement file; raise UserError naming the field on bad input."""
    p = Path(path) if path else DEFAULT_MEASUREMENTS
    try:
        doc = json.loads(p.read_text())
    except FileNotFoundError as exc:
        raise UserError(f"{p}: file not found") from exc
    except json.JSONDecodeError as exc:
        raise UserError(f"{p}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("workloads"), dict):
        raise UserError(f"{p}: expected an object with a 'workloads' object")
    levels: dict[str, int] = {}
    values: dict[str, dict[str, dict[str, float | None]]] = {}
    for wname, w in doc["workloads"].items():
        if wname not in WORKLOADS:
            raise UserError(f"{p}: workloads.{wname}: unknown workload (expected one of {sorted(WORKLOADS)})")
        lvl = w.get("swimlane_level", 4)
        if lvl not in (1, 2, 3, 4):
            raise UserError(f"{p}: workloads.{wname}.swimlane_level: {lvl!r} (expected 1..4)")
        levels[wname] = lvl
        metrics = w.get("metrics")
        if not isinstance(metrics, dict):
            raise UserError(f"{p}: workloads.{wname}.metrics: expected an object")
        values[wname] = {}
        for mname, per_var in metrics.items():
            why = metric_name_error(mname)
            if why is not None:
                raise UserError(f"{p}: workloads.{wname}.metrics.{mname}: unknown metric ({why})")
            if not isinstance(per_var, dict):
                raise UserError(f"{p}: workloads.{wname}.metrics.{mname}: expected an object of per-variant values")
            values[wname][mname] = {}
            for var in VARIANTS:
                v = per_var.get(var)
                if v is not None and not isinstance(v, int | float):
                    raise UserError(f"{p}: workloads.{wname}.metrics.{mname}.{var}: {v!r} (expected a number)")
                values[wname][mname][var] = None if v is None else float(v)
    return Measurements(path=p, levels=levels, values=values)


def fit_targets(meas: Measurements) -> dict[str, float]:
    """The only measured numbers the calibration may see: standalone baseline metrics (µs)."""
    out: dict[str, float] = {}
    for mname, per_var in meas.values.get(FIT_WORKLOAD, {}).items():
        v = per_var.get(FIT_VARIANT)
        if v is not None:
            out[mname] = v
    return out


# Metric names a measurement file may use: run-wide ones, and FUNCTION.<field> per function. The
# reused / first-use Avg Exec split is what `swimsim placement` reports on a hardware capture; a
# standalone-baseline value of it becomes one more fit target (it separates the per-op cost from
# the cold-core cost, which the four run-level targets cannot).
FUNC_METRICS = tuple(f for f in FUNC_FIELDS if f != "count")


def metric_name_error(name: str) -> str | None:
    """Why ``name`` is not a metric name (None when it is one)."""
    if "." in name:
        func, what = name.rsplit(".", 1)
        if func and what in FUNC_METRICS:
            return None
        return f"expected FUNCTION.<{'|'.join(FUNC_METRICS)}>"
    return None if name in RUN_FIELDS else f"expected one of {', '.join(RUN_FIELDS)} or FUNCTION.<field>"


@dataclass
class MetricRow:
    workload: str
    metric: str
    measured: dict[str, float | None] = field(default_factory=dict)
    simulated: dict[str, float | None] = field(default_factory=dict)
    role: dict[str, str] = field(default_factory=dict)

    def err(self, var: str) -> float | None:
        return error_pct(self.simulated.get(var), self.measured.get(var))


def role_of(workload: str, variant: str) -> str:
    return "fitted" if (workload == FIT_WORKLOAD and variant == FIT_VARIANT) else "predicted"


def build_rows(meas: Measurements, simulated: dict[str, dict[str, dict]]) -> list[MetricRow]:
    """Pair measured values with simulated metrics dicts (workload -> variant -> run_metrics)."""
    rows: list[MetricRow] = []
    for wname, metrics in meas.values.items():
        for mname, per_var in metrics.items():
            r = MetricRow(workload=wname, metric=mname)
            for var in VARIANTS:
                r.measured[var] = per_var.get(var)
                sm = simulated.get(wname, {}).get(var)
                r.simulated[var] = None if sm is None else metric_value(sm, mname)
                r.role[var] = role_of(wname, var)
            rows.append(r)
    return rows


def fidelity_json(rows: Sequence[MetricRow]) -> dict:
    """``{"workloads": {W: {"metrics": {M: {V: {measured, simulated, error_pct, role}}}}}}``."""
    out: dict = {"workloads": {}}
    for r in rows:
        m = out["workloads"].setdefault(r.workload, {"metrics": {}})["metrics"].setdefault(r.metric, {})
        for var in VARIANTS:
            if r.measured.get(var) is None and r.simulated.get(var) is None:
                continue
            e = r.err(var)
            m[var] = {
                "measured": r.measured.get(var),
                "simulated": None if r.simulated.get(var) is None else round(r.simulated[var], 3),
                "error_pct": None if e is None else round(e, 2),
                "role": r.role[var],
            }
        dm, ds = delta_pct(r.measured["baseline"], r.measured["precompute"]), delta_pct(
            r.simulated["baseline"], r.simulated["precompute"]
        )
        if dm is not None or ds is not None:
            m["delta_pct"] = {
                "measured": None if dm is None else round(dm, 2),
                "simulated": None if ds is None else round(ds, 2),
            }
    return out


def _fmt(v: float | None, nd: int = 3) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{nd}f}"


def _fmt_pct(v: float | None) -> str:
    return "-" if v is None else f"{v:+.1f}%"


def format_table(rows: Sequence[MetricRow], *, markdown: bool = False) -> str:
    """The fidelity table: one line per (workload, metric); F = fitted, P = predicted."""
    head = [
        "workload",
        "metric",
        "meas base",
        "sim base",
        "err %",
        "meas prec",
        "sim prec",
        "err %",
        "meas Δ%",
        "sim Δ%",
    ]
    body: list[list[str]] = []
    for r in rows:
        cells = [r.workload, r.metric]
        for var in VARIANTS:
            tag = "F" if r.role[var] == "fitted" else "P"
            sim_v = r.simulated.get(var)
            cells += [
                _fmt(r.measured.get(var)),
                "-" if sim_v is None else f"{sim_v:.3f} {tag}",
                _fmt_pct(r.err(var)),
            ]
        cells += [
            _fmt_pct(delta_pct(r.measured["baseline"], r.measured["precompute"])),
            _fmt_pct(delta_pct(r.simulated["baseline"], r.simulated["precompute"])),
        ]
        body.append(cells)
    text = render_table(head, body, markdown=markdown)
    if markdown:
        return text
    return text + "(F = fitted on the standalone baseline by `swimsim calibrate`; P = predicted)\n"


def run_spread(meas: Measurements, per_seed: dict[str, dict[str, list[dict]]]) -> dict:
    """``{workload: {metric: {variant: [min, median, max]}}}`` of the simulated per-seed values (µs)."""
    out: dict = {}
    for wname, metrics in meas.values.items():
        for mname in metrics:
            for var in VARIANTS:
                vals = [metric_value(m, mname) for m in per_seed.get(wname, {}).get(var, [])]
                vals = sorted(v for v in vals if v is not None)
                if vals:
                    out.setdefault(wname, {}).setdefault(mname, {})[var] = [
                        round(vals[0], 3), round(statistics.median(vals), 3), round(vals[-1], 3)]
    return out


def cold_rows(result: RunResult) -> dict[str, int]:
    """Rows per function that paid the cold first-kernel extra (their core's first kernel)."""
    out: dict[str, int] = {}
    for s in result.subtasks:
        if s.on_cold_core:
            out[s.func] = out.get(s.func, 0) + 1
    return out


def _measured_functions(metrics: dict) -> list[str]:
    """Function names of the ``<function>.<metric>`` keys, in file order."""
    return list(dict.fromkeys(m.split(".", 1)[0] for m in metrics if "." in m))


def _function_runs(meas: Measurements, per_seed: dict[str, dict[str, list[dict]]]):
    """(workload, function, variant, that function's metrics in each run that has it), per measured function."""
    for wname, metrics in meas.values.items():
        for func in _measured_functions(metrics):
            for var in VARIANTS:
                runs = [m["funcs"][func] for m in per_seed.get(wname, {}).get(var, []) if func in m.get("funcs", {})]
                yield wname, func, var, runs


def cold_row_counts(meas: Measurements, per_seed: dict[str, dict[str, list[dict]]]) -> dict:
    """``{workload: {function: {variant: [rows on cold cores, per seeded run]}}}`` (measured functions)."""
    out: dict = {}
    for wname, func, var, runs in _function_runs(meas, per_seed):
        if runs:
            out.setdefault(wname, {}).setdefault(func, {})[var] = [int(f.get("cold_rows", 0)) for f in runs]
    return out


def warm_run_means(meas: Measurements, per_seed: dict[str, dict[str, list[dict]]]) -> dict:
    """``{workload: {function: {variant: {avg_exec, span, runs}}}}`` over the runs without cold rows (µs)."""
    out: dict = {}
    for wname, func, var, runs in _function_runs(meas, per_seed):
        rows = [f for f in runs if not f.get("cold_rows", 0)]
        if rows:
            out.setdefault(wname, {}).setdefault(func, {})[var] = {
                "avg_exec": round(statistics.fmean(r["avg_exec"] for r in rows), 3),
                "span": round(statistics.fmean(r["span"] for r in rows), 3), "runs": len(rows)}
    return out


def format_cold_rows(counts: dict, warm: dict | None = None) -> str:
    """The runs in which a measured function had rows on cold cores, and its mean over the others."""
    lines = []
    for wname, funcs in counts.items():
        for func, per_var in funcs.items():
            for var, c in per_var.items():
                hit = sum(1 for n in c if n)
                if not hit:
                    continue
                line = f"  {wname} {func} {var}: {' '.join(map(str, c))}  ({hit} of {len(c)} runs"
                w = (warm or {}).get(wname, {}).get(func, {}).get(var)
                if w:
                    line += f"; the other {w['runs']}: Avg Exec {w['avg_exec']:.2f}, span {w['span']:.2f} µs"
                lines.append(line + ")")
    if not lines:
        return ""
    return "rows on cold cores (their core's first kernel in the launch), per seeded run:\n" + "\n".join(lines) + "\n"


def format_spread(meas: Measurements, spread: dict, *, markdown: bool = False) -> str:
    """workload | metric | measured | simulated min / median / max, per variant (µs)."""
    head = ["workload", "metric"]
    for var in VARIANTS:
        head += [f"meas {var[:4]}", f"sim {var[:4]} min / med / max"]
    body = []
    for wname, metrics in meas.values.items():
        for mname, per_var in metrics.items():
            cells = [wname, mname]
            for var in VARIANTS:
                s = spread.get(wname, {}).get(mname, {}).get(var)
                cells += [_fmt(per_var.get(var)), "-" if s is None else " / ".join(f"{x:.2f}" for x in s)]
            body.append(cells)
    return render_table(head, body, markdown=markdown)
