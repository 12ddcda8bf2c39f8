"""Scheduler-overhead report: parts 1-6 of simpler's ``sched_overhead_analysis`` tool (simpler
``simpler_setup/tools/README.md`` and ``sched_overhead_analysis.py``).

Built from :class:`traces.perf.PerfData`; all times in µs from the base tick. Part 1 integrates the
same counter tracks the merged trace's ``--overhead`` option writes (:func:`traces.overhead_tracks.overhead_counters`),
so its percentages are the time-weighted means of those tracks over the makespan ``[min start, max end]``.
Parts whose inputs are missing (dispatch/finish below level 2, scheduler phases below level 3, no
``deps.json``) are kept with a one-line note saying what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from traces.critical_path import analyse
from traces.overhead_tracks import OH_TIDS, overhead_counters
from traces.perf import PerfData, Row

PCTS = (10, 25, 50, 75, 90, 95, 99)


@dataclass
class Part:
    """One report part: bullet lines, optional tables (header, rows) and a note when inputs are missing."""

    num: int
    title: str
    lines: list[str] = field(default_factory=list)
    tables: list[tuple[list[str], list[list[str]]]] = field(default_factory=list)
    note: str = ""


@dataclass
class OverheadReport:
    """The six parts plus the figures tests and callers read (µs, % of makespan)."""

    label: str
    level: int
    makespan: float
    parts: list[Part]
    shares: dict[str, float] = field(default_factory=dict)  # oh_* overhead track -> % of makespan
    head: list[float] = field(default_factory=list)
    tail: list[float] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def percentile(xs: list[float], p: float) -> float:
    """Linear-interpolated percentile ``p`` (0..100) of ``xs`` (0.0 when empty)."""
    if not xs:
        return 0.0
    s = sorted(xs)
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def _pct(x: float, whole: float) -> float:
    return 100.0 * x / whole if whole > 0 else 0.0


def track_means(counters: list[dict[str, Any]], lo: float, hi: float) -> dict[str, float]:
    """Time-weighted mean of each counter track over ``[lo, hi]`` (value held until its next change)."""
    by: dict[str, list[tuple[float, float]]] = {}
    for e in counters:
        by.setdefault(e["name"], []).append((float(e["ts"]), float(e["args"][e["name"]])))
    span = hi - lo
    out: dict[str, float] = {}
    for name, pts in by.items():
        acc = 0.0
        for i, (ts, v) in enumerate(pts):
            a = max(ts, lo)
            b = min(pts[i + 1][0] if i + 1 < len(pts) else hi, hi)
            if b > a:
                acc += v * (b - a)
        out[name] = acc / span if span > 0 else 0.0
    return out


def _by_core(rows: list[Row]) -> dict[int, list[Row]]:
    out: dict[int, list[Row]] = {}
    for r in rows:
        out.setdefault(r.core_id, []).append(r)
    for rs in out.values():
        rs.sort(key=lambda r: (r.start, r.end))
    return out


def _has_aicpu(pd: PerfData) -> bool:
    return pd.level >= 2 and any(r.finish > 0 for r in pd.rows)


def _unavailable(pd: PerfData, needs: str, level: int) -> str:
    """Note for a report part the input's capture level cannot give."""
    return f"not available at level {pd.level}: needs {needs} (level >= {level})"


def _lacks_aicpu(part: Part, pd: PerfData, needs: str) -> bool:
    """True, with the part's note set, when the input has no AICPU dispatch/finish times."""
    if _has_aicpu(pd):
        return False
    part.note = _unavailable(pd, needs, 2)
    return True


def head_oh(pd: PerfData) -> list[float]:
    """Per row ``min(start − dispatch, start − prev_end)`` clamped at 0 (µs); prev_end = same-core previous end."""
    out = []
    for rs in _by_core(pd.rows).values():
        prev_end = None
        for r in rs:
            h = r.start - r.dispatch
            if prev_end is not None:
                h = min(h, r.start - prev_end)
            out.append(max(0.0, h))
            prev_end = r.end if prev_end is None else max(prev_end, r.end)
    return out


def _dist_table(xs: list[float]) -> tuple[list[str], list[list[str]]]:
    head = ["n", "mean"] + [f"P{p}" for p in PCTS] + ["max"]
    row = [str(len(xs)), f"{sum(xs) / len(xs):.3f}" if xs else "-"]
    row += [f"{percentile(xs, p):.3f}" for p in PCTS] + [f"{max(xs):.3f}" if xs else "-"]
    return head, [row]


