"""The torch stand-in's result dtypes follow torch's type promotion: dimensioned tensors outrank
zero-dim tensors, which outrank Python scalars; within a category the wider dtype wins (bfloat16 with
float16 or float32 gives float32); integer ``sum`` gives int64."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.pypto_files import torch_standin as torch

F = [torch.bfloat16, torch.float16, torch.float32]
I = [torch.int8, torch.int16, torch.int32, torch.int64]  # noqa: E741


def _t(dt, shape=(2,)):
    return torch.tensor(np.ones(shape, np.float32)).to(dt)


@pytest.mark.parametrize("a", F)
@pytest.mark.parametrize("b", F)
def test_float_tensors_promote_to_the_wider(a, b) -> None:
    want = a if a is b else torch.float32
    assert (_t(a) * _t(b)).dtype is want and (_t(b) + _t(a)).dtype is want


def test_bf16_weight_times_fp32_activation_stays_fp32() -> None:
    w = _t(torch.bfloat16, (4,))
    x = torch.tensor(np.full((1, 4), 1.001, np.float32))
    y = w * x
    assert y.dtype is torch.float32
    np.testing.assert_array_equal(np.asarray(y), np.float32(1.001))  # not rounded to bfloat16


@pytest.mark.parametrize("a", I)
def test_scalars_and_zero_dim_tensors_rank_below_dimensioned_tensors(a) -> None:
    assert (_t(a) * 2).dtype is a
    assert (_t(a) * 2.5).dtype is torch.float32  # a higher category: the default float
    assert (_t(torch.bfloat16) * 2.5).dtype is torch.bfloat16
    assert (_t(torch.bfloat16) * _t(torch.float32, ())).dtype is torch.bfloat16
    assert (_t(a) * _t(torch.float16, ())).dtype is torch.float16
    assert (_t(a) < 1).dtype is torch.bool


@pytest.mark.parametrize("a", [*I, torch.bool])
def test_integer_sum_is_int64(a) -> None:
    s = _t(a, (3, 2)).sum()
    assert s.dtype is torch.int64 and int(s) == 6


def test_bf16_rounding_in_place_matches_the_copy() -> None:
    import numpy as np

    from kernels.pypto_files.torch_tensor import _round_bf16

    rng = np.random.default_rng(1)
    a = np.concatenate([rng.standard_normal(4096).astype(np.float32) * 1e3,
                        np.array([np.inf, -np.inf, 3.4e38, -3.4e38, 0.0, -0.0, 1e-40, 1.00390625], np.float32)])
    kept = a.copy()
    copied = _round_bf16(a)
    assert np.array_equal(a.view(np.uint32), kept.view(np.uint32))  # not given up: left as it was
    assert not np.any(copied.view(np.uint32) & np.uint32(0xFFFF))  # low half cleared
    assert copied[-1] == np.float32(1.0)  # 1 + 2^-8 is halfway: to even
    mine = a.copy()
    assert _round_bf16(mine, own=True) is mine and np.array_equal(mine.view(np.uint32), copied.view(np.uint32))


def test_bf16_rounding_over_many_chunks_matches_the_whole_array_formula() -> None:
    import numpy as np

    from kernels.pypto_files import torch_tensor
    from kernels.pypto_files.torch_tensor import _round_bf16

    rng = np.random.default_rng(2)
    n = 3 * torch_tensor._ROUND_CHUNK + 17  # several chunks and a short last one
    a = rng.standard_normal((n // 17, 17)).astype(np.float32) * 100
    a.flat[::97] = np.float32(1.00390625)  # ties, to even
    u = a.view(np.uint32)
    want = ((u + ((u >> np.uint32(16)) & np.uint32(1)) + np.uint32(0x7FFF)) & np.uint32(0xFFFF0000)).view(np.float32)
    got = _round_bf16(a)
    assert got.shape == a.shape and np.array_equal(got.view(np.uint32), want.view(np.uint32))
    assert np.all(got.flat[::97] == np.float32(1.0))
    assert _round_bf16(np.zeros((0, 4), np.float32)).shape == (0, 4)
    assert _round_bf16(np.float32(1.00390625)) == np.float32(1.0)  # a 0-d value


def test_erf_keeps_the_dtype() -> None:
    import numpy as np

    from kernels.pypto_files import torch_standin as torch

    x = torch.tensor(np.array([0.0, 0.5, -1.0], np.float32))
    y = torch.erf(x)
    assert y.dtype is torch.float32 and y.a.dtype == np.float32
    assert np.allclose(y.a, [0.0, 0.5204999, -0.8427008]) and np.array_equal(x.erf().a, y.a)
