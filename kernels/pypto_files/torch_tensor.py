"""The torch stand-in's dtypes, seeded generators and numpy-backed ``Tensor`` (see
:mod:`kernels.pypto_files.torch_standin`). bfloat16 values are held as float32 rounded to bfloat16
precision; a tensor indexed with basic slices is a view, so in-place fills write through."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from kernels.dsl.values import BF16_CHUNK, bf16_round_chunks
from sim.util.errors import UserError
from sim.util.memory import allocation_message

_HINT = "is not available without torch (pip install 'swimsim[pypto]')"


class TorchUnavailable(UserError, AttributeError):
    """A torch name the stand-in does not provide."""


class dtype:  # noqa: N801 - torch's spelling
    """A torch dtype: its name and the numpy dtype holding its values."""

    def __init__(self, name: str, np_dtype: Any, is_floating_point: bool) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = is_floating_point

    def __repr__(self) -> str:
        return f"torch.{self.name}"


bfloat16 = dtype("bfloat16", np.float32, True)
float16 = half = dtype("float16", np.float16, True)
float32 = float = dtype("float32", np.float32, True)  # noqa: A001 - torch's alias
float64 = double = dtype("float64", np.float64, True)
int8 = dtype("int8", np.int8, False)
int16 = short = dtype("int16", np.int16, False)
int32 = int = dtype("int32", np.int32, False)  # noqa: A001 - torch's alias
int64 = long = dtype("int64", np.int64, False)
uint8 = dtype("uint8", np.uint8, False)
float8_e4m3fn = dtype("float8_e4m3fn", np.float32, True)  # held as float32, clipped to ±448
float8_e5m2 = dtype("float8_e5m2", np.float32, True)  # held as float32, clipped to ±57344
_FP8_MAX = {"float8_e4m3fn": 448.0, "float8_e5m2": 57344.0}
bool = dtype("bool", np.bool_, False)  # noqa: A001 - torch's alias
_BY_NP = {np.dtype(np.float32): float32, np.dtype(np.float16): float16, np.dtype(np.float64): float32,
          np.dtype(np.int8): int8, np.dtype(np.int16): int16, np.dtype(np.int32): int32,
          np.dtype(np.int64): int64, np.dtype(np.uint8): uint8, np.dtype(np.bool_): bool}

builtins_int = builtins.int
_rng = np.random.default_rng(0)


def manual_seed(seed: Any) -> None:
    """Reseed the stand-in's generator."""
    global _rng
    _rng = np.random.default_rng(builtins_int(seed))


def _round_bf16(a: np.ndarray, own: bool = False) -> np.ndarray:
    """float32 values rounded (nearest even) to bfloat16 precision; ``own``: ``a`` is a fresh array the
    caller gives up, rounded in place. Harness weights reach 10^8 elements, so the rounding runs in
    cache-sized chunks (:func:`kernels.dsl.values.bf16_round_chunks`): an array-sized temporary costs
    more in fresh (zeroed) pages than the arithmetic."""
    f = a if own and a.dtype == np.float32 and a.flags.c_contiguous and a.flags.writeable \
        else np.array(a, dtype=np.float32, order="C")
    return bf16_round_chunks(f, f, keep_nan=False)


_ROUND_CHUNK = BF16_CHUNK  # elements per pass of _round_bf16 (256 KiB of uint32)


def _as(a: Any, dt: dtype) -> np.ndarray:
    """``a`` held as ``dt``; an array that already is ``dt`` (and needs no rounding) is returned as it is,
    so wrapping a fresh result costs no copy (torch.tensor copies explicitly)."""
    arr = np.asarray(a)
    if not dt.is_floating_point and arr.dtype.kind == "f":
        arr = np.trunc(arr)
    with np.errstate(invalid="ignore", over="ignore"):
        out = arr.astype(dt.np, copy=False)
    if dt.name in _FP8_MAX:
        return np.clip(out, -_FP8_MAX[dt.name], _FP8_MAX[dt.name])
    return _round_bf16(out, own=out is not arr) if dt is bfloat16 else out


def _storage(dt: dtype) -> np.dtype:
    """The numpy dtype of ``dt``'s bytes on the device (bfloat16: 2-byte words)."""
    return np.dtype(np.uint16) if dt is bfloat16 else dt.np


