"""Mechanisms the calibration relies on, and the calibrated preset itself."""

from __future__ import annotations

import json

import pytest
from stub_cost import StubCostModel

import hwmodels
from hwmodels import CoreCostModel, L2State
from hwmodels.chip import CALIBRATED_PRESET, calibratable_fields, field_description
from sim.app.calibration import FREE_PARAMS
from sim.app.cli import main
from sim.engine import RunOptions, simulate
from sim.ir import Block, CoreShape, Edge, Op, Pipe, Region, Task, TaskGraph, Tensor


def _vec_block(n: int, dependent: bool) -> tuple[TaskGraph, Task, Block]:
    ops = [
        Op(kind="vec", name="add", pipe=Pipe.VECTOR, lane="aiv0", dtype="FP32", shape=[8, 64],
           deps=[i - 1] if dependent and i else [])
        for i in range(n)
    ]
    blk = Block(idx=0, ops=ops)
    task = Task(idx=0, task_id=1 << 32, name="v", shape=CoreShape.AIV, kernel_ids=[-1, 0, -1], blocks=[blk])
    return TaskGraph(kernel="v", tasks=[task]), task, blk


def test_dependent_vector_ops_pay_the_fixed_cost_independent_ones_stream() -> None:
    chip = hwmodels.load_chip(overrides=["vector.op_fixed_ns=200", "vector.op_issue_ns=20"])
    t = {}
    for dep in (True, False):
        g, task, blk = _vec_block(50, dep)
        t[dep] = CoreCostModel(chip).profile(task, blk, L2State(chip, g, "warm"))["aiv0"].compute_ns
    assert t[True] > 50 * 200 * 0.95  # a chain of 50 dependent ops: ~op_fixed each
    assert t[False] < 50 * 200 * 0.5  # independent: limited by issue + ALU, not by the latency
    assert t[True] > 2 * t[False]


def _two_waves_on_one_core() -> TaskGraph:
    """Two single-block AIV tasks in a chain on a 1-cluster chip: both run on the same core(s)."""
    tasks = []
    for i in range(2):
        ops = [Op(kind="vec", name="add", pipe=Pipe.VECTOR, lane="aiv0") for _ in range(4)]
        tasks.append(Task(idx=i, task_id=(1 << 32) | i, name=f"k{i}", shape=CoreShape.AIV, kernel_ids=[-1, i, -1],
                          blocks=[Block(idx=0, ops=ops)]))
    return TaskGraph(kernel="chain", tasks=tasks, edges=[Edge(pred=0, succ=1, source="explicit")],
                     func_names={0: "k0", 1: "k1"})


@pytest.mark.parametrize("extra_ns", [0.0, 5000.0])
def test_first_kernel_extra_is_paid_once_per_core(extra_ns: float) -> None:
    g = _two_waves_on_one_core()
    chip = hwmodels.load_chip(overrides=["soc.clusters=1", "soc.aiv_per_cluster=1",
                                         f"core.first_kernel_extra_ns={extra_ns}", "core.first_kernel_cold_max_ns=0"])
    r = simulate(g, chip, RunOptions(cold_start=False), cost_model=StubCostModel())
    first, second = sorted(r.subtasks, key=lambda s: s.start)
    assert first.core_id == second.core_id
    d1, d2 = first.end - first.start, second.end - second.start
    assert d1 - d2 == pytest.approx(extra_ns, abs=1e-6)
    assert first.breakdown.get("cold_core", 0.0) == pytest.approx(extra_ns)
    assert "cold_core" not in second.breakdown


