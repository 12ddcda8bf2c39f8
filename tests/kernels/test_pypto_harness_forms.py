"""Harness and loop forms of pypto kernel files: a direct device call of a ``@pl.jit`` entry and a compiled
program's call (``pypto.backend`` / ``pypto.runtime`` stand-ins), loops carrying values through
``init_values=`` and ``pl.yield_``, and ``pl.move`` between on-chip spaces."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernels.pypto_files.loader import run_harness
from sim.util.errors import UserError

STYLE = Path(__file__).resolve().parent / "pypto_style"


def test_direct_call_and_compiled_program_each_record_the_entry() -> None:
    recs = run_harness(STYLE / "device_call.py", ["-p", "a2a3"])
    assert [r.name for r in recs] == ["double_rows", "double_rows"]
    assert [r.level for r in recs] == [2, None]  # the swimlane level comes from each call's RunConfig
    for r in recs:
        (task,) = r.graph.kernel_tasks()
        assert task.name == "double" and task.block_num == 2


def test_compiled_program_ir_is_one_line() -> None:
    from kernels.pypto_files.runtime_standin import CompiledProgram, PyptoEntry  # noqa: PLC0415

    prog = CompiledProgram(PyptoEntry(lambda x: x))
    assert prog.output_dir.is_dir() and not any(prog.output_dir.iterdir())
    with pytest.raises(UserError, match=r"CompiledProgram\.program \(compiled IR and artifacts\) is not modelled"):
        prog.program.as_python()


def test_a5_backend_is_one_line_at_the_call() -> None:
    with pytest.raises(UserError, match=r"device_call\.py:\d+: .*Ascend950.*a2a3 die"):
        run_harness(STYLE / "device_call.py", ["--a5"])


def test_carried_loops_and_moves_match_the_golden() -> None:
    (rec,) = run_harness(STYLE / "carried_moves.py", [], check_golden=True)
    assert rec.values and rec.golden is not None
    assert {o["output"]: o["result"] for o in rec.golden["outputs"]} == {"y": "match", "z": "match"}
    ops = [op for t in rec.graph.kernel_tasks() if t.name == "mm" for op in t.blocks[0].ops]
    assert sum(op.kind in ("matmul", "matmul_acc") for op in ops) == 4
    assert sum(op.kind == "move" and op.name == "l1_to_l0a" for op in ops) == 4  # one L1 -> L0A per matmul


def test_move_to_an_unmodelled_space_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "k.py"
    path.write_text("""import pypto.language as pl


@pl.jit
def entry(x: pl.Tensor[[16, 16], pl.FP32]):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="m"):
        t = pl.tile.load(x, [0, 0], [16, 16], target_memory=pl.MemorySpace.Mat)
        pl.move(t, target_memory=pl.MemorySpace.Bias)


if __name__ == "__main__":
    import torch
    from golden import TensorSpec, run_jit
    run_jit(fn=entry, specs=[TensorSpec("x", [16, 16], torch.float32)])
""")
    with pytest.raises(UserError, match=r"k\.py:8: .*pl\.move\(target_memory=Bias\) is not supported"):
        run_harness(path, [])


def test_extern_kernel_is_declined_with_the_reason_where_called_after_its_flags_are_built(tmp_path: Path) -> None:
    path = tmp_path / "k.py"
    path.write_text("""import pypto.language as pl
from pypto.runtime import pto_isa_include_dir

FLAGS = ["-I" + str(pto_isa_include_dir())]  # compile flags built at import, as pypto-lib's extern files do
@pl.jit.extern(core_type="aiv", source="k.cpp")
def hand_written(x: pl.Tensor) -> pl.Tensor: ...


@pl.jit
def entry(x: pl.Tensor[[16, 16], pl.FP32]):
    with pl.spmd(1, name_hint="ext"):
        x = hand_written(x)


if __name__ == "__main__":
    import torch
    from golden import TensorSpec, run_jit
    run_jit(fn=entry, specs=[TensorSpec("x", [16, 16], torch.float32)])
