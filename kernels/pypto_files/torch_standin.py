"""A numpy-backed stand-in for the few ``torch`` calls kernel harnesses make to create inputs.

Installed as ``torch`` while a pypto kernel file runs and torch is not installed. It covers dtypes,
tensor creation (randn, rand, zeros, ones, arange, full, randint, tensor, ...) and basic arithmetic
and shaping; any other name raises :class:`TorchUnavailable` naming it. bfloat16 values are held
as float32 rounded to bfloat16 precision.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from kernels.pypto_files.torch_tensor import (  # noqa: F401 - the torch names the stand-in provides
    _HINT,
    Generator,
    Tensor,
    TorchUnavailable,
    _dims,
    _gen,
    _unwrap,
    bfloat16,
    bool,
    builtins_int,
    device,
    double,
    dtype,
    float,
    float8_e4m3fn,
    float8_e5m2,
    float16,
    float32,
    float64,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    manual_seed,
    short,
    uint8,
)

Size = tuple


def _make(a: Any, dt: dtype | None, default: dtype = float32) -> Tensor:
    return Tensor(a, dt or default)


def randn(*size: Any, dtype: dtype | None = None, **kw: Any) -> Tensor:
    return _make(_gen(kw).standard_normal(_dims(size), dtype=np.float32), dtype)


def rand(*size: Any, dtype: dtype | None = None, **kw: Any) -> Tensor:
    return _make(_gen(kw).random(_dims(size), dtype=np.float32), dtype)


def randint(low: Any, high: Any = None, size: Any = None, dtype: dtype | None = None, **kw: Any) -> Tensor:
    if high is None:
        low, high = 0, low
    return _make(_gen(kw).integers(low, high, size=_dims((size,))), dtype, int64)


def randperm(n: builtins_int, dtype: dtype | None = None, **kw: Any) -> Tensor:
    return _make(_gen(kw).permutation(n), dtype, int64)


def zeros(*size: Any, dtype: dtype | None = None, **_kw: Any) -> Tensor:
    return _make(np.zeros(_dims(size)), dtype)


def ones(*size: Any, dtype: dtype | None = None, **_kw: Any) -> Tensor:
    return _make(np.ones(_dims(size)), dtype)


empty = zeros


def full(size: Any, fill_value: Any, dtype: dtype | None = None, **_kw: Any) -> Tensor:
    default = float32 if isinstance(fill_value, builtins.float) else int64
    return _make(np.full(_dims((size,)), fill_value), dtype, default)


def zeros_like(t: Tensor, dtype: dtype | None = None, **_kw: Any) -> Tensor:
    return Tensor(np.zeros(t.shape), dtype or t.dtype)


def ones_like(t: Tensor, dtype: dtype | None = None, **_kw: Any) -> Tensor:
    return Tensor(np.ones(t.shape), dtype or t.dtype)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: dtype | None = None, **_kw: Any) -> Tensor:
    if end is None:
        start, end = 0, start
    a = np.arange(start, end, step)
    return _make(a, dtype, int64 if a.dtype.kind in "iu" else float32)


def _array(data: Any) -> Any:
    """The values of ``data`` (a tensor, an array, a number or a list of them), without a copy where possible."""
    return np.asarray([_unwrap(x) for x in data]) if isinstance(data, list) else _unwrap(data)


def as_tensor(data: Any, dtype: dtype | None = None, **_kw: Any) -> Tensor:
    """``data`` as a tensor, sharing its values where the dtype allows (a tensor of that dtype is returned)."""
    if isinstance(data, Tensor) and (dtype is None or dtype is data.dtype):
        return data
    return Tensor(_array(data), dtype)


def tensor(data: Any, dtype: dtype | None = None, **_kw: Any) -> Tensor:
    """A tensor holding a copy of ``data``'s values."""
    return Tensor(np.array(_array(data)), dtype)


