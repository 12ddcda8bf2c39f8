"""A pypto-lib style kernel file for swimsim's value-mode tests: one task advances every token's
position by one (INT32 on the device); orchestration then reads each new position and, only where it
closes a compression window (``pos % RATIO == RATIO - 1``), submits a ``compress`` task (a position-guarded
branch) that stores the row mean of that token's BF16 state."""

import numpy as np
import pypto.language as pl

TOKENS = 8
RATIO = 4
HIDDEN = 128
START = [2, 3, 6, 10, 11, 14, 0, 7]  # positions before the step


@pl.jit
def position_branch(
    pos: pl.Tensor[[1, TOKENS], pl.INT32],
    state: pl.Tensor[[TOKENS, HIDDEN], pl.BF16],
    new_pos: pl.Out[pl.Tensor[[1, TOKENS], pl.INT32]],
    pooled: pl.Out[pl.Tensor[[TOKENS, 1], pl.BF16]],
):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="advance"):
        new_pos[:, :] = pl.add(pos[:, :], 1)
    for t in range(TOKENS):
        p = pl.read(new_pos, [0, t])
        if p % RATIO == RATIO - 1:
            with pl.at(level=pl.Level.CORE_GROUP, name_hint="compress"):
                row = pl.cast(state[t : t + 1, :], pl.FP32)
                mean = pl.mul(pl.row_sum(row), 1.0 / HIDDEN)
                pooled[t : t + 1, :] = pl.cast(mean, pl.BF16, mode="rint")
    return pooled


def golden_position_branch(tensors):
    import torch

    p = tensors["pos"].numpy() + 1
    tensors["new_pos"][:] = torch.tensor(p.astype(np.int32), dtype=torch.int32)
    s = tensors["state"].float().numpy()
    out = np.zeros((TOKENS, 1), np.float32)
    for t in range(TOKENS):
        if p[0, t] % RATIO == RATIO - 1:
            out[t, 0] = s[t].mean()
    tensors["pooled"][:] = torch.tensor(out).to(torch.bfloat16)


def build_specs():
    import torch
    from golden import TensorSpec

    return [
        TensorSpec("pos", [1, TOKENS], torch.int32,
                   init_value=lambda: torch.tensor(np.array([START], np.int32), dtype=torch.int32)),
        TensorSpec("state", [TOKENS, HIDDEN], torch.bfloat16, init_value=lambda: torch.randn(TOKENS, HIDDEN)),
        TensorSpec("new_pos", [1, TOKENS], torch.int32, is_output=True),
        TensorSpec("pooled", [TOKENS, 1], torch.bfloat16, is_output=True),
    ]


if __name__ == "__main__":
    from golden import run_jit

    result = run_jit(fn=position_branch, specs=build_specs(), golden_fn=golden_position_branch,
                     runtime_cfg=dict(platform="a2a3"), rtol=1e-2, atol=1e-2)
    if not result.passed:
        raise SystemExit(1)
