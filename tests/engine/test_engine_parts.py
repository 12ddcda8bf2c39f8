"""The engine's parts on their own: COND rules, cluster ownership, slot eligibility, HBM events, barrier
segments."""

from __future__ import annotations

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.barriers import Segmenter, plan
from sim.engine.cond import next_change, observe, polled, polled_now
from sim.engine.cores import Core, Subtask, build_cores
from sim.engine.dispatch import eligible, mix_fit
from sim.engine.hbm import HbmLanes
from sim.engine.tasks import TaskState, graph_preds
from sim.engine.threads import SchedulerThread, deal
from sim.ir import BARRIER, Block, CoreShape, Edge, Op, Pipe, Task, TaskGraph

_VIS = 10.0


def _sub(core: Core, start: float | None = None, end: float | None = None, gated: bool = False) -> Subtask:
    ts = TaskState(Task(idx=0, task_id=0, name="k", shape=CoreShape.AIV, block_num=1), [])
    s = Subtask(ts, 0, "aiv0", core, core.token + 1, 0)
    core.token += 1
    s.start, s.end, s.gated = start, end, gated
    return s


def test_cond_running_slot_ack_then_fin_become_visible_after_the_visibility_delay() -> None:
    core = Core(0, "aiv", 0, 0)
    r = core.running = _sub(core, start=100.0)
    assert next_change(core, _VIS) == 110.0
    assert observe(core, 109.0, _VIS) == () and not core.ack_seen
    assert observe(core, 110.0, _VIS) == () and core.ack_seen
    assert next_change(core, _VIS) is None  # ACK seen, end not known yet
    r.end = 150.0
    assert next_change(core, _VIS) == 160.0
    assert observe(core, 160.0, _VIS) == (r,) and core.running is None


def test_cond_pending_slot_start_promotes_it_and_completes_the_running_one() -> None:
    core = Core(0, "aiv", 0, 0)
    r = core.running = _sub(core, start=0.0, end=50.0)
    pd = core.pending = _sub(core)
    assert next_change(core, _VIS) is None  # the pending task's start decides
    pd.start = 60.0
    assert observe(core, 69.0, _VIS) == ()
    assert observe(core, 70.0, _VIS) == (r,)
    assert core.running is pd and core.pending is None and core.ack_seen


def test_cond_both_slots_finished_at_one_read() -> None:
    core = Core(0, "aiv", 0, 0)
    r = core.running = _sub(core, start=0.0, end=50.0)
    pd = core.pending = _sub(core, start=60.0, end=80.0)
    assert observe(core, 90.0, _VIS) == (r, pd) and core.running is None and core.pending is None


def test_gated_core_is_not_polled_until_its_doorbell() -> None:
    th = SchedulerThread(0, simpy.Environment())
    _, clusters = build_cores(1, 1, 1)
    deal([th], clusters)
    aic, aiv = th.cores
    aic.running = _sub(aic, start=0.0)
    aiv.running = _sub(aiv, gated=True)
    assert polled(th) == [aic]
    aiv.running.rung = 5.0
    assert polled(th) == [aic, aiv]


def test_polled_now_is_polled_as_of_the_threads_last_touch() -> None:
    th = SchedulerThread(0, simpy.Environment())
    _, clusters = build_cores(1, 1, 1)
    deal([th], clusters)
    aic, aiv = th.cores
    assert polled_now(th) == []
    aic.running = _sub(aic, start=0.0)
    th.touch()
    assert polled_now(th) == polled(th) == [aic]
    assert polled_now(th) is polled_now(th)  # kept until the next touch
    aiv.running = _sub(aiv, gated=True)
    th.touch()
    assert polled_now(th) == [aic]
    aiv.running.rung = 5.0
    th.touch()
    assert polled_now(th) == polled(th) == [aic, aiv]
    deal([th], clusters)  # a re-deal touches every thread
    assert polled_now(th) == [aic, aiv]


