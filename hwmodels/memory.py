"""Memory system shared by all cores of a die: L2 residency (512 B lines) and HBM bandwidth sharing.

L2 residency is tracked per GM tensor as one byte per line (0 absent, 1 clean, 2 dirty) and the
access clock of each line's last touch. When the resident total exceeds the L2 capacity, the least
recently touched lines, of any tensor, are evicted. HBM bandwidth is
split among concurrent flows by max-min fairness (:func:`share_bandwidth`); :class:`HbmShare` is the
fluid model of lanes that run at the same time and slow each other down through that split.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.ir import ArgDir, Region, TaskGraph
from sim.util.errors import UserError

if TYPE_CHECKING:  # numpy is imported only when an irregular line set needs it (start-up time)
    import numpy as np

DTYPE_BYTES: dict[str, float] = {
    "BF16": 2, "FP16": 2, "FP32": 4, "INT8": 1, "UINT8": 1, "INT16": 2, "UINT16": 2, "INT32": 4,
    "UINT32": 4, "INT64": 8, "UINT64": 8, "FP64": 8, "INT4": 0.5, "BOOL": 1, "FP8": 1, "HF32": 4,
}

L2_INIT_STATES = ("cold", "inputs_warm", "warm")

# content stamps of task graphs (see :func:`stamp_graph`): id(graph) -> (weak reference, stamp)
_STAMPS: dict[int, tuple[weakref.ref, str]] = {}


def stamp_graph(graph: TaskGraph, stamp: str) -> None:
    """Declare ``stamp`` the content stamp of ``graph``: two graphs with equal stamps have equal
    content (tasks, blocks, ops, tensors, edges), so per-block cost-model work done on one serves
    the other's block at the same place. The graph cache stamps its graphs with their entry key."""
    if len(_STAMPS) > 64:  # drop the entries of graphs that are gone
        for k in [k for k, (r, _s) in _STAMPS.items() if r() is None]:
            del _STAMPS[k]
    _STAMPS[id(graph)] = (weakref.ref(graph), stamp)


def graph_stamp(graph: TaskGraph) -> str | None:
    """The content stamp of ``graph`` (:func:`stamp_graph`), or None."""
    e = _STAMPS.get(id(graph))
    if e is None or e[0]() is not graph:
        return None
    return e[1]


def dtype_bytes(dtype: str | None, default: float = 4) -> float:
    """Bytes per element of a dtype name (``"BF16"`` -> 2); unknown names give ``default``."""
    if not dtype:
        return default
    return DTYPE_BYTES.get(dtype.upper(), default)


@dataclass(frozen=True)
class LineSet:
    """The L2 lines of one tensor a region touches, as disjoint strided slices ``(start, stop, step)``
    of the tensor's line array, or (for big irregular sets) a sorted numpy index array ``idx``."""

    tensor: int
    slices: tuple[tuple[int, int, int], ...]
    idx: np.ndarray | None
    n: int


_BIG = 64  # above this many disjoint ranges, use a numpy index array


def _strides(shape: Sequence[int]) -> list[int]:
    nd = len(shape)
    strides = [1] * nd
    for i in range(nd - 2, -1, -1):
        strides[i] = strides[i + 1] * shape[i + 1]
    return strides


