"""The remaining ``pypto.language`` names of the recording ``pl``: one tiny kernel per name."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import pytest

import kernels.language as pl
from sim.ir import ArgDir, CoreShape, TaskKind
from sim.util.errors import UserError

# every pl.NAME of pypto-lib's DeepSeek-V4 kernels (models/deepseek/v4/*.py at pypto-lib 9d923d9, the
# baseline of pypto-lib PR #648) but pl.const, which only its MoE files use and the recorder lacks
V4_NAMES = """
    AtomicType BF16 FP16 FP32 INDEX INT8 INT32 INT64 Level MemorySpace Out PadValue Scalar SplitMode
    TASK_ID Tensor UINT32 abs add arange array assemble at cast col_expand col_expand_add
    col_expand_mul create_l1 create_tensor create_tile div dynamic exp fillpad full gather gather_row
    inline jit load log manual_scope matmul matmul_acc max maximum min minimum mrgsort mul neg parallel
    pipeline range read recip reshape row_expand_div row_expand_mul row_expand_sub row_max row_sum
    rsqrt scope set_validshape slice sort32 split spmd sqrt store sub tensor tile transpose unroll write
""".split()
# more names of pypto's pl namespace (__all__ of python/pypto/language/__init__.py, pypto e2d0f78ae):
# task submission, control flow, split regions, annotations; and the legacy chunked_loop_optimizer
# (retired in pypto PR #1819, written in pypto-lib kernels until pypto-lib PR #529)
PYPTO_NAMES = """
    DN InOut Mem RUNTIME TaskId aic_gather aiv_shard col_expand_expdif col_max col_sum concat cond
    cross_core_slot get_block_idx no_dep program split_aiv spmd_submit submit system while_
    chunked_loop_optimizer
