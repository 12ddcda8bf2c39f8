"""Reproduction of a measured before/after comparison: pair measured and simulated metrics, tabulate.

The measured side is a :class:`sim.app.measurements.Measurements`; the simulated side is
``traces.run_metrics`` dicts per workload and variant (µs). Rows of the fitted workload × variant
(:data:`sim.app.measurements.FIT_WORKLOAD` / ``FIT_VARIANT``) are marked *fitted*, all others
*predicted*.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from sim.app.measurements import FIT_VARIANT, FIT_WORKLOAD, VARIANTS, Measurements
from sim.ir.records import RunResult
from sim.util.tables import render_table
from traces.stats import delta_pct, error_pct, metric_value

# Seeded runs averaged per variant by `reproduce` and per evaluation by `calibrate` (same seeds):
# the simulator estimates the expected 3-run measured mean, so it averages enough seeds that its own
# Monte-Carlo noise (cold-core placement, jitter) stays well below the hardware's run-to-run noise.
DEFAULT_RUNS = 20


@dataclass
class MetricRow:
    """One measured metric of one workload: measured and simulated value and role per variant (µs)."""

    workload: str
    metric: str
    measured: dict[str, float | None] = field(default_factory=dict)
    simulated: dict[str, float | None] = field(default_factory=dict)
    role: dict[str, str] = field(default_factory=dict)

    def err(self, var: str) -> float | None:
        """Simulated vs measured error of ``var``, % (None without both)."""
        return error_pct(self.simulated.get(var), self.measured.get(var))

    def change(self, side: str) -> float | None:
        """Change baseline -> precompute of the ``"measured"`` or ``"simulated"`` values, % (None without both)."""
        vals = self.measured if side == "measured" else self.simulated
        return delta_pct(vals.get("baseline"), vals.get("precompute"))


def role_of(workload: str, variant: str) -> str:
    """``fitted`` for the calibration's workload × variant, else ``predicted``."""
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
        dm, ds = r.change("measured"), r.change("simulated")
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
            _fmt_pct(r.change("measured")),
            _fmt_pct(r.change("simulated")),
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