""")
    with pytest.raises(UserError, match=r"k\.py:12: pl\.jit\.extern hand_written is not supported .*hand-written "
                                        r"C\+\+ kernel"):
        run_harness(path, [])


def test_torch_standin_trig_methods_and_finiteness_tests() -> None:
    from kernels.pypto_files import torch_standin as torch  # noqa: PLC0415

    ang = torch.arange(4).float() * 0.5
    assert ang.cos().tolist() == pytest.approx([1.0, 0.8775826, 0.5403023, 0.0707372], rel=1e-6)
    assert ang.sin().tolist() == pytest.approx([0.0, 0.4794255, 0.8414710, 0.9974950], rel=1e-6)
    x = torch.tensor([1.0, float("inf"), float("nan")])
    assert torch.isfinite(x).tolist() == [True, False, False]
    assert torch.isnan(x).tolist() == [False, False, True] == x.isnan().tolist()
    assert torch.isinf(x).tolist() == [False, True, False]
    assert not torch.isfinite(x).all() and x.isfinite()[0]


def test_class_style_program_with_retired_scopes_and_runtime_run() -> None:
    """Builder-local names in string annotations resolve; each InCore call is one task named after its
    function; ``pl.incore()`` is one task, ``pl.auto_incore()`` one task per chunk (4 row blocks, chunk 2)."""
    (rec,) = run_harness(STYLE / "legacy_program.py", ["-p", "a2a3"], check_golden=True)
    assert rec.name == "main" and rec.level == 4
    names = [t.name for t in rec.graph.kernel_tasks()]
    assert names[0] == "double" and names[-1] == "double" and len(names) == 5
    assert len(set(names[1:4])) == 2 and names[2] == names[3]  # the incore scope, then two chunk tasks
    assert {o["output"]: o["result"] for o in rec.golden["outputs"]} == {"y": "match", "z": "match"}


def test_backend_types_of_the_a2a3_die_are_accepted() -> None:
    from kernels.pypto_files import runtime_standin as rt  # noqa: PLC0415

    for b in (rt.BackendType.Ascend910B, rt.BackendType.CCE, rt.BackendType.PTO):
        rt.set_backend_type(b)
        assert rt.get_backend_type() is b
    with pytest.raises(UserError, match="Ascend950.*a2a3 die"):
        rt.set_backend_type(rt.BackendType.Ascend950)
    rt.set_backend_type(rt.BackendType.Ascend910B)


def test_row_reduction_and_row_expand_on_a_rank_4_tile(tmp_path: Path) -> None:
    """A [1, 1, R, C] tile is the [R, C] tile its leading dims merge into: row_sum gives [1, 1, R, 1] and
    row_expand_mul scales each of the R rows (checked against the golden)."""
    path = tmp_path / "k.py"
    path.write_text("""import pypto.language as pl


@pl.jit
def entry(x: pl.Tensor[[2, 1, 16, 64], pl.FP32], y: pl.Out[pl.Tensor[[2, 1, 16, 64], pl.FP32]]):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="nd"):
        for k in pl.range(2):
            t = x[k : k + 1, :, :, :]
            s = pl.row_sum(t)
            y[k : k + 1, :, :, :] = pl.row_expand_mul(t, pl.reshape(s, [16, 1]))


def golden(tensors):
    x = tensors["x"]
    tensors["y"][:] = x * x.sum(dim=3, keepdim=True)


if __name__ == "__main__":
    import torch
    from golden import TensorSpec, run_jit
    x = TensorSpec("x", [2, 1, 16, 64], torch.float32, init_value=lambda: torch.randn(2, 1, 16, 64))
    y = TensorSpec("y", [2, 1, 16, 64], torch.float32, is_output=True)
    run_jit(fn=entry, specs=[x, y], golden_fn=golden, rtol=1e-4, atol=1e-4)
""")
    (rec,) = run_harness(path, [], check_golden=True)
    assert {o["output"]: o["result"] for o in rec.golden["outputs"]} == {"y": "match"}
    ops = [op for op in rec.graph.kernel_tasks()[0].blocks[0].ops if op.name == "row_sum"]
    assert len(ops) == 2 and ops[0].shape == [1, 1, 16, 64]  # the work shape: the whole tile


def test_lower_rank_view_covers_the_trailing_dims(tmp_path: Path) -> None:
    """``pl.view(x, [R, C], [b, r, c])`` of a 3-D tensor is the [R, C] window of slab ``b`` (checked against
    the golden), and the load moves that window only."""
    path = tmp_path / "k.py"
    path.write_text("""import pypto.language as pl


@pl.jit
def entry(x: pl.Tensor[[3, 16, 64], pl.FP32], y: pl.Out[pl.Tensor[[8, 64], pl.FP32]]):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="v"):
        y[:, :] = pl.mul(pl.view(x, [8, 64], [2, 4, 0]), 3.0)


def golden(tensors):
    tensors["y"][:] = tensors["x"][2, 4:12, :] * 3.0


if __name__ == "__main__":
    import torch
    from golden import TensorSpec, run_jit
    x = TensorSpec("x", [3, 16, 64], torch.float32, init_value=lambda: torch.randn(3, 16, 64))
    y = TensorSpec("y", [8, 64], torch.float32, is_output=True)
    run_jit(fn=entry, specs=[x, y], golden_fn=golden, rtol=1e-5, atol=1e-5)
""")
    (rec,) = run_harness(path, [], check_golden=True)
    assert {o["output"]: o["result"] for o in rec.golden["outputs"]} == {"y": "match"}
    (load,) = [op for op in rec.graph.kernel_tasks()[0].blocks[0].ops if op.kind == "load"]
    assert load.nbytes == 8 * 64 * 4


_GOLDEN_ONLY = """import pypto.language as pl
import torch
from golden import TensorSpec, run_jit


@pl.jit
def entry(x: pl.Tensor[[8, 16], pl.FP32], y: pl.Out[pl.Tensor[[8, 16], pl.FP32]]):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="twice"):
        y[:, :] = pl.mul(x[:, :], 2.0)