""".split()


def _dirs(task):
    return [a.dir for a in task.args]


def _ring(task):
    return task.task_id >> 32


# ------------------------------------------------------------------------------------------------
# every pypto name above exists
# ------------------------------------------------------------------------------------------------
def test_every_pypto_name_exists():
    missing = sorted(n for n in V4_NAMES + PYPTO_NAMES if not hasattr(pl, n))
    assert missing == []


# ------------------------------------------------------------------------------------------------
# pl.submit
# ------------------------------------------------------------------------------------------------
def scale(x: pl.Tensor[[16, 64], pl.FP32], y: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
    y[0:16, 0:64] = pl.mul(x[0:16, 0:64], 2.0)


def accum(y: pl.InOut[pl.Tensor[[16, 64], pl.FP32]]):
    pass  # declared InOut, body empty: the declaration alone sets the direction


@pl.jit
def submit_prog(x: pl.Tensor[[16, 64], pl.FP32], y: pl.Out[pl.Tensor[[16, 64], pl.FP32]],
                z: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
    t0 = pl.submit(scale, x, y, allow_early_resolve=True)
    pl.submit(scale, y, z, deps=[t0])
    pl.submit(accum, z)


def test_submit_tasks_directions_edges():
    g = pl.record(submit_prog)
    kt = g.kernel_tasks()
    assert [(t.name, t.shape, t.block_num) for t in kt] == [
        ("scale", CoreShape.AIV, 1), ("scale", CoreShape.AIV, 1), ("accum", CoreShape.AIV, 1)]
    assert _dirs(kt[0]) == [ArgDir.INPUT, ArgDir.OUTPUT_EXISTING]
    assert _dirs(kt[1]) == [ArgDir.INPUT, ArgDir.OUTPUT_EXISTING]
    assert _dirs(kt[2]) == [ArgDir.INOUT]
    assert kt[0].allow_early_resolve and not kt[1].allow_early_resolve
    assert kt[1].explicit_deps == [kt[0].idx]
    pairs = {(e.pred, e.succ, e.source) for e in g.edges}
    assert (kt[0].idx, kt[1].idx, "tensormap") in pairs and (kt[0].idx, kt[1].idx, "explicit") in pairs
    assert (kt[1].idx, kt[2].idx, "tensormap") in pairs
    assert [o.name for o in kt[0].blocks[0].ops if o.kind == "vec"] == ["muls"]


def test_submit_inside_kernel_is_rejected():
    @pl.jit
    def bad(x: pl.Tensor[[16, 64], pl.FP32], y: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP):
            pl.submit(scale, x, y)

    with pytest.raises(UserError, match="pl.submit inside a kernel scope"):
        pl.record(bad)


# ------------------------------------------------------------------------------------------------
# pl.spmd_submit (+ predicate)
# ------------------------------------------------------------------------------------------------
def rows(x: pl.Tensor[[64, 64], pl.FP32], y: pl.Out[pl.Tensor[[64, 64], pl.FP32]]):
    b = pl.get_block_idx()
    y[16 * b:16 * b + 16, 0:64] = pl.exp(x[16 * b:16 * b + 16, 0:64])


def count(cnt: pl.Out[pl.Tensor[[4, 1], pl.INT32]]):
    pl.write(cnt, [0, 0], 1)


@pl.jit
def spmd_prog(x: pl.Tensor[[64, 64], pl.FP32], y: pl.Out[pl.Tensor[[64, 64], pl.FP32]],
              cnt: pl.Out[pl.Tensor[[4, 1], pl.INT32]]):
    c = pl.submit(count, cnt)
    pl.spmd_submit(4, rows, x, y, deps=[c], sync_start=True, predicate=(cnt[0] > 0), name_hint="rows4")


def test_spmd_submit_blocks_and_flags():
    g = pl.record(spmd_prog)
    kt = g.kernel_tasks()
    t = kt[1]
    assert (t.name, t.block_num, t.sync_start) == ("rows4", 4, True)
    assert len(t.blocks) == 4
    loads = [next(o for o in b.ops if o.kind == "load") for b in t.blocks]
    assert [o.region.offset[0] for o in loads] == [0, 16, 32, 48]
    assert kt[0].idx in t.explicit_deps
    assert _dirs(t) == [ArgDir.INPUT, ArgDir.OUTPUT_EXISTING]


def rows_out(x: pl.Tensor[[64, 64], pl.FP32], y: pl.Out[pl.Tensor[[64, 64], pl.FP32]]) -> pl.Tensor:
    rows(x, y)
    return y


@pl.jit
def spmd_parser_form(x: pl.Tensor[[64, 64], pl.FP32], y: pl.Out[pl.Tensor[[64, 64], pl.FP32]],
                     cnt: pl.Out[pl.Tensor[[4, 1], pl.INT32]]):
    cnt, c = pl.submit(self.count_out, cnt)  # noqa: F821 - pypto's self: the program's functions
    y, t = pl.spmd_submit(self.rows_out, x, y, core_num=4, deps=[c], name_hint="rows4")  # noqa: F821
    assert isinstance(t, pl.TaskHandle) and isinstance(c, pl.TaskHandle) and y is not None
    h = pl.spmd_submit(self.rows_out, x, y, core_num=2)  # noqa: F821 - not unpacked: the handle alone
    assert isinstance(h, pl.TaskHandle)


def count_out(cnt: pl.Out[pl.Tensor[[4, 1], pl.INT32]]) -> pl.Tensor:
    count(cnt)
    return cnt


def test_submit_in_pyptos_parser_form_returns_the_result_and_the_handle():
    """``out, tid = pl.spmd_submit(self.kernel, *args, core_num=n)`` and ``out, tid = pl.submit(...)``:
    ``core_num`` is the block count, every positional slot after the kernel is the kernel's argument."""
    import builtins  # noqa: PLC0415

    builtins.self = SimpleNamespace(count_out=count_out, rows_out=rows_out)  # what the file loader provides
    try:
        g = pl.record(spmd_parser_form)
    finally:
        del builtins.self
    kt = g.kernel_tasks()
    assert [(t.name, t.block_num) for t in kt] == [("count_out", 1), ("rows4", 4), ("rows4", 2)]  # one name per kernel
    assert kt[0].idx in kt[1].explicit_deps
    assert _dirs(kt[1]) == [ArgDir.INPUT, ArgDir.OUTPUT_EXISTING]


