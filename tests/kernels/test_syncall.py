"""``pl.system.syncall``: the recorder puts a barrier op at the call in every block's op list, on each
lane of its core type, naming the kernel source line; bad arguments are one-line errors."""

from __future__ import annotations

import pytest

import kernels.language as pl
from sim.ir import BARRIER
from sim.util.errors import UserError


@pl.jit
def two_phase_vec(x: pl.Tensor[[64, 128], pl.FP32], y: pl.Out[pl.Tensor[[64, 128], pl.FP32]]):
    with pl.spmd(4, name_hint="two_phase"):
        b = pl.tile.get_block_idx()
        y[b * 16:(b + 1) * 16, :] = pl.exp(x[b * 16:(b + 1) * 16, :])
        pl.system.syncall(core_type="mix")
        y[b * 16:(b + 1) * 16, :] = pl.add(y[((b + 1) % 4) * 16:((b + 1) % 4 + 1) * 16, :], x[b * 16:(b + 1) * 16, :])


@pl.jit
def two_phase_mix(x: pl.Tensor[[16, 128], pl.BF16], w: pl.Tensor[[64, 128], pl.BF16],
                  y: pl.Out[pl.Tensor[[16, 64], pl.FP32]], z: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
    for b in pl.spmd(2, name_hint="mm_then_vec"):
        y[:, b * 32:(b + 1) * 32] = pl.matmul(x, w[b * 32:(b + 1) * 32, :], b_trans=True, out_dtype=pl.FP32)
        pl.system.syncall(core_type="aiv_only")
        z[:, b * 32:(b + 1) * 32] = pl.exp(y[:, (1 - b) * 32:(2 - b) * 32])


def _source_line(fn, text: str) -> int:  # noqa: ANN001
    import inspect

    lines, first = inspect.getsourcelines(fn.fn if hasattr(fn, "fn") else fn)
    return first + next(i for i, ln in enumerate(lines) if text in ln)


def test_syncall_records_a_barrier_op_in_every_block_between_the_phases() -> None:
    g = pl.record(two_phase_vec)
    (t,) = g.kernel_tasks()
    assert t.block_num == 4 and len(t.blocks) == 4
    line = _source_line(two_phase_vec, "pl.system.syncall")
    for blk in t.blocks:
        kinds = [o.kind for o in blk.ops]
        bars = [i for i, k in enumerate(kinds) if k == BARRIER]
        assert len(bars) == 1  # one lane (AIV task), one barrier
        i = bars[0]
        op = blk.ops[i]
        assert op.name == "syncall" and op.lane == "aiv0" and op.nbytes == 0 and op.deps == []
        assert op.site is not None and op.site.endswith(f"test_syncall.py:{line}")
        # phase 1 (exp of x and its store) before, phase 2 (loads of y) after the barrier
        assert "store" in kinds[:i] and "exp" in [o.name for o in blk.ops[:i]]
        assert "add" in [o.name for o in blk.ops[i + 1:]] and "add" not in [o.name for o in blk.ops[:i]]
    # the site survives the IR's JSON round trip; ops without one do not grow a "site" key
    again = type(g).from_json(g.to_json())
    assert again.tasks[0].blocks[0].ops[i].site == op.site
    assert g.to_json().count('"site"') == 4


def test_syncall_core_type_picks_the_lanes() -> None:
    g = pl.record(two_phase_mix)
    (t,) = g.kernel_tasks()
    assert t.shape.value == "MIX"
    for blk in t.blocks:
        lanes = [o.lane for o in blk.ops if o.kind == BARRIER]
        assert lanes == ["aiv0", "aiv1"]  # aiv_only: both AIV lanes of the cluster, not the AIC
        assert {o.name for o in blk.ops if o.kind == BARRIER} == {"syncall_aiv_only"}


def test_syncall_bad_arguments_are_one_line_errors() -> None:
    @pl.jit
    def bad(x: pl.Tensor[[16, 128], pl.FP32]):
        with pl.spmd(2, name_hint="k"):
            pl.system.syncall(core_type="cube")

    with pytest.raises(UserError, match=r"test_syncall.py:\d+: .*pl.system.syncall: core_type 'cube' \(expected "
                                        r"one of mix, aiv_only, aic_only\)$"):
        pl.record(bad)

    @pl.jit
    def soft(x: pl.Tensor[[16, 128], pl.FP32]):
        with pl.spmd(2, name_hint="k"):
            pl.system.syncall(mode="soft", used_cores=2)

    with pytest.raises(UserError, match=r"pl.system.syncall: mode 'soft' is not supported \(expected 'hard'\)$"):
        pl.record(soft)

    @pl.jit
    def outside(x: pl.Tensor[[16, 128], pl.FP32]):
        pl.system.syncall()

    with pytest.raises(UserError, match=r"misplaced tensor op pl.syncall: should be inside an InCore"):
        pl.record(outside)
