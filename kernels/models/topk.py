"""Row-wise top-k of FP32 scores on the 48 vector cores, scheduled as pto-isa's a2a3 topk example
(hw-native-sys/pto-isa ``kernels/manual/a2a3/topk``), whose README publishes measured A3 task
durations and per-pipe busy ratios for three row counts: a check of the sort ops (``sort32``,
``mrgsort``) on a workload that is almost all vector work.

Every row holds 1024 valid scores (row stride 1280); the kernel keeps the 1000 largest with their
column indices. Each of the 48 blocks of one AIV task owns ``rows / 48`` rows and walks them two at
a time with double buffering. A row is sorted in blocks of 32 (``sort32``), merged four runs at a
time in two passes (64 → 256 → 1024 of the pair row), each followed by the example's copy back of the
merged row, merged once more (the two remaining runs) and copied, and the top 1000 values and indices
are extracted from the (value, index) pairs (``gather`` by mask) and stored.

Variants are the README's row counts: ``4800``, ``3456``, ``2304``.
"""

from typing import Any

import kernels.language as pl
from sim.util.errors import UserError

CORES = 48  # one block per vector core
COLS, STRIDE, TOPK = 1024, 1280, 1000
ROWS_PER_STEP = 2  # rows per loop iteration (double-buffered)

VARIANTS = ["4800", "3456", "2304"]
MODES = ["decode"]  # the CLI's default mode; a top-k has no decode/prefill distinction


def topk_program(rows: int) -> Any:
    """The ``@pl.jit`` program for ``rows`` rows (checked by :func:`build`)."""
    per_block = rows // CORES

    @pl.jit
    def topk(x: pl.Tensor[[rows, STRIDE], pl.FP32], col_idx: pl.Tensor[[1, COLS], pl.UINT32],
             values: pl.Out[pl.Tensor[[rows, TOPK], pl.FP32]],
             indices: pl.Out[pl.Tensor[[rows, TOPK], pl.INT32]]) -> None:
        for blk in pl.spmd(CORES, name_hint="topk"):
            idx = col_idx[0:1, 0:COLS]
            for step in pl.pipeline(per_block // ROWS_PER_STEP, stage=2):
                for r in pl.range(ROWS_PER_STEP):
                    row = blk * per_block + step * ROWS_PER_STEP + r
                    pairs = pl.sort32(x[row:row + 1, 0:COLS], idx)
                    pairs = pl.mrgsort(pairs, block_len=64)
                    pairs = pl.mul(pairs, 1.0)  # the example's copy of the merged row back into place
                    pairs = pl.mrgsort(pairs, block_len=256)
                    pairs = pl.mul(pairs, 1.0)
                    pairs = pl.mrgsort(pairs, block_len=1024)
                    best = pl.mul(pairs[:, 0:2 * TOPK], 1.0)  # the top-k copy out of the merge buffer
                    values[row:row + 1, 0:TOPK] = pl.gather(best, mask_pattern=pl.tile.MaskPattern.P0101)
                    indices[row:row + 1, 0:TOPK] = pl.gather(best, mask_pattern=pl.tile.MaskPattern.P1010,
                                                             output_dtype=pl.INT32)

    return topk


def build(variant: str = "4800", mode: str = "decode", **options: Any) -> Any:
    """TaskGraph of the top-k over the variant's row count (no options; the registry checks the variant
    and mode)."""
    if options:
        raise UserError(f"topk: unknown option(s) {', '.join(sorted(options))} (it takes none)")
    rows = int(variant)
    return pl.record(topk_program(rows), kernel="topk", variant=variant, mode=mode, params={"rows": rows})
