"""The converter's "Task Statistics by Function" table (formats.md §5) plus span and wall (§5.3).

All values in µs, computed from the joined (tick-quantised) rows of :class:`traces.perf.PerfData`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from traces.perf import PerfData, Row
from traces.placement import placement

RULE_EQ = "=" * 140
RULE_DASH = "-" * 140
RULE_END = "=" * 110


@dataclass
class FuncStats:
    """Per-function aggregates (µs sums over rows)."""

    func_id: int
    name: str
    count: int = 0
    exec_sum: float = 0.0
    lat_sum: float = 0.0
    head_sum: float = 0.0
    tail_sum: float = 0.0
    prop_sum: float = 0.0
    local_sum: float = 0.0
    first_start: float = float("inf")
    last_end: float = float("-inf")

    @property
    def span(self) -> float:
        return self.last_end - self.first_start if self.count else 0.0


def func_stats(pd: PerfData) -> list[FuncStats]:
    """Per-function aggregates sorted by func_id (stable, first-seen order among equal ids)."""
    acc: dict[int, FuncStats] = {}
    for r in pd.rows:
        f = acc.get(r.func_id)
        if f is None:
            f = acc[r.func_id] = FuncStats(r.func_id, pd.func_name(r.func_id))
        f.count += 1
        f.exec_sum += r.end - r.start
        f.lat_sum += r.finish - r.dispatch
        f.head_sum += r.start - r.dispatch
        f.tail_sum += r.finish - r.end
        f.prop_sum += r.receive - r.dispatch
        f.local_sum += r.start - r.receive
        f.first_start = min(f.first_start, r.start)
        f.last_end = max(f.last_end, r.end)
    return [acc[k] for k in sorted(acc)]


def total_test_time(rows: list[Row]) -> float:
    """max(finish) − min(dispatch) over rows, µs (0.00 at level 1)."""
    if not rows:
        return 0.0
    return max(r.finish for r in rows) - min(r.dispatch for r in rows)


def aicore_span(rows: list[Row]) -> float:
    """AICore observed span: max(end) − min(receive or start), µs."""
    if not rows:
        return 0.0
    return max(r.end for r in rows) - min(min(r.receive, r.start) for r in rows)


def wall_of_events(events: list[dict[str, Any]]) -> float:
    """Swimlane wall (§5.3): max(ts + dur) − min(ts) over events with ts, setup bars excluded; µs."""
    lo = float("inf")
    hi = float("-inf")
    for e in events:
        ts = e.get("ts")
        if ts is None:
            continue
        end = ts + e.get("dur", 0.0)
        if end > hi or ts < lo:
            if e.get("name") == "setup":
                continue
            if ts < lo:
                lo = ts
            if end > hi:
                hi = end
    return hi - lo if hi >= lo else 0.0


def format_table(pd: PerfData) -> str:
    """The converter's table, byte-identical layout (§5.1, §5.2). Ends with a newline."""
    fs = func_stats(pd)
    lines = ["", RULE_EQ, "Task Statistics by Function",
             "  Exec = kernel time on AICore; Latency = dispatch->finish (incl. head OH + Exec + tail OH)",
             "  Head OH split (v3): Prop = NoC propagation (dispatch_ts→AICore receive); "
             "Local = dcci+ack (receive→start)",
             RULE_EQ,
             f"{'Func_ID':<8} {'Func_Name':<12} {'Count':>5}   {'Avg Exec(us)':>12}  {'Avg Latency(us)':>15}  "
             f"{'Exec%':>6}   {'Avg Head OH(us)':>15}  {'Avg Tail OH(us)':>15}  {'Avg Prop(us)':>12}  "
             f"{'Avg Local(us)':>13}",
             RULE_DASH]
    level1 = pd.level < 2
    for f in fs:
        n = f.count
        pct = f.exec_sum / f.lat_sum * 100 if f.lat_sum != 0 else 0.0
        prop = f"{'-':>12}" if level1 else f"{f.prop_sum / n:>12.2f}"
        lines.append(
            f"{f.func_id:<8} {f.name:<12} {n:>5}   {f.exec_sum / n:>12.2f}  {f.lat_sum / n:>15.2f}  "
            f"{pct:>5.1f}%   {f.head_sum / n:>15.2f}  {f.tail_sum / n:>15.2f}  {prop}  "
            f"{f.local_sum / n:>13.2f}")
    lines.append(RULE_DASH)
    cnt = sum(f.count for f in fs)
    ex = sum(f.exec_sum for f in fs)
    lat = sum(f.lat_sum for f in fs)
    lines.append(f"{'TOTAL':<21} {cnt:>5}   {ex:>12.2f}  {lat:>15.2f}")
    if pd.rows:
        lines.append("")
        lines.append(f"Total Test Time: {total_test_time(pd.rows):.2f} us (from earliest dispatch to latest finish)")
    if lat > 0:
        lines += ["", "--- Task execution vs Scheduler overhead ---",
                  f"  Per-task (all):  Avg Exec = {ex / cnt:.2f} us,  Avg Latency (dispatch->finish) = "
                  f"{lat / cnt:.2f} us,  Exec/Latency = {ex / lat * 100:.2f}%",
                  "  (Latency = dispatch→finish; Exec = AICore kernel time per task)"]
    lines.append(RULE_END)
    return "\n".join(lines) + "\n"