# --------------------------------------------------------------------------------------------
# parts
# --------------------------------------------------------------------------------------------


def _part1(pd: PerfData, lo: float, hi: float, rep: OverheadReport) -> Part:
    part = Part(1, "Overhead verdict")
    if pd.deps is None:
        part.note = "not available: needs deps.json (ready times come from the dependency graph)"
        return part
    if _lacks_aicpu(part, pd, "dispatch times"):
        return part
    means = track_means(overhead_counters(pd), lo, hi)
    mk = hi - lo
    part.lines.append("share of the makespan in which cores of an engine sit idle while tasks of that engine "
                      "are ready but undispatched (time-weighted means of the oh_* counter tracks):")
    rows = []
    for name in sorted((n for n in OH_TIDS if n.endswith("_overhead")), key=OH_TIDS.__getitem__):
        if name not in means:
            continue
        share = 100.0 * means[name]
        rep.shares[name] = share
        rows.append([name, f"{share:.1f}%", f"{means[name] * mk:.2f}"])
    for t in ("aic", "aiv"):
        if f"oh_{t}_idle" in means:
            rows.append([f"oh_{t}_idle (mean cores)", f"{means[f'oh_{t}_idle']:.2f}", "-"])
            rows.append([f"oh_{t}_ready (mean tasks)", f"{means[f'oh_{t}_ready']:.2f}", "-"])
    part.tables.append((["track", "% of makespan / mean", "µs"], rows))
    worst = max((v for k, v in rep.shares.items() if k in ("oh_aic_overhead", "oh_aiv_overhead")), default=0.0)
    verdict = ("scheduler-bound" if worst >= 20.0 else "noticeable scheduler overhead" if worst >= 5.0
               else "compute-bound (little scheduler overhead)")
    part.lines.append(f"verdict: {verdict} (worst engine {worst:.1f}% of makespan; has-overhead "
                      f"{rep.shares.get('oh_has_overhead', 0.0):.1f}%)")
    return part


def _part2(pd: PerfData, mk: float) -> Part:
    part = Part(2, "AICore switch")
    if _lacks_aicpu(part, pd, "dispatch times"):
        return part
    part.lines.append("switch = per-core gap [prev_end, start] when the next task was dispatched before the "
                      "previous one ended (dispatch < prev_end: pure switch overhead); other gaps are "
                      "independent idle waits for the scheduler")
    rows = []
    totals: list[float] = []
    n_sw = n_ind = 0
    sw_all = ind_all = 0.0
    for c, rs in sorted(_by_core(pd.rows).items()):
        sw: list[float] = []
        ind = 0.0
        for prev, cur in zip(rs, rs[1:], strict=False):
            gap = max(0.0, cur.start - prev.end)
            if cur.dispatch < prev.end:
                sw.append(gap)
            else:
                ind += gap
                n_ind += 1
        totals.append(sum(sw))
        n_sw += len(sw)
        sw_all += sum(sw)
        ind_all += ind
        if sw:
            ct = "AIC" if pd.core_types[c:c + 1] == ["aic"] else "AIV"
            rows.append([f"{ct}_{c}", str(len(sw)), f"{min(sw):.3f}", f"{sum(sw) / len(sw):.3f}", f"{max(sw):.3f}",
                         f"{sum(sw):.2f}", f"{ind:.2f}"])
    if not rows:
        part.lines.append("no back-to-back switches (every task was dispatched after its core's previous task ended)")
    else:
        part.tables.append((["core", "switches", "min µs", "mean µs", "max µs", "switch total µs",
                             "independent gap µs"], rows))
    worst = max(totals, default=0.0)
    part.lines.append(f"switches: {n_sw}, total {sw_all:.2f} µs (mean per switch "
                      f"{sw_all / n_sw if n_sw else 0.0:.3f} µs); independent gaps: {n_ind}, total {ind_all:.2f} µs")
    part.lines.append(f"switch overhead vs independent gaps: {_pct(sw_all, sw_all + ind_all):.1f}% / "
                      f"{_pct(ind_all, sw_all + ind_all):.1f}% of all per-core gap time")
    part.lines.append(f"makespan bound: zero-cost switches shorten the makespan by at most {worst:.2f} µs "
                      f"(largest per-core switch total, {_pct(worst, mk):.1f}% of makespan)")
    return part


