"""What the in-core cost model returns: a lane's :class:`BlockProfile` and each op's :class:`OpTiming`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BlockProfile:
    """One lane's cost for one block (ns), with no shared-HBM contention."""

    compute_ns: float
    hbm_bytes: float
    pipe_busy_ns: dict[str, float] = field(default_factory=dict)
    breakdown: dict[str, float] = field(default_factory=dict)
    l2_bytes: float = 0.0  # L2 line bytes the lane reads and writes, hit or miss (whole lines per row)
    gm_loads: int = 0  # MTE2 GM->UB/L1 load requests the lane issues (count)


@dataclass(frozen=True)
class OpTiming:
    """Where the list scheduler put one op of a block (ns from the first op, prologue excluded)."""

    index: int  # program order within the block
    lane: str  # aic / aiv0 / aiv1
    pipe: str  # MTE2, VECTOR, ...
    name: str
    shape: tuple[int, ...]
    start_ns: float  # issue on its pipe
    busy_end_ns: float  # the pipe is free again
    ready_ns: float  # its result is usable (after the latency: L2/GM for loads, sync for vector ops)
    waited_for: int  # index of the op (or pipe predecessor) that decided the start; -1 = none
    critical: bool  # on the lane's critical path (the chain that ends last)
