"""GM tensors: buffers (:class:`GMBase`), their views (:class:`TensorView`, the ``pl.Tensor`` value) and
the view geometry that maps a box of a view to a box of its buffer (shapes and offsets in elements).

In orchestration code indexing a view gives a narrower view; inside a kernel scope it records a load
(and slice assignment a store) through the open kernel scope of the active recording
(:mod:`kernels.dsl.context`). Comparing a view element with an int in orchestration code gives a
dispatch :class:`Predicate` (``predicate=(cnt[e] > 0)``).
"""

from __future__ import annotations

import functools
import operator
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from kernels.dsl.context import ACTIVE, active, current
from kernels.dsl.ir_build import make_region
from kernels.dsl.types import DataType
from kernels.dsl.values import kernel_line
from sim.ir import Region
from sim.util.errors import InputWarning

_ALL = slice(None)

@dataclass(eq=False)
class GMBase:
    """One GM buffer (entry parameter or orchestration allocation)."""

    id: int
    name: str
    shape: tuple[int, ...]
    dtype: DataType
    kind: str = "param"  # param | alloc | internal
    creator: Any = None  # the alloc task (kernels.dsl.tasks.TaskRec) of an orchestration allocation
    manual_dep: bool = False
    declared: str = "In"  # entry-parameter direction (In/Out/InOut)
    data: Any = None  # optional numpy array backing scalar pl.read/pl.write (data-dependent control)
    init: bool = False  # an orchestration tensor created with an initial value (filled by the AICPU)
    alias: Any = None  # (target GMBase, offset in target elements): an orchestration pl.assemble made it a window


def through_alias(base: GMBase, off: list[int], shp: list[int]) -> tuple[GMBase, list[int], list[int]]:
    """The buffer a box of ``base`` lives in, and the box there: follows :attr:`GMBase.alias` (an
    orchestration-level ``pl.assemble`` of one GM tensor into another), matching ranks by leading 1s."""
    while base.alias is not None:
        target, at = base.alias
        k = len(at) - len(off)
        if k >= 0:
            off = list(at[:k]) + [o + a for o, a in zip(off, at[k:], strict=True)]
            shp = [1] * k + list(shp)
        else:  # the aliased buffer's extra leading dims are 1
            off = [o + a for o, a in zip(off[-k:], at, strict=True)]
            shp = list(shp[-k:])
        base = target
    return base, off, shp


def prod(xs: Any) -> int:
    """Product of ``xs`` as ints (an element count of a shape)."""
    p = 1
    for x in xs:
        p *= int(x)
    return p


def _strides(shape: tuple[int, ...]) -> list[int]:
    out = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        out[i] = out[i + 1] * shape[i + 1]
    return out