def test_clusters_are_dealt_round_robin_with_runtime_core_ids() -> None:
    env = simpy.Environment()
    cores, clusters = build_cores(5, 2, 2)
    threads = [SchedulerThread(i, env) for i in range(2)]
    deal(threads, clusters)
    assert [cl.idx for cl in threads[0].clusters] == [0, 2, 4]
    assert [c.id for c in threads[1].cores] == [1, 7, 8, 3, 11, 12]  # AIC b, then AIVs 5 + 2b, 6 + 2b
    threads.append(SchedulerThread(2, env))
    deal(threads, clusters)
    assert [c.thread for c in cores[:5]] == [0, 1, 2, 0, 1]


def test_slot_eligibility_and_mix_fit_reject_a_mixed_cluster() -> None:
    _, (cl,) = build_cores(1, 2, 1)
    assert mix_fit(cl, ["aic", "aiv0", "aiv1"], "idle") == [cl.aic, *cl.aivs]
    cl.aivs[0].running = _sub(cl.aivs[0], start=0.0)
    assert mix_fit(cl, ["aic", "aiv0", "aiv1"], "idle") is None
    assert mix_fit(cl, ["aic", "aiv0"], "idle") == [cl.aic, cl.aivs[1]]
    assert not eligible(cl.aivs[0], "pending")  # ACK not seen yet
    cl.aivs[0].ack_seen = True
    assert eligible(cl.aivs[0], "pending") and not eligible(cl.aivs[0], "idle")


def test_per_core_mix_placement_takes_a_mixed_cluster_in_the_pending_stage() -> None:
    """``runtime.mix_placement = per_core`` (simpler PR #1308): a cluster whose used cores are idle or have a
    free pending slot takes a MIX block in the pending stage; the uniform rule (PR #1097) waits for one state."""
    _, (cl,) = build_cores(1, 2, 1)
    lanes = ["aic", "aiv0", "aiv1"]
    assert mix_fit(cl, lanes, "pending", rule="per_core") is None  # fully idle: the idle stage's cluster
    busy = cl.aivs[0]
    busy.running = _sub(busy, start=0.0)
    assert mix_fit(cl, lanes, "pending", rule="per_core") is None  # its running task's ACK not seen yet
    busy.ack_seen = True
    assert mix_fit(cl, lanes, "pending") is None  # uniform: AIC and AIV1 idle, AIV0 busy
    assert mix_fit(cl, lanes, "pending", rule="per_core") == [cl.aic, busy, cl.aivs[1]]
    busy.pending = _sub(busy, start=0.0)
    assert mix_fit(cl, lanes, "pending", rule="per_core") is None  # no free pending slot
    assert mix_fit(cl, lanes, "idle", rule="per_core") is None  # the idle stage still needs every core idle


def test_cluster_mix_placement_wants_the_whole_cluster_free() -> None:
    """``runtime.mix_placement = cluster`` (simpler before PR #1097): the idle stage takes a cluster only
    when all three of its cores are idle, even for a two-lane block; the pending stage when all three
    have a free pending slot and one at least is busy, the block's cores then placed by their own state."""
    _, (cl,) = build_cores(1, 2, 1)
    two = ["aic", "aiv0"]
    assert mix_fit(cl, two, "idle", rule="cluster") == [cl.aic, cl.aivs[0]]
    busy = cl.aivs[0]
    busy.running = _sub(busy, start=0.0)
    busy.ack_seen = True
    assert mix_fit(cl, two, "idle") == [cl.aic, cl.aivs[1]]  # uniform: the idle AIV serves
    assert mix_fit(cl, two, "idle", rule="cluster") is None  # a core of the cluster is busy
    assert mix_fit(cl, two, "pending", rule="cluster") == [cl.aic, busy]
    cl.aivs[1].running = _sub(cl.aivs[1], start=0.0)  # the other AIV busy, its ACK not seen
    assert mix_fit(cl, two, "pending", rule="cluster") is None
    assert mix_fit(cl, two, "pending", rule="per_core") == [cl.aic, busy]  # only the used cores count