def _unary(f: Callable[[np.ndarray], np.ndarray]) -> Callable[[Tensor], Tensor]:
    return lambda t: Tensor(f(t.a), t.dtype)


cos, sin, exp, sqrt, abs, round = (_unary(f) for f in (np.cos, np.sin, np.exp, np.sqrt, np.abs, np.round))  # noqa: A001
log2, ceil, floor, tanh, sign, square = (_unary(f) for f in (np.log2, np.ceil, np.floor, np.tanh, np.sign,
                                                            np.square))
relu = _unary(lambda a: np.maximum(a, 0))


def _test(f: Callable[[np.ndarray], np.ndarray]) -> Callable[[Tensor], Tensor]:
    return lambda t: Tensor(f(t.a), bool)


isfinite, isnan, isinf = (_test(f) for f in (np.isfinite, np.isnan, np.isinf))


def erf(t: Tensor) -> Tensor:
    return t.erf()


def full_like(t: Tensor, fill_value: Any, dtype: dtype | None = None, **_kw: Any) -> Tensor:
    return Tensor(np.full(t.shape, _unwrap(fill_value)), dtype or t.dtype)


def empty_like(t: Tensor, dtype: dtype | None = None, **_kw: Any) -> Tensor:
    return zeros_like(t, dtype)


def rand_like(t: Tensor, dtype: dtype | None = None, **kw: Any) -> Tensor:
    return Tensor(_gen(kw).random(t.shape, dtype=np.float32), dtype or t.dtype)


def randn_like(t: Tensor, dtype: dtype | None = None, **kw: Any) -> Tensor:
    return Tensor(_gen(kw).standard_normal(t.shape, dtype=np.float32), dtype or t.dtype)


