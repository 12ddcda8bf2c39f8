"""A pypto-lib style kernel file for swimsim's tests: a manual-scope chain of gate tasks (one per row
tile that each batch entry's ``counts`` entry asks for: a data-dependent loop), then a row maximum whose
tile outlives its ``pl.at`` scope: it is assembled into a GM tensor in orchestration code and used by
a later scope as an operand."""

import pypto.language as pl
import pypto.language.distributed as pld
from config import BLOCK_COUNTS, GATE_CHAIN_SLOTS, HIDDEN, MAX_BLOCKS, ROW_TILE

T_DYN = pl.dynamic("T_DYN")
B_DYN = pl.dynamic("B_DYN")


@pl.jit.inline(auto_scope=False)
def gate_chain(x, counts, scale, gate, last: pl.Array[GATE_CHAIN_SLOTS, pl.TASK_ID]):
    with pl.manual_scope():
        for b in pl.range(pl.tensor.dim(counts, 0)):
            n = pl.read(counts, [b])
            for i in pl.range(n):
                with pl.at(level=pl.Level.CORE_GROUP, name_hint="gate_tile", deps=[last[0]]) as tid:
                    r0 = (b * MAX_BLOCKS + i) * ROW_TILE
                    gate[r0 : r0 + ROW_TILE, :] = pl.mul(pl.exp(x[r0 : r0 + ROW_TILE, :]), scale)
                last[0] = tid
    return last


@pl.jit.inline
def unused_exchange(window: pld.DistributedTensor[[ROW_TILE, HIDDEN], pl.FP32]):
    return window


@pl.jit
def gated_rows_test(
    x: pl.Tensor[[T_DYN, HIDDEN], pl.FP32],
    counts: pl.Tensor[[B_DYN], pl.INT32],
    scale: pl.Scalar[pl.FP32],
    gate: pl.Out[pl.Tensor[[T_DYN, HIDDEN], pl.FP32]],
    row_peak: pl.Out[pl.Tensor[[ROW_TILE, 1], pl.FP32]],
    y: pl.Out[pl.Tensor[[ROW_TILE, HIDDEN], pl.FP32]],
):
    x.bind_dynamic(0, T_DYN)
    gate.bind_dynamic(0, T_DYN)
    counts.bind_dynamic(0, B_DYN)
    last = pl.array.create(GATE_CHAIN_SLOTS, pl.TASK_ID)
    gate_chain(x, counts, scale, gate, last)
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="peak"):
        peak = pl.row_max(x[0:ROW_TILE, :])
    row_peak = pl.assemble(row_peak, peak, [0, 0])
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="normalize"):
        y[0:ROW_TILE, :] = pl.row_expand_div(x[0:ROW_TILE, :], peak)
    return y


def build_specs(batch):
    import torch
    from golden import ScalarSpec, TensorSpec

    t = batch * MAX_BLOCKS * ROW_TILE
    return [
        TensorSpec("x", [t, HIDDEN], torch.float32, init_value=lambda: torch.full_like(torch.ones(t, HIDDEN), 0.5)),
        TensorSpec("counts", [batch], torch.int32,
                   init_value=lambda: torch.tensor(BLOCK_COUNTS[:batch], dtype=torch.int32)),
        ScalarSpec("scale", torch.float32, 2.0),
        TensorSpec("gate", [t, HIDDEN], torch.float32, is_output=True),
        TensorSpec("row_peak", [ROW_TILE, 1], torch.float32, is_output=True),
        TensorSpec("y", [ROW_TILE, HIDDEN], torch.float32, is_output=True),
    ]


if __name__ == "__main__":
    import argparse

    from golden import mapped_pool_ratio_allclose, run_jit

    parser = argparse.ArgumentParser()
    parser.add_argument("-p", "--platform", default="a2a3")
    parser.add_argument("--batch", type=int, default=len(BLOCK_COUNTS))
    parser.add_argument("--enable-l2-swimlane", action="store_true", default=False)
    args = parser.parse_args()

    result = run_jit(
        fn=gated_rows_test,
        specs=build_specs(args.batch),
        compare_fn={"gate": mapped_pool_ratio_allclose("counts", mapping_shape=(args.batch,), block_size=ROW_TILE)},
        runtime_cfg=dict(platform=args.platform, enable_l2_swimlane=args.enable_l2_swimlane),
    )
    if not result.passed:
        raise SystemExit(1)