def test_spmd_submit_predicate_needs_producer_in_deps():
    @pl.jit
    def bad(x: pl.Tensor[[64, 64], pl.FP32], y: pl.Out[pl.Tensor[[64, 64], pl.FP32]],
            cnt: pl.Out[pl.Tensor[[4, 1], pl.INT32]]):
        pl.submit(count, cnt)
        pl.spmd_submit(4, rows, x, y, predicate=(cnt[0] > 0))

    with pytest.raises(UserError, match="must be in deps="):
        pl.record(bad)


def test_spmd_predicate_is_recorded_and_checked():
    @pl.jit
    def prog(x: pl.Tensor[[64, 64], pl.FP32], y: pl.Out[pl.Tensor[[64, 64], pl.FP32]],
             cnt: pl.Out[pl.Tensor[[4, 1], pl.INT32]], ok: bool = True):
        c = pl.submit(count, cnt)
        with pl.spmd(4, deps=[c] if ok else None, predicate=(cnt[1] >= 2)):
            b = pl.get_block_idx()
            y[16 * b:16 * b + 16, 0:64] = pl.exp(x[16 * b:16 * b + 16, 0:64])

    g = pl.record(prog)
    assert g.kernel_tasks()[1].block_num == 4  # default policy: the predicate holds
    with pytest.raises(UserError, match="must be in deps="):
        pl.record(prog, ok=False)


def test_spmd_submit_bad_block_count():
    @pl.jit
    def bad(x: pl.Tensor[[64, 64], pl.FP32], y: pl.Out[pl.Tensor[[64, 64], pl.FP32]]):
        pl.spmd_submit(0, rows, x, y)

    with pytest.raises(UserError, match="block count 0"):
        pl.record(bad)


# ------------------------------------------------------------------------------------------------
# pl.while_
# ------------------------------------------------------------------------------------------------
@pl.jit
def while_prog(x: pl.Tensor[[16, 64], pl.FP32], y: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
    state = {"left": 3}
    for _i in pl.while_(lambda: state["left"] > 0):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="step"):
            y[0:16, 0:64] = pl.exp(x[0:16, 0:64])
        state["left"] -= 1
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="dev"):
        k = {"n": 0}
        for _j in pl.while_(lambda: k["n"] < 5):
            y[0:16, 0:64] = pl.exp(x[0:16, 0:64])
            k["n"] += 1


def test_while_orchestration_and_device_loop():
    g = pl.record(while_prog)
    kt = g.kernel_tasks()
    steps = [t for t in kt if t.name == "step"]
    assert len(steps) == 3
    assert all(_dirs(t) == [ArgDir.INPUT, ArgDir.INOUT] for t in steps)  # R-seq like pl.range
    assert {_ring(t) for t in steps} == {2}
    s = [t.idx for t in steps]
    pairs = {(e.pred, e.succ) for e in g.edges if e.source == "tensormap"}
    assert (s[0], s[1]) in pairs and (s[1], s[2]) in pairs
    dev = next(t for t in kt if t.name == "dev")
    assert [o.name for o in dev.blocks[0].ops if o.kind == "vec"] == ["exp"] * 5


def test_while_needs_callable():
    @pl.jit
    def bad(x: pl.Tensor[[16, 64], pl.FP32]):
        for _i in pl.while_(True):
            pass

    with pytest.raises(UserError, match="must be a callable"):
        pl.record(bad)


# ------------------------------------------------------------------------------------------------
# pl.cond
# ------------------------------------------------------------------------------------------------
@pl.jit
def cond_prog(flag: pl.Tensor[[1, 1], pl.INT32], x: pl.Tensor[[16, 64], pl.FP32],
              y: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="first"):
        y[0:16, 0:64] = pl.exp(x[0:16, 0:64])

    def then():
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="taken"):
            y[0:16, 0:64] = pl.neg(x[0:16, 0:64])
        return "then"

    def other():
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="not_taken"):
            y[0:16, 0:64] = pl.abs(x[0:16, 0:64])
        return "else"

    assert pl.cond(pl.read(flag, [0, 0]) > 0, then, other) == "then"
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="dev"):
        t = x[0:16, 0:64]
        t = pl.cond(pl.get_block_idx() == 0, lambda: pl.exp(t), lambda: pl.neg(t))
        y[0:16, 0:64] = t


