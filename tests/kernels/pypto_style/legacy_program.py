"""A pypto-style kernel file in the older class-style form: a builder function makes a ``@pl.program``
class (string annotations naming the builder's ``rows``), whose Orchestration function calls an InCore
function twice, opens a ``pl.incore()`` scope and a ``pl.auto_incore()`` scope with a ``chunk=`` loop; the
harness is ``pypto.runtime.run`` with ``tensor_specs=`` and a flat ``RunConfig``."""

from __future__ import annotations

import argparse

import pypto.language as pl

ROWS = 32
COLS = 64


def build_program(rows: int = ROWS):
    @pl.program
    class LegacyProgram:
        @pl.function(type=pl.FunctionType.InCore)
        def double(self, x: pl.Tensor[[rows, COLS], pl.FP32], y: pl.Out[pl.Tensor[[rows, COLS], pl.FP32]]):
            t = pl.load(x, [0, 0], [rows, COLS])
            return pl.store(pl.mul(t, 2.0), [0, 0], y)

        @pl.function(type=pl.FunctionType.Orchestration)
        def main(
            self,
            x: pl.Tensor[[rows, COLS], pl.FP32],
            y: pl.Out[pl.Tensor[[rows, COLS], pl.FP32]],
            z: pl.Out[pl.Tensor[[rows, COLS], pl.FP32]],
        ) -> pl.Tensor[[rows, COLS], pl.FP32]:
            y = self.double(x, y)
            with pl.incore():
                y[:, :] = pl.add(y[:, :], 1.0)
            with pl.auto_incore():
                for r in pl.parallel(0, rows, 8, chunk=2):
                    z[r : r + 8, :] = pl.exp(y[r : r + 8, :])
            y = self.double(x, y)
            return y

    return LegacyProgram


def golden(tensors, params=None):
    tensors["z"][:] = (tensors["x"] * 2.0 + 1.0).exp()
    tensors["y"][:] = tensors["x"] * 2.0


if __name__ == "__main__":
    import torch
    from pypto.ir.pass_manager import OptimizationStrategy
    from pypto.runtime import RunConfig, TensorSpec, run

    parser = argparse.ArgumentParser()
    parser.add_argument("-p", "--platform", default="a2a3")
    args = parser.parse_args()
    specs = [
        TensorSpec("x", [ROWS, COLS], torch.float32, init_value=lambda: torch.randn(ROWS, COLS) * 0.1),
        TensorSpec("y", [ROWS, COLS], torch.float32, is_output=True),
        TensorSpec("z", [ROWS, COLS], torch.float32, is_output=True),
    ]
    run(program=build_program(), tensor_specs=specs, golden=golden,
        config=RunConfig(platform=args.platform, rtol=1e-4, atol=1e-4, strategy=OptimizationStrategy.Default,
                         enable_l2_swimlane=True))