def _part3(pd: PerfData, rep: OverheadReport) -> Part:
    part = Part(3, "Head OH distribution (µs)")
    if _lacks_aicpu(part, pd, "dispatch times"):
        return part
    rep.head = head_oh(pd)
    part.lines.append("head = min(start − dispatch, start − prev_end) clamped at 0, per subtask row")
    part.tables.append(_dist_table(rep.head))
    return part


def _part4(pd: PerfData, rep: OverheadReport) -> Part:
    part = Part(4, "Tail OH distribution (µs)")
    if _lacks_aicpu(part, pd, "finish times"):
        return part
    rep.tail = [r.finish - r.end for r in pd.rows]
    part.lines.append("tail = finish − end, per subtask row")
    part.tables.append(_dist_table(rep.tail))
    return part


def _part5(pd: PerfData, rep: OverheadReport) -> Part:
    part = Part(5, "Scheduler loop")
    if pd.level < 3:
        part.note = _unavailable(pd, "scheduler phase records", 3)
    elif not any(pd.sched):
        part.note = "not available: the input holds no scheduler phase records (aicpu_scheduler_phases)"
    else:
        rows = []
        win_all = 0.0
        loops_all = 0
        kinds: dict[str, list[float]] = {}
        for t, ph in enumerate(pd.sched):
            if not ph:
                continue
            a = min(p["start_time_us"] for p in ph)
            b = max(p["end_time_us"] for p in ph)
            its = [int(p.get("loop_iter", 0)) for p in ph]
            loops = max(its) - min(its) + 1
            busy = sum(p["end_time_us"] - p["start_time_us"] for p in ph)
            for p in ph:
                k = kinds.setdefault(p["phase"], [0, 0.0, 0])
                k[0] += 1
                k[1] += p["end_time_us"] - p["start_time_us"]
                k[2] += int(p.get("tasks_processed", 0)) if p["phase"] != "dummy_task" else 1
            win_all += b - a
            loops_all += loops
            rows.append([f"Sched_{t}", str(len(ph)), f"{b - a:.2f}", str(loops),
                         f"{(b - a) / loops:.3f}", f"{_pct(busy, b - a):.1f}%"])
        part.lines.append("loops = loop_iter range of the thread's phase records; window = first phase start to "
                          "last phase end")
        part.tables.append((["thread", "phases", "window µs", "loops", "µs/loop", "in phases"], rows))
        avg_loop = win_all / loops_all if loops_all else 0.0
        part.lines.append(f"all threads: {loops_all} loops over {win_all:.2f} µs → {avg_loop:.3f} µs/loop")
        tot = sum(v[1] for v in kinds.values())
        split = [[k, str(v[0]), str(v[2]), f"{v[1]:.2f}", f"{_pct(v[1], tot):.1f}%"]
                 for k, v in sorted(kinds.items(), key=lambda kv: (-kv[1][1], kv[0]))]
        part.tables.append((["phase", "records", "tasks", "µs", "% of phase time"], split))
        hit = sum(int(p.get("pop_hit", 0)) for ph in pd.sched for p in ph if p["phase"] == "dispatch")
        miss = sum(int(p.get("pop_miss", 0)) for ph in pd.sched for p in ph if p["phase"] == "dispatch")
        part.lines.append(f"pop hit-rate: {hit}/{hit + miss} = {_pct(hit, hit + miss):.1f}%"
                          if hit + miss else "pop hit-rate: no pop_hit/pop_miss fields in the dispatch records")
        if rep.tail and avg_loop > 0:
            avg_tail = sum(rep.tail) / len(rep.tail)
            part.lines.append(f"Avg Tail OH ≈ {avg_tail / avg_loop:.2f} × avg loop "
                              f"({avg_tail:.3f} µs / {avg_loop:.3f} µs)")
    if pd.deps is None:
        part.lines.append("fan-out/fan-in degrees: not available (needs deps.json)")
    else:
        fo: dict[int, int] = {}
        fi: dict[int, int] = {}
        for p, s in pd.deps.pairs:
            fo[p] = fo.get(p, 0) + 1
            fi[s] = fi.get(s, 0) + 1
        for name, d in (("fan-out (consumers per producer)", fo), ("fan-in (producers per consumer)", fi)):
            v = list(d.values())
            if v:
                part.lines.append(f"{name}: tasks {len(v)}, mean {sum(v) / len(v):.2f}, max {max(v)}, "
                                  f"1-2: {_pct(sum(1 for x in v if x <= 2), len(v)):.1f}%")
            else:
                part.lines.append(f"{name}: no edges")
    return part


