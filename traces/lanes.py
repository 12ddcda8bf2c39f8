"""Process and thread ids of the merged trace, the lane names, and the metadata events naming them.

Processes (pid): 1 orchestrator, 2 AICPU scheduler (and the overhead counter tracks), 3 Scheduler
View, 4 Worker View, 5 Core Pipes. A core's Worker View lane is tid ``10000 + 10 * core_id``; the
lanes of one core in the Scheduler View and in Core Pipes are numbered on from there.
"""

from __future__ import annotations

from typing import Any

from traces.perf import PerfData


def core_tid(core_id: int) -> int:
    """The first tid of core ``core_id``'s lanes."""
    return 10000 + 10 * core_id


def core_name(pd: PerfData, core_id: int) -> str:
    """Lane name of a core: ``AIC_<id>`` or ``AIV_<id>`` (cores past ``core_types`` count as AIV)."""
    ct = pd.core_types[core_id] if core_id < len(pd.core_types) else "aiv"
    return f"{'AIC' if ct == 'aic' else 'AIV'}_{core_id}"


def meta_event(name: str, pid: int, args: dict[str, Any], tid: int | None = None) -> dict[str, Any]:
    """A metadata (``ph`` M) event: ``process_name``, ``thread_name``, ``*_sort_index``."""
    e: dict[str, Any] = {"args": args, "cat": "__metadata", "name": name, "ph": "M", "pid": pid}
    if tid is not None:
        e["tid"] = tid
    return e
