"""The torch stand-in on harness-sized data: ``searchsorted`` against short boundaries agrees with numpy's
binary search on every value (NaN and infinities included), ``torch.tensor`` copies its source while a
conversion to the dtype a tensor already has returns that tensor, as torch does."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels.pypto_files import torch_standin as torch
from sim.util import memory
from sim.util.errors import UserError


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


def test_a_harness_tensor_that_would_use_up_the_memory_stops_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_meminfo_mib", lambda: (600.0, 16384.0))  # 600 MiB of 16 GiB left
    with pytest.raises(UserError) as err:
        torch.randn(8192, 4096)  # 32 Mi elements: up to 256 MiB while it is made
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("a harness tensor of shape [8192, 4096] needs up to 256 MiB and the machine has 600 MiB "
                          "of 16,384 MiB left")
    with pytest.raises(UserError, match=r"shape \[64, 1048576\]"):
        torch.zeros((64, 1 << 20), dtype=torch.bfloat16)
    monkeypatch.setattr(memory, "_meminfo_mib", lambda: (1.0, 16384.0))
    assert torch.randn(16, 16).shape == (16, 16)  # small tensors are not checked
