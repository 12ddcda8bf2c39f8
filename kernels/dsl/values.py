"""Value mode: the numbers a recorded kernel computes, with numpy, as its ops are recorded.

With value mode on (``pl.record(..., values=True)``; ``swimsim run FILE.py`` turns it on unless
``--no-values``) every tile carries a numpy array (``Tile.value``, the tile's full shape) and every GM
buffer a backing array (``GMBase.data``): loads read it, stores write it, ``pl.read`` returns the real
element. Control flow that depends on device-produced data (loop trip counts, branches, offsets read
with ``pl.read``) therefore records the tasks the data dictates.

Numeric rules (docs/model.md, "Value mode"):

* storage: BF16, FP16 and FP32 values are float32 arrays holding numbers representable in the
  tile's format; integer formats use their numpy integer type (INDEX, TASK_ID: int64; BOOL: bool).
* an op computes in float32 (integers: their own type) and rounds its result to the output format:
  FP16 with numpy's float16 (round to nearest even), BF16 by round-to-nearest-even on the float32 bits.
* ``pl.cast`` modes: ``rint`` / ``none`` round to nearest even, ``round`` rounds half away from zero,
  ``floor``, ``ceil``, ``trunc``, ``odd`` (round to odd). Float -> integer saturates to the target
  range (NaN -> 0); integer -> integer saturates.
* reductions reduce the valid region in float32 (numpy's pairwise order); ``row_argmax`` / ``row_argmin``
  give the lowest index of equal extremes.
* elements outside a tile's valid region (and a fresh buffer) are 0 until ``pl.fillpad`` sets them: a stale
  buffer's content is not modelled, and 0 keeps the padding of a matmul operand out of the valid result.
* ``pl.sort32`` sorts every 32-element block of a row by descending score, stable (equal scores keep
  their index order); its output interleaves (score, index) with the INT32 index bits in the odd lanes.
  ``pl.mrgsort`` merges runs descending; equal scores keep the earlier run's element first.
* ``pl.gather`` / ``pl.scatter`` with an index outside the source/destination row stop with one line;
  a scatter that writes one lane twice keeps the last write.

An op without value semantics gives an :class:`Unknown` value naming it and its kernel ``file:line``;
nothing fails until a value is needed (``pl.read``, a data-dependent cost, the golden check), which then
stops with that one line. A GM element nobody wrote (an input without data, an intermediate before its
store) is unknown the same way: no read returns a made-up zero. Unknown is tracked per element where an
op's rule allows (:data:`MASK_RULES`: a tile's :class:`Partial` mask), else per tile.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from kernels.dsl.context import current
from kernels.dsl.types import DataType
from sim.util.paths import shown

_DSL_DIR = os.path.dirname(os.path.abspath(__file__))
_LANGUAGE = os.path.join(os.path.dirname(_DSL_DIR), "language.py")

STORAGE: dict[str, Any] = {
    "BF16": np.float32, "FP16": np.float32, "FP32": np.float32, "INT8": np.int8, "UINT8": np.uint8,
    "INT16": np.int16, "INT32": np.int32, "INT64": np.int64, "UINT32": np.uint32, "INDEX": np.int64,
    "TASK_ID": np.int64, "BOOL": np.bool_,
}
_FLOATS = ("BF16", "FP16", "FP32")


class _State:
    """Whether value mode is on for the recording in progress, and the GM buffers' known-masks."""

    on = False
    # an intermediate GM buffer's elements before any store: unknown, or 0 (zero_unwritten, the
    # loader's second try when a decision needs one of them)
    zero_unwritten = False
    # id(GMBase) -> (base, mask of known elements or None when all are known, why the rest is unknown)
    masks: dict[int, tuple[Any, Any, str]] = {}


STATE = _State()
UNWRITTEN = "element read before any store wrote it"  # why an unwritten intermediate element is unknown
NO_DATA: dict[str, str] = {}  # entry parameter -> why the caller could not give its data (in the unknown reason)


def begin(on: bool) -> bool:
    """Start a recording with value mode ``on``; returns the previous setting (for :func:`end`)."""
    prev = STATE.on
    STATE.on = bool(on)
    STATE.masks = {}
    return prev


def end(prev: bool) -> None:
    """Restore the value-mode setting :func:`begin` returned."""
    STATE.on = prev


class Unknown:
    """A value that is not computed: ``why`` names the op (or the unwritten data) and its ``file:line``."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why

    def __repr__(self) -> str:
        return f"Unknown({self.why})"


class Partial:
    """The unknown elements of a tile whose other elements are known: ``m`` (True = unknown, the tile's
    shape) and ``why`` (the reason of the first unknown input)."""

    __slots__ = ("m", "why")

    def __init__(self, m: np.ndarray, why: str) -> None:
        self.m = m
        self.why = why


class ValueError_(Exception):
    """Raised by a table entry for an operand it cannot compute (becomes an :class:`Unknown`)."""


# ids of the recorder's code objects (kernels/dsl, language.py): module code lives as long as the process,
# so none of these ids is reused by another object
_DSL_CODE: set[int] = set()


def _kernel_frame() -> Any:
    """The innermost kernel frame (outside ``kernels/dsl`` and ``kernels/language.py``), or None; the
    recorder's code objects are remembered by id."""
    f = sys._getframe(2)
    dsl = _DSL_CODE
    while f is not None:
        code = f.f_code
        if id(code) not in dsl:
            fn = code.co_filename
            if not (fn.startswith(_DSL_DIR) or fn == _LANGUAGE):
                return f
            dsl.add(id(code))
        f = f.f_back
    return None


def kernel_line() -> str:
    """``file:line`` of the innermost kernel frame (outside ``kernels/dsl`` and ``kernels/language.py``)."""
    f = _kernel_frame()
    return "?" if f is None else f"{shown(f.f_code.co_filename)}:{f.f_lineno}"


def _line_of(code: Any, lasti: int) -> int:
    """The source line of the instruction at byte offset ``lasti`` of ``code``."""
    for start, end, line in code.co_lines():
        if start <= lasti < end and line is not None:
            return line
    return code.co_firstlineno


class _NoSemantics(Unknown):
    """:func:`no_semantics`'s value: the op and where the kernel recorded it, formatted only when read
    (value mode makes one for every vector op before the op's value hook replaces it, and a frame's line
    number costs a scan of its code's line table)."""

    __slots__ = ("op", "code", "lasti")

    def __init__(self, op: str, frame: Any) -> None:
        self.op = op
        self.code, self.lasti = (frame.f_code, frame.f_lasti) if frame is not None else (None, 0)

    @property
    def why(self) -> str:  # type: ignore[override]
        code = self.code
        where = "?" if code is None else f"{shown(code.co_filename)}:{_line_of(code, self.lasti)}"
        return f"pl.{self.op} at {where} has no value semantics in swimsim"


