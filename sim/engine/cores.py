"""AIC/AIV cores and clusters, and the subtasks they run (docs/model.md §2.1, §4.4).

A :class:`Core` carries two views of one AICore: the owning scheduler thread's bookkeeping (the
running and pending slots, whether the running task's ACK was seen) and the physical core (the
subtask it executes, the token it took next, when it is free again). A :class:`Subtask` is one
lane of one block of a task, bound to one core by that core's next register token; it collects the
five timestamps of its record (ns). A :class:`Cluster` is one AIC and its AIVs, the unit a MIX
block and thread ownership take.
"""

from __future__ import annotations

import random

from sim.engine.params import RuntimeParams
from sim.engine.tasks import TaskState

__all__ = ["Cluster", "Core", "Subtask", "build_cores", "cold_draws", "draw_cold_starts"]


class Subtask:
    """One lane (``aic`` / ``aiv0`` / ``aiv1``) of one block of a task on one core.

    ``reg`` is the core's register token, ``thread`` the dispatching scheduler thread. Times (ns):
    ``dispatch`` (the batch's counter read), ``arrive`` (token visible at the core), ``receive``,
    ``start``, ``end`` (lane execution), ``finish`` (FIN observed by the AICPU); None until known.
    ``gated`` subtasks (early dispatch) wait at the core for the doorbell arriving at ``rung``.
    A lane with barriers (``pl.system.syncall``) runs segment ``seg`` of ``n_seg``; ``barriers`` holds
    its (arrival, departure) ns per barrier passed, ``factor`` its jitter factor.
    """

    __slots__ = (
        "ts", "block", "lane", "core", "reg", "thread", "dispatch", "arrive", "receive", "start",
        "end", "finish", "pipe_busy", "breakdown", "compute_ns", "gated", "rung", "seg", "n_seg", "barriers",
        "factor",
    )
    pipe_busy: dict[str, float]
    breakdown: dict[str, float]

    def __init__(self, ts: TaskState, block: int, lane: str, core: Core, reg: int, thread: int) -> None:
        self.ts = ts
        self.block = block
        self.lane = lane
        self.core = core
        self.reg = reg
        self.thread = thread
        self.dispatch = 0.0
        self.arrive = 0.0
        self.receive: float | None = None
        self.start: float | None = None
        self.end: float | None = None
        self.finish: float | None = None
        # pipe_busy and breakdown (dicts, ns) are set when the lane starts (AICores)
        self.compute_ns = 0.0
        self.gated = False  # published with not_ready = 1 (early dispatch)
        self.rung: float | None = None  # doorbell arrival at the core
        self.seg = 0
        self.n_seg = 1
        self.barriers: list[tuple[float, float]] | tuple[()] = ()  # a list from the first barrier on
        self.factor = 1.0


class Core:
    """One AICore (``kind`` ``aic`` or ``aiv``) of cluster ``cluster``, owned by scheduler ``thread``.

    AICPU bookkeeping: ``running`` / ``pending`` slots, ``ack_seen``. Physical core: ``busy`` (the
    subtask executing or being set up), ``nxt`` (a token that arrived meanwhile), ``free_at`` (ns,
    after the record write-back), ``used`` (has taken a token), ``ran`` (has run a kernel body in this
    launch), ``cold_extra`` (ns, the seeded Head-OH excess of its first task).
    """

    __slots__ = (
        "id", "kind", "cluster", "thread", "token", "running", "pending", "ack_seen", "busy", "nxt",
        "free_at", "used", "cold_extra", "ran",
    )

    def __init__(self, cid: int, kind: str, cluster: int, thread: int) -> None:
        self.id = cid
        self.kind = kind
        self.cluster = cluster
        self.thread = thread
        self.token = 0
        # AICPU bookkeeping
        self.running: Subtask | None = None
        self.pending: Subtask | None = None
        self.ack_seen = False
        # the physical core
        self.busy: Subtask | None = None
        self.nxt: Subtask | None = None
        self.free_at = 0.0
        self.used = False
        self.cold_extra = 0.0
        self.ran = False  # has run a kernel body in this launch (first_kernel_extra_ns)


class Cluster:
    """Cluster ``idx``: its AIC and its AIVs."""

    __slots__ = ("idx", "aic", "aivs")

    def __init__(self, idx: int, aic: Core, aivs: list[Core]) -> None:
        self.idx = idx
        self.aic = aic
        self.aivs = aivs


def build_cores(n_clusters: int, aiv_per_cluster: int, n_threads: int) -> tuple[list[Core], list[Cluster]]:
    """The die's cores in runtime id order (AIC ``b`` is core ``b``; the AIVs of cluster ``b`` follow
    all AICs, ``aiv_per_cluster`` each) and its clusters; cluster ``b`` belongs to thread ``b mod n``."""
    n_cl, n_aiv, nth = n_clusters, aiv_per_cluster, n_threads
    aics = [Core(b, "aic", b, b % nth) for b in range(n_cl)]
    aivs = [Core(n_cl + n_aiv * b + i, "aiv", b, b % nth) for b in range(n_cl) for i in range(n_aiv)]
    cores = aics + aivs
    clusters = [Cluster(b, aics[b], aivs[n_aiv * b:n_aiv * (b + 1)]) for b in range(n_cl)]
    return cores, clusters


def draw_cold_starts(cores: list[Core], p: RuntimeParams, seed: int) -> None:
    """Seeded per core: with probability ``cold_prob`` its first task pays a Head-OH excess drawn
    uniformly from [``cold_min``, ``cold_max``] ns (docs/model.md §4.6); none when cold start is off."""
    if not p.cold_start:
        return
    for c in cores:
        r1, r2 = cold_draws(seed, c.id)
        if r1 < p.cold_prob:
            c.cold_extra = p.cold_min + (p.cold_max - p.cold_min) * r2  # random.Random.uniform's formula


_DRAWS: dict[tuple[int, int], tuple[float, float]] = {}  # (seed, core id) -> the two draws


def cold_draws(seed: int, core_id: int) -> tuple[float, float]:
    """The first two ``random()`` draws of core ``core_id``'s cold-start generator for ``seed``
    (seeded with ``"{seed}:cold:{core_id}"``), memoised: seeding a generator costs more than a run's
    per-core work."""
    key = (seed, core_id)
    d = _DRAWS.get(key)
    if d is None:
        if len(_DRAWS) >= 100_000:
            _DRAWS.clear()
        rng = random.Random(f"{seed}:cold:{core_id}")
        d = _DRAWS[key] = (rng.random(), rng.random())
    return d
