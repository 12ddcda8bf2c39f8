"""Tensors the orchestration creates with an initial value: the AICPU fills them inside the alloc
submit, at ``runtime.orch_fill_GBps`` (docs/model.md §4.1); an on-core init (a kernel storing a
zero tile) moves that time from the AICPU to a core. Own kernels."""

from __future__ import annotations

import pytest

import hwmodels
import kernels.language as pl
from sim.engine import RunOptions, simulate
from sim.engine.params import RuntimeParams, submit_cost_ns
from sim.ir import TaskKind

CHIP = hwmodels.load_chip("910C")
P = RuntimeParams(CHIP, RunOptions())
COLS = 512  # FP32 columns: 2 KiB rows


def make(rows: int, how: str):  # noqa: ANN201
    """Orchestration creates a [rows, COLS] FP32 buffer (``how``: "aicpu" with ``init_value=0``,
    "core" zero-filled by a kernel, "none" uninitialised); one kernel then reads its first row."""

    @pl.jit
    def k(y: pl.Out[pl.Tensor[[8, COLS], pl.FP32]]):
        buf = pl.create_tensor([rows, COLS], pl.FP32, init_value=0.0 if how == "aicpu" else None, name="buf")
        if how == "core":
            with pl.at(level=pl.Level.CORE_GROUP, name_hint="zero"):
                for r in pl.range(rows // 8):
                    buf[8 * r:8 * r + 8, :] = pl.full([8, COLS], pl.FP32, 0.0)
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="use"):
            y[0:8, :] = pl.add(buf[0:8, :], buf[0:8, :])

    return pl.record(k)


def alloc_submit_ns(g) -> float:  # noqa: ANN001
    res = simulate(g, CHIP, RunOptions(seed=0))
    alloc = next(t.idx for t in g.tasks if t.kind == TaskKind.ALLOC)
    s = next(s for s in res.submits if s.task == alloc)
    return s.end - s.start


def test_recorder_marks_initialised_tensors() -> None:
    g = make(64, "aicpu")
    buf = next(t for t in g.tensors if t.name == "buf")
    assert buf.init and buf.nbytes == 64 * COLS * 4
    assert not next(t for t in make(64, "none").tensors if t.name == "buf").init
    assert '"init"' not in make(64, "none").to_json()  # an unset flag is not written


def test_fill_cost_is_bytes_at_the_aicpu_fill_rate() -> None:
    alloc = next(t for t in make(64, "aicpu").tasks if t.kind == TaskKind.ALLOC)
    nb = 64 * COLS * 4
    got = submit_cost_ns(P, alloc, nb) - submit_cost_ns(P, alloc)
    assert got == pytest.approx(nb / CHIP.runtime.orch_fill_GBps)  # GB/s = bytes per ns


def test_orchestration_time_grows_with_initialised_bytes() -> None:
    small, big, none = alloc_submit_ns(make(64, "aicpu")), alloc_submit_ns(make(1024, "aicpu")), \
        alloc_submit_ns(make(1024, "none"))
    extra = (1024 - 64) * COLS * 4 / CHIP.runtime.orch_fill_GBps
    assert big - small == pytest.approx(extra, rel=1e-6)
    assert big - none == pytest.approx(1024 * COLS * 4 / CHIP.runtime.orch_fill_GBps, rel=1e-6)


def test_on_core_init_moves_the_cost_from_aicpu_to_a_core() -> None:
    aicpu, core = make(1024, "aicpu"), make(1024, "core")
    assert alloc_submit_ns(core) < alloc_submit_ns(aicpu)
    assert alloc_submit_ns(core) == pytest.approx(alloc_submit_ns(make(1024, "none")))
    res = simulate(core, CHIP, RunOptions(seed=0))
    zero = next(t.idx for t in core.tasks if t.name == "zero")
    busy = sum(s.end - s.start for s in res.subtasks if s.task == zero)
    assert busy > 0.0
    assert not any(t.name == "zero" for t in aicpu.tasks)