def no_semantics(op: str) -> Unknown:
    """The value of an op recorded without a value hook: unknown, naming the op and its kernel line."""
    return _NoSemantics(op, _kernel_frame())


def need(v: Any, what: str) -> Any:
    """``v`` when it is known, else the one-line error: ``what`` needs the value ``v`` stands for."""
    if isinstance(v, Unknown):
        current().value_error(f"{what} needs a value that is not computed: {v.why}")
    return v


# ------------------------------------------------------------------------------------------------
# dtype rounding
# ------------------------------------------------------------------------------------------------
BF16_CHUNK = 1 << 16  # elements per pass when rounding a large array (256 KiB of uint32)


def bf16_round_chunks(a: np.ndarray, out: np.ndarray, keep_nan: bool = True) -> np.ndarray:
    """Round the contiguous float32 ``a`` to the nearest-even bfloat16 values into ``out`` (contiguous
    float32 of its size; ``a`` itself rounds in place), chunk by chunk with one cache-sized temporary
    (harness tensors reach 10^8 elements); ``keep_nan``: a NaN stays NaN (else its bits round as a
    number's do). Returns ``out``."""
    flat = a.reshape(-1)
    u = flat.view(np.uint32)
    of = out.reshape(-1)
    ou = of.view(np.uint32)
    t = np.empty(min(u.size, BF16_CHUNK), np.uint32)
    for i in range(0, u.size, BF16_CHUNK):
        c = u[i:i + BF16_CHUNK]
        w = t[:c.size]
        nan = np.isnan(flat[i:i + BF16_CHUNK]) if keep_nan else None
        np.right_shift(c, np.uint32(16), out=w)  # (bits + 0x7FFF + lsb) & 0xFFFF0000: ties to the even bf16
        w &= np.uint32(1)
        w += np.uint32(0x7FFF)
        w += c
        w &= np.uint32(0xFFFF0000)
        ou[i:i + BF16_CHUNK] = w
        if nan is not None and nan.any():
            of[i:i + BF16_CHUNK][nan] = np.nan
    return out


def _bf16_round_large(a: np.ndarray, own: bool) -> np.ndarray:
    """:func:`bf16_round` of a large contiguous float32 array: ``a`` itself when its values are bfloat16
    already, else :func:`bf16_round_chunks` into a new array (``own``: into ``a``)."""
    u = a.reshape(-1).view(np.uint32)
    t = np.empty(BF16_CHUNK, np.uint32)
    for i in range(0, u.size, BF16_CHUNK):
        c = u[i:i + BF16_CHUNK]
        if np.bitwise_and(c, np.uint32(0xFFFF), out=t[:c.size]).any():
            return bf16_round_chunks(a, a if own else np.empty_like(a))
    return a


def bf16_round(x: Any, mode: str = "rint", own: bool = False) -> np.ndarray:
    """float32 -> the nearest bfloat16 values (as float32) under rounding ``mode`` (see :func:`cast_values`).
    ``own``: ``x`` is a float32 array the caller gives up, which may be rounded in place."""
    a = np.ascontiguousarray(x, dtype=np.float32)
    bits = a.view(np.uint32)
    if mode in ("rint", "none"):  # the common case, in place (large inputs are often bf16 already)
        if a.size > BF16_CHUNK and a.flags.writeable:
            return _bf16_round_large(a, own or a is not x)
        if not (bits & np.uint32(0xFFFF)).any():
            return a
        out = bits >> np.uint32(16)  # (bits + 0x7FFF + lsb) & 0xFFFF0000: ties to the even bf16
        out &= np.uint32(1)
        out += np.uint32(0x7FFF)
        out += bits
        out &= np.uint32(0xFFFF0000)
        res = out.view(np.float32)
        nan = np.isnan(a)
        if nan.any():
            res[nan] = np.nan
        return res
    lo = bits & np.uint32(0xFFFF0000)
    rem = bits & np.uint32(0xFFFF)
    up = _round_up(mode, rem, np.uint32(0x8000), (lo >> np.uint32(16)) & np.uint32(1), (bits >> np.uint32(31)) == 1)
    if mode == "odd":
        out = np.where(rem > 0, lo | np.uint32(0x10000), lo)
    else:
        out = np.where(up, lo + np.uint32(0x10000), lo)
    out = out.astype(np.uint32).view(np.float32)
    nan = np.isnan(a)
    if nan.any():
        out = np.where(nan, np.float32(np.nan), out)
    return out.reshape(a.shape)


def _round_up(mode: str, rem: Any, half: Any, lsb: Any, neg: Any) -> Any:
    """Whether to step the magnitude up from the truncated value, per element (sign-magnitude formats)."""
    if mode in ("rint", "none"):
        return (rem > half) | ((rem == half) & (lsb == 1))
    if mode == "round":
        return rem >= half
    if mode == "trunc":
        return np.zeros(np.shape(rem), bool)
    if mode == "floor":
        return neg & (rem > 0)
    if mode == "ceil":
        return ~neg & (rem > 0)
    if mode == "odd":
        return np.zeros(np.shape(rem), bool)
    raise ValueError_(f"cast mode {mode!r} (expected none, rint, round, floor, ceil, trunc or odd)")


def narrow(x: Any, np_type: Any, mode: str = "rint") -> np.ndarray:
    """float64/float32 values -> ``np_type`` (float16 or float32) under rounding ``mode``."""
    x64 = np.asarray(x, dtype=np.float64)
    r = x64.astype(np_type)
    if mode in ("rint", "none"):
        return r
    _round_up(mode, np.zeros(1), 1, 0, np.zeros(1, bool))  # validates the mode
    r64 = r.astype(np.float64)
    exact = (r64 == x64) | np.isnan(x64)
    toward0 = np.abs(r64) <= np.abs(x64)
    zero = np.zeros_like(r)
    inf = np.copysign(np.full_like(r, np.inf), x64.astype(np_type))
    lo = np.where(toward0, r, np.nextafter(r, zero))  # the neighbour nearer zero
    hi = np.where(toward0, np.nextafter(r, inf), r)  # the neighbour away from zero
    dlo = np.abs(x64 - lo.astype(np.float64))
    dhi = np.abs(hi.astype(np.float64) - x64)
    neg = np.signbit(x64)
    if mode == "round":
        up = dhi <= dlo
    elif mode == "trunc":
        up = np.zeros(x64.shape, bool)
    elif mode == "floor":
        up = neg
    elif mode == "ceil":
        up = ~neg
    else:  # odd: the neighbour with an odd last mantissa bit
        ui = np.uint16 if np_type is np.float16 else np.uint32
        up = (hi.view(ui) & 1) == 1
    return np.where(exact, r, np.where(up, hi, lo)).astype(np_type)


