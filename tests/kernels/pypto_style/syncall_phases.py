"""A pypto-lib style kernel file for swimsim's tests: one persistent SPMD launch in two phases separated
by a hard ``pl.system.syncall``.

    Phase 1  every block squares its row tiles of x into the scratch tensor h   (grid-stride, AIV)
    ── syncall ──  (every tile of h visible to every block)
    Phase 2  every block adds the NEXT tile of h (written by another block) to its own tile -> y

14 row tiles over 8 blocks: blocks 0-5 take two tiles in each phase, blocks 6-7 one, so the blocks
reach the barrier at different times.
"""

import pypto.language as pl

ROWS = 224
HIDDEN = 256
ROW_TILE = 16
N_TILES = ROWS // ROW_TILE
NUM_BLOCKS = 8  # every block resident at once: the barrier spans the whole launch


@pl.jit.inline
def square_then_shift(x, h, y):
    with pl.spmd(NUM_BLOCKS, name_hint="square_shift", sync_start=True) as _tid:
        core = pl.tile.get_block_idx()

        for tile in pl.range(core, N_TILES, NUM_BLOCKS):
            r0 = tile * ROW_TILE
            xt = x[r0 : r0 + ROW_TILE, :]
            h[r0 : r0 + ROW_TILE, :] = pl.mul(xt, xt)
        pl.system.syncall(core_type="mix")

        for tile in pl.range(core, N_TILES, NUM_BLOCKS):
            r0 = tile * ROW_TILE
            n0 = ((tile + 1) % N_TILES) * ROW_TILE
            y[r0 : r0 + ROW_TILE, :] = pl.add(h[r0 : r0 + ROW_TILE, :], h[n0 : n0 + ROW_TILE, :])
    return y


@pl.jit
def syncall_phases_test(
    x: pl.Tensor[[ROWS, HIDDEN], pl.FP32],
    y: pl.Out[pl.Tensor[[ROWS, HIDDEN], pl.FP32]],
):
    h = pl.create_tensor([ROWS, HIDDEN], dtype=pl.FP32)
    return square_then_shift(x, h, y)


def golden_syncall_phases(tensors):
    import torch

    h = tensors["x"] * tensors["x"]
    tensors["y"][:] = h + torch.roll(h, -ROW_TILE, 0)


def build_specs():
    import torch
    from golden import TensorSpec

    return [
        TensorSpec("x", [ROWS, HIDDEN], torch.float32, init_value=lambda: torch.randn(ROWS, HIDDEN)),
        TensorSpec("y", [ROWS, HIDDEN], torch.float32, is_output=True),
    ]


if __name__ == "__main__":
    import argparse

    from golden import run_jit

    parser = argparse.ArgumentParser()
    parser.add_argument("-p", "--platform", default="a2a3")
    parser.add_argument("-d", "--device", type=int, default=0)
    parser.add_argument("--enable-l2-swimlane", action="store_true", default=False)
    args = parser.parse_args()

    result = run_jit(
        fn=syncall_phases_test,
        specs=build_specs(),
        golden_fn=golden_syncall_phases,
        runtime_cfg=dict(platform=args.platform, device_id=args.device,
                         enable_l2_swimlane=args.enable_l2_swimlane),
    )
    if not result.passed:
        raise SystemExit(1)
