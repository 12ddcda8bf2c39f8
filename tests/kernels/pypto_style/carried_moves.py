"""A pypto-style kernel file whose device loop carries its accumulators explicitly: ``init_values=`` on
``pl.pipeline`` / ``pl.range`` with ``pl.yield_``, matmul operands moved L1 -> L0A/L0B with ``pl.move``,
and a UB -> UB ``pl.move``. ``y`` is x @ w summed over K blocks; ``z`` is the row-block sum of ``x``."""

import pypto.language as pl

M = 16
K = 64
N = 32
KB = 16


@pl.jit
def carried_moves(
    x: pl.Tensor[[M, K], pl.FP32],
    w: pl.Tensor[[K, N], pl.FP32],
    y: pl.Out[pl.Tensor[[M, N], pl.FP32]],
    z: pl.Out[pl.Tensor[[M, KB], pl.FP32]],
):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="mm"):
        a0 = pl.move(pl.tile.load(x, [0, 0], [M, KB], target_memory=pl.MemorySpace.Mat),
                     target_memory=pl.MemorySpace.Left)
        b0 = pl.move(pl.tile.load(w, [0, 0], [KB, N], target_memory=pl.MemorySpace.Mat),
                     target_memory=pl.MemorySpace.Right)
        acc0 = pl.tile.matmul(a0, b0)
        for k, (acc,) in pl.pipeline(KB, K, KB, stage=2, init_values=(acc0,)):
            a = pl.move(pl.tile.load(x, [0, k], [M, KB], target_memory=pl.MemorySpace.Mat),
                        target_memory=pl.MemorySpace.Left)
            b = pl.move(pl.tile.load(w, [k, 0], [KB, N], target_memory=pl.MemorySpace.Mat),
                        target_memory=pl.MemorySpace.Right)
            out = pl.yield_(pl.tile.matmul_acc(acc, a, b))
        y = pl.tile.store(out, [0, 0], y)
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="blocks"):
        s0 = pl.tile.load(x, [0, 0], [M, KB])
        for k, (s,) in pl.range(KB, K, KB, init_values=(s0,)):
            total = pl.yield_(pl.add(s, pl.tile.load(x, [0, k], [M, KB])))
        z = pl.tile.store(pl.move(total, target_memory=pl.MemorySpace.Vec), [0, 0], z)
    return y


def golden_carried_moves(tensors):
    tensors["y"][:] = tensors["x"] @ tensors["w"]
    x = tensors["x"]
    tensors["z"][:] = x[:, 0:16] + x[:, 16:32] + x[:, 32:48] + x[:, 48:64]


if __name__ == "__main__":
    import torch
    from golden import TensorSpec, run_jit

    specs = [
        TensorSpec("x", [M, K], torch.float32, init_value=lambda: torch.randint(-3, 4, (M, K)).float()),
        TensorSpec("w", [K, N], torch.float32, init_value=lambda: torch.randint(-3, 4, (K, N)).float()),
        TensorSpec("y", [M, N], torch.float32, is_output=True),
        TensorSpec("z", [M, KB], torch.float32, is_output=True),
    ]
    run_jit(fn=carried_moves, specs=specs, golden_fn=golden_carried_moves, rtol=1e-5, atol=1e-5)
