"""Backtest report: the per-metric table, the summary per set and kernel family, ``backtest.json``,
``backtest.md``, ``backtest.png`` and the one-line summary ``reproduce`` prints.

Summary figures of a group of metrics: the share whose simulated change has the measured direction
(same sign, or both within ±2 %), the median |Δ error| (|simulated Δ % − measured Δ %|, points) and
the median absolute error of the simulated values against the measured ones (% of measured, before
and after values pooled).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.app.backtest import DIRECTION_TOL_PCT, CaseResult, MetricRow
from sim.ir.records import EXEC_PARTS
from sim.util.errors import UserError
from traces.plot import pyplot, save_png_atomic

ARROW = "→"


@dataclass
class GroupSummary:
    """Summary of one group of metrics (a set, all, or one kernel family)."""

    name: str
    cases: int
    failed: int
    metrics: int
    scored: int  # metrics with both a measured and a simulated change
    right: int
    median_delta_error: float | None  # points
    median_abs_error: float | None  # % of measured
    values: int  # simulated values with a measured counterpart

    @property
    def right_share(self) -> float | None:
        return self.right / self.scored * 100.0 if self.scored else None


def _median(vs: list[float]) -> float | None:
    return statistics.median(vs) if vs else None


def summarize(name: str, results: list[CaseResult]) -> GroupSummary:
    """The summary of the cases ``results``."""
    rows = [r for c in results for r in c.rows]
    scored = [r for r in rows if r.direction_ok is not None]
    errs = [abs(e) for r in rows for e in (r.err_before, r.err_after) if e is not None]
    return GroupSummary(name=name, cases=len(results), failed=sum(c.error is not None for c in results),
                        metrics=len(rows), scored=len(scored), right=sum(bool(r.direction_ok) for r in scored),
                        median_delta_error=_median([r.delta_error for r in scored if r.delta_error is not None]),
                        median_abs_error=_median(errs), values=len(errs))


def summaries(results: list[CaseResult]) -> list[GroupSummary]:
    """Summaries of the fit set, the validation set, all cases, then each kernel family (by name)."""
    out = [summarize(s, [c for c in results if c.case.set == s]) for s in ("fit", "validation")]
    out.append(summarize("all", results))
    for fam in sorted({c.case.family for c in results}):
        out.append(summarize(f"family {fam}", [c for c in results if c.case.family == fam]))
    return out


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


def _num(v: float | None, unit: str) -> str:
    if v is None:
        return "-"
    if unit == "count":
        return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"
    return f"{v:.2f}"


def _pct(v: float | None, sign: bool = True) -> str:
    return "-" if v is None else (f"{v:+.1f}" if sign else f"{v:.1f}")


def _pair(b: float | None, a: float | None, unit: str) -> str:
    return f"{_num(b, unit)} {ARROW} {_num(a, unit)}"


def _dir(r: MetricRow) -> str:
    return {None: "-", True: "yes", False: "no"}[r.direction_ok]


TABLE_HEAD = ["case", "set", "metric", "measured", "Δ%", "simulated", "Δ%", "dir ok", "|Δ err| pts",
              "err before %", "err after %"]


def table_rows(results: list[CaseResult]) -> list[list[str]]:
    """The table's rows as strings (a failed case: one row carrying its error)."""
    out = []
    for c in results:
        cid, cset = c.case.id, c.case.set
        if c.error is not None:
            out.append([cid, cset, "(not simulated)", c.error])
            continue
        for r in c.rows:
            sim = _pair(r.sim_before, r.sim_after, r.unit) if (r.sim_before, r.sim_after) != (None, None) \
                else "n/a"
            out.append([cid, cset, r.metric, _pair(r.meas_before, r.meas_after, r.unit), _pct(r.meas_delta), sim,
                        _pct(r.sim_delta), _dir(r), _pct(r.delta_error, sign=False), _pct(r.err_before),
                        _pct(r.err_after)])
    return out


def _grid(head: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        def cells(r: list[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in r + [""] * (len(head) - len(r))) + " |"

        return [cells(head), "|" + "|".join("---" for _ in head) + "|", *(cells(r) for r in rows)]
    full = [r for r in rows if len(r) == len(head)]
    w = [max([len(h)] + [len(r[i]) for r in full]) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w[i]) for i, h in enumerate(head)).rstrip()]
    lines.append("  ".join("-" * x for x in w))
    for r in rows:
        if len(r) < len(head):  # a failed case: the rest of the line is its error
            lines.append("  ".join(r[i].ljust(w[i]) for i in range(len(r) - 1)) + "  " + r[-1])
        else:
            lines.append("  ".join(r[i].ljust(w[i]) for i in range(len(r))).rstrip())
    return lines