def _part6(pd: PerfData) -> Part:
    part = Part(6, "Critical-path attribution")
    if pd.deps is None:
        part.note = "not available: needs deps.json (the happens-before DAG)"
        return part
    cp = analyse(pd)
    us = cp.tick_us
    mk = cp.makespan
    k = cp.stall_by_kind()
    inj = k["data-wait"] + k["core-wait"]
    part.lines.append(f"observed critical path: {len(cp.observed)} tasks over {mk * us:.2f} µs makespan")
    part.tables.append((["component", "µs", "% makespan"], [
        ["compute (kernel time on the path)", f"{cp.compute * us:.2f}", f"{_pct(cp.compute, mk):.1f}%"],
        ["scheduler-injected (data-wait + core-wait gaps)", f"{inj * us:.2f}", f"{_pct(inj, mk):.1f}%"],
        ["  data-wait", f"{k['data-wait'] * us:.2f}", f"{_pct(k['data-wait'], mk):.1f}%"],
        ["  core-wait", f"{k['core-wait'] * us:.2f}", f"{_pct(k['core-wait'], mk):.1f}%"],
        ["front-gap (before the path's first task)", f"{k['front-gap'] * us:.2f}", f"{_pct(k['front-gap'], mk):.1f}%"],
    ]))
    gaps = sum(1 for s in cp.observed if s.stall and s.kind != "front-gap")
    if gaps:
        part.lines.append(f"mean scheduler-injected gap: {inj * us / gaps:.3f} µs over {gaps} hand-offs")
    return part


# --------------------------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------------------------


def analyse_overhead(pd: PerfData, label: str = "") -> OverheadReport:
    """All six parts for one capture (parts lacking inputs carry a note)."""
    rows = pd.rows
    lo = min((r.start for r in rows), default=0.0)
    hi = max((r.end for r in rows), default=0.0)
    rep = OverheadReport(label, pd.level, hi - lo, [])
    if not rows:
        rep.parts = [Part(i, t, note="no AICore rows") for i, t in enumerate(
            ("Overhead verdict", "AICore switch", "Head OH distribution (µs)", "Tail OH distribution (µs)",
             "Scheduler loop", "Critical-path attribution"), 1)]
        return rep
    rep.parts = [_part1(pd, lo, hi, rep), _part2(pd, hi - lo), _part3(pd, rep), _part4(pd, rep)]
    rep.parts += [_part5(pd, rep), _part6(pd)]
    return rep


def _header(rep: OverheadReport, pd: PerfData) -> list[str]:
    missing = []
    if pd.level < 3:
        missing.append(f"level {pd.level} records (full report needs level >= 3)")
    elif not any(pd.sched):
        missing.append("no scheduler phase records")
    if pd.deps is None:
        missing.append("no deps.json")
    out = [f"subtask rows: {len(pd.rows)}, swimlane level {pd.level}, makespan [min start, max end] = "
           f"{rep.makespan:.2f} µs"]
    if missing:
        out.append("PARTIAL REPORT: " + "; ".join(missing) + " — parts lacking inputs are marked")
    return out


def render(rep: OverheadReport, pd: PerfData, md: bool = True) -> str:
    """The report as markdown (``md``) or aligned plain text."""
    title = f"Scheduler overhead — {rep.label}" if rep.label else "Scheduler overhead"
    out: list[str] = []
    if md:
        out += [f"# {title}", ""] + [f"- {x}" for x in _header(rep, pd)]
    else:
        out += [title, "=" * len(title)] + _header(rep, pd)
    for p in rep.parts:
        out.append("")
        h = f"Part {p.num}: {p.title}"
        out += [f"## {h}", ""] if md else [h, "-" * len(h)]
        if p.note:
            out.append(f"*{p.note}*" if md else f"  ({p.note})")
        out += [f"- {x}" if md else f"  {x}" for x in p.lines]
        for head, rows in p.tables:
            out.append("")
            if md:
                out.append("| " + " | ".join(head) + " |")
                out.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
                out += ["| " + " | ".join(r) + " |" for r in rows]
            else:
                w = [max(len(x) for x in col) for col in zip(head, *rows, strict=False)]
                fmt = [lambda s, n=w[0]: s.ljust(n)] + [lambda s, n=n: s.rjust(n) for n in w[1:]]
                for r in [head, *rows]:
                    out.append("  " + "  ".join(f(x) for f, x in zip(fmt, r, strict=False)).rstrip())
    return "\n".join(out) + "\n"
