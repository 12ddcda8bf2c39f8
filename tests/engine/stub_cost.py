"""Stand-in in-core cost model for engine tests (fixed cost per op; no L2 model).

The engine's default is ``hwmodels.incore.CoreCostModel``; engine tests pass this stub as
``simulate(..., cost_model=StubCostModel())`` so invariants can be checked with durations that are
easy to reason about. Units: ns, bytes.
"""

from __future__ import annotations

from hwmodels.incore import BlockProfile
from sim.ir import Block, Task


class StubCostModel:
    """Lane duration = ``op_ns`` per op (+ ``ns_per_byte`` per payload byte); HBM bytes = DMA bytes."""

    def __init__(self, op_ns: float = 100.0, ns_per_byte: float = 0.0) -> None:
        self.op_ns = op_ns
        self.ns_per_byte = ns_per_byte

    def make_l2(self, graph: object, init: str) -> None:
        return None

    def profile(self, task: Task, block: Block, l2: object) -> dict[str, BlockProfile]:
        out: dict[str, BlockProfile] = {}
        for op in block.ops:
            lane = op.lane
            prof = out.setdefault(lane, BlockProfile(0.0, 0.0))
            ns = self.op_ns + self.ns_per_byte * op.nbytes
            prof.compute_ns += ns
            prof.pipe_busy_ns[op.pipe.value] = prof.pipe_busy_ns.get(op.pipe.value, 0.0) + ns
            prof.breakdown["stub"] = prof.breakdown.get("stub", 0.0) + ns
            if op.kind in ("load", "store"):
                prof.hbm_bytes += op.nbytes
        return out

