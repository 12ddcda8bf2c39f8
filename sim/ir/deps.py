"""Runtime dependency inference: a TensorMap model of the PTO runtime's submit steps.

Follows the runtime's submit steps (docs/model.md §1; simpler ``docs/task-flow.md``), per task in
submission order:

1. explicit ``deps=`` edges (``source="explicit"``, ``arg=-1``);
2. unless the task is in a manual scope, for each tensor argument: a creator edge to the alloc
   task that owns the buffer; for INPUT/INOUT (not ``manual_dep``) a lookup of every registered
   writer whose region overlaps (``"tensormap"``; ``overlap="covered"`` when the consumer region
   contains the writer's region); an INOUT removes the entries it covers;
3. INOUT and OUTPUT_EXISTING arguments (not ``manual_dep``, not manual scope) register as writers.

WAR is not tracked; OUTPUT_EXISTING does no lookup; overlap is conservative (boxes of the same
buffer that are not provably disjoint).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.ir import ArgDir, Edge, Region, TaskGraph, TaskKind


def regions_overlap(a: Region, b: Region) -> bool:
    """True unless the two boxes of one buffer are provably disjoint (different buffers: False)."""
    if a.tensor != b.tensor:
        return False
    if len(a.offset) != len(b.offset):
        return True  # different views of one buffer: conservative
    for o1, s1, o2, s2 in zip(a.offset, a.shape, b.offset, b.shape, strict=True):
        if o1 + s1 <= o2 or o2 + s2 <= o1:
            return False
    return True


def region_covers(outer: Region, inner: Region) -> bool:
    """True if ``outer`` fully contains ``inner`` (same buffer, same rank)."""
    if outer.tensor != inner.tensor or len(outer.offset) != len(inner.offset):
        return False
    return all(
        o1 <= o2 and o2 + s2 <= o1 + s1
        for o1, s1, o2, s2 in zip(outer.offset, outer.shape, inner.offset, inner.shape, strict=True)
    )


@dataclass
class _Entry:
    region: Region
    task: int


class TensorMap:
    """Registered writers per buffer: ``lookup`` overlapping entries, ``insert``, ``remove_covered``."""

    def __init__(self) -> None:
        self._by_tensor: dict[int, list[_Entry]] = {}

    def lookup(self, region: Region) -> list[_Entry]:
        return [e for e in self._by_tensor.get(region.tensor, []) if regions_overlap(region, e.region)]

    def insert(self, region: Region, task: int) -> None:
        self._by_tensor.setdefault(region.tensor, []).append(_Entry(region, task))

    def remove_covered(self, region: Region) -> None:
        lst = self._by_tensor.get(region.tensor)
        if lst:
            self._by_tensor[region.tensor] = [e for e in lst if not region_covers(region, e.region)]

    def entries(self) -> list[tuple[Region, int]]:
        return [(e.region, e.task) for lst in self._by_tensor.values() for e in lst]


def infer_edges(graph: TaskGraph) -> list[Edge]:
    """All dependency edges of ``graph`` (edges may repeat per argument, as in deps.json)."""
    creator = {t.id: t.creator for t in graph.tensors}
    manual_dep = {t.id: t.manual_dep for t in graph.tensors}
    tmap = TensorMap()
    edges: list[Edge] = []
    for task in graph.tasks:
        if task.kind == TaskKind.ALLOC:
            continue
        for p in task.explicit_deps:
            edges.append(Edge(pred=p, succ=task.idx, source="explicit", arg=-1))
        if task.scope == "manual":
            continue
        for arg in task.args:
            tid = arg.region.tensor
            owner = creator.get(tid)
            if owner is not None:
                edges.append(Edge(pred=owner, succ=task.idx, source="creator", arg=arg.idx, tensor=tid))
            if manual_dep.get(tid, False) or arg.dir == ArgDir.NODEP:
                continue
            if arg.dir in (ArgDir.INPUT, ArgDir.INOUT):
                for e in tmap.lookup(arg.region):
                    if e.task == task.idx:
                        continue
                    cov = "covered" if region_covers(arg.region, e.region) else "other"
                    edges.append(Edge(pred=e.task, succ=task.idx, source="tensormap", arg=arg.idx, tensor=tid,
                                      overlap=cov))
                if arg.dir == ArgDir.INOUT:
                    tmap.remove_covered(arg.region)
        for arg in task.args:
            if manual_dep.get(arg.region.tensor, False):
                continue
            if arg.dir in (ArgDir.INOUT, ArgDir.OUTPUT_EXISTING):
                tmap.insert(arg.region, task.idx)
    return edges
