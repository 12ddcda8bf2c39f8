"""Vector ops as a2a3 instruction sequences: steps, further instructions, scalar loops (hwmodels.incore)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwmodels import CoreCostModel, L2State, load_chip
from hwmodels.incore import vector_lowering, vector_op_parts
from sim.ir import Block, Op, Task, TaskGraph

CHIP = load_chip("910C")
UNIFORM = load_chip("910C", overrides=["vector.lowering=uniform"])


def vec(name: str, shape: list[int], deps: list[int], dtype: str = "FP32") -> Op:
    return Op(kind="vec", name=name, pipe="VECTOR", dtype=dtype, shape=shape, deps=deps)


def block_ns(chip, ops: list[Op]) -> float:  # noqa: ANN001
    t = Task(idx=0, task_id=0, name="k", shape="AIV", block_num=1, blocks=[Block(idx=0, ops=ops)],
             kernel_ids=[-1, 0, -1])
    g = TaskGraph(kernel="t", tensors=[], tasks=[t])
    return CoreCostModel(chip).profile(t, t.blocks[0], L2State(chip, g, "warm"))["aiv0"].compute_ns


def test_lowering_of_each_op_class() -> None:
    # index gather: one (offset multiply, barrier, gather) step per row
    assert vector_lowering(CHIP, "gather", [8, 64], 4) == (8, 8, 0)
    # row_expand_*: broadcast, barrier, then the binary op in norm mode (one instruction per 256 B
    # column slice, rows as repeats) unless a row has more repeats than the tile has rows
    assert vector_lowering(CHIP, "row_expand_mul", [8, 64], 4) == (2, 0, 0)
    assert vector_lowering(CHIP, "row_expand_mul", [8, 32], 4) == (2, 0, 0)  # a row shorter than a repeat
    assert vector_lowering(CHIP, "row_expand_div", [8, 512], 4) == (2, 7, 0)  # 8 slices, norm mode
    assert vector_lowering(CHIP, "row_expand_sub", [16, 200], 4) == (2, 3, 0)  # 3 full slices + a tail
    assert vector_lowering(CHIP, "row_expand_mul", [4, 512], 4) == (2, 3, 0)  # count mode: 4 rows
    assert vector_lowering(CHIP, "row_expand_mul", [8, 512], 2) == (2, 3, 0)  # BF16: 4 slices
    # row reductions: one step per 256 B repeat of a row
    assert vector_lowering(CHIP, "row_sum", [8, 64], 4) == (1, 0, 0)
    assert vector_lowering(CHIP, "row_sum", [8, 512], 4) == (8, 0, 0)
    assert vector_lowering(CHIP, "row_max", [8, 32], 4) == (1, 0, 0)
    # arange: a scalar store loop over the columns
    assert vector_lowering(CHIP, "arange", [1, 64], 4) == (1, 0, 64)
    # everything else is one instruction; the mask-form gather is one pass
    for name in ("add", "mul", "cast", "muls", "col_expand_mul", "gather_mask", "full", "sqrt"):
        assert vector_lowering(CHIP, name, [8, 64], 4) == (1, 0, 0)
    assert vector_lowering(UNIFORM, "gather", [8, 64], 4) == (1, 0, 0)


def test_uniform_lowering_keeps_the_one_instruction_model() -> None:
    v = UNIFORM.vector
    fixed, held, alu = vector_op_parts(UNIFORM, "gather", [8, 64], "FP32")
    assert fixed == v.op_fixed_ns
    assert held == min(v.op_fixed_ns, v.op_issue_ns)
    assert alu > 0


def test_a_gather_costs_one_step_per_row() -> None:
    v = CHIP.vector
    cns = 1000.0 / CHIP.soc.vec_freq_mhz
    fixed, held, _ = vector_op_parts(CHIP, "gather", [8, 64], "FP32")
    issue = min(v.op_fixed_ns, v.op_issue_ns)
    assert fixed == pytest.approx(8 * v.op_fixed_ns + 8 * v.extra_instr_cycles * cns)
    # every step but the last ends in a pipe barrier, so only the last step's latency is free
    assert fixed - held == pytest.approx(v.op_fixed_ns - issue)
    one, _, _ = vector_op_parts(CHIP, "add", [8, 64], "FP32")
    assert fixed > 8 * one


def test_arange_pays_its_scalar_loop() -> None:
    cns = 1000.0 / CHIP.soc.vec_freq_mhz
    base, _, _ = vector_op_parts(CHIP, "arange", [1, 8], "INT32")
    wide, _, _ = vector_op_parts(CHIP, "arange", [1, 64], "INT32")
    assert wide - base == pytest.approx(56 * CHIP.vector.scalar_loop_elem_cycles * cns)


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 16), cols=st.sampled_from([8, 32, 64, 128, 256]),
       name=st.sampled_from(["gather", "row_expand_mul", "row_sum", "add", "cast", "arange"]))
def test_a2a3_lowering_never_cheaper_than_one_instruction(rows: int, cols: int, name: str) -> None:
    a = vector_op_parts(CHIP, name, [rows, cols], "FP32")
    u = vector_op_parts(UNIFORM, name, [rows, cols], "FP32")
    assert a[0] >= u[0] - 1e-9  # what a dependent op waits for
    assert a[1] >= u[1] - 1e-9  # what holds the pipe
    assert a[2] == pytest.approx(u[2])  # the ALU work is the same


def test_a_dependent_gather_chain_is_slower_than_the_uniform_model() -> None:
    ops = [vec("full", [8, 64], []), vec("gather", [8, 64], [0]), vec("gather", [8, 64], [1]),
           vec("mul", [8, 64], [2])]
    a, u = block_ns(CHIP, ops), block_ns(UNIFORM, ops)
    v = CHIP.vector
    cns = 1000.0 / CHIP.soc.vec_freq_mhz
    # two gathers add 2 x (7 further steps + 8 further instructions)
    assert a - u == pytest.approx(2 * (7 * v.op_fixed_ns + 8 * v.extra_instr_cycles * cns), rel=1e-6)


LOOPED = load_chip("910C", overrides=["vector.loop_step_cycles=50"])


def test_column_reductions_are_one_barrier_step_per_row_on_a2a3() -> None:
    from hwmodels.incore.lowering import loop_steps
    for name in ("col_sum", "col_max", "col_min"):
        assert loop_steps(CHIP, name, [128, 128]) == 128
        assert loop_steps(CHIP, name, [2, 4, 64]) == 8  # leading dims are rows
        assert loop_steps(UNIFORM, name, [128, 128]) == 0
    for name in ("row_sum", "col_expand_mul", "add"):
        assert loop_steps(CHIP, name, [128, 128]) == 0


def test_loop_step_cost_is_off_at_zero_and_linear_in_rows() -> None:
    assert CHIP.vector.loop_step_cycles == 0  # the mechanism is off in the preset
    cns = 1000.0 / CHIP.soc.vec_freq_mhz
    base = vector_op_parts(CHIP, "col_sum", [64, 128], "FP32")
    small = vector_op_parts(LOOPED, "col_sum", [64, 128], "FP32")
    big = vector_op_parts(LOOPED, "col_sum", [128, 128], "FP32")
    # 64 further rows cost 64 loop steps on the pipe and for a dependent op (ALU: an add pass per row)
    assert big[1] - small[1] == pytest.approx(64 * 50 * cns)
    assert big[0] - small[0] == pytest.approx(64 * 50 * cns)
    assert small[2] < base[2]  # a per-row vadd, not the reduce factor
    assert vector_op_parts(LOOPED, "row_sum", [64, 128], "FP32") == vector_op_parts(CHIP, "row_sum", [64, 128],
                                                                                      "FP32")


GATHER_LOOP = load_chip("910C", overrides=["vector.gather_row_cycles=46.6"])


def test_gather_rows_as_a_tight_loop_cost_one_step_plus_the_row_cycles() -> None:
    from hwmodels.incore.lowering import gather_rows
    assert CHIP.vector.gather_row_cycles == 0  # off in the preset: every row is a full step
    assert gather_rows(CHIP, "gather", [8, 64]) == 0
    assert gather_rows(GATHER_LOOP, "gather", [8, 64]) == 8
    assert gather_rows(GATHER_LOOP, "gather_mask", [8, 64]) == 0
    assert vector_lowering(GATHER_LOOP, "gather", [8, 64], 4) == (1, 0, 0)
    v = GATHER_LOOP.vector
    cns = 1000.0 / GATHER_LOOP.soc.vec_freq_mhz
    small = vector_op_parts(GATHER_LOOP, "gather", [8, 64], "FP32")
    big = vector_op_parts(GATHER_LOOP, "gather", [32, 64], "FP32")
    # 24 further rows: 24 x 46.6 cycles on the pipe and for a dependent op, plus their ALU repeats
    alu_rows = big[2] - small[2]
    assert big[1] - small[1] == pytest.approx(24 * 46.6 * cns)
    assert big[0] - small[0] == pytest.approx(24 * 46.6 * cns)
    assert alu_rows > 0
    # one step: a dependent op waits for one op_fixed_ns plus the rows, not one op_fixed_ns per row
    assert small[0] == pytest.approx(v.op_fixed_ns + 8 * 46.6 * cns)
