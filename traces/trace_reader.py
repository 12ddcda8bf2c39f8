"""Read a merged swimlane trace (simulated or from hardware) back into joined rows (µs).

The trace is checked against :class:`traces.schemas.TraceFile` (events are objects with a string
``ph``, a numeric ``ts`` and an object ``args`` where present); X events need a numeric ``dur`` as well.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from sim.util.errors import UserError
from sim.util.jsonfile import Loc, check, value_at
from traces.perf import CLOCK_HZ, PerfData, Row

_FID = re.compile(r"FuncId:(-?\d+)")
_CID = re.compile(r"CoreId:(\d+)")
_LABEL = re.compile(r"^(.*)\((?:r\d+)?t\d+\)$")


def _explain(loc: Loc, doc: Any) -> tuple[Loc, str] | None:
    """The expectation at a schema error's location, as :func:`perf_from_trace` words it."""
    match loc:
        case () | ("traceEvents",):
            return (), "expected an object with a 'traceEvents' array"
        case ("traceEvents", int()) | ("traceEvents", int(), "ph", *_):
            return loc[:2], "expected an object with a string 'ph'"
        case ("traceEvents", int(), "ts", *_):
            return loc[:2], f"expected numeric ts, got {value_at(doc, loc[:3])!r}"
        case ("traceEvents", int(), "args", *_):
            return loc[:2], "expected an object 'args'"
    return None


def trace_events(obj: Any) -> list[Any] | None:
    """The events of a trace object, or None when it is not ``{"traceEvents": [...]}`` (events unchecked)."""
    from traces import schemas  # lazy: start-up time

    try:
        return schemas.adapter(schemas.TraceTop).validate_python(obj, strict=True)["traceEvents"]
    except ValidationError:
        return None


def _num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def perf_from_trace(obj: Any, path: str) -> tuple[PerfData, list[dict[str, Any]]]:
    """(PerfData, events). Raises UserError naming ``path`` and the first bad event."""
    from traces import schemas  # lazy: start-up time

    check(schemas.adapter(schemas.TraceFile), obj, path, _explain)
    events = obj["traceEvents"]
    setups: dict[tuple[int, int], list[tuple[float, float]]] = {}
    kernels: list[tuple[int, dict[str, Any]]] = []
    sv: dict[tuple[int, int], list[tuple[float, float]]] = {}
    pids: set[int] = set()
    lane_types: dict[int, str] = {}
    for i, e in enumerate(events):
        ph = e["ph"]
        if ph == "M":
            if e.get("pid") == 4 and e.get("name") == "thread_name":
                nm = str((e.get("args") or {}).get("name", ""))
                if nm[:4] in ("AIC_", "AIV_") and nm[4:].isdigit():
                    lane_types[int(nm[4:])] = nm[:3].lower()
            continue
        if ph != "X":
            continue
        if "ts" not in e or not _num(e.get("dur")):
            raise UserError(f"{path}: traceEvents[{i}]: X event needs numeric ts and dur")
        pid = e.get("pid")
        pids.add(pid)
        args = e.get("args") or {}
        if "taskId" not in args:
            continue
        if pid == 4 and e.get("name") == "setup":
            setups.setdefault((e.get("tid"), args["taskId"]), []).append((e["ts"], e["dur"]))
        elif pid == 4 and isinstance(e.get("tid"), int) and e["tid"] < 19000:
            kernels.append((i, e))
        elif pid == 3:
            m = _CID.search(str(args.get("event-hint", "")))
            core = int(m.group(1)) if m else (e.get("tid", 10000) - 10000) // 10
            sv.setdefault((args["taskId"], core), []).append((e["ts"], e["ts"] + e["dur"]))
    rows: list[Row] = []
    names: dict[int, str] = {}
    grouped: dict[tuple[int, int], list[Row]] = {}
    for i, e in kernels:
        args = e["args"]
        hint = str(args.get("event-hint", ""))
        fm, cm = _FID.search(hint), _CID.search(hint)
        fid = int(fm.group(1)) if fm else -1
        core = int(cm.group(1)) if cm else (e["tid"] - 10000) // 10
        lm = _LABEL.match(str(e.get("name", "")))
        if fid >= 0 and lm and lm.group(1) != "task":
            nm = lm.group(1)
            names.setdefault(fid, nm)
        try:
            task = int(args["taskId"])
        except (TypeError, ValueError):
            raise UserError(f"{path}: traceEvents[{i}]: taskId {args['taskId']!r} is not an integer") from None
        if "kernel-duration-us" in args:  # later layout: bar spans receive -> end
            ls = float(args.get("local_setup_us", 0.0))
            receive, start, end = e["ts"], e["ts"] + ls, e["ts"] + e["dur"]
        else:
            start, end = e["ts"], e["ts"] + e["dur"]
            ls, receive = 0.0, start
            for sts, sdur in setups.get((e["tid"], args["taskId"]), []):
                if abs(sts + sdur - start) < 1e-6:
                    receive, ls = sts, sdur
                    break
        r = Row(task_id=task, func_id=fid, core_id=core, core_type=lane_types.get(core, "aiv"),
                start=start, end=end, dispatch=0.0, finish=0.0, receive=receive, local_setup=ls)
        rows.append(r)
        grouped.setdefault((task, core), []).append(r)
    for key, rs in grouped.items():
        wins = sorted(sv.get(key, []))
        for r, (d, f) in zip(sorted(rs, key=lambda r: r.start), wins, strict=False):
            r.dispatch, r.finish = d, f
    # strip the June "_spmd" label suffix back to the function name
    names = {k: (v[:-5] if v.endswith("_spmd") else v) for k, v in names.items()}
    level = 4 if 1 in pids else 3 if 2 in pids else 2 if 3 in pids else 1
    tick = CLOCK_HZ / 1e6
    for r in rows:
        r.start_t, r.end_t = round(r.start * tick), round(r.end * tick)
        r.receive_t, r.dispatch_t, r.finish_t = round(r.receive * tick), round(r.dispatch * tick), round(
            r.finish * tick)
    rows.sort(key=lambda r: r.task_id)
    n = max([c + 1 for c in lane_types] + [r.core_id + 1 for r in rows] + [0])
    core_types = [lane_types.get(c, "aiv") for c in range(n)]
    pd = PerfData(level=level, clock_hz=CLOCK_HZ, core_types=core_types, core_to_thread=[], rows=rows,
                  sched=[], orch=[], base_tick=0, deps=None, names=names, source=path)
    return pd, events
