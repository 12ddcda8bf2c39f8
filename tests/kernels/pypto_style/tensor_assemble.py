"""A pypto-lib style kernel file that assembles orchestration tensors into a bigger one: per row tile, a
two-block ``scale`` task fills a fresh ``pl.create_tensor`` buffer (each block half the columns), and
``pl.assemble`` places that buffer at the tile's rows of ``y``; a last ``total`` task reads all of ``y``."""

import pypto.language as pl

TILES = 2
ROWS = 8
COLS = 128
HALF = COLS // 2


@pl.jit
def tensor_assemble(
    x: pl.Tensor[[TILES * ROWS, COLS], pl.FP32],
    y: pl.Out[pl.Tensor[[TILES * ROWS, COLS], pl.FP32]],
    s: pl.Out[pl.Tensor[[TILES * ROWS, 1], pl.FP32]],
):
    for t in pl.range(TILES):
        r0 = t * ROWS
        part = pl.create_tensor([ROWS, COLS], dtype=pl.FP32)
        with pl.spmd(2, name_hint="scale"):
            b = pl.tile.get_block_idx()
            c0 = b * HALF
            part[:, c0 : c0 + HALF] = pl.mul(x[r0 : r0 + ROWS, c0 : c0 + HALF], 3.0)
        y = pl.assemble(y, part, [r0, 0])
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="total"):
        s[:, :] = pl.row_sum(y[:, :])
    return s


def golden_tensor_assemble(tensors):
    tensors["y"][:] = tensors["x"] * 3.0
    tensors["s"][:] = (tensors["x"] * 3.0).sum(dim=1, keepdim=True)


def build_specs():
    import torch
    from golden import TensorSpec

    return [
        TensorSpec("x", [TILES * ROWS, COLS], torch.float32, init_value=lambda: torch.randn(TILES * ROWS, COLS)),
        TensorSpec("y", [TILES * ROWS, COLS], torch.float32, is_output=True),
        TensorSpec("s", [TILES * ROWS, 1], torch.float32, is_output=True),
    ]


if __name__ == "__main__":
    from golden import run_jit

    result = run_jit(fn=tensor_assemble, specs=build_specs(), golden_fn=golden_tensor_assemble,
                     runtime_cfg=dict(platform="a2a3"), rtol=1e-4, atol=1e-4)
    if not result.passed:
        raise SystemExit(1)
