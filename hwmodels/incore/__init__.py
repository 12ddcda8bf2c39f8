"""In-core cost model: list-schedule a block's ops on the core pipes and attribute its critical path.

The seam to the engine is one class, :class:`CoreCostModel` (``scheduler``)::

    model = CoreCostModel(chip)                      # chip: hwmodels.chip.ChipConfig
    model.profile(task, block, l2)                   # -> {"aic"|"aiv0"|"aiv1": BlockProfile}, ns
    model.op_timeline(task, block, l2)               # -> [OpTiming], per op (``swimsim explain --ops``)

``profile`` returns one :class:`BlockProfile` per active lane (duration ns, HBM bytes, PMU busy ns
per pipe, critical-path breakdown ns) and classifies and marks the block's L2 lines in ``l2``
(:class:`hwmodels.memory.L2State`) as it goes. Another in-core model replaces ``scheduler.py`` with
a class of the same interface.

* ``pipes``: lane, pipe and critical-path category names and indices.
* ``profile``: the result records :class:`BlockProfile` and :class:`OpTiming`.
* ``lowering``: how a recorded vector op lowers to steps and instructions (the a2a3 tile ops).
* ``opcost``: per-op cost formulas (vector, cube, FIXPIPE, DMA, scalar), in ns.
* ``scheduler``: :class:`CoreCostModel`, the block-level list scheduler over the pipes.
"""

from hwmodels.incore.lowering import op_lowering, vector_lowering
from hwmodels.incore.opcost import cube_cycles, cube_tiles, drain_cycles, op_cost, vector_op_parts, vector_repeats
from hwmodels.incore.pipes import CATS, LANES, PIPES
from hwmodels.incore.profile import BlockProfile, OpTiming
from hwmodels.incore.scheduler import CoreCostModel

__all__ = [
    "CoreCostModel", "BlockProfile", "OpTiming", "PIPES", "LANES", "CATS",
    "op_lowering", "vector_lowering", "vector_op_parts", "vector_repeats", "cube_cycles", "cube_tiles",
    "drain_cycles", "op_cost",
]
