"""A pypto-lib style kernel file for swimsim's tests: per batch entry, scale as many row tiles as its
``counts`` entry says (a data-dependent loop), then sum every row tile (dynamic row count)."""

import pypto.language as pl
from config import BLOCK_COUNTS, HIDDEN, MAX_BLOCKS, ROW_TILE

T_DYN = pl.dynamic("T_DYN")
B_DYN = pl.dynamic("B_DYN")


@pl.jit.inline
def row_scale(x, counts, scale, y, row_sums):
    t_dim = pl.tensor.dim(x, 0)
    for b in pl.range(pl.tensor.dim(counts, 0)):
        n = pl.read(counts, [b])
        for i in pl.range(n):
            with pl.at(level=pl.Level.CORE_GROUP, name_hint="scale_tile"):
                r0 = (b * MAX_BLOCKS + i) * ROW_TILE
                y[r0 : r0 + ROW_TILE, :] = pl.mul(x[r0 : r0 + ROW_TILE, :], scale)
    for tb in pl.spmd(t_dim // ROW_TILE, name_hint="sum_tiles"):
        s0 = tb * ROW_TILE
        row_sums[s0 : s0 + ROW_TILE, :] = pl.reshape(pl.row_sum(x[s0 : s0 + ROW_TILE, :]), [ROW_TILE, 1])
    return y


@pl.jit
def row_scale_test(
    x: pl.Tensor[[T_DYN, HIDDEN], pl.FP32],
    counts: pl.Tensor[[B_DYN], pl.INT32],
    scale: pl.Scalar[pl.FP32],
    y: pl.Out[pl.Tensor[[T_DYN, HIDDEN], pl.FP32]],
    row_sums: pl.Out[pl.Tensor[[T_DYN, 1], pl.FP32]],
):
    x.bind_dynamic(0, T_DYN)
    counts.bind_dynamic(0, B_DYN)
    y.bind_dynamic(0, T_DYN)
    row_sums.bind_dynamic(0, T_DYN)
    return row_scale(x, counts, scale, y, row_sums)


def golden_row_scale(tensors):
    tensors["y"][:] = tensors["x"] * tensors["scale"]


def build_specs(batch):
    import torch
    from golden import ScalarSpec, TensorSpec

    t = batch * MAX_BLOCKS * ROW_TILE
    return [
        TensorSpec("x", [t, HIDDEN], torch.float32, init_value=lambda: torch.randn(t, HIDDEN) - 0.5),
        TensorSpec("counts", [batch], torch.int32,
                   init_value=lambda: torch.tensor(BLOCK_COUNTS[:batch], dtype=torch.int32)),
        ScalarSpec("scale", torch.float32, 0.5),
        TensorSpec("y", [t, HIDDEN], torch.float32, is_output=True),
        TensorSpec("row_sums", [t, 1], torch.float32, is_output=True),
    ]


if __name__ == "__main__":
    import argparse

    from golden import run_jit

    parser = argparse.ArgumentParser()
    parser.add_argument("-p", "--platform", default="a2a3")
    parser.add_argument("-d", "--device", type=int, default=0)
    parser.add_argument("--batch", type=int, default=len(BLOCK_COUNTS))
    parser.add_argument("--enable-l2-swimlane", action="store_true", default=False)
    parser.add_argument("--twice", action="store_true", help="run a second, smaller batch too")
    args = parser.parse_args()

    for batch in [args.batch, 2] if args.twice else [args.batch]:
        result = run_jit(
            fn=row_scale_test,
            specs=build_specs(batch),
            golden_fn=golden_row_scale,
            runtime_cfg=dict(platform=args.platform, device_id=args.device,
                             enable_l2_swimlane=args.enable_l2_swimlane),
        )
        if not result.passed:
            raise SystemExit(1)