SUMMARY_HEAD = ["group", "cases", "failed", "metrics", "direction right", "median |Δ err| pts",
                "median abs err %"]


def _summary_row(s: GroupSummary) -> list[str]:
    share = "-" if s.right_share is None else f"{s.right}/{s.scored} ({s.right_share:.0f} %)"
    return [s.name, str(s.cases), str(s.failed), str(s.metrics), share, _pct(s.median_delta_error, sign=False),
            _pct(s.median_abs_error, sign=False)]


def _notes(results: list[CaseResult]) -> list[str]:
    return [f"  {c.case.id} {r.metric}: {r.note}" for c in results if c.error is None for r in c.rows if r.note]


_SHORT = {"pipe busy (critical path)": "pipe busy", "issue / sync overhead": "issue + sync",
          "hand-off wait (MIX lanes)": "hand-off wait", "cold core (first kernel on the core)": "cold core"}
PART_LABELS = {p: _SHORT.get(p, p) for p in (*EXEC_PARTS, "other")}  # column names of the Exec parts
PARTS_HEAD = ["case", "set", "function", "sim Avg Exec", "meas Avg Exec", *PART_LABELS.values()]


def _parts_pair(r: MetricRow, part: str) -> str:
    def us(p: dict[str, float] | None) -> float | None:  # the ticks' quantisation residue prints as 0.00
        return None if p is None else (0.0 if abs(v := p.get(part, 0.0)) < 0.005 else v)

    return _pair(us(r.parts_before), us(r.parts_after), "us")


def parts_rows(results: list[CaseResult]) -> list[list[str]]:
    """Per case and function with an Exec metric: the simulated Exec per row (µs, before → after) and
    its parts (critical-path attribution, as ``swimsim explain`` splits it)."""
    out = []
    for c in results:
        seen: set[str] = set()
        for r in c.rows:
            if r.parts_before is None and r.parts_after is None:
                continue
            func = r.metric.rpartition(".")[0]
            if func in seen:
                continue
            seen.add(func)
            per_row = r.metric.endswith((".avg_exec", ".exec"))
            sim = _pair(*(None if p is None else sum(p.values()) for p in (r.parts_before, r.parts_after)), "us")
            meas = _pair(r.meas_before, r.meas_after, "us") if per_row else "-"
            out.append([c.case.id, c.case.set, func, sim, meas, *(_parts_pair(r, p) for p in PART_LABELS)])
    return out


def format_report(results: list[CaseResult], groups: list[GroupSummary], markdown: bool = False) -> str:
    """The table, the metrics swimsim could not compute (with the reason), where the simulated Exec of
    each function metric goes, and the summary."""
    lines = _grid(TABLE_HEAD, table_rows(results), markdown)
    parts = parts_rows(results)
    if parts:
        lines += ["", "where the simulated Exec goes (µs per row, mean over runs, before → after; "
                      "critical-path parts as `swimsim explain` gives them):"]
        lines += _grid(PARTS_HEAD, parts, markdown)
    notes = _notes(results)
    if notes:
        lines += ["", "not computed:"] + notes
    recorded = [f"  {c.case.id}: {n}" for c in results for n in c.notes]
    if recorded:
        lines += ["", "recording:"] + recorded
    lines += ["", f"summary (direction right: same sign, or both changes within ±{DIRECTION_TOL_PCT:g} %; "
                  "abs err: before and after values pooled):"]
    lines += _grid(SUMMARY_HEAD, [_summary_row(s) for s in groups], markdown)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 6)


def _parts_json(r: MetricRow) -> dict[str, Any]:
    if r.parts_before is None and r.parts_after is None:
        return {}

    def side(p: dict[str, float] | None) -> dict[str, float | None] | None:
        return None if p is None else {PART_LABELS.get(k, k): _r(v) for k, v in p.items()}

    return {"exec_parts_us_per_row": {"before": side(r.parts_before), "after": side(r.parts_after)}}