def round_to(a: Any, dt: DataType, mode: str = "rint", own: bool = False) -> np.ndarray:
    """``a`` as the storage array of format ``dt`` (floats rounded to ``dt``'s precision by ``mode``);
    ``own``: ``a`` is an array the caller gives up, which may be rounded in place."""
    name = dt.name
    if name == "FP32":
        arr = np.asarray(a)
        if arr.dtype == np.float32 and mode in ("rint", "none"):
            return arr
        return narrow(arr, np.float32, mode)
    if name == "BF16":
        arr = np.asarray(a)
        if arr.dtype != np.float32 or mode not in ("rint", "none"):
            arr = narrow(arr, np.float32, "trunc" if mode not in ("rint", "none") else "rint") \
                if arr.dtype != np.float32 else arr
        return bf16_round(arr, mode, own=own or arr is not a)
    if name == "FP16":
        return narrow(a, np.float16, mode).astype(np.float32)
    return np.asarray(a).astype(STORAGE[name])


def cast_values(a: Any, src: DataType, dst: DataType, mode: str = "round") -> np.ndarray:
    """``pl.cast`` of storage array ``a`` from ``src`` to ``dst`` with rounding ``mode``."""
    a = np.asarray(a)
    if dst.name in _FLOATS:
        if src.name in _FLOATS:
            return round_to(a.astype(np.float32), dst, mode)
        return round_to(narrow(a.astype(np.float64), np.float32, mode), dst, mode)
    info = np.iinfo(STORAGE[dst.name]) if dst.name != "BOOL" else None
    if src.name in _FLOATS:
        x = a.astype(np.float64)
        if mode in ("rint", "none"):
            x = np.rint(x)
        elif mode == "round":
            x = np.sign(x) * np.floor(np.abs(x) + 0.5)
        elif mode == "floor":
            x = np.floor(x)
        elif mode == "ceil":
            x = np.ceil(x)
        elif mode == "trunc":
            x = np.trunc(x)
        else:
            raise ValueError_(f"cast mode {mode!r} for a float -> integer cast")
        x = np.nan_to_num(x, nan=0.0)
        if info is None:
            return x != 0
        return np.clip(x, info.min, info.max).astype(STORAGE[dst.name])
    if info is None:
        return a != 0
    return np.clip(a.astype(np.int64), info.min, info.max).astype(STORAGE[dst.name])


# ------------------------------------------------------------------------------------------------
# GM buffers
# ------------------------------------------------------------------------------------------------
def gm(base: Any) -> tuple[np.ndarray, Any, str]:
    """(data array, known-mask or None, why unknown) of GM buffer ``base``; creates both on first use.

    An entry parameter with data is known; one without, and an intermediate before its stores, is
    unknown (``why`` names it)."""
    ent = STATE.masks.get(id(base))
    if ent is not None:
        return base.data, ent[1], ent[2]
    st = STORAGE[base.dtype.name]
    mask = None
    if base.data is None:
        base.data = np.zeros(base.shape, st)
        if base.kind != "param" and STATE.zero_unwritten:
            why = ""  # read as 0
        else:
            mask = np.zeros(base.shape, bool)
            why = (f"input {base.name} has no data" + (f" ({NO_DATA[base.name]})" if base.name in NO_DATA else "")
                   if base.kind == "param"
                   else f"{base.name} {UNWRITTEN}")
    else:
        d = np.asarray(base.data)
        if d.dtype != st or d.shape != tuple(base.shape) or not d.flags.c_contiguous or not d.flags.writeable:
            d = np.ascontiguousarray(d.reshape(base.shape)).astype(st)
            if base.dtype.name in _FLOATS:
                d = round_to(d, base.dtype)
            base.data = d
        why = ""
    STATE.masks[id(base)] = (base, mask, why)
    return base.data, mask, why


def _window(arr: np.ndarray, view: Any) -> tuple[np.ndarray, bool]:
    """``view``'s elements of its base's array ``arr``: (array, True when it is a writable numpy view)."""
    steps = []
    v = view
    while v.parent is not None:
        steps.append(v)
        v = v.parent
    a = arr
    is_view = True
    for s in reversed(steps):
        if s.kind == "slice":
            a = a[tuple(slice(o, o + n) for o, n in zip(s.offset, s.shape, strict=True))]
        elif s.kind == "reshape":
            b = a.view()
            try:
                b.shape = s.shape
            except AttributeError:
                b = a.reshape(s.shape)
                is_view = False
            a = b
        else:
            raise ValueError_(f"view kind {s.kind}")
    return a, is_view


def _index_window(view: Any) -> np.ndarray:
    """Linear base indices of every element of ``view`` (for views numpy cannot express as a view)."""
    base = view.base
    idx = np.arange(int(np.prod(base.shape)), dtype=np.int64).reshape(base.shape)
    return _window(idx, view)[0]


def _region(shape: Any) -> tuple[slice, ...]:
    return tuple(slice(0, int(n)) for n in shape)


def load_value(view: Any, tile: Any, pad: Any = None) -> None:
    """Set ``tile.value`` from GM ``view`` (its valid region; the rest padded or 0)."""
    data, mask, why = gm(view.base)
    win, _ = _window(data, view)
    valid = tile.valid
    out = _blank(tile.shape, tile.dtype)
    src = win
    if src.ndim != len(tile.shape):
        src = src.reshape([n for n in src.shape if n != 1] or [1]) if src.size == int(np.prod(tile.shape)) else src
        if src.size == int(np.prod(tile.shape)):
            src = src.reshape(tile.shape)
    reg = _region(valid) if len(valid) == src.ndim else _region(src.shape)
    if pad is not None and getattr(pad, "value", None) not in (None, "null"):
        out = fill_pad(out, tile.dtype, pad, tile.shape)
    try:
        out[reg] = src[reg]
    except (ValueError, IndexError):
        tile.value = Unknown(f"load of {view.name} {list(view.shape)} into tile {tile.shape} at {kernel_line()}")
        return
    tile.value = out
    tile.vmask = None
    if mask is not None:
        mwin, _ = _window(mask, view)
        if mwin.ndim != src.ndim:
            if mwin.size != src.size:
                if not mwin.all():
                    tile.value = Unknown(why)
                return
            mwin = mwin.reshape(src.shape)
        known = mwin[reg]
        if known.all():
            return
        if not known.any():
            tile.value = Unknown(why)
            return
        m = np.zeros(tile.shape, bool)  # some elements unknown: carried as the tile's mask
        m[reg] = ~known
        tile.vmask = Partial(m, why)


