"""A pypto-lib style kernel file whose orchestration reads a scratch element that no task writes: the
first task fills only the first half of ``scratch``, and the branch reads an element of the second half.
On the device that element holds whatever the buffer held; swimsim records the file again with such
elements read as 0."""

import pypto.language as pl

ROWS = 4
COLS = 64


@pl.jit
def unwritten_read(
    x: pl.Tensor[[ROWS, COLS], pl.FP32],
    out: pl.Out[pl.Tensor[[ROWS, COLS], pl.FP32]],
):
    scratch = pl.create_tensor([2 * ROWS, COLS], dtype=pl.FP32)
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="fill"):
        scratch[0:ROWS, :] = pl.mul(x[:, :], 2.0)
    if pl.read(scratch, [ROWS + 1, 0]) > 0.0:
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="positive"):
            out[:, :] = pl.add(scratch[0:ROWS, :], 1.0)
    return out


def golden_unwritten_read(tensors):
    tensors["out"][:] = tensors["x"] * 2.0 + 1.0


def build_specs():
    import torch
    from golden import TensorSpec

    return [
        TensorSpec("x", [ROWS, COLS], torch.float32, init_value=lambda: torch.randn(ROWS, COLS)),
        TensorSpec("out", [ROWS, COLS], torch.float32, is_output=True),
    ]


if __name__ == "__main__":
    from golden import run_jit

    result = run_jit(fn=unwritten_read, specs=build_specs(), golden_fn=golden_unwritten_read,
                     runtime_cfg=dict(platform="a2a3"), rtol=1e-3, atol=1e-3)
    if not result.passed:
        raise SystemExit(1)
