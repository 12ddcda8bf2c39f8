"""Barriers across the blocks of a task (``pl.system.syncall``, docs/model.md §4.5).

A task whose ops hold ``barrier`` ops (:data:`sim.ir.BARRIER`) runs each lane in *segments*: the
lane's ops up to its first barrier op, then up to its second, and so on. :func:`plan` finds, once
per task, how many barriers each lane of each block carries and how many lanes take part in each
barrier. :class:`Segmenter` cuts a block into one :class:`~sim.ir.Block` per segment for the cost
model: segment ``k`` holds every lane's ops between its barriers ``k - 1`` and ``k`` in program
order, with deps renumbered and deps on other segments dropped (the barrier orders those). Op
objects that need no renumbering are kept, and the renumbered copies are shared by every block
that shares the original op, so equal blocks keep one cost-model structure.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

from sim.ir import BARRIER, Block, Op, Task
from sim.util.taskmemo import TaskMemo

__all__ = ["SEGMENTER", "BarrierPlan", "Segmenter", "lane_barriers", "plan", "use_graph"]

_KIND = attrgetter("kind")


@dataclass(slots=True)
class BarrierPlan:
    """The barriers of one task: ``counts[(program, lane)]`` barriers on ``lane`` of block program
    ``program`` (index into ``task.blocks``), ``participants[k]`` lanes (all blocks) reaching barrier
    ``k``, and ``site``, the kernel file:line of the first barrier op."""

    counts: dict[tuple[int, str], int]
    participants: list[int]
    site: str | None


def lane_barriers(block: Block, lane: str) -> int:
    """Barrier ops on ``lane`` of ``block``; lane ``aiv1`` without ops of its own follows ``aiv0``
    (as its cost profile does)."""
    n = sum(1 for o in block.ops if o.kind == BARRIER and o.lane == lane)
    if lane == "aiv1" and not n and not any(o.lane == "aiv1" for o in block.ops):
        n = sum(1 for o in block.ops if o.kind == BARRIER and o.lane == "aiv0")
    return n


_PLANS = TaskMemo()  # id(task) -> (task, lanes, plan)


def use_graph(graph: object) -> None:
    """Memos of plans and segments hold one graph's objects: drop them when a run uses another graph."""
    if _PLANS.use(graph):
        SEGMENTER.clear()


def plan(task: Task, lanes: list[str]) -> BarrierPlan | None:
    """The task's barrier plan for its active ``lanes`` (None: the task has no barrier op); memoised
    per task object (plans are only read)."""
    key = tuple(lanes)
    hit = _PLANS.get(id(task))
    if hit is not None and hit[0] is task and hit[1] == key:
        return hit[2]
    return _PLANS.keep(task, (task, key, _plan(task, lanes)))[2]


def _plan(task: Task, lanes: list[str]) -> BarrierPlan | None:
    blocks = task.blocks
    site = None
    for b in blocks:
        if BARRIER in map(_KIND, b.ops):  # C-level scan: most tasks have no barrier op
            site = next(o.site for o in b.ops if o.kind == BARRIER)
            break
    else:
        return None
    counts = {(p, ln): lane_barriers(b, ln) for p, b in enumerate(blocks) for ln in lanes}
    n_max = max(counts.values(), default=0)
    participants = [0] * n_max
    for blk in range(task.block_num):
        p = blk % len(blocks)
        for ln in lanes:
            for k in range(counts[(p, ln)]):
                participants[k] += 1
    return BarrierPlan(counts, participants, site)


class Segmenter:
    """Cuts blocks at their barrier ops (memoised per block and per op; the engine shares one
    :data:`SEGMENTER` across runs, so a block's segments are the same objects in every run)."""

    def __init__(self) -> None:
        self._blocks: dict[int, tuple[Block, list[Block]]] = {}
        self._ops: dict[int, tuple[Op, tuple[int, ...], Op]] = {}

    def clear(self) -> None:
        """Forget every memoised block and op."""
        self._blocks.clear()
        self._ops.clear()

    def segments(self, block: Block) -> list[Block]:
        """``block``'s segments, segment ``k`` as a Block of the ops between barriers ``k - 1`` and ``k``
        of each lane (barrier ops left out)."""
        hit = self._blocks.get(id(block))
        if hit is not None and hit[0] is block:
            return hit[1]
        if len(self._blocks) > 100_000:
            self._blocks.clear()
            self._ops.clear()
        ops = block.ops
        seen: dict[str, int] = {}
        seg = [0] * len(ops)
        for i, o in enumerate(ops):
            n = seen.get(o.lane, 0)
            if o.kind == BARRIER:
                seen[o.lane] = n + 1
                seg[i] = -1
            else:
                seg[i] = n
        n_seg = max(seen.values(), default=0) + 1
        parts: list[list[Op]] = [[] for _ in range(n_seg)]
        pos = [0] * len(ops)
        for i, o in enumerate(ops):
            k = seg[i]
            if k < 0:
                continue
            pos[i] = len(parts[k])
            deps = tuple(pos[d] for d in o.deps if 0 <= d < i and seg[d] == k)
            parts[k].append(self._renumbered(o, deps))
        out = [Block(idx=block.idx, ops=p) for p in parts]
        self._blocks[id(block)] = (block, out)
        return out

    def _renumbered(self, o: Op, deps: tuple[int, ...]) -> Op:
        """``o`` itself if its deps are ``deps`` already, else one shared copy with ``deps``."""
        if tuple(o.deps) == deps:
            return o
        hit = self._ops.get(id(o))
        if hit is not None and hit[0] is o and hit[1] == deps:
            return hit[2]
        c = o.model_copy(update={"deps": list(deps)})
        self._ops[id(o)] = (o, deps, c)
        return c


SEGMENTER = Segmenter()