def _loads_block(n_loads: int) -> TaskGraph:
    """One single-block AIV task with ``n_loads`` independent 2 KiB loads (each its own region)."""
    ops = [Op(kind="load", name="load", pipe=Pipe.MTE2, lane="aiv0", dtype="FP32", shape=[8, 64], nbytes=2048,
              rows=8, region=Region(tensor=0, offset=[8 * i, 0], shape=[8, 64]))
           for i in range(n_loads)]
    task = Task(idx=0, task_id=1 << 32, name="ld", shape=CoreShape.AIV, kernel_ids=[-1, 0, -1],
                blocks=[Block(idx=0, ops=ops)])
    return TaskGraph(kernel="ld", tasks=[task], tensors=[Tensor(id=0, name="x", shape=[8 * n_loads, 64],
                                                                dtype="FP32")],
                     func_names={0: "ld"})


@pytest.mark.parametrize(("n_loads", "per_load", "cap", "expected"), [
    (2, 880.0, 12000.0, 1760.0),  # a small kernel pays per request
    (35, 880.0, 12000.0, 12000.0),  # a load-heavy one is bounded
    (35, 880.0, 0.0, 30800.0),  # 0 = no bound
    (4, 0.0, 12000.0, 0.0),
])
def test_cold_first_kernel_extra_scales_with_gm_loads_up_to_the_bound(n_loads: int, per_load: float, cap: float,
                                                                        expected: float) -> None:
    chip = hwmodels.load_chip(overrides=["core.first_kernel_extra_ns=0",
                                         f"core.first_kernel_extra_per_load_ns={per_load}",
                                         f"core.first_kernel_cold_max_ns={cap}"])
    r = simulate(_loads_block(n_loads), chip, RunOptions(cold_start=False))
    (row,) = r.subtasks
    assert row.breakdown.get("cold_core", 0.0) == pytest.approx(expected)
    warm = simulate(_loads_block(n_loads), hwmodels.load_chip(overrides=["core.first_kernel_extra_per_load_ns=0"]),
                    RunOptions(cold_start=False)).subtasks[0]
    assert (row.end - row.start) - (warm.end - warm.start) == pytest.approx(expected, abs=1.0)


def test_a_repeated_launch_pays_no_cold_first_kernel() -> None:
    """On the warm AICore stream of a later launch the first kernel on a core runs as on a reused core."""
    chip = hwmodels.load_chip(overrides=["core.first_kernel_extra_ns=500", "core.first_kernel_extra_per_load_ns=880",
                                         "core.first_kernel_cold_max_ns=0"])
    first = simulate(_loads_block(6), chip, RunOptions(cold_start=False)).subtasks[0]
    repeat = simulate(_loads_block(6), chip, RunOptions(cold_start=False, launch="repeat")).subtasks[0]
    assert first.breakdown["cold_core"] == pytest.approx(500.0 + 6 * 880.0)
    assert "cold_core" not in repeat.breakdown
    assert (first.end - first.start) - (repeat.end - repeat.start) == pytest.approx(500.0 + 6 * 880.0, abs=1.0)


@pytest.mark.parametrize(("head_us", "expected"), [(0.0, 1760.0), (1.0, 760.0), (3.0, 0.0)])
def test_cold_head_cost_counts_towards_the_first_kernel_extra_when_chosen(head_us: float, expected: float) -> None:
    """With ``first_kernel_cold_counts_head`` the cold head wait is deducted; without it the two add."""
    common = ["core.first_kernel_extra_ns=0", "core.first_kernel_extra_per_load_ns=880",
              "core.first_kernel_cold_max_ns=0", "runtime.cold_first_task_extra_prob=1",
              f"runtime.cold_first_task_extra_min_us={head_us}", f"runtime.cold_first_task_extra_max_us={head_us}"]
    for counts, want in ((True, expected), (False, 1760.0)):
        chip = hwmodels.load_chip(overrides=[*common, f"core.first_kernel_cold_counts_head={counts}"])
        (row,) = simulate(_loads_block(2), chip, RunOptions()).subtasks
        assert row.breakdown.get("cold_core", 0.0) == pytest.approx(want)


