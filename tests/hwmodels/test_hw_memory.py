"""L2 residency (line geometry, init states, eviction) and HBM bandwidth sharing (split, fluid model)."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwmodels import L2State, load_chip, share_bandwidth
from hwmodels.memory import HbmFlow, HbmShare, region_lines
from sim.ir import Region, TaskGraph, Tensor
from sim.util.errors import UserError

# --- share_bandwidth ----------------------------------------------------------------------------------

demands = st.lists(st.floats(0, 1e4, allow_nan=False), max_size=12)
totals = st.floats(0, 2e4, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(demands, totals)
def test_share_bandwidth_properties(dem: list[float], total: float) -> None:
    out = share_bandwidth(dem, total)
    eps = 1e-9 * max(1.0, total)
    assert len(out) == len(dem)
    assert sum(out) <= total + eps  # never more than the pipe
    assert all(0 <= o <= d + eps for o, d in zip(out, dem, strict=True))  # never above demand
    assert sum(out) == pytest.approx(min(total, sum(dem)), rel=1e-9, abs=1e-6)  # work conserving
    # max-min fair: a flow that got less than it asked has the largest share (nobody got more)
    for o, d in zip(out, dem, strict=True):
        if o < d - eps:
            assert all(o2 <= o + eps for o2 in out)


def test_share_bandwidth_examples() -> None:
    assert share_bandwidth([10, 10], 10) == [5, 5]
    assert share_bandwidth([2, 10, 10], 10) == [2, 4, 4]
    assert share_bandwidth([], 10) == []
    assert share_bandwidth([5, 5], 0) == [0, 0]
    assert share_bandwidth([1, 2], 100) == [1, 2]



def test_hbm_share_flows_within_bandwidth_run_at_full_speed() -> None:
    hbm = HbmShare(10.0)
    a, b = HbmFlow("a", 100.0, 4.0), HbmFlow("b", 50.0, 0.0)
    hbm.add(a, 0.0)
    hbm.add(b, 0.0)
    assert (a.speed, b.speed) == (1.0, 1.0)
    assert hbm.next_end() == 50.0
    assert [f.owner for f in hbm.finish(50.0)] == ["b"]
    assert a.rem == 50.0 and hbm.next_end() == 50.0


def test_hbm_share_slows_flows_max_min_fairly_and_speeds_up_when_one_ends() -> None:
    hbm = HbmShare(10.0)
    small, big = HbmFlow("small", 100.0, 2.0), HbmFlow("big", 100.0, 16.0)
    hbm.add(small, 0.0)
    hbm.add(big, 0.0)
    assert small.speed == 1.0 and big.speed == 0.5  # 2 + 8 of 10 bytes/ns
    assert hbm.next_end() == 100.0
    assert [f.owner for f in hbm.finish(100.0)] == ["small"]
    assert big.rem == 50.0 and big.speed == 10.0 / 16.0
    assert hbm.next_end() == pytest.approx(80.0)
    assert [f.owner for f in hbm.finish(180.0)] == ["big"]
    assert hbm.next_end() is None


def test_l2_line_bandwidth_slows_lanes_only_when_limited_and_the_tighter_resource_decides() -> None:
    # no L2 limit (0): L2 line demand alone never slows a lane
    free = HbmShare(10.0)
    a, b = HbmFlow("a", 60.0, 0.0, 8.0), HbmFlow("b", 60.0, 0.0, 8.0)
    free.add(a, 0.0)
    free.add_next(b, 0.0)
    assert (a.speed, b.speed) == (1.0, 1.0) and free.next_end() == 60.0
    # 12 bytes/ns of L2 lines: 4 + 8 for a small and a large L2 demand, max-min fairly
    l2 = HbmShare(10.0, l2_bw=12.0)
    small, big = HbmFlow("small", 60.0, 0.0, 4.0), HbmFlow("big", 60.0, 0.0, 16.0)
    l2.add(small, 0.0)
    assert l2.add_next(big, 0.0) == 60.0
    assert small.speed == 1.0 and big.speed == 0.5
    assert [f.owner for f in l2.finish(60.0)] == ["small"]
    assert big.speed == 12.0 / 16.0 and big.rem == 30.0
    # a lane short of HBM (speed 0.5) and of L2 (speed 0.25) at once runs at the smaller speed
    both = HbmShare(10.0, l2_bw=4.0)
    f = HbmFlow("f", 40.0, 20.0, 16.0)
    both.add(f, 0.0)
    assert f.speed == 0.25 and both.next_end() == 160.0


def test_hbm_share_finish_returns_the_closest_flow_under_float_slack() -> None:
    hbm = HbmShare(1.0)
    a, b = HbmFlow("a", 10.0, 0.0), HbmFlow("b", 20.0, 0.0)
    hbm.add(a, 0.0)
    hbm.add(b, 0.0)
    assert [f.owner for f in hbm.finish(9.0)] == ["a"]  # called early: still the one that ends first
    assert [f.owner for f in hbm.flows] == ["b"]

class _SumEveryChange(HbmShare):
    """The sharing rule applied literally: every change sums the flows' demand anew."""

    def add(self, flow: HbmFlow, now: float) -> None:
        self._advance(now)
        self.flows.append(flow)
        self._reshare()

    def add_next(self, flow: HbmFlow, now: float) -> float | None:
        self.add(flow, now)
        return self.next_end()

    def finish(self, now: float) -> list[HbmFlow]:
        self._advance(now)
        flows = self.flows
        if self.unit:
            done = [j for j in flows if j.rem <= 1e-6]
        else:
            done = [j for j in flows if j.rem <= 1e-6 * max(1.0, j.speed)]
        if not done:
            done = [min(flows, key=lambda j: j.rem / j.speed)]
        self.flows = [j for j in flows if all(j is not d for d in done)]
        self._reshare()
        return done

    def _reshare(self) -> None:
        speed = {id(j): 1.0 for j in self.flows}
        over = False
        for attr, bw in (("demand", self.bw), ("l2", self.l2_bw if self.l2_bw > 0 else math.inf)):
            flows = [j for j in self.flows if getattr(j, attr) > 0]
            dem = [getattr(j, attr) for j in flows]
            if not flows or sum(dem) <= bw:
                continue
            over = True
            for j, d, sh in zip(flows, dem, share_bandwidth(dem, bw), strict=True):
                speed[id(j)] = min(speed[id(j)], sh / d if sh > 0 else 1e-12)
        if not over:
            if not self.unit:
                for j in self.flows:
                    j.speed = 1.0
                self.unit = True
            return
        self.unit = False
        for j in self.flows:
            j.speed = speed[id(j)]


