"""The torch stand-in on harness-sized data: ``searchsorted`` against short boundaries agrees with numpy's
binary search on every value (NaN and infinities included), ``torch.tensor`` copies its source while a
conversion to the dtype a tensor already has returns that tensor, as torch does."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels.pypto_files import torch_standin as torch


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(-8, 8, width=32), min_size=1, max_size=12, unique=True), st.integers(0, 2**31 - 1),
       st.booleans())
def test_searchsorted_on_many_values_matches_numpy(bounds: list[float], seed: int, right: bool) -> None:
    seq = np.sort(np.array(bounds, np.float32))
    rng = np.random.default_rng(seed)
    vals = (rng.standard_normal(1 << 17) * 4).astype(np.float32)
    vals[: seq.size] = seq  # values equal to a boundary decide the side
    vals[-3:] = [np.nan, np.inf, -np.inf]
    got = torch.searchsorted(torch.tensor(seq), torch.tensor(vals), right=right)
    want = np.searchsorted(seq, vals, side="right" if right else "left")
    np.testing.assert_array_equal(got.numpy(), want)
    assert got.dtype is torch.int64


def test_tensor_copies_its_source_and_to_the_same_dtype_is_the_tensor() -> None:
    src = np.arange(6, dtype=np.float32)
    t = torch.tensor(src)
    src[0] = 99.0
    assert t.numpy()[0] == 0.0
    assert t.to(torch.float32) is t and t.float() is t
    b = t.to(torch.bfloat16)
    assert b is not t and b.dtype is torch.bfloat16
