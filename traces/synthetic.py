"""Hand-built RunResults for tests and benchmarks (no engine): a tiny fixed run and a sized one.

Times are produced by a trivial list schedule (ns); they only need to be plausible and
deterministic, not realistic. Part of the package (not of ``tests/``) because the benchmarks in
``bench/`` use it as well.
"""

from __future__ import annotations

import random

from sim.ir import ArgDir, Block, CoreShape, Edge, Region, Task, TaskArg, TaskGraph, TaskKind, Tensor
from sim.ir.records import PhaseRecord, RunResult, SubmitRecord, SubtaskRecord

N_AIC, N_AIV = 24, 48


def _core_types() -> list[str]:
    return ["aic"] * N_AIC + ["aiv"] * N_AIV


def _c2t(n_sched: int = 3) -> list[int]:
    return [c % n_sched for c in range(N_AIC)] + [((c - N_AIC) // 2) % n_sched for c in range(N_AIC, N_AIC + N_AIV)]


def _graph(specs: list[tuple[str, CoreShape, int, list[int]]], func_ids: dict[str, int]) -> TaskGraph:
    """Tasks from (name, shape, blocks, preds). Task 0 is an alloc task; names 'dummy*' are dummy tasks."""
    tensors = [Tensor(id=0, name="buf", shape=[64, 64], dtype="FP32", kind="alloc", creator=0, nbytes=16384)]
    tasks = [Task(idx=0, task_id=(1 << 32) | 0, kind=TaskKind.ALLOC, name="alloc", shape=CoreShape.DUMMY,
                  allocates=[0])]
    edges: list[Edge] = []
    for i, (name, shape, blocks, preds) in enumerate(specs, start=1):
        kind = TaskKind.DUMMY if name.startswith("dummy") else TaskKind.KERNEL
        fid = func_ids.get(name, -1)
        if shape == CoreShape.AIC:
            kids = [fid, -1, -1]
        elif shape == CoreShape.MIX:
            kids = [fid, func_ids.get(name + "#aiv", fid + 1), -1]
        else:
            kids = [-1, fid, -1]
        if kind == TaskKind.DUMMY:
            kids = [-1, -1, -1]
        reg = Region(tensor=0, offset=[0, 0], shape=[64, 64])
        args = [TaskArg(idx=0, dir=ArgDir.INOUT, region=reg)] if kind == TaskKind.KERNEL else []
        tasks.append(Task(idx=i, task_id=(1 << 32) | i, kind=kind, name=name, shape=shape if kind ==
                          TaskKind.KERNEL else CoreShape.DUMMY, block_num=blocks, kernel_ids=kids, args=args,
                          explicit_deps=list(preds) if kind == TaskKind.DUMMY else [],
                          blocks=[Block(idx=b) for b in range(blocks)]))
        if not preds and kind == TaskKind.KERNEL:
            edges.append(Edge(pred=0, succ=i, source="creator", arg=0, tensor=0))
        for p in preds:
            if kind == TaskKind.DUMMY:
                edges.append(Edge(pred=p, succ=i, source="explicit"))
            else:
                edges.append(Edge(pred=p, succ=i, source="tensormap", arg=0, tensor=0, overlap="covered"))
    names = {}
    for n, f in func_ids.items():
        if "#" in n:
            names[f] = n.split("#")[0] + "_aiv"
        elif any(s[0] == n and s[1] == CoreShape.MIX for s in specs):
            names[f] = n + "_aic"
        else:
            names[f] = n
    return TaskGraph(kernel="synthetic", tensors=tensors, tasks=tasks, edges=edges, func_names=names)


def schedule(graph: TaskGraph, exec_ns: dict[str, float], seed: int = 0) -> RunResult:
    """List-schedule ``graph`` on 24 AIC + 48 AIV cores with fixed overheads (ns); deterministic."""
    rng = random.Random(seed)
    c2t = _c2t()
    core_free = [0.0] * (N_AIC + N_AIV)
    reg = [0] * (N_AIC + N_AIV)
    done: dict[int, float] = {}
    subs: list[SubtaskRecord] = []
    phases: list[PhaseRecord] = []
    submits: list[SubmitRecord] = []
    preds = graph.preds()
    t_orch = 0.0
    loop = [0, 0, 0]
    for t in graph.tasks:
        s0 = t_orch
        t_orch += 400.0 + 40.0 * len(t.args)
        submits.append(SubmitRecord(submit_idx=t.idx, task=t.idx, task_id=t.task_id, start=s0, end=t_orch))
        ready = max([t_orch] + [done[p] for p in preds[t.idx]])
        if t.kind == TaskKind.ALLOC:
            done[t.idx] = t_orch
            continue
        if t.kind == TaskKind.DUMMY:
            loop[0] += 1
            phases.append(PhaseRecord(thread=0, kind="dummy_task", start=ready + 100, end=ready + 100,
                                      loop_iter=loop[0], tasks_processed=t.task_id & 0xFFFFFFFF))
            done[t.idx] = ready + 100
            continue
        fin_max = 0.0
        lanes = {"AIC": ["aic"], "AIV": ["aiv0"], "MIX": ["aic", "aiv0", "aiv1"]}[t.shape.value]
        for b in range(t.block_num):
            if t.shape == CoreShape.AIV:
                cands = [list(range(N_AIC, N_AIC + N_AIV))]
                core_sets = [[min(cands[0], key=lambda c: (core_free[c], c))]]
            else:
                cl = min(range(N_AIC), key=lambda c: (max(core_free[c], core_free[N_AIC + 2 * c],
                                                          core_free[N_AIC + 2 * c + 1]), c))
                core_sets = [[cl, N_AIC + 2 * cl, N_AIC + 2 * cl + 1][: len(lanes)]]
            cores = core_sets[0]
            disp = max([ready + 300.0] + [core_free[c] for c in cores])
            thr = c2t[cores[0]]
            loop[thr] += 1
            phases.append(PhaseRecord(thread=thr, kind="dispatch", start=disp - 120.0, end=disp + 20.0,
                                      loop_iter=loop[thr], tasks_processed=len(cores), pop_hit=1,
                                      local_at_start=[0, 1, 0], local_at_end=[0, 0, 0]))
            for lane, c in zip(lanes, cores, strict=False):
                fname = t.name if t.shape != CoreShape.MIX else f"{t.name}_{'aic' if lane == 'aic' else 'aiv'}"
                fid = t.kernel_ids[0] if lane == "aic" else t.kernel_ids[1]
                recv = disp + 500.0 + rng.randrange(0, 200)
                start = recv + 100.0
                ex = exec_ns[t.name] * (0.9 + 0.2 * rng.random())
                end = start + ex
                fin = end + 400.0 + rng.randrange(0, 300)
                reg[c] += 1
                busy = {"MTE2": 0.4 * ex, "VECTOR" if lane != "aic" else "CUBE": 0.7 * ex, "MTE3": 0.1 * ex}
                subs.append(SubtaskRecord(task=t.idx, task_id=t.task_id, func=fname, func_id=fid, block=b,
                                          lane=lane, core_id=c, reg_task_id=reg[c], thread=thr, dispatch=disp,
                                          receive=recv, start=start, end=end, finish=fin, pipe_busy=busy,
                                          breakdown={"compute": ex}))
                core_free[c] = fin
                loop[thr] += 1
                phases.append(PhaseRecord(thread=thr, kind="complete", start=fin - 50.0, end=fin + 150.0,
                                          loop_iter=loop[thr], tasks_processed=1,
                                          local_at_end=[0, 1, 0]))
                fin_max = max(fin_max, fin)
        done[t.idx] = fin_max + 150.0
    return RunResult(graph=graph, chip="synthetic", seed=seed, core_types=_core_types(), core_to_thread=c2t,
                     subtasks=subs, phases=phases, submits=submits)


def tiny_run(seed: int = 0) -> RunResult:
    """alloc -> qk_matmul (AIC, 2 blocks) -> softmax (AIV) -> pv_mix (MIX) -> dummy; ~7 rows."""
    specs = [("qk_matmul", CoreShape.AIC, 2, []), ("softmax", CoreShape.AIV, 1, [1]),
             ("pv", CoreShape.MIX, 1, [2]), ("dummy_join", CoreShape.DUMMY, 1, [3])]
    fids = {"qk_matmul": 0, "softmax": 1, "pv": 2, "pv#aiv": 3}
    g = _graph(specs, fids)
    return schedule(g, {"qk_matmul": 10_000.0, "softmax": 4_000.0, "pv": 6_000.0}, seed)


def sized_run(n_subtasks: int = 350, seed: int = 0) -> RunResult:
    """A layered graph of SPMD AIC/AIV/MIX tasks with about ``n_subtasks`` rows."""
    specs: list[tuple[str, CoreShape, int, list[int]]] = []
    fids: dict[str, int] = {}
    rows = 0
    i = 0
    prev: list[int] = []
    while rows < n_subtasks:
        layer = []
        for j, (shape, blocks) in enumerate(((CoreShape.AIC, 8), (CoreShape.AIV, 16), (CoreShape.MIX, 4))):
            name = f"f{i}_{j}"
            fids[name] = len(fids)
            if shape == CoreShape.MIX:
                fids[name + "#aiv"] = len(fids)
            specs.append((name, shape, blocks, prev[:2]))
            layer.append(len(specs))
            rows += blocks * (3 if shape == CoreShape.MIX else 1)
        prev = layer
        i += 1
    g = _graph(specs, fids)
    return schedule(g, {n: 3000.0 + 500.0 * (k % 7) for k, n in enumerate(s[0] for s in specs)}, seed)
