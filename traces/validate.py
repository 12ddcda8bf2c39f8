"""Checks a merged trace against the Perfetto JSON importer rules the project relies on."""

from __future__ import annotations

from typing import Any


def _num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def trace_problems(obj: Any, limit: int = 20, counter_tids: bool = True) -> list[str]:
    """Problems found (empty = valid): a JSON object with ``traceEvents``; X events with numeric ts/dur
    (µs); every flow ``s`` paired with one ``f`` of the same id/cat/name; metadata naming every pid/tid.

    ``counter_tids=False`` accepts unnamed tids on counter (C) events, which Perfetto keys by process
    (the converter's overhead tracks have no thread names)."""
    out: list[str] = []
    if not isinstance(obj, dict) or not isinstance(obj.get("traceEvents"), list):
        return ["top level: expected an object with a 'traceEvents' array"]
    named_pids: set[Any] = set()
    named_tids: set[tuple[Any, Any]] = set()
    used: dict[tuple[Any, Any], int] = {}
    used_pid: dict[Any, int] = {}
    flows: dict[Any, list[tuple[int, dict[str, Any]]]] = {}
    for i, e in enumerate(obj["traceEvents"]):
        if len(out) >= limit:
            return out
        if not isinstance(e, dict) or not isinstance(e.get("ph"), str) or not isinstance(e.get("pid"), int):
            out.append(f"traceEvents[{i}]: expected an object with string 'ph' and integer 'pid'")
            continue
        ph = e["ph"]
        if ph == "M":
            if e.get("name") == "process_name":
                named_pids.add(e["pid"])
            elif e.get("name") == "thread_name":
                named_tids.add((e["pid"], e.get("tid")))
            continue
        if not isinstance(e.get("tid"), int):
            out.append(f"traceEvents[{i}]: expected integer 'tid'")
        if ph == "C" and not counter_tids:
            used_pid.setdefault(e["pid"], i)
        else:
            used.setdefault((e["pid"], e.get("tid")), i)
        if not _num(e.get("ts")):
            out.append(f"traceEvents[{i}]: expected numeric 'ts'")
        if ph == "X" and not (_num(e.get("dur")) and e["dur"] >= 0):
            out.append(f"traceEvents[{i}]: X event needs a numeric non-negative 'dur'")
        elif ph in ("s", "f"):
            flows.setdefault(e.get("id"), []).append((i, e))
    for fid, evs in flows.items():
        phs = sorted(e["ph"] for _, e in evs)
        keys = {(e.get("cat"), e.get("name")) for _, e in evs}
        if phs != ["f", "s"] or len(keys) != 1:
            out.append(f"flow id {fid}: expected one 's' and one 'f' with the same cat/name, got "
                       f"{phs} at traceEvents{[i for i, _ in evs]}")
    for (pid, tid), i in sorted(used.items(), key=lambda kv: kv[1]):
        if pid not in named_pids:
            out.append(f"traceEvents[{i}]: pid {pid} has no process_name")
            named_pids.add(pid)
        if (pid, tid) not in named_tids:
            out.append(f"traceEvents[{i}]: pid {pid} tid {tid} has no thread_name")
            named_tids.add((pid, tid))
    for pid, i in sorted(used_pid.items(), key=lambda kv: kv[1]):
        if pid not in named_pids:
            out.append(f"traceEvents[{i}]: pid {pid} has no process_name")
            named_pids.add(pid)
    return out[:limit]
