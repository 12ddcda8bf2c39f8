"""The in-core cost model a run asks for each block's lane profiles, and the default one.

Any object with ``profile(task, block, l2) -> {lane: profile}`` serves (:class:`CostModel`); a
profile has ``compute_ns`` (lane time at full speed, ns), ``hbm_bytes`` (bytes it moves through
HBM), ``l2_bytes`` (L2 line bytes it reads and writes), ``pipe_busy_ns``, ``breakdown`` and
``gm_loads`` like :class:`hwmodels.incore.BlockProfile`.
If the object also has ``make_l2(graph, init)``, its result is the ``l2`` passed to every
``profile`` call of the run (otherwise None). The engine calls ``profile`` once per block, when the
block's first lane starts, so ``l2`` evolves in simulated start order. A block with barriers
(``pl.system.syncall``) is profiled once per segment, when its first lane starts that segment; a
model whose profiles include a fixed per-lane prologue and epilogue says so in ``lane_overhead_ns``
(``(prologue, epilogue)`` ns) and the engine keeps them in the first and last segment only.
"""

from __future__ import annotations

from typing import Any, Protocol

from hwmodels.chip import ChipConfig
from hwmodels.incore import BlockProfile, CoreCostModel
from hwmodels.memory import L2_INIT_STATES, L2State
from sim.ir import Block, Task, TaskGraph
from sim.util.errors import UserError

__all__ = ["ChipCostModel", "CostModel", "default_cost_model", "make_l2"]


class CostModel(Protocol):
    """What the engine needs of an in-core cost model (``make_l2`` is optional)."""

    def profile(self, task: Task, block: Block, l2: Any) -> dict[str, Any]:
        """Per active lane of ``block``: its profile (see the module docstring)."""
        ...


class ChipCostModel:
    """The default: :class:`hwmodels.incore.CoreCostModel` of a chip, with that chip's L2 state."""

    def __init__(self, chip: ChipConfig, model: CoreCostModel) -> None:
        self.chip = chip
        self.model = model

    @property
    def lane_overhead_ns(self) -> tuple[float, float]:
        """(prologue, epilogue) ns the model adds to every lane profile: a block cut into segments at
        barriers pays the prologue in its first segment and the epilogue in its last only."""
        return float(self.chip.core.kernel_prologue_ns), float(self.chip.core.kernel_epilogue_ns)

    def make_l2(self, graph: TaskGraph, init: str) -> L2State:
        return L2State(self.chip, graph, init=init)

    def profile(self, task: Task, block: Block, l2: L2State) -> dict[str, BlockProfile]:
        """The model's memoised profiles, not copies: the engine only reads them. L2 transitions are
        memoised too (a run that repeats another's block order defers its L2 line updates)."""
        return self.model.profile_chained(task, block, l2)

    def cold_profile(self, profiles: dict[str, BlockProfile], lane: str, loads: int) -> BlockProfile | None:
        """``lane``'s profile of the block behind ``profiles`` with its first ``loads`` GM loads cold
        (:meth:`CoreCostModel.cold_profile`)."""
        return self.model.cold_profile(profiles, lane, loads)


_COST_MODELS: dict[str, CoreCostModel] = {}  # chip JSON -> CoreCostModel (its op/schedule memos hold across runs)


def default_cost_model(chip: ChipConfig) -> ChipCostModel:
    """The chip's default cost model; the ``CoreCostModel`` is shared by runs on an equal chip."""
    key = chip.model_dump_json()
    model = _COST_MODELS.get(key)
    if model is None:
        if len(_COST_MODELS) >= 8:  # a sweep or a fit visits many chips; keep the recent few
            _COST_MODELS.pop(next(iter(_COST_MODELS)))
        model = _COST_MODELS[key] = CoreCostModel(chip)
    return ChipCostModel(chip, model)


def make_l2(cost_model: Any, graph: TaskGraph, init: str) -> Any:
    """The run's L2 state from ``cost_model.make_l2`` (None without one); ``init`` is checked first."""
    if init not in L2_INIT_STATES:
        raise UserError(f"--l2: unknown L2 initial state {init!r} (expected one of {', '.join(L2_INIT_STATES)})")
    if hasattr(cost_model, "make_l2"):
        return cost_model.make_l2(graph, init)
    return None
