"""Discrete-event engine: runs a TaskGraph on a chip model and produces RunResult records.

Model (docs/model.md §4): one orchestrator (submit costs, JUNE wiring queue), ``n_sched_threads``
scheduler threads owning clusters round-robin, each looping complete-poll / wire / dummy /
dispatch / complete-poll with per-step costs; shared ready FIFOs per shape plus JUNE thread-local
LIFO buffers; a running and a pending slot per core with the COND interpretation rules; AICores
that take tokens in order (propagation, local setup, lane execution, record write-back).
Lane execution is fluid: every running lane needs ``compute_ns`` at full speed and moves
``hbm_bytes`` (and ``l2_bytes`` of L2 lines) uniformly; concurrent lanes share HBM bandwidth, and the
L2 line bandwidth when the chip limits it, max-min fairly.

Also modelled: speculative early dispatch (``allow_early_resolve``: candidate detection, staging
with gated tokens, doorbells, auto-chain), ``sync_start`` placement, barriers across a task's blocks
(``pl.system.syncall``: all blocks launched together, each lane waits for the last arrival plus a
cross-core sync), ``orch_to_sched`` re-deal, PMU mode (single issue), the swimlane observer-cost
switch and the level-dependent AICPU costs.

Simplifications (documented, not hidden): sync_start drain mode is one elected pass without
stopping peers; ring/heap/TensorMap back-pressure is not modelled (only the wiring-queue limit);
phase-record counter reads are charged once per emitted record; the AICPU buffer rotation is not
modelled; a doorbell store costs no AICPU time.

All internal times are ns (floats); chip runtime parameters are µs and converted once.

Modules, one part of the runtime each:

* :mod:`~sim.engine.run`: :func:`simulate` and the ``Engine`` that wires the parts for one run
* :mod:`~sim.engine.events`: the event loop, timers and thread processes on simpy
* :mod:`~sim.engine.options`: :class:`RunOptions`; :mod:`~sim.engine.params`: runtime parameters in ns
* :mod:`~sim.engine.orchestrator`: the orchestrator thread's submit loop
* :mod:`~sim.engine.queues`: the wiring queue, the shared ready queues, the dummy queue
* :mod:`~sim.engine.dependencies`: wiring, completion, resolve, readiness
* :mod:`~sim.engine.scheduler`: the scheduler threads' loop, completion polls, idle skipping
* :mod:`~sim.engine.dispatch`: the dispatch policy (stages, MIX fit, sync_start, staging, publish)
* :mod:`~sim.engine.early_dispatch`: early-dispatch candidates and staged subtasks
* :mod:`~sim.engine.threads`: scheduler-thread state, cluster ownership, wake-ups
* :mod:`~sim.engine.cores`: cores, clusters, subtasks; :mod:`~sim.engine.cond`: the COND rules
* :mod:`~sim.engine.aicore`: what an AICore does with a token; :mod:`~sim.engine.hbm`: HBM events
* :mod:`~sim.engine.barriers`: barrier plans and the segments a block is cut into at its barriers
* :mod:`~sim.engine.cost_model`: the in-core cost model interface and the default one
* :mod:`~sim.engine.tasks`: per-task runtime state; :mod:`~sim.engine.clock`: thread-local clocks
* :mod:`~sim.engine.records`: the run records
"""

from sim.engine.cost_model import CostModel
from sim.engine.options import LAUNCHES, Launch, RunOptions
from sim.engine.run import simulate
from sim.engine.tasks import noise_keys

__all__ = ["LAUNCHES", "CostModel", "Launch", "RunOptions", "noise_keys", "simulate"]