def format_extras(pd: PerfData, wall: float | None) -> str:
    """What the converter does not print: per-function span, swimlane wall, AICore span (level 1)."""
    fs = func_stats(pd)
    w = max([12] + [len(f.name) for f in fs])
    lines = ["", "swimsim: span and wall (not printed by the converter)",
             f"{'Func_ID':<8} {'Func_Name':<{w}} {'Span(us)':>12}"]
    for f in fs:
        lines.append(f"{f.func_id:<8} {f.name:<{w}} {f.span:>12.2f}")
    if wall is not None:
        lines.append(f"Swimlane wall: {wall:.2f} us (merged trace max end - min start, setup bars excluded)")
    if pd.level < 2:
        lines.append(f"AICore Observed Span: {aicore_span(pd.rows):.2f} us (max end - min receive or start)")
    return "\n".join(lines) + "\n"


# The keys of :func:`metrics`: run-wide, and per function (``funcs[name][field]``).
RUN_FIELDS = ("total_test_time", "swimlane_wall", "aicore_span")
FUNC_FIELDS = ("avg_exec", "span", "avg_latency", "avg_head_oh", "avg_tail_oh", "avg_exec_reused",
               "avg_exec_first_use", "count")


RUN_ALIASES = {"wall": "swimlane_wall"}


def metric_value(metrics: dict[str, Any], key: str) -> float | None:
    """Metric ``key`` of a :func:`metrics` dict (µs): a run-wide field (or ``wall``), or
    ``FUNC.FIELD``; None when the function is not in the run or has no such value (e.g. no rows
    on reused cores)."""
    run_key = RUN_ALIASES.get(key, key)
    if run_key in RUN_FIELDS:
        return float(metrics[run_key])
    func, _, field = key.rpartition(".")
    d = metrics["funcs"].get(func)
    v = None if d is None else d.get(field)
    return None if v is None else float(v)


def metrics(pd: PerfData, wall: float) -> dict[str, Any]:
    """The metrics dict of :func:`traces.run_metrics` (µs).

    Per function also the Avg Exec of its rows on reused cores and on first-use cores (the row is
    its core's first in the capture; :mod:`traces.placement`), None when it has no such rows.
    """
    out: dict[str, Any] = {"total_test_time": total_test_time(pd.rows), "swimlane_wall": wall,
                           "aicore_span": aicore_span(pd.rows), "funcs": {}}
    split = {fp.name: fp for fp in placement(pd, "").funcs}
    for f in func_stats(pd):
        n = f.count
        fp = split.get(f.name)
        out["funcs"][f.name] = {"count": n, "avg_exec": f.exec_sum / n, "span": f.span,
                                "avg_latency": f.lat_sum / n, "avg_head_oh": f.head_sum / n,
                                "avg_tail_oh": f.tail_sum / n,
                                "avg_exec_reused": fp.avg_reused if fp else None,
                                "avg_exec_first_use": fp.avg_first_use if fp else None}
    return out


def error_pct(sim: float | None, meas: float | None) -> float | None:
    """Error of a simulated value against a measured one, % of the measured (None if either is missing)."""
    if sim is None or meas is None or meas == 0:
        return None
    return (sim - meas) / meas * 100.0


def delta_pct(before: float | None, after: float | None) -> float | None:
    """Change from ``before`` to ``after``, % of ``before`` (None if either is missing or before is 0)."""
    if before is None or after is None or before == 0:
        return None
    return (after - before) / before * 100.0
