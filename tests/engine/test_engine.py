"""Engine acceptance tests: invariants over random DAGs and chips, contention, determinism."""

from __future__ import annotations

import os
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from stub_cost import StubCostModel

from hwmodels.chip import load_chip
from kernels.registry import build_graph
from sim.engine import RunOptions, cost_model, noise_keys, simulate
from sim.engine.barriers import Segmenter
from sim.ir import (
    BARRIER,
    ArgDir,
    Block,
    CoreShape,
    Edge,
    Op,
    Pipe,
    Region,
    Task,
    TaskArg,
    TaskGraph,
    TaskKind,
    Tensor,
)
from sim.ir.records import RunResult, SubtaskRecord
from sim.util.errors import UserError

_PIPE = {"aic": Pipe.CUBE, "aiv0": Pipe.VECTOR, "aiv1": Pipe.VECTOR}


def _op(lane: str, kind: str = "vec", nbytes: int = 0) -> Op:
    pipe = Pipe.MTE2 if kind == "load" else _PIPE[lane]
    return Op(kind=kind, name=kind, pipe=pipe, lane=lane, nbytes=nbytes)


def _kernel(idx: int, shape: CoreShape, blocks: int, n_ops: int, nbytes: int = 0, dual: bool = False,
            after: int = 0) -> Task:
    """A kernel task: per lane ``n_ops`` ops (+ a load of ``nbytes``); with ``after`` > 0 a barrier op
    (pl.system.syncall) on every lane, then ``after`` more ops."""
    if shape == CoreShape.AIC:
        lanes, kids = ["aic"], [idx, -1, -1]
    elif shape == CoreShape.AIV:
        lanes, kids = ["aiv0"], [-1, idx, -1]
    else:
        lanes = ["aic", "aiv0", "aiv1"] if dual else ["aic", "aiv0"]
        kids = [idx, idx, idx if dual else -1]
    ops = []
    for ln in lanes:
        ops += [_op(ln) for _ in range(n_ops)]
        if nbytes:
            ops.append(_op(ln, "load", nbytes))
    if after:
        ops += [Op(kind=BARRIER, name="syncall", pipe=Pipe.SCALAR, lane=ln, site="k.py:7") for ln in lanes]
        for ln in lanes:
            ops += [_op(ln) for _ in range(after)]
    return Task(idx=idx, task_id=(1 << 32) | idx, name=f"k{idx}", shape=shape, block_num=blocks,
                kernel_ids=kids, blocks=[Block(idx=b, ops=ops) for b in range(blocks)])


def _gang(t: Task) -> bool:
    """All blocks launch together: sync_start, or a barrier across the task's blocks."""
    return t.sync_start or any(o.kind == BARRIER for b in t.blocks for o in b.ops)


def _too_big(g: TaskGraph, n_cl: int) -> bool:
    """A task the runtime rejects: all blocks launched together, more blocks than cores of its shape."""
    return any(_gang(t) and t.block_num > (2 * n_cl if t.shape == CoreShape.AIV else n_cl) for t in g.kernel_tasks())


@st.composite
def graphs(draw: st.DrawFn, max_tasks: int = 7, early: bool = True) -> TaskGraph:
    n = draw(st.integers(1, max_tasks))
    tasks: list[Task] = []
    for i in range(n):
        kind = draw(st.sampled_from(["AIC", "AIV", "AIV", "MIX", "MIX2", "alloc", "dummy"]))
        if kind == "alloc":
            tasks.append(Task(idx=i, task_id=(1 << 32) | i, kind=TaskKind.ALLOC, name="alloc",
                              shape=CoreShape.DUMMY, block_num=1))
        elif kind == "dummy":
            tasks.append(Task(idx=i, task_id=(1 << 32) | i, kind=TaskKind.DUMMY, name="dep",
                              shape=CoreShape.DUMMY, block_num=1))
        else:
            shape = CoreShape.MIX if kind.startswith("MIX") else CoreShape(kind)
            k = _kernel(i, shape, draw(st.integers(1, 6)), draw(st.integers(1, 4)),
                        nbytes=draw(st.sampled_from([0, 4096, 65536])), dual=kind == "MIX2",
                        after=draw(st.sampled_from([0, 0, 0, 0, 1, 3])))
            k.allow_early_resolve = draw(st.booleans()) if early else False
            k.sync_start = draw(st.sampled_from([False, False, False, True])) if early else False
            tasks.append(k)
    edges = []
    for j in range(1, n):
        if tasks[j].kind == TaskKind.ALLOC:
            continue  # alloc tasks complete inline at submit: they are creators, never consumers
        for i in draw(st.sets(st.integers(0, j - 1), max_size=3)):
            edges.append(Edge(pred=i, succ=j, source="tensormap"))
    return TaskGraph(kernel="rand", tasks=tasks, edges=edges)