def store_value(tile: Any, view: Any, valid: list[int], atomic: bool = False) -> None:
    """Write ``tile.value``'s valid region into GM ``view`` (``atomic``: add to it)."""
    data, mask, _ = gm(view.base)
    v = value_of(tile)
    win, is_view = _window(data, view)
    reg = _region(valid)
    if isinstance(v, Unknown):
        if mask is None:
            mask = np.ones(data.shape, bool)
        STATE.masks[id(view.base)] = (view.base, mask, v.why)
        _assign(mask, view, reg, False)
        return
    src = np.asarray(v)
    if src.shape != tuple(win.shape):
        src = src.reshape(win.shape) if src.size == win.size else src
    pm = getattr(tile, "vmask", None)
    if pm is not None:
        um = pm.m.reshape(win.shape) if pm.m.shape != tuple(win.shape) and pm.m.size == win.size else pm.m
        if mask is None:
            mask = np.ones(data.shape, bool)
        STATE.masks[id(view.base)] = (view.base, mask, pm.why)
        _assign(mask, view, reg, ~um[reg])
        mask = None  # set above
    part = round_to(src[reg], view.dtype) if view.dtype.name != tile.dtype.name else src[reg]
    if atomic:
        part = round_to(win[reg].astype(np.float64) + part, view.dtype)
    if is_view:
        win[reg] = part
    else:
        data.reshape(-1)[_index_window(view)[reg]] = part
    if mask is not None:
        _assign(mask, view, reg, True)


def alias_values(src: Any, view: Any) -> None:
    """Value mode: GM buffer ``src`` becomes the window ``view`` of another buffer (an orchestration
    ``pl.assemble`` of a tensor): its elements, known or not, move there, and later accesses of ``src``
    use that window."""
    if not STATE.on:
        return
    sdata, smask, swhy = gm(src)
    data, mask, why = gm(view.base)
    win, is_view = _window(data, view)
    full = _region(win.shape)
    vals = np.asarray(sdata).reshape(win.shape)
    if is_view:
        win[...] = vals
    else:
        data.reshape(-1)[_index_window(view)] = vals
    if smask is not None or mask is not None:
        if mask is None:
            mask = np.ones(data.shape, bool)
            STATE.masks[id(view.base)] = (view.base, mask, swhy)
        _assign(mask, view, full, True if smask is None else np.asarray(smask).reshape(win.shape))
    if is_view:  # later accesses of src read and write the window itself
        dv = win.view()
        try:
            dv.shape = tuple(src.shape)
        except AttributeError:
            return
        mv = None
        if mask is not None:
            mv = _window(mask, view)[0].view()
            mv.shape = tuple(src.shape)
        src.data = dv
        STATE.masks[id(src)] = (src, mv, swhy or why)


def _assign(mask: np.ndarray, view: Any, reg: Any, val: Any) -> None:
    mwin, is_view = _window(mask, view)
    if is_view:
        mwin[reg] = val
    else:
        mask.reshape(-1)[_index_window(view)[reg]] = val


def read_gm(view: Any, off: list[int]) -> Any:
    """Element ``off`` (base coordinates) of ``view``'s buffer; a one-line error if it is unknown."""
    data, mask, why = gm(view.base)
    key = tuple(int(o) for o in off)
    if mask is not None and not mask[key]:
        current().value_error(f"pl.read of {view.name}{list(key)} needs a value that is not computed: {why}")
    return data[key].item()


_SIGNED = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}
_PRED_OPS = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal, "==": np.equal,
             "!=": np.not_equal}