def test_cond_branch_scope_and_r_prior():
    import numpy as np

    g = pl.record(cond_prog, data={"flag": np.array([[1]], dtype=np.int32)})
    kt = g.kernel_tasks()
    assert [t.name for t in kt] == ["first", "taken", "dev"]
    first, taken, dev = kt
    assert _ring(first) == 1 and _ring(taken) == 2  # the branch is its own runtime scope
    assert _dirs(first) == [ArgDir.INPUT, ArgDir.OUTPUT_EXISTING]
    assert _dirs(taken) == [ArgDir.INPUT, ArgDir.INOUT]  # R-prior from the snapshot
    assert (first.idx, taken.idx) in {(e.pred, e.succ) for e in g.edges}
    assert [o.name for o in dev.blocks[0].ops if o.kind == "vec"] == ["exp"]


def test_cond_rejects_tile_condition():
    @pl.jit
    def bad(x: pl.Tensor[[16, 64], pl.FP32]):
        with pl.at(level=pl.Level.CORE_GROUP):
            pl.cond(pl.exp(x[0:16, 0:64]), lambda: None)

    with pytest.raises(UserError, match="must be a scalar value"):
        pl.record(bad)


# ------------------------------------------------------------------------------------------------
# pl.sort32 / pl.mrgsort / pl.col_expand_expdif
# ------------------------------------------------------------------------------------------------
@pl.jit
def topk(s: pl.Tensor[[8, 256], pl.FP32], out: pl.Out[pl.Tensor[[8, 512], pl.FP32]],
         out2: pl.Out[pl.Tensor[[8, 1024], pl.FP32]]):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="topk"):
        idx = pl.arange(0, [1, 256], dtype=pl.UINT32)
        p = pl.sort32(s[0:8, 0:256], idx)
        p = pl.mrgsort(p, block_len=64)
        p = pl.mrgsort(p, block_len=256)
        out[0:8, 0:512] = p
        out2[0:8, 0:1024] = pl.mrgsort(p, p)


def test_sort32_and_mrgsort_ops():
    g = pl.record(topk)
    ops = g.kernel_tasks()[0].blocks[0].ops
    vec = [o for o in ops if o.kind == "vec"]
    assert [o.name for o in vec] == ["arange", "sort32", "mrgsort", "mrgsort", "mrgsort"]
    assert vec[1].shape == [8, 256]  # work: the input's 32-blocks (8 x 256/32)
    assert vec[2].shape == [8, 512] and vec[4].shape == [8, 1024]  # one merge pass over the output
    stores = [o for o in ops if o.kind == "store"]
    assert [s.nbytes for s in stores] == [8 * 512 * 4, 8 * 1024 * 4]  # (value, index) pairs: 2x wide
    sort = vec[1]
    assert ops.index(sort) > 0 and all(d < ops.index(sort) for d in sort.deps) and len(sort.deps) == 2


@pytest.mark.parametrize("body, msg", [
    (lambda s: pl.mrgsort(pl.sort32(s, pl.arange(0, [1, 256], dtype=pl.UINT32)), block_len=48),
     "multiple of 64"),
    (lambda s: pl.sort32(pl.cast(s, pl.INT32), pl.arange(0, [1, 256], dtype=pl.UINT32)), "FP16 or FP32"),
    (lambda s: pl.sort32(s, pl.arange(0, [1, 128], dtype=pl.UINT32)), "does not match"),
])
def test_sort_errors(body, msg):
    @pl.jit
    def bad(s: pl.Tensor[[8, 256], pl.FP32]):
        with pl.at(level=pl.Level.CORE_GROUP):
            body(s[0:8, 0:256])

    with pytest.raises(UserError, match=msg):
        pl.record(bad)


