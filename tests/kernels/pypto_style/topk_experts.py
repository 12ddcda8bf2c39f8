"""A pypto-lib style kernel file for swimsim's value-mode tests: one task picks each batch row's top-k
experts (sort32 + mrgsort + lane gather), then orchestration reads the picks and submits one ``expert``
task per distinct expert: the later task count is the number of distinct top-k indices."""

import numpy as np
import pypto.language as pl

BATCH = 4
EXPERTS = 64
TOPK = 4
HIDDEN = 64


def scores_data():
    """Distinct scores in a row (a fixed permutation pattern); rows 0, 1 and rows 2, 3 are equal (shared picks)."""
    i = np.arange(EXPERTS)
    return np.stack([((i * 37 + (b // 2) * 11) % EXPERTS) / EXPERTS for b in range(BATCH)]).astype(np.float32)


@pl.jit
def topk_experts(
    scores: pl.Tensor[[BATCH, EXPERTS], pl.FP32],
    w: pl.Tensor[[EXPERTS, HIDDEN], pl.FP32],
    sel: pl.Out[pl.Tensor[[BATCH, TOPK], pl.INT32]],
    out: pl.Out[pl.Tensor[[EXPERTS, HIDDEN], pl.FP32]],
):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="route_topk"):
        for b in pl.range(BATCH):
            s = scores[b : b + 1, :]
            idx = pl.arange(0, [1, EXPERTS], pl.INT32)
            pairs = pl.mrgsort(pl.sort32(s, idx), block_len=64)
            order = pl.gather(pairs, mask_pattern=pl.MaskPattern.P1010, output_dtype=pl.INT32)
            sel[b : b + 1, :] = order[:, 0:TOPK]
    picked = set()
    for b in range(BATCH):
        for j in range(TOPK):
            picked.add(pl.read(sel, [b, j]))
    for e in sorted(picked):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="expert"):
            out[e : e + 1, :] = pl.mul(w[e : e + 1, :], 2.0)
    return out


def golden_topk_experts(tensors):
    import torch

    s = tensors["scores"].numpy()
    order = np.argsort(-s, axis=1, kind="stable")[:, :TOPK]
    tensors["sel"][:] = torch.tensor(order.astype(np.int32), dtype=torch.int32)
    w = tensors["w"].numpy()
    out = np.zeros_like(w)
    for e in np.unique(order):
        out[e] = w[e] * 2.0
    tensors["out"][:] = torch.tensor(out, dtype=torch.float32)


def build_specs():
    import torch
    from golden import TensorSpec

    return [
        TensorSpec("scores", [BATCH, EXPERTS], torch.float32, init_value=lambda: torch.tensor(scores_data())),
        TensorSpec("w", [EXPERTS, HIDDEN], torch.float32, init_value=lambda: torch.randn(EXPERTS, HIDDEN)),
        TensorSpec("sel", [BATCH, TOPK], torch.int32, is_output=True),
        TensorSpec("out", [EXPERTS, HIDDEN], torch.float32, is_output=True),
    ]


if __name__ == "__main__":
    from golden import run_jit

    result = run_jit(fn=topk_experts, specs=build_specs(), golden_fn=golden_topk_experts,
                     runtime_cfg=dict(platform="a2a3"), rtol=1e-5, atol=1e-5)
    if not result.passed:
        raise SystemExit(1)