_FRACS = st.sampled_from([0.0, 0.5, 0.999, 1.0, 1.001, 2.0, 7.0])


@given(st.floats(1.0, 100.0), st.sampled_from([0.0, 0.5, 1.0, 3.0]),
       st.lists(st.tuples(st.booleans(), st.floats(1.0, 500.0), _FRACS, _FRACS), min_size=1, max_size=120))
@settings(max_examples=150, deadline=None)
def test_hbm_share_with_a_kept_demand_total_matches_summing_at_every_change(
        bw: float, l2_rel: float, steps: list[tuple[bool, float, float, float]]) -> None:
    """HbmShare keeps the flows' total demands (HBM and, when limited, L2 lines) instead of summing them at
    each change: the speeds, remaining work and next ends are exactly those of summing every time, also
    with totals at either bandwidth."""
    l2_bw = bw * l2_rel  # 0: no L2 limit
    fast, ref = HbmShare(bw, l2_bw), _SumEveryChange(bw, l2_bw)
    now = 0.0
    for i, (add, work, frac, frac2) in enumerate(steps):
        if add or not fast.flows:  # demands that put the totals near, at and over the bandwidths
            d, d2 = bw * frac / 3, (l2_bw or bw) * frac2 / 3
            assert fast.add_next(HbmFlow(i, work, d, d2), now) == ref.add_next(HbmFlow(i, work, d, d2), now)
        else:
            dt = fast.next_end()
            assert dt == ref.next_end()
            assert dt is not None
            now += dt
            assert [f.owner for f in fast.finish_next(now)[0]] == [f.owner for f in ref.finish(now)]
        assert fast.unit == ref.unit
        assert [(f.owner, f.rem, f.speed) for f in fast.flows] == [(f.owner, f.rem, f.speed) for f in ref.flows]