def predicate_passes(view: Any, op: str, literal: int) -> bool:
    """A dispatch predicate as the scheduler evaluates it at the ready point: the element's
    ``dtype.size`` bytes, sign-extended to 64 bits, compared with ``literal``; a one-line error if the
    element is unknown."""
    off = view.to_base([0] * len(view.shape), [1] * len(view.shape))[0]
    data, mask, why = gm(view.base)
    key = tuple(int(o) for o in off)
    if mask is not None and not mask[key]:
        current().value_error(f"predicate on {view.name}{list(key)} needs a value that is not computed: {why}")
    dt = view.dtype
    v = np.asarray([data[key]])
    if dt.name == "BF16":
        bits = (v.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    elif dt.name == "FP16":
        bits = v.astype(np.float16)
    else:
        bits = v.astype(STORAGE[dt.name])
    raw = int(np.ascontiguousarray(bits).view(_SIGNED[bits.dtype.itemsize])[0])
    return bool(_PRED_OPS[op](raw, int(literal)))


def write_gm(view: Any, off: list[int], value: Any) -> None:
    """Set element ``off`` (base coordinates) of ``view``'s buffer to ``value``."""
    data, mask, _ = gm(view.base)
    key = tuple(int(o) for o in off)
    need(value, f"pl.write of {view.name}{list(key)}")
    data[key] = round_to(np.asarray([value], np.float64), view.dtype)[0] if view.dtype.name in _FLOATS else value
    if mask is not None:
        mask[key] = True


def unknown_inputs(base: Any) -> str | None:
    """Why part of GM buffer ``base`` is not computed, or None when all of it is."""
    ent = STATE.masks.get(id(base))
    if ent is None:
        return None if base.data is not None else f"{base.name} was never written"
    if ent[1] is None or ent[1].all():
        return None
    return ent[2]


def param_data() -> dict[str, np.ndarray]:
    """Per entry parameter of the last value-mode recording that an op touched: its array as the recording left it."""
    return {base.name: base.data for base, _, _ in STATE.masks.values() if base.kind == "param"}


def unknown_params() -> dict[str, str | None]:
    """Per entry parameter of the last value-mode recording: why part of it is not computed, or None."""
    return {base.name: unknown_inputs(base) for base, _, _ in STATE.masks.values() if base.kind == "param"}


# ------------------------------------------------------------------------------------------------
# tiles
# ------------------------------------------------------------------------------------------------
def _blank(shape: list[int], dt: DataType) -> np.ndarray:
    return np.zeros(shape, STORAGE[dt.name])


def value_of(t: Any) -> Any:
    """The array of tile ``t`` (an :class:`Unknown` when its producer has no value semantics)."""
    v = getattr(t, "value", None)
    if v is None:
        node = t.node
        if node is None:
            v = t.value = _blank(t.shape, t.dtype)  # a fresh buffer
        else:
            return Unknown(f"pl.{node.name} has no value semantics (its result is not computed)")
    return v


def fill_pad(a: np.ndarray, dt: DataType, pad: Any, shape: list[int]) -> np.ndarray:
    """``a`` with every element set to the fill value of ``pad`` (a PadValue)."""
    name = getattr(pad, "value", pad)
    if name == "zero":
        a[...] = 0
    elif name in ("max", "min"):
        if dt.name in _FLOATS:
            a[...] = np.inf if name == "max" else -np.inf
        else:
            info = np.iinfo(STORAGE[dt.name])
            a[...] = info.max if name == "max" else info.min
    return a


def _operand(x: Any, out: Any) -> Any:
    """A tile operand cut to ``out``'s valid region (broadcast dims kept), or a scalar as it is."""
    if not hasattr(x, "node"):
        return need(x, "an op operand") if isinstance(x, Unknown) else x
    v = value_of(x)
    if isinstance(v, Unknown):
        raise _Propagate(v)
    reg = []
    for d, n in enumerate(out.valid):
        reg.append(slice(None) if d < v.ndim and v.shape[d] == 1 and n != 1 else slice(0, n))
    if v.ndim != len(out.valid):
        return v
    return v[tuple(reg)]


class _Propagate(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, v: Unknown) -> None:
        self.v = v


def _elementwise(f: Callable[..., Any]) -> Callable[..., Any]:
    def op(out: Any, *xs: Any, **_kw: Any) -> np.ndarray:
        args = [_operand(x, out) for x in xs]
        args = [a.astype(np.float32) if isinstance(a, np.ndarray) and out.dtype.name in _FLOATS else a
                for a in args]
        with np.errstate(all="ignore"):
            r = f(*args)
        res = _blank(out.shape, out.dtype)
        res[_region(out.valid)] = np.broadcast_to(round_to(np.asarray(r), out.dtype), _region_shape(out.valid))
        return res
    return op


def _region_shape(valid: list[int]) -> tuple[int, ...]:
    return tuple(int(n) for n in valid)


def _div(a: Any, b: Any) -> Any:
    if isinstance(a, np.ndarray) and a.dtype.kind in "iu" or isinstance(b, np.ndarray) and b.dtype.kind in "iu":
        return np.trunc(np.divide(a, b)).astype(np.int64)
    return np.divide(a, b)


def _reduce(kind: str, axis: int) -> Callable[..., Any]:
    def op(out: Any, t: Any, **_kw: Any) -> np.ndarray:
        v = value_of(t)
        if isinstance(v, Unknown):
            raise _Propagate(v)
        a = v[_region(t.valid)]
        if t.dtype.name in _FLOATS:
            a = a.astype(np.float32)
        with np.errstate(all="ignore"):
            r = {"sum": np.sum, "max": np.max, "min": np.min}[kind](a, axis=axis, keepdims=True)
        res = _blank(out.shape, out.dtype)
        res[_region(out.valid)] = round_to(r, out.dtype)
        return res
    return op


def _argreduce(kind: str) -> Callable[..., Any]:
    def op(out: Any, t: Any, **_kw: Any) -> np.ndarray:
        v = value_of(t)
        if isinstance(v, Unknown):
            raise _Propagate(v)
        a = v[_region(t.valid)]
        r = (np.argmax if kind == "max" else np.argmin)(a, axis=1).reshape(-1, 1)
        res = _blank(out.shape, out.dtype)
        res[_region(out.valid)] = r
        return res
    return op


def _expand(f: Callable[..., Any], row: bool) -> Callable[..., Any]:
    def op(out: Any, t: Any, v: Any, **_kw: Any) -> np.ndarray:
        vv = value_of(v)
        if isinstance(vv, Unknown):
            raise _Propagate(vv)
        if row and len(out.shape) > 2:  # a rank > 2 tile: one value per row of its leading dims
            vv = vv.reshape([*out.shape[:-1], 1])[_region([*out.valid[:-1], 1])]
        else:
            vv = vv.reshape(-1, 1) if row else vv.reshape(1, -1)
            vv = vv[: out.valid[0], :] if row else vv[:, : out.valid[-1]]
        return _elementwise(f)(out, t, _Arr(vv))
    return op


class _Arr:
    """An already-cut operand array (passes :func:`_operand` as it is)."""

    node = None
    vmask = None

    def __init__(self, a: np.ndarray) -> None:
        self.value = a
        self.valid = list(a.shape)
        self.shape = list(a.shape)


def _cast(out: Any, t: Any, mode: str = "round", **_kw: Any) -> np.ndarray:
    v = value_of(t)
    if isinstance(v, Unknown):
        raise _Propagate(v)
    res = _blank(out.shape, out.dtype)
    reg = _region(out.valid)
    res[reg] = cast_values(v[reg], t.dtype, out.dtype, mode)
    return res


def _full(out: Any, value: Any = 0, **_kw: Any) -> np.ndarray:
    return round_to(np.full(out.shape, need(value, "pl.full"), np.float64), out.dtype)


def _arange(out: Any, start: Any = 0, descending: bool = False, **_kw: Any) -> np.ndarray:
    n = int(np.prod(out.shape))
    step = -1 if descending else 1
    return round_to(np.asarray(need(start, "pl.arange"), np.float64) + step * np.arange(n).reshape(out.shape),
                    out.dtype)


def _fillpad(out: Any, t: Any, pad_value: Any = None, **_kw: Any) -> np.ndarray:
    v = value_of(t)
    if isinstance(v, Unknown):
        raise _Propagate(v)
    res = fill_pad(np.array(v, copy=True), out.dtype, pad_value, out.shape)
    reg = _region(t.valid)
    res[reg] = v[reg]
    return res


def _col_expand(out: Any, v: Any, **_kw: Any) -> np.ndarray:
    vv = value_of(v)
    if isinstance(vv, Unknown):
        raise _Propagate(vv)
    res = _blank(out.shape, out.dtype)
    reg = _region(out.valid)
    res[reg] = np.broadcast_to(vv.reshape(1, -1)[:, : out.valid[-1]], _region_shape(out.valid))
    return res


def _vals(*tiles: Any) -> list[np.ndarray]:
    out = []
    for t in tiles:
        v = value_of(t)
        if isinstance(v, Unknown):
            raise _Propagate(v)
        out.append(v)
    return out


def _gather(out: Any, x: Any, index: Any, **_kw: Any) -> np.ndarray:
    xv, iv = _vals(x, index)
    idx = iv[_region(index.valid)].astype(np.int64)
    width = x.valid[-1]
    bad = (idx < 0) | (idx >= width)
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        current().error(f"pl.gather: index {int(idx[r, c])} at [{r}, {c}] is outside source row [0, {width}) "
                        f"at {kernel_line()}")
    res = _blank(out.shape, out.dtype)
    rows = np.arange(idx.shape[0]).reshape(-1, 1)
    res[_region(index.valid)] = xv[rows, idx]
    return res


_LANES = {"P0101": 0, "P1010": 1}


def _mask_lanes(pattern: Any) -> int:
    name = getattr(pattern, "name", str(pattern))
    if name not in _LANES:
        raise ValueError_(f"mask pattern {name}")
    return _LANES[name]


def _reinterpret(a: np.ndarray, src: DataType, dst: DataType) -> np.ndarray:
    """Bit reinterpretation of 32-bit lanes between FP32 and INT32/UINT32 (same-size formats)."""
    if src.name == dst.name:
        return a
    if src.size == dst.size == 4:
        return np.ascontiguousarray(a).view(STORAGE[dst.name])
    raise ValueError_(f"lane reinterpretation {src.name} -> {dst.name}")


def _gather_mask(out: Any, x: Any, mask_pattern: Any = None, **_kw: Any) -> np.ndarray:
    (xv,) = _vals(x)
    lane = _mask_lanes(mask_pattern)
    picked = np.ascontiguousarray(xv[..., lane::2])
    res = _blank(out.shape, out.dtype)
    src = _reinterpret(picked, x.dtype, out.dtype)
    n = min(src.shape[-1], out.shape[-1])
    res[..., :n] = src[..., :n]
    return res


def _scatter(out: Any, src: Any, index: Any, dst: Any, **_kw: Any) -> np.ndarray:
    sv, iv, dv = _vals(src, index, dst)
    res = np.array(dv, copy=True)
    idx = iv[_region(index.valid)].astype(np.int64)
    width = dst.shape[-1]
    bad = (idx < 0) | (idx >= width)
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        current().error(f"pl.scatter: index {int(idx[r, c])} at [{r}, {c}] is outside destination row "
                        f"[0, {width}) at {kernel_line()}")
    vals = sv[: idx.shape[0], : idx.shape[1]]
    for c in range(idx.shape[1]):  # in lane order: a lane written twice keeps the last write
        res[np.arange(idx.shape[0]), idx[:, c]] = vals[:, c]
    return res


def _scatter_mask(out: Any, src: Any, dst: Any = None, mask_pattern: Any = None, **_kw: Any) -> np.ndarray:
    (sv,) = _vals(src)
    res = _blank(out.shape, out.dtype) if dst is None else np.array(_vals(dst)[0], copy=True)
    lane = _mask_lanes(mask_pattern)
    n = min(sv.shape[-1], len(range(lane, out.shape[-1], 2)))
    res[..., lane::2][..., :n] = sv[..., :n]
    return res


def _transpose(out: Any, t: Any, axis1: int = 0, axis2: int = 1, **_kw: Any) -> np.ndarray:
    (v,) = _vals(t)
    return np.ascontiguousarray(np.swapaxes(v, axis1, axis2))


def _concat(out: Any, a: Any, b: Any, **_kw: Any) -> np.ndarray:
    av, bv = _vals(a, b)
    return np.concatenate([av, bv], axis=1).astype(STORAGE[out.dtype.name])


def sort_pairs(scores: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of (score, index) sorted by descending score, stable (equal scores keep their order)."""
    order = np.argsort(-scores.astype(np.float64), axis=-1, kind="stable")
    return np.take_along_axis(scores, order, -1), np.take_along_axis(idx, order, -1)


def _interleave(s: np.ndarray, i: np.ndarray) -> np.ndarray:
    out = np.empty(s.shape[:-1] + (2 * s.shape[-1],), np.float32)
    out[..., 0::2] = s
    out[..., 1::2] = np.ascontiguousarray(i.astype(np.int32)).view(np.float32)
    return out


def _split(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.ascontiguousarray(pairs, np.float32)
    return p[..., 0::2], np.ascontiguousarray(p[..., 1::2]).view(np.int32)


def _sort32(out: Any, scores: Any, idx: Any, **_kw: Any) -> np.ndarray:
    sv, iv = _vals(scores, idx)
    if scores.dtype.name != "FP32":
        raise ValueError_(f"sort32 of {scores.dtype.name} scores (the FP32 pair layout only)")
    r, c = sv.shape
    s = sv.reshape(r, c // 32, 32)
    i = np.broadcast_to(iv.reshape(-1, c)[:1] if iv.size == c else iv.reshape(r, c), (r, c)).reshape(r, c // 32, 32)
    s2, i2 = sort_pairs(s, i)
    return _interleave(s2.reshape(r, c), i2.reshape(r, c))


def _mrgsort(out: Any, *lists: Any, block_len: int | None = None, **_kw: Any) -> np.ndarray:
    vals = _vals(*lists)
    if any(t.dtype.name != "FP32" for t in lists):
        raise ValueError_("mrgsort of non-FP32 pairs")
    if block_len is not None:
        (v,) = vals
        s, i = _split(v)
        r, n = s.shape
        g = min(n, 4 * block_len // 2)  # pairs per merged group
        s2, i2 = sort_pairs(s.reshape(r, n // g, g), i.reshape(r, n // g, g))
        return _interleave(s2.reshape(r, n), i2.reshape(r, n))
    parts = [_split(v[:, : t.valid[1]]) for v, t in zip(vals, lists, strict=True)]
    s = np.concatenate([p[0] for p in parts], axis=1)
    i = np.concatenate([p[1] for p in parts], axis=1)
    s2, i2 = sort_pairs(s, i)
    res = _blank(out.shape, out.dtype)
    res[:, : s2.shape[1] * 2] = _interleave(s2, i2)
    return res


def _strip(a: np.ndarray) -> np.ndarray:
    while a.ndim > 2 and a.shape[0] == 1:
        a = a[0]
    return a


def _matmul(out: Any, a: Any, b: Any, acc: Any = None, a_trans: bool = False, b_trans: bool = False,
            **_kw: Any) -> np.ndarray:
    av, bv = (_strip(v) for v in _vals(a, b))
    if a_trans:
        av = av.T
    if b_trans:
        bv = bv.T
    if out.dtype.name == "INT32":
        # exact through float64 BLAS: |sum| <= 2^14 * K stays below 2^53 for any K a tile holds
        r = np.rint(av.astype(np.float64) @ bv.astype(np.float64)).astype(np.int64)
    else:
        r = av.astype(np.float32) @ bv.astype(np.float32)
    if acc is not None:
        (cv,) = _vals(acc)
        r = _strip(cv) + r
    return round_to(r, out.dtype).reshape(out.shape)


def _copy_into(out: Any, src: Any, dst: Any, offset: list[int] | None = None, **_kw: Any) -> np.ndarray:
    """``dst`` with ``src``'s valid region written at ``offset`` (tile slice assignment, assemble)."""
    sv, dv = _vals(src, dst)
    res = np.array(dv, copy=True)
    off = list(offset or [0] * res.ndim)
    part = sv[_region(src.valid)] if sv.ndim == res.ndim else sv.reshape(
        [1] * (res.ndim - sv.ndim) + list(sv.shape))[_region([1] * (res.ndim - sv.ndim) + list(src.valid))]
    res[tuple(slice(o, o + n) for o, n in zip(off, part.shape, strict=True))] = round_to(part, dst.dtype)
    return res


_ELEMENTWISE: dict[str, Callable[..., Any]] = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": _div, "maximum": np.maximum,
    "minimum": np.minimum, "neg": np.negative, "abs": np.abs, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
    "rsqrt": lambda x: 1.0 / np.sqrt(x), "recip": lambda x: 1.0 / x, "relu": lambda x: np.maximum(x, 0),
    "move": np.positive,  # a UB -> UB copy
}

# op name -> fn(out_tile, *operands, **attributes) -> the output tile's full array
TABLE: dict[str, Callable[..., Any]] = {name: _elementwise(f) for name, f in _ELEMENTWISE.items()}
TABLE.update({
    "cast": _cast, "full": _full, "arange": _arange, "fillpad": _fillpad,
    "row_sum": _reduce("sum", -1), "row_max": _reduce("max", -1), "row_min": _reduce("min", -1),
    "col_sum": _reduce("sum", -2), "col_max": _reduce("max", -2), "col_min": _reduce("min", -2),
    "row_argmax": _argreduce("max"), "row_argmin": _argreduce("min"),
    "row_expand_mul": _expand(np.multiply, True), "row_expand_div": _expand(np.divide, True),
    "row_expand_sub": _expand(np.subtract, True), "row_expand_add": _expand(np.add, True),
    "col_expand_mul": _expand(np.multiply, False), "col_expand_add": _expand(np.add, False),
    "col_expand_sub": _expand(np.subtract, False), "col_expand_div": _expand(np.divide, False),
    "col_expand_expdif": _expand(lambda a, b: np.exp(a - b), False), "col_expand": _col_expand,
    "gather": _gather, "gather_mask": _gather_mask, "scatter": _scatter, "scatter_mask": _scatter_mask,
    "transpose": _transpose, "concat": _concat, "sort32": _sort32, "mrgsort": _mrgsort,
    "matmul": _matmul, "matmul_acc": _matmul, "copy": _copy_into,
})


def _m(x: Any) -> Any:
    """Operand ``x``'s unknown-element mask (all False when it has none; a scalar: False)."""
    if not hasattr(x, "node"):
        return False
    if isinstance(x, _Arr):  # a mask already cut (row/column operands)
        return np.asarray(x.value, bool)
    pm = getattr(x, "vmask", None)
    return pm.m if pm is not None else np.zeros(np.shape(value_of(x)), bool)


def _m_elementwise(out: Any, *xs: Any, **_kw: Any) -> np.ndarray:
    res = np.zeros(out.shape, bool)
    region = _region_shape(out.valid)
    acc = np.zeros(region, bool)
    for x in xs:
        m = _m(x)
        if m is False:
            continue
        reg = tuple(slice(None) if d < m.ndim and m.shape[d] == 1 and n != 1 else slice(0, n)
                    for d, n in enumerate(out.valid))
        acc |= np.broadcast_to(m[reg] if m.ndim == len(out.valid) else m, region)
    res[_region(out.valid)] = acc
    return res


def _m_expand(row: bool) -> Callable[..., Any]:
    def rule(out: Any, t: Any, v: Any, **_kw: Any) -> np.ndarray:
        mv = _m(v).reshape(-1, 1) if row else _m(v).reshape(1, -1)
        mv = mv[: out.valid[0], :] if row else mv[:, : out.valid[-1]]
        return _m_elementwise(out, t, _Arr(mv))
    return rule


def _m_reduce(axis: int) -> Callable[..., Any]:
    def rule(out: Any, t: Any, **_kw: Any) -> np.ndarray:
        res = np.zeros(out.shape, bool)
        res[_region(out.valid)] = _m(t)[_region(t.valid)].any(axis=axis, keepdims=True)
        return res
    return rule


def _m_matmul(out: Any, a: Any, b: Any, acc: Any = None, a_trans: bool = False, b_trans: bool = False,
              **_kw: Any) -> np.ndarray:
    ma, mb = _strip(_m(a)), _strip(_m(b))
    ma = ma.T if a_trans else ma
    mb = mb.T if b_trans else mb
    r = ma.any(axis=1, keepdims=True) | mb.any(axis=0, keepdims=True)
    if acc is not None:
        r = r | _strip(_m(acc))
    return np.broadcast_to(r, _strip(np.zeros(out.shape, bool)).shape).reshape(out.shape).copy()


def _m_copy(out: Any, src: Any, dst: Any, offset: list[int] | None = None, **_kw: Any) -> np.ndarray:
    res = np.array(_m(dst), copy=True)
    off = list(offset or [0] * res.ndim)
    ms = _m(src)
    part = ms[_region(src.valid)] if ms.ndim == res.ndim else ms.reshape(
        [1] * (res.ndim - ms.ndim) + list(ms.shape))[_region([1] * (res.ndim - ms.ndim) + list(src.valid))]
    res[tuple(slice(o, o + n) for o, n in zip(off, part.shape, strict=True))] = part
    return res


def _m_gather(out: Any, x: Any, index: Any, **_kw: Any) -> np.ndarray:
    idx = np.asarray(value_of(index))[_region(index.valid)].astype(np.int64)
    res = np.zeros(out.shape, bool)
    res[_region(index.valid)] = _m(x)[np.arange(idx.shape[0]).reshape(-1, 1), idx] | _m(index)[_region(index.valid)]
    return res


def _m_rows(out: Any, *xs: Any, **_kw: Any) -> np.ndarray:
    """A row of the result is unknown when any operand element of that row is (sorts, merges, scatters)."""
    rows = np.zeros(out.shape[0], bool)
    for x in xs:
        m = _m(x)
        if m is not False:
            rows |= m.reshape(m.shape[0], -1).any(axis=1)[: out.shape[0]]
    return np.broadcast_to(rows.reshape([-1] + [1] * (len(out.shape) - 1)), out.shape).copy()


def _m_gather_mask(out: Any, x: Any, mask_pattern: Any = None, **_kw: Any) -> np.ndarray:
    picked = _m(x)[..., _mask_lanes(mask_pattern)::2]
    res = np.zeros(out.shape, bool)
    n = min(picked.shape[-1], out.shape[-1])
    res[..., :n] = picked[..., :n]
    return res


# op name -> fn(out_tile, *operands, **attributes) -> the output's unknown-element mask, for operands with
# some unknown elements (ops without an entry make the whole result unknown)
MASK_RULES: dict[str, Callable[..., Any]] = {name: _m_elementwise for name in _ELEMENTWISE}
MASK_RULES.update({
    "cast": _m_elementwise, "fillpad": _m_elementwise, "row_sum": _m_reduce(1), "row_max": _m_reduce(1),
    "row_min": _m_reduce(1), "col_sum": _m_reduce(0), "col_max": _m_reduce(0), "col_min": _m_reduce(0),
    "row_argmax": _m_reduce(1), "row_argmin": _m_reduce(1),
    "row_expand_mul": _m_expand(True), "row_expand_div": _m_expand(True), "row_expand_sub": _m_expand(True),
    "row_expand_add": _m_expand(True), "col_expand_mul": _m_expand(False), "col_expand_add": _m_expand(False),
    "col_expand_sub": _m_expand(False), "col_expand_div": _m_expand(False), "col_expand_expdif": _m_expand(False),
    "matmul": _m_matmul, "matmul_acc": _m_matmul, "copy": _m_copy, "gather": _m_gather,
    "gather_mask": _m_gather_mask, "sort32": _m_rows, "mrgsort": _m_rows, "scatter": _m_rows,
    "transpose": lambda out, t, axis1=0, axis2=1, **_kw: np.ascontiguousarray(np.swapaxes(_m(t), axis1, axis2)),
    "concat": lambda out, a, b, **_kw: np.concatenate([_m(a), _m(b)], axis=1),
})


def put(t: Any, op: str, *operands: Any, **attrs: Any) -> Any:
    """Compute ``t.value`` for op ``op`` of ``operands`` (value mode only); returns ``t``.

    An op missing from :data:`TABLE`, or an unknown operand, gives an :class:`Unknown` value."""
    if not STATE.on:
        return t
    f = TABLE.get(op)
    if f is None:
        t.value = no_semantics(op)
        return t
    try:
        t.value = f(t, *operands, **attrs)
        t.vmask = None
        pms = [x for x in operands if getattr(x, "vmask", None) is not None] + \
            ([attrs["acc"]] if getattr(attrs.get("acc"), "vmask", None) is not None else [])
        if pms:
            rule = MASK_RULES.get(op)
            if rule is None:
                t.value = Unknown(pms[0].vmask.why)
            else:
                t.vmask = Partial(rule(t, *operands, **attrs), pms[0].vmask.why)
    except _Propagate as p:
        t.value = p.v
    except ValueError_ as e:
        t.value = Unknown(f"pl.{op} at {kernel_line()}: {e} has no value semantics in swimsim")
    except (ValueError, IndexError) as e:  # an operand layout the table entry does not cover
        t.value = Unknown(f"pl.{op} at {kernel_line()}: operand shapes not covered by its value semantics ({e})")
    return t


def view_tile(t: Any, parent: Any, key: tuple[slice, ...]) -> Any:
    """A zero-copy tile view ``t`` of ``parent`` (``parent[key]``) shares its array window."""
    if STATE.on:
        v = value_of(parent)
        t.value = v if isinstance(v, Unknown) else v[key]
        pm = getattr(parent, "vmask", None)
        t.vmask = None if pm is None else Partial(pm.m[key], pm.why)
    return t


def reshape_tile(t: Any, parent: Any) -> Any:
    """``t`` a reshape of tile ``parent``: same elements, new shape."""
    if STATE.on:
        v = value_of(parent)
        t.value = v if isinstance(v, Unknown) else np.reshape(v, t.shape)
        pm = getattr(parent, "vmask", None)
        t.vmask = None if pm is None else Partial(np.reshape(pm.m, t.shape), pm.why)
    return t


def read_tile(t: Any, idx: list[int]) -> Any:
    """``pl.read`` of a tile element (value mode): the number, or the one-line error when unknown."""
    v = need(value_of(t), f"pl.read of a tile element {idx}")
    key = tuple(int(i) for i in idx)
    pm = getattr(t, "vmask", None)
    if pm is not None and pm.m[key]:
        current().value_error(f"pl.read of a tile element {list(key)} needs a value that is not computed: {pm.why}")
    return v[key].item()


def write_tile(t: Any, idx: list[int], value: Any) -> None:
    """``pl.write`` of a tile element (value mode): the tile's array with element ``idx`` set to ``value``
    (rounded to the tile's dtype); an unknown tile stays unknown, an out-of-range index is a one-line error."""
    v = value_of(t)
    if isinstance(v, Unknown):
        return
    key = tuple(int(i) for i in idx)
    if len(key) != v.ndim or any(k < 0 or k >= n for k, n in zip(key, v.shape, strict=True)):
        current().error(f"pl.write: index {list(key)} out of bounds of a tile {list(v.shape)}")
    need(value, f"pl.write of a tile element {list(key)}")
    out = np.array(v, copy=True)  # other tiles may share the array (views, aliases)
    out[key] = round_to(np.asarray([value], np.float64), t.dtype)[0] if t.dtype.name in _FLOATS else value
    t.value = out
    pm = getattr(t, "vmask", None)
    if pm is not None and pm.m[key]:
        m = np.array(pm.m, copy=True)
        m[key] = False
        t.vmask = Partial(m, pm.why) if m.any() else None


def into(t: Any, prev: Any, src: Any, offset: list[int]) -> Any:
    """``t`` (the updated buffer) = tile ``prev``'s value with GM view ``src``'s valid region written at
    ``offset`` (``pl.load_into``, ``pl.gather_row``); returns ``t``."""
    if not STATE.on:
        return t
    try:
        return _into(t, prev, src, offset)
    except (ValueError, IndexError) as e:
        t.value = Unknown(f"load into a tile window at {kernel_line()}: layout not covered ({e})")
        return t


def _into(t: Any, prev: Any, src: Any, offset: list[int]) -> Any:
    pv = value_of(prev)
    if isinstance(pv, Unknown):
        t.value = pv
        return t
    part = _Arr(np.zeros(list(src.shape), STORAGE[src.dtype.name]))
    part.valid = [min(int(v), int(n)) for v, n in zip(src.valid or src.shape, src.shape, strict=True)]
    part.dtype = src.dtype  # type: ignore[attr-defined]
    part.value = None
    load_value(src, part)
    if isinstance(part.value, Unknown):
        t.value = part.value
        return t
    sv = part.value[_region(part.valid)]
    res = np.array(pv, copy=True)
    offset = list(offset) or [0] * res.ndim
    if sv.ndim != res.ndim:
        sv = sv.reshape([1] * (res.ndim - sv.ndim) + list(sv.shape)) if sv.ndim < res.ndim else \
            sv.reshape([n for n in sv.shape if n != 1][-res.ndim:])
    box = tuple(slice(int(o), int(o) + n) for o, n in zip(offset, sv.shape, strict=True))
    res[box] = round_to(sv, t.dtype) if t.dtype.name != src.dtype.name else sv
    t.value = res
    pp, ps = getattr(prev, "vmask", None), part.vmask
    t.vmask = None
    if pp is not None or ps is not None:
        m = np.array(pp.m, copy=True) if pp is not None else np.zeros(res.shape, bool)
        m[box] = ps.m[_region(part.valid)].reshape(sv.shape) if ps is not None else False
        t.vmask = Partial(m, (ps or pp).why)
    return t


__all__ = [
    "STATE", "TABLE", "Unknown", "begin", "end", "put", "bf16_round", "bf16_round_chunks", "cast_values", "narrow",
    "round_to",
    "sort_pairs", "load_value", "store_value", "read_gm", "write_gm", "view_tile", "reshape_tile", "read_tile",
    "into", "no_semantics", "value_of", "unknown_inputs", "unknown_params", "param_data", "gm", "need",
]
