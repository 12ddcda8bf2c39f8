"""A pypto-lib style kernel file for swimsim's tests: one task counts the tokens each expert is routed
to; then one task per expert scales that expert's row tile, submitted with a dispatch predicate
``cnt[e] > 0``: an expert no token picked is skipped by the scheduler and writes nothing."""

import pypto.language as pl
from config import HIDDEN, ROW_TILE

N_EXPERTS = 4
TOKENS = 8
ROUTES = {"default": [0, 2, 2, 3, 0, 3, 3, 0], "one": [2, 2, 2, 2, 2, 2, 2, 2]}


@pl.jit.inline
def routed(x, route, scale, cnt, y):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="count_tokens") as counted:
        for e in range(N_EXPERTS):
            n = 0
            for t in range(TOKENS):
                if pl.read(route, [t]) == e:
                    n += 1
            pl.write(cnt, [e, 0], n)
    for e in pl.range(N_EXPERTS):
        with pl.spmd(1, name_hint="expert_tile", deps=[counted], predicate=(cnt[e, 0] > 0)):
            r0 = e * ROW_TILE
            y[r0 : r0 + ROW_TILE, :] = pl.mul(x[r0 : r0 + ROW_TILE, :], scale)
    return y


@pl.jit
def predicated_experts_test(
    x: pl.Tensor[[N_EXPERTS * ROW_TILE, HIDDEN], pl.FP32],
    route: pl.Tensor[[TOKENS], pl.INT32],
    scale: pl.Scalar[pl.FP32],
    cnt: pl.Out[pl.Tensor[[N_EXPERTS, 1], pl.INT32]],
    y: pl.Out[pl.Tensor[[N_EXPERTS * ROW_TILE, HIDDEN], pl.FP32]],
):
    return routed(x, route, scale, cnt, y)


def golden_predicated_experts(tensors):
    for e in range(N_EXPERTS):
        n = int((tensors["route"] == e).sum())
        tensors["cnt"][e, 0] = n
        if n > 0:
            rows = slice(e * ROW_TILE, (e + 1) * ROW_TILE)
            tensors["y"][rows] = tensors["x"][rows] * tensors["scale"]


def build_specs(routes):
    import torch
    from golden import ScalarSpec, TensorSpec

    rows = N_EXPERTS * ROW_TILE
    return [
        TensorSpec("x", [rows, HIDDEN], torch.float32, init_value=lambda: torch.randn(rows, HIDDEN)),
        TensorSpec("route", [TOKENS], torch.int32, init_value=lambda: torch.tensor(routes, dtype=torch.int32)),
        ScalarSpec("scale", torch.float32, 2.0),
        TensorSpec("cnt", [N_EXPERTS, 1], torch.int32, is_output=True),
        TensorSpec("y", [rows, HIDDEN], torch.float32, is_output=True),
    ]


if __name__ == "__main__":
    import argparse

    from golden import run_jit

    parser = argparse.ArgumentParser()
    parser.add_argument("-p", "--platform", default="a2a3")
    parser.add_argument("-d", "--device", type=int, default=0)
    parser.add_argument("--routes", choices=sorted(ROUTES), default="default")
    parser.add_argument("--enable-l2-swimlane", action="store_true", default=False)
    args = parser.parse_args()

    result = run_jit(
        fn=predicated_experts_test,
        specs=build_specs(ROUTES[args.routes]),
        golden_fn=golden_predicated_experts,
        runtime_cfg=dict(platform=args.platform, device_id=args.device,
                         enable_l2_swimlane=args.enable_l2_swimlane),
    )
    if not result.passed:
        raise SystemExit(1)