def _to_bits(a: np.ndarray, dt: dtype) -> np.ndarray:
    """``a`` (held as ``dt``) as its device bytes, contiguous."""
    if dt is bfloat16:
        return (np.ascontiguousarray(a, dtype=np.float32).view(np.uint32) >> np.uint32(16)).astype(np.uint16)
    return np.ascontiguousarray(a, dtype=dt.np)


def _from_bits(bits: np.ndarray, dt: dtype) -> np.ndarray:
    """Device bytes of ``dt`` values as the held array (bfloat16: float32 with the low half zero)."""
    if dt is bfloat16:
        return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)
    return bits


CHECK_BYTES = 1 << 26  # a tensor this large or larger is checked against the machine's free memory (bytes)


def _dims(size: tuple[Any, ...]) -> tuple[builtins_int, ...]:
    """The shape a factory (randn, zeros, ...) was given; a tensor that would use up the machine's memory
    stops with one line instead of the out-of-memory killer ending the process."""
    if len(size) == 1 and isinstance(size[0], list | tuple):
        size = tuple(size[0])
    dims = tuple(builtins_int(s) for s in size)
    nbytes = 8 * builtins.float(np.prod(dims, dtype=np.float64))  # the widest temporary a factory makes (float64)
    if nbytes >= CHECK_BYTES:
        msg = allocation_message(nbytes, f"a harness tensor of shape {list(dims)}")
        if msg is not None:
            raise UserError(msg)
    return dims


def _unwrap(x: Any) -> Any:
    return x.a if isinstance(x, Tensor) else x


def _category(dt: Any) -> builtins_int:
    """torch's promotion category: 0 bool, 1 integer, 2 floating."""
    return 0 if dt is bool else 2 if dt.is_floating_point else 1


def _wider(a: Any, b: Any) -> Any:
    """The wider of two dtypes of one category (torch: bfloat16 with float16 -> float32)."""
    if a is b:
        return a
    if a.is_floating_point:
        return a if a is float32 else b if b is float32 else float32
    return a if np.dtype(a.np).itemsize >= np.dtype(b.np).itemsize else b


def _result_type(t: Any, other: Any) -> Any:
    """torch's result dtype of ``t`` (op) ``other``: dimensioned tensors outrank zero-dim tensors,
    which outrank Python scalars; a lower-priority operand only counts when its category is higher
    (a Python float then gives float32, a Python int int64)."""
    if isinstance(other, Tensor):
        if (t.a.ndim == 0) == (other.a.ndim == 0):
            ca, cb = _category(t.dtype), _category(other.dtype)
            return _wider(t.dtype, other.dtype) if ca == cb else t.dtype if ca > cb else other.dtype
        hi, lo = (t, other) if other.a.ndim == 0 else (other, t)
        return lo.dtype if _category(lo.dtype) > _category(hi.dtype) else hi.dtype
    if isinstance(other, builtins.bool | np.bool_):
        return t.dtype
    cat = 2 if isinstance(other, builtins.float | np.floating) else 1
    if cat > _category(t.dtype):
        return float32 if cat == 2 else int64
    return t.dtype


_IN_PLACE = {"add_": "__add__", "sub_": "__sub__", "mul_": "__mul__", "div_": "__truediv__",
             "pow_": "__pow__"}


class ValuesIndices(NamedTuple):
    """torch's (values, indices) result of ``max(dim)``, ``min(dim)``, ``sort``, ``topk``."""

    values: Tensor
    indices: Tensor


_MinMax = ValuesIndices  # (values, indices) of a reduction along a dim


