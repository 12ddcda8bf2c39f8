"""How a recorded vector op lowers to instructions: barrier-separated steps, further instructions, scalar loops.

``vector.lowering = "a2a3"`` follows the structure of pto-isa's a2a3 tile-op implementations
(``include/pto/npu/a2a3``); ``"uniform"`` makes every recorded op one instruction. The counts feed
:func:`hwmodels.incore.opcost.vector_op_parts`.
"""

from __future__ import annotations

import math

from hwmodels.chip import ChipConfig
from hwmodels.memory import dtype_bytes
from sim.ir import Op


def _row_expand_instrs(chip: ChipConfig, rows: int, cols: int, elem_bytes: float) -> int:
    """Instructions of a row_expand binary op after its broadcast (pto-isa a2a3 TRowExpandBinOp, form of May 2026).

    Count mode, one instruction per row, only when a row holds more full 256 B repeats than the
    tile has rows; otherwise norm mode: one instruction (``rows`` repeats) per 256 B column slice
    of the row, or a single one when a row is shorter than a repeat.
    """
    per_repeat = max(1, int(chip.vector.repeat_bytes / elem_bytes)) if elem_bytes else cols
    if cols // per_repeat > rows:
        return max(1, rows)
    return max(1, math.ceil(cols / per_repeat))


def vector_lowering(chip: ChipConfig, name: str, shape: list[int], elem_bytes: float) -> tuple[int, int, int]:
    """(barrier-separated steps, further instructions, scalar-loop elements) of one recorded vector op.

    ``vector.lowering = "a2a3"`` follows the structure of the a2a3 tile-op implementations
    (pto-isa ``include/pto/npu/a2a3``); ``"uniform"`` makes every op one instruction.
    """
    v = chip.vector
    if v.lowering == "uniform" or not shape:
        return 1, 0, 0
    n = name.lower()
    cols = shape[-1]
    rows = math.prod(shape[:-1]) if len(shape) > 1 else 1
    if n == "gather":  # index form: per row, offsets = idx * elem (vmuls), barrier, vgather
        if v.gather_row_cycles > 0:  # the rows as a tight loop inside one step (gather_rows)
            return 1, 0, 0
        return rows, rows, 0
    if n.startswith("row_expand"):  # broadcast the [R,1] operand (vbrcb), barrier, the binary op
        return 2, _row_expand_instrs(chip, rows, cols, elem_bytes) - 1, 0
    if n in ("row_sum", "row_max", "row_min"):  # pairwise adds of a row's repeats, then the reduce
        return max(1, math.ceil(cols * elem_bytes / v.repeat_bytes)), 0, 0
    if n == "arange":  # a scalar loop writing each element into UB, then the S->V hand-over
        return 1, 0, cols
    return 1, 0, 0


_COL_REDUCE = ("col_sum", "col_max", "col_min")


def gather_rows(chip: ChipConfig, name: str, shape: list[int]) -> int:
    """Rows of an index gather charged as tight-loop iterations of ``vector.gather_row_cycles`` each (0 when the
    rows are full steps: that field 0, ``vector.lowering = "uniform"``, or not an index gather)."""
    v = chip.vector
    if v.lowering == "uniform" or v.gather_row_cycles <= 0 or not shape or name.lower() != "gather":
        return 0
    return max(1, math.prod(shape[:-1])) if len(shape) > 1 else 1


def loop_steps(chip: ChipConfig, name: str, shape: list[int]) -> int:
    """Barrier-separated per-row instructions of one recorded op (0 when none, or ``vector.lowering = "uniform"``).

    An a2a3 column reduction copies its first row and then runs one vadd/vmax per further row, each
    followed by a PIPE_V barrier (pto-isa ``TColSum`` / ``TColReduceOps``): ``rows`` instructions.
    """
    if chip.vector.lowering == "uniform" or len(shape) < 2 or name.lower() not in _COL_REDUCE:
        return 0
    return max(1, math.prod(shape[:-1]))


def hopped_lowering(chip: ChipConfig, name: str, shape: list[int], elem_bytes: float,
                    hops: int) -> tuple[int, int, int]:
    """:func:`vector_lowering` with every step repeated per cast hop."""
    steps, extra, scalar = vector_lowering(chip, name, shape, elem_bytes)
    return steps * max(1, hops), extra, scalar


def op_lowering(chip: ChipConfig, op: Op) -> tuple[int, int, int]:
    """:func:`vector_lowering` of a recorded VECTOR op, cast hops included ((0, 0, 0) for other pipes)."""
    if op.pipe != "VECTOR":
        return 0, 0, 0
    return hopped_lowering(chip, op.name, op.shape, max(dtype_bytes(op.dtype), dtype_bytes(op.in_dtype, 0)),
                           op.hops)