def region_lines(shape: Sequence[int], itemsize: float, region: Region, line_bytes: int,
                 n_lines: int, strides: Sequence[int] | None = None) -> LineSet | None:
    """Lines touched by ``region`` of a row-major tensor of ``shape`` (None if the box is empty)."""
    nd = len(shape)
    if n_lines <= 0:
        return None
    if nd == 0:
        return LineSet(region.tensor, ((0, n_lines, 1),), None, n_lines)
    off = region.offset
    rsh = region.shape
    if len(off) != nd or len(rsh) != nd:
        off = (list(off) + [0] * nd)[:nd]
        rsh = (list(rsh) + [1] * nd)[:nd]
    for r in rsh:
        if r <= 0:
            return None
    if strides is None:
        strides = _strides(shape)
    # merge trailing dims the box covers fully into one contiguous run
    k = nd - 1
    while k > 0 and off[k] == 0 and rsh[k] >= shape[k]:
        k -= 1
    run = rsh[k] * strides[k]
    base = 0
    for o, st in zip(off, strides, strict=True):
        base += o * st
    if type(itemsize) is int:
        lead = [i for i in range(k) if rsh[i] != 1]
        cap = n_lines * line_bytes
        if not lead:
            b0 = base * itemsize
            lo = min(b0 // line_bytes, n_lines - 1)
            hi = (min(b0 + run * itemsize, cap) - 1) // line_bytes + 1
            return LineSet(region.tensor, ((lo, hi, 1),), None, hi - lo)
        if len(lead) == 1:
            r = rsh[lead[0]]
            sb = strides[lead[0]] * itemsize
            if sb <= line_bytes:  # rows closer than a line: every line of the span is touched
                b0 = base * itemsize
                lo = min(b0 // line_bytes, n_lines - 1)
                hi = (min(b0 + sb * (r - 1) + run * itemsize, cap) - 1) // line_bytes + 1
                return LineSet(region.tensor, ((lo, hi, 1),), None, hi - lo)
            if sb % line_bytes == 0:
                step = sb // line_bytes
                b0 = base * itemsize
                lo = b0 // line_bytes
                w = (b0 + run * itemsize - 1) // line_bytes + 1 - lo
                if lo + step * (r - 1) + w <= n_lines:
                    if step <= w:
                        m = step * (r - 1) + w
                        return LineSet(region.tensor, ((lo, lo + m, 1),), None, m)
                    if w == 1:
                        return LineSet(region.tensor, ((lo, lo + step * r, step),), None, r)
                    return LineSet(region.tensor, tuple((lo + j, lo + j + step * r, step) for j in range(w)),
                                   None, w * r)
    return _region_lines_general(shape, itemsize, region, line_bytes, n_lines, k, run, base, list(strides),
                                 list(rsh))


def _region_lines_general(shape: Sequence[int], itemsize: float, region: Region, line_bytes: int, n_lines: int,
                          k: int, run: int, base: int, strides: list[int], rsh: list[int]) -> LineSet | None:
    lead = rsh[:k]
    n_runs = math.prod(lead) if lead else 1
    last = n_lines - 1
    if n_runs <= 4 * _BIG:
        starts = [base]
        for i in range(k):
            st = strides[i]
            starts = [s0 + j * st for s0 in starts for j in range(rsh[i])]
        ranges: list[list[int]] = []
        for s0 in starts:
            lo = min(int(s0 * itemsize) // line_bytes, last)
            hi = min((math.ceil((s0 + run) * itemsize) - 1) // line_bytes, last) + 1
            if ranges and lo <= ranges[-1][1]:
                if hi > ranges[-1][1]:
                    ranges[-1][1] = hi
            else:
                ranges.append([lo, hi])
        if len(ranges) <= _BIG and all(ranges[i][1] <= ranges[i + 1][0] for i in range(len(ranges) - 1)):
            return LineSet(region.tensor, tuple((a, b, 1) for a, b in ranges), None, sum(b - a for a, b in ranges))
        import numpy as np  # lazy: start-up time

        lo_a = np.array([r[0] for r in ranges], dtype=np.int64)
        hi_a = np.array([r[1] for r in ranges], dtype=np.int64) - 1
    else:
        import numpy as np  # lazy: start-up time

        st = np.zeros(1, dtype=np.int64) + base
        for i in range(k):
            st = (st[:, None] + np.arange(rsh[i], dtype=np.int64)[None, :] * strides[i]).ravel()
        lo_a = np.minimum((st * itemsize).astype(np.int64) // line_bytes, last)
        hi_a = np.minimum((np.ceil((st + run) * itemsize).astype(np.int64) - 1) // line_bytes, last)
    if bool(np.all(lo_a == hi_a)):
        idx = np.unique(lo_a)
    else:
        lens = hi_a - lo_a + 1
        idx = np.unique(np.repeat(lo_a - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum())))
    if int(idx[-1]) - int(idx[0]) + 1 == idx.size:
        return LineSet(region.tensor, ((int(idx[0]), int(idx[-1]) + 1, 1),), None, int(idx.size))
    return LineSet(region.tensor, (), idx, int(idx.size))


_LINES: dict[tuple, LineSet | None] = {}  # region line sets by geometry (L2State.lines_of), all states


class _TensorLines:
    __slots__ = ("arr", "view", "stamp", "n", "count", "dirty", "last", "shape", "itemsize", "kind", "strides",
                 "geo")

    def __init__(self, n: int, shape: list[int], itemsize: float, kind: str) -> None:
        self.arr = bytearray(n)  # 0 absent, 1 clean, 2 dirty
        self.view: np.ndarray | None = None  # numpy view of ``arr``, made on first irregular access
        self.n = n
        self.count = 0  # resident lines
        self.dirty = 0  # dirty lines
        self.last = 0  # access clock of the tensor's last touch
        self.stamp: np.ndarray | None = None  # access clock of each line's last touch (uint32), made on use
        self.shape = shape
        self.itemsize = itemsize
        self.kind = kind
        self.strides = _strides(shape)
        self.geo = (n, itemsize, tuple(shape))  # what a region's line set depends on, with the line size

    def stamps(self) -> np.ndarray:
        """The per-line access clocks (0: not touched since the initial state), made on first use."""
        if self.stamp is None:
            import numpy as np  # lazy: start-up time

            self.stamp = np.zeros(self.n, dtype=np.uint32)
        return self.stamp

    def np_view(self) -> np.ndarray:
        """A numpy uint8 view sharing ``arr`` (for fancy-indexed access by irregular line sets)."""
        if self.view is None:
            import numpy as np  # lazy: start-up time

            self.view = np.frombuffer(self.arr, dtype=np.uint8) if self.n else np.zeros(0, dtype=np.uint8)
        return self.view


class L2State:
    """Which 512 B lines of which GM tensors are resident in L2 (LRU by line, capacity from the chip)."""

    def __init__(self, chip, graph: TaskGraph, init: str = "inputs_warm") -> None:  # noqa: ANN001
        if init not in L2_INIT_STATES:
            raise UserError(f"L2 initial state '{init}': expected one of {', '.join(L2_INIT_STATES)}")
        self.chip = chip
        self.graph = graph
        self.init = init
        self.line_bytes = int(chip.l2.line_bytes)
        self.capacity_lines = int(chip.l2_capacity_bytes // self.line_bytes)
        self.whole_tensors = bool(chip.l2.evict_whole_tensors)
        self._clock = 0
        # Deferred updates (see :meth:`defer`): ``token`` names the logical state, ``backlog`` holds
        # the accesses not yet applied to the line arrays, ``replay`` applies them.
        self.token: int | None = None
        self.backlog: list[tuple] = []
        self.replay: Callable[[L2State, list[tuple]], None] | None = None
        # statistics (lines)
        self.read_hit_lines = 0
        self.read_miss_lines = 0
        self.write_lines = 0
        self._pending: list[tuple[Region | LineSet, int]] = []  # accesses whose line clocks are not recorded yet
        self.evictions = 0  # eviction passes
        self.evicted_lines = 0
        # ``tensors`` and ``resident_lines`` are built on first use (:meth:`__getattr__`): a run whose
        # accesses are all deferred never needs the line arrays

    def __getattr__(self, name: str) -> object:
        """Build the line arrays on the first use of ``tensors``, ``resident_lines`` or ``tracks_recency``."""
        if name not in ("tensors", "resident_lines", "tracks_recency") or "graph" not in self.__dict__:
            raise AttributeError(name)
        self._build()
        return self.__dict__[name]

    def _build(self) -> None:
        """The per-tensor line arrays in the initial state (``init``)."""
        self.resident_lines = 0
        self.tensors: dict[int, _TensorLines] = {}
        graph, init = self.graph, self.init
        for t in graph.tensors:
            isz = dtype_bytes(t.dtype)
            isz = int(isz) if isz == int(isz) else isz
            nbytes = t.nbytes or int(math.ceil(math.prod(t.shape) * isz))
            n = int(math.ceil(nbytes / self.line_bytes)) if nbytes else 0
            self.tensors[t.id] = _TensorLines(n, list(t.shape), isz, t.kind)
        # Line clocks matter only for eviction: a graph whose tensors all fit never evicts.
        self.tracks_recency = (not self.whole_tensors
                               and sum(tl.n for tl in self.tensors.values()) > self.capacity_lines)
        if init != "cold":
            # inputs_warm: the harness writes the input parameters in order before the launch, so an LRU
            # L2 holds the last-written ones, the last lines of each; an output the kernel only writes
            # was not written before it
            last = init == "inputs_warm"
            outputs = _write_only(graph) if last else set()
            for tid in sorted(self.tensors, reverse=last):
                tl = self.tensors[tid]
                if last and (tl.kind != "param" or tid in outputs):
                    continue
                room = self.capacity_lines - self.resident_lines
                take = min(room, tl.n)
                if take <= 0:
                    break
                if last:
                    tl.arr[tl.n - take:] = b"\x01" * take
                else:
                    tl.arr[:take] = b"\x01" * take
                tl.count = take
                self.resident_lines += take

    @property
    def accesses(self) -> int:
        """Accesses applied so far (reads, writes, touches; 0 for a state still in its initial form)."""
        return self._clock

    # --- deferred updates ----------------------------------------------------------------------
    def defer(self, token: int, replay: Callable[[L2State, list[tuple]], None]) -> None:
        """Let a caller that memoises its accesses keep the state logically: from now on ``token``
        names the logical state (the caller updates it) and the caller appends the accesses it has not
        applied to ``backlog``; ``replay(self, backlog)`` applies them, in order, when the state is
        needed (:meth:`sync`; the statistics attributes are current after a ``sync``). While deferred,
        the state changes only through that caller."""
        self.token = token
        self.replay = replay

    def sync(self) -> None:
        """Apply the deferred accesses, if any: the line arrays and statistics are current after it."""
        if self.backlog:
            todo, self.backlog = self.backlog, []
            assert self.replay is not None
            self.replay(self, todo)

    # --- geometry ------------------------------------------------------------------------------
    def lines_of(self, region: Region) -> LineSet | None:
        """The line set of a GM region (None for an unknown tensor or an empty box)."""
        tl = self.tensors.get(region.tensor)
        if tl is None or tl.n == 0:
            return None
        # geometry only (the tensor's id, size, shape and dtype, the line size): shared by every state
        key = (region.tensor, tl.geo, self.line_bytes, tuple(region.offset), tuple(region.shape))
        ls = _LINES.get(key, False)
        if ls is False:
            ls = region_lines(tl.shape, tl.itemsize, region, self.line_bytes, tl.n, tl.strides)
            if len(_LINES) >= 500_000:
                _LINES.clear()
            _LINES[key] = ls
        return ls

    # --- access --------------------------------------------------------------------------------
    def touch(self, region: Region) -> None:
        """A read of ``region`` of a fully resident tensor: all hits, no line changes state."""
        self._note(region)

    def _note(self, where: Region | LineSet) -> None:
        """Advance the access clock. When the graph can overfill L2 (:attr:`tracks_recency`), remember
        the access: its lines' clocks are recorded only when an eviction needs them (:meth:`_settle`),
        so a run that never fills L2 never computes them."""
        self._clock += 1
        self.tensors[where.tensor].last = self._clock
        if self.tracks_recency:
            self._pending.append((where, self._clock))
            if len(self._pending) >= 65536:  # bounded memory on long runs
                self._settle()

    def _settle(self) -> None:
        """Record the line clocks of the remembered accesses (each line keeps its newest)."""
        import numpy as np  # lazy: start-up time

        todo, self._pending = self._pending, []
        for where, clock in todo:
            ls = self.lines_of(where) if isinstance(where, Region) else where
            if ls is None:
                continue
            st = self.tensors[ls.tensor].stamps()
            if ls.idx is None:
                for lo, hi, step in ls.slices:
                    np.maximum(st[lo:hi:step], clock, out=st[lo:hi:step])
            else:
                st[ls.idx] = np.maximum(st[ls.idx], clock)

    def read(self, ls: LineSet) -> int:
        """Read the lines of ``ls``: returns how many were resident (hits); marks all resident."""
        tl = self.tensors[ls.tensor]
        self._note(ls)
        n = ls.n
        if tl.count == tl.n:
            self.read_hit_lines += n
            return n
        arr = tl.arr
        if ls.idx is None:
            hits = 0
            for lo, hi, st in ls.slices:
                seg = arr[lo:hi:st]
                z = seg.count(0)
                hits += len(seg) - z
                if z:
                    arr[lo:hi:st] = seg.replace(b"\x00", b"\x01")
        else:
            import numpy as np  # lazy: start-up time

            view = tl.np_view()
            seg = view[ls.idx]
            hits = int(np.count_nonzero(seg))
            if hits < n:
                view[ls.idx] = np.maximum(seg, 1)
        self.read_hit_lines += hits
        self.read_miss_lines += n - hits
        if hits < n:
            tl.count += n - hits
            self.resident_lines += n - hits
            self._evict(ls.tensor)
        return hits

    def write(self, ls: LineSet) -> int:
        """Write the lines of ``ls`` (write-allocate, write-back): returns the newly dirtied lines."""
        tl = self.tensors[ls.tensor]
        self._note(ls)
        n = ls.n
        self.write_lines += n
        if tl.dirty == tl.n:
            return 0
        arr = tl.arr
        resident = already = 0
        if ls.idx is None:
            for lo, hi, st in ls.slices:
                seg = arr[lo:hi:st]
                m = len(seg)
                a = seg.count(2)
                already += a
                resident += m - seg.count(0)
                if a < m:
                    arr[lo:hi:st] = b"\x02" * m
        else:
            import numpy as np  # lazy: start-up time

            view = tl.np_view()
            seg = view[ls.idx]
            resident = int(np.count_nonzero(seg))
            already = int(np.count_nonzero(seg == 2))
            if already < n:
                view[ls.idx] = 2
        new_dirty = n - already
        tl.dirty += new_dirty
        if resident < n:
            tl.count += n - resident
            self.resident_lines += n - resident
            self._evict(ls.tensor)
        return new_dirty

    def _evict(self, keep: int) -> None:
        """Evict the least recently touched lines until the resident total fits the capacity, in passes
        of at least 1/64 of the capacity (ties: the lower tensor id and line index first). The lines an
        access just touched carry the newest clock, so they stay unless the access alone overfills L2.
        ``keep`` is that access's tensor, which the whole-tensor form never drops."""
        if self.resident_lines <= self.capacity_lines:
            return
        if self.whole_tensors:
            self._evict_tensors(keep)
            return
        import numpy as np  # lazy: start-up time

        if self._pending:
            self._settle()  # the clocks of every access so far, this one's included
        while self.resident_lines > self.capacity_lines:
            want = max(self.resident_lines - self.capacity_lines, self.capacity_lines // 64, 1)
            held = [(tid, tl) for tid, tl in sorted(self.tensors.items()) if tl.count]
            idxs = [np.flatnonzero(tl.np_view()) for _, tl in held]
            per = [tl.stamps()[ix] for (_, tl), ix in zip(held, idxs, strict=True)]  # clocks of resident lines
            clocks = np.concatenate(per)
            if want >= clocks.size:
                cut, ties = np.iinfo(np.uint32).max, clocks.size
            else:
                cut = np.partition(clocks, want - 1)[want - 1]
                ties = want - int(np.count_nonzero(clocks < cut))  # lines at the cut clock to evict
            for (_, tl), ix, c in zip(held, idxs, per, strict=True):
                go = c < cut
                if ties:
                    eq = np.flatnonzero(c == cut)[:ties]
                    go[eq] = True
                    ties -= eq.size
                drop = ix[go]
                if not drop.size:
                    continue
                view = tl.np_view()
                tl.dirty -= int(np.count_nonzero(view[drop] == 2))
                view[drop] = 0
                tl.count -= drop.size
                self.resident_lines -= drop.size
                self.evicted_lines += drop.size
            self.evictions += 1

    def _evict_tensors(self, keep: int) -> None:
        """Drop whole tensors, least recently touched first, until the resident total fits (never ``keep``,
        the tensor just accessed)."""
        while self.resident_lines > self.capacity_lines:
            victim = None
            for tid, tl in self.tensors.items():
                if tid != keep and tl.count and (victim is None or tl.last < self.tensors[victim].last):
                    victim = tid
            if victim is None:
                return
            tl = self.tensors[victim]
            tl.arr[:] = bytes(tl.n)
            self.resident_lines -= tl.count
            self.evicted_lines += tl.count
            tl.count = 0
            tl.dirty = 0
            self.evictions += 1

    # --- inspection ----------------------------------------------------------------------------
    def resident_fraction(self, tensor: int) -> float:
        """Fraction of a tensor's lines resident in L2 (0..1)."""
        self.sync()
        tl = self.tensors.get(tensor)
        return tl.count / tl.n if tl and tl.n else 0.0

    @property
    def resident_bytes(self) -> int:
        self.sync()
        return self.resident_lines * self.line_bytes


_READS = (ArgDir.INPUT, ArgDir.INOUT, ArgDir.NODEP)


def _write_only(graph: TaskGraph) -> set[int]:
    """Tensors that tasks take only as outputs (no task reads them through an argument)."""
    written: set[int] = set()
    read: set[int] = set()
    for t in graph.tasks:
        for a in t.args:
            (read if a.dir in _READS else written).add(a.region.tensor)
    return written - read


def share_bandwidth(demand_rates: Sequence[float], total: float) -> list[float]:
    """Max-min fair (water-filling) split of ``total`` bytes/ns among flows wanting ``demand_rates[i]``."""
    n = len(demand_rates)
    out = [0.0] * n
    if n == 0 or not total > 0:
        return out
    dem = [d if d > 0 else 0.0 for d in demand_rates]  # NaN and negatives -> 0
    order = sorted(range(n), key=dem.__getitem__)
    remaining = float(total)
    for pos, i in enumerate(order):
        fair = remaining / (n - pos)
        give = dem[i] if dem[i] < fair else fair
        out[i] = give
        remaining -= give
        if remaining < 0.0:
            remaining = 0.0
    return out


_FIT_MARGIN = 1e-6  # HbmShare: relative margin below the bandwidth within which the kept total decides
_RESUM = 64  # HbmShare: changes between two summations of the flows' demand


class HbmFlow:
    """One lane's work in the fluid bandwidth model.

    ``rem`` is the work left in ns at full speed, ``demand`` the HBM rate (bytes/ns) the lane moves at
    full speed, ``l2`` the L2 line rate (bytes/ns: every line it reads or writes, hit or miss),
    ``speed`` its current fraction of full speed (0..1]; ``owner`` is the caller's handle (the
    engine's subtask), returned with the flow when it finishes.
    """

    __slots__ = ("owner", "rem", "demand", "l2", "speed")

    def __init__(self, owner: object, work_ns: float, demand: float, l2: float = 0.0) -> None:
        self.owner = owner
        self.rem = work_ns
        self.demand = demand
        self.l2 = l2
        self.speed = 1.0


class HbmShare:
    """Lanes running at the same time, sharing ``bw`` bytes/ns of HBM bandwidth and, when ``l2_bw`` > 0,
    ``l2_bw`` bytes/ns of L2 line bandwidth, each max-min fairly.

    Fluid model: between two changes of the set of flows every flow progresses at its ``speed``: 1
    while the total demand on each resource fits; otherwise, on each overfull resource, its
    :func:`share_bandwidth` share over its demand, the smaller of the two, at most 1. The caller
    tells the model the simulated time ``now`` (ns) of each change; ``next_end`` says how long (ns)
    until the first running flow finishes at the current speeds.
    """

    def __init__(self, bw: float, l2_bw: float = 0.0) -> None:
        self.bw = bw
        self.l2_bw = l2_bw
        self.flows: list[HbmFlow] = []
        self.last = 0.0  # time (ns) up to which every flow's ``rem`` is accounted
        self.unit = True  # every flow runs at full speed (the total demand fits, or no flow moves data)
        # The flows' total demand (bytes/ns), kept by adding and subtracting and taken anew from the
        # flows every _RESUM changes and whenever it comes near ``bw``: while it stays below ``_fits``
        # the flows' summed demand is certainly within ``bw`` (the kept total's rounding drift is far
        # below the margin), so a change need not sum the flows.
        self._tot = 0.0
        self._changes = 0
        self._fits = bw * (1.0 - _FIT_MARGIN) if bw > 0 else -1.0
        self._tot2 = 0.0  # the same for the L2 line demand; never short while l2_bw is 0 (no limit)
        self._fits2 = l2_bw * (1.0 - _FIT_MARGIN) if l2_bw > 0 else math.inf

    def add(self, flow: HbmFlow, now: float) -> None:
        """Start ``flow`` at ``now`` (ns); the speeds of all flows are shared anew."""
        self._advance(now)
        self.flows.append(flow)
        if flow.demand > 0:
            self._tot += flow.demand
        if flow.l2 > 0:
            self._tot2 += flow.l2
        self._reshare()

    def add_next(self, flow: HbmFlow, now: float) -> float | None:
        """:meth:`add`, then :meth:`next_end` (one call for a caller that arms a timer at each change)."""
        dt = now - self.last
        flows = self.flows
        unit = self.unit
        m = math.inf  # at full speed: the smallest remaining work, first minimum in flow order
        if unit:  # _advance, inline (dt * 1.0 == dt), taking the minimum on the way
            if dt > 0:
                for j in flows:
                    r = j.rem - dt
                    j.rem = r
                    if r < m:
                        m = r
            else:
                for j in flows:
                    if j.rem < m:
                        m = j.rem
            if flow.rem < m:
                m = flow.rem
        elif dt > 0:
            for j in flows:
                j.rem -= dt * j.speed
        self.last = now
        flows.append(flow)
        if flow.demand > 0:
            self._tot += flow.demand
        if flow.l2 > 0:
            self._tot2 += flow.l2
        changes = self._changes + 1
        if changes < _RESUM and unit and self._tot <= self._fits and self._tot2 <= self._fits2:
            self._changes = changes  # _reshare with nothing to share anew (the total still fits), inline
        else:
            self._reshare()
        if self.unit:  # next_end, inline
            if not unit:
                m = min([j.rem for j in flows])
            return m if m > 0.0 else max(m, 0.0)
        return min([max(j.rem, 0.0) / j.speed for j in flows])

    def next_end(self) -> float | None:
        """Time (ns) from the last change until the first flow finishes at the current speeds; None if idle."""
        flows = self.flows
        if not flows:
            return None
        if self.unit:  # x / 1.0 == x: the smallest remaining work, at least 0
            m = min([j.rem for j in flows])
            return m if m > 0.0 else max(m, 0.0)
        return min([max(j.rem, 0.0) / j.speed for j in flows])

    def finish(self, now: float) -> list[HbmFlow]:
        """Remove and return the flows done at ``now`` (ns), at least one (the closest, against float
        slack); the speeds of the remaining flows are shared anew."""
        return self.finish_next(now)[0]

    def finish_next(self, now: float) -> tuple[list[HbmFlow], float | None]:
        """:meth:`finish`, then :meth:`next_end` (one call for a caller that arms a timer at each change)."""
        dt = now - self.last
        flows = self.flows
        unit = self.unit
        done: list[HbmFlow] = []
        m = math.inf  # at full speed: the smallest remaining work of the flows left
        if unit:  # _advance, inline (dt * 1.0 == dt), with the done flows and the minimum on the way
            keep: list[HbmFlow] = []
            step = dt if dt > 0 else 0.0  # x - 0.0 == x: an unchanged clock leaves every rem as it is
            for j in flows:
                r = j.rem - step
                j.rem = r
                if r <= 1e-6:
                    done.append(j)
                else:
                    keep.append(j)
                    if r < m:
                        m = r
        else:
            if dt > 0:
                for j in flows:
                    j.rem -= dt * j.speed
            done = [j for j in flows if j.rem <= 1e-6 * max(1.0, j.speed)]
        self.last = now
        if done and unit:
            self.flows = keep
        else:
            if not done:
                done = [min(flows, key=lambda j: j.rem / j.speed)]
                unit = False  # the minimum of the flows left is taken below
            if len(done) == 1:
                d = done[0]
                self.flows = [j for j in flows if j is not d]
            else:
                gone = {id(j) for j in done}
                self.flows = [j for j in flows if id(j) not in gone]
        flows = self.flows
        if not flows:
            self._tot = self._tot2 = 0.0
        else:
            for j in done:
                if j.demand > 0:
                    self._tot -= j.demand
                if j.l2 > 0:
                    self._tot2 -= j.l2
        changes = self._changes + 1
        if changes < _RESUM and self.unit and self._tot <= self._fits and self._tot2 <= self._fits2:
            self._changes = changes  # _reshare with nothing to share anew (the total still fits), inline
        else:
            self._reshare()
        if not flows:
            return done, None
        if self.unit:  # next_end, inline
            if not unit:
                m = min([j.rem for j in flows])
            return done, (m if m > 0.0 else max(m, 0.0))
        return done, min([max(j.rem, 0.0) / j.speed for j in flows])

    def _advance(self, now: float) -> None:
        dt = now - self.last
        if dt > 0:
            if self.unit:  # dt * 1.0 == dt
                for j in self.flows:
                    j.rem -= dt
            else:
                for j in self.flows:
                    j.rem -= dt * j.speed
        self.last = now

    def _reshare(self) -> None:
        self._changes += 1
        if self._changes >= _RESUM:
            self._changes = 0
            self._tot = sum([j.demand for j in self.flows if j.demand > 0])
            self._tot2 = sum([j.l2 for j in self.flows if j.l2 > 0])
        if self._tot <= self._fits and self._tot2 <= self._fits2:  # the total demand fits: all at full speed
            if not self.unit:
                for j in self.flows:
                    j.speed = 1.0
                self.unit = True
            return
        hbm = [j for j in self.flows if j.demand > 0]
        self._tot = tot = sum([j.demand for j in hbm])
        over = tot > self.bw
        l2 = [j for j in self.flows if j.l2 > 0] if self.l2_bw > 0 else []
        self._tot2 = tot2 = sum([j.l2 for j in l2])
        over2 = self.l2_bw > 0 and tot2 > self.l2_bw
        if not over and not over2:  # flows without demand are never slowed
            if not self.unit:
                for j in self.flows:
                    j.speed = 1.0
                self.unit = True
            return
        self.unit = False
        for j in self.flows:
            j.speed = 1.0
        if over:
            _slow(hbm, [j.demand for j in hbm], self.bw)
        if over2:
            _slow(l2, [j.l2 for j in l2], self.l2_bw)


def _slow(flows: list[HbmFlow], demand: list[float], bw: float) -> None:
    """Cap each flow's speed at its max-min fair share of ``bw`` over its ``demand`` (bytes/ns)."""
    for j, d, s in zip(flows, demand, share_bandwidth(demand, bw), strict=True):
        v = s / d if s > 0 else 1e-12
        if v < j.speed:
            j.speed = v