def test_hbm_lanes_end_at_the_shared_bandwidth_times() -> None:
    env = simpy.Environment()
    ends: list[tuple[float, str]] = []
    hbm = HbmLanes(env, 10.0, lambda sub: ends.append((env.now, sub)))
    hbm.add("small", 100.0, 2.0)  # type: ignore[arg-type]  # any handle comes back as it went in
    hbm.add("big", 100.0, 16.0)  # type: ignore[arg-type]
    env.run()
    assert ends == [(100.0, "small"), (180.0, "big")]  # big at half speed, then at 10/16 alone


def test_segments_renumber_deps_drop_cross_segment_ones_and_share_ops_between_blocks() -> None:
    def op(lane: str, deps: list[int], kind: str = "vec") -> Op:
        return Op(kind=kind, name=kind, pipe=Pipe.SCALAR if kind == BARRIER else Pipe.VECTOR, lane=lane, deps=deps)

    # aiv0: 0 -> 1, barrier, 3 (deps 1 and 2: one across the barrier), aiv1 barrier after its op 4
    ops = [op("aiv0", []), op("aiv0", [0]), op("aiv0", [], BARRIER), op("aiv0", [1, 2]), op("aiv1", []),
           op("aiv1", [], BARRIER), op("aiv1", [4]), op("aiv0", [3])]
    seg = Segmenter()
    a, b = Block(idx=0, ops=ops), Block(idx=1, ops=list(ops))
    sa, sb = seg.segments(a), seg.segments(b)
    assert [[o.lane for o in s.ops] for s in sa] == [["aiv0", "aiv0", "aiv1"], ["aiv0", "aiv1", "aiv0"]]
    assert [[o.deps for o in s.ops] for s in sa] == [[[], [0], []], [[], [], [0]]]
    assert sa[0].ops[0] is ops[0] and sa[0].ops[1] is ops[1]  # unchanged ops are the originals
    assert all(x is y for s, t in zip(sa, sb, strict=True) for x, y in zip(s.ops, t.ops, strict=True))
    assert seg.segments(a) is sa
    t = Task(idx=0, task_id=0, name="k", shape=CoreShape.MIX, block_num=3, kernel_ids=[0, 0, 0], blocks=[a, b])
    p = plan(t, ["aic", "aiv0", "aiv1"])
    assert p is not None and p.participants == [6]  # aiv0 and aiv1 of blocks 0, 1, 2 (block 2 runs program 0)
    assert p.counts[(0, "aic")] == 0 and p.counts[(1, "aiv1")] == 1


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(0, 71))
def test_memoised_cold_start_draws_are_the_seeded_generators_and_follow_seed_and_core(seed: int, cid: int) -> None:
    import random

    from sim.engine.cores import cold_draws

    rng = random.Random(f"{seed}:cold:{cid}")
    assert cold_draws(seed, cid) == (rng.random(), rng.random())
    assert cold_draws(seed, cid) == cold_draws(seed, cid)
    assert cold_draws(seed + 1, cid) != cold_draws(seed, cid)
    assert cold_draws(seed, (cid + 1) % 72) != cold_draws(seed, cid)


def test_graph_preds_are_kept_per_edge_list_and_follow_a_new_or_longer_one() -> None:
    tasks = [Task(idx=i, task_id=i, name="k", shape=CoreShape.AIV, block_num=1) for i in range(3)]
    g = TaskGraph(kernel="k", tensors=[], tasks=tasks, edges=[Edge(pred=0, succ=1, source="explicit")])
    first = graph_preds(g)
    assert first == {0: [], 1: [0], 2: []} and graph_preds(g) is first
    g.edges.append(Edge(pred=1, succ=2, source="explicit"))
    assert graph_preds(g) == {0: [], 1: [0], 2: [1]}
    g.edges = [Edge(pred=0, succ=2, source="explicit")]
    assert graph_preds(g) == {0: [], 1: [], 2: [0]}
