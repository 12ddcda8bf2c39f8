"""Raw swimlane records (formats.md §1): build from a RunResult, validate, and join into rows.

Everything downstream (merged trace, statistics, critical path, plot) works on :class:`PerfData`,
the equivalent of the runtime tools' ``read_perf_data`` output: joined rows in µs relative to the
base tick, plus the tick values themselves. The in-memory path (RunResult -> records dict ->
PerfData) and the file path (records file -> dict -> PerfData) share this code, so statistics
from a written file equal statistics from the in-memory run to the tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.ir.records import RunResult
from sim.util.errors import UserError

CLOCK_HZ = 50_000_000  # a2a3 system counter (ticks of 20 ns)
TICK_NS = 1e9 / CLOCK_HZ
TICK_BASE = 86_700_000_000_000  # positive absolute base added to every tick (0 means "absent")

PHASE_KEYS_JUNE = ("local_at_start", "shared_at_start", "local_at_end", "shared_at_end")


def ns_to_tick(t_ns: float, base: int = TICK_BASE) -> int:
    """Simulated ns -> absolute 50 MHz tick (truncating), formats.md §1.9."""
    return base + math.floor(t_ns / TICK_NS)


def default_core_to_thread(core_types: list[str], n_sched: int) -> list[int]:
    """Cluster ``b`` (AIC b, AIV 24+2b, 25+2b) -> thread ``b mod n_sched`` (runtime.md §1.2)."""
    n_aic = sum(1 for c in core_types if c == "aic")
    out = []
    for cid in range(len(core_types)):
        b = cid if cid < n_aic else (cid - n_aic) // 2
        out.append(b % n_sched if n_sched > 0 else -1)
    return out


# --------------------------------------------------------------------------------------------
# RunResult -> records dict (June layout)
# --------------------------------------------------------------------------------------------


def build_records(result: RunResult, level: int = 4, later: bool = False) -> dict[str, Any]:
    """The ``l2_swimlane_records.json`` object for ``result`` at capture ``level`` (1..4).

    ``later``: the 2026-08 layout (``chip_swimlane_level``; queue depths only ``shared_*``), §1.11.
    """
    if level not in (1, 2, 3, 4):
        raise UserError(f"swimlane level {level}: expected 1, 2, 3 or 4")
    core_types = list(result.core_types) or ["aic"] * 24 + ["aiv"] * 48
    meta: dict[str, Any] = {
        "clock_freq_hz": CLOCK_HZ,
        "num_cores": len(core_types),
        "core_types": core_types,
    }
    if level >= 3:
        meta["core_to_thread"] = list(result.core_to_thread) or default_core_to_thread(
            core_types, result.n_sched_threads
        )
    subs = sorted(result.subtasks, key=lambda s: (s.core_id, s.start, s.reg_task_id))
    aicore: list[list[int]] = []
    aicpu: list[list[int]] = []
    for s in subs:
        st = ns_to_tick(s.start)
        rv = ns_to_tick(min(s.receive, s.start))
        aicore.append([s.core_id, s.task_id, s.reg_task_id, st, ns_to_tick(s.end), st - rv])
        if level >= 2:
            aicpu.append([s.core_id, s.reg_task_id, ns_to_tick(s.dispatch), ns_to_tick(s.finish)])
    rec: dict[str, Any] = {"chip_swimlane_level" if later else "l2_swimlane_level": level, "metadata": meta,
                           "aicore_tasks": aicore, "aicpu_tasks": aicpu}
    if level >= 3:
        n_thr = max([result.n_sched_threads] + [p.thread + 1 for p in result.phases])
        per: list[list[dict[str, Any]]] = [[] for _ in range(n_thr)]
        for p in sorted(result.phases, key=lambda p: (p.thread, p.start)):
            d: dict[str, Any] = {
                "kind": p.kind,
                "start_cycles": ns_to_tick(p.start),
                "end_cycles": ns_to_tick(p.end),
                "loop_iter": p.loop_iter,
                "tasks_processed": p.tasks_processed,
            }
            if p.kind == "dispatch":
                d["pop_hit"] = p.pop_hit
                d["pop_miss"] = p.pop_miss
            if not later:
                d["local_at_start"] = list(p.local_at_start)
            d["shared_at_start"] = list(p.shared_at_start)
            if not later:
                d["local_at_end"] = list(p.local_at_end)
            d["shared_at_end"] = list(p.shared_at_end)
            per[p.thread].append(d)
        rec["aicpu_scheduler_phases"] = per
    if level >= 4 and result.submits:
        rec["aicpu_orchestrator_phases"] = [
            [
                {"submit_idx": s.submit_idx, "task_id": s.task_id, "start_cycles": ns_to_tick(s.start),
                 "end_cycles": ns_to_tick(s.end)}
                for s in sorted(result.submits, key=lambda s: s.submit_idx)
            ]
        ]
    return rec


def dump_records(rec: dict[str, Any]) -> str:
    """Records JSON text: one row / phase object per line (stable, diff-friendly)."""
    import json

    def j(x: Any) -> str:
        return json.dumps(x, separators=(", ", ": "))

    lk = "l2_swimlane_level" if "l2_swimlane_level" in rec else "chip_swimlane_level"
    out = ["{", f'  "{lk}": {j(rec[lk])},', f'  "metadata": {j(rec["metadata"])},']
    for key in ("aicore_tasks", "aicpu_tasks"):
        rows = rec[key]
        body = ",\n".join("    " + j(r) for r in rows)
        out.append(f'  "{key}": [\n{body}\n  ],' if rows else f'  "{key}": [],')
    for key in ("aicpu_scheduler_phases", "aicpu_orchestrator_phases"):
        if key not in rec:
            continue
        groups = []
        for g in rec[key]:
            if g:
                groups.append("    [\n" + ",\n".join("      " + j(p) for p in g) + "\n    ]")
            else:
                groups.append("    []")
        out.append(f'  "{key}": [\n' + ",\n".join(groups) + "\n  ],")
    out[-1] = out[-1].rstrip(",")
    out.append("}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Joined rows
# --------------------------------------------------------------------------------------------


class Row:
    """One joined subtask row (formats.md §1.10). Times in µs from the base tick; ``*_t`` in ticks."""

    __slots__ = ("task_id", "func_id", "core_id", "core_type", "start", "end", "dispatch", "finish",
                 "receive", "local_setup", "start_t", "end_t", "receive_t", "dispatch_t", "finish_t",
                 "reg_task_id")

    def __init__(self, **kw: Any) -> None:
        for k in self.__slots__:
            setattr(self, k, kw.get(k, 0))

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class DepsInfo:
    """What the tools take from ``deps.json``: per-task kernel ids / block count, distinct pairs."""

    kernel_ids: dict[int, list[int]] = field(default_factory=dict)
    block_num: dict[int, int] = field(default_factory=dict)
    pairs: list[tuple[int, int]] = field(default_factory=list)  # distinct (pred, succ), edge order


@dataclass
class PerfData:
    """A parsed swimlane capture (simulated or on hardware)."""

    level: int
    clock_hz: int
    core_types: list[str]
    core_to_thread: list[int]
    rows: list[Row]  # sorted by task_id (stable)
    sched: list[list[dict[str, Any]]]  # per thread, phase dicts with start/end in µs and ticks
    orch: list[list[dict[str, Any]]]  # per orchestrator, submit dicts with start/end in µs
    base_tick: int
    deps: DepsInfo | None = None
    names: dict[int, str] = field(default_factory=dict)
    orchestrator_name: str | None = None
    source: str = ""
    warnings: list[str] = field(default_factory=list)  # reader warnings (as the runtime tools print)

    def func_name(self, fid: int) -> str:
        if fid in self.names:
            return self.names[fid]
        return f"func_{fid}_{letters(fid)}"


def letters(n: int) -> str:
    """Bijective base-26 letters: 0 -> a, 25 -> z, 26 -> aa; '' for negative ids."""
    if n < 0:
        return ""
    s = ""
    n += 1
    while n > 0:
        n, r = divmod(n - 1, 26)
        s = chr(ord("a") + r) + s
    return s


def _bad(path: str, where: str, what: str) -> UserError:
    return UserError(f"{path}: {where}: {what}")


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _phase_groups(path: str, rec: dict[str, Any], key: str, int_keys: tuple[str, ...], *, kind: bool) -> list[Any]:
    """Check ``rec[key]``: an array (per thread) of arrays of phase objects with integer ``int_keys``
    (and a string ``kind`` when asked); raise naming the first bad record. Returns the groups."""
    raw = rec.get(key, [])
    if not isinstance(raw, list):
        raise _bad(path, key, "expected an array of arrays")
    for t, g in enumerate(raw):
        if not isinstance(g, list):
            raise _bad(path, f"{key}[{t}]", "expected an array")
        for i, p in enumerate(g):
            w = f"{key}[{t}][{i}]"
            if kind and (not isinstance(p, dict) or not isinstance(p.get("kind"), str)):
                raise _bad(path, w, "expected an object with a string 'kind'")
            if not isinstance(p, dict):
                raise _bad(path, w, "expected an object")
            for k in int_keys:
                if not _is_int(p.get(k)):
                    raise _bad(path, w, f"expected integer '{k}', got {p.get(k)!r}")
    return raw


def parse_records(rec: Any, path: str = "<records>", deps: DepsInfo | None = None,
                  names: dict[int, str] | None = None, orchestrator_name: str | None = None) -> PerfData:
    """Validate a records object (June or later layout) and join it into :class:`PerfData`.

    Raises UserError naming ``path`` and the first bad record.
    """
    if not isinstance(rec, dict):
        raise _bad(path, "top level", "expected a JSON object")
    lvl_key = "l2_swimlane_level" if "l2_swimlane_level" in rec else "chip_swimlane_level"
    level = rec.get(lvl_key)
    if level not in (1, 2, 3, 4) or not _is_int(level):
        raise _bad(path, lvl_key, f"expected 1, 2, 3 or 4, got {level!r}")
    meta = rec.get("metadata")
    if not isinstance(meta, dict):
        raise _bad(path, "metadata", "expected an object")
    clock = meta.get("clock_freq_hz")
    if not _is_int(clock) or clock <= 0:
        raise _bad(path, "metadata.clock_freq_hz", f"expected a positive integer, got {clock!r}")
    core_types = meta.get("core_types", [])
    if not isinstance(core_types, list) or any(c not in ("aic", "aiv") for c in core_types):
        raise _bad(path, "metadata.core_types", 'expected an array of "aic"/"aiv"')
    c2t = meta.get("core_to_thread", [])
    if not isinstance(c2t, list) or not all(_is_int(x) for x in c2t):
        raise _bad(path, "metadata.core_to_thread", "expected an array of integers")

    aicore = rec.get("aicore_tasks")
    if not isinstance(aicore, list):
        raise _bad(path, "aicore_tasks", "expected an array")
    for i, r in enumerate(aicore):
        if not (isinstance(r, list) and len(r) in (5, 6) and all(_is_int(x) for x in r)):
            raise _bad(path, f"aicore_tasks[{i}]", f"expected 6 integers, got {_short(r)}")
        if r[0] < 0 or (core_types and r[0] >= len(core_types)):
            raise _bad(path, f"aicore_tasks[{i}]", f"core_id {r[0]} outside 0..{len(core_types) - 1}")
    aicpu = rec.get("aicpu_tasks", [])
    if not isinstance(aicpu, list):
        raise _bad(path, "aicpu_tasks", "expected an array")
    for i, r in enumerate(aicpu):
        if not (isinstance(r, list) and len(r) == 4 and all(_is_int(x) for x in r)):
            raise _bad(path, f"aicpu_tasks[{i}]", f"expected 4 integers, got {_short(r)}")
    sched_raw = _phase_groups(path, rec, "aicpu_scheduler_phases", ("start_cycles", "end_cycles"), kind=True)
    orch_raw = _phase_groups(path, rec, "aicpu_orchestrator_phases",
                             ("submit_idx", "task_id", "start_cycles", "end_cycles"), kind=False)

    # --- base tick (smallest non-zero tick) ---
    cands: list[int] = []
    for r in aicore:
        r2s = r[5] if len(r) == 6 else 0
        cands.append(r[3] - r2s)
        cands.append(r[4])
    for r in aicpu:
        cands.append(r[2])
        cands.append(r[3])
    for g in sched_raw:
        for p in g:
            cands.append(p["start_cycles"])
            cands.append(p["end_cycles"])
    for g in orch_raw:
        for p in g:
            cands.append(p["start_cycles"])
            cands.append(p["end_cycles"])
    pos = [c for c in cands if c > 0]
    base = min(pos) if pos else 0
    scale = 1e6 / clock

    def us(tick: int) -> float:
        v = (tick - base) * 1e6 / clock
        return v if tick > 0 and v > 0 else 0.0

    ctype = core_types
    warns: list[str] = []
    n_all = len(aicore)
    aicore = [r for r in aicore if r[3] != 0]  # slots the AICore never wrote (host drops them too)
    if len(aicore) != n_all:
        warns.append(f"{path}: skipped {n_all - len(aicore)} AICore record slot(s) with start_time=0")
    by_key: dict[tuple[int, int], list[int]] = {}
    for r in aicore:
        by_key.setdefault((r[0], r[2]), r)
    rows: list[Row] = []

    def mkrow(r: list[int], disp: int, fin: int) -> Row:
        r2s = r[5] if len(r) == 6 else 0
        start = us(r[3])
        ls = r2s * scale
        return Row(task_id=r[1], func_id=-1, core_id=r[0],
                   core_type=ctype[r[0]] if r[0] < len(ctype) else "aiv",
                   start=start, end=us(r[4]), dispatch=us(disp) if disp else 0.0,
                   finish=us(fin) if fin else 0.0, receive=start - ls, local_setup=ls,
                   start_t=r[3], end_t=r[4], receive_t=r[3] - r2s, dispatch_t=disp, finish_t=fin,
                   reg_task_id=r[2])

    if level >= 2:
        unmatched = 0
        for r in aicpu:
            a = by_key.get((r[0], r[1]))
            if a is not None:
                rows.append(mkrow(a, r[2], r[3]))
            else:
                unmatched += 1
        if unmatched:
            warns.append(f"{path}: Warning: {unmatched} aicpu_task(s) had no matching AICore record; dropped")
    else:
        for a in aicore:
            rows.append(mkrow(a, 0, 0))
    rows.sort(key=lambda x: x.task_id)

    sched: list[list[dict[str, Any]]] = []
    for g in sched_raw:
        lst = []
        for p in g:
            q = dict(p)
            q["phase"] = q.pop("kind")
            q["start_time_us"] = us(p["start_cycles"])
            q["end_time_us"] = us(p["end_cycles"])
            lst.append(q)
        sched.append(lst)
    orch: list[list[dict[str, Any]]] = []
    for g in orch_raw:
        orch.append([dict(p, phase="orch_submit", start_time_us=us(p["start_cycles"]),
                          end_time_us=us(p["end_cycles"])) for p in g])
    pd = PerfData(level=level, clock_hz=clock, core_types=list(core_types), core_to_thread=list(c2t),
                  rows=rows, sched=sched, orch=orch, base_tick=base, deps=deps, names=dict(names or {}),
                  orchestrator_name=orchestrator_name, source=path, warnings=warns)
    resolve_func_ids(pd)
    return pd


def resolve_func_ids(pd: PerfData) -> None:
    """Fill ``row.func_id`` from deps.json kernel_ids (formats.md §3)."""
    if pd.deps is None:
        return
    kids = pd.deps.kernel_ids
    for r in pd.rows:
        k = kids.get(r.task_id)
        if k is None:
            r.func_id = -1
        elif r.core_type == "aic":
            r.func_id = k[0]
        else:
            r.func_id = k[1] if k[1] != -1 else k[2]


def _short(x: Any) -> str:
    import json

    s = json.dumps(x)
    return s if len(s) <= 60 else s[:57] + "..."


# --------------------------------------------------------------------------------------------
# deps.json / name map parsing
# --------------------------------------------------------------------------------------------


def parse_deps(obj: Any, path: str = "deps.json") -> DepsInfo:
    """Read the parts of ``deps.json`` the tools use (string or integer ids accepted)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("tasks"), list):
        raise _bad(path, "top level", "expected an object with a 'tasks' array")
    info = DepsInfo()
    for i, t in enumerate(obj["tasks"]):
        try:
            tid = int(t["task_id"])
            k = [int(x) for x in t.get("kernel_ids", [-1, -1, -1])]
            info.kernel_ids[tid] = (k + [-1, -1, -1])[:3]
            info.block_num[tid] = int(t.get("block_num", 1))
        except (KeyError, TypeError, ValueError):
            raise _bad(path, f"tasks[{i}]", "expected task_id and kernel_ids") from None
    seen: set[tuple[int, int]] = set()
    for i, e in enumerate(obj.get("edges", [])):
        try:
            pr = (int(e["pred"]), int(e["succ"]))
        except (KeyError, TypeError, ValueError):
            raise _bad(path, f"edges[{i}]", "expected pred and succ task ids") from None
        if pr not in seen:
            seen.add(pr)
            info.pairs.append(pr)
    return info


def parse_name_map(obj: Any, path: str = "name_map.json") -> tuple[dict[int, str], str | None]:
    """(func_id -> name, orchestrator_name) from a name map object."""
    if not isinstance(obj, dict):
        raise _bad(path, "top level", "expected an object")
    m = obj.get("callable_id_to_name", {})
    if not isinstance(m, dict):
        raise _bad(path, "callable_id_to_name", "expected an object")
    out: dict[int, str] = {}
    for k, v in m.items():
        try:
            out[int(k)] = str(v)
        except ValueError:
            raise _bad(path, f"callable_id_to_name[{k!r}]", "expected an integer key") from None
    on = obj.get("orchestrator_name")
    return out, on if isinstance(on, str) else None


def load_json(path: Path) -> Any:
    """json.load with a one-line UserError naming the file on failure."""
    import json

    try:
        text = path.read_text()
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        trunc = " (file truncated?)" if exc.pos >= len(text.rstrip()) else ""
        raise UserError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{trunc}") \
            from None
