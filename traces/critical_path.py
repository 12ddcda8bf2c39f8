"""Critical-path analysis of a swimlane capture, as simpler's ``simpler_setup/tools/critical_path.py``.
All work in ticks (20 ns); printed and written in µs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sim.ir import task_label
from traces.perf import PerfData

DEFAULT_TOL = 2  # ticks (40 ns)


@dataclass
class PathStep:
    """One task on the observed path (ticks)."""

    task: int
    name: str
    start: int
    end: int
    compute: int = 0
    stall: int = 0
    kind: str = ""  # data-wait | core-wait | front-gap (what the stall before this task waited on)


@dataclass
class CPResult:
    """Static CPM and observed blame path of one run (ticks; ``tick_us`` converts)."""

    n_tasks: int
    n_edges: int
    makespan: int
    first_start: int
    static_len: int
    static_path: list[int]
    observed: list[PathStep]
    tick_us: float
    names: dict[int, str] = field(default_factory=dict)
    durs: dict[int, int] = field(default_factory=dict)  # task -> end - start (ticks)

    @property
    def compute(self) -> int:
        return sum(s.compute for s in self.observed)

    def stall_by_kind(self) -> dict[str, int]:
        out = {"data-wait": 0, "core-wait": 0, "front-gap": 0}
        for s in self.observed:
            if s.stall:
                out[s.kind] = out.get(s.kind, 0) + s.stall
        return out

    @property
    def stall(self) -> int:
        return sum(s.stall for s in self.observed)

    @property
    def tiling_error(self) -> int:
        return self.compute + self.stall - self.makespan


def family(name: str) -> str:
    """Kernel family: trailing ``_<digits>`` and/or ``_aic``/``_aiv`` removed."""
    prev = None
    while prev != name:
        prev = name
        name = re.sub(r"(_ai[cv]|_\d+)$", "", name) or prev
    return name


def analyse(pd: PerfData, tol: int = DEFAULT_TOL) -> CPResult:
    """Static CPM over the happens-before DAG and the observed blame path."""
    start: dict[int, int] = {}
    end: dict[int, int] = {}
    for r in pd.rows:
        s = r.start_t
        start[r.task_id] = min(start.get(r.task_id, s), s)
        end[r.task_id] = max(end.get(r.task_id, r.end_t), r.end_t)
    names: dict[int, str] = {}
    kids = pd.deps.kernel_ids if pd.deps is not None else {}
    for r in pd.rows:
        if r.task_id in names:
            continue
        fid = next((k for k in kids.get(r.task_id, []) if k >= 0), r.func_id)
        names[r.task_id] = pd.func_name(fid) if fid >= 0 else "task"
    hb_preds: dict[int, list[int]] = {t: [] for t in start}
    n_edges = 0
    if pd.deps is not None:
        for p, s in pd.deps.pairs:
            if p in start and s in start and end[p] <= start[s] + tol and start[p] < start[s]:
                hb_preds[s].append(p)
                n_edges += 1
    # same-core predecessor at the task's first landing row
    core_pred: dict[int, int] = {}
    by_core: dict[int, list] = {}
    for r in pd.rows:
        by_core.setdefault(r.core_id, []).append(r)
    for rows in by_core.values():
        rows.sort(key=lambda r: (r.start_t, r.end_t))
        seen: list = []
        for r in rows:
            t = r.task_id
            if r.start_t == start[t] and t not in core_pred:
                cand = None
                cend = None
                for q in seen:
                    if q.task_id != t and (cend is None or q.end_t > cend):
                        cand, cend = q.task_id, q.end_t
                if cand is not None and cend is not None and cend <= r.start_t + tol:
                    core_pred[t] = cand
            seen.append(r)
    if not start:
        return CPResult(0, 0, 0, 0, 0, [], [], 1e6 / pd.clock_hz, names)
    first = min(start.values())
    makespan = max(end.values()) - first
    # static CPM in topological (start) order
    order = sorted(start, key=lambda t: (start[t], t))
    dist: dict[int, int] = {}
    via: dict[int, int | None] = {}
    for t in order:
        best = None
        for p in hb_preds[t]:
            if best is None or dist[p] > dist[best]:
                best = p
        dist[t] = (end[t] - start[t]) + (dist[best] if best is not None else 0)
        via[t] = best
    tail = max(order, key=lambda t: (dist[t], -start[t]))
    spath = []
    cur: int | None = tail
    while cur is not None:
        spath.append(cur)
        cur = via[cur]
    spath.reverse()
    # observed blame path
    cur = max(order, key=lambda t: (end[t], start[t]))
    steps: list[PathStep] = []
    visited = set()
    while cur is not None and cur not in visited:
        visited.add(cur)
        step = PathStep(cur, names[cur], start[cur], end[cur])
        cands = [(end[p], 1, p, "data-wait") for p in hb_preds[cur]]
        cp = core_pred.get(cur)
        if cp is not None:
            cands.append((end[cp], 0, cp, "core-wait"))
        if cands:
            _, _, nxt, kind = max(cands)
            step.kind = kind
            cur = nxt
        else:
            step.kind = "front-gap"
            cur = None
        steps.append(step)
    steps.reverse()
    frontier = first
    for s in steps:
        s.stall = max(0, s.start - frontier)
        s.compute = max(0, s.end - max(s.start, frontier))
        frontier = max(frontier, s.end)
    return CPResult(len(start), n_edges, makespan, first, dist[tail], spath, steps, 1e6 / pd.clock_hz, names,
                    {t: end[t] - start[t] for t in start})


def _pct(x: int, mk: int) -> float:
    return 100.0 * x / mk if mk else 0.0


def summary_line(cp: CPResult, label: str) -> str:
    """``[label] makespan=… us CPM=… us (…%) compute=…% stall=…% (data-wait …%, core-wait …%, front-gap …%)``."""
    us = cp.tick_us
    mk = cp.makespan
    k = cp.stall_by_kind()
    return (f"[{label}] makespan={mk * us:.2f} us CPM={cp.static_len * us:.2f} us ({_pct(cp.static_len, mk):.1f}%) "
            f"compute={_pct(cp.compute, mk):.1f}% stall={_pct(cp.stall, mk):.1f}% "
            f"(data-wait {_pct(k['data-wait'], mk):.1f}%, core-wait {_pct(k['core-wait'], mk):.1f}%, "
            f"front-gap {_pct(k['front-gap'], mk):.1f}%)")


def report_md(cp: CPResult, label: str) -> str:
    """``critical_path_report.md`` text."""
    us = cp.tick_us
    mk = cp.makespan
    k = cp.stall_by_kind()
    tiling = "exact" if cp.tiling_error == 0 else f"off by {cp.tiling_error} ticks"
    lines = [f"# Critical path — {label}", "",
             f"- tasks: {cp.n_tasks}",
             f"- happens-before edges: {cp.n_edges}",
             f"- **makespan**: {mk * us:.2f} µs ({mk} ticks)",
             f"- **static CPM path**: {cp.static_len * us:.2f} µs ({_pct(cp.static_len, mk):.1f}% of makespan), "
             f"{len(cp.static_path)} tasks",
             f"- **observed critical path**: {len(cp.observed)} tasks; compute {cp.compute * us:.2f} µs "
             f"({_pct(cp.compute, mk):.1f}%); stall {cp.stall * us:.2f} µs ({_pct(cp.stall, mk):.1f}%): "
             + ", ".join(f"{kk} {v * us:.2f} µs ({_pct(v, mk):.1f}%)" for kk, v in k.items()),
             f"- tiling check: {tiling}",
             "", "## Time on the observed critical path, by kernel family", "",
             "| kernel family | compute µs | % makespan | stall µs | # on path |",
             "|---|---:|---:|---:|---:|"]
    fam: dict[str, list[int]] = {}
    for s in cp.observed:
        f = fam.setdefault(family(s.name), [0, 0, 0])
        f[0] += s.compute
        f[1] += s.stall
        f[2] += 1
    for name, (c, st, n) in sorted(fam.items(), key=lambda kv: (-kv[1][0], kv[0])):
        lines.append(f"| {name} | {c * us:.2f} | {_pct(c, mk):.1f}% | {st * us:.2f} | {n} |")
    lines += ["", f"## Observed critical path — all {len(cp.observed)} tasks", "",
              "| # | kernel | task µs | compute µs (%mk) | stall µs (%mk) | stall kind |",
              "|---:|---|---:|---:|---:|---|"]
    for i, s in enumerate(cp.observed, 1):
        lines.append(f"| {i} | {s.name}({task_label(s.task)}) | {(s.end - s.start) * us:.2f} | "
                     f"{s.compute * us:.2f} ({_pct(s.compute, mk):.1f}%) | {s.stall * us:.2f} "
                     f"({_pct(s.stall, mk):.1f}%) | {s.kind if s.stall else ''} |")
    lines += ["", f"## Static CPM path — {len(cp.static_path)} tasks", "",
              "| # | kernel | task µs |", "|---:|---|---:|"]
    for i, t in enumerate(cp.static_path, 1):
        lines.append(f"| {i} | {cp.names.get(t, 'task')}({task_label(t)}) | "
                     f"{cp.durs.get(t, 0) * us:.2f} |")
    return "\n".join(lines) + "\n"


def mark_path(events: list[dict], keep: set[int]) -> list[dict]:
    """Copy of ``events`` with Worker View bars of tasks not in ``keep`` renamed ``·(rXtY)``."""
    out = []
    for e in events:
        if e.get("pid") == 4 and e.get("ph") == "X" and "taskId" in (e.get("args") or {}) \
                and e["args"]["taskId"] not in keep and e.get("name") != "setup":
            e = dict(e, name=f"·({task_label(int(e['args']['taskId']))})")
        out.append(e)
    return out
