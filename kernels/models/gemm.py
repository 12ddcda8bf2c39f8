"""A square FP16 GEMM on the 24 cube cores, scheduled as pto-isa's a2a3 performance example
(hw-native-sys/pto-isa ``kernels/manual/a2a3/gemm_performance``), whose README publishes measured
A3 times and per-pipe busy ratios for four sizes: a check of the cube path (MTE2, MTE1, CUBE,
FIXPIPE) on a workload with no vector work and no runtime subtleties.

``C[m, n] (FP32) = A[m, k] (FP16, row-major) · B[n, k]ᵀ (FP16, stored n-major)``. The 24 blocks of
one AIC task form a 4 × 6 grid over C; each block walks its ``(m/4) × (n/6)`` part in 128 × 256
output tiles, row of tiles by row of tiles. A tile accumulates over K in panels of 256 (four 64-deep
L0 steps per panel load), loaded with double buffering (``pl.pipeline(stage=2)``), and is stored
once from L0C.

Variants are the README's sizes ``m = k = n``: ``1536``, ``3072``, ``6144``, ``7680``. Options
``M``, ``K``, ``N`` give another size (M a multiple of 512, N of 1536, K of 256).
"""

from typing import Any

import kernels.language as pl
from sim.util.errors import UserError

GRID_M, GRID_N = 4, 6  # block grid over C: 24 blocks, one per cube core
TILE_M, TILE_N = 128, 256  # output tile (baseM x baseN)
K_PANEL = 256  # K per panel load (baseK 64 x stepKa 4)

VARIANTS = ["1536", "3072", "6144", "7680"]
MODES = ["decode"]  # the CLI's default mode; a GEMM has no decode/prefill distinction


def gemm_program(m: int, k: int, n: int) -> Any:
    """The ``@pl.jit`` program of one ``m × k × n`` GEMM (sizes checked by :func:`build`)."""
    block_m, block_n = m // GRID_M, n // GRID_N
    tiles_n = block_n // TILE_N
    tiles = (block_m // TILE_M) * tiles_n

    @pl.jit
    def gemm(a: pl.Tensor[[m, k], pl.FP16], b: pl.Tensor[[n, k], pl.FP16],
             c: pl.Out[pl.Tensor[[m, n], pl.FP32]]) -> None:
        for blk in pl.spmd(GRID_M * GRID_N, name_hint="gemm"):
            row0 = (blk // GRID_N) * block_m
            col0 = (blk % GRID_N) * block_n
            for t in pl.range(tiles):
                i = row0 + (t // tiles_n) * TILE_M
                j = col0 + (t % tiles_n) * TILE_N
                acc = pl.matmul(a[i:i + TILE_M, 0:K_PANEL], b[j:j + TILE_N, 0:K_PANEL], b_trans=True,
                                out_dtype=pl.FP32)
                for k0 in pl.pipeline(K_PANEL, k, K_PANEL, stage=2):
                    acc = pl.matmul_acc(acc, a[i:i + TILE_M, k0:k0 + K_PANEL], b[j:j + TILE_N, k0:k0 + K_PANEL],
                                        b_trans=True)
                c[i:i + TILE_M, j:j + TILE_N] = acc

    return gemm


def build(variant: str = "6144", mode: str = "decode", **options: Any) -> Any:
    """TaskGraph of one GEMM: the variant's square size, or the options ``M``, ``K``, ``N`` (the registry
    checks the variant and mode)."""
    size = int(variant)
    m, k, n = (int(options.pop(key, size)) for key in ("M", "K", "N"))
    if options:
        raise UserError(f"gemm: unknown option(s) {', '.join(sorted(options))} (known: M, K, N)")
    for name, value, step in (("M", m, GRID_M * TILE_M), ("N", n, GRID_N * TILE_N), ("K", k, K_PANEL)):
        if value <= 0 or value % step:
            raise UserError(f"gemm: {name}={value}: expected a positive multiple of {step}")
    return pl.record(gemm_program(m, k, n), kernel="gemm", variant=variant, mode=mode,
                     params={"M": m, "K": k, "N": n})