def backtest_json(results: list[CaseResult], groups: list[GroupSummary], meta: dict[str, Any]) -> dict[str, Any]:
    """The ``backtest.json`` document."""
    cases = []
    for c in results:
        k = c.case
        cases.append({
            "id": k.id, "set": k.set, "family": k.family, "repository": k.repository,
            "before_commit": k.before_commit, "after_commit": k.after_commit,
            "entry_file_before": k.file_before, "entry_file_after": k.file_after,
            "capture_level": k.capture_level, "error": c.error, "notes": c.notes,
            "metrics": [{"metric": r.metric, "unit": r.unit,
                         "measured": {"before": r.meas_before, "after": r.meas_after, "delta_pct": _r(r.meas_delta)},
                         "simulated": {"before": _r(r.sim_before), "after": _r(r.sim_after),
                                       "delta_pct": _r(r.sim_delta)},
                         "direction_ok": r.direction_ok, "delta_error_pts": _r(r.delta_error),
                         "error_pct": {"before": _r(r.err_before), "after": _r(r.err_after)},
                         "note": r.note, **_parts_json(r)} for r in c.rows]})
    summary = {s.name: {"cases": s.cases, "failed": s.failed, "metrics": s.metrics, "scored": s.scored,
                        "right": s.right, "right_share_pct": _r(s.right_share),
                        "median_delta_error_pts": _r(s.median_delta_error),
                        "median_abs_error_pct": _r(s.median_abs_error), "values": s.values} for s in groups}
    return {**meta, "direction_tol_pct": DIRECTION_TOL_PCT, "cases": cases, "summary": summary}


def plot_backtest(results: list[CaseResult], out: Path, title: str) -> Path:
    """Scatter of measured vs simulated Δ % per metric (fit and validation marked), with the y = x
    line and the ±2 % no-change square; points are numbered, the key on the right names them."""
    plt = pyplot()
    fig = plt.figure(figsize=(14, 8.5), dpi=100)
    ax = fig.add_axes((0.06, 0.07, 0.55, 0.86))
    pts: list[tuple[float, float]] = []
    key: list[str] = []
    for cset, marker, color in (("fit", "o", "#1f77b4"), ("validation", "s", "#ff7f0e")):
        xs, ys = [], []
        for c in results:
            if c.case.set != cset:
                continue
            for r in c.rows:
                if r.meas_delta is None or r.sim_delta is None:
                    continue
                xs.append(r.meas_delta)
                ys.append(r.sim_delta)
                key.append(f"{len(key) + 1:>2}  {c.case.id} {r.metric}  ({cset})")
                ax.annotate(str(len(key)), (r.meas_delta, r.sim_delta), fontsize=7, xytext=(3, 3),
                            textcoords="offset points")
        ax.scatter(xs, ys, marker=marker, color=color, label=f"{cset} ({len(xs)} metrics)", zorder=3)
        pts += list(zip(xs, ys, strict=True))
    lim = max([10.0] + [abs(v) for p in pts for v in p]) * 1.1
    tol = DIRECTION_TOL_PCT
    ax.fill([-tol, tol, tol, -tol], [-tol, -tol, tol, tol], color="#dddddd", zorder=0,
            label=f"both within ±{tol:g} %")
    ax.fill([0, lim, lim, 0], [0, 0, lim, lim], color="#eef6ee", zorder=0)
    ax.fill([0, -lim, -lim, 0], [0, 0, -lim, -lim], color="#eef6ee", zorder=0, label="same direction")
    ax.plot([-lim, lim], [-lim, lim], color="grey", lw=1, ls="--", label="y = x", zorder=1)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel("measured change Δ (%)")
    ax.set_ylabel("simulated change Δ (%)")
    ax.set_title(title, fontsize=9, loc="left")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(True, alpha=0.3)
    fig.text(0.63, 0.93, "\n".join(key), fontsize=6.5, family="monospace", va="top")
    return save_png_atomic(fig, out)


# --------------------------------------------------------------------------------------------
# The one-line summary
# --------------------------------------------------------------------------------------------


def _group_text(g: dict[str, Any]) -> str:
    share = "-" if not g.get("scored") else f"{g['right']}/{g['scored']} ({g['right_share_pct']:.0f} %)"
    de = g.get("median_delta_error_pts")
    ae = g.get("median_abs_error_pct")
    return (f"direction {share}, median |Δ err| {'-' if de is None else f'{de:.1f}'} pts, "
            f"median abs err {'-' if ae is None else f'{ae:.1f}'} %")


def summary_line(doc: dict[str, Any], shown: str) -> str:
    """One line: the backtest's figures for all cases, then the fit and validation sets."""
    s = doc["summary"]
    a = s["all"]
    parts = [f"backtest ({shown}: {a['cases']} cases, {a['failed']} not simulated): {_group_text(a)}"]
    for name in ("fit", "validation"):
        if s.get(name, {}).get("cases"):
            parts.append(f"{name}: {_group_text(s[name])}")
    return "; ".join(parts)


def read_summary_line(path: Path) -> str:
    """:func:`summary_line` of a ``backtest.json``; one-line :class:`UserError` when it cannot be read."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return summary_line(doc, str(path))
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path}: not a backtest.json ({type(exc).__name__}: {exc})") from None