# --- line geometry ------------------------------------------------------------------------------------

def _brute(shape: list[int], isz: float, off: list[int], rsh: list[int], line: int, n_lines: int) -> set[int]:
    strides = [math.prod(shape[i + 1:]) for i in range(len(shape))]
    out: set[int] = set()
    for idx in itertools.product(*[range(o, o + r) for o, r in zip(off, rsh, strict=True)]):
        e = sum(i * s for i, s in zip(idx, strides, strict=True))
        b0, b1 = int(e * isz), int(math.ceil((e + 1) * isz)) - 1
        out.update(x for x in range(b0 // line, b1 // line + 1) if x < n_lines)
    return out


@st.composite
def boxes(draw: st.DrawFn) -> tuple:
    nd = draw(st.integers(1, 4))
    shape = [draw(st.sampled_from([1, 2, 3, 8, 16, 64, 100, 128, 512])) for _ in range(nd)]
    off = [draw(st.integers(0, s - 1)) for s in shape]
    rsh = [draw(st.integers(1, min(s - o, 40))) for s, o in zip(shape, off, strict=True)]
    isz = draw(st.sampled_from([0.5, 1, 2, 4, 8]))
    line = draw(st.sampled_from([64, 512]))
    return shape, isz, off, rsh, line


@settings(max_examples=300, deadline=None)
@given(boxes())
def test_region_lines_match_brute_force(box: tuple) -> None:
    shape, isz, off, rsh, line = box
    n_lines = math.ceil(math.prod(shape) * isz / line)
    ls = region_lines(shape, isz, Region(tensor=0, offset=off, shape=rsh), line, n_lines)
    if ls.idx is not None:
        got = [int(x) for x in ls.idx]
    else:
        got = [x for a, b, s in ls.slices for x in range(a, b, s)]
    assert len(got) == len(set(got)) == ls.n
    assert set(got) == _brute(shape, isz, off, rsh, line, n_lines)


# --- L2State --------------------------------------------------------------------------------------------

def _graph() -> TaskGraph:
    mib = 1024 * 1024 // 4  # FP32 elements per MiB
    return TaskGraph(kernel="t", tensors=[
        Tensor(id=0, name="a", shape=[mib], dtype="FP32", kind="param"),
        Tensor(id=1, name="b", shape=[mib], dtype="FP32", kind="alloc"),
        Tensor(id=2, name="c", shape=[mib], dtype="FP32", kind="alloc"),
    ])


def _all(l2: L2State, t: int):  # noqa: ANN202
    return l2.lines_of(Region(tensor=t, offset=[0], shape=[1024 * 1024 // 4]))


def test_init_states() -> None:
    chip = load_chip()
    g = _graph()
    assert L2State(chip, g, "cold").resident_bytes == 0
    warm_in = L2State(chip, g, "inputs_warm")
    assert warm_in.resident_fraction(0) == 1.0 and warm_in.resident_fraction(1) == 0.0
    warm = L2State(chip, g, "warm")
    assert all(warm.resident_fraction(t) == 1.0 for t in range(3))
    with pytest.raises(UserError, match="hot"):
        L2State(chip, g, "hot")


def test_capacity_lru_eviction() -> None:
    chip = load_chip(overrides=["soc.l2_size_mib=2"])  # room for two of the three 1 MiB tensors
    g = _graph()
    l2 = L2State(chip, g, "cold")
    n = _all(l2, 0).n
    assert n == 2048
    assert l2.read(_all(l2, 0)) == 0
    assert l2.read(_all(l2, 1)) == 0
    assert l2.read(_all(l2, 0)) == n  # both fit
    assert l2.read(_all(l2, 2)) == 0  # evicts b (least recently used), not a
    assert l2.resident_bytes <= chip.l2_capacity_bytes
    assert l2.read(_all(l2, 0)) == n
    assert l2.read(_all(l2, 1)) == 0
    assert l2.evictions >= 1


def _part(l2: L2State, t: int, half: int) -> object:
    """Half ``half`` (0 first, 1 second) of 1 MiB tensor ``t``'s lines."""
    q = 128 * 1024
    return l2.lines_of(Region(tensor=t, offset=[half * q], shape=[q]))


def test_eviction_drops_the_least_recently_touched_lines_not_a_whole_tensor() -> None:
    chip = load_chip(overrides=["soc.l2_size_mib=2"])
    l2 = L2State(chip, _graph(), "cold")
    half = _part(l2, 0, 0).n
    l2.read(_all(l2, 0))
    l2.read(_all(l2, 1))
    l2.read(_part(l2, 0, 0))  # a's first half is now newer than all of b
    assert l2.write(_part(l2, 2, 0)) == half  # L2 full: half a MiB must go
    # the oldest lines are a's second half: they go, b and a's first half stay (a whole-tensor LRU
    # would have dropped all of b, the tensor touched longest ago)
    assert l2.evicted_lines == half
    assert l2.read(_all(l2, 1)) == 2 * half
    assert l2.read(_part(l2, 0, 0)) == half
    assert l2.read(_part(l2, 0, 1)) == 0


def test_whole_tensor_eviction_is_the_switch_that_drops_the_tensor_touched_longest_ago() -> None:
    chip = load_chip(overrides=["soc.l2_size_mib=2", "l2.evict_whole_tensors=true"])
    l2 = L2State(chip, _graph(), "cold")
    half = _part(l2, 0, 0).n
    l2.read(_all(l2, 0))
    l2.read(_all(l2, 1))
    l2.read(_part(l2, 0, 0))
    l2.write(_part(l2, 2, 0))
    assert l2.evicted_lines == 2 * half  # all of b
    assert l2.read(_all(l2, 0)) == 2 * half
    assert l2.read(_part(l2, 1, 0)) == 0


accesses = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 255), st.integers(1, 256), st.booleans()),
                    max_size=40)


@pytest.mark.parametrize("whole", ["false", "true"])
@settings(max_examples=100, deadline=None)
@given(seq=accesses)
def test_residency_counts_stay_consistent_under_any_access_sequence(whole: str, seq: list) -> None:
    # smaller than the three tensors together
    chip = load_chip(overrides=["soc.l2_size_mib=1", f"l2.evict_whole_tensors={whole}"])
    l2 = L2State(chip, _graph(), "inputs_warm")
    unit = 1024  # FP32 elements in 4 KiB: a tensor is 256 units
    for t, start, length, is_write in seq:
        length = min(length, 256 - start)
        ls = l2.lines_of(Region(tensor=t, offset=[start * unit], shape=[length * unit]))
        if is_write:
            l2.write(ls)
        else:
            l2.read(ls)
        assert l2.read(ls) == ls.n  # just touched: all resident (the region fits the capacity)
        tls = l2.tensors.values()
        assert l2.resident_lines == sum(tl.count for tl in tls) == sum(tl.n - tl.arr.count(0) for tl in tls)
        assert all(tl.dirty == tl.arr.count(2) for tl in tls)
        assert l2.resident_bytes <= chip.l2_capacity_bytes


def test_partial_read_and_dirty_write() -> None:
    chip = load_chip()
    g = _graph()
    l2 = L2State(chip, g, "cold")
    half = l2.lines_of(Region(tensor=1, offset=[0], shape=[128 * 1024]))
    assert l2.write(half) == half.n
    assert l2.write(half) == 0
    assert l2.read(_all(l2, 1)) == half.n  # half the lines hit
    assert l2.read(half) == half.n