class Tensor:
    """A numpy array with a torch dtype."""

    def __init__(self, a: Any, dt: dtype | None = None, raw: builtins.bool = False) -> None:
        arr = np.asarray(a)
        self.dtype = dt if dt is not None else _BY_NP.get(arr.dtype, float32)
        self.a = arr if raw else _as(arr, self.dtype)  # raw: a view of another tensor's values

    def __getattr__(self, name: str) -> Any:
        """In-place forms (``clamp_``, ``mul_``, ...) of the methods the stand-in has; else one line."""
        if name.startswith("__"):
            raise AttributeError(name)
        out_of_place = _IN_PLACE.get(name, name[:-1] if name.endswith("_") else "")
        if out_of_place and hasattr(type(self), out_of_place):
            method = getattr(self, out_of_place)
            return lambda *a, **kw: self._fill(_unwrap(method(*a, **kw)))
        raise TorchUnavailable(f"torch.Tensor.{name} {_HINT}")

    # shape
    @property
    def shape(self) -> tuple[builtins_int, ...]:
        return tuple(self.a.shape)

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def ndim(self) -> builtins_int:
        return self.a.ndim

    def dim(self) -> builtins_int:
        return self.a.ndim

    def size(self, d: builtins_int | None = None) -> Any:
        return self.shape if d is None else self.shape[d]

    def numel(self) -> builtins_int:
        return builtins_int(self.a.size)

    def __len__(self) -> builtins_int:
        return len(self.a)

    def reshape(self, *shape: Any) -> Tensor:
        return Tensor(self.a.reshape(_dims(shape)), self.dtype)

    def view(self, *shape: Any) -> Tensor:
        """A reshape, or with one dtype the same bytes reinterpreted (the last dim scales by the
        ratio of element sizes, as in torch)."""
        if len(shape) == 1 and isinstance(shape[0], dtype):
            if {self.dtype.name, shape[0].name} & set(_FP8_MAX):
                raise TorchUnavailable(f"torch.Tensor.view(float8 dtype) {_HINT}")
            return Tensor(_from_bits(_to_bits(self.a, self.dtype).view(_storage(shape[0])), shape[0]),
                          shape[0], raw=True)
        return self.reshape(*shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def flatten(self, start_dim: builtins_int = 0, end_dim: builtins_int = -1) -> Tensor:
        s = list(self.shape)
        end = end_dim % max(len(s), 1)
        return self.reshape(s[:start_dim] + [-1] + s[end + 1:])

    def unsqueeze(self, d: builtins_int) -> Tensor:
        return Tensor(np.expand_dims(self.a, d), self.dtype)

    def squeeze(self, d: builtins_int | None = None) -> Tensor:
        return Tensor(np.squeeze(self.a) if d is None else np.squeeze(self.a, d), self.dtype)

    def transpose(self, d0: builtins_int, d1: builtins_int) -> Tensor:
        return Tensor(np.swapaxes(self.a, d0, d1), self.dtype)

    def t(self) -> Tensor:
        return Tensor(self.a.T, self.dtype)

    @property
    def T(self) -> Tensor:  # noqa: N802 - torch's name
        return Tensor(self.a.T, self.dtype)

    def permute(self, *dims: Any) -> Tensor:
        return Tensor(np.transpose(self.a, _dims(dims)), self.dtype)

    def expand(self, *shape: Any) -> Tensor:
        dims = _dims(shape)
        lead = len(dims) - self.a.ndim
        full = tuple(self.a.shape[i - lead] if d == -1 else d for i, d in enumerate(dims))
        return Tensor(np.broadcast_to(self.a, full).copy(), self.dtype)

    def repeat(self, *reps: Any) -> Tensor:
        return Tensor(np.tile(self.a, _dims(reps)), self.dtype)

    # conversion
    def to(self, *args: Any, **kw: Any) -> Tensor:
        dt = kw.get("dtype") or next((x for x in args if isinstance(x, dtype)), None)
        return self if dt is None or dt is self.dtype else Tensor(_as(self.a, dt), dt)

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def half(self) -> Tensor:
        return self.to(float16)

    def bfloat16(self) -> Tensor:
        return self.to(bfloat16)

    def int(self) -> Tensor:
        return self.to(int32)

    def long(self) -> Tensor:
        return self.to(int64)

    def bool(self) -> Tensor:
        return self.to(bool)

    def numpy(self) -> np.ndarray:
        return self.a

    def tolist(self) -> Any:
        return self.a.tolist()

    def item(self) -> Any:
        return self.a.item()

    def clone(self) -> Tensor:
        return Tensor(self.a.copy(), self.dtype)

    def contiguous(self) -> Tensor:
        return self

    def detach(self) -> Tensor:
        return self

    def cpu(self) -> Tensor:
        return self

    # in place
    def _fill(self, values: Any) -> Tensor:
        self.a[...] = _as(np.broadcast_to(values, self.shape), self.dtype)
        return self

    def uniform_(self, a: Any = 0.0, b: Any = 1.0, **kw: Any) -> Tensor:
        return self._fill(_gen(kw).uniform(a, b, self.shape))

    def normal_(self, mean: Any = 0.0, std: Any = 1.0, **kw: Any) -> Tensor:
        return self._fill(_gen(kw).normal(mean, std, self.shape))

    def random_(self, low: Any = 0, high: Any = None, **kw: Any) -> Tensor:
        if high is None:
            low, high = 0, low if low else 2 ** 31
        return self._fill(_gen(kw).integers(low, high, self.shape))

    def fill_(self, v: Any) -> Tensor:
        return self._fill(_unwrap(v))

    def zero_(self) -> Tensor:
        return self._fill(0)

    def copy_(self, src: Any) -> Tensor:
        return self._fill(_unwrap(src))

    # elementwise and reductions
    def abs(self) -> Tensor:
        return Tensor(np.abs(self.a), self.dtype)

    def square(self) -> Tensor:
        return Tensor(np.square(self.a), self.dtype)

    def sqrt(self) -> Tensor:
        return Tensor(np.sqrt(self.a), self.dtype)

    def exp(self) -> Tensor:
        return Tensor(np.exp(self.a), self.dtype)

    def cos(self) -> Tensor:
        return Tensor(np.cos(self.a), self.dtype)

    def sin(self) -> Tensor:
        return Tensor(np.sin(self.a), self.dtype)

    def round(self) -> Tensor:
        return Tensor(np.round(self.a), self.dtype)

    def floor(self) -> Tensor:
        return Tensor(np.floor(self.a), self.dtype)

    def ceil(self) -> Tensor:
        return Tensor(np.ceil(self.a), self.dtype)

    def log(self) -> Tensor:
        return Tensor(np.log(self.a), self.dtype)

    def log2(self) -> Tensor:
        return Tensor(np.log2(self.a), self.dtype)

    def tanh(self) -> Tensor:
        return Tensor(np.tanh(self.a), self.dtype)

    def erf(self) -> Tensor:
        from scipy import special  # only harnesses that ask for erf pay for scipy's import

        return Tensor(special.erf(self.a).astype(self.a.dtype, copy=False), self.dtype)

    def sign(self) -> Tensor:
        return Tensor(np.sign(self.a), self.dtype)

    def reciprocal(self) -> Tensor:
        return Tensor(1.0 / self.a, self.dtype)

    def neg(self) -> Tensor:
        return Tensor(-self.a, self.dtype)

    def argmax(self, dim: Any = None, keepdim: builtins.bool = False) -> Tensor:
        r = np.argmax(self.a, axis=dim)
        return Tensor(np.expand_dims(r, dim) if keepdim and dim is not None else r, int64)

    def gather(self, dim: builtins_int, index: Any) -> Tensor:
        return Tensor(np.take_along_axis(self.a, np.asarray(_unwrap(index)), axis=dim), self.dtype)

    def cumsum(self, dim: builtins_int) -> Tensor:
        return Tensor(np.cumsum(self.a, axis=dim), self.dtype)

    def rsqrt(self) -> Tensor:
        return Tensor(1.0 / np.sqrt(self.a), self.dtype)

    def sigmoid(self) -> Tensor:
        return Tensor(1.0 / (1.0 + np.exp(-self.a)), self.dtype)

    def softmax(self, dim: builtins.int = -1, **_kw: Any) -> Tensor:
        e = np.exp(self.a - self.a.max(axis=dim, keepdims=True))
        return Tensor(e / e.sum(axis=dim, keepdims=True), self.dtype)

    def exp2(self) -> Tensor:
        return Tensor(np.exp2(self.a), self.dtype)

    def any(self, dim: Any = None, keepdim: builtins.bool = False) -> Tensor:
        return Tensor(np.any(self.a, axis=dim, keepdims=keepdim), bool)

    def all(self, dim: Any = None, keepdim: builtins.bool = False) -> Tensor:
        return Tensor(np.all(self.a, axis=dim, keepdims=keepdim), bool)

    def isfinite(self) -> Tensor:
        return Tensor(np.isfinite(self.a), bool)

    def isnan(self) -> Tensor:
        return Tensor(np.isnan(self.a), bool)

    def __bool__(self) -> builtins.bool:
        return builtins.bool(self.a)

    def __eq__(self, o: Any) -> Tensor:  # type: ignore[override]
        return self._bin(o, np.equal)

    def __ne__(self, o: Any) -> Tensor:  # type: ignore[override]
        return self._bin(o, np.not_equal)

    __hash__ = object.__hash__

    def index_select(self, dim: builtins_int, index: Any) -> Tensor:
        return Tensor(np.take(self.a, np.asarray(_unwrap(index)), axis=dim), self.dtype)

    def __matmul__(self, o: Any) -> Tensor:
        return self._bin(o, np.matmul)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - torch's names
        return Tensor(np.clip(self.a, _unwrap(min), _unwrap(max)), self.dtype)

    def clamp_min(self, v: Any) -> Tensor:
        return self.clamp(min=v)

    def clamp_max(self, v: Any) -> Tensor:
        return self.clamp(max=v)

    def _reduce(self, f: Callable[..., Any], dim: Any, keepdim: builtins_int) -> Tensor:
        return Tensor(f(self.a, axis=dim, keepdims=keepdim), self.dtype)

    def amax(self, dim: Any = None, keepdim: builtins_int = False) -> Tensor:
        return self._reduce(np.max, dim, keepdim)

    def amin(self, dim: Any = None, keepdim: builtins_int = False) -> Tensor:
        return self._reduce(np.min, dim, keepdim)

    def sum(self, dim: Any = None, keepdim: builtins_int = False) -> Tensor:
        if not self.dtype.is_floating_point:  # torch sums bool and integer tensors as int64
            return Tensor(np.sum(self.a, axis=dim, keepdims=keepdim, dtype=np.int64), int64)
        return self._reduce(np.sum, dim, keepdim)

    def max(self, dim: Any = None, keepdim: builtins_int = False) -> Any:
        return self._extreme(np.max, np.argmax, np.maximum, dim, keepdim)

    def min(self, dim: Any = None, keepdim: builtins_int = False) -> Any:
        return self._extreme(np.min, np.argmin, np.minimum, dim, keepdim)

    def _extreme(self, f: Callable[..., Any], arg: Callable[..., Any], pair: Callable[..., Any], dim: Any,
                 keepdim: builtins_int) -> Any:
        """torch's max/min: of all elements, of another tensor (elementwise), or (values, indices) along dim."""
        if dim is None:
            return Tensor(f(self.a), self.dtype)
        if isinstance(dim, Tensor):
            return Tensor(pair(self.a, dim.a), self.dtype)
        idx = np.expand_dims(arg(self.a, axis=dim), dim)
        vals = np.take_along_axis(self.a, idx, dim)
        if not keepdim:
            vals, idx = np.squeeze(vals, dim), np.squeeze(idx, dim)
        return _MinMax(Tensor(vals, self.dtype), Tensor(idx, int64))

    def mean(self, dim: Any = None, keepdim: builtins_int = False) -> Tensor:
        return self._reduce(np.mean, dim, keepdim)

    def repeat_interleave(self, repeats: Any, dim: Any = None) -> Tensor:
        a = self.a.reshape(-1) if dim is None else self.a
        return Tensor(np.repeat(a, _unwrap(repeats), axis=0 if dim is None else dim), self.dtype)

    def sort(self, dim: builtins_int = -1, descending: builtins.bool = False) -> ValuesIndices:
        idx = np.argsort(-self.a if descending else self.a, axis=dim, kind="stable")
        return ValuesIndices(Tensor(np.take_along_axis(self.a, idx, axis=dim), self.dtype), Tensor(idx, int64))

    def argsort(self, dim: builtins_int = -1, descending: builtins.bool = False) -> Tensor:
        return self.sort(dim, descending)[1]

    def topk(self, k: builtins_int, dim: builtins_int = -1, largest: builtins.bool = True,
             sorted: builtins.bool = True) -> ValuesIndices:  # noqa: A002 - torch's name
        v, i = self.sort(dim, descending=largest)
        key = [builtins.slice(None)] * self.ndim
        key[dim] = builtins.slice(0, k)
        return ValuesIndices(Tensor(v.a[tuple(key)], self.dtype), Tensor(i.a[tuple(key)], int64))

    def nonzero(self, as_tuple: builtins.bool = False) -> Any:
        nz = np.nonzero(self.a)
        return tuple(Tensor(x, int64) for x in nz) if as_tuple else Tensor(np.stack(nz, axis=-1), int64)

    def pow(self, o: Any) -> Tensor:
        return self._bin(o, np.power)

    def std(self, dim: Any = None, keepdim: builtins.bool = False, *, correction: builtins_int = 1,
            unbiased: builtins.bool | None = None) -> Tensor:
        ddof = builtins_int(unbiased) if unbiased is not None else correction
        return Tensor(np.std(self.a, axis=dim, keepdims=keepdim, ddof=ddof), self.dtype)

    def var(self, dim: Any = None, keepdim: builtins.bool = False, *, correction: builtins_int = 1,
            unbiased: builtins.bool | None = None) -> Tensor:
        ddof = builtins_int(unbiased) if unbiased is not None else correction
        return Tensor(np.var(self.a, axis=dim, keepdims=keepdim, ddof=ddof), self.dtype)

    def prod(self, dim: Any = None, keepdim: builtins_int = False) -> Tensor:
        return self._reduce(np.prod, dim, keepdim)

    def unflatten(self, dim: builtins_int, sizes: Any) -> Tensor:
        s = list(self.shape)
        d = dim % len(s)
        return self.reshape(s[:d] + list(sizes) + s[d + 1:])

    def chunk(self, n: builtins_int, dim: builtins_int = 0) -> tuple[Tensor, ...]:
        step = -(-self.shape[dim] // n)
        return self.split(step, dim)

    def split(self, size: Any, dim: builtins_int = 0) -> tuple[Tensor, ...]:
        total = self.shape[dim]
        sizes = [size] * (total // size) + ([total % size] if total % size else []) if isinstance(
            size, builtins_int) else list(size)
        out, start = [], 0
        for n in sizes:
            key = [builtins.slice(None)] * self.ndim
            key[dim] = builtins.slice(start, start + n)
            out.append(self[tuple(key)])
            start += n
        return tuple(out)

    def narrow(self, dim: builtins_int, start: builtins_int, length: builtins_int) -> Tensor:
        key = [builtins.slice(None)] * self.ndim
        key[dim] = builtins.slice(start, start + length)
        return self[tuple(key)]

    def flip(self, dims: Any) -> Tensor:
        return Tensor(np.flip(self.a, axis=dims), self.dtype)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        return Tensor(np.where(_unwrap(mask), _unwrap(value), self.a), self.dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def new_zeros(self, *size: Any, dtype: dtype | None = None, **_kw: Any) -> Tensor:
        return Tensor(np.zeros(_dims(size)), dtype or self.dtype)

    def new_ones(self, *size: Any, dtype: dtype | None = None, **_kw: Any) -> Tensor:
        return Tensor(np.ones(_dims(size)), dtype or self.dtype)

    def new_full(self, size: Any, fill_value: Any, dtype: dtype | None = None, **_kw: Any) -> Tensor:
        return Tensor(np.full(_dims((size,)), _unwrap(fill_value)), dtype or self.dtype)

    def element_size(self) -> builtins_int:
        return 2 if self.dtype is bfloat16 else 1 if self.dtype.name in _FP8_MAX else self.dtype.np.itemsize

    def is_floating_point(self) -> builtins.bool:
        return self.dtype.is_floating_point

    def __getitem__(self, key: Any) -> Tensor:
        return Tensor(self.a[_unwrap(key)], self.dtype, raw=True)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.a[_unwrap(key)] = _as(_unwrap(value), self.dtype)

    def _bin(self, other: Any, f: Callable[..., Any], reverse: builtins_int = False) -> Tensor:
        o = _unwrap(other)
        r = f(o, self.a) if reverse else f(self.a, o)
        if np.asarray(r).dtype == np.bool_:
            return Tensor(r, bool)
        return Tensor(r, _result_type(self, other))

    def add(self, o: Any) -> Tensor:
        return self._bin(o, np.add)

    def sub(self, o: Any) -> Tensor:
        return self._bin(o, np.subtract)

    def mul(self, o: Any) -> Tensor:
        return self._bin(o, np.multiply)

    def div(self, o: Any) -> Tensor:
        return self._bin(o, np.true_divide)

    def __add__(self, o: Any) -> Tensor:
        return self._bin(o, np.add)

    def __radd__(self, o: Any) -> Tensor:
        return self._bin(o, np.add, True)

    def __sub__(self, o: Any) -> Tensor:
        return self._bin(o, np.subtract)

    def __rsub__(self, o: Any) -> Tensor:
        return self._bin(o, np.subtract, True)

    def __mul__(self, o: Any) -> Tensor:
        return self._bin(o, np.multiply)

    def __rmul__(self, o: Any) -> Tensor:
        return self._bin(o, np.multiply, True)

    def __truediv__(self, o: Any) -> Tensor:
        return self._bin(o, np.true_divide)

    def __rtruediv__(self, o: Any) -> Tensor:
        return self._bin(o, np.true_divide, True)

    def __floordiv__(self, o: Any) -> Tensor:
        return self._bin(o, np.floor_divide)

    def __mod__(self, o: Any) -> Tensor:
        return self._bin(o, np.mod)

    def __pow__(self, o: Any) -> Tensor:
        return self._bin(o, np.power)

    def __rpow__(self, o: Any) -> Tensor:
        return self._bin(o, np.power, True)

    def _bits(self, o: Any, logical: Callable[..., Any], bitwise: Callable[..., Any],
              reverse: builtins_int = False) -> Tensor:
        """``&``, ``|``, ``^``: the logical ufunc on a bool tensor, the bitwise one otherwise (as torch)."""
        return self._bin(o, logical if self.dtype is bool else bitwise, reverse)

    def __and__(self, o: Any) -> Tensor:
        return self._bits(o, np.logical_and, np.bitwise_and)

    def __or__(self, o: Any) -> Tensor:
        return self._bits(o, np.logical_or, np.bitwise_or)

    def __xor__(self, o: Any) -> Tensor:
        return self._bits(o, np.logical_xor, np.bitwise_xor)

    def __rand__(self, o: Any) -> Tensor:
        return self._bits(o, np.logical_and, np.bitwise_and, True)

    def __ror__(self, o: Any) -> Tensor:
        return self._bits(o, np.logical_or, np.bitwise_or, True)

    def __rxor__(self, o: Any) -> Tensor:
        return self._bits(o, np.logical_xor, np.bitwise_xor, True)

    def __lshift__(self, o: Any) -> Tensor:
        return self._bin(o, np.left_shift)

    def __rlshift__(self, o: Any) -> Tensor:
        return self._bin(o, np.left_shift, True)

    def __rshift__(self, o: Any) -> Tensor:
        return self._bin(o, np.right_shift)

    def __rrshift__(self, o: Any) -> Tensor:
        return self._bin(o, np.right_shift, True)

    def __invert__(self) -> Tensor:
        return Tensor(~self.a, self.dtype)

    def __neg__(self) -> Tensor:
        return Tensor(-self.a, self.dtype)

    def __lt__(self, o: Any) -> Tensor:
        return self._bin(o, np.less)

    def __le__(self, o: Any) -> Tensor:
        return self._bin(o, np.less_equal)

    def __gt__(self, o: Any) -> Tensor:
        return self._bin(o, np.greater)

    def __ge__(self, o: Any) -> Tensor:
        return self._bin(o, np.greater_equal)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.a if dtype is None else self.a.astype(dtype)

    def __index__(self) -> builtins_int:
        return builtins_int(self.a.item())

    def __int__(self) -> builtins_int:
        return builtins_int(self.a.item())

    def __float__(self) -> Any:
        return self.a.item() * 1.0

    def __repr__(self) -> str:
        return f"tensor(shape={self.shape}, dtype={self.dtype})"



class Generator:
    """``torch.Generator``: its own seeded stream, passed as ``generator=``."""

    def __init__(self, device: Any = None) -> None:
        self.rng = np.random.default_rng(0)

    def manual_seed(self, seed: Any) -> Generator:
        self.rng = np.random.default_rng(builtins_int(seed))
        return self


def device(*_a: Any, **_kw: Any) -> None:
    """``torch.device``: the stand-in has only the host."""
    return None


def _gen(kw: dict[str, Any]) -> np.random.Generator:
    g = kw.get("generator")
    return g.rng if isinstance(g, Generator) else _rng