def specs():
    return [TensorSpec("x", [8, 16], torch.float32, init_value=torch.randn),
            TensorSpec("y", [8, 16], torch.float32, is_output=True)]


if __name__ == "__main__":
    import sys
    if "--run-kernel" not in sys.argv:
        made = {s.name: s.create_tensor() for s in specs()}
        assert tuple(made["x"].shape) == (8, 16) and float(made["y"].abs().sum()) == 0.0
        assert TensorSpec("c", [2, 3], torch.float32, init_value=1.5).create_tensor().sum().item() == 9.0
        raise SystemExit(0)
    run_jit(entry, specs())
"""


def test_a_golden_only_main_builds_its_tensors_and_the_kernel_needs_its_flag(tmp_path: Path) -> None:
    path = tmp_path / "golden_only.py"
    path.write_text(_GOLDEN_ONLY)
    assert run_harness(path, []) == []  # the golden-only path ran (its asserts hold) and recorded nothing
    (rec,) = run_harness(path, ["--run-kernel"])
    assert [t.name for t in rec.graph.kernel_tasks()] == ["twice"]


def test_yield_of_one_value_unpacks_into_one_name_and_dump_tag_records_nothing(tmp_path: Path) -> None:
    """``(acc,) = pl.yield_(nxt)`` and ``acc = pl.yield_(nxt)`` carry the same value; ``pl.dump_tag`` and
    ``dumps=`` (argument-dump markers) add no task and no op."""
    body = """import pypto.language as pl


@pl.jit
def entry(x: pl.Tensor[[4, 16], pl.FP32], y: pl.Out[pl.Tensor[[4, 16], pl.FP32]]):
    pl.dump_tag(x)
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="acc", dumps=[x]):
        acc = pl.full([4, 16], dtype=pl.FP32, value=0.0)
        for i, (a,) in pl.range(3, init_values=(acc,)):
            t = pl.load(x, [0, 0], [4, 16])
            nxt = pl.add(a, t)
            UNPACK
        pl.store(a_out, [0, 0], y)


if __name__ == "__main__":
    import torch
    from golden import TensorSpec, run_jit

    def golden(tensors):
        tensors["y"][:] = 3 * tensors["x"]

    run_jit(fn=entry, specs=[TensorSpec("x", [4, 16], torch.float32, init_value=torch.randn),
                             TensorSpec("y", [4, 16], torch.float32, is_output=True)], golden_fn=golden)
"""
    kinds = []
    for form in ("(a_out,) = pl.yield_(nxt)", "a_out = pl.yield_(nxt)"):
        path = tmp_path / "k.py"
        path.write_text(body.replace("UNPACK", form))
        (rec,) = run_harness(path, [], check_golden=True)
        assert {o["output"]: o["result"] for o in rec.golden["outputs"]} == {"y": "match"}
        (task,) = rec.graph.kernel_tasks()
        kinds.append([op.kind for op in task.blocks[0].ops])
    assert kinds[0] == kinds[1]


def test_torch_standin_shifts_and_xor_follow_torch() -> None:
    from kernels.pypto_files import torch_standin as torch  # noqa: PLC0415

    a = torch.arange(8)
    assert (a >> 1).tolist() == [0, 0, 1, 1, 2, 2, 3, 3] and (a >> 1).dtype == torch.int64
    assert (a << 2).tolist() == [0, 4, 8, 12, 16, 20, 24, 28]
    assert (1 << a).tolist()[:4] == [1, 2, 4, 8] and (256 >> a).tolist()[:3] == [256, 128, 64]
    assert (a ^ 3).tolist() == [3, 2, 1, 0, 7, 6, 5, 4] == (3 ^ a).tolist()
    assert (6 & a).tolist()[:4] == [0, 0, 2, 2] and (1 | a).tolist()[:3] == [1, 1, 3]
    m = torch.tensor([True, False])
    assert (m ^ torch.tensor([True, True])).tolist() == [False, True]


def test_self_in_a_jit_body_is_the_files_function(tmp_path: Path) -> None:
    """pypto makes a ``@pl.jit`` entry a program whose methods are the functions it references:
    ``self.hand_written`` is the file's ``hand_written`` (here an extern kernel, declined where used)."""
    path = tmp_path / "k.py"
    path.write_text("""import pypto.language as pl


@pl.jit.extern(core_type="aiv", source="k.cpp")
def hand_written(x: pl.Tensor) -> pl.Tensor: ...


@pl.jit
def entry(x: pl.Tensor[[16, 16], pl.FP32]):
    x, tid = pl.spmd_submit(self.hand_written, x, core_num=1)  # noqa: F821


if __name__ == "__main__":
    import torch
    from golden import TensorSpec, run_jit
    run_jit(fn=entry, specs=[TensorSpec("x", [16, 16], torch.float32)])
""")
    with pytest.raises(UserError, match=r"k\.py:10: pl\.jit\.extern hand_written is not supported .*hand-written"):
        run_harness(path, [])
    import builtins  # noqa: PLC0415

    assert not hasattr(builtins, "self")  # the name exists only while the file runs
