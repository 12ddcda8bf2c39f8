"""The converter's "Task Statistics by Function" table plus span and wall (docs/model.md §5).

All values in µs, computed from the joined (tick-quantised) rows of :class:`traces.perf.PerfData`,
and printed with one rule, :func:`fmt_us` (2 decimals), wherever swimsim prints or writes them.

Level 1 captures only AICore times: there is no AICPU dispatch or finish, so Total Test Time and
the latency columns do not exist. The runtime's June converter prints them anyway (Total Test Time
0.00 us, negative Tail OH); swimsim prints Total Test Time as :data:`LEVEL1_NA` and the latency
columns as ``-``, as simpler's later converter does for the columns (simpler
``simpler_setup/tools/README.md``, "Task Statistics"). Levels 2-4 keep the June layout byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from traces.perf import PerfData, Row
from traces.placement import placement

RULE_EQ = "=" * 140
RULE_DASH = "-" * 140
RULE_END = "=" * 110

LEVEL1_NA = "n/a (level 1)"  # Total Test Time of a level-1 capture: no AICPU dispatch/finish recorded


def fmt_us(v: float) -> str:
    """The one rounding rule for a printed or written µs value: 2 decimals."""
    return f"{v:.2f}"


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
    """max(finish) − min(dispatch) over rows, µs (0.0 at level 1, where both are 0)."""
    if not rows:
        return 0.0
    return max(r.finish for r in rows) - min(r.dispatch for r in rows)


def run_total_test_time(pd: PerfData) -> float | None:
    """Total Test Time of a capture, µs; None at level 1 (no dispatch/finish: not measured)."""
    return None if pd.level < 2 else total_test_time(pd.rows)


def total_test_time_text(v: float | None) -> str:
    """A Total Test Time value as printed: :func:`fmt_us`, or :data:`LEVEL1_NA` for None."""
    return LEVEL1_NA if v is None else fmt_us(v)


def aicore_span(rows: list[Row]) -> float:
    """AICore observed span: max(end) − min(receive or start), µs."""
    if not rows:
        return 0.0
    return max(r.end for r in rows) - min(min(r.receive, r.start) for r in rows)


def wall_of_events(events: list[dict[str, Any]]) -> float:
    """Swimlane wall: max(ts + dur) − min(ts) over events with ts, setup bars excluded; µs."""
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
    """The converter's table: the June layout byte for byte at levels 2-4; at level 1 the columns
    that need dispatch/finish print ``-`` and Total Test Time :data:`LEVEL1_NA`. Ends with a newline."""
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
        if level1:
            lat, pct, head, tail, prop = f"{'-':>15}", f"{'-':>6}", f"{'-':>15}", f"{'-':>15}", f"{'-':>12}"
        else:
            pct_v = f.exec_sum / f.lat_sum * 100 if f.lat_sum != 0 else 0.0
            lat, pct = f"{f.lat_sum / n:>15.2f}", f"{pct_v:>5.1f}%"
            head, tail, prop = f"{f.head_sum / n:>15.2f}", f"{f.tail_sum / n:>15.2f}", f"{f.prop_sum / n:>12.2f}"
        lines.append(
            f"{f.func_id:<8} {f.name:<12} {n:>5}   {f.exec_sum / n:>12.2f}  {lat}  "
            f"{pct}   {head}  {tail}  {prop}  "
            f"{f.local_sum / n:>13.2f}")
    lines.append(RULE_DASH)
    cnt = sum(f.count for f in fs)
    ex = sum(f.exec_sum for f in fs)
    lat_sum = sum(f.lat_sum for f in fs)
    lines.append(f"{'TOTAL':<21} {cnt:>5}   {ex:>12.2f}  {'-' if level1 else fmt_us(lat_sum):>15}")
    if pd.rows:
        lines.append("")
        if level1:
            lines.append(f"Total Test Time: {LEVEL1_NA}: the capture has no AICPU dispatch/finish "
                         "(the June converter prints 0.00 us)")
        else:
            lines.append(f"Total Test Time: {fmt_us(total_test_time(pd.rows))} us "
                         "(from earliest dispatch to latest finish)")
    if lat_sum > 0 and not level1:
        lines += ["", "--- Task execution vs Scheduler overhead ---",
                  f"  Per-task (all):  Avg Exec = {ex / cnt:.2f} us,  Avg Latency (dispatch->finish) = "
                  f"{lat_sum / cnt:.2f} us,  Exec/Latency = {ex / lat_sum * 100:.2f}%",
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
        lines.append(f"{f.func_id:<8} {f.name:<{w}} {fmt_us(f.span):>12}")
    if wall is not None:
        lines.append(f"Swimlane wall: {fmt_us(wall)} us (merged trace max end - min start, setup bars excluded)")
    if pd.level < 2:
        lines.append(f"AICore Observed Span: {fmt_us(aicore_span(pd.rows))} us (max end - min receive or start)")
    return "\n".join(lines) + "\n"


# The keys of :func:`metrics`: run-wide, and per function (``funcs[name][field]``).
RUN_FIELDS = ("total_test_time", "swimlane_wall", "aicore_span")
FUNC_FIELDS = ("avg_exec", "span", "avg_latency", "avg_head_oh", "avg_tail_oh", "avg_exec_reused",
               "avg_exec_first_use", "count")


RUN_ALIASES = {"wall": "swimlane_wall"}


def metric_value(metrics: dict[str, Any], key: str) -> float | None:
    """Metric ``key`` of a :func:`metrics` dict (µs): a run-wide field (or ``wall``), or
    ``FUNC.FIELD``; None when the run has no such value (Total Test Time at level 1, a function
    not in the run, no rows on reused cores)."""
    run_key = RUN_ALIASES.get(key, key)
    if run_key in RUN_FIELDS:
        v = metrics[run_key]
        return None if v is None else float(v)
    func, _, field = key.rpartition(".")
    d = metrics["funcs"].get(func)
    v = None if d is None else d.get(field)
    return None if v is None else float(v)


def metrics(pd: PerfData, wall: float) -> dict[str, Any]:
    """The metrics dict of :func:`traces.run_metrics` (µs); ``total_test_time`` is None at level 1.

    Per function also the Avg Exec of its rows on reused cores and on first-use cores (the row is
    its core's first in the capture; :mod:`traces.placement`), None when it has no such rows.
    """
    out: dict[str, Any] = {"total_test_time": run_total_test_time(pd), "swimlane_wall": wall,
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