@st.composite
def chips(draw: st.DrawFn, orch_to_sched: bool | None = None):  # noqa: ANN201
    """Random chips; ``orch_to_sched`` fixes that switch (None: drawn, true one time in three)."""
    orch = draw(st.sampled_from(["false", "false", "true"])) if orch_to_sched is None else str(orch_to_sched).lower()
    sets = [
        f"soc.clusters={draw(st.integers(1, 6))}",
        f"soc.cube_freq_mhz={draw(st.sampled_from([1000.0, 1500.0, 1850.0]))}",
        f"soc.vec_freq_mhz={draw(st.sampled_from([1000.0, 1850.0]))}",
        f"soc.hbm_bw_gbps={draw(st.sampled_from([50.0, 400.0, 1600.0]))}",
        f"runtime.n_sched_threads={draw(st.integers(1, 3))}",
        f"runtime.orch_to_sched={orch}",
        f"runtime.sched_start_phase_iters={draw(st.sampled_from([0.0, 0.0, 1.0, 3.0]))}",
    ]
    return load_chip(None, sets)


_MODEL = StubCostModel(op_ns=80.0, ns_per_byte=0.01)
_N = int(os.environ.get("SWIMSIM_ENGINE_EXAMPLES", "40"))  # raise for a longer soak
_SETTINGS = settings(max_examples=_N, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _run(g: TaskGraph, chip, **kw) -> RunResult:  # noqa: ANN001
    return simulate(g, chip, RunOptions(**kw), cost_model=_MODEL)


def _kernel_preds(g: TaskGraph) -> dict[int, set[int]]:
    """Kernel-task predecessors, looking through alloc/dummy tasks."""
    preds = g.preds()
    kinds = {t.idx: t.kind for t in g.tasks}
    memo: dict[int, set[int]] = {}

    def up(i: int) -> set[int]:
        if i not in memo:
            out: set[int] = set()
            for q in preds[i]:
                if kinds[q] == TaskKind.KERNEL:
                    out.add(q)
                else:
                    out |= up(q)
            memo[i] = out
        return memo[i]

    return {t.idx: up(t.idx) for t in g.tasks}


@given(graphs(), chips(), st.integers(0, 3), st.booleans())
@_SETTINGS
def test_invariants(g: TaskGraph, chip, seed: int, pmu: bool) -> None:  # noqa: ANN001
    if _too_big(g, chip.soc.clusters):  # the runtime rejects gang-launched tasks larger than the chip
        with pytest.raises(UserError):
            _run(g, chip, seed=seed)
        return
    _check_invariants(g, chip, _run(g, chip, seed=seed, pmu_mode=pmu), pmu)


def _diamond(early: bool) -> TaskGraph:
    """MIX(4 blocks) -> MIX(3 blocks) -> AIC(1 block), edges 0->1, 0->2, 1->2: with 2 scheduler threads
    on 4 clusters, k1's blocks finish on cores of both threads, so both count its FINs."""
    k0 = _kernel(0, CoreShape.MIX, 4, 1, dual=True)
    k1 = _kernel(1, CoreShape.MIX, 3, 1, nbytes=4096, dual=True)
    k2 = _kernel(2, CoreShape.AIC, 1, 1)
    k2.allow_early_resolve = early
    return TaskGraph(kernel="rand", tasks=[k0, k1, k2], edges=[
        Edge(pred=0, succ=1, source="tensormap"), Edge(pred=0, succ=2, source="tensormap"),
        Edge(pred=1, succ=2, source="tensormap")])


_DIAMOND_CHIP = ["soc.clusters=4", "soc.cube_freq_mhz=1000", "soc.vec_freq_mhz=1000", "soc.hbm_bw_gbps=50",
                 "runtime.n_sched_threads=2", "runtime.orch_to_sched=false", "runtime.sched_start_phase_iters=0"]


# A scheduler thread whose clock ran ahead of simulated time counted a FIN before the read that saw it,
# so a peer completed k1 (and dispatched k2) before k1's last FIN was observed (docs/model.md §4.3).
@example(g=_diamond(True), chip=load_chip(None, _DIAMOND_CHIP), l2="warm")
@example(g=_diamond(False), chip=load_chip(None, _DIAMOND_CHIP), l2="warm")
@given(graphs(max_tasks=5), chips(), st.sampled_from(["cold", "inputs_warm", "warm"]))
@settings(max_examples=max(5, _N // 3), deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_invariants_real_cost_model(g: TaskGraph, chip, l2: str) -> None:  # noqa: ANN001
    assume(not _too_big(g, chip.soc.clusters))
    _check_invariants(g, chip, simulate(g, chip, RunOptions(l2_init=l2)), False)


def _redeal_case() -> TaskGraph:
    """A sync_start MIX task feeding two AIC tasks among independent AIC/AIV and dummy tasks."""
    k0 = _kernel(0, CoreShape.MIX, 2, 1, dual=True)
    k0.sync_start = True
    tasks: list[Task] = [k0]
    for i, kind in enumerate(["AIC", "AIC", "dummy", "AIC", "AIC", "dummy", "dummy", "AIV", "AIC", "AIV"], start=1):
        if kind == "dummy":
            tasks.append(Task(idx=i, task_id=(1 << 32) | i, kind=TaskKind.DUMMY, name="dep",
                              shape=CoreShape.DUMMY, block_num=1))
        else:
            tasks.append(_kernel(i, CoreShape(kind), 1, 1))
    return TaskGraph(kernel="rand", tasks=tasks, edges=[Edge(pred=0, succ=5, source="tensormap"),
                                                        Edge(pred=0, succ=9, source="tensormap")])


# A completion poll that yielded across the re-deal read a core its new owner had emptied meanwhile.
@example(g=_redeal_case(), chip=load_chip(None, ["soc.clusters=5", "runtime.n_sched_threads=3",
                                                 "runtime.orch_to_sched=true"]), seed=2)
@given(graphs(max_tasks=10), chips(orch_to_sched=True), st.integers(0, 3))
@_SETTINGS
def test_invariants_orch_to_sched(g: TaskGraph, chip, seed: int) -> None:  # noqa: ANN001
    """docs/model.md §4.4: after the last submit the orchestrator thread joins the schedulers and the
    clusters are dealt again, while completion polls and dispatches are in flight."""
    assume(not _too_big(g, chip.soc.clusters))
    _check_invariants(g, chip, _run(g, chip, seed=seed), False)


def _check_invariants(g: TaskGraph, chip, r: RunResult, pmu: bool) -> None:  # noqa: ANN001
    rt = chip.runtime
    n_cl = chip.soc.clusters
    subs = r.subtasks
    # every block x lane of every kernel task ran exactly once
    want = {(t.idx, b, ln) for t in g.kernel_tasks() for b in range(t.block_num)
            for ln in (["aic"] if t.shape == CoreShape.AIC else ["aiv0"] if t.shape == CoreShape.AIV
                       else [x for x, k in zip(["aic", "aiv0", "aiv1"], t.kernel_ids, strict=True) if k != -1])}
    got = [(s.task, s.block, s.lane) for s in subs]
    assert sorted(got) == sorted(want)
    # shape: lanes on cores of their kind; MIX lanes of one block share a cluster
    cluster_of = {c: c if c < n_cl else (c - n_cl) // 2 for c in range(r.num_cores)}
    by_block = defaultdict(set)
    for s in subs:
        assert r.core_types[s.core_id] == ("aic" if s.lane == "aic" else "aiv")
        n_th = rt.n_sched_threads + (1 if rt.orch_to_sched else 0)
        assert r.n_sched_threads == n_th
        assert r.core_to_thread[s.core_id] == cluster_of[s.core_id] % n_th  # after any re-deal
        assert s.thread in (cluster_of[s.core_id] % rt.n_sched_threads, cluster_of[s.core_id] % n_th)
        by_block[(s.task, s.block)].add(cluster_of[s.core_id])
    for (ti, _b), cls in by_block.items():
        if g.tasks[ti].shape == CoreShape.MIX:
            assert len(cls) == 1
    # monotone timestamps
    for s in subs:
        assert s.dispatch <= s.receive <= s.start <= s.end <= s.finish
    # one block at a time per core, tokens 1, 2, 3 ... in execution order, write-back respected
    per_core = defaultdict(list)
    for s in subs:
        per_core[s.core_id].append(s)
    for rows in per_core.values():
        rows.sort(key=lambda s: s.start)
        assert [s.reg_task_id for s in rows] == list(range(1, len(rows) + 1))
        for a, b in zip(rows, rows[1:], strict=False):
            assert a.end + rt.record_writeback_us * 1000 <= b.receive + 1e-6
    # dependencies: a block is dispatched after every predecessor finished, starts after notification
    fin = defaultdict(float)
    for s in subs:
        fin[s.task] = max(fin[s.task], s.finish)
    kp = _kernel_preds(g)
    early = any(t.allow_early_resolve for t in g.tasks) and not pmu
    notify = min(rt.dmb_propagation_us, rt.doorbell_propagation_us) * 1000
    for s in subs:
        for q in kp[s.task]:
            if not early:  # staged (early-dispatched) blocks may be dispatched before the producer finished
                assert s.dispatch >= fin[q]
            assert s.start >= fin[q] + notify - 1e-6
    # phase records (simpler docs/dfx/l2-swimlane-profiling.md §3.2): outer phases of a thread never
    # overlap, loop_iter never decreases, every observed FIN is counted once by a complete record,
    # every published subtask once by a dispatch record (staged ones by early_dispatch records, counted
    # in blocks)
    outer = {"complete", "dispatch", "release", "wire", "dummy", "early_dispatch"}
    for th in range(r.n_sched_threads):
        ph = [p for p in r.phases if p.thread == th and p.kind in outer]
        for a, b in zip(ph, ph[1:], strict=False):
            assert a.end <= b.start + 1e-6 and a.loop_iter <= b.loop_iter
    assert sum(p.tasks_processed for p in r.phases if p.kind == "complete") == len(subs)
    if not any(p.kind == "early_dispatch" for p in r.phases):
        assert sum(p.tasks_processed for p in r.phases if p.kind == "dispatch") == len(subs)
    n_wired = sum(1 for t in g.tasks if t.kind != TaskKind.ALLOC)
    assert sum(p.tasks_processed for p in r.phases if p.kind == "wire") == n_wired
    assert len(r.submits) == len(g.tasks)
    # sync_start tasks and tasks with a barrier publish all their blocks in one pass
    for t in g.kernel_tasks():
        if _gang(t) and t.block_num > 1:
            assert len({s.dispatch for s in subs if s.task == t.idx}) == 1
    # barriers: no lane leaves barrier k before the last participant arrived; lanes of one barrier leave
    # after one cross-core sync on their own clock; the lane's exec time includes the waits
    arrivals = defaultdict(list)
    for s in subs:
        assert len(s.barriers) == sum(1 for o in g.tasks[s.task].blocks[s.block].ops
                                      if o.kind == BARRIER and o.lane == s.lane)
        for k, (a, d) in enumerate(s.barriers):
            assert s.start <= a <= d <= s.end
            arrivals[(s.task, k)].append((s, a, d))
    for rows in arrivals.values():
        last = max(a for _, a, _ in rows)
        for s, _a, d in rows:
            cyc = 1000.0 / (chip.soc.cube_freq_mhz if s.lane == "aic" else chip.soc.vec_freq_mhz)
            assert d == pytest.approx(last + chip.core.cross_core_flag_cycles * cyc)
    # wall between the unlimited-core critical path and the serial sum plus overheads
    dur = defaultdict(float)
    for s in subs:
        dur[s.task] = max(dur[s.task], s.end - s.start)
    preds = g.preds()
    longest: dict[int, float] = {}
    for t in g.tasks:
        longest[t.idx] = dur[t.idx] + max((longest[q] for q in preds[t.idx]), default=0.0)
    wall = max((s.finish for s in subs), default=0.0)
    assert wall >= max(longest.values(), default=0.0) - 1e-6
    serial = sum(s.end - s.start for s in subs)
    us = 1000.0
    iter_max = (2 * r.num_cores * rt.cond_poll_us + rt.sched_idle_iter_us + 2.0) * us
    per_sub = (rt.cold_first_task_extra_max_us + rt.local_setup_cold_us + rt.record_writeback_us
               + rt.dmb_propagation_us + rt.fin_visibility_us + rt.resolve_base_us + 2.0) * us + 2 * iter_max
    wiring = (rt.wiring_backoff_iters + 1) * iter_max
    bound = r.notes["orch_end_ns"] + serial + len(subs) * per_sub + len(g.tasks) * wiring
    assert wall <= bound


@given(graphs(max_tasks=5), chips(), st.integers(0, 5))
@settings(max_examples=max(10, _N // 2), deadline=None)
def test_same_seed_same_records(g: TaskGraph, chip, seed: int) -> None:  # noqa: ANN001
    assume(not _too_big(g, chip.soc.clusters))
    a = _run(g, chip, seed=seed, jitter=0.1)
    b = _run(g, chip, seed=seed, jitter=0.1)
    assert a.model_dump_json() == b.model_dump_json()


@given(graphs(max_tasks=6), chips(), st.integers(0, 3), st.sampled_from([0.0, 0.1]))
@settings(max_examples=max(10, _N // 2), deadline=None)
def test_run_records_are_their_validated_form_and_own_their_containers(g: TaskGraph, chip, seed: int,  # noqa: ANN001
                                                                       jitter: float) -> None:
    """The engine builds its records without validation (sim.util.unvalidated): each equals the record
    validation makes of its own dump, every float field holds a float, and no two records share a list
    or dict."""
    assume(not _too_big(g, chip.soc.clusters))
    r = _run(g, chip, seed=seed, jitter=jitter)
    seen: set[int] = set()
    for rec in [*r.subtasks, *r.phases, *r.submits]:
        assert type(rec).model_validate(rec.model_dump()) == rec
        for name, field in type(rec).model_fields.items():
            v = getattr(rec, name)
            if field.annotation is float:
                assert type(v) is float, (type(rec).__name__, name, v)
            if isinstance(v, (list, dict)):
                assert id(v) not in seen, (type(rec).__name__, name)
                seen.add(id(v))
        if isinstance(rec, SubtaskRecord):
            values = [*rec.pipe_busy.values(), *rec.breakdown.values(), *(x for b in rec.barriers for x in b)]
            assert all(type(x) is float for x in values)
    assert RunResult.model_validate_json(r.model_dump_json()).model_dump_json() == r.model_dump_json()


def test_hbm_contention_slows_concurrent_memory_bound_blocks() -> None:
    chip = load_chip(None, ["soc.hbm_bw_gbps=100"])
    model = StubCostModel(op_ns=10.0, ns_per_byte=0.01)  # 1 MB load: ~10 µs, demand ~100 B/ns

    def graph(blocks: int) -> TaskGraph:
        t = _kernel(0, CoreShape.AIV, blocks, 1, nbytes=1 << 20)
        return TaskGraph(kernel="c", tasks=[t])

    one = simulate(graph(1), chip, RunOptions(cold_start=False), cost_model=model)
    two = simulate(graph(2), chip, RunOptions(cold_start=False), cost_model=model)
    e1 = one.subtasks[0].end - one.subtasks[0].start
    e2 = [s.end - s.start for s in two.subtasks]
    overlap = min(s.end for s in two.subtasks) - max(s.start for s in two.subtasks)
    assert overlap > 0
    assert min(e2) > e1 * 1.2
    assert all(s.breakdown["hbm_contention"] > 0 for s in two.subtasks)
    assert one.subtasks[0].breakdown["hbm_contention"] == pytest.approx(0.0, abs=1e-6)
    # below the bandwidth limit there is no slowdown
    wide = load_chip(None, ["soc.hbm_bw_gbps=1600"])
    two_wide = simulate(graph(2), wide, RunOptions(cold_start=False), cost_model=model)
    for s in two_wide.subtasks:
        assert s.end - s.start == pytest.approx(e1, rel=1e-9)


@given(st.lists(st.tuples(st.integers(1, 6), st.integers(1, 4)), min_size=1, max_size=6),
       st.integers(1, 4), st.integers(1, 4), st.integers(1, 3))
@settings(max_examples=max(10, _N * 3 // 4), deadline=None)
def test_more_aiv_cores_never_slower(spec: list[tuple[int, int]], c1: int, extra: int, nth: int) -> None:
    tasks = [_kernel(i, CoreShape.AIV, b, n, nbytes=4096) for i, (b, n) in enumerate(spec)]
    g = TaskGraph(kernel="indep", tasks=tasks)

    def wall(clusters: int) -> float:
        chip = load_chip(None, [f"soc.clusters={clusters}", f"runtime.n_sched_threads={nth}"])
        r = simulate(g, chip, RunOptions(cold_start=False), cost_model=_MODEL)
        return max(s.end for s in r.subtasks)

    # Tolerance: with more cores one thread may claim blocks a peer would have claimed in parallel,
    # so payload builds serialise (docs/model.md §4.4); bounded by one build + publish + pop per block.
    rt = load_chip().runtime
    slack = sum(b for b, _ in spec) * (rt.payload_build_per_subtask_us + rt.publish_per_subtask_us
                                       + rt.dispatch_pop_us) * 1000
    assert wall(c1 + extra) <= wall(c1) + slack + 1e-6


def _chain(flag: bool) -> TaskGraph:
    a = _kernel(0, CoreShape.AIC, 2, 40)
    a.allow_early_resolve = flag
    b = _kernel(1, CoreShape.AIV, 4, 5)
    c = _kernel(2, CoreShape.AIV, 2, 5)
    return TaskGraph(kernel="chain", tasks=[a, b, c], edges=[Edge(pred=0, succ=1, source="tensormap"),
                                                              Edge(pred=1, succ=2, source="tensormap")])


def test_early_dispatch_stages_consumers_before_producer_finish() -> None:
    chip = load_chip()
    fast = _run(_chain(True), chip, cold_start=False)
    slow = _run(_chain(False), chip, cold_start=False)
    fin_a = max(s.finish for s in fast.subtasks if s.task == 0)
    b = [s for s in fast.subtasks if s.task == 1]
    assert any(s.dispatch + 40 < fin_a for s in b)  # early dispatch: > 2 ticks (40 ns, docs/model.md §5) before finish
    assert all(s.start >= fin_a + chip.runtime.doorbell_propagation_us * 1000 - 1e-6 for s in b)
    assert any(p.kind == "early_dispatch" for p in fast.phases)
    gap_fast = min(s.start for s in b) - fin_a
    gap_slow = min(s.start for s in slow.subtasks if s.task == 1) - max(
        s.finish for s in slow.subtasks if s.task == 0)
    assert gap_fast < gap_slow
    # auto-chain: the consumer inherits the flag, so its own consumer is staged too
    fin_b = max(s.finish for s in b)
    assert any(s.dispatch < fin_b for s in fast.subtasks if s.task == 2)
    # PMU runs never stage
    pmu = _run(_chain(True), chip, cold_start=False, pmu_mode=True)
    assert not any(p.kind == "early_dispatch" for p in pmu.phases)


def _load_graph(blocks: int) -> TaskGraph:
    """``blocks`` AIV blocks, each loading its own 2 MiB slab of a cold GM tensor (real cost model)."""
    rows, cols = 256, 4096
    x = Tensor(id=0, name="x", shape=[rows * 8, cols], dtype="FP16", nbytes=rows * 8 * cols * 2)
    bl = [Block(idx=b, ops=[Op(kind="load", name="load", pipe=Pipe.MTE2, lane="aiv0", dtype="FP16",
                               shape=[rows, cols], nbytes=rows * cols * 2, rows=rows, row_bytes=cols * 2,
                               region=Region(tensor=0, offset=[rows * b, 0], shape=[rows, cols]))])
          for b in range(blocks)]
    t = Task(idx=0, task_id=1 << 32, name="ld", shape=CoreShape.AIV, block_num=blocks, kernel_ids=[-1, 0, -1],
             blocks=bl, args=[TaskArg(idx=0, dir=ArgDir.INPUT, region=Region(tensor=0, offset=[0, 0],
                                                                            shape=[rows * 8, cols]))])
    return TaskGraph(kernel="loads", tensors=[x], tasks=[t])


def test_hbm_contention_with_real_cost_model() -> None:
    opts = RunOptions(l2_init="cold", cold_start=False)
    narrow = load_chip(None, ["soc.hbm_bw_gbps=60"])
    one = simulate(_load_graph(1), narrow, opts).subtasks[0]
    demand = one.end - one.start
    assert one.breakdown["hbm_contention"] == pytest.approx(0.0, abs=1e-6)
    two = simulate(_load_graph(2), narrow, opts).subtasks
    assert all(s.end - s.start > demand * 1.2 for s in two)
    wide = load_chip(None, ["soc.hbm_bw_gbps=1600"])
    for s in simulate(_load_graph(2), wide, opts).subtasks:
        assert s.end - s.start == pytest.approx(demand, rel=1e-9)


@pytest.mark.parametrize("pmu", [False, True])
def test_pending_slot_pipelining(pmu: bool) -> None:
    """docs/model.md §4.4: PENDING dispatch writes the next token while the core runs; the running task's
    FIN is only recognised at the pending task's ACK. PMU runs never use the pending slot."""
    chip = load_chip(None, ["soc.clusters=2", "runtime.n_sched_threads=1"])
    rt = chip.runtime
    g = TaskGraph(kernel="waves", tasks=[_kernel(0, CoreShape.AIC, 8, 30)])
    r = _run(g, chip, cold_start=False, pmu_mode=pmu)
    per_core = defaultdict(list)
    for s in r.subtasks:
        per_core[s.core_id].append(s)
    pairs = 0
    for rows in per_core.values():
        rows.sort(key=lambda s: s.start)
        for a, b in zip(rows, rows[1:], strict=False):
            if b.dispatch < a.end:  # b sat in the pending slot
                pairs += 1
                switch = (rt.record_writeback_us + rt.local_setup_back_to_back_us) * 1000
                assert b.start == pytest.approx(a.end + switch)
                assert a.finish >= b.start + rt.fin_visibility_us * 1000 - 1e-6
            else:
                assert b.dispatch >= a.finish
    assert (pairs == 0) if pmu else (pairs > 0)


def test_swimlane_cost_switch_removes_observer_effect() -> None:
    """docs/model.md §4.5: with swimlane costs off the back-to-back switch loses the record
    write-back and the dirty-cache local setup, and the orchestrator its per-submit record."""
    on = load_chip(None, ["soc.clusters=2", "runtime.n_sched_threads=1"])
    off = load_chip(None, ["soc.clusters=2", "runtime.n_sched_threads=1", "runtime.swimlane_costs=false"])
    g = TaskGraph(kernel="waves", tasks=[_kernel(0, CoreShape.AIC, 8, 30)])

    def switches(chip) -> list[float]:  # noqa: ANN001
        r = _run(g, chip, cold_start=False)
        per_core = defaultdict(list)
        for s in r.subtasks:
            per_core[s.core_id].append(s)
        out = []
        for rows in per_core.values():
            rows.sort(key=lambda s: s.start)
            out += [b.start - a.end for a, b in zip(rows, rows[1:], strict=False) if b.dispatch < a.end]
        return out

    assert switches(off) and all(x == pytest.approx(off.runtime.local_setup_after_idle_us * 1000)
                                 for x in switches(off))
    assert min(switches(on)) > max(switches(off))
    assert _run(g, off).submits[0].end < _run(g, on).submits[0].end


@pytest.mark.parametrize("checks", [0, 2, 5])
def test_t0_wiring_backoff_counts_its_own_queue_checks(checks: int) -> None:
    """docs/model.md §4.2/§4.3: with fewer than 30 tasks queued and the orchestrator still busy, T0 wires
    after 32 skipped iterations, and each T0 iteration also pays its own queue checks."""
    sets = ["runtime.orch_submit_us=5.0", f"runtime.t0_queue_checks={checks}"]
    chip = load_chip(None, sets)
    rt = chip.runtime
    g = TaskGraph(kernel="backoff", tasks=[_kernel(i, CoreShape.AIV, 1, 1) for i in range(20)])
    r = _run(g, chip, cold_start=False, swimlane_level=4)
    first_wire = min(p.start for p in r.phases if p.kind == "wire" and p.thread == 0)
    per = (rt.sched_idle_iter_us + checks * rt.dispatch_pop_us) * 1000
    since = r.submits[0].end
    assert since + rt.wiring_backoff_iters * per - 1e-6 <= first_wire <= since + (rt.wiring_backoff_iters + 2) * per
    assert first_wire < r.notes["orch_end_ns"]  # the back-off, not the end of orchestration, drained first


def test_jitter_is_drawn_per_function_so_an_inserted_task_does_not_reshuffle_it() -> None:
    """Common random numbers: a variant that inserts a task draws the same noise for the others."""
    def task(idx: int, name: str) -> Task:
        t = _kernel(idx, CoreShape.AIV, 1, 4)
        return t.model_copy(update={"name": name})

    before = TaskGraph(kernel="v", tasks=[task(0, "a"), task(1, "b"), task(2, "b")])
    after = TaskGraph(kernel="v", tasks=[task(0, "a"), task(1, "new"), task(2, "b"), task(3, "b")])
    assert noise_keys(before) == ["a#0", "b#0", "b#1"]
    assert noise_keys(after) == ["a#0", "new#0", "b#0", "b#1"]
    chip = load_chip()
    model = StubCostModel(op_ns=100.0)
    opts = RunOptions(seed=3, jitter=0.2, cold_start=False)
    ra = simulate(before, chip, opts, cost_model=model)
    rb = simulate(after, chip, opts, cost_model=model)

    def execs(r: RunResult, name: str) -> list[float]:
        return sorted(round(s.end - s.start, 6) for s in r.subtasks if s.func == name)

    for name in ("a", "b"):
        assert execs(ra, name) == execs(rb, name)
    assert len(set(execs(ra, "b"))) == 2  # the two b tasks still draw different noise


@pytest.mark.parametrize("phase", [0.0, 1.0])
def test_scheduler_start_phase_decides_which_thread_takes_a_shared_task(phase: float) -> None:
    """In lockstep (phase 0) the same peer always wins the race for a wired task, whatever the seed;
    with seeded loop phases (runtime.sched_start_phase_iters) the winner varies with the seed."""
    chip = load_chip(None, [f"runtime.sched_start_phase_iters={phase}"])
    g = TaskGraph(kernel="race", tasks=[_kernel(0, CoreShape.AIV, 1, 2)])
    winners = {next(s.thread for s in _run(g, chip, seed=seed, cold_start=False).subtasks) for seed in range(12)}
    assert len(winners) == 1 if phase == 0 else len(winners) >= 2


def test_cost_model_reuse_across_runs_does_not_change_results() -> None:
    """The in-core cost model is reused between runs on the same chip (its memos hold), and a
    different chip gets its own: a run gives the same records before and after other runs."""
    g = build_graph("qkv_proj_rope:precompute", "decode")
    chip = load_chip("910C-calibrated")
    slow = load_chip("910C-calibrated", ["vector.op_fixed_ns=300"])
    cost_model._COST_MODELS.clear()
    first = simulate(g, chip, RunOptions(seed=3, jitter=0.03)).model_dump_json()
    other = simulate(g, slow, RunOptions(seed=3, jitter=0.03))
    again = simulate(g, chip, RunOptions(seed=3, jitter=0.03)).model_dump_json()
    assert again == first and len(cost_model._COST_MODELS) == 2
    assert other.model_dump_json() != first


@given(st.sampled_from([CoreShape.AIV, CoreShape.AIC, CoreShape.MIX]),
       st.lists(st.tuples(st.integers(1, 12), st.sampled_from([0, 4096, 1 << 20])), min_size=1, max_size=8),
       st.integers(1, 6), st.integers(0, 3), st.sampled_from([0.0, 0.2]))
@settings(max_examples=max(10, _N // 2), deadline=None)
def test_barrier_no_block_passes_before_the_last_arrives(shape: CoreShape, phase1: list[tuple[int, int]],
                                                         after: int, seed: int, jitter: float) -> None:
    """docs/model.md §4.5: a two-segment task (pl.system.syncall between the phases) whose blocks
    reach the barrier at different times: every lane leaves it only after the last lane of the last
    block arrived, plus one cross-core sync; phase 1 lies before the arrival, phase 2 after the departure."""
    chip = load_chip(None, ["soc.clusters=8", "soc.hbm_bw_gbps=50", "runtime.n_sched_threads=2"])
    lanes = ["aic"] if shape == CoreShape.AIC else ["aiv0"] if shape == CoreShape.AIV else ["aic", "aiv0", "aiv1"]
    blocks = []
    for b, (n1, nbytes) in enumerate(phase1):
        ops = [_op(ln) for ln in lanes for _ in range(n1)]
        ops += [_op(ln, "load", nbytes) for ln in lanes if nbytes]
        ops += [Op(kind=BARRIER, name="syncall", pipe=Pipe.SCALAR, lane=ln) for ln in lanes]
        ops += [_op(ln) for ln in lanes for _ in range(after)]
        blocks.append(Block(idx=b, ops=ops))
    kids = [0 if "aic" in lanes else -1, 0 if "aiv0" in lanes else -1, 0 if "aiv1" in lanes else -1]
    lead = _kernel(0, CoreShape.AIV, 3, 2)  # busies some cores first, so the blocks do not start together
    t = Task(idx=1, task_id=(1 << 32) | 1, name="phases", shape=shape, block_num=len(blocks), kernel_ids=kids,
             blocks=blocks)
    g = TaskGraph(kernel="barrier", tasks=[lead, t])
    r = _run(g, chip, seed=seed, jitter=jitter)
    _check_invariants(g, chip, r, False)
    rows = [s for s in r.subtasks if s.task == 1]
    assert len(rows) == len(blocks) * len(lanes) and all(len(s.barriers) == 1 for s in rows)
    last = max(s.barriers[0][0] for s in rows)
    first_leave = min(s.barriers[0][1] for s in rows)
    assert first_leave > last  # nobody passes before the last arrival
    floor = 0.1 * _MODEL.op_ns  # the smallest jitter factor times one op
    for s in rows:
        arrive, leave = s.barriers[0]
        n1, nbytes = phase1[s.block]
        assert arrive - s.start >= n1 * floor - 1e-6  # phase 1 ran before the arrival
        assert s.end - leave >= after * floor - 1e-6  # phase 2 ran after the departure
        assert s.breakdown["barrier_wait"] == pytest.approx(last - arrive)
    assert len({s.dispatch for s in rows}) == 1  # all blocks launched together


def test_barrier_across_more_blocks_than_the_chip_holds_names_the_kernel_line() -> None:
    chip = load_chip(None, ["soc.clusters=2"])
    for shape, blocks, have in ((CoreShape.MIX, 3, "2 clusters"), (CoreShape.AIV, 5, "4 AIV cores")):
        g = TaskGraph(kernel="barrier", tasks=[_kernel(0, shape, blocks, 1, after=1)])
        with pytest.raises(UserError) as e:
            _run(g, chip)
        assert str(e.value) == (f"k.py:7: task 0 (k0): a barrier across {blocks} blocks needs them all resident "
                                f"at once, the chip has {have} (expected block_num <= {blocks - 1})")
    # as many blocks as cores run, without a deadlock
    r = _run(TaskGraph(kernel="barrier", tasks=[_kernel(0, CoreShape.AIV, 4, 1, after=1)]), chip)
    assert len(r.subtasks) == 4


def test_a_graph_that_passed_the_submit_checks_on_one_chip_is_checked_again_on_a_smaller_one() -> None:
    g = TaskGraph(kernel="barrier", tasks=[_kernel(0, CoreShape.AIV, 5, 1, after=1)])
    assert len(_run(g, load_chip(None, ["soc.clusters=3"])).subtasks) == 5  # 6 AIV cores: fits
    with pytest.raises(UserError, match="expected block_num <= 4"):
        _run(g, load_chip(None, ["soc.clusters=2"]))  # the same graph object, 4 AIV cores


def test_barrier_op_fences_its_block_in_the_op_timeline() -> None:
    """The in-core view of one block (``swimsim explain --ops``): ops after the barrier start after
    every op before it is done, on every lane; the engine's segments drop the barrier op itself."""
    from hwmodels import CoreCostModel, L2State

    chip = load_chip()
    t = _kernel(0, CoreShape.MIX, 2, 3, nbytes=65536, dual=True, after=2)
    g = TaskGraph(kernel="barrier", tasks=[t])
    ops = t.blocks[0].ops
    timeline = CoreCostModel(chip).op_timeline(t, t.blocks[0], L2State(chip, g, init="cold"))
    bar = [o.index for o in timeline if ops[o.index].kind == BARRIER]
    before = [o for o in timeline if o.index < min(bar)]
    after = [o for o in timeline if o.index > max(bar)]
    assert len(bar) == 3 and before and after
    assert min(o.start_ns for o in after) >= max(o.ready_ns for o in before)
    assert all(not any(o.kind == BARRIER for o in seg.ops) for seg in Segmenter().segments(t.blocks[0]))


@pytest.mark.parametrize("rule", ["uniform", "per_core", "cluster"])
def test_a_mix_block_takes_a_partly_busy_cluster_unless_its_placement_is_uniform(rule: str) -> None:
    """One cluster: a long AIV task holds one AIV core when a three-lane MIX task becomes ready. With
    ``runtime.mix_placement = uniform`` the MIX block waits for the AIV to finish; with ``per_core`` it
    takes the cluster at once, its idle cores in their running slots and the busy AIV in its pending
    slot, so its AIC lane starts while the AIV task still runs and the busy core's lane after it; with
    ``cluster`` too, as all three cores have a free pending slot and one is busy."""
    long_aiv = _kernel(0, CoreShape.AIV, 1, 200)
    short_aic = _kernel(1, CoreShape.AIC, 1, 5)
    mix = _kernel(2, CoreShape.MIX, 1, 2, dual=True)  # ready once the AIC task is done
    g = TaskGraph(kernel="mixed_state", tasks=[long_aiv, short_aic, mix],
                  edges=[Edge(pred=1, succ=2, source="explicit")], func_names={0: "k0", 1: "k1", 2: "k2"})
    chip = load_chip(None, ["soc.clusters=1", f"runtime.mix_placement={rule}"])
    r = simulate(g, chip, RunOptions(cold_start=False), cost_model=StubCostModel())
    (aiv_row,) = [s for s in r.subtasks if s.task == 0]
    rows = {s.lane: s for s in r.subtasks if s.task == 2}
    if rule == "uniform":
        assert min(s.start for s in rows.values()) >= aiv_row.end
    else:
        assert rows["aic"].start < aiv_row.end
        shared = [s for s in rows.values() if s.core_id == aiv_row.core_id]
        assert len(shared) == 1 and shared[0].start >= aiv_row.end