def amax(t: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: FBT001
    return t.amax(dim, keepdim)


def amin(t: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: FBT001
    return t.amin(dim, keepdim)




def clamp(t: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return t.clamp(min, max)


def cat(ts: list[Tensor], dim: builtins_int = 0) -> Tensor:
    return Tensor(np.concatenate([t.a for t in ts], axis=dim), ts[0].dtype)


def stack(ts: list[Tensor], dim: builtins_int = 0) -> Tensor:
    return Tensor(np.stack([t.a for t in ts], axis=dim), ts[0].dtype)


def outer(a: Tensor, b: Tensor) -> Tensor:
    return a._bin(b.a, np.outer)  # noqa: SLF001


def where(cond: Any, a: Any, b: Any) -> Tensor:
    dt = a.dtype if isinstance(a, Tensor) else b.dtype if isinstance(b, Tensor) else float32
    return Tensor(np.where(_unwrap(cond), _unwrap(a), _unwrap(b)), dt)


def bincount(t: Tensor, weights: Any = None, minlength: builtins_int = 0) -> Tensor:
    return Tensor(np.bincount(t.a, None if weights is None else _unwrap(weights), minlength), int64)


def log(t: Tensor) -> Tensor:
    return t.log()


def gather(t: Tensor, dim: builtins_int, index: Any) -> Tensor:
    return t.gather(dim, index)


def cumsum(t: Tensor, dim: builtins_int) -> Tensor:
    return t.cumsum(dim)


def rsqrt(t: Tensor) -> Tensor:
    return t.rsqrt()


def sigmoid(t: Tensor) -> Tensor:
    return t.sigmoid()


def maximum(a: Tensor, b: Any) -> Tensor:
    return a._bin(b, np.maximum)  # noqa: SLF001


def minimum(a: Tensor, b: Any) -> Tensor:
    return a._bin(b, np.minimum)  # noqa: SLF001


def softmax(t: Tensor, dim: builtins_int = -1, **_kw: Any) -> Tensor:
    return t.softmax(dim)


def nonzero(t: Tensor, as_tuple: builtins.bool = False) -> Any:
    return t.nonzero(as_tuple=as_tuple)


def einsum(spec: str, *ts: Any) -> Tensor:
    ts = ts[0] if len(ts) == 1 and isinstance(ts[0], list | tuple) else ts
    return Tensor(np.einsum(spec, *[_unwrap(t) for t in ts]), ts[0].dtype if isinstance(ts[0], Tensor) else float32)


def exp2(t: Any) -> Tensor:
    return t.exp2() if isinstance(t, Tensor) else Tensor(np.exp2(_unwrap(t)), float32)


def repeat_interleave(t: Tensor, repeats: Any, dim: Any = None) -> Tensor:
    return t.repeat_interleave(repeats, dim)


def bucketize(values: Any, boundaries: Tensor, right: bool = False, out_int32: bool = False) -> Tensor:  # noqa: FBT001
    """torch's convention: ``right=False`` gives the index i with boundaries[i-1] < v <= boundaries[i]."""
    r = np.searchsorted(boundaries.a, _unwrap(values), side="right" if right else "left")
    return Tensor(r, int32 if out_int32 else int64)


def _count_below(seq: np.ndarray, vals: np.ndarray, side: str) -> np.ndarray:
    """``np.searchsorted(seq, vals, side)`` for a short ``seq`` and many float values, as a count of the
    boundaries below each value (left: seq < v; right: seq <= v; NaN sorts last): one vectorised compare per
    boundary, faster than a binary search per value on harness-sized arrays."""
    count = np.zeros(vals.shape, np.int64)
    for b in seq:
        count += (vals > b) if side == "left" else (vals >= b)
    nan = np.isnan(vals)
    if nan.any():
        count[nan] = seq.size
    return count


def searchsorted(sorted_sequence: Tensor, values: Any, right: bool = False, out_int32: bool = False,  # noqa: FBT001
                 side: str | None = None) -> Tensor:
    side = side or ("right" if right else "left")
    seq = sorted_sequence.a
    vals = np.asarray(_unwrap(values))
    if seq.ndim == 1 and seq.size <= 32 and vals.size > 1 << 16 and vals.dtype.kind == "f" \
            and not np.isnan(seq).any():
        r = _count_below(seq, vals, side)
    elif seq.ndim == 1:
        r = np.searchsorted(seq, vals, side=side)
    else:
        r = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(seq.reshape(-1, seq.shape[-1]),
                                                                       vals.reshape(-1, vals.shape[-1]),
                                                                       strict=True)]).reshape(vals.shape)
    return Tensor(r, int32 if out_int32 else int64)


def sort(t: Tensor, dim: builtins_int = -1, descending: bool = False) -> Any:  # noqa: FBT001
    return t.sort(dim, descending)


def argsort(t: Tensor, dim: builtins_int = -1, descending: bool = False) -> Tensor:  # noqa: FBT001
    return t.argsort(dim, descending)


def topk(t: Tensor, k: builtins_int, dim: builtins_int = -1, largest: bool = True,  # noqa: FBT001
         sorted: bool = True) -> Any:  # noqa: A002, FBT001
    return t.topk(k, dim, largest, sorted)


def linspace(start: Any, end: Any, steps: builtins_int, dtype: dtype | None = None, **_kw: Any) -> Tensor:
    return _make(np.linspace(start, end, steps), dtype)


def eye(n: builtins_int, m: builtins_int | None = None, dtype: dtype | None = None, **_kw: Any) -> Tensor:
    return _make(np.eye(n, m), dtype)


def tril(t: Tensor, diagonal: builtins_int = 0) -> Tensor:
    return Tensor(np.tril(t.a, diagonal), t.dtype)


def triu(t: Tensor, diagonal: builtins_int = 0) -> Tensor:
    return Tensor(np.triu(t.a, diagonal), t.dtype)


def matmul(a: Tensor, b: Any) -> Tensor:
    return a @ b


def is_tensor(x: Any) -> builtins_int:
    return isinstance(x, Tensor)


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise TorchUnavailable(f"torch.{name} {_HINT}")