def test_col_expand_expdif_op_and_cost():
    from hwmodels import load_chip
    from hwmodels.incore import vector_op_parts

    @pl.jit
    def softmax_col(x: pl.Tensor[[32, 64], pl.FP32], y: pl.Out[pl.Tensor[[32, 64], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP):
            t = x[0:32, 0:64]
            y[0:32, 0:64] = pl.col_expand_expdif(t, pl.col_max(t))

    op = next(o for o in pl.record(softmax_col).kernel_tasks()[0].blocks[0].ops if o.name == "col_expand_expdif")
    assert op.kind == "vec" and op.shape == [32, 64] and op.lane == "aiv0"
    chip = load_chip()
    expdif = sum(vector_op_parts(chip, "col_expand_expdif", [32, 64], "FP32")[::2])  # fixed + ALU
    sub = sum(vector_op_parts(chip, "col_expand_sub", [32, 64], "FP32")[::2])
    assert expdif > sub  # subtract pass + exp pass


# ------------------------------------------------------------------------------------------------
# pl.aiv_shard / pl.aic_gather
# ------------------------------------------------------------------------------------------------
@pl.jit
def split_prog(a: pl.Tensor[[16, 64], pl.BF16], w: pl.Tensor[[64, 64], pl.BF16],
               y: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="sp"):
        acc = pl.matmul(a[0:16, 0:64], w[0:64, 0:64])
        h = None
        for _aiv in pl.split_aiv(2, mode=pl.SplitMode.NONE):
            h = pl.cast(pl.exp(pl.aiv_shard(acc)), pl.BF16)
        acc2 = pl.matmul(pl.aic_gather(h), w[0:64, 0:64])
        y[0:16, 0:64] = acc2


def test_aiv_shard_aic_gather_crossings():
    t = pl.record(split_prog).kernel_tasks()[0]
    assert t.shape == CoreShape.MIX
    ops = t.blocks[0].ops
    pushes = [o for o in ops if o.kind == "handoff" and o.name == "push"]
    assert [p.lane for p in pushes] == ["aic", "aiv0", "aiv1"]  # cube -> AIV, then AIV -> cube
    assert pushes[2].nbytes == 0  # lane 1 only replays the hand-off
    assert pushes[0].pipe == "FIXPIPE" and pushes[0].nbytes == 16 * 64 * 4
    assert pushes[1].nbytes == 16 * 64 * 2


def test_crossings_check_the_side():
    @pl.jit
    def bad(x: pl.Tensor[[16, 64], pl.FP32]):
        with pl.at(level=pl.Level.CORE_GROUP):
            pl.aiv_shard(pl.exp(x[0:16, 0:64]))

    with pytest.raises(UserError, match="vector-side tile"):
        pl.record(bad)


# ------------------------------------------------------------------------------------------------
# pl.RUNTIME / pl.DN
# ------------------------------------------------------------------------------------------------
@pl.jit
def runtime_prog(x: pl.Tensor[[64, 64], pl.FP32], y: pl.Out[pl.Tensor[[64, 64], pl.FP32]],
                 n: pl.Scalar[pl.INT32] = pl.RUNTIME):
    for i in pl.range(n):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="blk"):
            y[16 * i:16 * i + 16, 0:64] = pl.exp(x[16 * i:16 * i + 16, 0:64])


def test_runtime_scalar_default():
    g = pl.record(runtime_prog, n=3)
    assert len(g.kernel_tasks()) == 3
    with pytest.raises(UserError, match="parameter n defaults to pl.RUNTIME"):
        pl.record(runtime_prog)


def test_dn_layout_rejected_with_one_line_error():
    with pytest.raises(UserError) as ei:
        pl.Tensor[[64, 128], pl.BF16, pl.DN]
    msg = str(ei.value)
    assert "pl.DN" in msg and "b_trans" in msg and "\n" not in msg


# ------------------------------------------------------------------------------------------------
# pl.chunked_loop_optimizer (legacy)
# ------------------------------------------------------------------------------------------------
def _legacy(opt):
    @pl.jit
    def prog(x: pl.Tensor[[16, 64], pl.FP32], y: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="k", **opt):
            y[0:16, 0:64] = pl.exp(x[0:16, 0:64])

    return prog


@pytest.mark.parametrize("opt", [pl.chunked_loop_optimizer,
                                 pl.chunked_loop_optimizer(split=pl.SplitMode.UP_DOWN)])
def test_chunked_loop_optimizer_is_plain_at_with_warning(opt):
    with pytest.warns(DeprecationWarning, match="chunked_loop_optimizer"):
        g = pl.record(_legacy({"optimization": opt}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = pl.record(_legacy({}))
    assert g.model_dump() == ref.model_dump()
    assert [t.kind for t in g.tasks] == [TaskKind.KERNEL]
    if opt.split is not None:
        assert opt.as_optimizations() == [pl.split(pl.SplitMode.UP_DOWN)]


def test_legacy_at_split_keyword_warns_and_maps():
    from kernels.dsl.legacy import legacy_optimization

    with pytest.warns(DeprecationWarning, match="legacy spelling"):
        g = pl.record(_legacy({"split": pl.SplitMode.UP_DOWN}))
    assert [t.name for t in g.kernel_tasks()] == ["k"]
    with pytest.warns(DeprecationWarning):
        assert legacy_optimization(None, pl.SplitMode.LEFT_RIGHT) == [pl.split(pl.SplitMode.LEFT_RIGHT)]


def test_unknown_optimization_rejected():
    with pytest.raises(UserError, match="only the legacy pl.chunked_loop_optimizer"):
        pl.record(_legacy({"optimization": "bogus"}))


def test_program_class_records_incore_calls_as_tasks():
    """An Orchestration entry of a @pl.program class: each InCore call from orchestration code is one task
    named after the function; an Opaque function runs in place with its own pl.at scope."""

    @pl.program
    class P:  # noqa: N801
        @pl.function(type=pl.FunctionType.InCore)
        def scale(self, x: pl.Tensor[[64, 64], pl.FP32], y: pl.Out[pl.Tensor[[64, 64], pl.FP32]]):
            t = pl.load(x, [0, 0], [64, 64])
            return pl.store(pl.mul(t, 2.0), [0, 0], y)

        @pl.function(type=pl.FunctionType.Opaque)
        def bump(self, y: pl.InOut[pl.Tensor[[64, 64], pl.FP32]]):
            with pl.at(level=pl.Level.CORE_GROUP, name_hint="bump"):
                y[:, :] = pl.add(y[:, :], 1.0)
            return y

        @pl.function(type=pl.FunctionType.Orchestration)
        def main(self, x: pl.Tensor[[64, 64], pl.FP32], y: pl.Out[pl.Tensor[[64, 64], pl.FP32]]):
            y = self.scale(x, y)
            y = self.bump(y)
            y = self.scale(x, y)
            return y

    g = pl.record(P.entry())
    assert [t.name for t in g.kernel_tasks()] == ["scale", "bump", "scale"]
    assert len(g.edges) >= 2  # y orders the three tasks


def test_view_of_a_tile_is_its_sub_tile_without_ops():
    @pl.jit
    def k(x: pl.Tensor[[32, 64], pl.FP32], y: pl.Out[pl.Tensor[[8, 64], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="v"):
            t = pl.exp(x[:, :])
            y[:, :] = pl.add(pl.view(t, [8, 64], [8, 0]), 1.0)

    (task,) = pl.record(k).kernel_tasks()
    ops = task.blocks[0].ops
    assert [o.name for o in ops if o.kind == "vec"] == ["exp", "adds"]
    assert [o.shape for o in ops if o.name == "adds"] == [[8, 64]]


def test_program_without_one_entry_and_mixed_groups_stop():
    @pl.program
    class Two:  # noqa: N801
        @pl.function
        def a(self, x: pl.Tensor[[8, 8], pl.FP32]):
            return x

        @pl.function
        def b(self, x: pl.Tensor[[8, 8], pl.FP32]):
            return x

    with pytest.raises(UserError, match="2 Opaque functions \\(a, b\\); expected one entry"):
        Two.entry()

    @pl.program
    class Mixed:  # noqa: N801
        @pl.function(type=pl.FunctionType.AIC)
        def cube(self, x: pl.Tensor[[8, 8], pl.FP32]):
            return x

        @pl.function(type=pl.FunctionType.Orchestration)
        def main(self, x: pl.Tensor[[8, 8], pl.FP32]):
            return self.cube(x)

    with pytest.raises(UserError, match="FunctionType.AIC\\) cube: mixed-kernel"):
        pl.record(Mixed.entry())


@pl.jit
def chunked_prog(x: pl.Tensor[[128, 64], pl.FP32], y: pl.Out[pl.Tensor[[128, 64], pl.FP32]]):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="ck", optimization=pl.chunked_loop_optimizer):
        for i in pl.parallel(8, chunk=2):
            y[16 * i:16 * i + 16, 0:64] = pl.exp(x[16 * i:16 * i + 16, 0:64])
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="after"):
        y[0:16, 0:64] = pl.neg(x[0:16, 0:64])


def test_chunked_loop_optimizer_one_task_per_chunk():
    with pytest.warns(DeprecationWarning):
        g = pl.record(chunked_prog)
    kt = g.kernel_tasks()
    assert [t.name for t in kt] == ["ck"] * 4 + ["after"]
    chunks = kt[:4]
    assert all([o.name for o in t.blocks[0].ops if o.kind == "vec"] == ["exp", "exp"] for t in chunks)
    assert [[o.region.offset[0] for o in t.blocks[0].ops if o.kind == "load"] for t in chunks] == [
        [0, 16], [32, 48], [64, 80], [96, 112]]
    assert {_ring(t) for t in chunks} == {2} and _ring(kt[4]) == 1  # the chunk loop is an orchestration loop
    assert all(_dirs(t) == [ArgDir.INPUT, ArgDir.OUTPUT_EXISTING] for t in chunks)  # parallel: no R-seq
    ids = {t.idx for t in chunks}
    assert not any(e.pred in ids and e.succ in ids for e in g.edges)
    assert _dirs(kt[4]) == [ArgDir.INPUT, ArgDir.INOUT]  # R-prior after the chunk loop


def test_auto_chunk_optimization_chunks_like_the_legacy_spelling():
    @pl.jit
    def auto(x: pl.Tensor[[128, 64], pl.FP32], y: pl.Out[pl.Tensor[[128, 64], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, name_hint="ck", optimizations=[pl.auto_chunk]):
            for i in pl.parallel(8, chunk=2):
                y[16 * i:16 * i + 16, 0:64] = pl.exp(x[16 * i:16 * i + 16, 0:64])

    kt = pl.record(auto).kernel_tasks()
    assert [t.name for t in kt] == ["ck"] * 4
    assert [[o.region.offset[0] for o in t.blocks[0].ops if o.kind == "load"] for t in kt] == [
        [0, 16], [32, 48], [64, 80], [96, 112]]


def test_chunked_loop_tile_across_chunks_rejected():
    @pl.jit
    def bad(x: pl.Tensor[[128, 64], pl.FP32], y: pl.Out[pl.Tensor[[128, 64], pl.FP32]]):
        with pl.at(level=pl.Level.CORE_GROUP, optimization=pl.chunked_loop_optimizer):
            t = pl.exp(x[0:16, 0:64])
            for i in pl.parallel(4, chunk=2):
                y[16 * i:16 * i + 16, 0:64] = pl.add(t, t)

    with pytest.warns(DeprecationWarning), pytest.raises(UserError, match="earlier chunk"):
        pl.record(bad)


def test_submit_bad_arguments_is_a_user_error():
    @pl.jit
    def bad(x: pl.Tensor[[16, 64], pl.FP32]):
        pl.submit(scale, x)  # missing y

    with pytest.raises(UserError, match="bad arguments"):
        pl.record(bad)