def _hull_box(lo: int, hi: int, shape: tuple[int, ...], st: Any = None) -> tuple[list[int], list[int]]:
    """Smallest box of ``shape`` covering linear elements ``[lo, hi)`` (row-major); ``st``: its strides."""
    if st is None:
        st = _strides(shape)
    a = [(lo // s) % d for s, d in zip(st, shape, strict=True)]
    b = [((hi - 1) // s) % d for s, d in zip(st, shape, strict=True)]
    off, shp = [], []
    differ = False
    for i, d in enumerate(shape):
        if differ:
            off.append(0)
            shp.append(d)
        elif a[i] == b[i]:
            off.append(a[i])
            shp.append(1)
        else:
            differ = True
            off.append(a[i])
            shp.append(b[i] - a[i] + 1)
    return off, shp


@functools.lru_cache(maxsize=1024)
def _reshape_plan(new: tuple[int, ...], old: tuple[int, ...]) -> tuple[Any, ...]:
    """Per dim group: (new dims, old dims, new strides, old sub-shape, its strides) - cached per shape pair."""
    plan = []
    for gi, gj in _reshape_groups(new, old):
        if gj:
            sub_old = tuple(old[j] for j in gj)
            plan.append((tuple(gi), tuple(gj), tuple(_strides(tuple(new[i] for i in gi))), sub_old,
                         tuple(_strides(sub_old))))
    return tuple(plan)


def _reshape_groups(new: tuple[int, ...], old: tuple[int, ...]) -> list[tuple[list[int], list[int]]]:
    """Pair consecutive dim groups of ``new`` and ``old`` with equal element products."""
    groups: list[tuple[list[int], list[int]]] = []
    i = j = 0
    while i < len(new) and j < len(old):
        gi, gj = [i], [j]
        pi, pj = new[i], old[j]
        i += 1
        j += 1
        while pi != pj:
            if pi < pj:
                gi.append(i)
                pi *= new[i]
                i += 1
            else:
                gj.append(j)
                pj *= old[j]
                j += 1
        groups.append((gi, gj))
    if groups:
        groups[-1][0].extend(range(i, len(new)))
        groups[-1][1].extend(range(j, len(old)))
    return groups


def _empty(key: Any) -> bool:
    """Whether the subscript ``key`` has a slice ``a:b`` with ``b == a`` (an empty window)."""
    for k in key if isinstance(key, tuple) else (key,):
        if type(k) is slice and k.start is not None and k.stop is not None and k.step in (None, 1) \
                and int(k.stop) == int(k.start):
            return True
    return False


class TensorView:
    """A ``pl.Tensor`` value: a view (slice/reshape chain) of one GM buffer.

    ``capture`` is the nearest view created in orchestration code: that view is the task argument
    the runtime sees when a kernel scope uses this one (a scope's live-ins become its parameters:
    pypto ``docs/en/dev/passes/08-outline_incore_scopes.md``; docs/model.md §1).
    """

    __slots__ = ("base", "shape", "parent", "kind", "offset", "valid", "capture", "pad")

    def __init__(self, base: GMBase, shape: tuple[int, ...], parent: TensorView | None = None,
                 kind: str = "base", offset: tuple[int, ...] = (), valid: tuple[int, ...] | None = None,
                 pad: Any = None, capture: TensorView | None = None) -> None:
        self.base = base
        self.shape = tuple(shape)
        self.parent = parent
        self.kind = kind
        self.offset = offset
        self.valid = valid
        self.pad = pad
        if capture is None and parent is not None:
            rec = ACTIVE[-1] if ACTIVE else None
            if rec is not None and rec.kernel is not None:
                capture = parent.capture
        self.capture = capture if capture is not None else self

    # -- metadata ---------------------------------------------------------------------------------
    @property
    def dtype(self) -> DataType:
        return self.base.dtype

    @property
    def name(self) -> str:
        return self.base.name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"Tensor({self.base.name}, {list(self.shape)}, {self.dtype.name})"

    def to_base(self, off: list[int] | None = None, shp: list[int] | None = None) -> tuple[list[int], list[int]]:
        """Map a box of this view (default: the whole view) to a covering box of the base buffer."""
        shp = list(self.shape) if shp is None else list(shp)
        p0 = self.parent
        if p0 is None:
            return ([0] * len(shp) if off is None else list(off)), shp
        if p0.parent is None and self.kind == "slice":  # fast path: window of a base tensor
            if off is None:
                return list(self.offset), shp
            return [o + a for o, a in zip(off, self.offset, strict=True)], shp
        off = [0] * len(self.shape) if off is None else list(off)
        v: TensorView = self
        while v.parent is not None:
            p = v.parent
            if v.kind == "slice":
                off = [o + a for o, a in zip(off, v.offset, strict=True)]
            elif v.kind == "reshape":
                noff: list[int] = [0] * len(p.shape)
                nshp: list[int] = list(p.shape)
                for gi, gj, st, sub_old, st_old in _reshape_plan(v.shape, p.shape):
                    lo = 0
                    hi = 1
                    for i, s in zip(gi, st, strict=True):
                        lo += off[i] * s
                        hi += (off[i] + shp[i] - 1) * s
                    o2, s2 = _hull_box(lo, hi, sub_old, st_old)
                    for k, j in enumerate(gj):
                        noff[j], nshp[j] = o2[k], s2[k]
                off, shp = noff, nshp
            v = p
        return off, shp

    def _addrs(self, idx: np.ndarray) -> np.ndarray:
        """Linear element offsets in the base buffer of elements of this view: ``idx`` is an (n, ndim)
        int64 array of their indices."""
        v: TensorView = self
        while v.parent is not None:
            p = v.parent
            if v.kind == "slice":
                idx = idx + np.asarray(v.offset, dtype=np.int64)
            elif v.kind == "reshape":
                lin = np.zeros(len(idx), dtype=np.int64)
                for k, d in enumerate(v.shape):
                    lin = lin * d + idx[:, k]
                nidx = np.empty((len(idx), len(p.shape)), dtype=np.int64)
                for k in range(len(p.shape) - 1, -1, -1):
                    lin, nidx[:, k] = np.divmod(lin, p.shape[k])
                idx = nidx
            v = p
        lin = np.zeros(len(idx), dtype=np.int64)
        for k, d in enumerate(v.shape):
            lin = lin * d + idx[:, k]
        return lin

    def exact_runs(self, off: list[int], shp: list[int], limit: int = 1 << 16) -> tuple[int, int] | None:
        """(contiguous base runs, elements) of a box of this view, or None above ``limit`` rows.

        For views whose box maps to a strided (non-box) set of the base buffer, where
        :meth:`to_base` can only give the covering box. The rows' first and last elements are mapped
        all at once; rows whose elements are not contiguous in the base are mapped element by element.
        """
        if not shp or any(n <= 0 for n in shp):
            return None
        lead = shp[:-1]
        nrows = 1
        for n in lead:
            nrows *= n
        if nrows > limit:
            return None
        last = shp[-1]
        first = np.empty((nrows, len(shp)), dtype=np.int64)
        if lead:
            first[:, :-1] = np.indices(lead).reshape(len(lead), nrows).T + np.asarray(off[:-1], dtype=np.int64)
        first[:, -1] = off[-1]
        a = self._addrs(first)
        first[:, -1] += last - 1
        b = self._addrs(first)
        # runs = 1 + breaks between consecutive elements in row-major order: between rows, and inside
        # the rows whose elements are not contiguous in the base (those rows are mapped element by element)
        breaks = int(np.count_nonzero(a[1:] != b[:-1] + 1))
        bad = np.flatnonzero(b - a != last - 1)
        if bad.size:
            elems = np.repeat(first[bad], last, axis=0)
            elems[:, -1] = np.tile(np.arange(off[-1], off[-1] + last, dtype=np.int64), bad.size)
            addrs = self._addrs(elems).reshape(bad.size, last)
            breaks += int(np.count_nonzero(np.diff(addrs, axis=1) != 1))
        return 1 + breaks, nrows * last

    def region(self, off: list[int] | None = None, shp: list[int] | None = None) -> Region:
        """The GM box of a box of this view (default: the whole view), as a :class:`Region` of the base."""
        o, s = self.to_base(off, shp)
        base = self.base
        if base.alias is not None:
            base, o, s = through_alias(base, o, s)
        return make_region(base.id, o, s)

    # -- slicing ----------------------------------------------------------------------------------
    def _box(self, key: Any, clip: Any = None, edge: list[int] | None = None) -> tuple[list[int], list[int]]:
        """(offset, shape) of the slice ``key``; ``clip``: a stored tile's valid extent (checked over it
        only). ``edge`` (a list, loads only): a slice that starts inside a dim and runs past its end is
        allowed, and ``edge`` receives the in-bounds extent per dim."""
        if not isinstance(key, tuple):
            key = (key,)
        shape = self.shape
        nk = len(key)
        if nk > len(shape):
            current().error(f"{self.name}: {nk} indices for a {len(shape)}-d tensor")
        off, shp = [], []
        for d, dim in enumerate(shape):
            k = key[d] if d < nk else _ALL
            if type(k) is slice:
                if k.step is not None and k.step != 1:
                    current().error(f"{self.name}: slice step {k.step} not supported")
                a = 0 if k.start is None else int(k.start)
                b = dim if k.stop is None else int(k.stop)
            else:
                a = int(k)
                b = a + 1
            hi = b if clip is None or d >= len(clip) else min(b, a + int(clip[d]))
            if edge is not None:
                edge.append(min(b, dim) - a)
                hi = min(hi, dim)
            if a < 0 or hi > dim or b <= a or a >= dim:
                current().error(
                    f"slice [{a}:{b}] out of bounds on dim {d} of {self.name} {list(self.shape)}")
            off.append(a)
            shp.append(b - a)
        return off, shp

    def window(self, off: list[int], shp: list[int], valid: list[int] | None = None,
               pad: Any = None) -> TensorView:
        ext = shp if valid is None else [min(int(v), int(s)) for v, s in zip(valid, shp, strict=True)]
        for d, (a, n, dim) in enumerate(zip(off, ext, self.shape, strict=True)):
            if a < 0 or a + n > dim or n < 0 or (n == 0 and valid is None):
                current().error(
                    f"slice [{a}:{a + n}] out of bounds on dim {d} of {self.name} {list(self.shape)}")
        return TensorView(self.base, tuple(map(int, shp)), self, "slice", tuple(map(int, off)),
                          None if valid is None else tuple(map(int, valid)), pad)

    def __getitem__(self, key: Any) -> Any:
        rec = ACTIVE[-1] if ACTIVE else current()
        ks = rec.kernel
        if ks is not None:
            # a load may run past the end of a dim (a padded tile over a shorter dynamic extent, as
            # pypto-lib's hc_head reads max(T, 16) rows of T): the DMA moves the in-bounds part, the
            # rest of the tile is padding
            inside: list[int] = []
            off, shp = self._box(key, edge=inside)
            valid = None
            if inside != shp:
                valid = tuple(inside)
                d = next(i for i, (a, b) in enumerate(zip(inside, shp, strict=True)) if a != b)
                warnings.warn(f"{kernel_line()}: scope {ks.task.name}: slice [{off[d]}:{off[d] + shp[d]}] "
                              f"runs past dim {d} of {self.name} {list(self.shape)}: loaded as a padded tile with "
                              f"{list(inside)} in bounds", InputWarning, stacklevel=2)
            return ks.load(TensorView(self.base, tuple(shp), self, "slice", tuple(off), valid,
                                      capture=self.capture))
        off, shp = self._box(key)
        return TensorView(self.base, tuple(shp), self, "slice", tuple(off), capture=None)

    def __setitem__(self, key: Any, value: Any) -> None:
        # a tile whose valid extent is narrower than the slice: bounds-checked (and stored) over that extent only
        clip = None
        if not isinstance(value, TensorView):
            tv = getattr(value, "valid", None)
            if isinstance(tv, list) and len(tv) == len(self.shape):
                clip = tv
        rec = current()
        ks = rec.kernel
        if ks is None:
            self._box(key, clip)
            rec.error(f"slice assignment into {self.name} in orchestration code is not supported")
        if _empty(key):  # x[:, a:a] = v (a tile width that works out to 0): writes nothing
            return
        # a store may run past the end of a dim (a padded tile written back over a shorter extent, as
        # pypto-lib's expert_shared writes 16 rows of an 8-row output): only the in-bounds part is
        # written (what the device writes beyond the tensor is not modelled)
        inside: list[int] = []
        off, shp = self._box(key, clip, edge=inside)
        ext = [min(int(c), n) for c, n in zip(clip, shp, strict=True)] if clip is not None else list(shp)
        cut = [min(a, b) for a, b in zip(ext, inside, strict=True)]
        if cut != ext:
            d = next(i for i, (a, b) in enumerate(zip(cut, ext, strict=True)) if a != b)
            warnings.warn(f"{kernel_line()}: scope {ks.task.name}: store slice [{off[d]}:{off[d] + shp[d]}] runs "
                          f"past dim {d} of {self.name} {list(self.shape)}: only {cut} in bounds is written",
                          InputWarning, stacklevel=2)
        valid = tuple(cut) if cut != list(shp) else None
        view = TensorView(self.base, tuple(shp), self, "slice", tuple(off), valid, capture=self.capture)
        ks.store(value, view)

    # -- dispatch predicates: ``predicate=(cnt[e] > 0)`` in orchestration code -----------------------
    def _cmp(self, other: Any, op: str) -> Any:
        rec = active()
        if rec is None or rec.kernel is not None or not isinstance(other, int):
            return NotImplemented
        return Predicate(self, op, other)

    def __gt__(self, other: Any) -> Any:
        return self._cmp(other, ">")

    def __ge__(self, other: Any) -> Any:
        return self._cmp(other, ">=")

    def __lt__(self, other: Any) -> Any:
        return self._cmp(other, "<")

    def __le__(self, other: Any) -> Any:
        return self._cmp(other, "<=")


_CMP = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq,
        "!=": operator.ne}


class Predicate:
    """``predicate=(cnt[e] > 0)``: one tensor element compared with an integer literal (pypto
    ``docs/en/user/tasks/03-tuning.md``).

    The scheduler checks it when the task is ready, never orchestration: in value mode the recorder
    evaluates it from the computed element (:func:`kernels.dsl.values.predicate_passes`) and the task
    records "pass" or "fail"; shapes-only it is "assumed" (the task runs).
    """

    __slots__ = ("view", "op", "literal")

    def __init__(self, view: TensorView, op: str, literal: int) -> None:
        if op not in _CMP:
            current().error(f"predicate: comparison {op!r} is not one of {sorted(_CMP)}")
        if not isinstance(literal, int) or isinstance(literal, bool):
            current().error(f"predicate: right-hand side {literal!r} must be an integer literal")
        self.view = view
        self.op = op
        self.literal = literal

    def __repr__(self) -> str:
        return f"Predicate({self.view.name} {self.op} {self.literal})"
