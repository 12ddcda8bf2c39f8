"""A pypto-style kernel file whose harness runs its entry the way pypto runs it on a device, without the
``golden`` harness: ``set_backend_type``, a direct call with tensors and a ``pypto.runtime.RunConfig``,
then ``entry.compile(...)`` and a call of the compiled program."""

import argparse

import pypto.language as pl
import torch
from pypto.backend import BackendType, set_backend_type
from pypto.runtime import RunConfig

R = 16
C = 64


@pl.jit
def double_rows(x: pl.Tensor[[R, C], pl.FP32], y: pl.Out[pl.Tensor[[R, C], pl.FP32]]):
    with pl.spmd(2, name_hint="double"):
        b = pl.tile.get_block_idx()
        y[b * 8 : b * 8 + 8, :] = pl.mul(x[b * 8 : b * 8 + 8, :], 2.0)
    return y


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("-p", "--platform", default="a2a3")
    parser.add_argument("--a5", action="store_true")
    args = parser.parse_args()
    set_backend_type(BackendType.Ascend950 if args.a5 else BackendType.Ascend910B)
    x = torch.randn(R, C)
    y = torch.zeros(R, C)
    cfg = RunConfig(platform=args.platform, device_id=0, enable_l2_swimlane=2)
    double_rows(x, y, config=cfg)
    program = double_rows.compile(x, y, config=cfg)
    cpp = list(program.output_dir.rglob("*.cpp"))
    program(x, y, config=RunConfig(platform=args.platform))
    if not torch.isfinite(y).all() or cpp:
        raise SystemExit(3)