def test_cold_core_selection_by_cluster_and_kind() -> None:
    g = _two_waves_on_one_core()
    # the only cluster (index 0) is below the threshold -> nobody pays
    chip = hwmodels.load_chip(overrides=["soc.clusters=1", "core.first_kernel_extra_ns=5000",
                                         "core.first_kernel_cold_from_cluster_frac=0.5"])
    r = simulate(g, chip, RunOptions(cold_start=False), cost_model=StubCostModel())
    assert all("cold_core" not in s.breakdown for s in r.subtasks)


def test_calibrated_preset_carries_provenance_for_each_fitted_field() -> None:
    chip = hwmodels.load_chip(CALIBRATED_PRESET)
    base = hwmodels.load_chip("910C")
    fitted = {p.field for p in FREE_PARAMS}
    assert set(chip.provenance) == fitted
    for f in fitted:
        assert "fitted on qkv_proj_rope_decode baseline" in chip.provenance[f]
        assert "status: CALIBRATE" in field_description(f)
        assert f in calibratable_fields()
    # everything that is not fitted equals the 910C die
    a, b = chip.model_dump(), base.model_dump()
    for f in fitted:
        sec, name = f.split(".")
        a[sec].pop(name), b[sec].pop(name)
    a.pop("provenance"), b.pop("provenance"), a.pop("name"), b.pop("name")
    assert a == b


