"""A pypto-lib style kernel file for swimsim's value-mode tests: one task counts each row's valid length
from a 0/1 mask (row sum, cast to INT32); then per row a ``masked_sum`` task, only for rows with a
non-zero length, loads the row with that valid width (a per-block valid mask), zero-pads and sums it."""

import numpy as np
import pypto.language as pl

ROWS = 6
WIDTH = 64
LENS = [5, 0, 64, 17, 0, 33]  # valid length of each row


def mask_data():
    m = np.zeros((ROWS, WIDTH), np.float32)
    for r, n in enumerate(LENS):
        m[r, :n] = 1.0
    return m


@pl.jit
def masked_rows(
    x: pl.Tensor[[ROWS, WIDTH], pl.FP32],
    mask: pl.Tensor[[ROWS, WIDTH], pl.FP32],
    lens: pl.Out[pl.Tensor[[ROWS, 1], pl.INT32]],
    sums: pl.Out[pl.Tensor[[ROWS, 1], pl.FP32]],
):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="row_lengths"):
        lens[:, :] = pl.cast(pl.row_sum(mask[:, :]), pl.INT32, mode="rint")
    for r in range(ROWS):
        n = pl.read(lens, [r, 0])
        if n > 0:
            with pl.at(level=pl.Level.CORE_GROUP, name_hint="masked_sum"):
                t = pl.load(x, [r, 0], [1, WIDTH], valid_shape=[1, n])
                sums[r : r + 1, :] = pl.row_sum(pl.fillpad(t, pl.PadValue.zero))
    return sums


def golden_masked_rows(tensors):
    import torch

    m = tensors["mask"].numpy()
    x = tensors["x"].numpy()
    n = m.sum(axis=1).astype(np.int32)
    tensors["lens"][:] = torch.tensor(n.reshape(ROWS, 1), dtype=torch.int32)
    s = np.array([x[r, : n[r]].sum() for r in range(ROWS)], np.float32)
    tensors["sums"][:] = torch.tensor(s.reshape(ROWS, 1), dtype=torch.float32)


def build_specs():
    import torch
    from golden import TensorSpec

    return [
        TensorSpec("x", [ROWS, WIDTH], torch.float32, init_value=lambda: torch.randn(ROWS, WIDTH)),
        TensorSpec("mask", [ROWS, WIDTH], torch.float32, init_value=lambda: torch.tensor(mask_data())),
        TensorSpec("lens", [ROWS, 1], torch.int32, is_output=True),
        TensorSpec("sums", [ROWS, 1], torch.float32, is_output=True),
    ]


if __name__ == "__main__":
    from golden import run_jit

    result = run_jit(fn=masked_rows, specs=build_specs(), golden_fn=golden_masked_rows,
                     runtime_cfg=dict(platform="a2a3"), rtol=1e-4, atol=1e-4)
    if not result.passed:
        raise SystemExit(1)