def test_reproduce_writes_fidelity_and_meets_the_fitted_targets(tmp_path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["reproduce", "-o", str(out)]) == 0
    table = capsys.readouterr().out
    assert "F = fitted" in table
    doc = json.loads((out / "fidelity.json").read_text())
    qkv = doc["workloads"]["qkv_proj_rope_decode"]["metrics"]
    hca = doc["workloads"]["decode_attention_hca"]["metrics"]
    for m in qkv.values():
        if "baseline" in m:
            assert m["baseline"]["role"] == "fitted"
            assert abs(m["baseline"]["error_pct"]) <= 5.0, m
    for m in hca.values():
        assert all(m[v]["role"] == "predicted" for v in ("baseline", "precompute") if v in m)
    # directions of the measured changes
    assert qkv["q_head_rms_nope_rope.avg_exec"]["delta_pct"]["simulated"] < 0
    assert hca["q_head_rms_nope_rope.avg_exec"]["delta_pct"]["simulated"] < 0
    assert hca["swimlane_wall"]["delta_pct"]["simulated"] < 0
    for wl in ("qkv_proj_rope_decode", "decode_attention_hca"):
        for var in ("baseline", "precompute"):
            d = out / wl / var
            assert (d / "l2_swimlane_records.json").is_file() and (d / "run_records.json").is_file()
    assert main(["explain", str(out / "qkv_proj_rope_decode" / "baseline"), "q_head_rms_nope_rope"]) == 0
    assert "cold core" in capsys.readouterr().out
    # reproduce stores slim graphs: --ops rebuilds the op lists from the registry
    assert main(["explain", str(out / "decode_attention_hca" / "precompute"), "q_rope_cs", "--ops"]) == 0
    ops_text = capsys.readouterr().out
    assert "q_rope_cs block 0" in ops_text and "critical path by op (" in ops_text
    assert len([ln for ln in ops_text.splitlines() if ln.split()[:1] and ln.split()[0].isdigit()]) == 26
    checks = json.loads((out / "runtime_checks.json").read_text())
    assert set(checks["targets"]) == set(checks["simulated"]["decode_attention_hca"]["baseline"])
    assert "runtime checks" in table and "scheduler loop time" in table
    verdicts = doc["seed_checks"]
    assert len(verdicts) == 10 and verdicts[0]["name"] == "fitted metrics" and verdicts[0]["met"]
    assert f"seed checks (docs/calibration.md §3): {sum(v['met'] for v in verdicts)} of 10 met" in table
    assert "seed checks" in (out / "fidelity.md").read_text()
    png = (out / "fidelity.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000
    spread = json.loads((out / "run_spread.json").read_text())["workloads"]
    for wl, metrics in doc["workloads"].items():
        for name, m in metrics.items():
            for var in ("baseline", "precompute"):
                if var in m and m[var]["simulated"] is not None:
                    lo, _med, hi = spread[wl][name][var]
                    assert lo - 1e-3 <= m[var]["simulated"] <= hi + 1e-3


def test_reproduce_in_worker_processes_equals_inline(tmp_path, capsys) -> None:
    outs = {}
    for jobs in (1, 2):
        out = tmp_path / f"j{jobs}"
        assert main(["reproduce", "--runs", "2", "--jobs", str(jobs), "-o", str(out)]) == 0
        outs[jobs] = out
    capsys.readouterr()
    assert (outs[1] / "fidelity.json").read_bytes() == (outs[2] / "fidelity.json").read_bytes()
    for name in ("runtime_checks.json", "run_spread.json", "fidelity.png"):
        assert (outs[1] / name).read_bytes() == (outs[2] / name).read_bytes()
    rel = "decode_attention_hca/precompute/l2_swimlane_records.json"
    assert (outs[1] / rel).read_bytes() == (outs[2] / rel).read_bytes()


def _cold_block(serial: bool) -> TaskGraph:
    """Four 2 KiB loads, each feeding a group of 10 dependent vector ops (one chain of 40); ``serial``:
    each load waits for the previous group's last op (one buffer, a plain loop), else all four are issued
    up front."""
    ops: list[Op] = []
    prev = -1  # the chain's last vector op
    for i in range(4):
        ops.append(Op(kind="load", name="load", pipe=Pipe.MTE2, lane="aiv0", dtype="FP32", shape=[8, 64], nbytes=2048,
                      rows=8, region=Region(tensor=0, offset=[8 * i, 0], shape=[8, 64]),
                      deps=[prev] if serial and prev >= 0 else []))
        ld = len(ops) - 1
        for k in range(10):
            deps = ([ld] if k == 0 else []) + ([prev] if prev >= 0 else [])
            ops.append(Op(kind="vec", name="add", pipe=Pipe.VECTOR, lane="aiv0", dtype="FP32", shape=[8, 64],
                          deps=deps))
            prev = len(ops) - 1
    task = Task(idx=0, task_id=1 << 32, name="cold", shape=CoreShape.AIV, kernel_ids=[-1, 0, -1],
                blocks=[Block(idx=0, ops=ops)])
    return TaskGraph(kernel="cold", tasks=[task], tensors=[Tensor(id=0, name="x", shape=[32, 64], dtype="FP32")],
                     func_names={0: "cold"})


@pytest.mark.parametrize("serial", [True, False])
def test_cold_loads_in_the_schedule_cost_what_they_delay(serial: bool) -> None:
    """``core.first_kernel_cold_in_schedule``: a cold core's first GM loads each hold MTE2 the per-load extra
    longer, so loads serialised with the compute add every extra to the row and loads issued ahead of a
    long vector chain hide most of it; the lump form adds the extra either way."""
    base = ["core.first_kernel_extra_ns=0", "core.first_kernel_extra_per_load_ns=880",
            "core.first_kernel_cold_max_ns=0"]

    def exec_ns(*extra: str) -> float:
        row = simulate(_cold_block(serial), hwmodels.load_chip(overrides=base + list(extra)),
                       RunOptions(cold_start=False)).subtasks[0]
        return row.end - row.start

    warm = simulate(_cold_block(serial), hwmodels.load_chip(overrides=["core.first_kernel_extra_per_load_ns=0"]),
                    RunOptions(cold_start=False)).subtasks[0]
    warm_ns = warm.end - warm.start
    assert exec_ns() - warm_ns == pytest.approx(4 * 880.0, abs=1.0)  # lump: every load's extra
    sched = exec_ns("core.first_kernel_cold_in_schedule=true") - warm_ns
    if serial:
        assert sched == pytest.approx(4 * 880.0, abs=1.0)
    else:
        assert 0.0 < sched < 2 * 880.0
